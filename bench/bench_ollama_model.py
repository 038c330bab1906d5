"""Benchmark of aistack.selfhosted.ollama_model against the Ollama stand-in (`make bench`).

1. 50 declared models, all installed: HTTP requests per module call (expected: 1) and wall time
   per call (a whole module process, as Ansible runs it on a target).
2. A 2 GiB pull: peak memory of the module process, compared with a tiny pull (flat means the
   same), and throughput as a ratio to curl streaming the same pull in this run.

The 2 GiB model is synthesised by the stand-in and stored as a sparse file: no disk is filled.
Its progress is reported for every 1 MiB (about 2,000 lines) instead of Ollama's ~60 ms ticks,
so the reader is exercised harder than by a real server. Figures only, no pass/fail.
"""

from __future__ import annotations

import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "integration" / "ollama"))
sys.path.insert(0, str(HERE.parent / "collections"))

from ansible_collections.aistack.selfhosted.plugins.module_utils._ollama_client import OllamaClient  # noqa: E402
from module_runner import run_module  # noqa: E402
from standin import OllamaStandin  # noqa: E402

CALLS = 10
BIG = "bench/big:2g"
BIG_SIZE = 2 << 30
ROUNDS = 5


def installed_models(server: OllamaStandin) -> None:
    names = [f"bench/model-{i:02d}:q4" for i in range(50)]
    for name in names:
        server.add_to_catalogue(name, size=1024)
        server.pull(name)
    times, requests = [], []
    for _call in range(CALLS):
        logged = len(server.request_log())
        result, usage = run_module("ollama_model", {"api_url": server.url, "models": names})
        assert result.get("changed") is False, result
        times.append(usage["seconds"])
        requests.append(len(server.request_log()) - logged)
    print(f"50 installed models: {statistics.median(requests):.0f} HTTP request(s) per call "
          f"(min {min(requests)}, max {max(requests)}); wall time per call median {statistics.median(times):.3f} s, "
          f"min {min(times):.3f} s, max {max(times):.3f} s over {CALLS} calls")


def delete(server: OllamaStandin, name: str) -> None:
    status, body = server.request("DELETE", "/api/delete", {"model": name})
    assert status == 200, body


def curl_pull(server: OllamaStandin, name: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of curl) for one streamed pull."""
    started = time.perf_counter()
    proc = subprocess.Popen(["curl", "-sS", "-N", "--fail", "-o", "/dev/null", "--data", f'{{"model": "{name}"}}',
                             server.url + "/api/pull"])
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    assert os.waitstatus_to_exitcode(status) == 0, "curl failed"
    return seconds, usage.ru_utime + usage.ru_stime


def module_pull(server: OllamaStandin, name: str) -> tuple[dict, dict]:
    result, usage = run_module("ollama_model", {"api_url": server.url, "name": name})
    assert result.get("changed") is True, result
    return usage, result["pulled"][0]


def client_pull(server: OllamaStandin, name: str) -> float:
    """The module's streaming code alone, in this process: no interpreter start, no /api/tags."""
    started = time.perf_counter()
    OllamaClient(server.url).pull(name, pull_timeout=600)
    return time.perf_counter() - started


def big_pull(server: OllamaStandin) -> None:
    server.add_to_catalogue(BIG, size=BIG_SIZE)
    server.set_faults(progress_interval=0)
    curl_pull(server, BIG)  # warm-up: the stand-in hashes the synthetic layer once
    delete(server, BIG)
    tiny_usage, _pulled = module_pull(server, "qwen2.5:0.5b")
    tiny_rss = tiny_usage["max_rss_kib"]
    curl_times, module_times, client_times, rss, curl_cpu, module_cpu = [], [], [], [], [], []
    for _round in range(ROUNDS):  # interleaved, so that load from elsewhere hits every contender alike
        seconds, cpu = curl_pull(server, BIG)
        curl_times.append(seconds)
        curl_cpu.append(cpu)
        delete(server, BIG)
        usage, pulled = module_pull(server, BIG)
        assert pulled["bytes"] >= BIG_SIZE, pulled
        module_times.append(usage["seconds"])
        module_cpu.append(usage["cpu_seconds"])
        rss.append(usage["max_rss_kib"])
        delete(server, BIG)
        client_times.append(client_pull(server, BIG))
        delete(server, BIG)
    gib = BIG_SIZE / (1 << 30)
    curl_s = statistics.median(curl_times)
    print(f"2 GiB pull: module process peak RSS {max(rss) / 1024:.1f} MiB (max of {ROUNDS} runs); "
          f"a 1 MiB pull peaks at {tiny_rss / 1024:.1f} MiB")
    for label, times in (("curl", curl_times), ("module process", module_times),
                         ("module's stream reader in-process", client_times)):
        median = statistics.median(times)
        print(f"2 GiB pull, {label}: median {median:.2f} s = {gib / median:.2f} GiB/s, "
              f"ratio to curl {curl_s / median:.2f} (runs: {', '.join(f'{t:.2f}' for t in times)} s)")
    print(f"2 GiB pull, CPU used by the reader (load-independent): curl median {statistics.median(curl_cpu):.2f} s, "
          f"module process median {statistics.median(module_cpu):.2f} s "
          f"(a 1 MiB pull, i.e. start-up and two /api/tags: {tiny_usage['cpu_seconds']:.2f} s)")
    with open("/proc/loadavg") as handle:
        print(f"load average during the run: {' '.join(handle.read().split()[:3])} (2 cores shared)")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        server = OllamaStandin(pathlib.Path(tmp) / "models", verbose=True).start()
        try:
            installed_models(server)
            big_pull(server)
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
