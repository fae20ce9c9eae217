#!/usr/bin/env bash
# cargo's RUSTC_WRAPPER for the fuzz build (scripts/fuzz.sh sets it): compiles the regex crates
# without coverage instrumentation, so the targets fuzz strata's parsers, not the regex
# compiler. Instrumented, every new edge inside regex-automata counted as progress: the
# influxql corpus filled with long regex literals and four tenths of its time went to coverage
# callbacks in the regex compiler. A later -sanitizer-coverage-level overrides cargo-fuzz's.
rustc="$1"
shift
crate=""
previous=""
for arg in "$@"; do
  if [ "$previous" = --crate-name ]; then
    crate="$arg"
    break
  fi
  previous="$arg"
done
case "$crate" in
  regex | regex_automata | regex_syntax | aho_corasick | memchr)
    exec "$rustc" "$@" -Cllvm-args=-sanitizer-coverage-level=0
    ;;
esac
exec "$rustc" "$@"
