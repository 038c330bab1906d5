"""A test double of Grafana's HTTP API and file provisioning (see README.md).

    GF_SECURITY_ADMIN_PASSWORD__FILE=/run/secrets/pw python3 server.py

Python standard library plus PyYAML (Debian's python3-yaml in the image), for Grafana's YAML
provisioning files. It reads the provisioning files the way Grafana does at start (and fails on a
malformed one, as Grafana does), then reports what it loaded through Grafana's own API paths:
/api/health, /api/datasources[...], /api/search, /api/dashboards/uid/<uid>, /api/folders,
/api/user. Basic auth as the admin user; anonymous access only when GF_AUTH_ANONYMOUS_ENABLED.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import pathlib
import re
import signal
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

VERSION = os.environ.get("GRAFANA_STANDIN_VERSION", "13.0.0")
ENV_REF = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


class ProvisioningError(Exception):
    """A provisioning file Grafana would refuse to start with."""


def log(level: str, msg: str, **fields) -> None:
    extra = "".join(f" {k}={json.dumps(v) if isinstance(v, str) and ' ' in v else v}" for k, v in fields.items())
    sys.stderr.write(f"logger=standin level={level} msg={json.dumps(msg)}{extra}\n")
    sys.stderr.flush()


def expand_env(value):
    """$VAR and ${VAR} in values (not keys), as Grafana's provisioning reader expands them."""
    if isinstance(value, str):
        return ENV_REF.sub(lambda m: os.environ.get(m.group(1) or m.group(2), ""), value)
    if isinstance(value, list):
        return [expand_env(item) for item in value]
    if isinstance(value, dict):
        return {key: expand_env(item) for key, item in value.items()}
    return value


def yaml_files(directory: pathlib.Path) -> list[pathlib.Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def load_yaml(path: pathlib.Path, kind: str) -> dict:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ProvisioningError(f"{kind} provisioning error: could not parse {path}: {err}") from err
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ProvisioningError(f"{kind} provisioning error: {path}: the file must be a mapping")
    if doc.get("apiVersion", 0) != 1:
        got = doc.get("apiVersion")
        raise ProvisioningError(f"{kind} provisioning error: {path}: apiVersion must be 1 (got {got!r})")
    return doc


def slugify(title: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]+", "-", title.lower())).strip("-")


def stable_uid(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:14]


def load_datasources(directory: pathlib.Path) -> list[dict]:
    found: dict[tuple, dict] = {}
    for path in yaml_files(directory):
        doc = load_yaml(path, "Datasource")
        items = doc.get("datasources") or []
        if not isinstance(items, list):
            raise ProvisioningError(f"Datasource provisioning error: {path}: datasources must be a list")
        for item in doc.get("deleteDatasources") or []:
            if not isinstance(item, dict) or not item.get("name"):
                raise ProvisioningError(f"Datasource provisioning error: {path}: deleteDatasources entries need a name")
            found.pop((item.get("orgId", 1), item["name"]), None)
        for raw in items:
            if not isinstance(raw, dict):
                raise ProvisioningError(f"Datasource provisioning error: {path}: each datasource must be a mapping")
            ds = expand_env(raw)
            if not ds.get("name"):
                raise ProvisioningError(f"Datasource provisioning error: {path}: a datasource has no name")
            if not ds.get("type"):
                raise ProvisioningError(f"Datasource provisioning error: {path}: datasource {ds['name']!r} has no type")
            access = ds.get("access") or "proxy"
            if access not in ("proxy", "direct"):
                raise ProvisioningError(
                    f"Datasource provisioning error: {path}: datasource {ds['name']!r}: access must be proxy or direct")
            for key in ("jsonData", "secureJsonData"):
                if ds.get(key) is not None and not isinstance(ds[key], dict):
                    raise ProvisioningError(
                        f"Datasource provisioning error: {path}: {ds['name']!r}: {key} must be a mapping")
            org = ds.get("orgId") or 1
            found[(org, ds["name"])] = {
                "orgId": org, "name": ds["name"], "type": ds["type"], "access": access,
                "uid": ds.get("uid") or stable_uid("ds", str(org), ds["name"]), "url": ds.get("url") or "",
                "user": ds.get("user") or "", "database": ds.get("database") or "",
                "basicAuth": bool(ds.get("basicAuth")), "basicAuthUser": ds.get("basicAuthUser") or "",
                "withCredentials": bool(ds.get("withCredentials")), "isDefault": bool(ds.get("isDefault")),
                "jsonData": ds.get("jsonData") or {}, "secureJsonData": ds.get("secureJsonData") or {},
                "version": ds.get("version") or 1, "readOnly": not ds.get("editable", False), "file": str(path),
            }
    datasources = list(found.values())
    for org in {ds["orgId"] for ds in datasources}:
        if sum(1 for ds in datasources if ds["orgId"] == org and ds["isDefault"]) > 1:
            raise ProvisioningError(
                "Datasource provisioning error: datasource.yaml config is invalid. "
                "Only one datasource per organization can be marked as default")
    for index, ds in enumerate(datasources, start=1):
        ds["id"] = index
    return datasources


def load_providers(directory: pathlib.Path) -> list[dict]:
    providers, names = [], set()
    for path in yaml_files(directory):
        doc = load_yaml(path, "Dashboard")
        items = doc.get("providers") or []
        if not isinstance(items, list):
            raise ProvisioningError(f"Dashboard provisioning error: {path}: providers must be a list")
        for raw in items:
            if not isinstance(raw, dict):
                raise ProvisioningError(f"Dashboard provisioning error: {path}: each provider must be a mapping")
            prov = expand_env(raw)
            name = prov.get("name") or ""
            if name in names:
                raise ProvisioningError(
                    f"Dashboard provisioning error: {path}: dashboard provider name {name!r} is used twice")
            names.add(name)
            if (prov.get("type") or "file") != "file":
                raise ProvisioningError(f"Dashboard provisioning error: {path}: provider {name!r}: type must be file")
            options = prov.get("options") or {}
            if not isinstance(options, dict) or not options.get("path"):
                raise ProvisioningError(f"Dashboard provisioning error: {path}: provider {name!r} has no options.path")
            providers.append({
                "name": name, "orgId": prov.get("orgId") or 1, "folder": prov.get("folder") or "",
                "folderUid": prov.get("folderUid") or "", "path": pathlib.Path(options["path"]),
                "fromFiles": bool(options.get("foldersFromFilesStructure")),
                "allowUiUpdates": bool(prov.get("allowUiUpdates")),
            })
    return providers


def scan_dashboards(providers: list[dict], warned: set) -> tuple[list[dict], dict]:
    """Every provider's *.json dashboards (Grafana re-reads them every updateIntervalSeconds).

    As in Grafana, a dashboard that cannot be read is logged and skipped, not fatal."""
    dashboards, folders, seen = [], {}, set()

    def note(key, level, msg, **fields):
        if key not in warned:
            warned.add(key)
            log(level, msg, **fields)

    for prov in providers:
        root = prov["path"]
        if not root.is_dir():
            note(("dir", str(root)), "error", "Cannot read directory", path=str(root), provider=prov["name"])
            continue
        for path in sorted(root.rglob("*.json")):
            rel = path.relative_to(root)
            try:
                dash = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError) as err:
                note(("bad", str(path), path.stat().st_mtime), "error", "failed to load dashboard from ",
                     file=str(path), error=str(err))
                continue
            if not isinstance(dash, dict) or not dash.get("title"):
                note(("title", str(path)), "error", "failed to save dashboard", file=str(path),
                     error="Dashboard title cannot be empty")
                continue
            uid = dash.get("uid") or stable_uid("dash", str(path))
            if uid in seen:
                note(("uid", uid), "warn", "the same UID is used more than once", uid=uid, file=str(path))
                continue
            seen.add(uid)
            folder_title = prov["folder"]
            if prov["fromFiles"] and len(rel.parts) > 1:
                folder_title = rel.parts[0]
            folder_uid = ""
            if folder_title:
                folder_uid = prov["folderUid"] if folder_title == prov["folder"] and prov["folderUid"] else \
                    stable_uid("folder", folder_title)
                folders[folder_uid] = folder_title
            dashboards.append({"uid": uid, "title": dash["title"], "tags": dash.get("tags") or [],
                               "json": dash, "folderUid": folder_uid, "folderTitle": folder_title,
                               "provider": prov, "file": str(rel)})
    for index, dash in enumerate(dashboards, start=1):
        dash["id"] = index
    return dashboards, folders


class Grafana:
    def __init__(self):
        env = os.environ
        if env.get("GF_SECURITY_ADMIN_PASSWORD") and env.get("GF_SECURITY_ADMIN_PASSWORD__FILE"):
            # the real image's run.sh, which turns GF_*__FILE variables into the file's content
            raise ProvisioningError("Both GF_SECURITY_ADMIN_PASSWORD and GF_SECURITY_ADMIN_PASSWORD__FILE are set "
                                    "(but are exclusive)")
        if env.get("GF_SECURITY_ADMIN_PASSWORD"):
            raise ProvisioningError("GF_SECURITY_ADMIN_PASSWORD is set: this test double refuses a secret in the "
                                    "environment; mount it as a file and set GF_SECURITY_ADMIN_PASSWORD__FILE")
        pw_file = env.get("GF_SECURITY_ADMIN_PASSWORD__FILE")
        if not pw_file:
            raise ProvisioningError("GF_SECURITY_ADMIN_PASSWORD__FILE is not set: this test double refuses to start "
                                    "with Grafana's default admin password")
        try:
            # run.sh reads it with $(< file): every trailing newline goes
            self.password = pathlib.Path(pw_file).read_text(encoding="utf-8").rstrip("\n")
        except OSError as err:
            raise ProvisioningError(f"failed to read GF_SECURITY_ADMIN_PASSWORD__FILE {pw_file}: {err}") from err
        if not self.password:
            raise ProvisioningError(f"the admin password file {pw_file} is empty")
        self.user = env.get("GF_SECURITY_ADMIN_USER") or "admin"
        self.anonymous = env.get("GF_AUTH_ANONYMOUS_ENABLED", "false").lower() == "true"
        data = pathlib.Path(env.get("GF_PATHS_DATA") or "/var/lib/grafana")
        try:
            data.mkdir(parents=True, exist_ok=True)
            (data / "grafana.db").touch()
        except OSError as err:
            raise ProvisioningError(f"GF_PATHS_DATA='{data}' is not writable. ({err})") from err
        prov = pathlib.Path(env.get("GF_PATHS_PROVISIONING") or "/etc/grafana/provisioning")
        self.datasources = load_datasources(prov / "datasources")
        self.providers = load_providers(prov / "dashboards")
        self.warned: set = set()
        self.lock = threading.Lock()
        dashboards, _folders = self.dashboards()
        log("info", "provisioned", datasources=len(self.datasources), providers=len(self.providers),
            dashboards=len(dashboards), provisioning=str(prov))

    def dashboards(self):
        with self.lock:
            return scan_dashboards(self.providers, self.warned)

    def authorised(self, header: str | None) -> bool | None:
        """True for the admin, None without credentials, False for wrong ones."""
        if not header:
            return None
        scheme, _sep, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _sep, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return False
        return hmac.compare_digest(user, self.user) and hmac.compare_digest(password, self.password)


def ds_summary(ds: dict) -> dict:
    keys = ("id", "uid", "orgId", "name", "type", "access", "url", "user", "database", "basicAuth",
            "isDefault", "jsonData", "readOnly")
    return {**{k: ds[k] for k in keys}, "typeName": ds["type"].capitalize(), "typeLogoUrl": ""}


def ds_full(ds: dict) -> dict:
    full = ds_summary(ds)
    full.update(basicAuthUser=ds["basicAuthUser"], withCredentials=ds["withCredentials"], version=ds["version"],
                secureJsonFields=dict.fromkeys(ds["secureJsonData"], True))
    return full


def ds_health(ds: dict) -> tuple[int, dict]:
    """Grafana's Prometheus health check: the query 1+1 through the datasource's URL."""
    if ds["type"] != "prometheus":
        return 400, {"status": "ERROR", "message": f"health check of {ds['type']} is not simulated by the test double"}
    url = ds["url"].rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": "1+1"})
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            body = json.loads(resp.read())
        if body.get("status") == "success":
            return 200, {"status": "OK", "message": "Successfully queried the Prometheus API."}
        return 400, {"status": "ERROR", "message": f"unexpected answer from {url}: {body}"}
    except (OSError, ValueError, urllib.error.URLError) as err:
        return 400, {"status": "ERROR", "message": f"There was an error returned querying the Prometheus API. {err}"}


class Handler(BaseHTTPRequestHandler):
    server_version = "grafana-standin"
    protocol_version = "HTTP/1.1"
    grafana: Grafana

    def log_message(self, fmt, *args):
        sys.stderr.write("logger=context %s %s\n" % (self.address_string(), fmt % args))

    def send_json(self, status: int, obj) -> None:
        data = (json.dumps(obj) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):  # noqa: N802 (http.server's name)
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path.rstrip("/") or "/", urllib.parse.parse_qs(url.query)
        g = self.grafana
        if path == "/api/health":
            self.send_json(200, {"database": "ok", "version": VERSION, "commit": "aistack-test-double"})
            return
        if path == "/metrics":  # Grafana serves its own metrics without auth by default
            self.send_text(200, self.metrics(), "text/plain; version=0.0.4; charset=utf-8")
            return
        if not path.startswith("/api/"):
            self.send_json(404, {"message": "Not found"})
            return
        auth = g.authorised(self.headers.get("Authorization"))
        if auth is False:
            self.send_json(401, {"message": "Invalid username or password"})
            return
        if auth is None and not g.anonymous:
            self.send_json(401, {"message": "Unauthorized"})
            return
        by_uid = {ds["uid"]: ds for ds in g.datasources}
        by_name = {ds["name"]: ds for ds in g.datasources}
        by_id = {str(ds["id"]): ds for ds in g.datasources}
        match = re.fullmatch(r"/api/datasources/(uid|name)/([^/]+)(/health)?|/api/datasources/(\d+)", path)
        if path == "/api/datasources":
            self.send_json(200, [ds_summary(ds) for ds in g.datasources])
        elif match:
            kind, key, health, num = match.groups()
            key = urllib.parse.unquote(key or "")
            ds = by_uid.get(key) if kind == "uid" else by_name.get(key) if kind == "name" else by_id.get(num)
            if ds is None:
                self.send_json(404, {"message": "Data source not found"})
            elif health:
                self.send_json(*ds_health(ds))
            else:
                self.send_json(200, ds_full(ds))
        elif path == "/api/search":
            self.send_json(200, self.search(query))
        elif path.startswith("/api/dashboards/uid/"):
            uid = urllib.parse.unquote(path.rsplit("/", 1)[1])
            dash = next((d for d in g.dashboards()[0] if d["uid"] == uid), None)
            if dash is None:
                self.send_json(404, {"message": "Dashboard not found"})
            else:
                self.send_json(200, self.dashboard(dash))
        elif path == "/api/folders":
            folders = g.dashboards()[1]
            self.send_json(200, [{"id": i, "uid": uid, "title": title}
                                 for i, (uid, title) in enumerate(sorted(folders.items()), start=1)])
        elif path == "/api/user":
            if auth:
                self.send_json(200, {"id": 1, "login": g.user, "name": "", "email": "admin@localhost",
                                     "isGrafanaAdmin": True, "orgId": 1})
            else:
                self.send_json(404, {"message": "user not found"})
        else:
            self.send_json(404, {"message": "Not found"})

    do_HEAD = do_GET  # noqa: N815

    def send_text(self, status: int, text: str, content_type: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def metrics(self) -> str:
        """A few of Grafana's own metrics (names and HELP texts as Grafana registers them)."""
        dashboards, _folders = self.grafana.dashboards()
        return (
            "# HELP grafana_build_info A metric with a constant '1' value labeled by version, revision, branch, "
            "and goversion from which Grafana was built\n"
            "# TYPE grafana_build_info gauge\n"
            f'grafana_build_info{{branch="HEAD",edition="oss",goversion="go1.25",revision="aistack-test-double",'
            f'version="{VERSION}"}} 1\n'
            "# HELP grafana_stat_totals_dashboard total amount of dashboards\n"
            "# TYPE grafana_stat_totals_dashboard gauge\n"
            f"grafana_stat_totals_dashboard {len(dashboards)}\n"
            "# HELP grafana_stat_totals_datasource total number of defined datasources, labeled by pluginId\n"
            "# TYPE grafana_stat_totals_datasource gauge\n"
            + "".join(f'grafana_stat_totals_datasource{{plugin_id="{t}"}} '
                      f"{sum(1 for ds in self.grafana.datasources if ds['type'] == t)}\n"
                      for t in sorted({ds["type"] for ds in self.grafana.datasources}))
        )

    def search(self, query: dict) -> list:
        dashboards, folders = self.grafana.dashboards()
        text = (query.get("query") or [""])[0].lower()
        kinds = set(query.get("type") or [])
        tags = set(query.get("tag") or [])
        hits = []
        if not kinds or "dash-folder" in kinds:
            for uid, title in sorted(folders.items(), key=lambda item: item[1]):
                if text in title.lower() and not tags:
                    hits.append({"id": 0, "uid": uid, "title": title, "uri": f"db/{slugify(title)}",
                                 "url": f"/dashboards/f/{uid}/{slugify(title)}", "slug": "", "type": "dash-folder",
                                 "tags": [], "isStarred": False, "sortMeta": 0})
        if not kinds or "dash-db" in kinds:
            for dash in sorted(dashboards, key=lambda d: d["title"].lower()):
                if text not in dash["title"].lower() or not tags <= set(dash["tags"]):
                    continue
                hit = {"id": dash["id"], "uid": dash["uid"], "orgId": dash["provider"]["orgId"],
                       "title": dash["title"], "uri": f"db/{slugify(dash['title'])}",
                       "url": f"/d/{dash['uid']}/{slugify(dash['title'])}", "slug": "", "type": "dash-db",
                       "tags": dash["tags"], "isStarred": False, "sortMeta": 0}
                if dash["folderUid"]:
                    hit.update(folderUid=dash["folderUid"], folderTitle=dash["folderTitle"],
                               folderUrl=f"/dashboards/f/{dash['folderUid']}/{slugify(dash['folderTitle'])}")
                hits.append(hit)
        return hits

    def dashboard(self, dash: dict) -> dict:
        body = {**dash["json"], "id": dash["id"], "uid": dash["uid"], "version": dash["json"].get("version", 1)}
        slug = slugify(dash["title"])
        editable = dash["provider"]["allowUiUpdates"]
        return {"dashboard": body, "meta": {
            "type": "db", "canSave": editable, "canEdit": editable, "canAdmin": True, "canStar": True,
            "canDelete": editable, "slug": slug, "url": f"/d/{dash['uid']}/{slug}", "version": body["version"],
            "isFolder": False, "folderUid": dash["folderUid"], "folderTitle": dash["folderTitle"] or "General",
            "provisioned": True, "provisionedExternalId": dash["file"],
        }}


def main() -> int:
    try:
        Handler.grafana = Grafana()
    except ProvisioningError as err:
        log("error", "Failed to start grafana", error=str(err))
        print(f"Error: ✗ {err}", file=sys.stderr)
        return 1
    addr = os.environ.get("GF_SERVER_HTTP_ADDR") or "0.0.0.0"
    port = int(os.environ.get("GF_SERVER_HTTP_PORT") or 3000)
    server = ThreadingHTTPServer((addr, port), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    log("info", "HTTP Server Listen", address=f"{addr}:{port}", protocol="http", version=VERSION)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
