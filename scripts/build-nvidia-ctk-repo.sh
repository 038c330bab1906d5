#!/usr/bin/env bash
# Build the test fixture of the nvidia_container_toolkit role: a local signed apt repository laid
# out like NVIDIA's (flat, `deb [signed-by=...] https://nvidia.github.io/libnvidia-container/stable/deb/$ARCH /`,
# the armoured key at .../libnvidia-container/gpgkey), holding nvidia-container-toolkit-base and
# nvidia-container-toolkit .debs laid out as NVIDIA's packaging/debian/ lays them out, with the
# binaries built from NVIDIA's own source.
#
# Usage: NVIDIA_CTK_SOURCE=GIT_DIR [NVIDIA_CTK_VERSION=1.20.0] scripts/build-nvidia-ctk-repo.sh
#   GIT_DIR  a clone (bare or not) of https://github.com/NVIDIA/nvidia-container-toolkit that has
#            the tag v$NVIDIA_CTK_VERSION; the packaging files (control, *.install, maintainer
#            scripts, systemd units, copyright) are read from it at that tag, never copied here.
#   The binaries are built by ../shared/gpu/build-nvidia-ctk.sh (beside the checkout, not part of it).
#
# Output: $CACHE_DIR/nvidia-ctk-repo/ (outside the checkout, reused by every clone on the machine)
#   gpgkey                 ASCII-armoured public key of a throwaway signing key made by this build
#   stable/deb/<arch>/     the .debs, Packages, Packages.gz, Release, InRelease, Release.gpg
#   README                 what built it; .recipe: the recipe hash
# A role points at it as at NVIDIA's, with file:// (the repository mounted at /srv/nvidia-repo):
#   URIs: file:///srv/nvidia-repo/stable/deb/<arch>   Suites: /   (no Components)
#   Signed-By: the keyring made by `gpg --dearmor` of /srv/nvidia-repo/gpgkey
#
# Skipped when .recipe records the same recipe (version, architecture, this script, the build
# script, the source commit and its packaging files). Without NVIDIA_CTK_SOURCE an existing
# repository of the same version and script is kept; when there is none, the script says what it
# needs, writes $CACHE_DIR/nvidia-ctk-repo.skipped (the reason, for the tests to skip with) and
# exits 0. Everything is built in a temporary directory and moved into place at the end.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

VERSION=${NVIDIA_CTK_VERSION:-1.20.0}
TAG=v$VERSION
DEB_VERSION=$VERSION-1
ARCH=$(dpkg --print-architecture)
REPO_DIR=$CACHE_DIR/nvidia-ctk-repo
SKIP_MARKER=$CACHE_DIR/nvidia-ctk-repo.skipped
BUILDER=$(cd "$REPO_ROOT/.." && pwd)/shared/gpu/build-nvidia-ctk.sh
SOURCE=${NVIDIA_CTK_SOURCE:-}
# The two packages a Docker host installs (NVIDIA's source also has an operator-extensions package).
PACKAGES=(nvidia-container-toolkit-base nvidia-container-toolkit)
MAINTAINER='aistack.selfhosted tests <nobody@aistack.invalid>'

script_hash=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)
base_recipe="version=$VERSION arch=$ARCH script=$script_hash"
stamp_field() { sed -n "s/^$1=//p" "$REPO_DIR/.recipe" 2>/dev/null; }

if [ -z "$SOURCE" ]; then
  if [ "$(stamp_field base)" = "$base_recipe" ]; then
    rm -f "$SKIP_MARKER"
    log "nvidia-ctk test repository $DEB_VERSION kept ($REPO_DIR; NVIDIA_CTK_SOURCE unset, so not checked against the source)"
    exit 0
  fi
  reason="the nvidia-ctk test repository ($REPO_DIR) is not built: it needs NVIDIA_CTK_SOURCE, a git clone of https://github.com/NVIDIA/nvidia-container-toolkit with the tag $TAG (git clone --bare that URL), and ../shared/gpu/build-nvidia-ctk.sh beside the checkout; then run scripts/build-nvidia-ctk-repo.sh"
  printf '%s\n' "$reason" > "$SKIP_MARKER"
  log "skipped: $reason"
  exit 0
fi

[ -f "$BUILDER" ] || die "$BUILDER is missing: the nvidia-ctk binaries are built by shared/gpu/build-nvidia-ctk.sh, which must lie in the directory above the checkout (../shared/gpu/)"
git -C "$SOURCE" rev-parse -q --verify "$TAG^{commit}" >/dev/null 2>&1 \
  || die "NVIDIA_CTK_SOURCE=$SOURCE is not a git clone of nvidia-container-toolkit with the tag $TAG"
for tool in gpg dpkg-deb dpkg-scanpackages; do command -v "$tool" >/dev/null || die "$tool is missing (apt-get install gnupg dpkg-dev)"; done

commit=$(git -C "$SOURCE" rev-parse "$TAG^{commit}")
packaging=$(git -C "$SOURCE" rev-parse "$TAG:packaging/debian")
units=$(git -C "$SOURCE" rev-parse -q --verify "$TAG:deployments/systemd" || echo none)
recipe=$(echo "$base_recipe builder=$(sha256sum < "$BUILDER") commit=$commit packaging=$packaging units=$units" | sha256sum | cut -c1-16)
if [ "$(stamp_field recipe)" = "$recipe" ]; then
  rm -f "$SKIP_MARKER"
  log "nvidia-ctk test repository $DEB_VERSION up to date ($REPO_DIR)"
  exit 0
fi

started=$SECONDS
work=$(mktemp -d "$CACHE_DIR/.nvidia-ctk-repo.XXXXXX")
export GNUPGHOME
GNUPGHOME=$(mktemp -d /tmp/nvidia-ctk-gpg.XXXXXX)  # short: gpg-agent's socket path has a length limit
cleanup() {
  gpgconf --kill gpg-agent 2>/dev/null || true
  rm -rf "$work" "$GNUPGHOME"
}
trap cleanup EXIT

# A file of NVIDIA's source at the tag.
src_show() { git -C "$SOURCE" show "$TAG:$1"; }
src_has() { git -C "$SOURCE" cat-file -e "$TAG:$1" 2>/dev/null; }

log "building nvidia-ctk $TAG from $SOURCE (about a minute)"
bash "$BUILDER" "$SOURCE" "$TAG" "$work/bin" >"$work/build.log" 2>&1 \
  || { tail -n 30 "$work/build.log" >&2; die "building the nvidia-ctk binaries failed"; }
built=$("$work/bin/nvidia-ctk" --version)
[[ $built == *"version $VERSION"* ]] || die "the built nvidia-ctk reports no version $VERSION: $built"

# debian/control as NVIDIA's debian/prepare leaves it (SECTION empty, as in NVIDIA's build image).
src_show packaging/debian/control | sed "s;@SECTION@;;g; s;@VERSION@;$DEB_VERSION;g" > "$work/control.src"
# field KIND:NAME FIELD: a one-line field of the Source: or Package: paragraph named NAME.
field() {
  awk -v want="$1" -v f="$2" 'BEGIN { RS = ""; FS = "\n" }
    { key = ""
      for (i = 1; i <= NF; i++) if ($i ~ /^(Source|Package): /) { key = $i; sub(/: /, ":", key) }
      if (key != want) next
      for (i = 1; i <= NF; i++) if (index($i, f ": ") == 1) { print substr($i, length(f) + 3); exit } }' "$work/control.src"
}
# Depends without the debhelper substitutions and without libnvidia-container-tools: that is
# NVIDIA's C library and CLI (nvidia-container-cli) from another repository, not built here, so
# these packages install without it (and the legacy runtime hook cannot hand GPUs to containers).
depends() {
  # shellcheck disable=SC2016  # '^\${': the literal ${misc:Depends}
  field "Package:$1" Depends | tr ',' '\n' | sed 's/^ *//; s/ *$//' \
    | grep -v -e '^\${' -e '^libnvidia-container-tools' -e '^$' | paste -sd, - | sed 's/,/, /g' || true
}

# A file named in a .install file: a built binary, or a file of the source's deployments/ or packaging/.
install_source() {
  local name=$1 path
  if [ -f "$work/bin/$name" ]; then cat "$work/bin/$name"; return; fi
  path=$(git -C "$SOURCE" ls-tree -r --name-only "$TAG" -- deployments packaging | awk -F/ -v n="$name" '$NF == n' | head -n 1)
  [ -n "$path" ] || die "$name (named in a .install file) is neither a built binary nor a file of the source"
  src_show "$path"
}

# What debhelper (`dh $@ --with systemd`, compat 9) adds where NVIDIA's maintainer scripts say
# #DEBHELPER#: dpkg-maintscript-helper for debian/<pkg>.maintscript, enable/start/stop/purge for
# the systemd units that have an [Install] section. Written for this fixture, in its own words.
snippet() {
  local pkg=$1 script=$2 root=$3 units=() unit line
  for unit in "$root"/lib/systemd/system/*; do
    [ -f "$unit" ] && grep -q '^\[Install\]' "$unit" && units+=("$(basename "$unit")")
  done
  if src_has "packaging/debian/$pkg.maintscript" && [[ $script =~ ^(preinst|postinst|postrm)$ ]]; then
    while read -r line; do
      [ -n "$line" ] && printf 'dpkg-maintscript-helper %s -- "$@"\n' "${line//@VERSION@/$DEB_VERSION}"
    done < <(src_show "packaging/debian/$pkg.maintscript")
  fi
  [ "${#units[@]}" -gt 0 ] || return 0
  case $script in
    postinst) cat <<EOF
if [ "\$1" = configure ] || [ "\$1" = abort-upgrade ] || [ "\$1" = abort-deconfigure ] || [ "\$1" = abort-remove ]; then
	if [ -x /usr/bin/deb-systemd-helper ]; then
		for unit in ${units[*]}; do
			deb-systemd-helper unmask "\$unit" >/dev/null || true
			if deb-systemd-helper --quiet was-enabled "\$unit"; then
				deb-systemd-helper enable "\$unit" >/dev/null || true
			else
				deb-systemd-helper update-state "\$unit" >/dev/null || true
			fi
		done
	fi
	if [ -d /run/systemd/system ]; then
		systemctl --system daemon-reload >/dev/null || true
		deb-systemd-invoke start ${units[*]} >/dev/null || true
	fi
fi
EOF
    ;;
    prerm) cat <<EOF
if [ -d /run/systemd/system ] && [ "\$1" = remove ]; then
	deb-systemd-invoke stop ${units[*]} >/dev/null || true
fi
EOF
    ;;
    postrm) cat <<EOF
if [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
fi
if [ "\$1" = remove ] && [ -x /usr/bin/deb-systemd-helper ]; then
	deb-systemd-helper mask ${units[*]} >/dev/null || true
fi
if [ "\$1" = purge ] && [ -x /usr/bin/deb-systemd-helper ]; then
	deb-systemd-helper purge ${units[*]} >/dev/null || true
	deb-systemd-helper unmask ${units[*]} >/dev/null || true
fi
EOF
    ;;
  esac
}

build_deb() {
  local pkg=$1 root=$work/pkg/$1 src dest name extra script body deps value
  mkdir -p "$root/DEBIAN"
  while read -r src dest; do
    [ -n "$src" ] || continue
    name=$(basename "$src")
    mkdir -p "$root/$dest"
    install_source "$name" > "$root/$dest/$name"
    case $dest in */bin|*/bin/) chmod 755 "$root/$dest/$name" ;; *) chmod 644 "$root/$dest/$name" ;; esac
  done < <(src_show "packaging/debian/$pkg.install")
  mkdir -p "$root/usr/share/doc/$pkg"
  src_show packaging/debian/copyright > "$root/usr/share/doc/$pkg/copyright"
  if src_has "packaging/debian/$pkg.lintian-overrides"; then
    mkdir -p "$root/usr/share/lintian/overrides"
    src_show "packaging/debian/$pkg.lintian-overrides" > "$root/usr/share/lintian/overrides/$pkg"
  fi
  # debhelper marks every file under /etc a conffile.
  if [ -d "$root/etc" ]; then (cd "$root" && find etc -type f | sort | sed 's;^;/;') > "$root/DEBIAN/conffiles"; fi
  for script in preinst postinst prerm postrm; do
    extra=$(snippet "$pkg" "$script" "$root")
    if src_has "packaging/debian/$pkg.$script"; then
      body=$(src_show "packaging/debian/$pkg.$script" \
        | extra=$extra awk '$0 == "#DEBHELPER#" { if (ENVIRON["extra"] != "") print ENVIRON["extra"]; next } { print }')
    elif [ -n "$extra" ]; then
      body=$(printf '#!/bin/sh\nset -e\n%s\n' "$extra")
    else
      continue
    fi
    printf '%s\n' "$body" > "$root/DEBIAN/$script"
    chmod 755 "$root/DEBIAN/$script"
  done
  deps=$(depends "$pkg")
  {
    echo "Package: $pkg"
    echo "Version: $DEB_VERSION"
    echo "Architecture: $ARCH"
    echo "Maintainer: $MAINTAINER"
    echo "Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)"
    [ -z "$deps" ] || echo "Depends: $deps"
    for name in Breaks Replaces; do
      value=$(field "Package:$pkg" "$name")
      [ -z "$value" ] || echo "$name: $value"
    done
    value=$(field "Source:nvidia-container-toolkit" Section)
    echo "Section: ${value:-utils}"
    echo "Priority: $(field "Source:nvidia-container-toolkit" Priority)"
    echo "Homepage: $(field "Source:nvidia-container-toolkit" Homepage)"
    echo "Description: $(field "Package:$pkg" Description) (rebuilt from source for tests)"
    echo " Built by the aistack.selfhosted tests from NVIDIA's source, tag $TAG"
    echo " (commit ${commit:0:12}), with NVIDIA's packaging files, for a local test"
    echo " repository."
    echo " Unlike NVIDIA's packages these do not depend on libnvidia-container-tools"
    echo " (nvidia-container-cli, from another repository, not built here)."
  } > "$root/DEBIAN/control"
  dpkg-deb --root-owner-group -Zxz --build "$root" "$work/repo/stable/deb/$ARCH/${pkg}_${DEB_VERSION}_$ARCH.deb" >/dev/null
}

mkdir -p "$work/repo/stable/deb/$ARCH"
for pkg in "${PACKAGES[@]}"; do build_deb "$pkg"; done

# A throwaway signing key: a new one each build; the repository publishes its public half.
gpg --batch --quiet --passphrase '' --quick-gen-key \
  'aistack.selfhosted test repository (throwaway key) <nobody@aistack.invalid>' ed25519 sign never 2>/dev/null
gpg --batch --armor --export > "$work/repo/gpgkey"

dists=$work/repo/stable/deb/$ARCH
(cd "$dists" && dpkg-scanpackages --arch "$ARCH" . /dev/null 2>/dev/null > Packages && gzip -9nk Packages)
{
  echo "Origin: aistack.selfhosted tests"
  echo "Label: nvidia-container-toolkit (rebuilt from source for tests)"
  echo "Date: $(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S UTC')"
  echo "Architectures: $ARCH"
  for sum in MD5Sum:md5sum SHA1:sha1sum SHA256:sha256sum SHA512:sha512sum; do
    echo "${sum%%:*}:"
    for file in Packages Packages.gz; do
      printf ' %s %s %s\n' "$("${sum#*:}" < "$dists/$file" | cut -d' ' -f1)" "$(stat -c %s "$dists/$file")" "$file"
    done
  done
} > "$dists/Release"
gpg --batch --yes --digest-algo SHA512 --clearsign -o "$dists/InRelease" "$dists/Release"
gpg --batch --yes --digest-algo SHA512 --armor --detach-sign -o "$dists/Release.gpg" "$dists/Release"

cat > "$work/repo/README" <<EOF
A local test copy of NVIDIA's container toolkit apt repository, made by
scripts/build-nvidia-ctk-repo.sh of aistack.selfhosted on $(date -u '+%Y-%m-%d %H:%M UTC').

Packages: ${PACKAGES[*]} $DEB_VERSION ($ARCH), binaries built from
NVIDIA's source $TAG (commit $commit) with NVIDIA's packaging files, without
the libnvidia-container-tools dependency (not built here).
Signed with a throwaway key made by that build; gpgkey is its public half.
Not NVIDIA's packages: for tests only.

  Types: deb
  URIs: file:///srv/nvidia-repo/stable/deb/$ARCH   (this directory mounted at /srv/nvidia-repo)
  Suites: /
  Signed-By: /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg   (gpg --dearmor of gpgkey)
EOF
printf 'recipe=%s\nbase=%s\n' "$recipe" "$base_recipe" > "$work/repo/.recipe"
chmod -R a+rX "$work/repo"

# Into place in one move (the old repository, if any, goes after).
rm -rf "$REPO_DIR.old"
[ ! -e "$REPO_DIR" ] || mv "$REPO_DIR" "$REPO_DIR.old"
mv "$work/repo" "$REPO_DIR"
rm -rf "$REPO_DIR.old" "$SKIP_MARKER"
log "nvidia-ctk test repository $DEB_VERSION ($ARCH) built in $((SECONDS - started)) s: $REPO_DIR"
