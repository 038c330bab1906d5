"""Run the real Open WebUI image with the Ollama and Qdrant test doubles on one Docker network,
configured as roles/open_webui configures it: the same environment, and the secrets as mounted
files that the role's entrypoint line exports inside the container."""

import json
import pathlib
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
OPEN_WEBUI_IMAGE = "aistack-test/open-webui:0.12.4"
OLLAMA_IMAGE = "aistack-test/ollama:test"
QDRANT_IMAGE = "aistack-test/qdrant:test"
ADMIN_EMAIL = "admin@example.org"
SECRET_NAMES = ("webui_secret_key", "webui_admin_password", "qdrant_api_key")

# roles/open_webui/templates/compose.yml.j2: the entrypoint (compose's `$$` unescaped).
ENTRYPOINT = """umask 077
export WEBUI_SECRET_KEY="$(cat /run/secrets/webui_secret_key)"
export QDRANT_API_KEY="$(cat /run/secrets/qdrant_api_key)"
if ! python3 -c 'import sqlite3, sys; db = sqlite3.connect("file:/app/backend/data/webui.db?mode=ro", uri=True); \
sys.exit(db.execute("SELECT count(*) FROM user").fetchone()[0] == 0)' 2>/dev/null; then
  export WEBUI_ADMIN_PASSWORD="$(cat /run/secrets/webui_admin_password)"
fi
exec bash start.sh
"""


def role_environment(ollama_urls: list[str]) -> dict:
    """The environment the role writes with its defaults (signup off, OpenAI off, Qdrant, Ollama)."""
    return {
        "ENABLE_PERSISTENT_CONFIG": "False",
        "ENABLE_SIGNUP": "False",
        "WEBUI_AUTH": "True",
        "WEBUI_ADMIN_EMAIL": ADMIN_EMAIL,
        "WEBUI_ADMIN_NAME": "Admin",
        "ENABLE_VERSION_UPDATE_CHECK": "False",
        "ENABLE_OPENAI_API": "False",
        "ENABLE_OLLAMA_API": "True",
        "OLLAMA_BASE_URL": ollama_urls[0],
        "OLLAMA_BASE_URLS": ";".join(ollama_urls),
        "VECTOR_DB": "qdrant",
        "QDRANT_URI": "http://qdrant:6333",
        "QDRANT_PREFER_GRPC": "False",
        "CHUNK_SIZE": "1000",
        "CHUNK_OVERLAP": "200",
        "RAG_TOP_K": "5",
        "RAG_EMBEDDING_ENGINE": "ollama",
        "RAG_EMBEDDING_MODEL": "nomic-embed-text",
        "RAG_OLLAMA_BASE_URL": ollama_urls[0],
    }


def docker(*args: str, check: bool = True, timeout: float = 300) -> str:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args[:3])} ... failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


def http(method: str, url: str, body=None, token: str | None = None, timeout: float = 60) -> tuple:
    """(status, parsed JSON body or text) of one request."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode("utf-8", "replace")


class Stack:
    """A network with Qdrant and Ollama test doubles and the real Open WebUI, removed by close()."""

    def __init__(self, workdir: pathlib.Path):
        self.name = f"owui-it-{uuid.uuid4().hex[:8]}"
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.secret_dir = workdir / "secrets"
        self.containers: list[str] = []
        self.webui = f"{self.name}-webui"
        self.port = None
        self.start_seconds: list[float] = []

    # -- the services ----------------------------------------------------------------------------
    def create(self) -> "Stack":
        self.data_dir.mkdir(parents=True)
        self.secret_dir.mkdir(parents=True)
        for name in SECRET_NAMES:
            (self.secret_dir / name).write_text(secrets.token_urlsafe(24) + "\n")
        docker("network", "create", self.name)
        self.run("qdrant", "-e", f"QDRANT__SERVICE__API_KEY={self.secret('qdrant_api_key')}", QDRANT_IMAGE)
        return self

    def secret(self, name: str) -> str:
        return (self.secret_dir / name).read_text().strip()

    def run(self, alias: str, *args: str) -> str:
        container = f"{self.name}-{alias}"
        docker("run", "-d", "--name", container, "--network", self.name, "--network-alias", alias, *args)
        self.containers.append(container)
        return container

    def ollama(self, alias: str, models: tuple) -> str:
        """An Ollama test double reachable as http://<alias>:11434 with `models` pulled."""
        container = self.run(alias, OLLAMA_IMAGE)
        deadline = time.monotonic() + 60
        while not self._answers(container):
            if time.monotonic() > deadline:
                raise AssertionError(f"{container} did not answer:\n{docker('logs', '--tail', '20', container)}")
            time.sleep(0.5)
        for model in models:
            docker("exec", container, "curl", "-fsS", "http://127.0.0.1:11434/api/pull",
                   "-d", json.dumps({"model": model, "stream": False}))
        return f"http://{alias}:11434"

    @staticmethod
    def _answers(container: str) -> bool:
        proc = subprocess.run(["docker", "exec", container, "curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:11434/"],
                              capture_output=True, check=False)
        return proc.returncode == 0

    def start_webui(self, environment: dict, timeout: float = 600) -> None:
        """(Re)create the Open WebUI container over the same data directory and wait for /health."""
        docker("rm", "-f", self.webui, check=False)
        args = ["-p", "127.0.0.1::8080", "-v", f"{self.data_dir}:/app/backend/data"]
        for name in SECRET_NAMES:
            args += ["-v", f"{self.secret_dir / name}:/run/secrets/{name}:ro"]
        for key, value in environment.items():
            args += ["-e", f"{key}={value}"]
        started = time.monotonic()
        self.run("webui", *args, "--entrypoint", "bash", OPEN_WEBUI_IMAGE, "-c", ENTRYPOINT)
        self.wait_health(started, timeout)

    def restart_webui(self, timeout: float = 300) -> None:
        started = time.monotonic()
        docker("restart", self.webui)
        self.wait_health(started, timeout)

    def wait_health(self, started: float, timeout: float) -> None:
        while time.monotonic() - started < timeout:
            if docker("inspect", "-f", "{{.State.Running}}", self.webui) != "true":
                break
            # The host port is picked anew at every start, a restart included.
            self.port = docker("port", self.webui, "8080/tcp").splitlines()[0].rsplit(":", 1)[1]
            try:
                if http("GET", self.url + "/health", timeout=5)[0] == 200:
                    self.start_seconds.append(round(time.monotonic() - started, 1))
                    return
            except OSError:
                pass
            time.sleep(1)
        raise AssertionError(f"Open WebUI did not become healthy:\n{docker('logs', '--tail', '40', self.webui)}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- what a user does --------------------------------------------------------------------------
    def signin(self, password: str | None = None) -> tuple:
        return http("POST", self.url + "/api/v1/auths/signin",
                    {"email": ADMIN_EMAIL, "password": password or self.secret("webui_admin_password")})

    def token(self) -> str:
        status, body = self.signin()
        assert status == 200, body
        return body["token"]

    def close(self) -> None:
        for container in reversed(self.containers):
            docker("rm", "-f", "-v", container, check=False)
        docker("network", "rm", self.name, check=False)
        # The container wrote the data directory as root with umask 077: remove it from inside.
        if self.data_dir.exists():
            subprocess.run(["docker", "run", "--rm", "-v", f"{self.workdir}:/w", "--entrypoint", "rm",
                            OPEN_WEBUI_IMAGE, "-rf", "/w/data"], capture_output=True, check=False)
        shutil.rmtree(self.workdir, ignore_errors=True)
