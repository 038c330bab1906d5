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


def test_verbose_converge_changes_nothing_and_prints_no_secret(host):
    rc, output = converge("-v")
    assert rc == 0, output[-3000:]
    assert "[WARNING]" not in output, output[-3000:]
    assert changed_count(output) == 0, output[-3000:]
    for name in ("qdrant_api_key", "webui_secret_key", "webui_admin_password"):
        value = host.file(f"/etc/aistack/secrets/{name}").content_string.strip()
        assert value not in output, f"{name} appears in the output"


@pytest.mark.parametrize(
    ("extra_vars", "expected"),
    [
        ('{"ollama_models": ["llama3.2:"]}', r"invalid model name 'llama3\.2:'"),
        ('{"ollama_port": "eleven"}', r"ollama_port.*int"),
        ('{"open_webui_admin_password": ""}', r"open_webui_admin_password is required"),
    ],
    ids=["invalid model name", "wrong type", "missing required secret"],
)
def test_bad_input_fails_at_validation_and_changes_nothing(host, extra_vars, expected):
    rc, output = converge("-e", extra_vars)
    assert rc != 0
    assert re.search(expected, output), output[-3000:]
    assert changed_count(output) == 0, output[-3000:]


def test_a_run_limited_to_the_run_tags_changes_nothing(host):
    rc, output = converge("--tags", "qdrant_run,ollama_run,open_webui_run")
    assert rc == 0, output[-3000:]
    assert changed_count(output) == 0, output[-3000:]
    assert "Bring Open WebUI up and wait until it is healthy" in output
