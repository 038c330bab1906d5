#!/usr/bin/env bash
# ansible-test needs the collection at .../ansible_collections/<namespace>/<name>:
# copy the tracked (and new, not ignored) files there and run sanity in that copy.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

dest=$REPO_ROOT/.build/ansible_collections/aistack/selfhosted
mkdir -p "$dest"
# Keep ansible-test's venvs between runs (tests/output/.tmp); replace everything else.
find "$dest" -mindepth 1 -maxdepth 1 ! -name tests -exec rm -rf {} +
find "$dest/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} + 2>/dev/null || true
git ls-files -z -co --exclude-standard | grep -zv '^collections/' | tar --null -T - -c | tar -x -C "$dest"
cd "$dest"
# The copy sits inside this (ignored) checkout: give it a git index of its own, or
# ansible-test would take the outer repository's ignore rules and skip every file.
[ -d .git ] || git init -q
git add -A
ansible-test sanity --venv --python "$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" --color no "$@"
