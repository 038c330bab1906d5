"""Use a running Open WebUI as a person would, through its HTTP API, and print one JSON report.

Python 3 standard library only: copy it onto a host and run it there against the local port.
Steps (endpoints and payloads as in Open WebUI 0.12.4's routers and web UI):

  signin          POST /api/v1/auths/signin                    the admin gets a token
  signup_refused  POST /api/v1/auths/signup                    a new account is refused (403)
  models          GET  /api/models                             ids of the models Open WebUI offers
  chat            POST /api/chat/completions (stream false)    an answer from the model (Ollama)
  knowledge       POST /api/v1/knowledge/create                a knowledge base
  upload          POST /api/v1/files/ (multipart)              a text/markdown document
  processed       GET  /api/v1/files/<id>/process/status       until completed (chunked, embedded)
  knowledge_add   POST /api/v1/knowledge/<id>/file/add         the document into the knowledge base
  rag_chat        POST /api/chat/completions with files=[{"type": "collection", ...}]
                  (the knowledge base attached as the web UI attaches it): the answer and the
                  names of the sources Open WebUI retrieved; `marker_in_answer` tells whether a
                  sentence of the document reached the model (a model that echoes its prompt,
                  like the tests' Ollama double, repeats the retrieved context).

Exit status 0 when every step passed, 1 otherwise; a step that needs a failed one is skipped.
"""

import argparse
import json
import mimetypes
import os
import pathlib
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

DEFAULT_MARKER = "The aistack end-to-end marker is a violet kangaroo named Tessellate-4711."
DEFAULT_DOCUMENT = f"""# Aistack end-to-end document

This document is uploaded by the aistack end-to-end check into an Open WebUI knowledge base.
{DEFAULT_MARKER}
Questions about the marker should be answered from this document only.
"""


class Failed(Exception):
    """A step failed; the message says what was asked and what the server answered."""


class Client:
    def __init__(self, base_url: str, timeout: float):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.token = None

    def request(self, method: str, path: str, body=None, *, data: bytes | None = None,
                content_type: str = "application/json", auth: bool = True):
        """(status, parsed JSON or text) of one request; HTTP errors are returned, not raised."""
        headers = {"Accept": "application/json"}
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            headers["Content-Type"] = content_type
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as response:
                return response.status, _decode(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, _decode(exc.read())
        except (urllib.error.URLError, OSError) as exc:
            raise Failed(f"{method} {path}: no answer ({exc})") from exc

    def expect(self, method: str, path: str, body=None, status: int = 200, **kwargs):
        got, answer = self.request(method, path, body, **kwargs)
        if got != status:
            raise Failed(f"{method} {path}: HTTP {got} (expected {status}): {_short(answer)}")
        return answer


def _decode(raw: bytes):
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def _short(value, limit: int = 400) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= limit else text[:limit] + "..."


def multipart(field: str, path: pathlib.Path) -> tuple[bytes, str]:
    """A multipart/form-data body with one file, as a browser sends it."""
    boundary = f"----aistack{uuid.uuid4().hex}"
    mime = mimetypes.guess_type(path.name)[0] or "text/plain"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{path.name}\"\r\n"
            f"Content-Type: {mime}\r\n\r\n").encode()
    return head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def answer_of(completion) -> str:
    try:
        return completion["choices"][0]["message"]["content"] or ""
    except (KeyError, IndexError, TypeError) as exc:
        raise Failed(f"no answer in the completion: {_short(completion)}") from exc


class Check:
    def __init__(self, args):
        self.args = args
        self.client = Client(args.url, args.timeout)
        self.report = {"url": args.url, "steps": {}}
        self.state = {}

    def step(self, name: str, needs=(), func=None):
        """Run one step, record ok/details/error/seconds; skip it when a step it needs failed."""
        missing = [n for n in needs if not self.report["steps"].get(n, {}).get("ok")]
        if missing:
            self.report["steps"][name] = {"ok": False, "skipped": f"needs {', '.join(missing)}"}
            return
        started = time.monotonic()
        try:
            details = func() or {}
            entry = {"ok": True, **details}
        except Failed as exc:
            entry = {"ok": False, "error": str(exc)}
        entry["seconds"] = round(time.monotonic() - started, 2)
        self.report["steps"][name] = entry

    # -- the steps ------------------------------------------------------------------------------
    def signin(self):
        body = self.client.expect("POST", "/api/v1/auths/signin",
                                  {"email": self.args.email, "password": self.args.password}, auth=False)
        if not isinstance(body, dict) or not body.get("token"):
            raise Failed(f"sign-in answered without a token: {_short(body)}")
        self.client.token = body["token"]
        return {"role": body.get("role"), "email": body.get("email")}

    def signup_refused(self):
        email = f"e2e-{uuid.uuid4().hex[:8]}@example.org"
        status, body = self.client.request("POST", "/api/v1/auths/signup",
                                           {"name": "E2E", "email": email, "password": "e2e-Password-1"},
                                           auth=False)
        if status != 403:
            raise Failed(f"a new account was not refused: HTTP {status} {_short(body)}")
        return {"status": status, "detail": body.get("detail") if isinstance(body, dict) else body}

    def models(self):
        body = self.client.expect("GET", "/api/models")
        ids = [m.get("id") for m in (body or {}).get("data", [])]
        if not ids:
            raise Failed(f"no models listed: {_short(body)}")
        if self.args.model not in ids:
            raise Failed(f"model {self.args.model!r} not listed; listed: {ids}")
        return {"ids": ids}

    def chat(self):
        question = "Say hello to the aistack end-to-end check."
        body = self.client.expect("POST", "/api/chat/completions", {
            "model": self.args.model, "stream": False,
            "messages": [{"role": "user", "content": question}]})
        answer = answer_of(body)
        if not answer.strip():
            raise Failed(f"empty answer: {_short(body)}")
        return {"model": body.get("model"), "answer": answer}

    def knowledge(self):
        name = f"aistack-e2e-{uuid.uuid4().hex[:6]}"
        body = self.client.expect("POST", "/api/v1/knowledge/create",
                                  {"name": name, "description": "aistack end-to-end check"})
        self.state["knowledge"] = body
        return {"id": body["id"], "name": body["name"]}

    def upload(self):
        data, content_type = multipart("file", self.document)
        body = self.client.expect("POST", "/api/v1/files/", data=data, content_type=content_type)
        self.state["file_id"] = body["id"]
        return {"id": body["id"], "filename": body.get("filename")}

    def processed(self):
        file_id = self.state["file_id"]
        deadline = time.monotonic() + self.args.process_timeout
        status = None
        while time.monotonic() < deadline:
            status = (self.client.expect("GET", f"/api/v1/files/{file_id}/process/status") or {}).get("status")
            if status == "completed":
                return {"status": status}
            if status == "failed":
                info = self.client.expect("GET", f"/api/v1/files/{file_id}")
                raise Failed(f"processing failed: {_short(((info or {}).get('data') or {}).get('error'))}")
            time.sleep(1)
        raise Failed(f"still {status!r} after {self.args.process_timeout} s")

    def knowledge_add(self):
        kb_id = self.state["knowledge"]["id"]
        body = self.client.expect("POST", f"/api/v1/knowledge/{kb_id}/file/add", {"file_id": self.state["file_id"]})
        names = [f.get("meta", {}).get("name") or f.get("filename") for f in (body or {}).get("files", [])]
        if self.document.name not in names:
            raise Failed(f"the knowledge base does not list {self.document.name}: {names}")
        return {"files": names}

    def rag_chat(self):
        kb = self.state["knowledge"]
        attached = {"type": "collection", "id": kb["id"], "name": kb["name"],
                    "description": kb.get("description", ""), "status": "processed"}
        body = self.client.expect("POST", "/api/chat/completions", {
            "model": self.args.model, "stream": False, "files": [attached],
            "messages": [{"role": "user", "content": self.args.question}]})
        answer = answer_of(body)
        sources = body.get("sources") or []
        source_names = sorted({(s.get("source") or {}).get("name") or "" for s in sources} - {""})
        document_names = sorted({m.get("name") or m.get("source") or "" for s in sources
                                 for m in (s.get("metadata") or []) if isinstance(m, dict)} - {""})
        result = {"answer": answer, "sources": source_names, "documents": document_names,
                  "marker": self.args.marker, "marker_in_answer": self.args.marker in answer}
        if not sources:
            raise Failed(f"no sources retrieved; answer: {_short(answer)}")
        if self.args.require_marker and not result["marker_in_answer"]:
            raise Failed(f"the marker is not in the answer: {_short(answer)}")
        return result

    # -- the run ---------------------------------------------------------------------------------
    def run(self) -> dict:
        with tempfile.TemporaryDirectory() as tmp:
            if self.args.document:
                self.document = pathlib.Path(self.args.document)
            else:
                self.document = pathlib.Path(tmp) / "aistack-e2e.md"
                self.document.write_text(DEFAULT_DOCUMENT, encoding="utf-8")
            status, version = self.client.request("GET", "/api/version", auth=False)
            self.report["version"] = version.get("version") if status == 200 and isinstance(version, dict) else None
            self.step("signin", func=self.signin)
            self.step("signup_refused", func=self.signup_refused)
            self.step("models", ["signin"], self.models)
            self.step("chat", ["models"], self.chat)
            self.step("knowledge", ["signin"], self.knowledge)
            self.step("upload", ["signin"], self.upload)
            self.step("processed", ["upload"], self.processed)
            self.step("knowledge_add", ["knowledge", "processed"], self.knowledge_add)
            self.step("rag_chat", ["knowledge_add", "models"], self.rag_chat)
        self.report["ok"] = all(step["ok"] for step in self.report["steps"].values())
        return self.report


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", default="http://127.0.0.1:3000", help="Open WebUI address (default %(default)s)")
    parser.add_argument("--email", default="admin@localhost", help="admin e-mail (default %(default)s)")
    password = parser.add_mutually_exclusive_group()
    password.add_argument("--password", help="admin password (or OPEN_WEBUI_PASSWORD)")
    password.add_argument("--password-file", help="file holding the admin password (e.g. the role's secret)")
    parser.add_argument("--model", default="llama3.2:1b", help="chat model id (default %(default)s)")
    parser.add_argument("--document", help="a .txt or .md file to upload (default: a generated one)")
    parser.add_argument("--marker", help="a sentence of the document to look for in the answer "
                                         "(default: the generated document's marker)")
    parser.add_argument("--question", default="What is the aistack end-to-end marker?",
                        help="the question asked with the knowledge base attached")
    parser.add_argument("--require-marker", action="store_true",
                        help="fail rag_chat unless the marker is in the answer (for a model that echoes)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per request (default %(default)s)")
    parser.add_argument("--process-timeout", type=float, default=180,
                        help="seconds to wait for the document to be processed (default %(default)s)")
    args = parser.parse_args(argv)
    if args.password_file:
        args.password = pathlib.Path(args.password_file).read_text(encoding="utf-8").strip()
    elif args.password is None:
        args.password = os.environ.get("OPEN_WEBUI_PASSWORD")
    if not args.password:
        parser.error("give --password, --password-file or OPEN_WEBUI_PASSWORD")
    if args.document and not args.marker:
        parser.error("--document needs --marker (a sentence of that document)")
    args.marker = args.marker or DEFAULT_MARKER
    return args


def main(argv=None) -> int:
    report = Check(parse_args(argv)).run()
    print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
