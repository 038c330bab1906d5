"""Start and steer the Ollama stand-in (tests/standins/ollama) as a process, for tests and benchmarks."""

from __future__ import annotations

import json
import pathlib
import socket
import subprocess
import sys
import time
import urllib.request

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
SERVER = REPO_ROOT / "tests" / "standins" / "ollama" / "server.py"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OllamaStandin:
    """One stand-in process on a free port, with its models under data_dir."""

    def __init__(self, data_dir: pathlib.Path, faults: dict | None = None, port: int | None = None,
                 verbose: bool = False):
        self.data_dir = data_dir
        self.log_path = data_dir.parent / f"{data_dir.name}-standin.log"
        self.verbose = verbose  # log every request (see request_log)
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.initial_faults = faults or {}
        self.process: subprocess.Popen | None = None

    def start(self) -> OllamaStandin:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        # A file, not a pipe: a verbose server would block once a pipe nobody reads is full.
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(SERVER), "--port", str(self.port), "--data-dir", str(self.data_dir),
                 "--faults", json.dumps(self.initial_faults), *(["--verbose"] if self.verbose else [])],
                stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"stand-in exited: {self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("stand-in did not answer within 15 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def request_log(self) -> list[str]:
        """Request lines ("GET /api/tags") the server logged so far; needs verbose=True."""
        lines = self.log_path.read_text().splitlines() if self.log_path.exists() else []
        return [line.split('"')[1].rsplit(" ", 1)[0] for line in lines if line.count('"') >= 2]

    # raw HTTP, with no client library in between ------------------------------------------
    def request(self, method: str, path: str, body=None, headers: dict | None = None) -> tuple[int, bytes]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def control(self, method: str, path: str, body=None):
        status, data = self.request(method, "/_standin/" + path, body)
        assert status == 200, f"stand-in control {path} failed: {status} {data!r}"
        return json.loads(data)

    def set_faults(self, **faults) -> dict:
        return self.control("PUT", "faults", faults)

    def publish(self, model: str) -> dict:
        return self.control("POST", "publish", {"model": model})

    def add_to_catalogue(self, model: str, **entry) -> dict:
        return self.control("PUT", "catalogue", {"model": model, **entry})

    def tags(self) -> dict[str, dict]:
        status, data = self.request("GET", "/api/tags")
        assert status == 200
        return {model["name"]: model for model in json.loads(data)["models"]}

    def pull(self, model: str) -> None:
        status, data = self.request("POST", "/api/pull", {"model": model, "stream": False})
        assert status == 200, data
