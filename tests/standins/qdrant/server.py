"""Qdrant test double: the HTTP API of part B of the project's API reference.

NOT Qdrant. It exists because the real image cannot be fetched on the test machines. It answers
the REST paths the collection, its roles and Open WebUI use, with the real status codes, envelopes
and messages. This file is the HTTP layer (standard library): routes, API keys, envelopes, and
reading every request body so kept-alive connections stay in sync. Points, filters and queries are
qdrant-client's local mode (see qdrant_store.py): search is exact (no HNSW), there is no gRPC and
no clustering.

    python3 server.py --port 6333 --data-dir DIR [--config-path FILE]

DIR plays the role of the image's WORKDIR /qdrant: config/<file>.yaml, storage/ and snapshots/
are found under it unless the config says otherwise.
"""

import argparse
import contextlib
import hmac
import json
import os
import re
import signal
import sys
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from qdrant_config import ConfigError, load_settings  # noqa: E402
from qdrant_store import QdrantError, Store, wait_param  # noqa: E402

VERSION = "1.19.0"
MISSING_KEY = "Must provide an API key or an Authorization bearer token"
INVALID_KEY = "Invalid API key or JWT"
# Paths that need no key even when one is configured (src/actix/mod.rs api_key_whitelist).
OPEN_EXACT = ("/", "/healthz")
OPEN_PREFIX = ("/readyz", "/livez")
# POSTs that only read: allowed with the read-only key.
READ_POSTS = re.compile(r"^/collections/[^/]+/points(/count|/search|/search/batch|/query|/query/batch|/scroll)?$")
MAX_BODY = 256 << 20

_NAME = r"(?P<name>[^/]+)"
ROUTES = []


def route(method: str, pattern: str):
    def register(func):
        ROUTES.append((method, re.compile(f"^{pattern}$"), func))
        return func
    return register


class Handler(BaseHTTPRequestHandler):
    server_version = "qdrant-standin"
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY the second one waits for the
    # client's delayed ACK (~40 ms per request on a kept-alive connection).
    disable_nagle_algorithm = True

    # -- plumbing ---------------------------------------------------------------------------
    def log_message(self, fmt, *args):  # quiet unless asked: tests read their own output
        if self.server.verbose:
            super().log_message(fmt, *args)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, payload) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def send_text(self, status: int, text: str) -> None:
        self._send(status, text.encode(), "text/plain; charset=utf-8")

    def ok(self, result, status: int = 200) -> None:
        self.send_json(status, {"result": result, "status": "ok", "time": time.monotonic() - self.started})

    def error(self, status: int, message: str) -> None:
        self.send_json(status, {"status": {"error": message}, "time": time.monotonic() - self.started})

    def _read_body(self) -> bytes | None:
        """The whole request body, read before any answer (also an error) so that the next request
        on a kept-alive connection starts where this one ends. None (connection closed) when the
        length cannot be known."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline(1024)
                try:
                    size = int(size_line.split(b";")[0].strip(), 16)
                except ValueError:
                    return None
                if size == 0:
                    while self.rfile.readline(1024).strip():  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)  # CRLF after the chunk
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            size = int(length)
        except ValueError:
            return None
        if size < 0 or size > MAX_BODY:
            return None
        return self.rfile.read(size) if size else b""

    def body(self) -> dict:
        raw = self.raw_body
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise QdrantError(400, f"Format error in JSON body: {exc}") from exc
        if not isinstance(data, dict):
            raise QdrantError(400, "Format error in JSON body: expected a JSON object")
        return data

    def _authorised(self, path: str) -> bool:
        """Answer 401/403 and return False when the request may not go on."""
        settings = self.server.settings["service"]
        keys = {"rw": settings["api_key"], "ro": settings["read_only_api_key"]}
        if not keys["rw"] and not keys["ro"]:
            return True
        if path in OPEN_EXACT or path.startswith(OPEN_PREFIX):
            return True
        given = self.headers.get("api-key")
        auth = self.headers.get("Authorization", "")
        if given is None and auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        if given is None:
            self.send_text(401, MISSING_KEY)
            return False
        if keys["rw"] and hmac.compare_digest(given.encode(), keys["rw"].encode()):
            return True
        if keys["ro"] and hmac.compare_digest(given.encode(), keys["ro"].encode()):
            if self.command in ("GET", "HEAD") or (self.command == "POST" and READ_POSTS.match(path)):
                return True
            self.error(403, "Forbidden: Write access is required for this operation")
            return False
        self.send_text(401, INVALID_KEY)
        return False

    def _dispatch(self) -> None:
        self.started = time.monotonic()
        self.raw_body = self._read_body()
        if self.raw_body is None:
            self.close_connection = True
            self.error(400, "Format error in JSON body: cannot read the request body (bad Content-Length "
                            "or chunked encoding)")
            return
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path.rstrip("/") or "/"
        self.query = dict(urllib.parse.parse_qsl(parsed.query))
        if not self._authorised(path):
            return
        method = "GET" if self.command == "HEAD" else self.command
        for verb, pattern, func in ROUTES:
            match = pattern.match(path)
            if verb == method and match:
                try:
                    func(self, **{k: urllib.parse.unquote(v) for k, v in match.groupdict().items()})
                except QdrantError as exc:
                    self.error(exc.status, exc.message)
                except (AttributeError, KeyError, TypeError, ValueError) as exc:
                    # A body of the wrong shape: the real server rejects it while parsing (400).
                    self.error(400, f"Format error in JSON body: {exc}")
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True
                except Exception as exc:  # noqa: BLE001 - a test server answers, and logs, whatever broke
                    traceback.print_exc()
                    self.error(500, f"Service internal error: {type(exc).__name__}: {exc}")
                return
        self.send_text(404, "")

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _dispatch

    @property
    def store(self) -> Store:
        return self.server.store

    @property
    def wait(self) -> bool:
        return wait_param(self.query.get("wait"))


# -- service ------------------------------------------------------------------------------------
@route("GET", "/")
def index(h: Handler):
    h.send_json(200, {"title": "qdrant - vector search engine", "version": VERSION})


@route("GET", "/healthz")
@route("GET", "/livez")
def healthz(h: Handler):
    h.send_text(200, "healthz check passed")


@route("GET", "/readyz")
def readyz(h: Handler):
    h.send_text(200, "all shards are ready")


@route("GET", "/telemetry")
def telemetry(h: Handler):
    count, _points = h.store.totals()
    h.ok({"id": str(h.store.peer_id), "app": {"name": "qdrant", "version": VERSION},
          "collections": {"number_of_collections": count}})


@route("GET", "/metrics")
def metrics(h: Handler):
    collections, points = h.store.totals()
    h.send_text(200, "# HELP app_info information about qdrant server\n# TYPE app_info gauge\n"
                     f'app_info{{name="qdrant",version="{VERSION}"}} 1\n'
                     "# HELP collections_total number of collections\n# TYPE collections_total gauge\n"
                     f"collections_total {collections}\n"
                     "# HELP collections_vector_total total number of vectors in all collections\n"
                     f"# TYPE collections_vector_total gauge\ncollections_vector_total {points}\n")


# -- collections --------------------------------------------------------------------------------
@route("GET", "/collections")
def list_collections(h: Handler):
    h.ok(h.store.list())


@route("GET", f"/collections/{_NAME}")
def get_collection(h: Handler, name):
    h.ok(h.store.info(name))


@route("GET", f"/collections/{_NAME}/exists")
def collection_exists(h: Handler, name):
    h.ok(h.store.exists(name))


@route("PUT", f"/collections/{_NAME}")
def create_collection(h: Handler, name):
    h.ok(h.store.create(name, h.body()))


@route("PATCH", f"/collections/{_NAME}")
def update_collection(h: Handler, name):
    h.ok(h.store.update(name, h.body()))


@route("DELETE", f"/collections/{_NAME}")
def delete_collection(h: Handler, name):
    h.ok(h.store.delete(name))


# -- payload indexes ----------------------------------------------------------------------------
@route("PUT", f"/collections/{_NAME}/index")
def create_index(h: Handler, name):
    h.ok(h.store.create_index(name, h.body(), h.wait))


@route("DELETE", f"/collections/{_NAME}/index/(?P<field>[^/]+)")
def delete_index(h: Handler, name, field):
    h.ok(h.store.delete_index(name, field, h.wait))


# -- points -------------------------------------------------------------------------------------
@route("PUT", f"/collections/{_NAME}/points")
def upsert_points(h: Handler, name):
    h.ok(h.store.upsert(name, h.body(), h.wait))


@route("POST", f"/collections/{_NAME}/points/delete")
def delete_points(h: Handler, name):
    h.ok(h.store.delete_points(name, h.body(), h.wait))


@route("POST", f"/collections/{_NAME}/points/payload")
def set_payload(h: Handler, name):
    h.ok(h.store.set_payload(name, h.body(), h.wait))


@route("PUT", f"/collections/{_NAME}/points/payload")
def overwrite_payload(h: Handler, name):
    h.ok(h.store.set_payload(name, h.body(), h.wait, overwrite=True))


@route("POST", f"/collections/{_NAME}/points/payload/delete")
def delete_payload(h: Handler, name):
    h.ok(h.store.delete_payload(name, h.body(), h.wait))


@route("POST", f"/collections/{_NAME}/points/payload/clear")
def clear_payload(h: Handler, name):
    h.ok(h.store.clear_payload(name, h.body(), h.wait))


@route("PUT", f"/collections/{_NAME}/points/vectors")
def update_vectors(h: Handler, name):
    h.ok(h.store.update_vectors(name, h.body(), h.wait))


@route("POST", f"/collections/{_NAME}/points/vectors/delete")
def delete_vectors(h: Handler, name):
    h.ok(h.store.delete_vectors(name, h.body(), h.wait))


@route("POST", f"/collections/{_NAME}/points/batch")
def batch_update(h: Handler, name):
    h.ok(h.store.batch(name, h.body(), h.wait))


@route("GET", f"/collections/{_NAME}/points/(?P<pid>[^/]+)")
def get_point(h: Handler, name, pid):
    pid_value = int(pid) if pid.isdigit() else pid
    found = h.store.retrieve(name, {"ids": [pid_value], "with_payload": True, "with_vector": True})
    if not found:
        raise QdrantError(404, f"Not found: No point with id {pid} found")
    h.ok(found[0])


@route("POST", f"/collections/{_NAME}/points")
def retrieve_points(h: Handler, name):
    h.ok(h.store.retrieve(name, h.body()))


@route("POST", f"/collections/{_NAME}/points/count")
def count_points(h: Handler, name):
    h.ok(h.store.count(name, h.body()))


@route("POST", f"/collections/{_NAME}/points/scroll")
def scroll_points(h: Handler, name):
    h.ok(h.store.scroll(name, h.body()))


@route("POST", f"/collections/{_NAME}/points/search")
def search_points(h: Handler, name):
    h.ok(h.store.search(name, h.body()))


@route("POST", f"/collections/{_NAME}/points/search/batch")
def search_batch(h: Handler, name):
    h.ok(h.store.search_batch(name, h.body()))


@route("POST", f"/collections/{_NAME}/points/query")
def query_points(h: Handler, name):
    h.ok(h.store.query(name, h.body()))


@route("POST", f"/collections/{_NAME}/points/query/batch")
def query_batch(h: Handler, name):
    h.ok(h.store.query_batch(name, h.body()))


# -- snapshots ----------------------------------------------------------------------------------
@route("POST", f"/collections/{_NAME}/snapshots")
def create_snapshot(h: Handler, name):
    description = h.store.create_snapshot(name)
    if h.query.get("wait", "true").lower() == "false":
        h.send_json(202, {"status": "accepted", "time": time.monotonic() - h.started})
    else:
        h.ok(description)


@route("GET", f"/collections/{_NAME}/snapshots")
def list_snapshots(h: Handler, name):
    h.ok(h.store.list_snapshots(name))


@route("GET", f"/collections/{_NAME}/snapshots/(?P<snapshot>[^/]+)")
def download_snapshot(h: Handler, name, snapshot):
    with open(h.store.snapshot_path(name, snapshot), "rb") as handle:
        h._send(200, handle.read(), "application/octet-stream")


@route("DELETE", f"/collections/{_NAME}/snapshots/(?P<snapshot>[^/]+)")
def delete_snapshot(h: Handler, name, snapshot):
    h.ok(h.store.delete_snapshot(name, snapshot))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Qdrant test double (not Qdrant)")
    parser.add_argument("--data-dir", default=os.getcwd(),
                        help="the server's working directory (the image's /qdrant): config/, storage/, snapshots/")
    parser.add_argument("--config-path", help="an extra config file, read after config/*.yaml (as the real one)")
    parser.add_argument("--port", type=int, help="overrides service.http_port")
    parser.add_argument("--host", help="overrides service.host")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(os.path.abspath(args.data_dir), args.config_path)
    except ConfigError as exc:
        print(f"qdrant-standin: {exc}", file=sys.stderr)
        return 2
    host = args.host or settings["service"]["host"]
    port = args.port or int(settings["service"]["http_port"])
    storage = settings["storage"]
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    server.settings = settings
    server.verbose = args.verbose
    server.store = Store(storage["storage_path"], storage["snapshots_path"], bool(storage.get("on_disk_payload", True)))
    auth = "api key required" if settings["service"]["api_key"] else "no api key"
    print(f"qdrant-standin {VERSION} listening on http://{host}:{port} ({auth}; storage {storage['storage_path']})",
          flush=True)
    # PID 1 in a container ignores SIGTERM unless it handles it: stop promptly on `docker stop`.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    finally:
        server.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
