#!/usr/bin/env bash
# Install the Compose v2 CLI plugin from a Debian suite's docker-compose .deb, without apt:
# the suite's Packages.xz index names the current .deb, which is unpacked with `dpkg -x`
# and its plugin binary copied to DEST. No apt source is added and nothing else is installed.
#
#   scripts/install-compose-plugin.sh SUITE DEST [VERSION]
#
# SUITE    a Debian suite or codename (trixie, sid, ...)
# DEST     the path of the plugin binary to write, e.g. /usr/local/lib/docker/cli-plugins/docker-compose
#          or "$CACHE_DIR/compose/2.40.3/docker-compose"; written as root only when its directory
#          is not writable by the caller
# VERSION  the upstream version the suite must ship (e.g. 2.40.3); the script fails, saying which
#          version the suite has, when it differs. Optional.
#
# Prints the installed version (`DEST version --short`) on stdout.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || die "usage: $0 SUITE DEST [VERSION]"
suite=$1 dest=$2 want=${3:-}
mirror=${AISTACK_DEBIAN_MIRROR:-http://deb.debian.org/debian}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

index="$work/Packages.xz"
curl -fsSL "$mirror/dists/$suite/main/binary-$(dpkg --print-architecture)/Packages.xz" -o "$index"
# The first docker-compose stanza: its Version and Filename.
read -r version filename < <(xz -dc "$index" | awk '
  /^Package: /{p = ($2 == "docker-compose"); next}
  p && /^Version: /{v = $2}
  p && /^Filename: /{f = $2}
  p && v != "" && f != "" {print v, f; exit}')
[ -n "${filename:-}" ] || die "docker-compose not found in $suite's package index"
upstream=${version#*:}
upstream=${upstream%%-*}
if [ -n "$want" ] && [ "$upstream" != "$want" ]; then
  die "Debian $suite ships docker-compose $version, not $want"
fi

log "installing the Compose plugin $version from Debian $suite into $dest"
curl -fsSL "$mirror/$filename" -o "$work/compose.deb"
dpkg -x "$work/compose.deb" "$work/x"
bin="$work/x/usr/libexec/docker/cli-plugins/docker-compose"
[ -x "$bin" ] || die "the docker-compose package of $suite has no usr/libexec/docker/cli-plugins/docker-compose"

dest_dir=$(dirname "$dest")
if mkdir -p "$dest_dir" 2>/dev/null && [ -w "$dest_dir" ]; then
  install -m 0755 "$bin" "$dest"
else
  as_root install -D -m 0755 "$bin" "$dest"
fi
"$dest" version --short
