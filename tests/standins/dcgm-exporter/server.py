"""A test double of NVIDIA's dcgm-exporter 4.x (see README.md). Python standard library only.

    python3 server.py --address :9400 --gpus 1

Serves /metrics in dcgm-exporter's text format (its rendermetrics template: HELP and TYPE from
etc/default-counters.csv, labels gpu, UUID, pci_bus_id, device, modelName, Hostname,
DCGM_FI_DRIVER_VERSION), seeded from a real NVIDIA H100 80GB HBM3 (driver 580.159.04) idle.
A test drives the values through /_standin/control; no GPU is read.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# dcgm-exporter's etc/default-counters.csv (4.x): field, Prometheus type, help text, in file order.
COUNTERS = [
    ("DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz)."),
    ("DCGM_FI_DEV_MEM_CLOCK", "gauge", "Memory clock frequency (in MHz)."),
    ("DCGM_FI_DEV_MEMORY_TEMP", "gauge", "Memory temperature (in C)."),
    ("DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C)."),
    ("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W)."),
    ("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "counter", "Total energy consumption since boot (in mJ)."),
    ("DCGM_FI_DEV_PCIE_REPLAY_COUNTER", "counter", "Total number of PCIe retries."),
    ("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %)."),
    ("DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory utilization (in %)."),
    ("DCGM_FI_DEV_ENC_UTIL", "gauge", "Encoder utilization (in %)."),
    ("DCGM_FI_DEV_DEC_UTIL", "gauge", "Decoder utilization (in %)."),
    ("DCGM_FI_DEV_XID_ERRORS", "gauge", "Value of the last XID error encountered."),
    ("DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB)."),
    ("DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB)."),
    ("DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", "counter", "Total number of NVLink bandwidth counters for all lanes"),
    ("DCGM_FI_DEV_VGPU_LICENSE_STATUS", "gauge", "vGPU License status"),
    ("DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", "counter", "Number of remapped rows for uncorrectable errors"),
    ("DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", "counter", "Number of remapped rows for correctable errors"),
    ("DCGM_FI_DEV_ROW_REMAP_FAILURE", "gauge", "Whether remapping of rows has failed"),
]
FIELDS = {name for name, _type, _help in COUNTERS}
# DCGM's double-valued fields render with %f, the others as integers (as dcgm-exporter does).
FLOAT_FIELDS = {"DCGM_FI_DEV_POWER_USAGE"}

# nvidia-smi on a real H100 80GB HBM3 (shared reference captures h100-idle.csv, h100-load.csv,
# h100-nvidia-smi-q.txt): 81559 MiB in all, 480 MiB of it reserved by the driver.
MODEL = "NVIDIA H100 80GB HBM3"
DRIVER = "580.159.04"
UUID0 = "GPU-4b330ae0-eb5b-91c6-0e55-336f75503a54"
PRESETS = {
    "idle": {
        "DCGM_FI_DEV_SM_CLOCK": 345, "DCGM_FI_DEV_MEM_CLOCK": 2619, "DCGM_FI_DEV_MEMORY_TEMP": 36,
        "DCGM_FI_DEV_GPU_TEMP": 34, "DCGM_FI_DEV_POWER_USAGE": 71.46, "DCGM_FI_DEV_GPU_UTIL": 0,
        "DCGM_FI_DEV_MEM_COPY_UTIL": 0, "DCGM_FI_DEV_FB_FREE": 81079, "DCGM_FI_DEV_FB_USED": 0,
    },
    "load": {
        "DCGM_FI_DEV_SM_CLOCK": 1380, "DCGM_FI_DEV_MEM_CLOCK": 2619, "DCGM_FI_DEV_MEMORY_TEMP": 66,
        "DCGM_FI_DEV_GPU_TEMP": 64, "DCGM_FI_DEV_POWER_USAGE": 698.28, "DCGM_FI_DEV_GPU_UTIL": 100,
        "DCGM_FI_DEV_MEM_COPY_UTIL": 31, "DCGM_FI_DEV_FB_FREE": 22847, "DCGM_FI_DEV_FB_USED": 58233,
    },
}
ZERO = {name: 0 for name in FIELDS}


class Gpus:
    """The GPUs' identities and current field values; one lock for reads and writes."""

    def __init__(self, count: int, hostname: str, preset: str = "idle"):
        self.lock = threading.Lock()
        self.hostname = hostname
        self.last = time.monotonic()
        self.gpus = []
        for index in range(count):
            uuid = UUID0 if index == 0 else f"{UUID0[:-2]}{index:02x}"
            self.gpus.append({
                "gpu": index, "UUID": uuid, "pci_bus_id": f"00000000:00:{6 + index:02X}.0",
                "device": f"nvidia{index}", "modelName": MODEL, "values": {**ZERO, **PRESETS[preset]},
            })

    def update(self, change: dict) -> dict:
        """Apply {"gpu": n|"all", "preset": name, FIELD: value, ...}; raise ValueError when wrong."""
        if not isinstance(change, dict):
            raise ValueError("the body must be a JSON object")
        change = dict(change)
        target = change.pop("gpu", "all")
        preset = change.pop("preset", None)
        if preset is not None and preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
        unknown = sorted(set(change) - FIELDS)
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}; served: {', '.join(sorted(FIELDS))}")
        for name, value in change.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{name} must be a number, not {value!r}")
        with self.lock:
            if target == "all":
                chosen = self.gpus
            elif isinstance(target, int) and 0 <= target < len(self.gpus):
                chosen = [self.gpus[target]]
            else:
                raise ValueError(f"no GPU {target!r}: this exporter has GPUs 0..{len(self.gpus) - 1} (or \"all\")")
            for gpu in chosen:
                if preset is not None:
                    gpu["values"].update(PRESETS[preset])
                gpu["values"].update(change)
            return self.snapshot_locked()

    def snapshot_locked(self) -> dict:
        return {"hostname": self.hostname, "driver": DRIVER, "gpus": json.loads(json.dumps(self.gpus))}

    def snapshot(self) -> dict:
        with self.lock:
            return self.snapshot_locked()

    def render(self) -> str:
        with self.lock:
            now = time.monotonic()  # the energy counter grows with the power drawn, as on a GPU
            for gpu in self.gpus:
                values = gpu["values"]
                joules = values["DCGM_FI_DEV_POWER_USAGE"] * (now - self.last)
                values["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"] += int(joules * 1000)
            self.last = now
            lines = []
            for name, prom_type, help_text in COUNTERS:
                lines.append(f"# HELP {name} {help_text}")
                lines.append(f"# TYPE {name} {prom_type}")
                for gpu in self.gpus:
                    value = gpu["values"][name]
                    shown = f"{float(value):f}" if name in FLOAT_FIELDS else str(int(value))
                    lines.append(
                        f'{name}{{gpu="{gpu["gpu"]}",UUID="{gpu["UUID"]}",pci_bus_id="{gpu["pci_bus_id"]}",'
                        f'device="{gpu["device"]}",modelName="{gpu["modelName"]}",Hostname="{self.hostname}",'
                        f'DCGM_FI_DRIVER_VERSION="{DRIVER}"}} {shown}'
                    )
            return "\n".join(lines) + "\n"


LANDING = """<html>
\t\t\t<head><title>GPU Exporter</title></head>
\t\t\t<body>
\t\t\t<h1>GPU Exporter</h1>
\t\t\t<p><a href="./metrics">Metrics</a></p>
\t\t\t</body>
\t\t\t</html>"""


class Handler(BaseHTTPRequestHandler):
    server_version = "dcgm-exporter-standin"
    protocol_version = "HTTP/1.1"
    gpus: Gpus

    def log_message(self, fmt, *args):  # one line per request on stderr, like the other doubles
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def send(self, status: int, body: str | bytes, content_type: str = "text/plain; charset=utf-8") -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_json(self, status: int, obj) -> None:
        self.send(status, json.dumps(obj) + "\n", "application/json")

    def do_GET(self):  # noqa: N802 (http.server's name)
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self.send(200, self.gpus.render(), "text/plain; version=0.0.4; charset=utf-8")
        elif path == "/health":
            self.send(200, "KO")  # what dcgm-exporter 4.x answers, with 200 (server.go Health)
        elif path == "/":
            self.send(200, LANDING, "text/html; charset=utf-8")
        elif path == "/_standin/control":
            self.send_json(200, self.gpus.snapshot())
        else:
            self.send(404, "404 page not found\n")

    do_HEAD = do_GET  # noqa: N815

    def do_POST(self):  # noqa: N802
        if self.path.split("?", 1)[0] != "/_standin/control":
            self.send(404, "404 page not found\n")
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            change = json.loads(self.rfile.read(length) or b"{}")
            self.send_json(200, self.gpus.update(change))
        except (ValueError, json.JSONDecodeError) as err:
            self.send_json(400, {"error": str(err)})


def parse_address(address: str) -> tuple[str, int]:
    """dcgm-exporter's -a/--address form: ':9400' or 'host:9400'."""
    host, _sep, port = address.rpartition(":")
    return host or "0.0.0.0", int(port)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-a", "--address", default=os.environ.get("DCGM_EXPORTER_LISTEN", ":9400"))
    parser.add_argument("--gpus", type=int, default=int(os.environ.get("DCGM_STANDIN_GPUS", "1")))
    parser.add_argument("--preset", choices=sorted(PRESETS), default=os.environ.get("DCGM_STANDIN_PRESET", "idle"))
    # dcgm-exporter's other flags (-f counters file, -c collect interval, ...) are accepted and ignored.
    args, _ignored = parser.parse_known_args(argv)
    if args.gpus < 1:
        parser.error("--gpus must be 1 or more")
    Handler.gpus = Gpus(args.gpus, os.environ.get("NODE_NAME") or socket.gethostname(), args.preset)
    server = ThreadingHTTPServer(parse_address(args.address), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    sys.stderr.write(f"dcgm-exporter test double: {args.gpus} x {MODEL} on {args.address}\n")
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
