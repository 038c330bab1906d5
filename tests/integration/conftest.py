"""Shared pieces of the integration tests.

An integration test runs a real module against a real server (the Docker engine, or a
stand-in of tests/standins for services that cannot be fetched here). The module side
is written community.docker style: a playbook under tests/integration/targets/<name>/
that goes check -> apply -> idempotent check -> idempotent apply -> change, asserting
each step. The pytest side starts the servers it needs and runs that playbook.
"""

import os
import pathlib
import socket
import subprocess
import sys

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
TARGETS = REPO_ROOT / "tests" / "integration" / "targets"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ansible_env(**extra: str) -> dict:
    """Environment for ansible commands run from the checkout (no collection install)."""
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / "collections"),
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_NOCOLOR="1",
        PATH=f"{pathlib.Path(sys.executable).parent}:{env.get('PATH', '')}",
    )
    env.update(extra)
    return env


def run_target(name: str, extra_vars: dict | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run tests/integration/targets/<name>/main.yml on localhost; fail with its output.

    The target must pass, and Ansible must print no warning: a warning is a bug too.
    """
    cmd = [
        str(pathlib.Path(sys.executable).parent / "ansible-playbook"),
        "-i", "localhost,", "-c", "local",
        str(TARGETS / name / "main.yml"),
    ]
    for key, value in (extra_vars or {}).items():
        cmd += ["-e", f"{key}={value}"]
    proc = subprocess.run(cmd, env=ansible_env(), capture_output=True, text=True, timeout=timeout, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"target {name} failed:\n{output}"
    assert "[WARNING]" not in output, f"target {name} printed a warning:\n{output}"
    return proc


@pytest.fixture(scope="session")
def docker_engine():
    """A Docker engine must answer: `make setup` starts one. Fail loudly, never skip."""
    proc = subprocess.run(["docker", "info"], capture_output=True, check=False)
    if proc.returncode != 0:
        pytest.fail("no Docker engine answers: run `make setup` first", pytrace=False)
