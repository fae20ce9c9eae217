#!/usr/bin/env bash
# Restart after kill -9 with a full memtable (BENCHMARKS.md): start the daemon, load the first
# LINES lines of a TSBS cpu-only hour (no SSTable is written yet: everything sits in the WAL and
# the memtable), kill -9 it, restart it and time until /ping answers and until a count of every
# row returns.
#
# usage: scripts/restart_after_kill9.sh [STRATA_BINARY] [LINES]   (defaults: target/release/strata 200000)
# needs: python3, curl, bc, and ../shared/bench/{gen_tsbs.py,load.py}
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/strata}
N=${2:-200000}
BENCH=../shared/bench
D=$(mktemp -d)
P=
trap '[ -n "$P" ] && kill "$P" 2>/dev/null; rm -rf "$D"' EXIT
python3 "$BENCH/gen_tsbs.py" 1000 1 > "$D/all.lp"
head -n "$N" "$D/all.lp" > "$D/in.lp"
"$BIN" serve --data-dir "$D/data" --socket "$D/s.sock" > "$D/log1" 2>&1 &
P=$!
for _ in $(seq 200); do [ -S "$D/s.sock" ] && break; sleep 0.05; done
curl -s --unix-socket "$D/s.sock" -XPOST http://l/query --data-urlencode 'q=CREATE DATABASE bench' > /dev/null
python3 "$BENCH/load.py" "$D/in.lp" "unix:$D/s.sock:/write?db=bench" --batch 5000 --workers 2 | tail -1
echo "SSTables before the kill: $(ls "$D/data/bench/sst" 2>/dev/null | wc -l); WAL bytes: $(du -sb "$D/data/bench/wal" | cut -f1)"
kill -9 "$P"; wait "$P" 2>/dev/null || true; rm -f "$D/s.sock"
T0=$(date +%s.%N)
"$BIN" serve --data-dir "$D/data" --socket "$D/s.sock" > "$D/log2" 2>&1 &
P=$!
until curl -s --unix-socket "$D/s.sock" http://l/ping -o /dev/null -w '%{http_code}' 2>/dev/null | grep -q 204; do sleep 0.01; done
T1=$(date +%s.%N)
C=$(curl -s --unix-socket "$D/s.sock" -G http://l/query --data-urlencode db=bench --data-urlencode 'q=SELECT count(usage_user) FROM cpu')
T2=$(date +%s.%N)
echo "ping after $(echo "$T1 - $T0" | bc) s; count after $(echo "$T2 - $T0" | bc) s: $C"
