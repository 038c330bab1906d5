"""What a user checks on an inference host after `site.yml -l inference`, a `compose down`
and an image upgrade (side_effect.yml): everything healthy, private, wired, and nothing lost."""

import json

import pytest

testinfra_hosts = ["ansible://inference"]

SERVICES = {"qdrant": 6333, "ollama": 11434, "open-webui": 3000}
PUBLISHED = {"ollama": 11434, "open-webui": 3000}
SECRETS = ("qdrant/api_key", "qdrant/config.yaml", "open-webui/secret_key", "open-webui/admin_password")


def inspect(host, service):
    return json.loads(host.check_output(f"docker inspect aistack-{service}-1"))[0]


def get_json(host, url, *headers):
    options = " ".join(f"-H '{header}'" for header in headers)
    return json.loads(host.check_output(f"curl -fsS {options} {url}"))


def secret(host, name):
    return host.file(f"/etc/aistack/secrets/{name}").content_string.strip()


def qdrant_url(host):
    """Qdrant publishes nothing: the host reaches it on the project's internal network."""
    return f"http://{inspect(host, 'qdrant')['NetworkSettings']['Networks']['aistack_internal']['IPAddress']}:6333"


@pytest.mark.parametrize("service", SERVICES)
def test_service_healthy_and_published_on_loopback_only(host, service):
    info = inspect(host, service)
    assert info["State"]["Health"]["Status"] == "healthy"
    bindings = [b for ports in info["HostConfig"]["PortBindings"].values() for b in ports]
    expected = [{"HostIp": "127.0.0.1", "HostPort": str(PUBLISHED[service])}] if service in PUBLISHED else []
    assert bindings == expected


def test_qdrant_is_on_the_internal_network_only_and_open_webui_on_both(host):
    assert set(inspect(host, "qdrant")["NetworkSettings"]["Networks"]) == {"aistack_internal"}
    assert set(inspect(host, "open-webui")["NetworkSettings"]["Networks"]) == {"aistack", "aistack_internal"}
    assert set(inspect(host, "ollama")["NetworkSettings"]["Networks"]) == {"aistack"}


def test_compose_by_hand_in_the_project_directory_sees_the_running_services(host):
    listed = host.check_output("cd /opt/aistack && docker compose ps --services --status running").split()
    assert sorted(listed) == ["ollama", "open-webui", "qdrant"]
    assert "COMPOSE_PROFILES=ai,data" in host.file("/opt/aistack/.env").content_string


def test_project_is_one_compose_project_that_validates(host):
    assert host.run("docker compose --project-directory /opt/aistack config --quiet").rc == 0
    root = host.file("/opt/aistack/compose.yml").content_string
    for fragment in ("services/ollama/compose.yml", "services/qdrant/compose.yml", "services/open-webui/compose.yml"):
        assert fragment in root
    assert "ipv4_address" not in host.check_output("cat /opt/aistack/compose.yml /opt/aistack/services/*/compose.yml")


def test_a_host_without_gpu_gets_no_toolkit_and_no_gpu_reservation(host):
    # The playbook ran the nvidia_container_toolkit role: with no NVIDIA GPU it changed nothing.
    assert not host.file("/etc/apt/sources.list.d/nvidia-container-toolkit.sources").exists
    assert not host.package("nvidia-container-toolkit").is_installed
    daemon_json = host.file("/etc/docker/daemon.json")
    assert not daemon_json.exists or "nvidia" not in daemon_json.content_string
    config = json.loads(host.check_output("docker compose --project-directory /opt/aistack config --format json"))
    assert "deploy" not in config["services"]["ollama"]
    assert not inspect(host, "ollama")["HostConfig"].get("DeviceRequests")


def test_images_were_upgraded_in_place(host):
    # side_effect.yml recorded what ran after the tag change, before going back.
    upgraded = host.file("/root/images-after-upgrade.txt").content_string.split()
    assert len(upgraded) == len(SERVICES)
    assert all(image.endswith(":upgraded") for image in upgraded), upgraded


def test_state_lives_under_the_documented_host_paths(host):
    expected = {
        "qdrant": ("/qdrant/storage", "/srv/aistack/data/qdrant/storage"),
        "ollama": ("/root/.ollama", "/srv/aistack/models/ollama"),
        "open-webui": ("/app/backend/data", "/srv/aistack/data/open-webui"),
    }
    for service, (inside, outside) in expected.items():
        mounts = {m["Destination"]: m["Source"] for m in inspect(host, service)["Mounts"]}
        assert mounts[inside] == outside, service


def test_secret_files_are_private_and_absent_from_every_environment(host):
    assert host.file("/etc/aistack/secrets").mode == 0o700
    values = []
    for name in SECRETS:
        file = host.file(f"/etc/aistack/secrets/{name}")
        assert (file.mode, file.user) == (0o600, "root"), name
        if name != "qdrant/config.yaml":
            values.append(secret(host, name))
    for service in SERVICES:
        environment = "\n".join(inspect(host, service)["Config"]["Env"])
        assert not [v for v in values if v in environment], service
    assert "PASSWORD" not in host.file("/opt/aistack/.env").content_string.upper()


def test_declared_models_are_listed_and_survived(host):
    tags = get_json(host, "http://127.0.0.1:11434/api/tags")["models"]
    assert {"llama3.2:1b", "qwen2.5:0.5b", "nomic-embed-text:latest"} <= {m["name"] for m in tags}
    before = json.loads(host.file("/root/tags-before.json").content_string)["models"]
    assert {m["name"]: m["digest"] for m in before} == {m["name"]: m["digest"] for m in tags}


def test_chat_completion_returns_valid_json(host):
    chat = {"model": "llama3.2:1b", "messages": [{"role": "user", "content": "hi"}], "stream": False}
    native = json.loads(host.check_output(f"curl -fsS http://127.0.0.1:11434/api/chat -d '{json.dumps(chat)}'"))
    assert native["done"] is True and native["message"]["content"]
    openai = json.loads(
        host.check_output(f"curl -fsS http://127.0.0.1:11434/v1/chat/completions -d '{json.dumps(chat)}'")
    )
    assert openai["object"] == "chat.completion"
    assert openai["choices"][0]["message"]["content"]


WEBUI = "http://127.0.0.1:3000"


def webui_signin(host):
    body = json.dumps({"email": "admin@example.org", "password": "molecule-admin-password"})
    signin = f"curl -fsS {WEBUI}/api/v1/auths/signin -H 'Content-Type: application/json' -d '{body}'"
    return json.loads(host.check_output(signin))["token"]


def test_open_webui_lists_the_ollama_models(host):
    token = webui_signin(host)
    models = get_json(host, f"{WEBUI}/api/models", f"Authorization: Bearer {token}")["data"]
    assert {"llama3.2:1b", "qwen2.5:0.5b", "nomic-embed-text:latest"} <= {m["id"] for m in models}


def test_open_webui_signup_is_closed(host):
    body = json.dumps({"name": "Visitor", "email": "visitor@example.org", "password": "visitor-password"})
    status = host.check_output(
        f"curl -s -o /dev/null -w '%{{http_code}}' {WEBUI}/api/v1/auths/signup "
        f"-H 'Content-Type: application/json' -d '{body}'"
    )
    assert status == "403"


def test_open_webui_session_from_before_the_upgrade_is_still_valid(host):
    token = host.file("/root/webui-token-before.txt").content_string.strip()
    me = get_json(host, f"{WEBUI}/api/v1/auths/", f"Authorization: Bearer {token}")
    assert (me["email"], me["role"]) == ("admin@example.org", "admin")


def test_open_webui_calls_no_openai_and_keeps_its_data_private(host):
    environment = inspect(host, "open-webui")["Config"]["Env"]
    assert "ENABLE_OPENAI_API=False" in environment
    assert host.file("/srv/aistack/data/open-webui").mode == 0o700
    database = host.file("/srv/aistack/data/open-webui/webui.db")
    assert (database.mode, database.user) == (0o600, "root")


def test_open_webui_process_holds_no_admin_password(host):
    # The entrypoint exports it only while no user exists; the role then restarts without it.
    environ = host.check_output("docker exec aistack-open-webui-1 cat /proc/1/environ | tr '\\0' '\\n'")
    assert "WEBUI_ADMIN_PASSWORD=" not in environ
    assert "WEBUI_SECRET_KEY=" in environ


def test_qdrant_refuses_a_request_without_key(host):
    assert host.check_output(f"curl -s -o /dev/null -w '%{{http_code}}' {qdrant_url(host)}/collections") == "401"


def test_qdrant_collection_and_point_survived(host):
    key = secret(host, "qdrant/api_key")
    point = get_json(host, f"{qdrant_url(host)}/collections/documents/points/1", f"api-key: {key}")
    assert point["result"]["payload"] == {"text": "survives"}


def test_open_webui_admin_and_chat_survived(host):
    token = webui_signin(host)
    chats = get_json(host, f"{WEBUI}/api/v1/chats/", f"Authorization: Bearer {token}")
    assert "survives" in [c["title"] for c in chats]
