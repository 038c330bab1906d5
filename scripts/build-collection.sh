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
log "built $(basename "$tarball") ($(du -h "$tarball" | cut -f1), $(tar -tzf "$tarball" | wc -l) entries)"

# From here on, nothing may come from the checkout: no ansible.cfg, and a collections path
# of the fresh install plus the community collections bundled with the ansible package.
unset ANSIBLE_CONFIG
site=$(python -c 'import ansible_collections, os; print(os.path.dirname(sorted(ansible_collections.__path__)[-1]))')
export ANSIBLE_COLLECTIONS_PATH="$out/installed:$site"
cd "$out"
ansible-galaxy collection install --offline --no-deps --force -p "$out/installed" "$tarball" >/dev/null
[ -f "$out/installed/ansible_collections/aistack/selfhosted/MANIFEST.json" ] || die "the tarball did not install"

resolves() {  # type name: ansible-doc finds it and renders its documentation
  ansible-doc -t "$1" --json "aistack.selfhosted.$2" 2>/dev/null \
    | python -c "import json, sys; sys.exit(0 if json.load(sys.stdin).get('aistack.selfhosted.$2') else 1)"
}
count=0
for file in "$REPO_ROOT"/plugins/modules/*.py; do
  name=$(basename "$file" .py)
  resolves module "$name" || die "module aistack.selfhosted.$name does not resolve from the installed collection"
  count=$((count + 1))
done
for dir in "$REPO_ROOT"/roles/*/; do
  name=$(basename "$dir")
  case $name in _*) continue;; esac  # internal roles have no entry point of their own
  resolves role "$name" || die "role aistack.selfhosted.$name does not resolve from the installed collection"
  count=$((count + 1))
done
log "installed tarball: $count modules and roles resolve by FQCN"
