"""The Open WebUI test double: healthy only when wired right, and it remembers what the real app remembers."""

from owui_processes import QDRANT_KEY, http


def status_of(webui) -> dict:
    status, body = http("GET", webui.url + "/_standin/status")
    assert status == 200
    return body


def signin(webui, password="first-password"):
    return http("POST", webui.url + "/api/v1/auths/signin", {"email": "admin@example.org", "password": password})


def test_right_wiring_is_healthy_and_reported(webui_factory, wiring, ollama, qdrant):
    webui = webui_factory(wiring)
    assert http("GET", webui.url + "/health") == (200, {"status": True})
    status = status_of(webui)
    assert status["problems"] == [] and status["warnings"] == []
    [endpoint] = status["ollama"]["endpoints"]
    assert endpoint["url"] == ollama.url and endpoint["reachable"]
    assert "nomic-embed-text:latest" in endpoint["models"]
    assert status["qdrant"]["auth_ok"] and status["qdrant"]["api_key_set"]
    assert status["rag"] == {"chunk_size": 1000, "chunk_overlap": 200, "top_k": 5, "embedding_engine": "ollama",
                             "embedding_model": "nomic-embed-text", "ollama_url": ollama.url,
                             "embedding_model_available": True}
    assert status["secret_key"]["source"] == "env"
    assert status["signup_enabled"] is False
    assert status["admin"]["admins"] == ["admin@example.org"]
    # no secret value is ever reported
    text = str(status)
    assert QDRANT_KEY not in text and "stable-test-secret" not in text and "first-password" not in text


def test_wrong_qdrant_key_fails_health(webui_factory, wiring):
    webui = webui_factory({**wiring, "QDRANT_API_KEY": "wrong"})
    status, body = http("GET", webui.url + "/health")
    assert status == 503 and body["status"] is False
    assert any("Qdrant refused the API key (HTTP 401" in p for p in body["problems"])


def test_missing_qdrant_key_fails_health(webui_factory, wiring):
    webui = webui_factory({k: v for k, v in wiring.items() if k != "QDRANT_API_KEY"})
    assert http("GET", webui.url + "/health")[0] == 503
    assert status_of(webui)["qdrant"]["status_code"] == 401


def test_default_vector_db_fails_health(webui_factory, wiring):
    webui = webui_factory({k: v for k, v in wiring.items() if k != "VECTOR_DB"})
    status, body = http("GET", webui.url + "/health")
    assert status == 503 and any("VECTOR_DB is 'chroma'" in p for p in body["problems"])


def test_unresolvable_ollama_host_fails_health(webui_factory, wiring):
    webui = webui_factory({**wiring, "OLLAMA_BASE_URL": "http://ollama.invalid:11434"})
    status, body = http("GET", webui.url + "/health")
    assert status == 503
    assert any(p.startswith("Ollama at http://ollama.invalid:11434: cannot resolve") for p in body["problems"])


def test_image_default_ollama_url_is_not_a_wiring(webui_factory, wiring):
    # Unset OLLAMA_BASE_URL: the image's "/ollama" becomes host.docker.internal, which this host lacks.
    webui = webui_factory({**wiring, "ENV": "prod", "OLLAMA_BASE_URL": "/ollama"})
    assert http("GET", webui.url + "/health")[0] == 503
    assert status_of(webui)["ollama"]["base_urls"] == ["http://host.docker.internal:11434"]


def test_several_ollama_hosts_are_all_checked(webui_factory, wiring, ollama_factory, ollama):
    second = ollama_factory("ollama2")
    urls = f"{ollama.url};{second.url}"
    webui = webui_factory({**wiring, "OLLAMA_BASE_URLS": urls, "RAG_OLLAMA_BASE_URL": ollama.url})
    assert http("GET", webui.url + "/health")[0] == 200
    assert [e["url"] for e in status_of(webui)["ollama"]["endpoints"]] == [ollama.url, second.url]
    second.stop()
    status, body = http("GET", webui.url + "/health")
    assert status == 503 and any(p.startswith(f"Ollama at {second.url}") for p in body["problems"])


def test_several_hosts_without_a_rag_url_leave_embeddings_unwired(webui_factory, wiring, ollama):
    # OLLAMA_BASE_URLS alone: RAG_OLLAMA_BASE_URL falls back to OLLAMA_BASE_URL, here the image's
    # default ("/ollama" with ENV=prod, both set by the real Dockerfile).
    webui = webui_factory({**wiring, "ENV": "prod", "OLLAMA_BASE_URL": "/ollama", "OLLAMA_BASE_URLS": ollama.url})
    status, body = http("GET", webui.url + "/health")
    assert status == 503
    assert any("embedding Ollama" in p and "host.docker.internal" in p for p in body["problems"])


def test_embedding_model_missing_is_a_warning(webui_factory, wiring):
    webui = webui_factory({**wiring, "RAG_EMBEDDING_MODEL": "mxbai-embed-large"})
    status = status_of(webui)
    assert status["healthy"] and status["rag"]["embedding_model_available"] is False
    assert any("mxbai-embed-large" in w for w in status["warnings"])


def test_bad_rag_numbers_fail_health(webui_factory, wiring):
    webui = webui_factory({**wiring, "CHUNK_OVERLAP": "1000"})
    status, body = http("GET", webui.url + "/health")
    assert status == 503 and any("CHUNK_OVERLAP" in p for p in body["problems"])


def test_admin_is_created_once_and_signup_closes(webui_factory, wiring):
    webui = webui_factory(wiring)
    status, body = signin(webui)
    assert status == 200 and body["role"] == "admin" and body["token_type"] == "Bearer"
    assert signin(webui, "nope")[0] == 400
    denied = http("POST", webui.url + "/api/v1/auths/signup", {"email": "x@example.org", "password": "p", "name": "x"})
    assert denied[0] == 403
    assert http("GET", webui.url + "/api/config")[1]["features"]["enable_signup"] is False
    webui.stop()
    # A changed password in the environment does not change the existing admin, as in the real app.
    again = webui_factory({**wiring, "WEBUI_ADMIN_PASSWORD": "second-password"})
    assert signin(again)[0] == 200 and signin(again, "second-password")[0] == 400
    status = status_of(again)
    assert status["admin"]["users"] == 1 and status["admin"]["password_matches"] is False


def test_data_and_sessions_survive_recreation_with_the_same_key(webui_factory, wiring, tmp_path):
    webui = webui_factory(wiring)
    token = signin(webui)[1]["token"]
    assert http("POST", webui.url + "/_standin/chats", {"title": "hello"}, token)[0] == 200
    webui.stop()
    # A new "container" (new app dir), same data directory and the same supplied key.
    again = webui_factory(wiring, app_dir=tmp_path / "new-image")
    assert [c["title"] for c in http("GET", again.url + "/_standin/chats", token=token)[1]] == ["hello"]
    assert status_of(again)["secret_key"]["same_as_first_boot"] is True
    again.stop()
    rotated = webui_factory({**wiring, "WEBUI_SECRET_KEY": "another"}, app_dir=tmp_path / "newer-image")
    assert http("GET", rotated.url + "/api/v1/auths", token=token)[0] == 401
    assert status_of(rotated)["secret_key"]["same_as_first_boot"] is False


def test_unsupplied_key_is_generated_outside_the_data_dir(webui_factory, wiring, tmp_path):
    env = {k: v for k, v in wiring.items() if k != "WEBUI_SECRET_KEY"}
    webui = webui_factory(env)
    status = status_of(webui)
    assert status["secret_key"]["source"] == "app-dir-file-generated"
    assert any("a recreated container gets a new key" in w for w in status["warnings"])
    webui.stop()
    recreated = webui_factory(env, app_dir=tmp_path / "fresh-image")
    assert status_of(recreated)["secret_key"]["same_as_first_boot"] is False


def test_secret_key_file_is_read_and_kept(webui_factory, wiring, tmp_path):
    key_file = tmp_path / "secrets" / "webui_secret_key"
    key_file.parent.mkdir()
    key_file.write_text("from-a-file\n")
    env = {**{k: v for k, v in wiring.items() if k != "WEBUI_SECRET_KEY"}, "WEBUI_SECRET_KEY_FILE": str(key_file)}
    webui = webui_factory(env)
    assert status_of(webui)["secret_key"] == {"source": "file", "path": str(key_file), "same_as_first_boot": True}
    assert key_file.read_text() == "from-a-file\n"


def test_stored_config_wins_unless_persistent_config_is_off(webui_factory, wiring):
    webui = webui_factory(wiring)
    assert status_of(webui)["config"]["CHUNK_SIZE"] == {"value": 1000, "source": "database"}
    webui.stop()
    changed = {**wiring, "CHUNK_SIZE": "500"}
    stale = webui_factory(changed)
    assert status_of(stale)["config"]["CHUNK_SIZE"] == {"value": 1000, "source": "database"}
    stale.stop()
    fresh = webui_factory({**changed, "ENABLE_PERSISTENT_CONFIG": "False"})
    assert status_of(fresh)["config"]["CHUNK_SIZE"] == {"value": 500, "source": "env"}


def test_signup_reopens_when_persistent_config_is_off_and_env_leaves_it_on(webui_factory, wiring):
    # The admin's creation closes signup in the database only; with persistent config off the
    # environment decides, so a role must set ENABLE_SIGNUP=false itself.
    webui_factory({**wiring, "ENABLE_PERSISTENT_CONFIG": "False"}).stop()
    env = {k: v for k, v in wiring.items() if k != "ENABLE_SIGNUP"}
    again = webui_factory({**env, "ENABLE_PERSISTENT_CONFIG": "False"})
    assert status_of(again)["signup_enabled"] is True


def test_admin_saved_settings_win_over_the_environment(webui_factory, wiring, ollama_factory):
    webui = webui_factory({**wiring, "ENABLE_PERSISTENT_CONFIG": "True"})
    token = signin(webui)[1]["token"]
    other = ollama_factory("ollama-other")
    status, saved = http("POST", webui.url + "/_standin/config", {"OLLAMA_BASE_URLS": [other.url]}, token)
    assert status == 200 and saved["OLLAMA_BASE_URLS"]["value"] == [other.url]
    webui.stop()
    again = webui_factory(wiring)
    assert status_of(again)["ollama"]["base_urls"] == [other.url]  # the inventory lost: the top complaint
