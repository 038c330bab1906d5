#!/usr/bin/env bash
# `make bench`: run every benchmark under bench/ (bench_*.py); each prints its own figures.
# `make bench BENCH=converge` (or `scripts/bench.sh converge compose_profile`) runs only those.
# Benchmarks are measurements, not pass/fail tests: they are never part of `make test`.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
export PYTHONPATH="$REPO_ROOT/collections${PYTHONPATH:+:$PYTHONPATH}"
status=0
benches=()
if [ $# -gt 0 ]; then
  for name in "$@"; do
    [ -e "bench/bench_$name.py" ] || die "no benchmark bench/bench_$name.py"
    benches+=("bench/bench_$name.py")
  done
else
  benches=(bench/bench_*.py)
fi
for bench in "${benches[@]}"; do
  [ -e "$bench" ] || continue
  log "benchmark: $bench"
  python "$bench" || status=1
done
exit $status
