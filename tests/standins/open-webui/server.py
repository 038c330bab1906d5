"""Open WebUI test double: answers /health only when it is wired right. Standard library only.

NOT Open WebUI. It reads the variables and files the real image reads (see README.md), calls every
Ollama base URL and Qdrant with the key it was given, keeps users, chats and persistent config in
its data directory, and reports what it found on /_standin/status, so that a wiring mistake in a
role fails a test instead of passing silently.

    python3 server.py --port 8080 --data-dir DIR      # DIR plays /app/backend/data
"""

import argparse
import base64
import contextlib
import hashlib
import hmac
import json
import os
import pathlib
import signal
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from owui_db import Database, password_hash  # noqa: E402
from owui_probe import model_listed, probe_ollama, probe_qdrant  # noqa: E402
from owui_settings import PERSISTENT, env_settings, resolve_secret_key  # noqa: E402

# Modelled on open_webui/constants.py ERROR_MESSAGES (texts approximate; the status codes are what matters).
INVALID_CRED = "The email or password provided is incorrect. Please check for typos and try logging in again."
ACCESS_PROHIBITED = ("You do not have permission to access this resource. Please contact your administrator "
                     "for assistance.")
INVALID_TOKEN = "Your session has expired or the token is invalid. Please sign in again."


class App:
    """State of one stand-in process: settings, database, and the checks behind /health."""

    def __init__(self, environ, data_dir: pathlib.Path, app_dir: pathlib.Path):
        self.env = env_settings(environ)
        self.data_dir = data_dir
        self.db = Database(str(data_dir))
        self.secret_key, self.secret_source, self.secret_path = resolve_secret_key(environ, app_dir)
        self.runtime: dict = {}  # values set during this run, as app.state.config assignments do
        self.lock = threading.Lock()
        self._boot()

    def _boot(self) -> None:
        data = self.db.data
        first_boot = data.get("boots", 0) == 0
        if self.env["RESET_CONFIG_ON_START"]:
            data["config"] = {}
        email, password = self.env["WEBUI_ADMIN_EMAIL"], self.env["WEBUI_ADMIN_PASSWORD"]
        if email and password and not data["users"]:
            # main.py lifespan: create the admin when no user exists, then close signup (saved to the DB).
            self.db.add_user(email, password, self.env["WEBUI_ADMIN_NAME"], "admin")
            self.db.store_config({"ui.enable_signup": False})
            self.runtime["ENABLE_SIGNUP"] = False
        if first_boot:
            # Stand-in choice, the worst case of the real app: every persistent setting is in the
            # database from the first boot on (the real one stores each when an admin saves it).
            stored = self.db.stored_config()
            self.db.store_config({path: self.env[name] for name, (path, _read) in PERSISTENT.items()
                                  if path not in stored})
        fingerprint = hashlib.sha256(self.secret_key.encode()).hexdigest()[:16]
        data.setdefault("secret_key_fingerprint", fingerprint)
        self.secret_same_as_first_boot = data["secret_key_fingerprint"] == fingerprint
        data["boots"] = data.get("boots", 0) + 1
        self.db.save()

    # -- configuration ----------------------------------------------------------------------
    def config(self) -> dict:
        """{ENV_NAME: (value, source)} for the persistent settings, as PersistentConfig resolves them."""
        stored = self.db.stored_config()
        result = {}
        for name, (path, _read) in PERSISTENT.items():
            if name in self.runtime:
                result[name] = (self.runtime[name], "runtime")
            elif self.env["ENABLE_PERSISTENT_CONFIG"] and path in stored:
                result[name] = (stored[path], "database")
            else:
                result[name] = (self.env[name], "env")
        return result

    def save_settings(self, values: dict) -> None:
        """An admin saving settings in the UI: stored, and in effect at once."""
        unknown = sorted(set(values) - set(PERSISTENT))
        if unknown:
            raise ValueError(f"not persistent settings of the stand-in: {unknown}")
        self.db.store_config({PERSISTENT[name][0]: value for name, value in values.items()})
        self.runtime.update(values)

    # -- tokens -----------------------------------------------------------------------------
    def token_for(self, user: dict) -> str:
        payload = base64.urlsafe_b64encode(json.dumps({"id": user["id"]}).encode()).decode().rstrip("=")
        signature = hmac.new(self.secret_key.encode(), payload.encode(), hashlib.sha256).hexdigest()
        return f"{payload}.{signature}"

    def user_for(self, token: str):
        payload, _dot, signature = token.partition(".")
        expected = hmac.new(self.secret_key.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature, expected):
            return None
        try:
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except ValueError:
            return None
        return self.db.user_by_id(claims.get("id"))

    # -- checks -----------------------------------------------------------------------------
    def status(self) -> dict:
        config = self.config()
        value = {name: pair[0] for name, pair in config.items()}
        problems, warnings = [], []

        if self.secret_source.startswith("app-dir-file"):
            warnings.append(f"WEBUI_SECRET_KEY not supplied: using {self.secret_path}, outside the data directory; "
                            "a recreated container gets a new key and every session ends")
        if not self.secret_same_as_first_boot:
            warnings.append("WEBUI_SECRET_KEY differs from the first boot's: earlier sessions are invalid")

        endpoints = []
        if value["ENABLE_OLLAMA_API"]:
            urls = [u for u in value["OLLAMA_BASE_URLS"] if u]
            if not urls:
                problems.append("ENABLE_OLLAMA_API is on but no Ollama base URL is set")
            for url in urls:
                endpoint = probe_ollama(url)
                endpoints.append(endpoint)
                if not endpoint["reachable"]:
                    problems.append(f"Ollama at {url}: {endpoint['error']}")

        if self.env["VECTOR_DB"] != "qdrant":
            problems.append(f"VECTOR_DB is {self.env['VECTOR_DB']!r}: this stand-in checks a Qdrant wiring only "
                            "(the real app would silently use its embedded Chroma)")
        qdrant = probe_qdrant(self.env["QDRANT_URI"], self.env["QDRANT_API_KEY"])
        qdrant.update(vector_db=self.env["VECTOR_DB"], prefer_grpc=self.env["QDRANT_PREFER_GRPC"])
        if not qdrant["auth_ok"]:
            problems.append(f"Qdrant: {qdrant['error']}")
        if self.env["QDRANT_PREFER_GRPC"]:
            problems.append("QDRANT_PREFER_GRPC is on: the Qdrant test double has no gRPC port")

        rag = {"chunk_size": value["CHUNK_SIZE"], "chunk_overlap": value["CHUNK_OVERLAP"], "top_k": value["RAG_TOP_K"],
               "embedding_engine": value["RAG_EMBEDDING_ENGINE"], "embedding_model": value["RAG_EMBEDDING_MODEL"],
               "ollama_url": value["RAG_OLLAMA_BASE_URL"], "embedding_model_available": None}
        size, overlap, top_k = rag["chunk_size"], rag["chunk_overlap"], rag["top_k"]
        if not isinstance(size, int) or size < 1:
            problems.append(f"CHUNK_SIZE must be a positive integer, got {size!r}")
        if not isinstance(overlap, int) or overlap < 0 or (isinstance(size, int) and overlap >= size):
            problems.append(f"CHUNK_OVERLAP must be an integer from 0 to CHUNK_SIZE - 1, got {overlap!r}")
        if not isinstance(top_k, int) or top_k < 1:
            problems.append(f"RAG_TOP_K must be a positive integer, got {top_k!r}")
        if rag["embedding_engine"] == "ollama":
            known = next((e for e in endpoints if e["url"] == rag["ollama_url"]), None)
            known = known or probe_ollama(rag["ollama_url"])
            rag["embedding_model_available"] = model_listed(rag["embedding_model"], known["models"])
            if not known["reachable"]:
                problems.append(f"RAG_EMBEDDING_ENGINE is ollama but the embedding Ollama (RAG_OLLAMA_BASE_URL, "
                                f"default OLLAMA_BASE_URL) at {rag['ollama_url'] or '(empty)'}: {known['error']}")
            elif not rag["embedding_model_available"]:
                warnings.append(f"embedding model {rag['embedding_model']} is not in Ollama at {rag['ollama_url']}: "
                                "document uploads would fail")

        users = self.db.data["users"]
        admin_email = self.env["WEBUI_ADMIN_EMAIL"]
        existing = self.db.user_by_email(admin_email) if admin_email else None
        password_matches = None
        if existing and self.env["WEBUI_ADMIN_PASSWORD"]:
            password_matches = existing["password_sha256"] == password_hash(self.env["WEBUI_ADMIN_PASSWORD"])
            if not password_matches:
                warnings.append("WEBUI_ADMIN_PASSWORD differs from the existing admin's password: the app never "
                                "changes an existing account from the environment")
        elif admin_email and not existing:
            warnings.append(f"admin {admin_email} was not created: users already existed")
        if not self.env["WEBUI_AUTH"]:
            warnings.append("WEBUI_AUTH is off: anyone reaching the port is admin")
        if not self.db.readable():
            problems.append(f"database {self.db.path} cannot be read")

        return {
            "standin": "open-webui",
            "healthy": not problems,
            "problems": problems,
            "warnings": warnings,
            "secret_key": {"source": self.secret_source, "path": self.secret_path,
                           "same_as_first_boot": self.secret_same_as_first_boot},
            "ollama": {"enabled": value["ENABLE_OLLAMA_API"], "base_urls": value["OLLAMA_BASE_URLS"],
                       "endpoints": endpoints},
            "qdrant": qdrant,
            "rag": rag,
            "config": {name: {"value": v, "source": s} for name, (v, s) in config.items()},
            "persistent_config": self.env["ENABLE_PERSISTENT_CONFIG"],
            "signup_enabled": value["ENABLE_SIGNUP"],
            "auth": self.env["WEBUI_AUTH"],
            "admin": {"email_configured": admin_email or None, "exists": bool(existing),
                      "password_matches": password_matches, "users": len(users),
                      "admins": sorted(u["email"] for u in users if u["role"] == "admin")},
            "data_dir": str(self.data_dir),
            "boots": self.db.data["boots"],
        }


def report(status: dict, last: list) -> None:
    """Print problems when they change, so `docker logs` of an unhealthy container says why."""
    current = status["problems"] + [f"warning: {w}" for w in status["warnings"]]
    if current != last:
        last[:] = current
        if status["problems"]:
            print("open-webui-standin: UNHEALTHY: " + "; ".join(status["problems"]), flush=True)
        else:
            print("open-webui-standin: healthy", flush=True)
        for warning in status["warnings"]:
            print(f"open-webui-standin: warning: {warning}", flush=True)


class Handler(BaseHTTPRequestHandler):
    server_version = "open-webui-standin"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            super().log_message(fmt, *args)

    @property
    def app(self) -> App:
        return self.server.app

    def send_json(self, status: int, payload) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            data = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            data = None
        return data if isinstance(data, dict) else {}

    def current_user(self):
        auth = self.headers.get("Authorization", "")
        if not auth.lower().startswith("bearer "):
            return None
        return self.app.user_for(auth[7:].strip())

    def signed_in(self, user: dict) -> dict:
        return {"token": self.app.token_for(user), "token_type": "Bearer", "id": user["id"], "email": user["email"],
                "name": user["name"], "role": user["role"]}

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path.rstrip("/") or "/"
        if path == "/health":
            status = self.app.status()
            report(status, self.server.last_report)
            if status["healthy"]:
                self.send_json(200, {"status": True})
            else:
                self.send_json(503, {"status": False, "problems": status["problems"]})
        elif path == "/health/db":
            ok = self.app.db.readable()
            self.send_json(200 if ok else 503, {"status": ok})
        elif path == "/api/config":
            config = self.app.config()
            self.send_json(200, {"status": True, "name": self.app.env["WEBUI_NAME"], "version": "standin",
                                 "features": {"auth": self.app.env["WEBUI_AUTH"],
                                              "enable_signup": config["ENABLE_SIGNUP"][0],
                                              "enable_login_form": True}})
        elif path == "/_standin/status":
            self.send_json(200, self.app.status())
        elif path == "/api/v1/auths":
            user = self.current_user()
            if user is None:
                self.send_json(401, {"detail": INVALID_TOKEN})
            else:
                self.send_json(200, {k: user[k] for k in ("id", "email", "name", "role")})
        elif path == "/_standin/chats":
            user = self.current_user()
            if user is None:
                self.send_json(401, {"detail": INVALID_TOKEN})
            else:
                self.send_json(200, self.app.db.chats_of(user["id"]))
        else:
            self.send_json(404, {"detail": "Not Found"})

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path.rstrip("/")
        body = self.body()
        db = self.app.db
        if path == "/api/v1/auths/signin":
            user = db.user_by_email(str(body.get("email", "")))
            if user and user["password_sha256"] == password_hash(str(body.get("password", ""))):
                self.send_json(200, self.signed_in(user))
            else:
                self.send_json(400, {"detail": INVALID_CRED})
        elif path == "/api/v1/auths/signup":
            with self.app.lock:
                if db.data["users"] and not self.app.config()["ENABLE_SIGNUP"][0]:
                    self.send_json(403, {"detail": ACCESS_PROHIBITED})
                    return
                role = "pending" if db.data["users"] else "admin"  # the first account becomes admin
                user = db.add_user(str(body.get("email", "")), str(body.get("password", "")),
                                   str(body.get("name", "")), role)
            self.send_json(200, self.signed_in(user))
        elif path == "/_standin/chats":
            user = self.current_user()
            if user is None:
                self.send_json(401, {"detail": INVALID_TOKEN})
            else:
                self.send_json(200, db.add_chat(user["id"], str(body.get("title", "chat"))))
        elif path == "/_standin/config":
            user = self.current_user()
            if user is None or user["role"] != "admin":
                self.send_json(401, {"detail": INVALID_TOKEN})
                return
            try:
                self.app.save_settings(body)
            except ValueError as exc:
                self.send_json(400, {"detail": str(exc)})
                return
            self.send_json(200, {name: {"value": v, "source": s} for name, (v, s) in self.app.config().items()})
        else:
            self.send_json(404, {"detail": "Not Found"})


def main(argv=None) -> int:
    app_dir = pathlib.Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description="Open WebUI test double (not Open WebUI)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
    parser.add_argument("--data-dir", type=pathlib.Path,
                        default=pathlib.Path(os.environ.get("DATA_DIR", app_dir / "data")),
                        help="the real image's /app/backend/data (DATA_DIR)")
    parser.add_argument("--app-dir", type=pathlib.Path, default=app_dir,
                        help="where a generated key lands when none is supplied (the image's /app/backend)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    app = App(os.environ, args.data_dir.resolve(), args.app_dir.resolve())
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    server.app = app
    server.verbose = args.verbose
    server.last_report = []
    report(app.status(), server.last_report)  # the real app also reaches its backends at start
    print(f"open-webui-standin listening on http://{args.host}:{args.port} (data {args.data_dir}; "
          f"secret key from {app.secret_source})", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
