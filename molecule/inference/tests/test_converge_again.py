"""Converge again from the controller, as an operator would: a verbose run leaks no secret and
changes nothing; what goes wrong (a port clash, a crash loop, a wrong key) fails before the
running services are touched, saying what is wrong. Bad input: test_bad_input.py."""

import os
import pathlib
import re
import subprocess

testinfra_hosts = ["ansible://inference"]

CONVERGE = pathlib.Path(__file__).resolve().parents[1] / "converge.yml"


def converge(*options):
    # Molecule's inventory is the directory of its inventory file (with group_vars beside it).
    inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    command = ["ansible-playbook", "-i", inventory, str(CONVERGE), *options]
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900, check=False)
    output = proc.stdout + proc.stderr
    assert re.search(r"^instance\s+: ok=[1-9]", output, re.MULTILINE), f"the run reached no host:\n{output[-3000:]}"
    return proc.returncode, output


def changed_count(output):
    return sum(int(n) for n in re.findall(r"changed=(\d+)", output))


def changed_tasks(output):
    """The names of the tasks that reported a change, for the assertion messages."""
    return re.findall(r"TASK \[([^\]]+)\][^\n]*\n(?:(?!TASK \[).*\n)*?changed: ", output)


APPLY = "TASK [aistack.selfhosted._compose : Bring the host's services up"


def container_id(host, service):
    return host.check_output(f"docker inspect --format '{{{{.Id}}}}' aistack-{service}-1")


def live_project(host):
    return host.check_output("cat /opt/aistack/compose.yml /opt/aistack/.env /opt/aistack/services/*/*.yml | sha256sum")


def test_verbose_converge_changes_nothing_applies_once_and_prints_no_secret(host):
    # With a misspelled variable: warned about once, naming the nearest known name, and ignored.
    rc, output = converge("-v", "-e", '{"ollama_modles": ["qwen2.5:0.5b"]}')
    assert rc == 0, output[-3000:]
    # Besides Ansible's own for site.yml's monitoring play (this inventory has no monitoring group).
    warnings = output.count("[WARNING]") - output.count("[WARNING]: Could not match supplied host pattern")
    assert warnings == 1, output[-3000:]
    assert "ollama_modles: is not a variable of any role (ollama_*): it is ignored; did you mean ollama_models?" in (
        " ".join(output.split())), output[-3000:]
    assert changed_count(output) == 0, changed_tasks(output)
    assert output.count(APPLY) == 1, "the project must be applied once per converge"
    for name in ("qdrant/api_key", "open-webui/secret_key", "open-webui/admin_password"):
        value = host.file(f"/etc/aistack/secrets/{name}").content_string.strip()
        assert value not in output, f"{name} appears in the output"


def test_a_run_limited_to_the_run_tags_changes_nothing(host):
    rc, output = converge("--tags", "qdrant_run,ollama_run,open_webui_run")
    assert rc == 0, output[-3000:]
    assert changed_count(output) == 0, (changed_tasks(output), output[-2000:])
    assert output.count(APPLY) == 1


def test_check_mode_on_the_converged_host_changes_nothing(host):
    rc, output = converge("--check")
    assert rc == 0, output[-3000:]
    assert changed_count(output) == 0, (changed_tasks(output), output[-2000:])


def test_a_service_taken_out_of_the_inventory_is_removed_and_its_data_kept(host):
    rc, output = converge("-e", '{"inference_services": ["qdrant", "ollama"]}')
    assert rc == 0, output[-3000:]
    assert host.run("docker inspect aistack-open-webui-1").rc != 0
    assert not host.file("/opt/aistack/services/open-webui").exists
    assert "open-webui" not in host.file("/opt/aistack/compose.yml").content_string
    assert host.file("/srv/aistack/data/open-webui/webui.db").is_file
    running = host.check_output("cd /opt/aistack && docker compose ps --services --status running").split()
    assert sorted(running) == ["ollama", "qdrant"]
    rc, output = converge()
    assert rc == 0, output[-3000:]
    assert host.file("/opt/aistack/services/open-webui/compose.yml").is_file


def test_a_bad_port_leaves_the_live_project_untouched(host):
    before, webui = live_project(host), container_id(host, "open-webui")
    rc, output = converge("-e", '{"open_webui_port": 70000}')
    assert rc != 0
    assert "open_webui_port: 70000 is not a port" in output, output[-3000:]
    # Nothing changed, so nothing to converge back.
    assert (live_project(host), container_id(host, "open-webui")) == (before, webui)


def test_a_port_clash_fails_before_the_running_service_is_removed(host):
    webui = container_id(host, "open-webui")
    project = live_project(host)
    host.run_expect([0], "(timeout 300 python3 -m http.server 3999 --bind 127.0.0.1 >/dev/null 2>&1 &) ; sleep 1")
    try:
        rc, output = converge("-e", '{"open_webui_port": 3999}')
        assert rc != 0
        flat = " ".join(output.split())  # the message as one line, however the callback wraps it
        assert re.search(r"service open-webui: port 127\.0\.0\.1:3999 \(open_webui_port\) is in use", flat), \
            output[-3000:]
        # Refused before any live file was replaced: the project on disk is still the one that runs.
        assert live_project(host) == project
        assert container_id(host, "open-webui") == webui
        assert host.check_output("docker inspect --format '{{.State.Status}}' aistack-open-webui-1") == "running"
    finally:
        host.run("pkill -f 'http.server 3999'")


def test_a_crash_looping_service_fails_the_converge_with_its_log(host):
    rc, output = converge("-e", '{"ollama_environment": {"OLLAMA_MODELS": "/proc/aistack-models"}}')
    assert rc != 0
    assert "ollama" in output and "/proc/aistack-models" in output, output[-3000:]
    rc, output = converge()
    assert rc == 0, output[-3000:]


def test_a_wrong_qdrant_key_fails_at_the_functional_check(host):
    rc, output = converge("-e", '{"open_webui_qdrant_api_key": "not-the-key-of-this-qdrant"}')
    assert rc != 0
    assert re.search(r"Qdrant at http://qdrant:6333 refuses Open WebUI's API key \(HTTP 401\)", output), output[-3000:]
    # Open WebUI's own key file only: the local Qdrant keeps its key.
    assert "not-the-key" not in host.file("/etc/aistack/secrets/qdrant/api_key").content_string
    assert "not-the-key" not in host.file("/etc/aistack/secrets/qdrant/config.yaml").content_string
    rc, output = converge()
    assert rc == 0, output[-3000:]
    assert not host.file("/etc/aistack/secrets/open-webui/qdrant_api_key").exists


def test_an_unreachable_ollama_fails_at_the_functional_check(host):
    # A second Ollama URL where nothing listens (port 9 inside Open WebUI's container).
    rc, output = converge("-e", '{"open_webui_ollama_base_urls": ["http://ollama:11434", "http://127.0.0.1:9"]}')
    assert rc != 0
    assert re.search(r"Open WebUI cannot reach the Ollama at http://127\.0\.0\.1:9", output), output[-3000:]
    rc, output = converge()
    assert rc == 0, output[-3000:]
