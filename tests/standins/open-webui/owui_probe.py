"""What the Open WebUI test double checks on every health probe: can it reach what it is wired to?"""

import json
import socket
import urllib.error
import urllib.parse
import urllib.request

TIMEOUT = 3


def _resolve(url: str) -> tuple:
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname
    if not host or parts.scheme not in ("http", "https"):
        return host, None, f"not an http(s) URL: {url!r}"
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80),
                                   proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        return host, None, f"cannot resolve {host}: {exc.strerror}"
    return host, sorted({info[4][0] for info in infos}), None


def _get(url: str, headers: dict | None = None) -> tuple:
    """(status, parsed JSON or text, error) of one GET."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            body = response.read().decode("utf-8", "replace")
            status = response.status
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")[:200], f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return None, None, str(getattr(exc, "reason", exc))
    try:
        return status, json.loads(body), None
    except ValueError:
        return status, body, None


def probe_ollama(url: str) -> dict:
    """GET /api/version and /api/tags of one Ollama base URL."""
    host, addresses, error = _resolve(url)
    result = {"url": url, "host": host, "resolved": addresses, "reachable": False, "version": None, "models": [],
              "error": error}
    if error:
        return result
    status, body, error = _get(url.rstrip("/") + "/api/version")
    if status != 200 or not isinstance(body, dict) or "version" not in body:
        result["error"] = error or f"GET /api/version answered {status} without a version: not an Ollama?"
        return result
    result.update(reachable=True, version=body["version"])
    status, body, error = _get(url.rstrip("/") + "/api/tags")
    if status == 200 and isinstance(body, dict):
        result["models"] = sorted(m.get("name") or m.get("model") for m in body.get("models") or [])
    else:
        result["error"] = error or f"GET /api/tags answered {status}"
    return result


def probe_qdrant(uri: str | None, api_key: str | None) -> dict:
    """GET /collections with the key, as Open WebUI's Qdrant client would need."""
    result = {"uri": uri, "api_key_set": bool(api_key), "resolved": None, "reachable": False, "auth_ok": False,
              "status_code": None, "collections": [], "error": None}
    if not uri:
        result["error"] = "QDRANT_URI is not set"
        return result
    _host, result["resolved"], error = _resolve(uri)
    if error:
        result["error"] = error
        return result
    headers = {"api-key": api_key} if api_key else {}
    status, body, error = _get(uri.rstrip("/") + "/collections", headers)
    result["status_code"] = status
    result["reachable"] = status is not None
    if status == 200 and isinstance(body, dict):
        result["auth_ok"] = True
        result["collections"] = [c["name"] for c in (body.get("result") or {}).get("collections", [])]
    elif status in (401, 403):
        result["error"] = f"Qdrant refused the API key (HTTP {status}: {body})"
    else:
        result["error"] = error or f"GET /collections answered {status}"
    return result


def model_listed(model: str, models: list) -> bool:
    """Ollama lists `name:tag`; a name without a tag means `:latest`."""
    wanted = model if ":" in model.rsplit("/", 1)[-1] else model + ":latest"
    return wanted.lower() in (m.lower() for m in models)
