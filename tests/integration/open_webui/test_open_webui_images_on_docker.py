"""The three test images on one Docker network: Open WebUI finds Ollama and Qdrant by DNS name,
with its secrets in mounted files (none in the container's configuration)."""

import json
import pathlib
import subprocess
import time
import uuid

import pytest
from owui_processes import http

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
IMAGES = {name: f"aistack-test/{name}:test" for name in ("qdrant", "ollama", "open-webui")}
SECRETS = {"qdrant_api_key": "qdrant-key-in-a-file", "webui_secret_key": "webui-key-in-a-file",
           "webui_admin_password": "admin-password-in-a-file"}

pytestmark = pytest.mark.docker


def docker(*args: str, check: bool = True) -> str:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=300, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


@pytest.fixture(scope="module")
def images(docker_engine):
    # `make images` builds them; building here too keeps this test runnable alone (cached: seconds).
    for name, tag in IMAGES.items():
        docker("build", "-q", "-t", tag, str(REPO_ROOT / "tests" / "standins" / name))
    return IMAGES


@pytest.fixture
def network(images):
    name = f"owui-test-{uuid.uuid4().hex[:8]}"
    docker("network", "create", name)
    containers = []
    yield name, containers
    for container in containers:
        docker("rm", "-f", container, check=False)
    docker("network", "rm", name, check=False)


def wait_healthy(container: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        state = docker("inspect", "-f", "{{.State.Health.Status}}", container)
        if state == "healthy":
            return
        time.sleep(1)
    raise AssertionError(f"{container} is {state}:\n{docker('logs', '--tail', '30', container)}")


def test_open_webui_wired_by_dns_with_file_secrets(network, tmp_path):
    net, containers = network
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for name, value in SECRETS.items():
        (secrets / name).write_text(value + "\n")
        (secrets / name).chmod(0o644)  # read by root in the container; 0600 on a real host
    config = tmp_path / "qdrant.yaml"
    config.write_text(f"service:\n  api_key: {SECRETS['qdrant_api_key']}\n")

    def run(name, *args):
        container = f"{net}-{name}"
        docker("run", "-d", "--name", container, "--network", net, "--network-alias", name, *args)
        containers.append(container)
        return container

    run("qdrant", "-v", f"{config}:/qdrant/config/production.yaml:ro", IMAGES["qdrant"])
    run("ollama", IMAGES["ollama"])
    wrapper = ('export QDRANT_API_KEY="$(cat /run/secrets/qdrant_api_key)" '
               'WEBUI_ADMIN_PASSWORD="$(cat /run/secrets/webui_admin_password)"; exec bash start.sh')
    webui = run(
        "open-webui", "-p", "127.0.0.1::8080", "-v", f"{secrets}:/run/secrets:ro",
        "-e", "OLLAMA_BASE_URL=http://ollama:11434", "-e", "RAG_OLLAMA_BASE_URL=http://ollama:11434",
        "-e", "VECTOR_DB=qdrant", "-e", "QDRANT_URI=http://qdrant:6333",
        "-e", "WEBUI_SECRET_KEY_FILE=/run/secrets/webui_secret_key", "-e", "ENABLE_PERSISTENT_CONFIG=False",
        "-e", "ENABLE_SIGNUP=false", "-e", "WEBUI_ADMIN_EMAIL=admin@example.org",
        "--entrypoint", "bash", IMAGES["open-webui"], "-c", wrapper,
    )
    wait_healthy(webui)

    port = docker("port", webui, "8080/tcp").splitlines()[0].rsplit(":", 1)[1]
    status, body = http("GET", f"http://127.0.0.1:{port}/_standin/status")
    assert status == 200 and body["problems"] == []
    [endpoint] = body["ollama"]["endpoints"]
    assert endpoint["host"] == "ollama" and endpoint["reachable"] and endpoint["resolved"]
    assert body["qdrant"]["auth_ok"] and body["qdrant"]["uri"] == "http://qdrant:6333"
    assert body["secret_key"]["source"] == "file"
    signin = http("POST", f"http://127.0.0.1:{port}/api/v1/auths/signin",
                  {"email": "admin@example.org", "password": SECRETS["webui_admin_password"]})
    assert signin[0] == 200

    inspected = json.dumps(json.loads(docker("inspect", webui))[0]["Config"])
    for value in SECRETS.values():
        assert value not in inspected
