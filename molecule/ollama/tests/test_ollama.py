"""What a user checks after the ollama role: healthy, private, tuned, models pulled, chat answers."""

import json

testinfra_hosts = ["ansible://test_hosts"]

API = "http://127.0.0.1:11434"


def container(host):
    return json.loads(host.check_output("docker inspect aistack-ollama-1"))[0]


def test_service_is_healthy_on_loopback_only(host):
    info = container(host)
    assert info["State"]["Health"]["Status"] == "healthy"
    assert info["HostConfig"]["PortBindings"] == {"11434/tcp": [{"HostIp": "127.0.0.1", "HostPort": "11434"}]}


def test_tuning_variables_reach_the_server(host):
    environment = container(host)["Config"]["Env"]
    assert "OLLAMA_KEEP_ALIVE=10m" in environment
    assert "OLLAMA_NUM_PARALLEL=2" in environment
    # Unset knobs are left to Ollama's defaults, not written empty.
    assert not any(item.startswith("OLLAMA_KV_CACHE_TYPE=") for item in environment)


def test_no_gpu_reservation_on_a_host_without_gpu(host):
    assert not container(host)["HostConfig"].get("DeviceRequests")


def test_declared_models_are_installed(host):
    names = {m["name"] for m in json.loads(host.check_output(f"curl -fsS {API}/api/tags"))["models"]}
    assert {"llama3.2:1b", "nomic-embed-text:latest"} <= names


def test_models_live_on_the_host(host):
    mounts = {m["Destination"]: m["Source"] for m in container(host)["Mounts"]}
    assert mounts["/root/.ollama"] == "/srv/aistack/models/ollama"
    assert host.file("/srv/aistack/models/ollama/models/manifests/registry.ollama.ai/library/llama3.2/1b").is_file


def test_chat_returns_valid_json(host):
    body = json.dumps({"model": "llama3.2:1b", "messages": [{"role": "user", "content": "hi"}], "stream": False})
    answer = json.loads(host.check_output(f"curl -fsS {API}/api/chat -d '{body}'"))
    assert answer["done"] is True
    assert answer["message"]["role"] == "assistant"
    assert answer["message"]["content"]
