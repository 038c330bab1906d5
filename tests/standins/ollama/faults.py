"""Fault switches a test flips to make the stand-in misbehave the way real deployments do."""

from __future__ import annotations

import threading

DEFAULTS = {
    # The next N pull streams are cut (connection closed, no final line) once this many
    # bytes of that pull were downloaded; what was downloaded stays as a -partial blob.
    "drop_pulls": 0,
    "drop_after_bytes": 0,
    # Download speed of a pull in bytes per second (0 = as fast as the stand-in can go).
    "rate_bytes_per_second": 0,
    # Free space left for blobs (None = unlimited); a pull that needs more ends with
    # Ollama's "no space left on device" error line.
    "disk_free_bytes": None,
    # The registry cannot be reached: every pull fails, installed models keep working.
    "registry_offline": False,
    # Emulates an authenticating reverse proxy in front of Ollama: requests need
    # "Authorization: Bearer <key>" (401 without, 403 with a wrong one).
    "api_key": None,
    # Seconds between progress lines of a download (Ollama: about every 60 ms); 0 = every chunk.
    "progress_interval": 0.06,
}


class Faults:
    def __init__(self, initial: dict | None = None):
        self._lock = threading.Lock()
        self._values = dict(DEFAULTS)
        self.update(initial or {})

    def update(self, values: dict) -> dict:
        unknown = set(values) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown fault switches: {', '.join(sorted(unknown))}")
        with self._lock:
            self._values.update(values)
            return dict(self._values)

    def reset(self, values: dict | None = None) -> dict:
        with self._lock:
            self._values = dict(DEFAULTS)
        return self.update(values or {})

    def get(self, key: str):
        with self._lock:
            return self._values[key]

    def snapshot(self) -> dict:
        with self._lock:
            return dict(self._values)

    def take_drop(self) -> int | None:
        """Consume one pending drop: the byte count after which this pull is cut, or None."""
        with self._lock:
            if self._values["drop_pulls"] <= 0:
                return None
            self._values["drop_pulls"] -= 1
            return int(self._values["drop_after_bytes"])

    def spend_disk(self, wanted: int) -> int:
        """Reserve up to `wanted` bytes of the simulated free space; returns what was granted."""
        with self._lock:
            free = self._values["disk_free_bytes"]
            if free is None:
                return wanted
            granted = max(0, min(wanted, int(free)))
            self._values["disk_free_bytes"] = int(free) - granted
            return granted
