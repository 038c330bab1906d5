# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What qdrant_collection compares and sends: pure functions, no I/O.

A collection is described in one flat shape, named like the module's options:
    {name, state, vector_size, distance, on_disk, on_disk_payload, hnsw_config, optimizers_config, points_count}
`desired` holds only what the user set (None = leave the server's value alone); `current` is read
from GET /collections/{name}. Qdrant cannot change a vector's size or distance in an update and
ignores them silently if sent (API reference part B.3), so those are compared here and reported
as needing a recreate; everything else the module manages is PATCHed.
"""

from __future__ import annotations

import copy

DISTANCES = ("Cosine", "Dot", "Euclid", "Manhattan")
IMMUTABLE = ("vector_size", "distance")
HNSW_KEYS = ("m", "ef_construct", "full_scan_threshold", "max_indexing_threads", "on_disk", "payload_m")
OPTIMIZER_KEYS = ("deleted_threshold", "vacuum_min_vector_number", "default_segment_number", "max_segment_size",
                  "indexing_threshold", "flush_interval_sec", "max_optimization_threads")


class UnsupportedCollection(Exception):
    """An existing collection this module cannot manage (named vectors)."""


def _set_only(options: dict | None, keys) -> dict:
    return {key: options[key] for key in keys if options and options.get(key) is not None}


def desired_from_params(params: dict) -> dict:
    return {
        "name": params["name"],
        "vector_size": params.get("vector_size"),
        "distance": params.get("distance"),
        "on_disk": params.get("on_disk"),
        "on_disk_payload": params.get("on_disk_payload"),
        "hnsw_config": _set_only(params.get("hnsw_config"), HNSW_KEYS),
        "optimizers_config": _set_only(params.get("optimizers_config"), OPTIMIZER_KEYS),
    }


def current_from_info(name: str, info: dict) -> dict:
    """The flat shape of a GET /collections/{name} result."""
    config = info.get("config") or {}
    params = config.get("params") or {}
    vectors = params.get("vectors") or {}
    if "size" not in vectors:
        raise UnsupportedCollection(
            f"collection '{name}' uses named vectors ({', '.join(sorted(vectors)) or 'none'}); "
            "qdrant_collection manages collections with one unnamed vector only")
    return {
        "name": name,
        "state": "present",
        "vector_size": vectors["size"],
        "distance": vectors["distance"],
        # Qdrant omits on_disk when it was never set: that means in memory.
        "on_disk": bool(vectors.get("on_disk", False)),
        "on_disk_payload": params.get("on_disk_payload"),
        "hnsw_config": _set_only(config.get("hnsw_config"), HNSW_KEYS),
        "optimizers_config": {key: (config.get("optimizer_config") or {}).get(key) for key in OPTIMIZER_KEYS},
        "points_count": info.get("points_count") or 0,
    }


def absent_view(name: str) -> dict:
    return {"name": name, "state": "absent"}


def immutable_changes(current: dict, desired: dict) -> list:
    """[(option, current value, wanted value)] for what only a recreate can change."""
    return [(key, current[key], desired[key]) for key in IMMUTABLE
            if desired.get(key) is not None and current.get(key) != desired[key]]


def _differing(current: dict, wanted: dict) -> dict:
    return {key: value for key, value in wanted.items() if (current or {}).get(key) != value}


def update_body(current: dict, desired: dict) -> dict:
    """The PATCH /collections/{name} body for what differs; {} when nothing does."""
    body: dict = {}
    if desired.get("on_disk") is not None and current.get("on_disk") != desired["on_disk"]:
        body["vectors"] = {"": {"on_disk": desired["on_disk"]}}  # "" = the unnamed vector
    if desired.get("on_disk_payload") is not None and current.get("on_disk_payload") != desired["on_disk_payload"]:
        body["params"] = {"on_disk_payload": desired["on_disk_payload"]}
    hnsw = _differing(current.get("hnsw_config"), desired.get("hnsw_config") or {})
    if hnsw:
        body["hnsw_config"] = hnsw
    optimizers = _differing(current.get("optimizers_config"), desired.get("optimizers_config") or {})
    if optimizers:
        body["optimizers_config"] = optimizers
    return body


def create_body(desired: dict) -> dict:
    """The PUT /collections/{name} body: only what the user set, Qdrant's defaults for the rest."""
    vectors = {"size": desired["vector_size"], "distance": desired["distance"]}
    if desired.get("on_disk") is not None:
        vectors["on_disk"] = desired["on_disk"]
    body: dict = {"vectors": vectors}
    if desired.get("on_disk_payload") is not None:
        body["on_disk_payload"] = desired["on_disk_payload"]
    if desired.get("hnsw_config"):
        body["hnsw_config"] = dict(desired["hnsw_config"])
    if desired.get("optimizers_config"):
        body["optimizers_config"] = dict(desired["optimizers_config"])
    return body


def predicted(current: dict | None, desired: dict) -> dict:
    """The collection as it will be after the change (for check mode and the diff)."""
    after = copy.deepcopy(current) if current else {
        "name": desired["name"], "state": "present", "on_disk": False, "on_disk_payload": None,
        "hnsw_config": {}, "optimizers_config": {}, "points_count": 0}
    for key in ("vector_size", "distance", "on_disk", "on_disk_payload"):
        if desired.get(key) is not None:
            after[key] = desired[key]
    after["hnsw_config"] = {**after.get("hnsw_config", {}), **(desired.get("hnsw_config") or {})}
    after["optimizers_config"] = {**after.get("optimizers_config", {}), **(desired.get("optimizers_config") or {})}
    return after


def describe_immutable(changes: list) -> str:
    labels = {"vector_size": "vector size", "distance": "distance"}
    return ", ".join(f"{labels[key]} {old} -> {new}" for key, old, new in changes)
