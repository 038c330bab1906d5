#!/usr/bin/env bash
# Disposable local hosts for `make demo` and `make bench`: systemd containers of the test-host
# image, set up as the tests' hosts (Docker inside, the image archives of `make images` mounted).
#
#   local-host.sh create NAME [docker run options...]
#       create the container NAME unless it exists (options such as -p are added to docker run)
#   local-host.sh image-vars [WHO]
#       print, as one JSON object for `ansible-playbook -e`, the image settings a converge of
#       site.yml -l inference needs here: {} where the upstream images can be pulled, else the
#       test images and their archives. Says on stderr which, about WHO ("the demo").
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

create() {
  local name=$1; shift
  docker inspect "$name" >/dev/null 2>&1 && return 0
  log "creating the $WHO host $name"
  # The same host settings as the tests' hosts: the capabilities come from the shared Molecule config.
  read -r -a caps < <(python -c 'import sys, yaml
print(" ".join(yaml.safe_load(open(sys.argv[1]))["platforms"][0]["capabilities"]))' .config/molecule/config.yml)
  docker run -d --name "$name" --hostname "$name" "${caps[@]/#/--cap-add=}" \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined --cgroupns=host \
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw -v /var/lib/docker -v "$CACHE_DIR/images:/srv/aistack-images:ro" \
    --tmpfs /run --tmpfs /run/lock --stop-signal SIGRTMIN+3 \
    "$@" aistack-test/debian:trixie >/dev/null
}

image_vars() {
  if timeout 60 docker pull -q qdrant/qdrant:v1.19.0 >/dev/null 2>&1; then
    log "upstream images can be pulled: $WHO uses the real Ollama, Qdrant and Open WebUI"
    echo '{}'
  else
    log "no container registry here: $WHO uses the real Open WebUI built from PyPI and the TEST doubles of Ollama and Qdrant (tests/standins)"
    echo '{"qdrant_image": "aistack-test/qdrant:test", "ollama_image": "aistack-test/ollama:test",
          "open_webui_image": "aistack-test/open-webui:0.12.4",
          "docker_image_archives": [{"path": "/srv/aistack-images/test-images.tar", "remote_src": true},
                                    {"path": "/srv/aistack-images/open-webui.tar", "remote_src": true}]}'
  fi
}

case ${1:-} in
  create) [ $# -ge 2 ] || die "usage: $0 create NAME [docker run options...]"
          shift; WHO=${AISTACK_HOST_WHO:-local}; create "$@" ;;
  image-vars) WHO=${2:-the host}; image_vars ;;
  *) die "usage: $0 create NAME [docker run options...] | image-vars [WHO]" ;;
esac
