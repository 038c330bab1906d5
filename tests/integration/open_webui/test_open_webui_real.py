"""The real Open WebUI 0.12.4 (the PyPI package in aistack-test/open-webui:0.12.4), configured as
roles/open_webui configures it, against the Ollama and Qdrant test doubles.

The tests share one stack and run in this order: the later ones restart and recreate Open WebUI.
"""

import json
import subprocess
import sys

import pytest
from owui_docker import ADMIN_EMAIL, REPO_ROOT, SECRET_NAMES, docker, http

pytestmark = pytest.mark.docker
CHECK = REPO_ROOT / "tests" / "e2e" / "open_webui_check.py"


def model_ids(stack, token: str) -> list:
    status, body = http("GET", stack.url + "/api/models", token=token)
    assert status == 200, body
    return sorted(model["id"] for model in body["data"])


def admin_config(stack, token: str) -> dict:
    status, body = http("GET", stack.url + "/api/v1/auths/admin/config", token=token)
    assert status == 200, body
    return body


def signup(stack) -> int:
    return http("POST", stack.url + "/api/v1/auths/signup",
                {"name": "Intruder", "email": "intruder@example.org", "password": "Intruder-password-1"})[0]


def test_it_is_the_real_app(stack):
    assert http("GET", stack.url + "/health") == (200, {"status": True})
    assert http("GET", stack.url + "/api/version")[1]["version"] == "0.12.4"


def test_the_admin_signs_in_with_the_password_from_the_secret_file(stack):
    status, body = stack.signin()
    assert status == 200, body
    assert (body["email"], body["role"]) == (ADMIN_EMAIL, "admin") and body["token"]
    assert stack.signin("not-the-password")[0] == 400


def test_signup_is_closed(stack):
    assert signup(stack) == 403


def test_models_are_listed_from_ollama(stack):
    assert model_ids(stack, stack.token()) == ["llama3.2:1b", "nomic-embed-text:latest"]


def test_no_secret_in_the_container_configuration(stack):
    config = json.dumps(json.loads(docker("inspect", stack.webui))[0]["Config"])
    for name in SECRET_NAMES:
        assert stack.secret(name) not in config, name


def test_a_user_chats_and_asks_a_knowledge_base(stack):
    """open_webui_check.py: chat through Ollama, upload a document, RAG through Qdrant."""
    proc = subprocess.run(
        [sys.executable, str(CHECK), "--url", stack.url, "--email", ADMIN_EMAIL,
         "--password-file", str(stack.secret_dir / "webui_admin_password"), "--require-marker"],
        capture_output=True, text=True, timeout=600, check=False)
    report = json.loads(proc.stdout)
    failed = {name: step for name, step in report["steps"].items() if not step["ok"]}
    assert proc.returncode == 0 and not failed, json.dumps(failed, indent=2)
    rag = report["steps"]["rag_chat"]
    assert rag["marker_in_answer"] and rag["documents"] == ["aistack-e2e.md"]


def test_a_token_survives_a_restart(stack):
    token = stack.token()
    stack.restart_webui()
    status, body = http("GET", stack.url + "/api/v1/auths/", token=token)
    assert status == 200 and body["email"] == ADMIN_EMAIL, body


def test_the_environment_wins_over_a_setting_saved_in_the_ui_after_a_restart(stack):
    token = stack.token()
    config = admin_config(stack, token)
    assert config["ENABLE_SIGNUP"] is False
    status, body = http("POST", stack.url + "/api/v1/auths/admin/config", {**config, "ENABLE_SIGNUP": True},
                        token=token)
    assert status == 200 and body["ENABLE_SIGNUP"] is True, body
    stack.restart_webui()
    assert admin_config(stack, stack.token())["ENABLE_SIGNUP"] is False
    assert signup(stack) == 403


def test_a_recreated_container_keeps_users_and_sessions_and_takes_the_new_ollama_list(stack):
    """The inventory changed (another Ollama): a new container over the same data directory.

    The admin exists already, so the entrypoint no longer exports the password; the old
    password and an old token still work (same data, same key file)."""
    token = stack.token()
    stack.start_webui({**stack.environment, "OLLAMA_BASE_URLS": stack.second_ollama,
                       "OLLAMA_BASE_URL": stack.second_ollama})
    environ = docker("exec", stack.webui, "bash", "-c", "tr '\\0' '\\n' < /proc/1/environ")
    assert "WEBUI_ADMIN_PASSWORD=" not in environ
    assert http("GET", stack.url + "/api/v1/auths/", token=token)[0] == 200
    assert model_ids(stack, stack.token()) == ["nomic-embed-text:latest", "qwen2.5:0.5b"]
