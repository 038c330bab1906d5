"""Two inference hosts: each Open WebUI lists and reaches both Ollama servers."""

import json

testinfra_hosts = ["ansible://inference"]


def test_open_webui_balances_over_both_ollama_servers(host):
    environment = json.loads(host.check_output("docker inspect aistack-open-webui-1"))[0]["Config"]["Env"]
    urls = next(item for item in environment if item.startswith("OLLAMA_BASE_URLS=")).split("=", 1)[1].split(";")
    assert len(urls) == 2
    assert "http://ollama:11434" in urls
    other = next(url for url in urls if url != "http://ollama:11434")
    assert other.startswith("http://") and other.endswith(":11434")

    status = json.loads(host.check_output("curl -fsS http://127.0.0.1:3000/_standin/status"))
    assert status["problems"] == []
    endpoints = {e["url"]: e for e in status["ollama"]["endpoints"]}
    assert set(endpoints) == set(urls)
    assert all(e["reachable"] for e in endpoints.values())
    # The other host's Ollama answers with that host's models.
    assert "qwen2.5:0.5b" in endpoints[other]["models"]
