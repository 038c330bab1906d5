#!/usr/bin/env bash
# Put promtool and amtool into $CACHE_DIR/tools/bin (outside the checkout, shared by every clone
# on the machine), for the rule tests (tests/unit/roles/test_prometheus_rules.py) and the role's
# `validate:` steps run by hand, and the blackbox exporter, which checks the role's blackbox.yml
# (`--config.check`, tests/unit/roles/test_prometheus_config.py). They come from Debian sid's packages
# `promtool` (built from the `prometheus` source, 3.5.x), `prometheus-alertmanager` (which ships amtool) and
# `prometheus-blackbox-exporter` (0.28.x): fetched with `apt-get download` through a temporary apt
# configuration (its own sources, lists and cache in a temporary directory; the machine's apt
# state is not touched) and unpacked with `dpkg -x`. Nothing is installed into the system.
#
# promtool must be of the major version the prometheus role pins (the v3.x image): a rule file
# that Prometheus 3 loads is checked and tested by a promtool 3. Debian sid packages 3.5.x.
#
# Skipped when the three tools are present and promtool reports major $PROMTOOL_MAJOR.
#   AISTACK_PROMTOOL_MAJOR   the major version wanted (default 3)
#   AISTACK_DEBIAN_MIRROR    the Debian mirror (default: the one this machine's apt sources name,
#                            else http://deb.debian.org/debian)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

MAJOR=${AISTACK_PROMTOOL_MAJOR:-3}
BIN_DIR=$CACHE_DIR/tools/bin

promtool_major() { "$1" --version 2>/dev/null | sed -n 's/^promtool, version \([0-9]*\)\..*/\1/p' | head -1; }

if [ -x "$BIN_DIR/promtool" ] && [ -x "$BIN_DIR/amtool" ] && [ -x "$BIN_DIR/blackbox_exporter" ] \
  && [ "$(promtool_major "$BIN_DIR/promtool")" = "$MAJOR" ] && "$BIN_DIR/amtool" --version >/dev/null 2>&1; then
  exit 0
fi

for tool in apt-get dpkg; do command -v "$tool" >/dev/null || die "$tool is missing: this script needs a Debian-like system"; done

mirror=${AISTACK_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -1 || true)
fi
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || die "$keyring is missing (apt-get install debian-archive-keyring)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/etc" "$work/lists/partial" "$work/cache/archives/partial" "$work/debs" "$work/root"
printf 'Types: deb\nURIs: %s\nSuites: sid\nComponents: main\nSigned-By: %s\n' "$mirror" "$keyring" > "$work/etc/sid.sources"
apt_opts=(
  -o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$work/etc"
  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
  # apt's download sandbox user cannot write into the private temporary directory.
  -o "APT::Sandbox::User=$(id -un)"
)

log "fetching promtool, amtool and the blackbox exporter from Debian sid ($mirror) into $BIN_DIR"
apt-get "${apt_opts[@]}" -qq update
(cd "$work/debs" && apt-get "${apt_opts[@]}" -qq download promtool prometheus-alertmanager prometheus-blackbox-exporter)
for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$work/root"; done

for tool in promtool amtool; do
  [ -x "$work/root/usr/bin/$tool" ] || die "the sid packages have no usr/bin/$tool"
done
got=$(promtool_major "$work/root/usr/bin/promtool")
[ "$got" = "$MAJOR" ] || die "Debian sid's promtool is of major ${got:-unknown}, not $MAJOR: set AISTACK_PROMTOOL_MAJOR or get a promtool $MAJOR.x"

mkdir -p "$BIN_DIR"
install -m 0755 "$work/root/usr/bin/promtool" "$work/root/usr/bin/amtool" "$BIN_DIR/"
[ -x "$work/root/usr/bin/prometheus-blackbox-exporter" ] || die "the sid package has no usr/bin/prometheus-blackbox-exporter"
install -m 0755 "$work/root/usr/bin/prometheus-blackbox-exporter" "$BIN_DIR/blackbox_exporter"
"$BIN_DIR/promtool" --version | head -1 >&2
"$BIN_DIR/amtool" --version 2>&1 | head -1 >&2
"$BIN_DIR/blackbox_exporter" --version 2>&1 | head -1 >&2
