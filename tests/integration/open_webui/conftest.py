"""Fixtures: the Open WebUI test double wired to Ollama and Qdrant test doubles (all processes)."""

import pytest
from owui_processes import QDRANT_KEY, QdrantProcess, http, ollama_process, open_webui_process


@pytest.fixture
def started():
    processes = []
    yield processes
    for process in reversed(processes):
        process.stop()


@pytest.fixture
def qdrant(tmp_path, started):
    server = QdrantProcess(tmp_path / "qdrant", f"service:\n  api_key: {QDRANT_KEY}\n").start()
    started.append(server)
    return server


@pytest.fixture
def ollama_factory(tmp_path, started):
    """Ollama stand-ins; `models` are pulled from its catalogue before the test uses it."""

    def start(name: str = "ollama", models=()):
        server = ollama_process(tmp_path / name).start()
        started.append(server)
        for model in models:
            status, body = http("POST", server.url + "/api/pull", {"model": model, "stream": False})
            assert status == 200, body
        return server

    return start


@pytest.fixture
def ollama(ollama_factory):
    return ollama_factory(models=("nomic-embed-text",))


@pytest.fixture
def webui_factory(tmp_path, started):
    """Open WebUI stand-ins over one data directory (a bind mount) and one app directory (the image)."""

    def start(env: dict, data_dir=None, app_dir=None, wait: bool = True):
        process = open_webui_process(data_dir or tmp_path / "webui-data", app_dir or tmp_path / "webui-app", env)
        (app_dir or tmp_path / "webui-app").mkdir(parents=True, exist_ok=True)
        process.start(wait=wait)
        started.append(process)
        return process

    return start


@pytest.fixture
def wiring(ollama, qdrant):
    """The environment a correct role gives Open WebUI (secrets as values here; files in the role)."""
    return {
        "OLLAMA_BASE_URL": ollama.url,
        "ENABLE_OLLAMA_API": "true",
        "VECTOR_DB": "qdrant",
        "QDRANT_URI": qdrant.url,
        "QDRANT_API_KEY": QDRANT_KEY,
        "WEBUI_SECRET_KEY": "stable-test-secret",
        "ENABLE_SIGNUP": "false",
        "WEBUI_ADMIN_EMAIL": "admin@example.org",
        "WEBUI_ADMIN_PASSWORD": "first-password",
        "CHUNK_SIZE": "1000",
        "CHUNK_OVERLAP": "200",
        "RAG_TOP_K": "5",
        "RAG_EMBEDDING_ENGINE": "ollama",
        "RAG_EMBEDDING_MODEL": "nomic-embed-text",
    }
