"""Converge again from the controller, as an operator would: a verbose run leaks no secret and
changes nothing, and bad input fails at validation, before any change, saying what is wrong."""

import os
import pathlib
import re
import subprocess

import pytest

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


def test_verbose_converge_changes_nothing_and_prints_no_secret(host):
    rc, output = converge("-v")
    assert rc == 0, output[-3000:]
    assert "[WARNING]" not in output, output[-3000:]
    assert changed_count(output) == 0, changed_tasks(output)
    for name in ("qdrant_api_key", "webui_secret_key", "webui_admin_password"):
        value = host.file(f"/etc/aistack/secrets/{name}").content_string.strip()
        assert value not in output, f"{name} appears in the output"


@pytest.mark.parametrize(
    ("extra_vars", "expected"),
    [
        ('{"ollama_models": ["llama3.2:"]}', r"invalid model name 'llama3\.2:'"),
        ('{"ollama_port": "eleven"}', r"ollama_port.*int"),
        ('{"open_webui_admin_password": ""}', r"open_webui_admin_password is required"),
        ('{"open_webui_admin_password": "' + "p" * 73 + '"}', r"open_webui_admin_password is 73 bytes long"),
        ('{"open_webui_secret_key": "abc"}', r"open_webui_secret_key is 3 characters long: 32 or more"),
    ],
    ids=["invalid model name", "wrong type", "missing required secret", "73-byte password", "short session key"],
)
def test_bad_input_fails_at_validation_and_changes_nothing(host, extra_vars, expected):
    rc, output = converge("-e", extra_vars)
    assert rc != 0
    assert re.search(expected, output), output[-3000:]
    assert changed_count(output) == 0, (changed_tasks(output), output[-2000:])


def test_a_run_limited_to_the_run_tags_changes_nothing(host):
    rc, output = converge("--tags", "qdrant_run,ollama_run,open_webui_run")
    assert rc == 0, output[-3000:]
    assert changed_count(output) == 0, (changed_tasks(output), output[-2000:])
    assert "Bring Open WebUI up and wait until it is healthy" in output


def test_a_wrong_qdrant_key_fails_at_the_functional_check(host):
    rc, output = converge("-e", '{"open_webui_qdrant_api_key": "not-the-key-of-this-qdrant"}')
    assert rc != 0
    assert re.search(r"Qdrant at http://qdrant:6333 refuses Open WebUI's API key \(HTTP 401\)", output), output[-3000:]
    # Open WebUI's own key file only: the local Qdrant keeps its key.
    assert "not-the-key" not in host.file("/etc/aistack/secrets/qdrant_api_key").content_string
    rc, output = converge()
    assert rc == 0, output[-3000:]
    assert not host.file("/etc/aistack/secrets/webui_qdrant_api_key").exists


def test_ollama_stopped_fails_at_the_functional_check(host):
    host.check_output("docker stop aistack-ollama-1")
    rc, output = converge("--tags", "open_webui_run")
    assert rc != 0
    assert re.search(r"Open WebUI cannot reach the Ollama at http://ollama:11434", output), output[-3000:]
    assert changed_count(output) == 0, (changed_tasks(output), output[-2000:])
    rc, output = converge()
    assert rc == 0, output[-3000:]
