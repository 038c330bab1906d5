"""The Ollama stand-in speaks the API the official `ollama` Python client expects.

If these fail, the stand-in drifted from Ollama's contract (reference part A), and every module
test built on it would prove nothing.
"""

import hashlib
import http.client
import json
import threading

import ollama
import pytest


@pytest.fixture
def client(ollama_standin):
    return ollama.Client(host=ollama_standin.url)


def test_list_is_empty_on_a_new_server(client):
    assert client.list().models == []


def test_pull_then_list_shows_the_normalised_name_and_a_manifest_digest(client, ollama_standin):
    assert client.pull("llama3.2").status == "success"
    models = client.list().models
    assert [m.model for m in models] == ["llama3.2:latest"]
    manifest = ollama_standin.data_dir / "manifests/registry.ollama.ai/library/llama3.2/latest"
    assert models[0].digest == hashlib.sha256(manifest.read_bytes()).hexdigest()
    assert models[0].details.family == "llama"
    assert models[0].size > 0


def test_streamed_pull_reports_layers_then_success(client):
    statuses = [p.status for p in client.pull("all-minilm", stream=True)]
    assert statuses[0] == "pulling manifest"
    assert statuses[-3:] == ["verifying sha256 digest", "writing manifest", "success"]
    assert any(s.startswith("pulling ") and len(s) == len("pulling ") + 12 for s in statuses)


def test_pull_of_an_unknown_model_raises_the_registry_error(client):
    with pytest.raises(ollama.ResponseError) as error:
        client.pull("no-such-model")
    assert error.value.status_code == 500
    assert error.value.error == "pull model manifest: file does not exist"
    with pytest.raises(ollama.ResponseError) as streamed:
        list(client.pull("no-such-model", stream=True))
    assert streamed.value.status_code == -1  # an error line inside a 200 stream


def test_show_returns_details_model_info_and_capabilities(client):
    client.pull("llama3.2")
    shown = client.show("llama3.2")
    assert shown.details.family == "llama"
    assert shown.modelinfo["general.architecture"] == "llama"
    assert "completion" in shown.capabilities
    assert "FROM " in shown.modelfile
    with pytest.raises(ollama.ResponseError) as error:
        client.show("llama3.2:70b")
    assert error.value.status_code == 404


def test_delete_removes_the_model_and_unknown_is_404(client):
    client.pull("qwen2.5:0.5b")
    assert client.delete("qwen2.5:0.5b").status == "success"
    assert client.list().models == []
    with pytest.raises(ollama.ResponseError) as error:
        client.delete("qwen2.5:0.5b")
    assert error.value.status_code == 404
    assert error.value.error == "model 'qwen2.5:0.5b' not found"


def test_chat_answers_deterministically_streamed_or_not(client):
    client.pull("llama3.2")
    messages = [{"role": "user", "content": "why is the sky blue?"}]
    first = client.chat("llama3.2", messages=messages)
    second = client.chat("llama3.2", messages=messages)
    assert first.message.role == "assistant"
    assert first.message.content == second.message.content
    assert "why is the sky blue?" in first.message.content
    assert first.done
    streamed = "".join(part.message.content for part in client.chat("llama3.2", messages=messages, stream=True))
    assert streamed == first.message.content


def test_chat_with_json_format_returns_valid_json(client):
    client.pull("llama3.2")
    reply = client.chat("llama3.2", messages=[{"role": "user", "content": "hi"}], format="json")
    assert json.loads(reply.message.content)["model"] == "llama3.2"


def test_embed_ps_copy_generate(client):
    client.pull("all-minilm")
    vectors = client.embed("all-minilm", ["a", "b"]).embeddings
    assert len(vectors) == 2
    assert len(vectors[0]) == 384
    assert vectors[0] != vectors[1]
    assert [m.model for m in client.ps().models] == ["all-minilm:latest"]
    client.copy("all-minilm", "backup/minilm:v1")
    assert {m.model for m in client.list().models} == {"all-minilm:latest", "backup/minilm:v1"}
    client.pull("llama3.2")
    assert client.generate("llama3.2", "hello").response.endswith("You said: hello")


def test_models_survive_a_restart(client, ollama_standin):
    client.pull("llama3.2")
    before = client.list().models[0]
    ollama_standin.restart()
    after = ollama.Client(host=ollama_standin.url).list().models[0]
    assert (after.model, after.digest, after.size) == (before.model, before.digest, before.size)


def test_create_from_uploaded_blob_and_from_existing_model(client, tmp_path):
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF\x03\x00\x00\x00tiny")
    digest = client.create_blob(gguf)
    assert client.create("tiny", files={"tiny.gguf": digest}).status == "success"
    client.pull("llama3.2")
    assert client.create("pirate", from_="llama3.2", system="Talk like a pirate.").status == "success"
    assert {m.model for m in client.list().models} == {"tiny:latest", "pirate:latest", "llama3.2:latest"}
    assert client.show("pirate").details.parent_model == "llama3.2:latest"


def test_raw_http_shapes(ollama_standin):
    assert ollama_standin.request("GET", "/") == (200, b"Ollama is running")
    assert ollama_standin.request("GET", "/api/pull")[0] == 405
    assert ollama_standin.request("GET", "/api/nothing")[0] == 404
    assert ollama_standin.request("POST", "/api/pull") == (400, b'{"error": "missing request body"}')
    status, body = ollama_standin.request("POST", "/api/pull", {"model": "my.ns/model"})
    assert (status, json.loads(body)) == (400, {"error": "invalid model name"})
    status, body = ollama_standin.request("GET", "/api/tags")
    assert json.loads(body) == {"models": []}
    status, body = ollama_standin.request("POST", "/v1/chat/completions",
                                          {"model": "nope", "messages": [{"role": "user", "content": "x"}]})
    assert status == 404
    assert json.loads(body)["error"]["type"] == "not_found_error"


def test_openai_compatible_chat_and_models(ollama_standin):
    ollama_standin.pull("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M")
    status, body = ollama_standin.request("GET", "/v1/models")
    assert status == 200
    assert json.loads(body)["data"][0] == {
        "id": "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M", "object": "model",
        "created": json.loads(body)["data"][0]["created"], "owned_by": "bartowski"}
    status, body = ollama_standin.request("POST", "/v1/chat/completions", {
        "model": "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
        "messages": [{"role": "user", "content": "ping"}]})
    reply = json.loads(body)
    assert status == 200
    assert reply["object"] == "chat.completion"
    assert reply["choices"][0]["message"]["content"].endswith("You said: ping")
    assert reply["usage"]["total_tokens"] == reply["usage"]["prompt_tokens"] + reply["usage"]["completion_tokens"]


def test_proxy_api_key_switch(ollama_standin):
    ollama_standin.set_faults(api_key="s3cret")
    assert ollama_standin.request("GET", "/api/tags")[0] == 401
    assert ollama_standin.request("GET", "/api/tags", headers={"Authorization": "Bearer wrong"})[0] == 403
    assert ollama_standin.request("GET", "/api/tags", headers={"Authorization": "Bearer s3cret"})[0] == 200


def test_concurrent_pulls_of_one_model_all_succeed(ollama_standin):
    ollama_standin.add_to_catalogue("shared/model:big", size=32 << 20)
    statuses = []

    def pull():
        statuses.append(ollama_standin.request("POST", "/api/pull", {"model": "shared/model:big", "stream": False})[0])

    threads = [threading.Thread(target=pull) for _client in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200, 200, 200]
    assert list(ollama_standin.tags()) == ["shared/model:big"]


def test_a_cut_pull_resumes_from_its_partial_blob(ollama_standin):
    ollama_standin.set_faults(drop_pulls=1, drop_after_bytes=1 << 20, progress_interval=0)
    with pytest.raises(http.client.IncompleteRead):  # the stream started, then the connection was cut
        ollama_standin.request("POST", "/api/pull", {"model": "mistral"})
    partials = list((ollama_standin.data_dir / "blobs").glob("*-partial"))
    assert len(partials) == 1
    kept = partials[0].stat().st_size
    assert kept >= 1 << 20
    _status, body = ollama_standin.request("POST", "/api/pull", {"model": "mistral"})
    lines = [json.loads(line) for line in body.splitlines()]
    assert lines[1]["completed"] == kept  # reported from where it stopped
    assert lines[-1] == {"status": "success"}
    assert not list((ollama_standin.data_dir / "blobs").glob("*-partial"))


def test_error_replies_read_the_body_so_the_kept_alive_connection_stays_in_sync(ollama_standin):
    # A body that is itself a request: answered as the next request if the server left it unread.
    smuggled = b"DELETE /api/delete HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
    conn = http.client.HTTPConnection("127.0.0.1", ollama_standin.port, timeout=10)
    for method, path in (("POST", "/api/no-such-path"), ("PUT", "/api/tags")):
        conn.request(method, path, body=smuggled)
        response = conn.getresponse()
        response.read()
        assert response.status in (404, 405), (method, path)
    sock = conn.sock
    conn.request("GET", "/api/tags")
    response = conn.getresponse()
    assert (response.status, json.loads(response.read())) == (200, {"models": []})
    assert conn.sock is sock, "the server dropped the kept-alive connection"
    conn.close()
