#!/usr/bin/env bash
# `make bench`: run every benchmark under bench/ (bench_*.py); each prints its own figures.
# Benchmarks are measurements, not pass/fail tests: they are never part of `make test`.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
export PYTHONPATH="$REPO_ROOT/collections${PYTHONPATH:+:$PYTHONPATH}"
status=0
for bench in bench/bench_*.py; do
  [ -e "$bench" ] || continue
  log "benchmark: $bench"
  python "$bench" || status=1
done
exit $status
