#!/usr/bin/env bash
# Install the Compose releases the compose_profile integration tests run against besides the
# default plugin, each into $CACHE_DIR/compose/<version>/docker-compose (git-ignored, shared by
# every checkout), where tests/integration/compose/conftest.py finds them. Nothing is installed
# system-wide; an installed release is kept.
#
# AISTACK_COMPOSE_EXTRA: space-separated SUITE:VERSION pairs (default: sid:2.40.3, the release
# Debian sid packages). The suite must ship exactly that version (install-compose-plugin.sh says
# which one it ships otherwise).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

for spec in ${AISTACK_COMPOSE_EXTRA:-sid:2.40.3}; do
  suite=${spec%%:*} version=${spec#*:}
  dest="$CACHE_DIR/compose/$version/docker-compose"
  if [ -x "$dest" ] && "$dest" version >/dev/null 2>&1; then
    continue
  fi
  bash "$(dirname "$0")/install-compose-plugin.sh" "$suite" "$dest" "$version" >/dev/null
done
