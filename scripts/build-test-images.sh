#!/usr/bin/env bash
# Build the images the tests use, with no container registry:
#   1. systemd base images of Debian (debootstrap + docker import), the test hosts;
#   2. test images (tests/images/*, tests/standins/*) built FROM the trixie base, tagged
#      aistack-test/<dir>:test (the real Prometheus, Alertmanager, node-exporter and blackbox
#      exporter add Debian sid, pinned to their packages alone, from the base's mirror);
#   3. one `docker save` archive of all test images, .cache/images/test-images.tar (shared
#      layers stored once), which test hosts load through the docker role's offline images;
#   4. the real Open WebUI from PyPI (tests/images/open-webui, FROM the bookworm base), tagged
#      aistack-test/open-webui:<version>, in its own archive .cache/images/open-webui.tar
#      (2+ GB: only the scenarios that run Open WebUI load it);
#   5. the nvidia_container_toolkit role's test apt repository, .cache/nvidia-ctk-repo
#      (scripts/build-nvidia-ctk-repo.sh: only where NVIDIA_CTK_SOURCE names NVIDIA's source,
#      else a log line and its tests skip).
# Each step is skipped when its inputs did not change (a recipe hash label on the
# base images and on the Open WebUI image, docker's build cache, the image IDs next to
# each archive, the recipe stamp in the apt repository).
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
  local dir=$1 name out args=()
  name=aistack-test/$(basename "$dir"):test
  # Images that install Debian packages (tests/images/prometheus, ...) take the base's mirror.
  if grep -q '^ARG DEBIAN_MIRROR' "$dir/Dockerfile"; then args=(--build-arg "DEBIAN_MIRROR=$DEBIAN_MIRROR"); fi
  # Quiet unless it fails (the legacy builder also warns that it is legacy on every run).
  out=$(docker build -q "${args[@]}" -t "$name" "$dir" 2>&1) || { printf '%s\n' "$out" >&2; die "docker build of $dir failed"; }
  TEST_IMAGES+=("$name")
}

# Save images to the archive $ARCHIVE_DIR/<name>.tar unless it already holds exactly these image IDs.
save_archive() {
  local archive=$ARCHIVE_DIR/$1.tar ids
  shift
  mkdir -p "$ARCHIVE_DIR"
  ids=$(for image in "$@"; do echo "$image $(docker image inspect -f '{{.Id}}' "$image")"; done)
  if [ "$(cat "$archive.ids" 2>/dev/null)" != "$ids" ] || [ ! -s "$archive" ]; then
    log "saving $* to $archive"
    docker save "$@" -o "$archive.tmp"
    mv "$archive.tmp" "$archive"
    echo "$ids" > "$archive.ids"
  fi
}

# The real Open WebUI, pip-installed. Its pins pull torch, which PyPI has only as a multi-GB
# CUDA build: the CPU build goes into the git-ignored wheels/ of the build context first (from
# this machine's pip configuration where it has one, else whatever PyPI gives), and the image
# installs it before open-webui. Skipped when the recipe (files, wheel, base image) is unchanged.
OPEN_WEBUI_VERSION=0.12.4
TORCH_VERSION=2.13.0
build_open_webui() {
  local dir=$REPO_ROOT/tests/images/open-webui name=aistack-test/open-webui:$OPEN_WEBUI_VERSION
  local wheels wheel hash pip out started
  wheels=$dir/wheels
  wheel=$(compgen -G "$wheels/torch-${TORCH_VERSION}[+-]*.whl" | head -n 1 || true)
  if [ -z "$wheel" ]; then
    rm -rf "$wheels"
    pip=(python3 -m pip)
    [ -x "$REPO_ROOT/.venv/bin/pip" ] && pip=("$REPO_ROOT/.venv/bin/pip")
    log "fetching the torch $TORCH_VERSION wheel for the Open WebUI image"
    "${pip[@]}" download -q --no-deps --only-binary=:all: --implementation cp --python-version 3.11 \
      --abi cp311 --platform "manylinux_2_28_$(uname -m)" "torch==$TORCH_VERSION" -d "$wheels" \
      || die "cannot download torch $TORCH_VERSION"
    wheel=$(compgen -G "$wheels/torch-${TORCH_VERSION}[+-]*.whl" | head -n 1) || die "no torch wheel in $wheels"
  fi
  hash=$({ cat "$dir/Dockerfile" "$dir/start.sh" "$dir/slim.sh"; basename "$wheel"; stat -c %s "$wheel"
           docker image inspect -f '{{.Id}}' "$BASE_REPO:bookworm"; } | sha256sum | cut -c1-16)
  if [ "$(docker image inspect -f '{{ index .Config.Labels "aistack.recipe" }}' "$name" 2>/dev/null)" != "$hash" ]; then
    log "building $name from PyPI (a few minutes the first time)"
    started=$SECONDS
    out=$(docker build -q --label "aistack.recipe=$hash" -t "$name" "$dir" 2>&1) \
      || { printf '%s\n' "$out" >&2; die "docker build of $dir failed"; }
    log "built $name in $((SECONDS - started)) s"
  fi
  save_archive open-webui "$name"
}

TEST_IMAGES=()
for suite in $SUITES; do build_base "$suite"; done
# The monitoring stack's images (a file ARCHIVE in their folder names it) go into their own
# archive, which only the monitoring scenarios load: the others stay quick to load.
MONITORING_IMAGES=()
for dir in "$REPO_ROOT"/tests/images/*/ "$REPO_ROOT"/tests/standins/*/; do
  [ "$dir" = "$REPO_ROOT/tests/images/open-webui/" ] && continue  # its own tag and archive, below
  [ -f "$dir/Dockerfile" ] || continue
  build_test_image "${dir%/}"
  if [ "$(cat "$dir/ARCHIVE" 2>/dev/null)" = monitoring ]; then
    MONITORING_IMAGES+=("${TEST_IMAGES[-1]}"); unset 'TEST_IMAGES[-1]'
  fi
done
save_archive test-images "${TEST_IMAGES[@]}"
log "test images ready: ${TEST_IMAGES[*]}"
save_archive monitoring "${MONITORING_IMAGES[@]}"
log "monitoring test images ready: ${MONITORING_IMAGES[*]}"
case " $SUITES " in
  *" bookworm "*) build_open_webui; log "Open WebUI image ready: aistack-test/open-webui:$OPEN_WEBUI_VERSION" ;;
  *) log "no bookworm base (AISTACK_TEST_SUITES=$SUITES): the Open WebUI image is not built" ;;
esac
bash "$(dirname "$0")/build-nvidia-ctk-repo.sh"
