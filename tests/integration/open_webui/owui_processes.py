"""Start the Open WebUI, Ollama and Qdrant test doubles as local processes for these tests."""

import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import urllib.error
import urllib.request

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
STANDINS = REPO_ROOT / "tests" / "standins"


def _load(name: str, path: pathlib.Path):
    """Load a helper by path: every test directory has its own conftest, so plain imports are ambiguous."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


qdrant_helpers = _load("owui_qdrant_standin", REPO_ROOT / "tests" / "integration" / "qdrant" / "qdrant_standin.py")
free_port = qdrant_helpers.shared.free_port
wait_http_ok = qdrant_helpers.wait_http_ok
QdrantProcess = qdrant_helpers.QdrantProcess
QDRANT_KEY = qdrant_helpers.API_KEY


def http(method: str, url: str, body=None, token: str | None = None) -> tuple:
    """(status, parsed JSON body) of one request."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


class Process:
    """A stand-in server process on a free port."""

    def __init__(self, name: str, argv: list, health_path: str, *, env: dict | None = None, cwd=None, unset=()):
        self.name = name
        self.unset = set(unset)
        self.port = free_port()
        self.argv = [a.replace("{port}", str(self.port)) for a in argv]
        self.health_path = health_path
        self.env = env or {}
        self.cwd = cwd
        self.proc = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> "Process":
        environ = {k: v for k, v in os.environ.items() if k not in self.unset}
        self.proc = subprocess.Popen([sys.executable, *self.argv], env={**environ, **self.env}, cwd=self.cwd,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if wait:
            wait_http_ok(self.url + self.health_path, self.proc, self.name)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def ollama_process(data_dir: pathlib.Path) -> Process:
    return Process("ollama stand-in", [str(STANDINS / "ollama" / "server.py"), "--port", "{port}",
                                       "--data-dir", str(data_dir)], "/")


def open_webui_process(data_dir: pathlib.Path, app_dir: pathlib.Path, env: dict) -> Process:
    """The stand-in with exactly `env` for its Open WebUI variables (inherited ones are dropped)."""
    prefixes = ("OLLAMA_", "QDRANT_", "WEBUI_", "RAG_", "CHUNK_", "ENABLE_", "VECTOR_DB", "RESET_CONFIG", "DATA_DIR",
                "PORT", "HOST", "ENV")
    inherited = [k for k in os.environ if k.startswith(prefixes)]
    return Process("open-webui stand-in", [str(STANDINS / "open-webui" / "server.py"), "--port", "{port}",
                                           "--host", "127.0.0.1", "--data-dir", str(data_dir),
                                           "--app-dir", str(app_dir)],
                   "/health/db", env=env, unset=inherited)
