"""How the Open WebUI test double reads its variables (pure functions, no server)."""

import sys

from owui_processes import STANDINS

sys.path.insert(0, str(STANDINS / "open-webui"))
from owui_settings import env_settings, ollama_base_urls, resolve_secret_key  # noqa: E402


def test_base_urls_split_on_semicolons_and_win_over_the_single_url():
    environ = {"OLLAMA_BASE_URL": "http://a:11434/", "OLLAMA_BASE_URLS": "http://b:11434; http://c:11434"}
    assert ollama_base_urls(environ) == ["http://b:11434", "http://c:11434"]
    assert ollama_base_urls({"OLLAMA_BASE_URL": "http://a:11434/"}) == ["http://a:11434"]


def test_image_default_means_host_docker_internal_in_prod_only():
    assert ollama_base_urls({"OLLAMA_BASE_URL": "/ollama", "ENV": "prod"}) == ["http://host.docker.internal:11434"]
    assert ollama_base_urls({"OLLAMA_BASE_URL": "/ollama"}) == ["/ollama"]


def test_rag_ollama_url_follows_the_single_url_not_the_list():
    settings = env_settings({"OLLAMA_BASE_URL": "http://a:11434", "OLLAMA_BASE_URLS": "http://b:11434"})
    assert settings["RAG_OLLAMA_BASE_URL"] == "http://a:11434"


def test_booleans_are_true_only_when_spelled_true():
    assert env_settings({"ENABLE_SIGNUP": "TRUE"})["ENABLE_SIGNUP"] is True
    assert env_settings({"ENABLE_SIGNUP": "yes"})["ENABLE_SIGNUP"] is False
    assert env_settings({})["ENABLE_SIGNUP"] is True  # open by default, as the real app
    assert env_settings({})["VECTOR_DB"] == "chroma"


def test_secret_key_order(tmp_path):
    assert resolve_secret_key({"WEBUI_SECRET_KEY": "k", "WEBUI_SECRET_KEY_FILE": "/nope"}, tmp_path)[:2] == ("k", "env")
    key_file = tmp_path / "key"
    key, source, path = resolve_secret_key({"WEBUI_SECRET_KEY_FILE": str(key_file)}, tmp_path)
    assert (source, path) == ("file-generated", str(key_file)) and key_file.read_text().strip() == key
    assert resolve_secret_key({"WEBUI_SECRET_KEY_FILE": str(key_file)}, tmp_path)[:2] == (key, "file")
    assert resolve_secret_key({}, tmp_path)[1:] == ("app-dir-file-generated", str(tmp_path / ".webui_secret_key"))
