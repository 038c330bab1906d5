# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A small client for Ollama's HTTP API, on ansible.module_utils.urls (no third-party Python).

Errors are OllamaError with a message naming what was asked, the URL, what the server said,
and what to do about it.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import time
from urllib.error import HTTPError, URLError

from ansible.module_utils.urls import open_url
from ansible_collections.aistack.selfhosted.plugins.module_utils._ollama_ndjson import (
    PullProgress,
    StreamError,
    StreamTruncated,
    iter_ndjson,
)

OLLAMA_CONNECTION_ARGS = dict(
    api_url=dict(type="str", default="http://127.0.0.1:11434"),
    api_key=dict(type="str", no_log=True),
    headers=dict(type="dict", default={}),
    validate_certs=dict(type="bool", default=True),
    timeout=dict(type="int", default=30),
)

_HINTS = {
    401: "the server (or a proxy in front of it) wants credentials: set api_key or headers",
    403: "the server (or a proxy in front of it) refused the credentials in api_key or headers",
    404: "is api_url the base URL of Ollama (no /api path)?",
}
# Known texts of errors Ollama reports inside a pull stream, and what to do about them.
_PULL_HINTS = (
    ("file does not exist", "the registry has no such model or tag: check the name (and the tag) in the registry"),
    ("no space left on device", "free disk space where Ollama keeps models (OLLAMA_MODELS) and run again: "
                                "the download resumes where it stopped"),
    ("dial tcp", "the Ollama server cannot reach the registry: check its network, proxy and DNS"),
)
# A proxy or a restarting server answers these before Ollama does: a retry may succeed.
_RETRYABLE_STATUS = frozenset((502, 503, 504))


class OllamaError(Exception):
    """A request Ollama refused, or that never reached it."""

    def __init__(self, message, status=None, server_message=None, retryable=False):
        super().__init__(message)
        self.message = message
        self.status = status
        self.server_message = server_message
        self.retryable = retryable


def _server_message(body):
    """Ollama's {"error": "..."} text, or the start of whatever else came back."""
    text = body.decode("utf-8", "replace").strip() if isinstance(body, bytes) else str(body or "")
    try:
        value = json.loads(text)
    except ValueError:
        return text[:300]
    if isinstance(value, dict) and "error" in value:
        error = value["error"]
        return error.get("message", str(error)) if isinstance(error, dict) else str(error)
    return text[:300]


def _set_read_timeout(response, seconds):
    """Shorten the socket timeout of a streaming response (best effort; http and https)."""
    with contextlib.suppress(AttributeError):
        response.fp.raw._sock.settimeout(max(seconds, 0.001))


class OllamaClient:
    def __init__(self, api_url, api_key=None, headers=None, validate_certs=True, timeout=30):
        self.base_url = api_url.rstrip("/")
        self.validate_certs = validate_certs
        self.timeout = timeout
        self.headers = {"Accept": "application/json", "User-Agent": "aistack.selfhosted"}
        self.headers.update(headers or {})
        if api_key:
            self.headers["Authorization"] = "Bearer %s" % api_key
        self.requests = 0  # HTTP requests made, for callers and benchmarks

    @classmethod
    def from_module(cls, module):
        params = module.params
        return cls(params["api_url"], params.get("api_key"), params.get("headers"),
                   params["validate_certs"], params["timeout"])

    def _open(self, method, path, body=None, timeout=None, what=None):
        url = self.base_url + path
        what = what or "%s %s" % (method, path)
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.requests += 1
        try:
            return open_url(url, data=data, headers=headers, method=method, validate_certs=self.validate_certs,
                            timeout=timeout or self.timeout, follow_redirects="safe")
        except HTTPError as error:
            try:
                server = _server_message(error.read())
            except Exception:  # the body of an error is a courtesy, not a guarantee
                server = ""
            hint = _HINTS.get(error.code)
            raise OllamaError(
                "%s failed: %s answered HTTP %s: %s%s" % (what, url, error.code, server or error.reason,
                                                          "; " + hint if hint else ""),
                status=error.code, server_message=server, retryable=error.code in _RETRYABLE_STATUS) from None
        except (socket.timeout, TimeoutError):  # noqa: UP041 - distinct before Python 3.10
            raise OllamaError("%s failed: no answer from %s within %s seconds (raise timeout?)"
                              % (what, url, timeout or self.timeout), retryable=True) from None
        except URLError as error:
            raise OllamaError("%s failed: cannot reach the Ollama server at %s: %s. Is Ollama running, "
                              "and is api_url right?" % (what, self.base_url, error.reason), retryable=True) from None
        except (OSError, http.client.HTTPException) as error:
            raise OllamaError("%s failed: cannot reach the Ollama server at %s: %s. Is Ollama running, "
                              "and is api_url right?" % (what, self.base_url, error), retryable=True) from None

    def request(self, method, path, body=None, what=None):
        """One request; the decoded JSON answer, or None for an empty body."""
        response = self._open(method, path, body, what=what)
        try:
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            raise OllamaError("%s failed: the answer from %s%s broke off: %s"
                              % (what or path, self.base_url, path, error), retryable=True) from None
        finally:
            response.close()
        if not data.strip():
            return None
        try:
            return json.loads(data)
        except ValueError:
            raise OllamaError("%s failed: %s%s did not answer JSON (is api_url an Ollama server?): %r"
                              % (what or path, self.base_url, path, data[:200])) from None

    # API -------------------------------------------------------------------------------
    def version(self):
        return (self.request("GET", "/api/version", what="reading the Ollama version") or {}).get("version")

    def tags(self):
        """Installed models, as /api/tags lists them."""
        answer = self.request("GET", "/api/tags", what="listing installed models") or {}
        return answer.get("models") or []

    def running(self):
        answer = self.request("GET", "/api/ps", what="listing running models") or {}
        return answer.get("models") or []

    def delete(self, name):
        """Delete a model; False if it was already gone (404)."""
        try:
            self.request("DELETE", "/api/delete", {"model": name}, what="removing model %s" % name)
        except OllamaError as error:
            if error.status == 404:
                return False
            raise
        return True

    def pull_once(self, name, deadline):
        """One streamed pull; returns its PullProgress, raises StreamError / StreamTruncated / OllamaError."""
        what = "pulling model %s" % name
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise OllamaError("%s: pull_timeout expired" % what)
        response = self._open("POST", "/api/pull", {"model": name, "stream": True}, timeout=remaining, what=what)
        progress = PullProgress()

        def readline(limit):
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("pull_timeout expired")  # noqa: UP041 - distinct before Python 3.10
            _set_read_timeout(response, left)  # no idle timeout while bytes flow: only the deadline
            return response.readline(limit)

        try:
            progress.consume(iter_ndjson(readline))
        except (socket.timeout, TimeoutError):  # noqa: UP041 - distinct before Python 3.10
            raise OllamaError("%s from %s: no success within pull_timeout (last status: %s); Ollama keeps "
                              "what it downloaded and resumes on the next pull"
                              % (what, self.base_url, progress.last_status or "none")) from None
        except (OSError, http.client.HTTPException) as error:
            raise StreamTruncated("the connection broke: %s" % (error or type(error).__name__),
                                  progress.last_status) from None
        finally:
            response.close()
        return progress

    def pull(self, name, pull_timeout, retries=0, sleep=time.sleep):
        """Pull with retries of dropped streams; returns a summary dict of the pull.

        An error the server states (unknown model, disk full, ...) is not retried: pulling
        again would fail the same way. A cut stream, a refused connection or a proxy's 502/503/504
        are, with a short back-off; Ollama resumes partial downloads, so nothing is fetched twice.
        """
        started = time.monotonic()
        deadline = started + pull_timeout
        moved = 0
        attempt = 0
        while True:
            attempt += 1
            try:
                progress = self.pull_once(name, deadline)
                moved += progress.bytes_transferred
                return dict(attempts=attempt, bytes=moved, seconds=round(time.monotonic() - started, 3),
                            total_bytes=progress.total_bytes)
            except StreamError as error:
                hint = next((text for needle, text in _PULL_HINTS if needle in error.message), None)
                raise OllamaError("pulling model %s failed: %s answered: %s%s"
                                  % (name, self.base_url, error.message, "; " + hint if hint else ""),
                                  server_message=error.message) from None
            except StreamTruncated as error:
                problem = OllamaError("pulling model %s from %s failed: %s (last status: %s), %d attempt(s)"
                                      % (name, self.base_url, error.reason, error.last_status or "none", attempt),
                                      retryable=True)
            except OllamaError as error:
                if not error.retryable:
                    raise
                problem = error
            if attempt > retries or time.monotonic() + 1 >= deadline:
                raise problem
            sleep(min(2 ** (attempt - 1), 10))
