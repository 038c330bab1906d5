"""Collections, points and snapshots of the Qdrant test double, kept on disk.

Shapes and messages follow part B of the project's API reference (taken from qdrant/qdrant's
source): what create/update accept, which settings an update can change (never vector size or
distance: those keys are silently ignored, as the real server does), the defaults a collection
reports, the error texts. Each collection is one JSON file under <storage>/collections/, written
atomically after every change, so data survives a restart (the real on-disk format is different).
"""

import copy
import datetime
import hashlib
import json
import math
import os
import random
import re
import threading
import uuid

DISTANCES = ("Cosine", "Euclid", "Dot", "Manhattan")
HNSW_DEFAULTS = {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000, "max_indexing_threads": 0,
                 "on_disk": False}
OPTIMIZER_DEFAULTS = {"deleted_threshold": 0.2, "vacuum_min_vector_number": 1000, "default_segment_number": 0,
                      "max_segment_size": None, "memmap_threshold": None, "indexing_threshold": 10000,
                      "flush_interval_sec": 5, "max_optimization_threads": None, "prevent_unoptimized": None}
WAL_DEFAULTS = {"wal_capacity_mb": 32, "wal_segments_ahead": 0, "wal_retain_closed": 1}
_BAD_NAME = re.compile(r'[<>:"/\\|?*\x00]')


class QdrantError(Exception):
    """An API error: HTTP status and the message the real server would put in status.error."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _format_error(detail: str) -> QdrantError:
    return QdrantError(400, f"Format error in JSON body: {detail}")


def _validation_error(detail: str) -> QdrantError:
    return QdrantError(422, f"Validation error in JSON body: {detail}")


def _check_vector_params(params, where: str) -> dict:
    if not isinstance(params, dict):
        raise _format_error(f"{where}: invalid type, expected struct VectorParams")
    size, distance = params.get("size"), params.get("distance")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise _format_error(f"{where}.size: expected a non-zero unsigned integer, got {size!r}")
    if size > 65536:
        raise _validation_error(f"{where}.size: value {size} invalid, must be from 1 to 65536")
    if distance not in DISTANCES:
        expected = ", ".join(f"`{name}`" for name in DISTANCES)
        raise _format_error(f"{where}.distance: unknown variant `{distance}`, expected one of {expected}")
    result = {"size": size, "distance": distance}
    for key in ("on_disk", "datatype", "multivector_config", "quantization_config"):
        if params.get(key) is not None:
            result[key] = params[key]
    if params.get("hnsw_config") is not None:
        result["hnsw_config"] = _check_hnsw(params["hnsw_config"], f"{where}.hnsw_config")
    return result


def _check_hnsw(diff, where: str) -> dict:
    if not isinstance(diff, dict):
        raise _format_error(f"{where}: invalid type, expected struct HnswConfigDiff")
    if diff.get("ef_construct") is not None and diff["ef_construct"] < 4:
        raise _validation_error(f"{where}.ef_construct: value {diff['ef_construct']} invalid, must be 4 or larger")
    if diff.get("full_scan_threshold") is not None and diff["full_scan_threshold"] < 10:
        raise _validation_error(
            f"{where}.full_scan_threshold: value {diff['full_scan_threshold']} invalid, must be 10 or larger")
    return {key: value for key, value in diff.items() if value is not None}


def _merged(defaults: dict, diff) -> dict:
    result = copy.deepcopy(defaults)
    for key, value in (diff or {}).items():
        if value is not None:
            result[key] = value
    return result


def point_id(value):
    """An unsigned integer or a UUID (returned in canonical form), as the real server accepts."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    raise _format_error(f"value {value!r} is not a valid point ID, valid values are either an unsigned integer "
                        "or a UUID")


def _key(pid) -> str:
    return json.dumps(pid)


def _normalise(vector: list) -> list:
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm else list(vector)


def score(distance: str, stored: list, query: list) -> float:
    if distance == "Cosine":
        return sum(a * b for a, b in zip(stored, _normalise(query), strict=True))
    if distance == "Dot":
        return sum(a * b for a, b in zip(stored, query, strict=True))
    if distance == "Euclid":
        return math.sqrt(sum((a - b) ** 2 for a, b in zip(stored, query, strict=True)))
    return sum(abs(a - b) for a, b in zip(stored, query, strict=True))


def _matches(payload: dict, condition: dict) -> bool:
    if "key" not in condition or "match" not in condition:
        raise QdrantError(400, "Wrong input: the stand-in supports only {key, match: {value|any}} filter conditions")
    value = payload.get(condition["key"])
    match = condition["match"]
    if "value" in match:
        return value == match["value"]
    if "any" in match:
        return value in match["any"]
    raise QdrantError(400, "Wrong input: the stand-in supports only match.value and match.any")


def filter_accepts(payload: dict, flt) -> bool:
    if not flt:
        return True
    payload = payload or {}

    def as_list(value):
        return value if isinstance(value, list) else [value]

    must = all(_matches(payload, c) for c in as_list(flt.get("must") or []))
    should_list = as_list(flt.get("should") or [])
    should = not should_list or any(_matches(payload, c) for c in should_list)
    must_not = not any(_matches(payload, c) for c in as_list(flt.get("must_not") or []))
    return must and should and must_not


class Store:
    """All collections of one server, guarded by one lock (a test server, not a database)."""

    def __init__(self, storage_path: str, snapshots_path: str, on_disk_payload: bool = True):
        self.storage_path = storage_path
        self.snapshots_path = snapshots_path
        self.on_disk_payload = on_disk_payload
        self.lock = threading.RLock()
        self.collections: dict = {}
        self.operation_id = 0
        os.makedirs(os.path.join(storage_path, "collections"), exist_ok=True)
        os.makedirs(snapshots_path, exist_ok=True)
        self.peer_id = self._peer_id()
        self._load()

    # -- persistence ------------------------------------------------------------------------
    def _peer_id(self) -> int:
        path = os.path.join(self.storage_path, "standin_peer_id")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                return int(handle.read().strip())
        peer = random.randint(10**15, 10**16 - 1)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(str(peer))
        return peer

    def _file(self, name: str) -> str:
        return os.path.join(self.storage_path, "collections", name, "collection.json")

    def _load(self) -> None:
        base = os.path.join(self.storage_path, "collections")
        for name in sorted(os.listdir(base)):
            path = self._file(name)
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as handle:
                    self.collections[name] = json.load(handle)

    def _save(self, name: str) -> None:
        path = self._file(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(self.collections[name], handle)
        os.replace(tmp, path)

    # -- collections ------------------------------------------------------------------------
    def _get(self, name: str) -> dict:
        if name not in self.collections:
            raise QdrantError(404, f"Not found: Collection `{name}` doesn't exist!")
        return self.collections[name]

    @staticmethod
    def check_name(name: str) -> None:
        if not name or len(name) > 255 or _BAD_NAME.search(name) or name in (".", ".."):
            raise QdrantError(422, f"Validation error in path parameters: [name: collection name `{name}` is "
                                   "invalid: it must be 1-255 characters without <>:\"/\\|?*]")

    def list(self) -> dict:
        with self.lock:
            return {"collections": [{"name": name} for name in sorted(self.collections)]}

    def exists(self, name: str) -> dict:
        with self.lock:
            return {"exists": name in self.collections}

    def create(self, name: str, body: dict) -> bool:
        self.check_name(name)
        vectors = body.get("vectors")
        if vectors is None:
            params_vectors: dict = {}
        elif isinstance(vectors, dict) and ("size" in vectors or "distance" in vectors):
            params_vectors = _check_vector_params(vectors, "vectors")
        elif isinstance(vectors, dict):
            params_vectors = {vname: _check_vector_params(vp, f"vectors.{vname}") for vname, vp in vectors.items()}
        else:
            raise _format_error("vectors: invalid type, expected VectorsConfig")
        config = {
            "params": {
                "vectors": params_vectors,
                "shard_number": body.get("shard_number") or 1,
                "replication_factor": body.get("replication_factor") or 1,
                "write_consistency_factor": body.get("write_consistency_factor") or 1,
                "on_disk_payload": self.on_disk_payload if body.get("on_disk_payload") is None
                else bool(body["on_disk_payload"]),
            },
            "hnsw_config": _merged(HNSW_DEFAULTS, _check_hnsw(body.get("hnsw_config") or {}, "hnsw_config")),
            "optimizer_config": _merged(OPTIMIZER_DEFAULTS, body.get("optimizers_config")),
            "wal_config": _merged(WAL_DEFAULTS, body.get("wal_config")),
            "quantization_config": body.get("quantization_config"),
        }
        if body.get("metadata"):
            config["metadata"] = dict(body["metadata"])
        with self.lock:
            if name in self.collections:
                raise QdrantError(409, f"Wrong input: Collection `{name}` already exists!")
            created = datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z")
            self.collections[name] = {"config": config, "points": {}, "created_at": created}
            self._save(name)
        return True

    def update(self, name: str, body: dict) -> bool:
        with self.lock:
            collection = self._get(name)
            config = copy.deepcopy(collection["config"])
            vectors = config["params"]["vectors"]
            single = "size" in vectors
            for vname, vector_diff in (body.get("vectors") or {}).items():
                if single and vname != "":
                    raise QdrantError(400, f"Wrong input: Vector params for {vname} are not specified in config")
                if not single and vname not in vectors:
                    message = ("Default vector params are not specified in config" if vname == ""
                               else f"Vector params for {vname} are not specified in config")
                    raise QdrantError(400, f"Wrong input: {message}")
                target = vectors if single else vectors[vname]
                diff = vector_diff or {}
                # size and distance are not part of VectorParamsDiff: ignored, exactly like the real server.
                if diff.get("on_disk") is not None:
                    target["on_disk"] = bool(diff["on_disk"])
                if diff.get("hnsw_config") is not None:
                    target["hnsw_config"] = _merged(target.get("hnsw_config", {}),
                                                    _check_hnsw(diff["hnsw_config"], f"vectors.{vname}.hnsw_config"))
                if "quantization_config" in diff:
                    target["quantization_config"] = None if diff["quantization_config"] == "Disabled" \
                        else diff["quantization_config"]
            if body.get("hnsw_config") is not None:
                config["hnsw_config"] = _merged(config["hnsw_config"], _check_hnsw(body["hnsw_config"], "hnsw_config"))
            if body.get("optimizers_config") is not None:
                config["optimizer_config"] = _merged(config["optimizer_config"], body["optimizers_config"])
            for key in ("replication_factor", "write_consistency_factor", "read_fan_out_factor", "on_disk_payload"):
                value = (body.get("params") or {}).get(key)
                if value is not None:
                    config["params"][key] = value
            if "quantization_config" in body:
                config["quantization_config"] = None if body["quantization_config"] == "Disabled" \
                    else body["quantization_config"]
            if body.get("metadata"):
                metadata = config.setdefault("metadata", {})
                for key, value in body["metadata"].items():
                    if value is None:
                        metadata.pop(key, None)
                    else:
                        metadata[key] = value
            collection["config"] = config
            self._save(name)
        return True

    def delete(self, name: str) -> bool:
        with self.lock:
            if name not in self.collections:
                return False
            del self.collections[name]
            path = self._file(name)
            os.remove(path)
            os.rmdir(os.path.dirname(path))
        return True

    def info(self, name: str) -> dict:
        with self.lock:
            collection = self._get(name)
            return {
                "status": "green",
                "optimizer_status": "ok",
                "indexed_vectors_count": 0,
                "points_count": len(collection["points"]),
                "segments_count": 2,
                "config": copy.deepcopy(collection["config"]),
                "payload_schema": {},
                "created_at": collection.get("created_at"),
            }

    # -- points -----------------------------------------------------------------------------
    def _vector_params(self, collection: dict, using: str | None) -> dict:
        vectors = collection["config"]["params"]["vectors"]
        if "size" in vectors:
            if using not in (None, ""):
                raise QdrantError(400, f"Wrong input: Not existing vector name error: {using}")
            return vectors
        if using not in vectors:
            raise QdrantError(400, f"Wrong input: Not existing vector name error: {using or ''}")
        return vectors[using]

    def _check_vector(self, collection: dict, using: str | None, vector) -> list:
        params = self._vector_params(collection, using)
        if not isinstance(vector, list) or not all(isinstance(x, int | float) for x in vector):
            raise _format_error("vector: expected a list of numbers (the stand-in has no sparse or multi vectors)")
        if len(vector) != params["size"]:
            raise QdrantError(400, f"Wrong input: Vector dimension error: expected dim: {params['size']}, "
                                   f"got {len(vector)}")
        vector = [float(x) for x in vector]
        return _normalise(vector) if params["distance"] == "Cosine" else vector

    def _stored_vector(self, collection: dict, vector) -> dict:
        if isinstance(vector, dict):
            return {vname: self._check_vector(collection, vname, v) for vname, v in vector.items()}
        return {"": self._check_vector(collection, None, vector)}

    def upsert(self, name: str, body: dict) -> dict:
        with self.lock:
            collection = self._get(name)
            if "batch" in body:
                batch = body["batch"] or {}
                ids = batch.get("ids") or []
                vectors = batch.get("vectors") or []
                payloads = batch.get("payloads") or [None] * len(ids)
                points = [{"id": i, "vector": v, "payload": p} for i, v, p in zip(ids, vectors, payloads, strict=False)]
            elif isinstance(body.get("points"), list):
                points = body["points"]
            else:
                raise _format_error("expected `points` or `batch`")
            staged = {}
            for point in points:
                pid = point_id(point.get("id"))
                staged[_key(pid)] = {"id": pid, "vector": self._stored_vector(collection, point.get("vector")),
                                     "payload": point.get("payload") or {}}
            collection["points"].update(staged)
            self.operation_id += 1
            self._save(name)
            return {"operation_id": self.operation_id, "status": "completed"}

    def delete_points(self, name: str, body: dict) -> dict:
        with self.lock:
            collection = self._get(name)
            if "points" in body:
                for pid in body["points"]:
                    collection["points"].pop(_key(point_id(pid)), None)
            elif "filter" in body:
                for key, point in list(collection["points"].items()):
                    if filter_accepts(point["payload"], body["filter"]):
                        del collection["points"][key]
            else:
                raise _format_error("expected `points` or `filter`")
            self.operation_id += 1
            self._save(name)
            return {"operation_id": self.operation_id, "status": "completed"}

    @staticmethod
    def _record(point: dict, with_payload, with_vector, score_value=None) -> dict:
        vector = None
        if with_vector:
            vector = point["vector"][""] if list(point["vector"]) == [""] else point["vector"]
        record = {"id": point["id"], "payload": point["payload"] if with_payload else None, "vector": vector}
        if score_value is not None:
            record.update(version=0, score=score_value)
        return record

    def retrieve(self, name: str, ids: list, with_payload=True, with_vector=False) -> list:
        with self.lock:
            collection = self._get(name)
            found = [collection["points"].get(_key(point_id(pid))) for pid in ids]
            return [self._record(p, with_payload, with_vector) for p in found if p]

    def count(self, name: str, body: dict) -> dict:
        with self.lock:
            collection = self._get(name)
            flt = body.get("filter")
            return {"count": sum(1 for p in collection["points"].values() if filter_accepts(p["payload"], flt))}

    def scroll(self, name: str, body: dict) -> dict:
        with self.lock:
            collection = self._get(name)
            points = sorted(collection["points"].values(), key=lambda p: (isinstance(p["id"], str), p["id"]))
            points = [p for p in points if filter_accepts(p["payload"], body.get("filter"))]
            limit = body.get("limit") or 10
            offset = body.get("offset")
            if offset is not None:
                offset = point_id(offset)
                points = [p for p in points if (isinstance(p["id"], str), p["id"]) >= (isinstance(offset, str), offset)]
            page, rest = points[:limit], points[limit:]
            return {"points": [self._record(p, body.get("with_payload", True), body.get("with_vector", False))
                               for p in page],
                    "next_page_offset": rest[0]["id"] if rest else None}

    def search(self, name: str, query, using: str | None, body: dict) -> list:
        """Exact nearest-neighbour search (the real server uses HNSW; results agree on small data)."""
        with self.lock:
            collection = self._get(name)
            params = self._vector_params(collection, using)
            if not isinstance(query, list) or len(query) != params["size"]:
                got = len(query) if isinstance(query, list) else type(query).__name__
                raise QdrantError(400, f"Wrong input: Vector dimension error: expected dim: {params['size']}, "
                                       f"got {got}")
            distance = params["distance"]
            vname = using or ""
            scored = [(score(distance, p["vector"][vname], query), p) for p in collection["points"].values()
                      if vname in p["vector"] and filter_accepts(p["payload"], body.get("filter"))]
            ascending = distance in ("Euclid", "Manhattan")
            scored.sort(key=lambda item: item[0], reverse=not ascending)
            threshold = body.get("score_threshold")
            if threshold is not None:
                scored = [s for s in scored if (s[0] <= threshold if ascending else s[0] >= threshold)]
            offset = body.get("offset") or 0
            limit = body.get("limit") or 10
            return [self._record(p, body.get("with_payload", False), body.get("with_vector", False), s)
                    for s, p in scored[offset:offset + limit]]

    # -- snapshots --------------------------------------------------------------------------
    def _snapshot_dir(self, name: str) -> str:
        return os.path.join(self.snapshots_path, name)

    @staticmethod
    def _describe(path: str) -> dict:
        stat = os.stat(path)
        checksum = None
        if os.path.exists(path + ".checksum"):
            with open(path + ".checksum", encoding="utf-8") as handle:
                checksum = handle.read().strip()
        created = datetime.datetime.fromtimestamp(stat.st_mtime, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return {"name": os.path.basename(path), "creation_time": created, "size": stat.st_size, "checksum": checksum}

    def create_snapshot(self, name: str) -> dict:
        with self.lock:
            collection = self._get(name)
            stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d-%H-%M-%S")
            directory = self._snapshot_dir(name)
            os.makedirs(directory, exist_ok=True)
            path = os.path.join(directory, f"{name}-{self.peer_id}-{stamp}.snapshot")
            data = json.dumps({"name": name, **collection}).encode()
            with open(path + ".tmp", "wb") as handle:
                handle.write(data)
            os.replace(path + ".tmp", path)
            with open(path + ".checksum", "w", encoding="utf-8") as handle:
                handle.write(hashlib.sha256(data).hexdigest())
            return self._describe(path)

    def list_snapshots(self, name: str) -> list:
        with self.lock:
            self._get(name)
            directory = self._snapshot_dir(name)
            if not os.path.isdir(directory):
                return []
            return [self._describe(os.path.join(directory, entry)) for entry in sorted(os.listdir(directory))
                    if entry.endswith(".snapshot")]

    def snapshot_path(self, name: str, snapshot: str) -> str:
        path = os.path.join(self._snapshot_dir(name), snapshot)
        if "/" in snapshot or not snapshot.endswith(".snapshot") or not os.path.isfile(path):
            raise QdrantError(404, f"Not found: Snapshot {snapshot} not found")
        return path

    def delete_snapshot(self, name: str, snapshot: str) -> bool:
        with self.lock:
            path = self.snapshot_path(name, snapshot)
            os.remove(path)
            if os.path.exists(path + ".checksum"):
                os.remove(path + ".checksum")
            return True
