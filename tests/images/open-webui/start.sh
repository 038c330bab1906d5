#!/usr/bin/env bash
# Start Open WebUI the way the upstream image's start script does (our own script, same
# behaviour for what the tests and the role rely on):
#   - runs from its own directory (/app/backend), port PORT (8080), address HOST (0.0.0.0);
#   - WEBUI_SECRET_KEY (or WEBUI_JWT_SECRET_KEY) from the environment wins; otherwise the key
#     is read from WEBUI_SECRET_KEY_FILE, default .webui_secret_key in /app/backend (inside the
#     container, not the data volume: a recreated container gets a new key), generated when
#     the file is missing;
#   - then uvicorn replaces this shell (exec), so signals reach the server.
# Upstream's optional extras (Playwright browsers, a bundled Ollama, CUDA library paths,
# Hugging Face Spaces) are left out: this image has none of them.
cd "$(dirname "${BASH_SOURCE[0]}")" || exit 1

PORT="${PORT:-8080}"
HOST="${HOST:-0.0.0.0}"
KEY_FILE="${WEBUI_SECRET_KEY_FILE:-.webui_secret_key}"

if [ -z "${WEBUI_SECRET_KEY}${WEBUI_JWT_SECRET_KEY}" ]; then
  echo "WEBUI_SECRET_KEY is not in the environment: loading it from $KEY_FILE"
  if [ ! -e "$KEY_FILE" ]; then
    echo "Generating a WEBUI_SECRET_KEY into $KEY_FILE"
    head -c 12 /dev/random | base64 > "$KEY_FILE"
  fi
  WEBUI_SECRET_KEY=$(cat "$KEY_FILE")
fi

WEBUI_SECRET_KEY="$WEBUI_SECRET_KEY" exec uvicorn open_webui.main:app \
  --host "$HOST" --port "$PORT" --forwarded-allow-ips '*'
