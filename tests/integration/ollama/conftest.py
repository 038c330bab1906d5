"""Fixtures for the Ollama tests: a fresh stand-in process per test, on a free port."""

import importlib.util
import pathlib
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from standin import OllamaStandin  # noqa: E402


def _shared():
    """tests/integration/conftest.py under its own name (two modules called conftest would clash)."""
    spec = importlib.util.spec_from_file_location("ollama_integration_shared", HERE.parent / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


shared = _shared()


@pytest.fixture
def ollama_standin(tmp_path):
    server = OllamaStandin(tmp_path / "models").start()
    yield server
    server.stop()


@pytest.fixture
def run_target():
    return shared.run_target


@pytest.fixture
def free_port():
    return shared.free_port
