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

# The host creation and the choice of images are shared with `make bench` (scripts/local-host.sh).
images=$(bash scripts/local-host.sh image-vars "the demo")
AISTACK_HOST_WHO=demo bash scripts/local-host.sh create "$NAME" -p "127.0.0.1:$PORT:3000"

AISTACK_DEMO_PASSWORD_FILE=$password_file ansible-playbook -i inventories/local site.yml -l inference -e "$images"

cat <<EOM

Open WebUI is up: http://127.0.0.1:$PORT
  login:    admin@localhost
  password: $(cat "$password_file")   (kept in $password_file)
Ollama and Qdrant listen inside the demo host: docker exec -it $NAME bash
Remove it all: make demo-destroy
EOM
