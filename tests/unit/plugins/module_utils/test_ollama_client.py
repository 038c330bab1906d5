"""OllamaClient: error messages that say what to do, and which pull failures are retried."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from ansible_collections.aistack.selfhosted.plugins.module_utils._ollama_client import OllamaClient, OllamaError
from ansible_collections.aistack.selfhosted.plugins.module_utils._ollama_ndjson import (
    PullProgress,
    StreamError,
    StreamTruncated,
)


class Canned(BaseHTTPRequestHandler):
    """Answers every request with the status and body queued for its path."""

    answers: dict = {}
    seen: list = []

    def handle_one(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.seen.append((self.command, self.path, dict(self.headers), body))
        status, payload, content_type = self.answers[self.path]
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = handle_one

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Canned.answers, Canned.seen = {}, []
    httpd = HTTPServer(("127.0.0.1", 0), Canned)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def answer(path, status, body, content_type="application/json"):
    Canned.answers[path] = (status, body if isinstance(body, bytes) else json.dumps(body).encode(), content_type)


def test_tags_sends_the_token_and_extra_headers(server):
    _httpd, url = server
    answer("/api/tags", 200, {"models": []})
    client = OllamaClient(url + "/", api_key="t0k", headers={"X-Team": "ai"})
    assert client.tags() == []
    headers = Canned.seen[0][2]
    assert headers["Authorization"] == "Bearer t0k"
    assert headers["X-Team"] == "ai"
    assert client.requests == 1


@pytest.mark.parametrize(("status", "body", "expected"), [
    (401, b"401 Unauthorized", "HTTP 401: 401 Unauthorized; the server (or a proxy in front of it) wants credentials"),
    (403, b"Forbidden", "refused the credentials"),
    (404, b"404 page not found", "is api_url the base URL of Ollama"),
    (500, {"error": "something broke"}, "HTTP 500: something broke"),
])
def test_http_errors_carry_the_server_text_and_a_hint(server, status, body, expected):
    _httpd, url = server
    answer("/api/tags", status, body, "text/plain")
    with pytest.raises(OllamaError) as error:
        OllamaClient(url).tags()
    assert expected in error.value.message
    assert url + "/api/tags" in error.value.message
    assert error.value.status == status


def test_a_non_json_answer_is_reported_as_such(server):
    _httpd, url = server
    answer("/api/tags", 200, b"<html>login</html>", "text/html")
    with pytest.raises(OllamaError, match="did not answer JSON"):
        OllamaClient(url).tags()


def test_delete_of_a_missing_model_is_not_an_error(server):
    _httpd, url = server
    answer("/api/delete", 404, {"error": "model 'x' not found"})
    assert OllamaClient(url).delete("x:latest") is False
    assert json.loads(Canned.seen[0][3]) == {"model": "x:latest"}


def test_unreachable_server_says_so():
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        url = "http://127.0.0.1:%d" % sock.getsockname()[1]
    with pytest.raises(OllamaError) as error:
        OllamaClient(url, timeout=5).tags()
    assert error.value.message.startswith("listing installed models failed: cannot reach the Ollama server at " + url)
    assert "Is Ollama running" in error.value.message


def scripted_pull(monkeypatch, outcomes):
    """Replace pull_once by a script of exceptions and successes; returns the sleeps made."""
    calls = iter(outcomes)

    def pull_once(self, name, deadline):
        outcome = next(calls)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(OllamaClient, "pull_once", pull_once)


def done(moved):
    progress = PullProgress()
    progress.feed({"status": "pulling abc", "digest": "sha256:" + "a" * 64, "total": 100})
    progress.feed({"status": "pulling abc", "digest": "sha256:" + "a" * 64, "total": 100, "completed": moved})
    progress.feed({"status": "success"})
    return progress


def test_cut_streams_are_retried_with_back_off(monkeypatch):
    scripted_pull(monkeypatch, [StreamTruncated("cut", "pulling abc"), OllamaError("refused", retryable=True),
                                done(40)])
    sleeps = []
    result = OllamaClient("http://x").pull("m:latest", pull_timeout=60, retries=2, sleep=sleeps.append)
    assert result["attempts"] == 3
    assert result["bytes"] == 40
    assert sleeps == [1, 2]


def test_retries_run_out(monkeypatch):
    scripted_pull(monkeypatch, [StreamTruncated("cut", "pulling abc")] * 2)
    expected = r"m:latest from http://x failed: cut \(last status: pulling abc\), 2 attempt"
    with pytest.raises(OllamaError, match=expected):
        OllamaClient("http://x").pull("m:latest", pull_timeout=60, retries=1, sleep=lambda s: None)


def test_errors_stated_by_ollama_are_not_retried(monkeypatch):
    scripted_pull(monkeypatch, [StreamError("pull model manifest: file does not exist"), done(1)])
    with pytest.raises(OllamaError) as error:
        OllamaClient("http://x").pull("m:latest", pull_timeout=60, retries=3, sleep=lambda s: None)
    assert "pull model manifest: file does not exist" in error.value.message
    assert "no such model or tag" in error.value.message


def test_http_errors_that_are_not_transient_are_not_retried(monkeypatch):
    scripted_pull(monkeypatch, [OllamaError("HTTP 400: invalid model name", status=400), done(1)])
    with pytest.raises(OllamaError, match="invalid model name"):
        OllamaClient("http://x").pull("m:latest", pull_timeout=60, retries=3, sleep=lambda s: None)
