#!/usr/bin/env bash
# Run Molecule scenarios: the ones named, or every scenario under molecule/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

scenarios=("$@")
if [ ${#scenarios[@]} -eq 0 ]; then
  for file in molecule/*/molecule.yml; do scenarios+=("$(basename "$(dirname "$file")")"); done
fi
status=0
for scenario in "${scenarios[@]}"; do
  log "molecule scenario: $scenario"
  # A scenario that needs what this machine may lack says so in its prerequisite.sh.
  if [ -x "molecule/$scenario/prerequisite.sh" ] && ! reason=$("molecule/$scenario/prerequisite.sh"); then
    log "scenario $scenario SKIPPED: $reason"; continue
  fi
  t0=$(date +%s)
  if molecule test -s "$scenario"; then
    log "scenario $scenario passed in $(( $(date +%s) - t0 )) s"
  else
    log "scenario $scenario FAILED"; status=1
  fi
done
exit $status
