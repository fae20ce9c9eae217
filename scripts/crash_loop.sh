#!/usr/bin/env bash
# The long crash loop (RELIABILITY.md): kill -9 `strata serve` again and again during concurrent
# ingest, deletes and compaction, checking after every restart that each acknowledged point is
# there exactly once and each acknowledged delete holds. CI runs the same test with 6 cycles.
#
#   scripts/crash_loop.sh            # 300 cycles
#   scripts/crash_loop.sh 1000       # as many as you like
set -euo pipefail
cd "$(dirname "$0")/.."
CYCLES="${1:-300}"
STRATA_CRASH_CYCLES="$CYCLES" cargo test --release --test crash_loop -- --nocapture 2>&1 |
  grep -E "crash loop:|test result|panicked|assert" 
