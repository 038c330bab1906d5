"""compose_project as Ansible runs it, with a fake docker CLI: a host port clash fails before any live file
changes (check mode too), and the root file defines each secret read once."""

import json
import os
import pathlib
import socket
import stat
import subprocess
import sys

import pytest
from ansible_collections.aistack.selfhosted.plugins.modules import compose_project

# The module imports its module_utils by FQCN: from the collections directory the tests run with.
COLLECTIONS = str(pathlib.Path(compose_project.__file__).parents[5])
# `compose ... config --quiet` accepts every candidate; `compose ... ps` prints $PS (the containers).
FAKE_DOCKER = """#!/bin/sh
for arg in "$@"; do
  case "$arg" in
    config) exit 0;;
    ps) cat "$PS"; exit 0;;
  esac
done
exit 2
"""


def declaration(name, host_port, *, secrets_read=()):
    return {"name": name, "profile": "ai", "stack": "inference", "fragment": True,
            "compose": f"services:\n  {name}:\n    image: img\n    profiles: [ai]\n",
            "ports": [{"name": "http", "host": host_port, "container": 8080, "variable": f"{name}_port",
                       "exposure": "loopback"}],
            "secrets_read": list(secrets_read)}


def running(service, host_port):
    publishers = [{"URL": "127.0.0.1", "TargetPort": 8080, "PublishedPort": host_port, "Protocol": "tcp"}]
    return json.dumps({"ID": "c1", "Service": service, "State": "running", "Labels": "", "Publishers": publishers})


@pytest.fixture
def project(tmp_path):
    fake = tmp_path / "docker"
    fake.write_text(FAKE_DOCKER)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    (tmp_path / "ps").write_text("")
    (tmp_path / "secrets").mkdir()
    return tmp_path


def run_module(tmp_path, declared, check_mode=False, docker_host=None):
    args = {"ANSIBLE_MODULE_ARGS": {
        "project_src": str(tmp_path / "live"), "project_name": "aistack", "network_name": "aistack",
        "secrets_dir": str(tmp_path / "secrets"), "declared": declared, "stack": "inference",
        "addresses": {"loopback": "127.0.0.1", "private": "", "public": "0.0.0.0"},
        "docker_cli": str(tmp_path / "docker"), "_ansible_check_mode": check_mode}}
    env = {key: value for key, value in os.environ.items() if key != "DOCKER_HOST"}
    if docker_host:
        env["DOCKER_HOST"] = docker_host
    proc = subprocess.run([sys.executable, compose_project.__file__], input=json.dumps(args), capture_output=True,
                          text=True, env={**env, "PS": str(tmp_path / "ps"), "PYTHONPATH": COLLECTIONS}, check=False)
    return json.loads(proc.stdout)


def live_files(tmp_path):
    live = tmp_path / "live"
    return {str(path.relative_to(live)): path.read_text() for path in sorted(live.rglob("*"))
            if path.is_file() and ".candidate" not in path.parts}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def listener():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check mode"])
def test_a_port_another_process_holds_fails_before_any_live_file_changes(project, listener, check_mode):
    first = run_module(project, {"web": declaration("web", free_port())})
    assert first["changed"] is True and "compose.yml" in first["files"]
    before = live_files(project)
    result = run_module(project, {"web": declaration("web", listener)}, check_mode=check_mode)
    assert result.get("failed") is True
    assert f"service web: port 127.0.0.1:{listener} (web_port) is in use by another process" in result["msg"]
    assert "set web_port to another port" in result["msg"] and "was not changed" in result["msg"]
    assert live_files(project) == before


def test_the_ports_of_a_remote_engine_are_not_probed_here(project, listener):
    (project / "ps").write_text("not json: ps must not run")
    result = run_module(project, {"web": declaration("web", listener)}, docker_host="tcp://192.0.2.1:2376")
    assert not result.get("failed"), result


def test_a_port_the_service_s_own_container_holds_is_no_clash(project, listener):
    # What docker-proxy holds for the running container of the service that keeps the port.
    (project / "ps").write_text(running("web", listener) + "\n")
    result = run_module(project, {"web": declaration("web", listener)})
    assert not result.get("failed"), result
    assert json.loads((project / "live" / "services" / "web" / "aistack.yml").read_text().split("\n", 2)[2])[
        "services"]["web"]["ports"] == [f"127.0.0.1:{listener}:8080"]


def test_a_port_another_service_s_container_still_holds_is_named(project, listener):
    (project / "ps").write_text(running("old", listener) + "\n")
    result = run_module(project, {"web": declaration("web", listener)})
    assert f"port 127.0.0.1:{listener} (web_port) is in use by this project's old container" in result["msg"]
    assert not (project / "live" / "compose.yml").exists()


def test_the_root_file_defines_a_secret_two_services_read_once(project):
    declared = {"web": declaration("web", free_port(), secrets_read=["qdrant/api_key", "web/key"]),
                "rag": declaration("rag", free_port(), secrets_read=["qdrant/api_key"])}
    result = run_module(project, declared)
    assert not result.get("failed"), result
    root = (project / "live" / "compose.yml").read_text()
    assert root.count("  qdrant_api_key:\n") == 1
    assert f'    file: "{project}/secrets/qdrant/api_key"' in root
    assert "  web_key:\n" in root
