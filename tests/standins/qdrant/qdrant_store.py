"""Collections, points and snapshots of the Qdrant test double.

Points, filters, search/query/scroll/count, payload updates and deletes are Qdrant's own Python
implementation of its API: qdrant-client's local mode (`QdrantClient(path=...)`). The REST JSON
is parsed into qdrant_client.models and the answers are dumped back in the REST shapes.

Local mode keeps only what it needs to answer queries (vector size and distance, sparse and
multivector settings). What the REST API reports and changes besides (HNSW, optimizer, WAL,
quantization, on_disk, metadata, payload indexes) is kept by this module, one small JSON file per
collection under <storage>/collections/<name>/config.json, with the defaults and the update rules
of part B of the project's API reference (taken from qdrant/qdrant's source): an update never
changes vector size or distance (those keys are silently ignored, as the real server does).

On disk, under the configured storage path:
    local/                         qdrant-client local mode (meta.json, collection/<name>/storage.sqlite)
    collections/<name>/config.json what local mode does not keep
    standin_peer_id                the peer id used in snapshot names
Local mode holds a lock file on local/: one client for the life of the server, used under one lock.
"""

import copy
import datetime
import hashlib
import json
import os
import random
import re
import threading
import uuid
import warnings

import numpy
import pydantic
from qdrant_client import QdrantClient, models

DISTANCES = ("Cosine", "Euclid", "Dot", "Manhattan")
HNSW_DEFAULTS = {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000, "max_indexing_threads": 0,
                 "on_disk": False}
OPTIMIZER_DEFAULTS = {"deleted_threshold": 0.2, "vacuum_min_vector_number": 1000, "default_segment_number": 0,
                      "max_segment_size": None, "memmap_threshold": None, "indexing_threshold": 10000,
                      "flush_interval_sec": 5, "max_optimization_threads": None, "prevent_unoptimized": None}
WAL_DEFAULTS = {"wal_capacity_mb": 32, "wal_segments_ahead": 0, "wal_retain_closed": 1}
_BAD_NAME = re.compile(r'[<>:"/\\|?*\x00\x1f]')
CONFIG_FILE = "config.json"
OLD_FORMAT_FILE = "collection.json"  # the hand-written store of earlier versions of this double

# Local mode warns once that payload indexes only matter on a server: that is known here.
warnings.filterwarnings("ignore", message="Payload indexes have no effect in the local Qdrant")


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


def parse(model, data, where: str = "", lenient: bool = True):
    """data (REST JSON) as a qdrant_client model; a 400 format error when it does not fit.

    Unknown keys at the top of a request body are dropped, as the real server's request structs
    ignore them (serde's default); inside (filters, points, params) the models refuse them, and a
    filter (lenient=False) refuses them at its top too, so that a misspelt `must` is not dropped."""
    if lenient and isinstance(data, dict):
        data = {key: value for key, value in data.items() if key in model.model_fields}
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        problems = []
        for error in exc.errors()[:3]:
            location = ".".join(str(part) for part in (where, *error["loc"]) if part != "")
            problems.append(f"{location or 'body'}: {error['msg']}")
        raise _format_error("; ".join(problems)) from None


# -- collection settings (what local mode does not keep) -----------------------------------------
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
    if params.get("multivector_config") is not None:
        parse(models.MultiVectorConfig, params["multivector_config"], f"{where}.multivector_config")
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


def _local_vector_params(params: dict) -> models.VectorParams:
    """What local mode needs of one dense vector: size, distance, multivector comparator."""
    return models.VectorParams(size=params["size"], distance=models.Distance(params["distance"]),
                               multivector_config=params.get("multivector_config"))


def _local_vectors(vectors: dict):
    if "size" in vectors:
        return _local_vector_params(vectors)
    return {name: _local_vector_params(params) for name, params in vectors.items()}


def _check_sparse(sparse, where: str = "sparse_vectors") -> dict:
    if sparse is None:
        return {}
    if not isinstance(sparse, dict):
        raise _format_error(f"{where}: invalid type, expected a map of SparseVectorParams")
    return {name: parse(models.SparseVectorParams, params or {}, f"{where}.{name}") for name, params in sparse.items()}


# -- point ids and output shapes --------------------------------------------------------------
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


def _f32(value: float) -> float:
    """A float32 as the real server prints it (shortest form): 0.6, not 0.6000000238418579."""
    return float(str(numpy.float32(value)))


def _f32_tree(value):
    if isinstance(value, float):
        return _f32(value)
    if isinstance(value, list):
        return [_f32_tree(item) for item in value]
    if isinstance(value, dict):
        return {key: _f32_tree(item) for key, item in value.items()}
    return value


def _point_json(point) -> dict:
    """A Record or ScoredPoint in the REST shape: payload and vector null when not asked for,
    shard_key and order_value only when set."""
    data = point.model_dump(mode="json")
    for key in ("shard_key", "order_value"):
        if data.get(key) is None:
            data.pop(key, None)
    if data.get("vector") is not None:
        data["vector"] = _f32_tree(data["vector"])
    if "score" in data:
        data["score"] = _f32(data["score"])
    return data


def _selector(body: dict, where: str = ""):
    """`points: [ids]` or `filter: {...}` of a SetPayload/DeletePayload/DeleteVectors body."""
    if body.get("points") is not None:
        return [point_id(pid) for pid in body["points"]]
    if body.get("filter") is not None:
        return parse(models.Filter, body["filter"], "filter", lenient=False)
    raise _format_error(f"{where or 'body'}: either `points` or `filter` is required")


def _points_selector(body: dict):
    """A PointsSelector body (delete, clear payload)."""
    if "points" in body:
        selector = parse(models.PointIdsList, body)
        selector.points = [point_id(pid) for pid in selector.points]
        return selector
    if "filter" in body:
        return parse(models.FilterSelector, body)
    raise _format_error("expected `points` or `filter`")


def wait_param(value) -> bool:
    """The `wait` query parameter; the real server's default is false."""
    return str(value).lower() == "true" if value is not None else False


class Store:
    """All collections of one server, guarded by one lock (a test server, not a database)."""

    def __init__(self, storage_path: str, snapshots_path: str, on_disk_payload: bool = True):
        self.storage_path = storage_path
        self.snapshots_path = snapshots_path
        self.on_disk_payload = on_disk_payload
        self.lock = threading.RLock()
        self.operation_id = 0
        os.makedirs(os.path.join(storage_path, "collections"), exist_ok=True)
        os.makedirs(snapshots_path, exist_ok=True)
        self.peer_id = self._peer_id()
        # One client for the server's life: local mode locks its directory against a second one.
        self.client = QdrantClient(path=os.path.join(storage_path, "local"), force_disable_check_same_thread=True)
        self.meta: dict = {}
        self._load()

    def close(self) -> None:
        with self.lock:
            self.client.close()

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

    def _dir(self, name: str) -> str:
        return os.path.join(self.storage_path, "collections", name)

    def _load(self) -> None:
        local = {c.name for c in self.client.get_collections().collections}
        for name in sorted(local):
            path = os.path.join(self._dir(name), CONFIG_FILE)
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as handle:
                    self.meta[name] = json.load(handle)
            else:  # local mode has it but our settings are gone: report the defaults
                self.meta[name] = self._default_meta(name)
                self._save(name)
        base = os.path.join(self.storage_path, "collections")
        for name in sorted(os.listdir(base)):
            if name not in local and os.path.isfile(os.path.join(base, name, OLD_FORMAT_FILE)):
                self._import_old_format(name)

    def _default_meta(self, name: str) -> dict:
        info = self.client.get_collection(name).config.params
        vectors = info.vectors
        if isinstance(vectors, models.VectorParams):
            vectors_json = {"size": vectors.size, "distance": vectors.distance.value}
        else:
            vectors_json = {vname: {"size": v.size, "distance": v.distance.value}
                            for vname, v in (vectors or {}).items()}
        return {"config": self._config({"vectors": vectors_json}), "payload_schema": {}, "created_at": None}

    def _import_old_format(self, name: str) -> None:
        """Data written by the earlier hand-written store: one JSON file with config and points."""
        path = os.path.join(self._dir(name), OLD_FORMAT_FILE)
        with open(path, encoding="utf-8") as handle:
            old = json.load(handle)
        vectors = old["config"]["params"]["vectors"]
        config = self._config({"vectors": vectors})
        for key, value in old["config"].items():
            config[key] = {**config[key], **value} if isinstance(value, dict) and isinstance(config.get(key), dict) \
                else value
        self.client.create_collection(name, vectors_config=_local_vectors(vectors) if vectors else {})
        points = []
        for point in old.get("points", {}).values():
            vector = point["vector"]
            if list(vector) == [""]:
                vector = vector[""]
            points.append(models.PointStruct(id=point["id"], vector=vector, payload=point.get("payload") or {}))
        if points:
            self.client.upsert(name, points=points)
        self.meta[name] = {"config": config, "payload_schema": {}, "created_at": old.get("created_at")}
        self._save(name)
        os.replace(path, path + ".imported")

    def _save(self, name: str) -> None:
        directory = self._dir(name)
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, CONFIG_FILE)
        with open(path + ".tmp", "w", encoding="utf-8") as handle:
            json.dump(self.meta[name], handle)
        os.replace(path + ".tmp", path)

    # -- helpers ----------------------------------------------------------------------------
    def _get(self, name: str) -> dict:
        if name not in self.meta:
            raise QdrantError(404, f"Not found: Collection `{name}` doesn't exist!")
        return self.meta[name]

    @staticmethod
    def _local(call, *args, **kwargs):
        """A call into local mode; its ValueErrors are the server's 400 `Wrong input` errors."""
        try:
            return call(*args, **kwargs)
        except pydantic.ValidationError as exc:
            raise _format_error(str(exc).splitlines()[0]) from None
        except ValueError as exc:
            message = str(exc)
            if not message.startswith("Wrong input"):
                message = f"Wrong input: {message}"
            raise QdrantError(400, message) from None

    def _result(self, wait: bool) -> dict:
        self.operation_id += 1
        return {"operation_id": self.operation_id, "status": "completed" if wait else "acknowledged"}

    def _vector_params(self, name: str, using: str | None) -> dict | None:
        vectors = self.meta[name]["config"]["params"]["vectors"]
        if "size" in vectors:
            return vectors if using in (None, "") else None
        return vectors.get(using or "")

    def _check_dense_query(self, name: str, query, using: str | None) -> None:
        """Qdrant's message for a query vector of the wrong length (local mode fails in numpy)."""
        if isinstance(query, models.NearestQuery):
            query = query.nearest
        if not isinstance(query, list) or not query or not all(isinstance(x, float | int) for x in query):
            return
        params = self._vector_params(name, using)
        if params is None:
            raise QdrantError(400, f"Wrong input: Not existing vector name error: {using or ''}")
        if "multivector_config" not in params and len(query) != params["size"]:
            raise QdrantError(400, f"Wrong input: Vector dimension error: expected dim: {params['size']}, "
                                   f"got {len(query)}")

    def _check_prefetch(self, name: str, prefetch) -> None:
        for item in prefetch if isinstance(prefetch, list) else [prefetch] if prefetch else []:
            self._check_dense_query(name, item.query, item.using)
            self._check_prefetch(name, item.prefetch)

    # -- collections ------------------------------------------------------------------------
    @staticmethod
    def check_name(name: str) -> None:
        if not name or len(name) > 255 or _BAD_NAME.search(name) or name in (".", ".."):
            raise QdrantError(422, f"Validation error in path parameters: [name: collection name `{name}` is "
                                   "invalid: it must be 1-255 characters without <>:\"/\\|?*]")

    def list(self) -> dict:
        with self.lock:
            return {"collections": [{"name": name} for name in sorted(self.meta)]}

    def exists(self, name: str) -> dict:
        with self.lock:
            return {"exists": name in self.meta}

    def _config(self, body: dict) -> dict:
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
        sparse = _check_sparse(body.get("sparse_vectors"))
        if sparse:
            config["params"]["sparse_vectors"] = {n: p.model_dump(mode="json", exclude_none=True)
                                                  for n, p in sparse.items()}
        if body.get("metadata"):
            config["metadata"] = dict(body["metadata"])
        return config

    def create(self, name: str, body: dict) -> bool:
        self.check_name(name)
        config = self._config(body)
        sparse = _check_sparse(body.get("sparse_vectors"))
        vectors = config["params"]["vectors"]
        with self.lock:
            if name in self.meta:
                raise QdrantError(409, f"Wrong input: Collection `{name}` already exists!")
            self._local(self.client.create_collection, name,
                        vectors_config=_local_vectors(vectors) if vectors else {},
                        sparse_vectors_config=sparse or None)
            created = datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z")
            self.meta[name] = {"config": config, "payload_schema": {}, "created_at": created}
            self._save(name)
        return True

    def update(self, name: str, body: dict) -> bool:
        with self.lock:
            meta = self._get(name)
            config = copy.deepcopy(meta["config"])
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
            sparse = _check_sparse(body.get("sparse_vectors"))
            if sparse:  # the modifier (idf) changes scores, so local mode must know
                self._local(self.client.update_collection, name, sparse_vectors_config=sparse)
                stored = config["params"].setdefault("sparse_vectors", {})
                for sname, params in sparse.items():
                    stored[sname] = {**stored.get(sname, {}), **params.model_dump(mode="json", exclude_none=True)}
            meta["config"] = config
            self._save(name)
        return True

    def delete(self, name: str) -> bool:
        with self.lock:
            if name not in self.meta:
                return False
            self.client.delete_collection(name)
            del self.meta[name]
            path = os.path.join(self._dir(name), CONFIG_FILE)
            os.remove(path)
            os.rmdir(os.path.dirname(path))
        return True

    def _count(self, name: str, flt: models.Filter | None = None) -> int:
        return self.client.count(name, count_filter=flt, exact=True).count

    def info(self, name: str) -> dict:
        with self.lock:
            meta = self._get(name)
            schema = {}
            for field, entry in meta["payload_schema"].items():
                present = models.Filter(must_not=[models.IsEmptyCondition(is_empty=models.PayloadField(key=field))])
                schema[field] = {**entry, "points": self._count(name, present)}
            return {
                "status": "green",
                "optimizer_status": "ok",
                "indexed_vectors_count": 0,
                "points_count": self._count(name),
                "segments_count": 2,
                "config": copy.deepcopy(meta["config"]),
                "payload_schema": schema,
                "created_at": meta.get("created_at"),
            }

    def totals(self) -> tuple[int, int]:
        """(collections, points) for /metrics and /telemetry."""
        with self.lock:
            return len(self.meta), sum(self._count(name) for name in self.meta)

    # -- payload indexes (local mode accepts them; only text indexes with scoring change anything) ---
    def create_index(self, name: str, body: dict, wait: bool) -> dict:
        request = parse(models.CreateFieldIndex, body)
        if request.field_schema is None:
            raise QdrantError(400, "Wrong input: field_schema is required to create a payload index")
        with self.lock:
            meta = self._get(name)
            self._local(self.client.create_payload_index, name, request.field_name, request.field_schema)
            schema = request.field_schema
            if isinstance(schema, models.PayloadSchemaType):
                entry = {"data_type": schema.value}
            else:
                entry = {"data_type": schema.type.value, "params": schema.model_dump(mode="json", exclude_none=True)}
            meta["payload_schema"][request.field_name] = entry
            self._save(name)
            return self._result(wait)

    def delete_index(self, name: str, field: str, wait: bool) -> dict:
        with self.lock:
            meta = self._get(name)
            self._local(self.client.delete_payload_index, name, field)
            meta["payload_schema"].pop(field, None)
            self._save(name)
            return self._result(wait)

    # -- points: updates --------------------------------------------------------------------
    def upsert(self, name: str, body: dict, wait: bool) -> dict:
        if "batch" in body:
            request = parse(models.PointsBatch, body)
            request.batch.ids = [point_id(pid) for pid in request.batch.ids]
            points = request.batch
        elif isinstance(body.get("points"), list):
            request = parse(models.PointsList, body)
            for point in request.points:
                point.id = point_id(point.id)
            points = request.points
        else:
            raise _format_error("expected `points` or `batch`")
        with self.lock:
            self._get(name)
            self._local(self.client.upsert, name, points=points, update_filter=request.update_filter,
                        update_mode=request.update_mode)
            return self._result(wait)

    def delete_points(self, name: str, body: dict, wait: bool) -> dict:
        selector = _points_selector(body)
        with self.lock:
            self._get(name)
            self._local(self.client.delete, name, points_selector=selector)
            return self._result(wait)

    def set_payload(self, name: str, body: dict, wait: bool, overwrite: bool = False) -> dict:
        request = parse(models.SetPayload, body)
        selector = _selector(body)
        with self.lock:
            self._get(name)
            if overwrite:
                self._local(self.client.overwrite_payload, name, payload=request.payload, points=selector)
            else:
                self._local(self.client.set_payload, name, payload=request.payload, points=selector, key=request.key)
            return self._result(wait)

    def delete_payload(self, name: str, body: dict, wait: bool) -> dict:
        request = parse(models.DeletePayload, body)
        selector = _selector(body)
        with self.lock:
            self._get(name)
            self._local(self.client.delete_payload, name, keys=request.keys, points=selector)
            return self._result(wait)

    def clear_payload(self, name: str, body: dict, wait: bool) -> dict:
        selector = _points_selector(body)
        with self.lock:
            self._get(name)
            self._local(self.client.clear_payload, name, points_selector=selector)
            return self._result(wait)

    def update_vectors(self, name: str, body: dict, wait: bool) -> dict:
        request = parse(models.UpdateVectors, body)
        for point in request.points:
            point.id = point_id(point.id)
        with self.lock:
            self._get(name)
            self._local(self.client.update_vectors, name, points=request.points, update_filter=request.update_filter)
            return self._result(wait)

    def delete_vectors(self, name: str, body: dict, wait: bool) -> dict:
        request = parse(models.DeleteVectors, body)
        selector = _selector(body)
        with self.lock:
            self._get(name)
            self._local(self.client.delete_vectors, name, vectors=request.vector, points=selector)
            return self._result(wait)

    def batch(self, name: str, body: dict, wait: bool) -> list:
        request = parse(models.UpdateOperations, body)
        with self.lock:
            self._get(name)
            self._local(self.client.batch_update_points, name, update_operations=request.operations)
            return [self._result(wait)] * len(request.operations)

    # -- points: reads ----------------------------------------------------------------------
    def retrieve(self, name: str, body: dict) -> list:
        request = parse(models.PointRequest, body)
        ids = [point_id(pid) for pid in request.ids]
        with self.lock:
            self._get(name)
            records = self._local(self.client.retrieve, name, ids=ids,
                                  with_payload=True if request.with_payload is None else request.with_payload,
                                  with_vectors=request.with_vector or False)
            return [_point_json(record) for record in records]

    def count(self, name: str, body: dict) -> dict:
        request = parse(models.CountRequest, body)
        with self.lock:
            self._get(name)
            return {"count": self._local(self._count, name, request.filter)}

    def scroll(self, name: str, body: dict) -> dict:
        request = parse(models.ScrollRequest, body)
        offset = None if request.offset is None else point_id(request.offset)
        with self.lock:
            self._get(name)
            records, next_offset = self._local(
                self.client.scroll, name, scroll_filter=request.filter,
                limit=10 if request.limit is None else request.limit, order_by=request.order_by, offset=offset,
                with_payload=True if request.with_payload is None else request.with_payload,
                with_vectors=request.with_vector or False)
            return {"points": [_point_json(record) for record in records], "next_page_offset": next_offset}

    def _query(self, name: str, request: models.QueryRequest) -> dict:
        self._check_dense_query(name, request.query, request.using)
        self._check_prefetch(name, request.prefetch)
        response = self._local(
            self.client.query_points, name, query=request.query, using=request.using, prefetch=request.prefetch,
            query_filter=request.filter, search_params=request.params,
            limit=10 if request.limit is None else request.limit, offset=request.offset,
            with_payload=False if request.with_payload is None else request.with_payload,
            with_vectors=request.with_vector or False, score_threshold=request.score_threshold,
            lookup_from=request.lookup_from)
        return {"points": [_point_json(point) for point in response.points]}

    def query(self, name: str, body: dict) -> dict:
        request = parse(models.QueryRequest, body)
        with self.lock:
            self._get(name)
            return self._query(name, request)

    def query_batch(self, name: str, body: dict) -> list:
        request = parse(models.QueryRequestBatch, body)
        with self.lock:
            self._get(name)
            return [self._query(name, search) for search in request.searches]

    @staticmethod
    def search_as_query(body: dict) -> dict:
        """A legacy /points/search body as the /points/query body that asks the same."""
        if not isinstance(body, dict) or "vector" not in body:
            raise _format_error("missing field `vector`")
        body = dict(body)
        vector = body.pop("vector")
        if isinstance(vector, dict) and "name" in vector:  # NamedVector / NamedSparseVector
            body["using"] = vector["name"]
            vector = vector.get("vector")
        body["query"] = vector
        return body

    def search(self, name: str, body: dict) -> list:
        return self.query(name, self.search_as_query(body))["points"]

    def search_batch(self, name: str, body: dict) -> list:
        searches = body.get("searches")
        if not isinstance(searches, list):
            raise _format_error("missing field `searches`")
        return [result["points"] for result in
                self.query_batch(name, {"searches": [self.search_as_query(s) for s in searches]})]

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

    def _all_points(self, name: str) -> list:
        points, offset = [], None
        while True:
            records, offset = self.client.scroll(name, limit=1000, offset=offset, with_payload=True,
                                                 with_vectors=True)
            points.extend(_point_json(record) for record in records)
            if offset is None:
                return points

    def create_snapshot(self, name: str) -> dict:
        with self.lock:
            meta = self._get(name)
            stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d-%H-%M-%S")
            directory = self._snapshot_dir(name)
            os.makedirs(directory, exist_ok=True)
            path = os.path.join(directory, f"{name}-{self.peer_id}-{stamp}.snapshot")
            data = json.dumps({"name": name, **meta, "points": self._all_points(name)}).encode()
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
