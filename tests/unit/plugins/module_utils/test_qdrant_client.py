"""The Qdrant HTTP client of the modules: requests it builds, errors it reports."""

import io
import json
from urllib.error import HTTPError, URLError

import pytest
from ansible_collections.aistack.selfhosted.plugins.module_utils._qdrant import QdrantClient, QdrantError


class Recorder:
    """Stands in for ansible.module_utils.urls.open_url: records the call, answers or raises."""

    def __init__(self, answer=None, error=None):
        self.answer = answer
        self.error = error
        self.calls = []

    def __call__(self, url, **kwargs):
        self.calls.append((url, kwargs))
        if self.error:
            raise self.error
        return io.BytesIO(json.dumps(self.answer).encode())


def http_error(code, body):
    return HTTPError("http://q/collections/docs", code, "error", {}, io.BytesIO(body.encode()))


def test_request_carries_key_json_and_quoted_name():
    opener = Recorder({"result": True, "status": "ok", "time": 0.1})
    client = QdrantClient("http://q:6333/", api_key="secret", validate_certs=False, timeout=7, opener=opener)
    assert client.create_collection("my docs/1", {"vectors": {"size": 4, "distance": "Dot"}}) is True
    url, kwargs = opener.calls[0]
    assert url == "http://q:6333/collections/my%20docs%2F1"
    assert kwargs["method"] == "PUT"
    assert json.loads(kwargs["data"]) == {"vectors": {"size": 4, "distance": "Dot"}}
    assert kwargs["headers"]["api-key"] == "secret"
    assert kwargs["headers"]["Content-Type"] == "application/json"
    assert (kwargs["validate_certs"], kwargs["timeout"]) == (False, 7)


def test_no_key_no_body_no_such_headers():
    opener = Recorder({"result": {"collections": []}, "status": "ok", "time": 0})
    QdrantClient("http://q:6333", opener=opener).request("GET", "/collections")
    headers = opener.calls[0][1]["headers"]
    assert "api-key" not in headers and "Content-Type" not in headers


def test_missing_collection_is_none():
    body = '{"status": {"error": "Not found: Collection `docs` doesn\'t exist!"}, "time": 0}'
    client = QdrantClient("http://q:6333", opener=Recorder(error=http_error(404, body)))
    assert client.get_collection("docs") is None


def test_401_says_check_api_key_with_the_server_text():
    plain = "Must provide an API key or an Authorization bearer token"
    client = QdrantClient("http://q:6333", opener=Recorder(error=http_error(401, plain)))
    with pytest.raises(QdrantError) as exc:
        client.get_collection("docs")
    message = str(exc.value)
    assert "http://q:6333" in message and "collection 'docs'" in message
    assert plain in message and "check api_key" in message
    assert exc.value.status == 401


def test_envelope_error_text_is_reported():
    body = '{"status": {"error": "Wrong input: Collection `docs` already exists!"}, "time": 0}'
    client = QdrantClient("http://q:6333", opener=Recorder(error=http_error(409, body)))
    with pytest.raises(QdrantError, match="HTTP 409 Wrong input: Collection `docs` already exists!"):
        client.create_collection("docs", {})


def test_unreachable_server_is_named():
    client = QdrantClient("http://q:6333", opener=Recorder(error=URLError("Connection refused")))
    with pytest.raises(QdrantError, match="cannot reach Qdrant at http://q:6333 .*Connection refused"):
        client.get_collection("docs")


def test_an_answer_that_is_not_qdrant_fails_clearly():
    client = QdrantClient("http://q:6333", opener=lambda url, **kw: io.BytesIO(b"<html>proxy</html>"))
    with pytest.raises(QdrantError, match="not a Qdrant response"):
        client.request("GET", "/collections")
