#!/usr/bin/env bash
# Make sure a Docker engine and the Compose v2 plugin are usable on this machine.
#
# - Uses the engine that answers, if one does.
# - Otherwise installs Debian's docker.io when dockerd is missing and starts dockerd
#   without systemd (CI machines have no systemd as PID 1).
# - Installs the Compose v2 plugin from Debian trixie's docker-compose .deb when
#   `docker compose` is missing (bookworm only packages the old v1).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

COMPOSE_DEB_SUITE=${AISTACK_COMPOSE_DEB_SUITE:-trixie}
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

engine_answers() { docker info >/dev/null 2>&1; }

start_engine() {
  command -v dockerd >/dev/null || { log "installing docker.io (engine)"; apt_install docker.io; }
  command -v docker >/dev/null || apt_install docker.io
  log "starting dockerd (no systemd here)"
  as_root bash -c 'setsid dockerd >/var/log/dockerd.log 2>&1 < /dev/null &'
  for _ in $(seq 1 60); do
    engine_answers && return 0
    sleep 1
  done
  tail -n 20 /var/log/dockerd.log >&2 || true
  die "dockerd did not come up within 60 s (log above)"
}

install_compose_plugin() {
  log "installing the Compose v2 plugin from Debian $COMPOSE_DEB_SUITE's docker-compose package"
  bash "$(dirname "$0")/install-compose-plugin.sh" "$COMPOSE_DEB_SUITE" "$PLUGIN_DIR/docker-compose" >/dev/null
}

engine_answers || start_engine
docker compose version >/dev/null 2>&1 || install_compose_plugin
docker compose version >/dev/null 2>&1 || die "docker compose still missing after install"
log "engine $(docker version --format '{{.Server.Version}}'), $(docker compose version --short | sed 's/^/compose /')"
