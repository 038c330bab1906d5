#!/usr/bin/env bash
# Run the real Open WebUI test image with the Ollama and Qdrant test doubles on one Docker
# network, configured as roles/open_webui configures it (environment, secrets as files exported
# by the same entrypoint line), time its first start and a restart, then run
# open_webui_check.py against it and print its JSON report.
#
#   tests/e2e/run-local.sh                 # then removes what it started
#   KEEP=1 tests/e2e/run-local.sh          # leaves it running (prints how to remove it)
#   QDRANT_IMAGE=... OPEN_WEBUI_IMAGE=... OLLAMA_IMAGE=... PORT=... tests/e2e/run-local.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
OPEN_WEBUI_IMAGE=${OPEN_WEBUI_IMAGE:-aistack-test/open-webui:0.12.4}
OLLAMA_IMAGE=${OLLAMA_IMAGE:-aistack-test/ollama:test}
QDRANT_IMAGE=${QDRANT_IMAGE:-aistack-test/qdrant:test}
PORT=${PORT:-3999}
NAME=${NAME:-owui-e2e}
EMAIL=admin@example.org
work=$(mktemp -d)

# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  if [ -n "${KEEP:-}" ]; then
    echo "left running; remove with: docker rm -f -v $NAME-webui $NAME-ollama $NAME-qdrant; docker network rm $NAME; rm -rf $work" >&2
    return
  fi
  docker rm -f -v "$NAME-webui" "$NAME-ollama" "$NAME-qdrant" >/dev/null 2>&1 || true
  docker network rm "$NAME" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_health() {  # seconds until GET /health answers 200 (or fail after $2 s)
  local started=$SECONDS
  until curl -fsS -o /dev/null "http://127.0.0.1:$PORT/health" 2>/dev/null; do
    if [ $((SECONDS - started)) -ge "$1" ] || [ "$(docker inspect -f '{{.State.Running}}' "$NAME-webui")" != true ]; then
      docker logs --tail 40 "$NAME-webui" >&2
      echo "Open WebUI did not answer /health" >&2
      return 1
    fi
    sleep 1
  done
  echo $((SECONDS - started))
}

mkdir -p "$work/secrets" "$work/data"
head -c 32 /dev/urandom | base64 | tr -d '/+=' > "$work/secrets/webui_secret_key"
head -c 16 /dev/urandom | base64 | tr -d '/+=' > "$work/secrets/webui_admin_password"
head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$work/secrets/qdrant_api_key"

docker network create "$NAME" >/dev/null
docker run -d --name "$NAME-qdrant" --network "$NAME" --network-alias qdrant \
  -e QDRANT__SERVICE__API_KEY="$(cat "$work/secrets/qdrant_api_key")" "$QDRANT_IMAGE" >/dev/null
docker run -d --name "$NAME-ollama" --network "$NAME" --network-alias ollama "$OLLAMA_IMAGE" >/dev/null
for model in llama3.2:1b nomic-embed-text; do
  for _ in $(seq 30); do
    docker exec "$NAME-ollama" curl -fsS -o /dev/null http://127.0.0.1:11434/ 2>/dev/null && break
    sleep 1
  done
  docker exec "$NAME-ollama" curl -fsS http://127.0.0.1:11434/api/pull \
    -d "{\"model\": \"$model\", \"stream\": false}" >/dev/null
done

# The role's entrypoint (roles/open_webui/templates/compose.yml.j2, `$$` unescaped).
read -r -d '' entrypoint <<'EOF' || true
umask 077
export WEBUI_SECRET_KEY="$(cat /run/secrets/webui_secret_key)"
export QDRANT_API_KEY="$(cat /run/secrets/qdrant_api_key)"
if ! python3 -c 'import sqlite3, sys; db = sqlite3.connect("file:/app/backend/data/webui.db?mode=ro", uri=True); sys.exit(db.execute("SELECT count(*) FROM user").fetchone()[0] == 0)' 2>/dev/null; then
  export WEBUI_ADMIN_PASSWORD="$(cat /run/secrets/webui_admin_password)"
fi
exec bash start.sh
EOF
env_args=()
for setting in ENABLE_PERSISTENT_CONFIG=False ENABLE_SIGNUP=False WEBUI_AUTH=True \
    "WEBUI_ADMIN_EMAIL=$EMAIL" WEBUI_ADMIN_NAME=Admin ENABLE_VERSION_UPDATE_CHECK=False \
    ENABLE_OPENAI_API=False ENABLE_OLLAMA_API=True OLLAMA_BASE_URL=http://ollama:11434 \
    OLLAMA_BASE_URLS=http://ollama:11434 VECTOR_DB=qdrant QDRANT_URI=http://qdrant:6333 \
    QDRANT_PREFER_GRPC=False CHUNK_SIZE=1000 CHUNK_OVERLAP=200 RAG_TOP_K=5 \
    RAG_EMBEDDING_ENGINE=ollama RAG_EMBEDDING_MODEL=nomic-embed-text RAG_OLLAMA_BASE_URL=http://ollama:11434; do
  env_args+=(-e "$setting")
done
secret_args=()
for secret in webui_secret_key webui_admin_password qdrant_api_key; do
  secret_args+=(-v "$work/secrets/$secret:/run/secrets/$secret:ro")
done

docker run -d --name "$NAME-webui" --network "$NAME" -p "127.0.0.1:$PORT:8080" \
  -v "$work/data:/app/backend/data" "${secret_args[@]}" "${env_args[@]}" \
  --entrypoint bash "$OPEN_WEBUI_IMAGE" -c "$entrypoint" >/dev/null
first=$(wait_health 600)
echo "first start (empty data directory, migrations): ${first} s to /health 200" >&2
docker restart "$NAME-webui" >/dev/null
again=$(wait_health 300)
echo "restart: ${again} s to /health 200" >&2

status=0
python3 "$here/open_webui_check.py" --url "http://127.0.0.1:$PORT" --email "$EMAIL" \
  --password-file "$work/secrets/webui_admin_password" "$@" || status=$?
exit "$status"
