"""Fixtures for tests against the Qdrant test double, run as a local process."""

import pathlib

import pytest
from qdrant_standin import API_KEY, READ_ONLY_KEY, QdrantProcess, shared


@pytest.fixture
def qdrant_factory(tmp_path):
    """Start stand-in servers; each is stopped at the end of the test."""
    started = []

    def start(config: str | None = None, env: dict | None = None, workdir: pathlib.Path | None = None):
        server = QdrantProcess(workdir or tmp_path / f"qdrant{len(started)}", config, env).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def qdrant(qdrant_factory):
    """A stand-in that requires API_KEY, configured through its production.yaml as the role does."""
    return qdrant_factory(config=f"service:\n  api_key: {API_KEY}\n  read_only_api_key: {READ_ONLY_KEY}\n")


@pytest.fixture
def run_target():
    return shared.run_target
