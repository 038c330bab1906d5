"""Fixtures for the Ollama tests: a fresh stand-in process per test, on a free port."""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from standin import OllamaStandin  # noqa: E402


@pytest.fixture
def ollama_standin(tmp_path):
    server = OllamaStandin(tmp_path / "models").start()
    yield server
    server.stop()
