"""Fixtures for compose_profile: a fresh project directory and name, always torn down."""

import importlib.util
import subprocess
import uuid
from pathlib import Path

import pytest

TEST_IMAGE = "aistack-test/tiny-web:test"


def _shared_helpers():
    """tests/integration/conftest.py, loaded by path: this directory's conftest shadows its module name."""
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("integration_shared_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def run_target():
    """The shared run_target(name, extra_vars): runs a target playbook, fails on errors and warnings."""
    return _shared_helpers().run_target


@pytest.fixture(scope="session")
def tiny_web_image(docker_engine):
    """The prebuilt test image must be there: `make images` builds it; never built per test."""
    proc = subprocess.run(["docker", "image", "inspect", TEST_IMAGE], capture_output=True, check=False)
    if proc.returncode != 0:
        pytest.fail(f"{TEST_IMAGE} is missing: run `make images` first", pytrace=False)
    return TEST_IMAGE


@pytest.fixture
def compose_project(tmp_path, tiny_web_image):
    """(directory, unique project name); the project's containers, networks and volumes go away after."""
    name = f"cptest-{uuid.uuid4().hex[:10]}"
    project_dir = tmp_path / "project"
    project_dir.mkdir()
    yield project_dir, name
    subprocess.run(
        ["docker", "compose", "-p", name, "down", "--volumes", "--remove-orphans", "--timeout", "1"],
        capture_output=True,
        check=False,
    )
