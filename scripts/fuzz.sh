#!/usr/bin/env bash
# Fuzz every parser and file reader (the cargo-fuzz targets in fuzz/, on nightly Rust), each from
# a copy of its committed seed corpus (fuzz/corpus/<target>/), so runs never grow the repository.
# Fails (exit 1) if any target crashes, panics, times out or runs out of memory; the input that
# did it is kept in fuzz/artifacts/<target>/ (not committed).
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   # default 20 s each, every target
#   bash scripts/fuzz.sh --runs N [TARGET...]               # N executions each
#
# Installs what it needs on a fresh machine: the nightly toolchain (rustup) and cargo-fuzz.
# Environment: FUZZ_LOG_DIR=DIR keeps each target's libFuzzer log there; FUZZ_TARGET_DIR=DIR
# builds there instead of fuzz/target; FUZZ_KEEP_CORPUS=1 keeps what a clean run found: the
# grown corpus is minimized (libFuzzer's -set_cover_merge=1: the committed files first, then
# a small set of inputs covering every feature they lack), written to fuzz/corpus/<target>/
# beside the seeds, to be committed (the long runs in RELIABILITY.md keep theirs this way).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=time
amount=20
if [ "${1:-}" = "--runs" ]; then
  mode=runs
  amount="${2:?--runs needs a number}"
  shift 2
elif [ -n "${1:-}" ] && [[ "$1" =~ ^[0-9]+$ ]]; then
  amount="$1"
  shift
fi
all_targets=(lineproto influxql vq records prom_write prom_read http_write sstable wal_replay manifest_replay)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "scripts/fuzz.sh: installing the nightly toolchain"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --help >/dev/null 2>&1; then
  echo "scripts/fuzz.sh: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

# No sanitizer: strata's only unsafe code is one libc::nice call, and without AddressSanitizer
# a target runs several times faster. Debug assertions and overflow checks stay on (cargo
# fuzz's default), so an arithmetic overflow is a crash.
build_flags=(-s none)
# The regex crates are built without coverage instrumentation (fuzz/uninstrumented-rustc.sh):
# coverage of the regex compiler steered the influxql fuzzer into it and cost it 4x in speed.
export RUSTC_WRAPPER="$PWD/fuzz/uninstrumented-rustc.sh"
if [ -n "${FUZZ_TARGET_DIR:-}" ]; then
  build_flags+=(--target-dir "$FUZZ_TARGET_DIR")
fi

start=$(date +%s)
echo "== building the fuzz targets (cargo +nightly fuzz build)"
cargo +nightly fuzz build "${build_flags[@]}"
echo "   built in $(( $(date +%s) - start )) s"

# Scratch: the corpus copies and the targets' temporary files ($TMPDIR), in memory if possible.
base=/tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && base=/dev/shm
work=$(mktemp -d "$base/strata-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tmp"

if [ "$mode" = runs ]; then
  limit=(-runs="$amount")
else
  limit=(-max_total_time="$amount")
fi

failed=()
printf '%-16s %12s %8s %20s  %s\n' target executions seconds corpus result
for t in "${targets[@]}"; do
  [ -d "fuzz/corpus/$t" ] || { echo "scripts/fuzz.sh: no target $t" >&2; exit 2; }
  mkdir -p "$work/corpus/$t"
  cp fuzz/corpus/"$t"/* "$work/corpus/$t/"
  log="$work/$t.log"
  t0=$(date +%s)
  result=ok
  # One process (-jobs/-workers unset), a 10 s limit per input (a hang is a failure).
  if ! TMPDIR="$work/tmp" cargo +nightly fuzz run "${build_flags[@]}" "$t" "$work/corpus/$t" -- \
      "${limit[@]}" -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    result=FAILED
    failed+=("$t")
  fi
  secs=$(( $(date +%s) - t0 ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  files=$(find "$work/corpus/$t" -type f | wc -l)
  bytes=$(find "$work/corpus/$t" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
  printf '%-16s %12s %8s %20s  %s\n' "$t" "${execs:-?}" "$secs" "${files} files/${bytes} B" "$result"
  if [ -n "${FUZZ_LOG_DIR:-}" ]; then
    mkdir -p "$FUZZ_LOG_DIR"
    cp "$log" "$FUZZ_LOG_DIR/$t.log"
  fi
  if [ -n "${FUZZ_KEEP_CORPUS:-}" ] && [ "$result" = ok ]; then
    # The committed inputs first: only what adds coverage to them is kept (named by content).
    mkdir -p "$work/kept/$t"
    cp fuzz/corpus/"$t"/* "$work/kept/$t/"
    before=$(find "$work/kept/$t" -type f | wc -l)
    if ! TMPDIR="$work/tmp" cargo +nightly fuzz run "${build_flags[@]}" "$t" \
        "$work/kept/$t" "$work/corpus/$t" -- -set_cover_merge=1 -timeout=10 >"$work/$t.merge.log" 2>&1; then
      echo "scripts/fuzz.sh: minimizing the corpus of $t failed:" >&2
      tail -20 "$work/$t.merge.log" >&2
      exit 1
    fi
    cp -n "$work/kept/$t"/* fuzz/corpus/"$t"/
    echo "   kept $(( $(find "$work/kept/$t" -type f | wc -l) - before )) new inputs in fuzz/corpus/$t"
  fi
  if [ "$result" = FAILED ]; then
    echo "---- $t: the end of its log"
    grep -v '^#[0-9]' "$log" | tail -40
    echo "----"
  fi
done
echo "== fuzzing took $(( $(date +%s) - start )) s in all"
if [ ${#failed[@]} -gt 0 ]; then
  echo "scripts/fuzz.sh: FAILED: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
