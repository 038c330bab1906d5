#!/usr/bin/env bash
# Build the collection tarball, install it into an empty path, and check that its
# roles and modules resolve by FQCN from the installed copy (not from the checkout).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

out=$REPO_ROOT/.build/dist
rm -rf "$out" && mkdir -p "$out/installed"
ansible-galaxy collection build --force --output-path "$out" . >/dev/null
tarball=$(ls "$out"/aistack-selfhosted-*.tar.gz)
log "built $(basename "$tarball") ($(du -h "$tarball" | cut -f1))"
ansible-galaxy collection install --offline --no-deps -p "$out/installed" "$tarball" >/dev/null
# ANSIBLE_COLLECTIONS_PATH points only at the install (and the bundled community collections).
site=$(python -c 'import ansible_collections, os; print(os.path.dirname(list(ansible_collections.__path__)[-1]))')
export ANSIBLE_COLLECTIONS_PATH="$out/installed:$site"
cd "$out"
for plugin in $(cd "$REPO_ROOT/plugins/modules" 2>/dev/null && ls -- *.py 2>/dev/null | sed 's/\.py$//'); do
  ansible-doc -t module "aistack.selfhosted.$plugin" >/dev/null || die "module $plugin does not resolve from the installed collection"
done
for role in $(cd "$REPO_ROOT/roles" && ls -d -- */ | tr -d / | grep -v '^_'); do
  ansible-doc -t role "aistack.selfhosted.$role" >/dev/null || die "role $role does not resolve from the installed collection"
done
log "installed collection resolves: $(ansible-galaxy collection list aistack.selfhosted -p "$out/installed" 2>/dev/null | tail -n 1)"
