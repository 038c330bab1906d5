"""Benchmark: 50 requests on one kept-alive HTTP/1.1 connection to each test server (`make bench`).

The Ollama and Qdrant test doubles are started as processes; http.client sends 50 GETs and 50
POSTs with a JSON body over one connection each (the way qdrant-client, httpx and Open WebUI keep
connections open). Before `disable_nagle_algorithm` was set on their handlers, headers and body
left in two writes and every answer waited for the client's delayed ACK (about 40 ms). Figures
only, no pass/fail.
"""

from __future__ import annotations

import http.client
import json
import pathlib
import statistics
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "integration" / "ollama"))
sys.path.insert(0, str(HERE.parent / "tests" / "integration" / "qdrant"))

from qdrant_standin import QdrantProcess  # noqa: E402
from standin import OllamaStandin  # noqa: E402

REQUESTS = 50
KEY = "bench-key"


def timed_requests(port: int, requests: list[tuple[str, str, dict | None]], headers: dict) -> list[float]:
    """Seconds per request, all on one connection (which must stay the same socket)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    sock = None
    for method, path, body in requests:
        data = json.dumps(body).encode() if body is not None else None
        start = time.perf_counter()
        conn.request(method, path, body=data, headers={**headers, "Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        times.append(time.perf_counter() - start)
        assert response.status == 200, (method, path, response.status)
        sock = sock or conn.sock
        assert conn.sock is sock, "the server closed the kept-alive connection"
    conn.close()
    return times


def report(name: str, kind: str, times: list[float]) -> None:
    print(f"{name:7} {kind:5} {len(times)} requests on one connection: total {sum(times) * 1000:7.1f} ms, "
          f"median {statistics.median(times) * 1000:6.2f} ms, max {max(times) * 1000:6.2f} ms")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        base = pathlib.Path(tmp)
        ollama = OllamaStandin(base / "ollama").start()
        qdrant = QdrantProcess(base / "qdrant", f"service:\n  api_key: {KEY}\n").start()
        try:
            report("ollama", "GET", timed_requests(ollama.port, [("GET", "/api/tags", None)] * REQUESTS, {}))
            ollama.add_to_catalogue("bench/tiny:q4", size=1024)
            ollama.pull("bench/tiny:q4")
            report("ollama", "POST", timed_requests(
                ollama.port, [("POST", "/api/show", {"model": "bench/tiny:q4"})] * REQUESTS, {}))
            headers = {"api-key": KEY}
            timed_requests(qdrant.port, [("PUT", "/collections/bench",
                                          {"vectors": {"size": 4, "distance": "Cosine"}})], headers)
            report("qdrant", "GET", timed_requests(qdrant.port, [("GET", "/collections", None)] * REQUESTS, headers))
            report("qdrant", "POST", timed_requests(
                qdrant.port, [("POST", "/collections/bench/points/count", {"exact": True})] * REQUESTS, headers))
        finally:
            ollama.stop()
            qdrant.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
