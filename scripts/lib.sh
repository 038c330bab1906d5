# shellcheck shell=bash
# Shared helpers for the setup scripts: logging and "run as root".
# Sourced, not executed.

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Run a command as root (the scripts work as root or with passwordless sudo).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export REPO_ROOT
# What the scripts build (image archives) lives outside the checkout so that every clone
# on the machine reuses it; .cache in the checkout links there (git-ignored).
CACHE_DIR=${AISTACK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/aistack}
mkdir -p "$CACHE_DIR"
[ -e "$REPO_ROOT/.cache" ] || ln -s "$CACHE_DIR" "$REPO_ROOT/.cache"
export CACHE_DIR
