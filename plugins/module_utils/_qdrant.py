# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A small client for Qdrant's HTTP API (standard library and ansible.module_utils.urls only)."""

from __future__ import annotations

import json
from urllib.error import HTTPError, URLError
from urllib.parse import quote

from ansible.module_utils.urls import open_url

QDRANT_CONNECTION_ARGS = dict(
    url=dict(type="str", default="http://127.0.0.1:6333"),
    api_key=dict(type="str", no_log=True),
    validate_certs=dict(type="bool", default=True),
    timeout=dict(type="int", default=30),
)

_HINTS = {
    401: "check api_key: the server requires a key and refused the one given (or none was given)",
    403: "the api_key has no write access (a read-only key?)",
}


class QdrantError(Exception):
    """A request Qdrant refused or that never reached it; the message says what and why."""

    def __init__(self, message: str, status: int | None = None, server_message: str | None = None):
        super().__init__(message)
        self.status = status
        self.server_message = server_message


def server_error_text(body: bytes) -> str:
    """The error text of a Qdrant response: the envelope's status.error, else the plain body (401)."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict) and isinstance(data.get("status"), dict) and "error" in data["status"]:
        return str(data["status"]["error"])
    return text


class QdrantClient:
    def __init__(self, url: str, api_key: str | None = None, validate_certs: bool = True, timeout: int = 30,
                 opener=open_url):
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.validate_certs = validate_certs
        self.timeout = timeout
        self._open = opener

    @classmethod
    def from_module(cls, module) -> QdrantClient:
        params = module.params
        return cls(params["url"], params["api_key"], params["validate_certs"], params["timeout"])

    def headers(self, with_body: bool) -> dict:
        headers = {"Accept": "application/json"}
        if with_body:
            headers["Content-Type"] = "application/json"
        if self.api_key:
            headers["api-key"] = self.api_key
        return headers

    def request(self, method: str, path: str, body: dict | None = None, subject: str = ""):
        """Send one request; return the envelope's `result`. Raise QdrantError saying what failed."""
        data = json.dumps(body).encode() if body is not None else None
        what = f"{method} {path}" + (f" ({subject})" if subject else "")
        try:
            response = self._open(self.url + path, data=data, method=method, headers=self.headers(data is not None),
                                  validate_certs=self.validate_certs, timeout=self.timeout)
            raw = response.read()
        except HTTPError as exc:
            message = server_error_text(exc.read() or b"") or exc.reason
            hint = _HINTS.get(exc.code)
            raise QdrantError(f"Qdrant at {self.url} refused {what}: HTTP {exc.code} {message}"
                              + (f" ({hint})" if hint else ""), exc.code, message) from exc
        except (URLError, OSError) as exc:  # refused, unresolvable, TLS, timeouts
            reason = getattr(exc, "reason", exc)
            raise QdrantError(f"cannot reach Qdrant at {self.url} for {what}: {reason}") from exc
        try:
            return json.loads(raw)["result"] if raw else None
        except (ValueError, KeyError, TypeError) as exc:
            raise QdrantError(f"Qdrant at {self.url} answered {what} with something that is not a Qdrant "
                              f"response: {raw[:200]!r}") from exc

    # Collections: the names are quoted, a name may hold any character Qdrant allows.
    def get_collection(self, name: str) -> dict | None:
        """The collection's info (CollectionInfo), or None when it does not exist."""
        try:
            return self.request("GET", f"/collections/{quote(name, safe='')}", subject=f"collection '{name}'")
        except QdrantError as exc:
            if exc.status == 404:
                return None
            raise

    def create_collection(self, name: str, body: dict):
        return self.request("PUT", f"/collections/{quote(name, safe='')}", body, subject=f"collection '{name}'")

    def update_collection(self, name: str, body: dict):
        return self.request("PATCH", f"/collections/{quote(name, safe='')}", body, subject=f"collection '{name}'")

    def delete_collection(self, name: str):
        return self.request("DELETE", f"/collections/{quote(name, safe='')}", subject=f"collection '{name}'")
