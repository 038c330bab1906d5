#!/usr/bin/env bash
# `make test`: set the machine up, then run every test stage, even after one fails,
# and close with one summary line (stages passed and failed) and the wall time.
# The checks that need no Docker (lint, sanity, unit) run while the integration tests
# wait on their containers; their output is printed, stage by stage, when they are done.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT" || exit 1

start=$(date +%s)
make --no-print-directory setup || die "setup failed: nothing was tested"

passed=0 failed=0 failed_stages=()
record() {  # stage, status, seconds
  if [ "$2" -eq 0 ]; then
    passed=$((passed + 1)); log "stage $1 passed in $3 s"
  else
    failed=$((failed + 1)); failed_stages+=("$1"); log "stage $1 FAILED in $3 s"
  fi
}
run_stage() {  # stage: run it here, then record it
  log "stage: $1"
  local t0; t0=$(date +%s)
  make --no-print-directory "$1"; record "$1" $? $(( $(date +%s) - t0 ))
}

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
(
  for stage in lint sanity unit; do
    t0=$(date +%s)
    make --no-print-directory "$stage" >"$logs/$stage.log" 2>&1
    echo "$? $(( $(date +%s) - t0 ))" >"$logs/$stage.status"
  done
) &
checks=$!
run_stage integration
wait "$checks"
for stage in lint sanity unit; do
  log "stage: $stage (ran beside integration)"
  cat "$logs/$stage.log"
  read -r status seconds <"$logs/$stage.status"
  record "$stage" "$status" "$seconds"
done
for stage in molecule build; do run_stage "$stage"; done

log "make test took $(( $(date +%s) - start )) s${failed_stages[*]:+; failed stages: ${failed_stages[*]}}"
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
