"""The native install: the release unpacked per version, a systemd unit, models pulled, and an
archive with the wrong checksum refused before it is installed."""

import json
import os
import re
import subprocess

testinfra_hosts = ["ansible://test_hosts"]


def test_service_runs_as_its_own_user_and_starts_at_boot(host):
    service = host.service("ollama")
    assert service.is_running and service.is_enabled
    pid = host.check_output("systemctl show -p MainPID --value ollama")
    assert host.check_output(f"ps -o user= -p {pid}") == "ollama"


def test_binary_points_at_the_versioned_release(host):
    link = host.file("/usr/local/bin/ollama")
    assert link.is_symlink and link.linked_to == "/opt/ollama/0.32.15/bin/ollama"


def test_api_on_loopback_with_the_declared_models(host):
    tags = json.loads(host.check_output("curl -fsS http://127.0.0.1:11434/api/tags"))
    assert "qwen2.5:0.5b" in {m["name"] for m in tags["models"]}
    assert host.file("/srv/aistack/models/ollama/models/manifests").is_directory
    assert host.file("/srv/aistack/models/ollama").user == "ollama"


def test_an_archive_with_another_checksum_is_refused(host):
    inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    converge = os.path.join(os.path.dirname(os.path.dirname(__file__)), "converge.yml")
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1"}
    proc = subprocess.run(
        ["ansible-playbook", "-i", inventory, converge, "-e", "ollama_native_checksum=sha256:" + "0" * 64],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "not installing it" in output, output[-2000:]
    assert sum(int(n) for n in re.findall(r"changed=(\d+)", output)) == 0, output[-2000:]
