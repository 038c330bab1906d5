#!/usr/bin/env bash
# `make test`: set the machine up, then run every test stage, even after one fails,
# and close with one summary line (stages passed and failed) and the wall time.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT" || exit 1

start=$(date +%s)
make --no-print-directory setup || die "setup failed: nothing was tested"

passed=0 failed=0 failed_stages=()
for stage in lint sanity unit integration molecule build; do
  log "stage: $stage"
  t0=$(date +%s)
  if make --no-print-directory "$stage"; then
    passed=$((passed + 1)); log "stage $stage passed in $(( $(date +%s) - t0 )) s"
  else
    failed=$((failed + 1)); failed_stages+=("$stage"); log "stage $stage FAILED in $(( $(date +%s) - t0 )) s"
  fi
done

log "make test took $(( $(date +%s) - start )) s${failed_stages[*]:+; failed stages: ${failed_stages[*]}}"
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
