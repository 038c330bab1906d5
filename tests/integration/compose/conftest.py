"""Fixtures for compose_profile: a fresh project directory and name, always torn down, once per Compose release.

The compose tests run once for every Compose plugin binary found: the one the docker CLI
runs (`default`) and every `<cache>/compose/<version>/docker-compose` (<cache>: scripts/lib.sh's CACHE_DIR,
~/.cache/aistack, which .cache links to), or exactly the ones
AISTACK_COMPOSE_PLUGINS lists (space-separated paths; `default` for the CLI's own). Without
AISTACK_COMPOSE_PLUGINS, scripts/setup-compose-plugins.sh runs first and installs the releases
it pins (Debian sid's 2.40.3) when they are missing, so `make integration`, `make test` and a
plain `pytest tests/integration/compose` all test both; it needs the Debian mirror once.

A release is put in front of the docker CLI the documented way: DOCKER_CONFIG names a
directory whose cli-plugins/docker-compose is that binary, which both `docker compose` and
the module (it runs the plugin the CLI would) then use.
"""

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import uuid
from pathlib import Path

import pytest

TEST_IMAGE = "aistack-test/tiny-web:test"
REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT = "default"
# Where scripts/lib.sh puts what the scripts install (CACHE_DIR); .cache in the checkout links there.
CACHE_DIR = Path(
    os.environ.get("AISTACK_CACHE_DIR")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "aistack"
)


def _shared_helpers():
    """tests/integration/conftest.py, loaded by path: this directory's conftest shadows its module name."""
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("integration_shared_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_INSTALLED = []


def _install_pinned_releases():
    """scripts/setup-compose-plugins.sh, once per session: a failure fails the tests, never skips them."""
    if _INSTALLED:
        return
    proc = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "setup-compose-plugins.sh")],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.fail(f"installing the pinned Compose releases failed:\n{proc.stdout}{proc.stderr}", pytrace=False)
    _INSTALLED.append(True)


def compose_plugins():
    """The Compose plugin binaries to test with: AISTACK_COMPOSE_PLUGINS, else the default and the cached ones."""
    listed = os.environ.get("AISTACK_COMPOSE_PLUGINS", "").split()
    if listed:
        return listed
    _install_pinned_releases()
    return [DEFAULT] + [str(p) for p in sorted((CACHE_DIR / "compose").glob("*/docker-compose"))]


def plugin_version(plugin):
    cmd = ["docker", "compose", "version", "--short"] if plugin == DEFAULT else [plugin, "version", "--short"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return proc.stdout.strip().split("-")[0] if proc.returncode == 0 else "missing"


def pytest_generate_tests(metafunc):
    if "compose_plugin" in metafunc.fixturenames:
        plugins = compose_plugins()
        ids = []
        for plugin in plugins:
            version = plugin_version(plugin)
            ids.append(f"compose-{version}" + ("-default" if plugin == DEFAULT else ""))
        metafunc.parametrize("compose_plugin", plugins, ids=ids, indirect=True, scope="session")


@pytest.fixture(scope="session")
def compose_plugin(request, tmp_path_factory, docker_engine):
    """{"version", "env"}: the environment (DOCKER_CONFIG or nothing) that makes `docker compose` this release."""
    plugin = request.param
    version = plugin_version(plugin)
    if version == "missing":
        pytest.fail(f"Compose plugin {plugin} does not run: run `make integration`, which installs it", pytrace=False)
    if plugin == DEFAULT:
        return {"version": version, "env": {}}
    config_dir = tmp_path_factory.mktemp(f"docker-config-{version}")
    (config_dir / "cli-plugins").mkdir()
    (config_dir / "cli-plugins" / "docker-compose").symlink_to(Path(plugin).resolve())
    # Keep the user's registry logins and settings; only the plugin differs.
    user_config = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"
    if user_config.is_file():
        shutil.copy(user_config, config_dir / "config.json")
    env = {"DOCKER_CONFIG": str(config_dir)}
    proc = subprocess.run(["docker", "compose", "version", "--format", "json"], capture_output=True, text=True,
                          env={**os.environ, **env}, check=False)
    assert proc.returncode == 0 and json.loads(proc.stdout)["version"].lstrip("v").startswith(version), proc
    return {"version": version, "env": env}


@pytest.fixture(scope="session")
def run_target():
    """The shared run_target(name, extra_vars): runs a target playbook, fails on errors and warnings."""
    return _shared_helpers().run_target


@pytest.fixture(scope="session")
def ansible_env():
    return _shared_helpers().ansible_env


@pytest.fixture(scope="session")
def tiny_web_image(docker_engine):
    """The prebuilt test image must be there: `make images` builds it; never built per test."""
    proc = subprocess.run(["docker", "image", "inspect", TEST_IMAGE], capture_output=True, check=False)
    if proc.returncode != 0:
        pytest.fail(f"{TEST_IMAGE} is missing: run `make images` first", pytrace=False)
    return TEST_IMAGE


@pytest.fixture
def compose_project(tmp_path, tiny_web_image, compose_plugin, monkeypatch):
    """(directory, unique project name); the project's containers, networks and volumes go away after.

    The environment selects the Compose release of `compose_plugin` for everything the test runs.
    """
    for key, value in compose_plugin["env"].items():
        monkeypatch.setenv(key, value)
    name = f"cptest-{uuid.uuid4().hex[:10]}"
    project_dir = tmp_path / "project"
    project_dir.mkdir()
    yield project_dir, name
    subprocess.run(
        ["docker", "compose", "-p", name, "down", "--volumes", "--remove-orphans", "--timeout", "1"],
        capture_output=True,
        check=False,
    )


@pytest.fixture
def held_port():
    """(busy, free): a loopback port another process listens on for the whole test, and one that nothing holds."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            free = probe.getsockname()[1]
        yield listener.getsockname()[1], free
