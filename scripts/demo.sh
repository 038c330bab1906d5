#!/usr/bin/env bash
# `make demo`: a disposable local inference host. Creates the systemd container
# aistack-demo (as the tests' hosts), converges `site.yml -l inference` into it and prints
# the Open WebUI address and login. `make demo-destroy` removes it (data included).
#
# Where the upstream images can be pulled, the demo uses them; otherwise (no registry)
# it uses the test images (the real Open WebUI from PyPI, test doubles of Ollama and Qdrant)
# and says so.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

NAME=aistack-demo
PORT=${AISTACK_DEMO_PORT:-3000}
password_file=$CACHE_DIR/demo-admin-password
[ -s "$password_file" ] || { umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$password_file"; }

extra=()
if timeout 60 docker pull -q qdrant/qdrant:v1.19.0 >/dev/null 2>&1; then
  log "upstream images can be pulled: the demo uses the real Ollama, Qdrant and Open WebUI"
else
  log "no container registry here: the demo uses the real Open WebUI built from PyPI and the TEST doubles of Ollama and Qdrant (tests/standins)"
  extra=(-e qdrant_image=aistack-test/qdrant:test -e ollama_image=aistack-test/ollama:test
         -e open_webui_image=aistack-test/open-webui:0.12.4
         -e '{"docker_image_archives": [{"path": "/srv/aistack-images/test-images.tar", "remote_src": true},
                                        {"path": "/srv/aistack-images/open-webui.tar", "remote_src": true}]}')
fi

if ! docker inspect "$NAME" >/dev/null 2>&1; then
  log "creating the demo host $NAME"
  # The same host settings as the tests' hosts: the capabilities come from the shared Molecule config.
  read -r -a caps < <(python -c 'import sys, yaml
print(" ".join(yaml.safe_load(open(sys.argv[1]))["platforms"][0]["capabilities"]))' .config/molecule/config.yml)
  docker run -d --name "$NAME" --hostname "$NAME" "${caps[@]/#/--cap-add=}" \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined --cgroupns=host \
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw -v /var/lib/docker -v "$CACHE_DIR/images:/srv/aistack-images:ro" \
    --tmpfs /run --tmpfs /run/lock --stop-signal SIGRTMIN+3 \
    -p "127.0.0.1:$PORT:3000" aistack-test/debian:trixie >/dev/null
fi

AISTACK_DEMO_PASSWORD_FILE=$password_file ansible-playbook -i inventories/local site.yml -l inference "${extra[@]}"

cat <<EOM

Open WebUI is up: http://127.0.0.1:$PORT
  login:    admin@localhost
  password: $(cat "$password_file")   (kept in $password_file)
Ollama and Qdrant listen inside the demo host: docker exec -it $NAME bash
Remove it all: make demo-destroy
EOM
