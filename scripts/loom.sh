#!/usr/bin/env bash
# Run every loom model clean (must pass), then each model against its planted bug (must fail).
#
#   scripts/loom.sh            # everything (a few minutes on 2 cores)
#   scripts/loom.sh --clean    # only the clean models
#
# Models live in loom_tests/tests/*.rs and drive the real loops of strata-actors. A mutant is a
# bug planted behind `cfg(strata_loom_mutant = "NAME")` in actors/src; it is switched on with
# STRATA_LOOM_MUTANT=NAME (actors/src/build.rs turns that into the cfg for strata-actors only, so
# a mutant build recompiles two small crates instead of every dependency).
#
# Environment: LOOM_MAX_PREEMPTIONS (default 2), LOOM_TARGET_DIR (default $REPO/target-loom).
# Exit status: non-zero if a clean model fails, a mutant survives, or a mutant does not build.
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
export CARGO_TARGET_DIR="${LOOM_TARGET_DIR:-$REPO/target-loom}"
export RUSTFLAGS="--cfg strata_loom"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"
unset STRATA_LOOM_MUTANT
PKG=strata-loom-tests
LOGDIR="$CARGO_TARGET_DIR/loom-logs"
mkdir -p "$LOGDIR"

# model file (loom_tests/tests/NAME.rs) : test function
MODELS=(
  "mailbox:bounded_fifo_nothing_lost"
  "mailbox:close_wakes_blocked_receivers_and_senders"
  "group_commit:no_ack_before_sync_acks_in_order_none_lost"
  "flush_handoff:reader_sees_each_acked_point_exactly_once"
  "flush_retry:a_failed_flush_keeps_its_points_and_the_next_flush_writes_them"
  "catalog:no_file_deleted_while_a_reader_references_it"
  "catalog:concurrent_edits_are_serialized"
  "query_pool:permits_bound_concurrency_and_come_back_after_success_and_panic"
  "query_pool:cancel_is_observed_by_every_task"
  "query_pool:deadline_is_observed_by_every_task"
  "query_pool:inline_runs_and_worker_tasks_share_the_permits"
  "shutdown:closing_the_front_door_drains_everything_acked"
  "compaction:install_never_loses_or_doubles_a_point"
  "compaction:flusher_stall_and_compactor_chain_drain_without_deadlock"
  "compaction:force_answers_only_once_everything_reached_the_last_layer"
  "compaction_retry:a_failing_compaction_is_retried_without_poisoning"
)

# mutant : model file : test function that must fail
MUTANTS=(
  "mailbox_over_capacity:mailbox:bounded_fifo_nothing_lost"
  "mailbox_close_no_wakeup:mailbox:close_wakes_blocked_receivers_and_senders"
  "ack_before_sync:group_commit:no_ack_before_sync_acks_in_order_none_lost"
  "flush_drop_before_install:flush_handoff:reader_sees_each_acked_point_exactly_once"
  "flush_forget_failed:flush_retry:a_failed_flush_keeps_its_points_and_the_next_flush_writes_them"
  "delete_while_referenced:catalog:no_file_deleted_while_a_reader_references_it"
  "edit_lost_update:catalog:concurrent_edits_are_serialized"
  "permit_leak_on_panic:query_pool:permits_bound_concurrency_and_come_back_after_success_and_panic"
  "permit_double_release:query_pool:permits_bound_concurrency_and_come_back_after_success_and_panic"
  "cancel_not_propagated:query_pool:cancel_is_observed_by_every_task"
  "cancel_not_propagated:query_pool:deadline_is_observed_by_every_task"
  "inline_without_permit:query_pool:inline_runs_and_worker_tasks_share_the_permits"
  "shutdown_skip_drain:shutdown:closing_the_front_door_drains_everything_acked"
  "compaction_install_two_steps:compaction:install_never_loses_or_doubles_a_point"
  "compaction_no_conflict_check:compaction:install_never_loses_or_doubles_a_point"
  "compactor_drop_nudge:compaction:flusher_stall_and_compactor_chain_drain_without_deadlock"
  "stall_lost_wakeup:compaction:flusher_stall_and_compactor_chain_drain_without_deadlock"
  "force_ignored:compaction:force_answers_only_once_everything_reached_the_last_layer"
  "compaction_failure_poisons:compaction_retry:a_failing_compaction_is_retried_without_poisoning"
)

ROWS=()
BAD=0
START=$(date +%s)

row() { ROWS+=("$(printf '%-26s %-72s %-8s %6ss' "$1" "$2" "$3" "$4")"); }

# Run one test of one model file; prints nothing, returns cargo's status. Log in $LOGDIR/$3.log.
run_test() {
  local file="$1" test="$2" log="$3"
  cargo test -q -p "$PKG" --release --test "$file" -- --exact "$test" >"$LOGDIR/$log.log" 2>&1
}

echo "== building clean models (RUSTFLAGS='$RUSTFLAGS', target $CARGO_TARGET_DIR)"
if ! cargo test -q -p "$PKG" --release --tests --no-run 2>"$LOGDIR/build-clean.log"; then
  cat "$LOGDIR/build-clean.log"
  echo "clean build failed" >&2
  exit 1
fi

for m in "${MODELS[@]}"; do
  file="${m%%:*}"; test="${m#*:}"
  t0=$(date +%s)
  if run_test "$file" "$test" "clean-$file-$test"; then
    st=pass
  else
    st=FAIL; BAD=1
    tail -n 30 "$LOGDIR/clean-$file-$test.log"
  fi
  row "clean" "$file::$test" "$st" "$(( $(date +%s) - t0 ))"
  echo "   clean $file::$test: $st"
done

if [[ "${1:-}" != "--clean" ]]; then
  for mu in "${MUTANTS[@]}"; do
    name="${mu%%:*}"; rest="${mu#*:}"; file="${rest%%:*}"; test="${rest#*:}"
    t0=$(date +%s)
    export STRATA_LOOM_MUTANT="$name"
    if ! cargo test -q -p "$PKG" --release --test "$file" --no-run 2>"$LOGDIR/build-$name.log"; then
      st=NOBUILD; BAD=1
      tail -n 30 "$LOGDIR/build-$name.log"
    elif run_test "$file" "$test" "mutant-$name-$test"; then
      st=SURVIVED; BAD=1
    elif grep -q "panicked" "$LOGDIR/mutant-$name-$test.log"; then
      st=killed
    else
      st=ERROR; BAD=1   # failed, but not through a model assertion, deadlock or leak report
      tail -n 30 "$LOGDIR/mutant-$name-$test.log"
    fi
    unset STRATA_LOOM_MUTANT
    row "$name" "$file::$test" "$st" "$(( $(date +%s) - t0 ))"
    echo "   mutant $name vs $file::$test: $st"
  done
fi

echo
printf '%-26s %-72s %-8s %7s\n' "run" "model" "result" "time"
printf '%s\n' "${ROWS[@]}"
echo
echo "total $(( $(date +%s) - START ))s, LOOM_MAX_PREEMPTIONS=$LOOM_MAX_PREEMPTIONS, logs in $LOGDIR"
if [[ $BAD -ne 0 ]]; then
  echo "FAILED: a clean model failed or a mutant survived (see above)" >&2
  exit 1
fi
echo "OK: every clean model passed and every mutant was killed"
