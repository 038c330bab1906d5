"""Two inference hosts: each Open WebUI lists and reaches both Ollama servers."""

import json

testinfra_hosts = ["ansible://inference"]
WEBUI = "http://127.0.0.1:3000"


def test_open_webui_balances_over_both_ollama_servers(host):
    environment = json.loads(host.check_output("docker inspect aistack-open-webui-1"))[0]["Config"]["Env"]
    urls = next(item for item in environment if item.startswith("OLLAMA_BASE_URLS=")).split("=", 1)[1].split(";")
    assert len(urls) == 2
    assert "http://ollama:11434" in urls
    other = next(url for url in urls if url != "http://ollama:11434")
    assert other.startswith("http://") and other.endswith(":11434")

    # Through Open WebUI itself, as its admin: each server answers, the other with its models.
    body = json.dumps({"email": "admin@localhost", "password": "molecule-admin-password"})
    signin = f"curl -fsS {WEBUI}/api/v1/auths/signin -H 'Content-Type: application/json' -d '{body}'"
    auth = f"Authorization: Bearer {json.loads(host.check_output(signin))['token']}"
    for index in range(len(urls)):
        assert json.loads(host.check_output(f"curl -fsS -H '{auth}' {WEBUI}/ollama/api/version/{index}"))["version"]
    tags = json.loads(host.check_output(f"curl -fsS -H '{auth}' {WEBUI}/ollama/api/tags/{urls.index(other)}"))
    assert "qwen2.5:0.5b" in [model["name"] for model in tags["models"]]
