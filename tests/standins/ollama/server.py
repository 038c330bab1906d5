"""A test double of the Ollama HTTP API (see README.md). Python standard library only.

    python3 server.py --port 11434 --data-dir /root/.ollama/models

Routes, bodies, status codes and error texts follow reference/ollama-qdrant-api.md part A,
which cites ollama/ollama's server/routes.go. Test-only controls live under /_standin/.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import math
import os
import pathlib
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import catalogue as cat  # noqa: E402
import names  # noqa: E402
import puller  # noqa: E402
from faults import Faults  # noqa: E402
from store import Installed, Store  # noqa: E402

# path -> (allowed methods, handler); unknown path -> 404, wrong method -> 405 (gin's behaviour)
ROUTES = {
    "/": ({"GET", "HEAD"}, "route_root"),
    "/api/version": ({"GET", "HEAD"}, "route_api_version"),
    "/api/tags": ({"GET", "HEAD"}, "route_api_tags"),
    "/api/ps": ({"GET"}, "route_api_ps"),
    "/api/show": ({"POST"}, "route_api_show"),
    "/api/pull": ({"POST"}, "route_api_pull"),
    "/api/delete": ({"DELETE"}, "route_api_delete"),
    "/api/copy": ({"POST"}, "route_api_copy"),
    "/api/create": ({"POST"}, "route_api_create"),
    "/api/generate": ({"POST"}, "route_api_generate"),
    "/api/chat": ({"POST"}, "route_api_chat"),
    "/api/embed": ({"POST"}, "route_api_embed"),
    "/api/embeddings": ({"POST"}, "route_api_embeddings"),
    "/v1/models": ({"GET"}, "route_v1_models"),
    "/v1/chat/completions": ({"POST"}, "route_v1_chat"),
    "/v1/embeddings": ({"POST"}, "route_v1_embeddings"),
    "/_standin/catalogue": ({"GET", "PUT", "DELETE"}, "route_standin_catalogue"),
    "/_standin/publish": ({"POST"}, "route_standin_publish"),
    "/_standin/faults": ({"GET", "PUT"}, "route_standin_faults"),
}
PATTERNS = [
    (re.compile(r"^/api/blobs/(?P<digest>[^/]+)$"), {"HEAD", "POST"}, "route_api_blobs"),
    (re.compile(r"^/v1/models/(?P<model>.+)$"), {"GET"}, "route_v1_models"),
]
DIGEST = re.compile(r"^sha256[:-][0-9a-fA-F]{64}$")
DEFAULT_KEEP_ALIVE = 300.0


class HTTPError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def rfc3339(epoch_ns: int) -> str:
    """Go's RFC3339Nano, local offset, trailing zeros of the fraction dropped."""
    moment = datetime.datetime.fromtimestamp(epoch_ns // 1_000_000_000).astimezone()
    fraction = f"{epoch_ns % 1_000_000_000:09d}".rstrip("0")
    offset = moment.strftime("%z")
    zone = "Z" if offset == "+0000" else f"{offset[:3]}:{offset[3:]}"
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + zone


def parse_keep_alive(value, default: float = DEFAULT_KEEP_ALIVE) -> float:
    """Seconds a model stays loaded; negative = forever. Accepts numbers and Go durations."""
    if value is None or value == "":
        return default
    if isinstance(value, int | float):
        return float(value)
    match = re.fullmatch(r"(-?\d+(?:\.\d+)?)(ms|s|m|h)?", str(value).strip())
    if not match:
        raise HTTPError(400, f'time: invalid duration "{value}"')
    number, unit = float(match.group(1)), match.group(2) or "s"
    return number * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


class State:
    """Everything the handlers share: disk store, registry catalogue, faults, loaded models."""

    def __init__(self, store: Store, registry: cat.Catalogue, faults: Faults, version: str,
                 keep_alive: float = DEFAULT_KEEP_ALIVE):
        self.keep_alive = keep_alive  # OLLAMA_KEEP_ALIVE: how long a request keeps its model loaded
        self.store = store
        self.registry = registry
        self.faults = faults
        self.version = version
        self.loaded: dict[tuple, tuple[names.Name, float]] = {}  # key -> (name, expires epoch)
        self.lock = threading.Lock()

    def describe(self, model: Installed) -> dict:
        config = self.store.config(model)
        family = config.get("model_family", "")
        return {
            "parent_model": config.get("parent_model", ""),
            "format": config.get("model_format", "gguf"),
            "family": family,
            "families": config.get("model_families") or None,
            "parameter_size": config.get("model_type", ""),
            "quantization_level": config.get("file_type", ""),
        }

    def tag_entry(self, model: Installed) -> dict:
        return {
            "name": model.name.display,
            "model": model.name.display,
            "modified_at": rfc3339(model.mtime_ns),
            "size": model.size,
            "digest": model.digest,
            "details": self.describe(model),
        }

    def touch(self, model: Installed, keep_alive) -> str | None:
        """Load (or unload, keep_alive 0) a model as a request does; returns done_reason."""
        seconds = parse_keep_alive(keep_alive, self.keep_alive)
        with self.lock:
            if seconds == 0:
                self.loaded.pop(model.name.key, None)
                return "unload"
            expires = time.time() + (seconds if seconds > 0 else 10 * 365 * 86400)
            self.loaded[model.name.key] = (model.name, expires)
        return None

    def running(self) -> list[tuple[Installed, float]]:
        now = time.time()
        with self.lock:
            self.loaded = {key: value for key, value in self.loaded.items() if value[1] > now}
            entries = list(self.loaded.values())
        result = []
        for name, expires in entries:
            model = self.store.find(name)
            if model is not None:
                result.append((model, expires))
        return sorted(result, key=lambda item: item[1], reverse=True)


def reply_text(model: str, messages: list[dict], fmt) -> str:
    """A deterministic answer; valid JSON when the request asks for JSON output."""
    last = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
    text = f"This is the aistack Ollama stand-in answering as {model}. You said: {last}"
    if fmt:
        return json.dumps({"model": model, "answer": text})
    return text


def embedding(model: str, text: str, dimensions: int) -> list[float]:
    raw = hashlib.shake_256(f"{model}\0{text}".encode()).digest(dimensions * 2)
    values = [int.from_bytes(raw[i:i + 2], "big") / 32767.5 - 1.0 for i in range(0, len(raw), 2)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [round(v / norm, 8) for v in values]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no ~40 ms wait for the delayed ACK
    server_version = "aistack-ollama-standin"
    state: State  # set on the subclass built by make_server
    quiet = True

    # plumbing ----------------------------------------------------------------------------
    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's signature
        if not self.quiet:
            super().log_message(format, *args)

    def do_GET(self):
        self.dispatch("GET")

    def do_HEAD(self):
        self.dispatch("HEAD")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def dispatch(self, method: str) -> None:
        path = self.path.split("?", 1)[0]
        params: dict = {}
        allowed, handler = ROUTES.get(path, (None, None))
        if allowed is None:
            for pattern, methods, name in PATTERNS:
                match = pattern.match(path)
                if match:
                    allowed, handler, params = methods, name, match.groupdict()
                    break
        try:
            if allowed is None:
                self.read_body()  # unread, the body would be parsed as the next request
                self.send_text(404, "404 page not found")
                return
            if method not in allowed:
                self.read_body()
                self.send_text(405, "405 method not allowed")
                return
            if not path.startswith("/_standin/") and not self.authorised():
                return
            getattr(self, handler)(method, **params)
        except HTTPError as error:
            if path.startswith("/v1/"):
                self.send_openai_error(error.status, str(error))
            else:
                self.send_json(error.status, {"error": str(error)})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def authorised(self) -> bool:
        key = self.state.faults.get("api_key")
        if not key:
            return True
        given = self.headers.get("Authorization", "")
        if given != f"Bearer {key}":
            self.read_body()
        if not given:
            self.send_text(401, "401 Unauthorized", {"WWW-Authenticate": 'Bearer realm="ollama"'})
            return False
        if given != f"Bearer {key}":
            self.send_text(403, "403 Forbidden")
            return False
        return True

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def json_body(self, required: bool = True) -> dict:
        raw = self.read_body()
        if not raw.strip():
            if required:
                raise HTTPError(400, "missing request body")
            return {}
        try:
            body = json.loads(raw)
        except ValueError as error:
            raise HTTPError(400, str(error)) from None
        if not isinstance(body, dict):
            raise HTTPError(400, "json: cannot unmarshal into Go value of type object")
        return body

    def send_bytes(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_text(self, status: int, text: str, headers: dict | None = None) -> None:
        self.send_bytes(status, text.encode(), "text/plain; charset=utf-8", headers)

    def send_json(self, status: int, payload) -> None:
        self.send_bytes(status, json.dumps(payload).encode(), "application/json; charset=utf-8")

    def send_empty(self, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def send_openai_error(self, status: int, message: str) -> None:
        kind = {400: "invalid_request_error", 404: "not_found_error"}.get(status, "api_error")
        self.send_json(status, {"error": {"message": message, "type": kind, "param": None, "code": None}})

    def start_stream(self, content_type: str = "application/x-ndjson") -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def stream_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def stream_line(self, payload: dict) -> None:
        self.stream_chunk(json.dumps(payload).encode() + b"\n")

    def end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def cut_connection(self) -> None:
        """What a dropped proxy or a killed server looks like: no final chunk, socket closed."""
        self.wfile.flush()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    # helpers -----------------------------------------------------------------------------
    def name_of(self, text, error: str = "invalid model name") -> names.Name:
        name = names.parse(text) if isinstance(text, str) else None
        if name is None:
            raise HTTPError(400, error)
        return name

    def installed(self, text: str, missing: str | None = None) -> Installed:
        model = self.state.store.find(self.name_of(text))
        if model is None:
            raise HTTPError(404, missing or f"model '{text}' not found")
        return model

    # routes ------------------------------------------------------------------------------
    def route_root(self, method):
        self.send_text(200, "Ollama is running")

    def route_api_version(self, method):
        self.send_json(200, {"version": self.state.version})

    def route_api_tags(self, method):
        models = sorted(self.state.store.list(), key=lambda m: m.mtime_ns, reverse=True)
        self.send_json(200, {"models": [self.state.tag_entry(m) for m in models]})

    def route_api_ps(self, method):
        models = []
        for model, expires in self.state.running():
            entry = self.state.tag_entry(model)
            entry.pop("modified_at")
            config = self.state.store.config(model)
            entry.update(expires_at=rfc3339(int(expires * 1e9)), size_vram=0,
                         context_length=min(4096, config.get("context_length", 4096)))
            models.append(entry)
        self.send_json(200, {"models": models})

    def route_api_show(self, method):
        body = self.json_body()
        text = body.get("model") or body.get("name")
        if not text:
            raise HTTPError(400, "model is required")
        model = self.installed(text, f"model '{self.name_of(text).display}' not found")
        store = self.state.store
        config = store.config(model)
        family = config.get("model_family", "")

        def layer_text(media: str) -> str:
            layer = model.layer(media)
            return store.read_blob(layer["digest"]).decode() if layer else ""

        params = layer_text(cat.MEDIA_PARAMS)
        parameters = "\n".join(
            f"{key:<30} {json.dumps(v) if isinstance(v, str) else v}"
            for key, values in (json.loads(params) if params else {}).items()
            for v in (values if isinstance(values, list) else [values]))
        weights = model.layer(cat.MEDIA_MODEL)
        model_path = store.blob_path(weights["digest"]) if weights else ""
        template = layer_text(cat.MEDIA_TEMPLATE)
        response = {
            "license": layer_text(cat.MEDIA_LICENSE),
            "modelfile": (f'# Modelfile generated by "ollama show"\n# To build a new Modelfile based on this, '
                          f"replace FROM with:\n# FROM {model.name.display}\n\nFROM {model_path}\n"
                          + (f'TEMPLATE """{template}"""\n' if template else "")),
            "parameters": parameters,
            "template": template,
            "details": self.state.describe(model),
            "model_info": {
                "general.architecture": family,
                "general.parameter_count": int(weights["size"]) if weights else 0,
                f"{family}.context_length": config.get("context_length", 2048),
                f"{family}.embedding_length": config.get("embedding_length", 2048),
            },
            "capabilities": config.get("capabilities", ["completion"]),
            "modified_at": rfc3339(model.mtime_ns),
        }
        system = layer_text(cat.MEDIA_SYSTEM)
        if system:
            response["system"] = system
        self.send_json(200, response)

    def route_api_delete(self, method):
        body = self.json_body()
        text = body.get("model") or body.get("name")
        if not text:
            raise HTTPError(400, "model is required")
        name = self.name_of(text, f'name "{text}" is invalid')
        with self.state.store.lock:
            model = self.state.store.find(name)
            if model is None:
                raise HTTPError(404, f"model '{text}' not found")
            self.state.store.delete(model)
        with self.state.lock:
            self.state.loaded.pop(name.key, None)
        self.send_empty(200)

    def route_api_copy(self, method):
        body = self.json_body()
        source = self.name_of(body.get("source"), f'source "{body.get("source", "")}" is invalid')
        destination = self.name_of(body.get("destination"),
                                   f'destination "{body.get("destination", "")}" is invalid')
        model = self.state.store.find(source)
        if model is None:
            raise HTTPError(404, f'model "{body["source"]}" not found')
        self.state.store.write_manifest(destination, model.path.read_bytes())
        self.send_empty(200)

    def route_api_pull(self, method):
        body = self.json_body()
        name = self.name_of(body.get("model") or body.get("name"))
        self.run_progress(body.get("stream", True) is not False,
                          puller.pull(self.state.store, self.state.registry, self.state.faults, name))

    def run_progress(self, stream: bool, events) -> None:
        """Serve a progress sequence streamed (NDJSON) or as its last object, with Ollama's error rules."""
        last = None
        started = False
        try:
            for event in events:
                if event is puller.DROP:
                    self.cut_connection()
                    return
                last = event
                if stream:
                    if not started:
                        self.start_stream()
                        started = True
                    self.stream_line(event)
        except (puller.PullError, HTTPError) as error:
            if stream and started:
                self.stream_line({"error": str(error)})
                self.end_stream()
            else:
                self.send_json(error.status, {"error": str(error)})
            return
        if stream:
            self.end_stream()
        else:
            self.send_json(200, last)

    def route_api_create(self, method):
        body = self.json_body()
        name = self.name_of(body.get("model") or body.get("name"))
        if not body.get("from") and not body.get("files"):
            raise HTTPError(400, "neither 'from' or 'files' was specified")
        self.run_progress(body.get("stream", True) is not False, self.create(name, body))

    def create(self, name: names.Name, body: dict):
        store = self.state.store
        layers: list[dict] = []
        config: dict = {"model_format": "gguf", "model_family": "", "model_families": None,
                        "model_type": "", "file_type": "", "architecture": "amd64", "os": "linux",
                        "capabilities": ["completion"]}
        if body.get("from"):
            source_name = self.name_of(body["from"])
            source = store.find(source_name)
            if source is None:
                for event in puller.pull(store, self.state.registry, self.state.faults, source_name):
                    if event is puller.DROP:
                        raise puller.PullError("max retries exceeded: unexpected EOF")
                    yield event
                source = store.find(source_name)
            config.update(store.config(source))
            config["parent_model"] = source.name.display
            layers = list(source.manifest["layers"])
        else:
            yield {"status": "reading model metadata"}
            for filename, digest in body["files"].items():
                if not isinstance(digest, str) or not store.has_blob(digest):
                    raise HTTPError(400, f"blob {digest} not found for file {filename}")
                layers.append({"mediaType": cat.MEDIA_MODEL, "digest": digest,
                               "size": store.blob_path(digest).stat().st_size})
        replacements = {
            cat.MEDIA_TEMPLATE: body.get("template"),
            cat.MEDIA_SYSTEM: body.get("system"),
            cat.MEDIA_PARAMS: json.dumps(body["parameters"]) if body.get("parameters") else None,
            cat.MEDIA_LICENSE: ("\n".join(body["license"]) if isinstance(body.get("license"), list)
                                else body.get("license")),
        }
        for media, text in replacements.items():
            if text is None:
                continue
            blob = cat.text_blob(media, text)
            layers = [layer for layer in layers if layer["mediaType"] != media] + [blob.descriptor()]
            if store.has_blob(blob.digest):
                yield {"status": f"using already created layer {blob.digest}"}
            else:
                yield {"status": f"writing layer {blob.digest}"}
                store.blob_path(blob.digest).write_bytes(blob.header)
        config["rootfs"] = {"type": "layers", "diff_ids": [layer["digest"] for layer in layers]}
        config_blob = cat.text_blob(cat.MEDIA_CONFIG, json.dumps(config, sort_keys=True))
        store.blob_path(config_blob.digest).write_bytes(config_blob.header)
        manifest = {"schemaVersion": 2, "mediaType": cat.MEDIA_MANIFEST,
                    "config": config_blob.descriptor(), "layers": layers}
        yield {"status": "writing manifest"}
        store.write_manifest(name, json.dumps(manifest, indent=2).encode())
        yield {"status": "success"}

    def route_api_blobs(self, method, digest):
        if not DIGEST.match(digest):
            raise HTTPError(400, "invalid digest format")
        digest = "sha256:" + digest[7:].lower()
        store = self.state.store
        if method == "HEAD":
            if store.has_blob(digest):
                self.send_empty(200)
            else:
                self.send_json(404, {"error": f'blob "{digest}" not found'})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if store.has_blob(digest):
            self.rfile.read(length)
            self.send_empty(200)
            return
        tmp = store.blobs / (digest.replace(":", "-") + "-upload")
        hasher = hashlib.sha256()
        with tmp.open("wb") as handle:
            remaining = length
            while remaining > 0:
                data = self.rfile.read(min(remaining, 1 << 20))
                if not data:
                    break
                hasher.update(data)
                handle.write(data)
                remaining -= len(data)
        got = "sha256:" + hasher.hexdigest()
        if got != digest:
            tmp.unlink()
            raise HTTPError(400, f"digest mismatch, expected {digest}, got {got}")
        tmp.replace(store.blob_path(digest))
        self.send_empty(201)

    def chat_like(self, body: dict, messages: list[dict]) -> tuple[Installed, str, str | None]:
        text = body.get("model")
        if not text:
            raise HTTPError(400, "model is required")
        model = self.installed(text)
        if "completion" not in self.state.store.config(model).get("capabilities", ["completion"]):
            raise HTTPError(400, f'"{text}" does not support chat')
        done_reason = self.state.touch(model, body.get("keep_alive"))
        return model, reply_text(text, messages, body.get("format")), done_reason

    def answer(self, body: dict, messages: list[dict], key: str) -> None:
        model, text, unload = self.chat_like(body, messages)
        if key == "response" and not body.get("prompt"):
            text = ""  # an empty prompt only loads (or unloads) the model
        created = rfc3339(time.time_ns())
        metrics = {"total_duration": 1_000_000, "load_duration": 100_000,
                   "prompt_eval_count": sum(len(str(m.get("content", "")).split()) for m in messages),
                   "prompt_eval_duration": 200_000, "eval_count": len(text.split()), "eval_duration": 700_000}

        def piece(content: str) -> dict:
            if key == "message":
                return {"model": body["model"], "created_at": created,
                        "message": {"role": "assistant", "content": content}}
            return {"model": body["model"], "created_at": created, "response": content}

        final = piece("" if body.get("stream", True) is not False else text)
        final.update(done=True, done_reason=unload or ("stop" if text else "load"), **(metrics if text else {}))
        if body.get("stream", True) is False:
            self.send_json(200, final)
            return
        self.start_stream()
        for word in re.findall(r"\S+\s*", text):
            self.stream_line({**piece(word), "done": False})
        self.stream_line(final)
        self.end_stream()

    def route_api_generate(self, method):
        body = self.json_body()
        self.answer(body, [{"role": "user", "content": body.get("prompt", "")}], "response")

    def route_api_chat(self, method):
        body = self.json_body()
        messages = body.get("messages") or []
        if not isinstance(messages, list):
            raise HTTPError(400, "messages must be a list")
        self.answer(body, messages, "message")

    def embeddings_for(self, body: dict, inputs) -> tuple[Installed, list[list[float]]]:
        text = body.get("model")
        if not text:
            raise HTTPError(400, "model is required")
        model = self.installed(text)
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not all(isinstance(item, str) for item in inputs):
            raise HTTPError(400, "invalid input type")
        self.state.touch(model, body.get("keep_alive"))
        size = int(body.get("dimensions") or self.state.store.config(model).get("embedding_length", 384))
        return model, [embedding(model.name.display, item, size) for item in inputs]

    def route_api_embed(self, method):
        body = self.json_body()
        _model, vectors = self.embeddings_for(body, body.get("input", ""))
        self.send_json(200, {"model": body["model"], "embeddings": vectors, "total_duration": 1_000_000,
                             "load_duration": 100_000,
                             "prompt_eval_count": sum(len(str(i).split()) for i in [body.get("input")])})

    def route_api_embeddings(self, method):
        body = self.json_body()
        _model, vectors = self.embeddings_for(body, body.get("prompt", ""))
        self.send_json(200, {"embedding": vectors[0]})

    # OpenAI-compatible -------------------------------------------------------------------
    def openai_model(self, model: Installed) -> dict:
        return {"id": model.name.display, "object": "model", "created": model.mtime_ns // 1_000_000_000,
                "owned_by": model.name.namespace}

    def route_v1_models(self, method, model=None):
        if model is None:
            models = sorted(self.state.store.list(), key=lambda m: m.mtime_ns, reverse=True)
            self.send_json(200, {"object": "list", "data": [self.openai_model(m) for m in models] or None})
            return
        model = urllib.parse.unquote(model)
        found = self.installed(model)
        self.send_json(200, {**self.openai_model(found), "id": model})

    def route_v1_chat(self, method):
        body = self.json_body()
        messages = body.get("messages")
        if not messages:
            raise HTTPError(400, "[] is too short - 'messages'")
        response_format = (body.get("response_format") or {}).get("type") in ("json_object", "json_schema")
        model, text, _unload = self.chat_like({**body, "format": response_format}, messages)
        ident = f"chatcmpl-{int(hashlib.sha256(text.encode()).hexdigest(), 16) % 999}"
        created = int(time.time())
        base = {"id": ident, "created": created, "model": body["model"], "system_fingerprint": "fp_ollama"}
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages)
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(text.split()),
                 "total_tokens": prompt_tokens + len(text.split())}
        if not body.get("stream"):
            self.send_json(200, {**base, "object": "chat.completion", "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": usage})
            return
        self.start_stream("text/event-stream")
        chunk = {**base, "object": "chat.completion.chunk"}
        for word in re.findall(r"\S+\s*", text):
            delta = {"index": 0, "delta": {"role": "assistant", "content": word}, "finish_reason": None}
            self.stream_chunk(b"data: " + json.dumps({**chunk, "choices": [delta]}).encode() + b"\n\n")
        finish = {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": "stop"}
        self.stream_chunk(b"data: " + json.dumps({**chunk, "choices": [finish]}).encode() + b"\n\n")
        if (body.get("stream_options") or {}).get("include_usage"):
            self.stream_chunk(b"data: " + json.dumps({**chunk, "choices": [], "usage": usage}).encode() + b"\n\n")
        self.stream_chunk(b"data: [DONE]\n\n")
        self.end_stream()

    def route_v1_embeddings(self, method):
        body = self.json_body()
        _model, vectors = self.embeddings_for(body, body.get("input", ""))
        tokens = sum(len(str(i).split()) for i in [body.get("input")])
        self.send_json(200, {"object": "list", "model": body["model"],
                             "data": [{"object": "embedding", "embedding": v, "index": i}
                                      for i, v in enumerate(vectors)],
                             "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    # test controls -----------------------------------------------------------------------
    def route_standin_catalogue(self, method):
        registry = self.state.registry
        if method == "PUT":
            body = self.json_body()
            text = body.pop("model", None)
            try:
                registry.put(text or "", body)
            except ValueError as error:
                raise HTTPError(400, str(error)) from None
        elif method == "DELETE":
            registry.remove(self.json_body().get("model", ""))
        self.send_json(200, registry.snapshot())

    def route_standin_publish(self, method):
        text = self.json_body().get("model", "")
        try:
            revision = self.state.registry.bump(text)
        except KeyError:
            raise HTTPError(404, f"model '{text}' is not in the catalogue") from None
        self.send_json(200, {"model": text, "revision": revision})

    def route_standin_faults(self, method):
        if method == "PUT":
            try:
                self.state.faults.reset(self.json_body(required=False))
            except ValueError as error:
                raise HTTPError(400, str(error)) from None
        self.send_json(200, self.state.faults.snapshot())


def make_server(host: str, port: int, state: State, quiet: bool = True) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"state": state, "quiet": quiet})
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server_class = type("Server", (ThreadingHTTPServer,), {"address_family": family})
    server = server_class((host, port), handler)
    server.daemon_threads = True
    return server


def listen_address(value: str) -> tuple[str, int]:
    """OLLAMA_HOST as Ollama reads it (envconfig Host()): [scheme://]host[:port], default 127.0.0.1:11434."""
    value = value.strip().strip("\"'")
    value = value.split("://", 1)[1] if "://" in value else value
    host, _sep, port = value.rpartition(":") if ":" in value else (value, "", "")
    return host.strip("[]") or "127.0.0.1", int(port or 11434)


def main(argv: list[str] | None = None) -> int:
    # Defaults come from the environment the real server reads, so the image can be
    # configured like ollama/ollama (OLLAMA_HOST, OLLAMA_MODELS, OLLAMA_KEEP_ALIVE).
    env_host, env_port = listen_address(os.environ.get("OLLAMA_HOST", ""))
    parser = argparse.ArgumentParser(description="Test double of the Ollama HTTP API")
    parser.add_argument("--host", default=env_host, help="default: from OLLAMA_HOST, else 127.0.0.1")
    parser.add_argument("--port", type=int, default=env_port, help="default: from OLLAMA_HOST, else 11434")
    parser.add_argument("--data-dir", type=pathlib.Path,
                        default=pathlib.Path(os.environ.get("OLLAMA_MODELS") or pathlib.Path.home() / ".ollama/models"),
                        help="models directory (manifests/, blobs/); default: $OLLAMA_MODELS, else ~/.ollama/models")
    parser.add_argument("--catalogue", type=pathlib.Path,
                        help="JSON object {model name: entry} replacing the built-in registry catalogue")
    parser.add_argument("--faults", default="{}", help="JSON object of initial fault switches (faults.py)")
    parser.add_argument("--version", default="0.12.6", help="what /api/version reports")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    entries = json.loads(args.catalogue.read_text()) if args.catalogue else None
    keep_alive = parse_keep_alive(os.environ.get("OLLAMA_KEEP_ALIVE"))
    state = State(Store(args.data_dir), cat.Catalogue(entries), Faults(json.loads(args.faults)), args.version,
                  keep_alive)
    server = make_server(args.host, args.port, state, quiet=not args.verbose)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"ollama stand-in listening on {args.host}:{server.server_address[1]}", file=sys.stderr, flush=True)
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
