"""Bad input on a converged inference host: one row per case (the variables set, the variable the
message must name, the words it must hold). Every row is refused by the playbook's first play,
before any change: the run fails for that row, changes nothing, and the host's files, containers
and data directories are the same afterwards.

All rows run in one `ansible-playbook site.yml`: each row is an inventory alias of the converged
host, with the row's values as host variables (one run instead of forty keeps the scenario fast).
A row that got past the checks would go on to converge the host with its bad value, and fail the
"nothing changed" assertions below."""

import json
import os
import pathlib
import subprocess

import pytest
import yaml

testinfra_hosts = ["ansible://inference"]

SITE = pathlib.Path(__file__).resolve().parents[3] / "site.yml"
P73 = "p" * 73

# (variables set, the variable the message names, words the message holds)
ROWS = [
    # Accepted silently before (some with damage)
    ({"open_webui_admin_password": P73}, "open_webui_admin_password", ["73 bytes", "8 to 72 bytes"]),
    ({"open_webui_admin_password": ""}, "open_webui_admin_password", ["0 bytes"]),
    ({"open_webui_secret_key": "abc"}, "open_webui_secret_key", ["3 characters", "32"]),
    ({"open_webui_url": "chat"}, "open_webui_url", ["not a URL"]),
    ({"open_webui_url": "http://chat.example.org:99999"}, "open_webui_url", ["not a URL", "Port out of range"]),
    ({"open_webui_admin_email": "administrator"}, "open_webui_admin_email", ["not an e-mail address"]),
    ({"ollama_num_parallel": -1}, "ollama_num_parallel", ["out of range"]),
    ({"ollama_max_loaded_models": 5000}, "ollama_max_loaded_models", ["out of range", "1024"]),
    ({"ollama_gpu": "maybe"}, "ollama_gpu", ["'maybe' is not accepted"]),
    ({"open_webui_ollama_group": "no_such_group"}, "open_webui_ollama_group", ["not a group of the inventory"]),
    ({"aistack_data_dir": "/"}, "aistack_data_dir", ["root directory"]),
    ({"aistack_model_dir": "/home"}, "aistack_model_dir", ["system directory /home"]),
    ({"qdrant_snapshots_dir": "snapshots"}, "qdrant_snapshots_dir", ["not an absolute path"]),
    ({"ollama_keep_alive": "forever"}, "ollama_keep_alive", ["not a duration"]),
    ({"ollama_keep_alive": "10 min"}, "ollama_keep_alive", ["not a duration"]),
    # Refused only after other roles had run before
    ({"open_webui_port": 70000}, "open_webui_port", ["70000 is not a port", "1 to 65535"]),
    ({"ollama_port": "eleven"}, "ollama_port", ["int"]),
    ({"aistack_private_address": "192.0.2.300"}, "aistack_private_address", ["not an IP address"]),
    ({"aistack_bind_address": "0.0.0.0"}, "aistack_bind_address", ["no longer exists", "open_webui_exposure"]),
    ({"ollama_image": ""}, "ollama_image", ["image is empty"]),
    ({"open_webui_image": "ghcr.io/open-webui/open-webui:"}, "open_webui_image", ["not an image reference"]),
    ({"qdrant_image": "Qdrant/qdrant:v1.19.0"}, "qdrant_image", ["not an image reference"]),
    ({"ollama_models": [{"name": "qwen2.5:0.5b", "state": "gone"}]}, "ollama_models[0].state",
     ["'gone' is not accepted", "present, absent, latest"]),
    ({"ollama_models": ["qwen2.5:0.5b", "Qwen2.5:0.5B"]}, "ollama_models[1].name", ["listed twice"]),
    ({"ollama_models": ["llama3.2:"]}, "ollama_models[0].name", ["invalid model name"]),
    ({"qdrant_collections": [{"name": "documents", "vector_size": 0}]}, "qdrant_collections[0].vector_size",
     ["out of range"]),
    ({"qdrant_collections": [{"name": "documents", "vector_size": 4, "distance": "L2"}]},
     "qdrant_collections[0].distance", ["'L2' is not accepted", "Cosine"]),
    ({"qdrant_collections": [{"name": "my docs", "vector_size": 4}]}, "qdrant_collections[0].name",
     ["does not match"]),
    ({"open_webui_chunk_overlap": 1500}, "open_webui_chunk_overlap", ["not smaller than open_webui_chunk_size"]),
    ({"open_webui_rag_top_k": 0}, "open_webui_rag_top_k", ["out of range"]),
    ({"open_webui_port": 11434}, "open_webui_port", ["also the host port of ollama_port"]),
    ({"qdrant_exposure": "loopback", "qdrant_http_port": 3000}, "open_webui_port",
     ["also the host port of qdrant_http_port"]),
    # Relations and choices
    ({"ollama_kv_cache_type": "q4_0", "ollama_flash_attention": False}, "ollama_flash_attention",
     ["ollama_kv_cache_type is 'q4_0'"]),
    ({"ollama_install_method": "native"}, "ollama_native_checksum", ["sha256:<64"]),
    ({"ollama_exposure": "everyone"}, "ollama_exposure", ["loopback, private, public"]),
    ({"open_webui_exposure": "private", "aistack_private_address": ""}, "aistack_private_address",
     ["not an IP address"]),
    ({"aistack_project_name": "AI Stack"}, "aistack_project_name", ["does not match"]),
    ({"aistack_wait_timeout": -5}, "aistack_wait_timeout", ["out of range"]),
    ({"open_webui_ollama_base_urls": ["http://ollama:11434", "ollama:11434"]}, "open_webui_ollama_base_urls[1]",
     ["not a URL"]),
    ({"open_webui_qdrant_url": "grpc://qdrant:6334"}, "open_webui_qdrant_url", ["not a URL", "scheme"]),
    ({"open_webui_embedding_model": "nomic embed text"}, "open_webui_embedding_model", ["invalid model name"]),
    ({"ollama_pull_retries": 500}, "ollama_pull_retries", ["out of range"]),
    ({"ollama_environment": ["OLLAMA_DEBUG=1"]}, "ollama_environment", ["dict"]),
    ({"ollama_environment": {"OLLAMA_HOST": "0.0.0.0:11434"}}, "ollama_environment['OLLAMA_HOST']",
     ["ollama_exposure"]),
    ({"open_webui_environment": {"WEBUI_SECRET_KEY": "in-the-environment"}},
     "open_webui_environment['WEBUI_SECRET_KEY']", ["names no secret"]),
    ({"qdrant_api_key": "0123456789"}, "qdrant_api_key", ["the secret is 10 characters long"]),
    ({"docker_source": "snap"}, "docker_source", ["upstream, distro"]),
    ({"docker_users": ["Not A User"]}, "docker_users[0]", ["does not match"]),
    ({"inference_services": ["qdrant", "openwebui"]}, "inference_services", ["qdrant, ollama and open_webui"]),
]
# One inventory alias of the host per row; the test ids say what the row sets.
HOSTS = [f"row-{i:02d}" for i in range(1, len(ROWS) + 1)]
IDS = [f"{host}-{'+'.join(variables)}" for host, (variables, _name, _words) in zip(HOSTS, ROWS, strict=True)]


def host_state(host):
    """What a change would show: the project, secrets and Docker config files, the containers, the data directories."""
    files = host.check_output(
        "find /opt/aistack /etc/aistack /etc/docker -type f -print0 | sort -z | xargs -0 sha256sum")
    containers = host.check_output("docker ps -a --format '{{.Names}} {{.ID}} {{.Image}} {{.State}}' | sort")
    directories = host.check_output("find /srv/aistack -maxdepth 3 -type d | sort")
    return {"files": files, "containers": containers, "directories": directories}


@pytest.fixture(scope="module")
def bad_run(host, tmp_path_factory):
    """(the host's state before, after, the run's JSON report): every row in one run of site.yml."""
    molecule_inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    instance = json.loads(subprocess.run(
        ["ansible-inventory", "-i", molecule_inventory, "--host", "instance"],
        capture_output=True, text=True, check=True).stdout)
    # Each alias reaches the same container (the docker connection's container is ansible_host).
    connection = {"ansible_connection": instance["ansible_connection"],
                  "ansible_host": instance.get("ansible_host", "instance")}
    rows = {hostname: {**connection, **variables} for hostname, (variables, _n, _w) in zip(HOSTS, ROWS, strict=True)}
    inventory = tmp_path_factory.mktemp("bad-input") / "rows.yml"
    inventory.write_text(yaml.safe_dump({"inference": {"hosts": rows}}))

    before = host_state(host)
    env = {**os.environ, "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}
    proc = subprocess.run(
        ["ansible-playbook", "-i", molecule_inventory, "-i", str(inventory), "--limit", "row-*", "--forks", "10",
         str(SITE)], capture_output=True, text=True, env=env, timeout=900, check=False)
    assert proc.returncode != 0, proc.stdout[-3000:]
    # The JSON report, then whatever the enabled callbacks print after it (the timer's line).
    report, _end = json.JSONDecoder().raw_decode(proc.stdout, proc.stdout.index("{"))
    return before, host_state(host), report


def failure_message(report, hostname):
    for play in report["plays"]:
        for task in play["tasks"]:
            result = task["hosts"].get(hostname)
            if result and result.get("failed"):
                return task["task"]["name"], result.get("msg", "")
    return None, ""


@pytest.mark.parametrize(("variables", "name", "words"), ROWS, ids=IDS)
def test_bad_input_is_refused_before_any_change_naming_the_variable(host, bad_run, variables, name, words):
    before, after, report = bad_run
    hostname = HOSTS[ROWS.index((variables, name, words))]
    stats = report["stats"][hostname]
    task, message = failure_message(report, hostname)
    assert stats["failures"] == 1, f"{variables} was not refused: {stats}"
    assert stats["changed"] == 0, stats
    assert task is not None and task.startswith("Check "), f"refused by {task!r}, not by the first play's checks"
    lines = [line for line in message.splitlines() if line.lstrip("- ").startswith(name + ":")]
    assert lines, f"the message does not name {name}:\n{message}"
    for word in words:
        assert any(word in line for line in lines), f"{word!r} not in {lines}"
    assert after == before, "the host changed"


def test_no_row_reached_the_converge_play(bad_run):
    _before, _after, report = bad_run
    converge = [play for play in report["plays"] if play["play"]["name"] == "Converge the inference host"]
    assert all(not task["hosts"] for play in converge for task in play["tasks"])
