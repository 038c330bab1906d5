"""Two inference hosts: each Open WebUI lists and reaches both Ollama servers over the private
addresses, a native Ollama included, while nothing listens on every address."""

import json

testinfra_hosts = ["ansible://inference"]
WEBUI = "http://127.0.0.1:3000"


def environment(host):
    return json.loads(host.check_output("docker inspect aistack-open-webui-1"))[0]["Config"]["Env"]


def webui_auth(host):
    body = json.dumps({"email": "admin@localhost", "password": "molecule-admin-password"})
    signin = f"curl -fsS {WEBUI}/api/v1/auths/signin -H 'Content-Type: application/json' -d '{body}'"
    return f"Authorization: Bearer {json.loads(host.check_output(signin))['token']}"


def private_address(host):
    """The address of the default route, as aistack_private_address defaults to it."""
    route = host.check_output("ip -4 -o route get 192.0.2.1").split()
    return route[route.index("src") + 1]


def ollama_urls(host):
    return next(item for item in environment(host) if item.startswith("OLLAMA_BASE_URLS=")).split("=", 1)[1].split(";")


def test_open_webui_balances_over_both_ollama_servers(host):
    urls = ollama_urls(host)
    assert len(urls) == 2
    address = private_address(host)
    other = urls[1]
    assert other.startswith("http://") and other.endswith(":11434") and address not in other
    # Through Open WebUI itself, as its admin: each server answers, the other with its models.
    auth = webui_auth(host)
    for index in range(len(urls)):
        assert json.loads(host.check_output(f"curl -fsS -H '{auth}' {WEBUI}/ollama/api/version/{index}"))["version"]
    tags = json.loads(host.check_output(f"curl -fsS -H '{auth}' {WEBUI}/ollama/api/tags/1"))
    assert "qwen2.5:0.5b" in [model["name"] for model in tags["models"]]


def test_nothing_listens_on_every_address(host):
    listeners = host.check_output("ss -Hltn").splitlines()
    wildcard = [line for line in listeners if line.split()[3].rsplit(":", 1)[0] in ("0.0.0.0", "*", "[::]")]
    assert wildcard == []
    address = private_address(host)
    assert any(line.split()[3] == f"{address}:11434" for line in listeners), listeners


def test_a_chat_through_open_webui_reaches_this_host_s_ollama(host):
    """On inference-2 that Ollama is native (systemd), on inference-1 a compose service."""
    native = host.run("systemctl is-active ollama").stdout.strip() == "active"
    own = ollama_urls(host)[0]
    assert own == ("http://" + private_address(host) + ":11434" if native else "http://ollama:11434")
    chat = json.dumps({"model": "qwen2.5:0.5b", "stream": False,
                       "messages": [{"role": "user", "content": "Say hello"}]})
    answer = json.loads(host.check_output(
        f"curl -fsS -H '{webui_auth(host)}' -H 'Content-Type: application/json' "
        f"{WEBUI}/ollama/api/chat/0 -d '{chat}'"
    ))
    assert answer["message"]["content"]
