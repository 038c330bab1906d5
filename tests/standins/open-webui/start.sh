#!/usr/bin/env bash
# Stand-in for the image's backend/start.sh (its CMD is `bash start.sh` in /app/backend).
# The WEBUI_SECRET_KEY lookup that start.sh does in shell is done by server.py, in the same
# order (owui_settings.resolve_secret_key), so the process and the image behave alike.
SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" &>/dev/null && pwd)
cd "$SCRIPT_DIR" || exit 1
exec python3 server.py --port "${PORT:-8080}" --host "${HOST:-0.0.0.0}"
