#!/usr/bin/env bash
# Build the images the tests use, with no container registry:
#   1. systemd base images of Debian (debootstrap + docker import), the test hosts;
#   2. test images (tests/images/*, tests/standins/*) built FROM the trixie base;
#   3. one `docker save` archive of all test images, .cache/images/test-images.tar (shared
#      layers stored once), which test hosts load through the docker role's offline images.
# Each step is skipped when its inputs did not change (a recipe hash label on the
# base images, docker's build cache, the image IDs next to the archive).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

DEBIAN_MIRROR=${AISTACK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
BASE_REPO=aistack-test/debian
BASE_PACKAGES=python3,python3-apt,systemd,systemd-sysv,ca-certificates,iproute2,procps,sudo,curl,gnupg
ARCHIVE_DIR=$CACHE_DIR/images
SUITES=${AISTACK_TEST_SUITES:-trixie bookworm}

recipe_hash() {
  { echo "$1 $BASE_PACKAGES $DEBIAN_MIRROR"; cat /etc/ssl/certs/ca-certificates.crt; } | sha256sum | cut -c1-16
}

build_base() {
  local suite=$1 hash dir
  hash=$(recipe_hash "$suite")
  if [ "$(docker image inspect -f '{{ index .Config.Labels "aistack.recipe" }}' "$BASE_REPO:$suite" 2>/dev/null)" = "$hash" ]; then
    return 0
  fi
  command -v debootstrap >/dev/null || { as_root apt-get update -qq; as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  log "debootstrap $suite (about a minute)"
  dir=$(mktemp -d)
  as_root debootstrap --variant=minbase --include="$BASE_PACKAGES" "$suite" "$dir" "$DEBIAN_MIRROR" >"$dir.log" 2>&1 \
    || { tail -n 20 "$dir.log" >&2; die "debootstrap $suite failed"; }
  # The machine may reach the mirrors through a TLS proxy with its own CA: trust what the host trusts.
  as_root cp /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/ca-certificates.crt"
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    as_root cp /usr/local/share/ca-certificates/*.crt "$dir/usr/local/share/ca-certificates/"
  fi
  # A test host boots systemd; keep its journal small and skip what cannot work in a container.
  as_root rm -f "$dir"/etc/systemd/system/*.wants/systemd-timesyncd.service
  as_root apt-get -o RootDir="$dir" clean 2>/dev/null || true
  as_root tar -C "$dir" -c . | docker import \
    -c 'CMD ["/lib/systemd/systemd"]' -c 'ENV container=docker' \
    -c "LABEL aistack.recipe=$hash" - "$BASE_REPO:$suite" >/dev/null
  as_root rm -rf "$dir" "$dir.log"
}

build_test_image() {
  local dir=$1 name out
  name=aistack-test/$(basename "$dir"):test
  # Quiet unless it fails (the legacy builder also warns that it is legacy on every run).
  out=$(docker build -q -t "$name" "$dir" 2>&1) || { printf '%s\n' "$out" >&2; die "docker build of $dir failed"; }
  TEST_IMAGES+=("$name")
}

# Save all test images to one archive unless it already holds exactly these image IDs.
save_archive() {
  local archive=$ARCHIVE_DIR/test-images.tar ids
  mkdir -p "$ARCHIVE_DIR"
  ids=$(for image in "$@"; do echo "$image $(docker image inspect -f '{{.Id}}' "$image")"; done)
  if [ "$(cat "$archive.ids" 2>/dev/null)" != "$ids" ] || [ ! -s "$archive" ]; then
    log "saving ${#@} test images to $archive"
    docker save "$@" -o "$archive.tmp"
    mv "$archive.tmp" "$archive"
    echo "$ids" > "$archive.ids"
  fi
}

TEST_IMAGES=()
for suite in $SUITES; do build_base "$suite"; done
for dir in "$REPO_ROOT"/tests/images/*/ "$REPO_ROOT"/tests/standins/*/; do
  if [ -f "$dir/Dockerfile" ]; then build_test_image "${dir%/}"; fi
done
save_archive "${TEST_IMAGES[@]}"
log "test images ready: ${TEST_IMAGES[*]}"
