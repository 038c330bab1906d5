"""A test double of cAdvisor's Prometheus endpoint (see README.md). Python standard library only.

    python3 server.py --port 8080 [--docker unix:///var/run/docker.sock]

Serves /metrics with a few of cAdvisor's container and machine metrics (names, HELP texts,
labels id, image, name, container_label_* and timestamps as cAdvisor writes them) for the
machine ("/") and every running container the Docker engine lists, read through the engine's
API on its unix socket when it is mounted; without it, the machine alone. /healthz answers ok.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# name -> (type, HELP text), from cAdvisor's metrics/prometheus.go
METRICS = {
    "container_cpu_usage_seconds_total": ("counter", "Cumulative cpu time consumed in seconds."),
    "container_last_seen": ("gauge", "Last time a container was seen by the exporter"),
    "container_memory_usage_bytes": (
        "gauge", "Current memory usage in bytes, including all memory regardless of when it was accessed"),
    "container_memory_working_set_bytes": ("gauge", "Current working set in bytes."),
    "container_start_time_seconds": ("gauge", "Start time of the container since unix epoch in seconds."),
}
MACHINE = {
    "machine_cpu_cores": ("gauge", "Number of logical CPU cores."),
    "machine_memory_bytes": ("gauge", "Amount of memory installed on the machine."),
}


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over the Docker engine's unix socket."""

    def __init__(self, path: str, timeout: float = 5):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


class Docker:
    def __init__(self, url: str):
        parsed = urllib.parse.urlparse(url)
        self.path = parsed.path if parsed.scheme == "unix" else url

    def available(self) -> bool:
        return os.path.exists(self.path)

    def get(self, path: str):
        conn = UnixHTTPConnection(self.path)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                raise OSError(f"Docker engine answered {resp.status} to GET {path}: {body[:200]!r}")
            return json.loads(body)
        finally:
            conn.close()


def read(path: str, default: str = "") -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        return default


def meminfo() -> dict:
    values = {}
    for line in read("/proc/meminfo").splitlines():
        key, _sep, rest = line.partition(":")
        values[key] = int(rest.split()[0]) * 1024 if rest.split() else 0
    return values


def machine_cpu_seconds() -> float:
    fields = read("/proc/stat").splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def label_name(key: str) -> str:
    """A Docker label as cAdvisor names it: container_label_ + the key with non-[a-zA-Z0-9_] as _."""
    return "container_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", key)


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def fmt_labels(labels: dict) -> str:
    return "{" + ",".join(f'{key}="{escape(str(labels[key]))}"' for key in sorted(labels)) + "}"


def fmt_value(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else f"{float(value):.0f}"


class Collector:
    """Like cAdvisor's housekeeping: a background thread reads the containers every interval and
    /metrics serves the latest reading (the engine may take a second to answer a stats call)."""

    def __init__(self, docker: Docker, interval: float = 1.0):
        self.docker = docker
        self.interval = interval
        self.logged_missing = False
        self.snapshot: list[dict] = []
        self.ready = threading.Event()

    def start(self) -> Collector:
        threading.Thread(target=self.housekeeping, daemon=True).start()
        return self

    def housekeeping(self) -> None:
        while True:
            try:
                self.snapshot = self.containers()
            except (OSError, ValueError) as err:
                sys.stderr.write(f"listing containers: {err}\n")
            self.ready.set()
            time.sleep(self.interval)

    def container(self, summary: dict, systemd: bool) -> dict | None:
        cid = summary["Id"]
        try:
            stats = self.docker.get(f"/containers/{cid}/stats?stream=false&one-shot=true")
        except (OSError, ValueError) as err:
            sys.stderr.write(f"stats of {cid[:12]}: {err}\n")
            return None
        memory = stats.get("memory_stats") or {}
        usage = memory.get("usage", 0)
        mstats = memory.get("stats") or {}
        inactive = mstats.get("total_inactive_file", mstats.get("inactive_file", 0))
        labels = {label_name(k): v for k, v in (summary.get("Labels") or {}).items()}
        labels.update(
            id=f"/system.slice/docker-{cid}.scope" if systemd else f"/docker/{cid}",
            image=summary.get("Image", ""),
            name=(summary.get("Names") or ["/"])[0].lstrip("/"),
        )
        cpu = ((stats.get("cpu_stats") or {}).get("cpu_usage") or {}).get("total_usage", 0)
        return {"labels": labels, "cpu": cpu / 1e9, "usage": usage, "working_set": max(usage - inactive, 0),
                "start": summary.get("Created", 0), "seen": time.time()}

    def containers(self) -> list[dict]:
        """One entry per running container: labels (id, image, name, container_label_*) and values."""
        if not self.docker.available():
            if not self.logged_missing:
                sys.stderr.write(f"no Docker socket at {self.docker.path}: serving the machine alone\n")
                self.logged_missing = True
            return []
        systemd = self.docker.get("/info").get("CgroupDriver") == "systemd"
        summaries = self.docker.get("/containers/json")
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            found = pool.map(lambda summary: self.container(summary, systemd), summaries)
        return [entry for entry in found if entry]

    def render(self) -> str:
        self.ready.wait(timeout=10)
        now = time.time()
        mem = meminfo()
        stat = read("/proc/stat")
        boot = float(stat.split("btime ")[1].split()[0]) if "btime " in stat else 0
        root = {"labels": {"id": "/", "image": "", "name": ""}, "cpu": machine_cpu_seconds(),
                "usage": mem.get("MemTotal", 0) - mem.get("MemFree", 0),
                "working_set": mem.get("MemTotal", 0) - mem.get("MemAvailable", 0),
                "start": boot, "seen": now}
        entries = [root, *self.snapshot]
        rows = {
            "container_cpu_usage_seconds_total": lambda e: ({**e["labels"], "cpu": "total"}, e["cpu"]),
            "container_last_seen": lambda e: (e["labels"], int(e["seen"])),
            "container_memory_usage_bytes": lambda e: (e["labels"], e["usage"]),
            "container_memory_working_set_bytes": lambda e: (e["labels"], e["working_set"]),
            "container_start_time_seconds": lambda e: (e["labels"], e["start"]),
        }
        # Like cAdvisor, every sample carries every label any container has (empty where it has none).
        blank = dict.fromkeys({key for entry in entries for key in entry["labels"]}, "")
        lines = []
        for name, (prom_type, help_text) in METRICS.items():
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {prom_type}"]
            for entry in entries:
                labels, value = rows[name](entry)
                stamp = int(entry["seen"] * 1000)  # cAdvisor stamps a sample with the time it was read
                lines.append(f"{name}{fmt_labels({**blank, **labels})} {fmt_value(value)} {stamp}")
        machine = {"boot_id": read("/proc/sys/kernel/random/boot_id"), "machine_id": read("/etc/machine-id"),
                   "system_uuid": read("/sys/class/dmi/id/product_uuid")}
        values = {"machine_cpu_cores": os.cpu_count() or 1, "machine_memory_bytes": mem.get("MemTotal", 0)}
        for name, (prom_type, help_text) in MACHINE.items():
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {prom_type}",
                      f"{name}{fmt_labels(machine)} {fmt_value(values[name])}"]
        return "\n".join(lines) + "\n"


class Handler(BaseHTTPRequestHandler):
    server_version = "cadvisor-standin"
    protocol_version = "HTTP/1.1"
    collector: Collector

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def send(self, status: int, body: str, content_type: str = "text/plain; charset=utf-8") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):  # noqa: N802 (http.server's name)
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self.send(200, self.collector.render(), "text/plain; version=0.0.4; charset=utf-8")
        elif path == "/healthz":
            self.send(200, "ok")
        elif path == "/":
            self.send(307, "", "text/html")  # cAdvisor redirects / to its UI at /containers/
        else:
            self.send(404, "404 page not found\n")

    do_HEAD = do_GET  # noqa: N815


def parse_flags(argv: list[str]) -> dict:
    """cAdvisor's Go flags: -name=value, --name=value or -name value; the ones not read here are ignored."""
    flags = {"port": "8080", "listen_ip": "", "docker": "unix:///var/run/docker.sock", "housekeeping_interval": "1s"}
    args = list(argv)
    while args:
        arg = args.pop(0)
        name, has_value, value = arg.lstrip("-").partition("=")
        if name in flags:
            if not has_value:
                value = args.pop(0) if args else ""
            flags[name] = value
    return flags


def main(argv=None) -> int:
    args = argparse.Namespace(**parse_flags(sys.argv[1:] if argv is None else argv))
    args.port = int(args.port)
    duration = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", args.housekeeping_interval)
    interval = float(duration[1]) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[duration[2]] if duration else 1.0
    Handler.collector = Collector(Docker(args.docker), interval).start()
    server = ThreadingHTTPServer((args.listen_ip or "0.0.0.0", args.port), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    sys.stderr.write(f"cAdvisor test double on :{args.port}, Docker at {args.docker}\n")
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
