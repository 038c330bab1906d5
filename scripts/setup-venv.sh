#!/usr/bin/env bash
# Create or refresh the project's virtualenv (.venv) from requirements-dev.txt.
# Re-installs only when the requirements file changed since the last install.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

VENV=${AISTACK_VENV:-$REPO_ROOT/.venv}
PYTHON=${PYTHON:-python3}
REQS=$REPO_ROOT/requirements-dev.txt
STAMP=$VENV/.requirements.sha256

want=$(sha256sum "$REQS" | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
log "installing Python tools into $VENV"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check --upgrade pip
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQS"
echo "$want" > "$STAMP"

# ansible-test sanity bootstraps pip in its venvs with a script from Ansible's CI file
# server, which may be unreachable. It uses a cached copy when one is there: put one
# in place that bootstraps pip from the Python's own ensurepip instead.
"$VENV/bin/python" "$REPO_ROOT/scripts/ansible_test_pip_shim.py"
