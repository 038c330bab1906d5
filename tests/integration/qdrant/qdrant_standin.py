"""Start the Qdrant test double as a local process (used by the qdrant and open_webui tests)."""

import contextlib
import importlib.util
import os
import pathlib
import subprocess
import sys
import time
import urllib.request

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
SERVER = REPO_ROOT / "tests" / "standins" / "qdrant" / "server.py"
API_KEY = "test-key-for-the-standin"
READ_ONLY_KEY = "read-only-test-key"


def load_shared():
    """tests/integration/conftest.py, loaded under its own name: `import conftest` is ambiguous
    when every test directory has a conftest.py."""
    spec = importlib.util.spec_from_file_location("integration_shared",
                                                  REPO_ROOT / "tests" / "integration" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


shared = load_shared()


def wait_http_ok(url: str, proc: subprocess.Popen, name: str, timeout: float = 15) -> None:
    """Wait until url answers 200; fail with the process output if it exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited: {proc.stdout.read()}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as response:
            if response.status == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{name} did not answer {url} within {timeout} s")


class QdrantProcess:
    """One stand-in server on a free port with its own working directory (the image's /qdrant)."""

    def __init__(self, workdir: pathlib.Path, config: str | None = None, env: dict | None = None):
        self.workdir = workdir
        self.env = env or {}
        if config is not None:
            (workdir / "config").mkdir(parents=True, exist_ok=True)
            (workdir / "config" / "production.yaml").write_text(config)
        self.proc = None
        self.port = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "QdrantProcess":
        self.port = shared.free_port()
        env = {**os.environ, "RUN_MODE": "production", **self.env}
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVER), "--data-dir", str(self.workdir), "--port", str(self.port),
             "--host", "127.0.0.1"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        wait_http_ok(f"{self.url}/healthz", self.proc, "qdrant stand-in")
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
