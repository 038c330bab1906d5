"""The Qdrant test double, driven by the official qdrant-client: what works must parse, what
the real server refuses must be refused the same way."""

import importlib.metadata
import json
import urllib.error
import urllib.request

import pytest
from qdrant_client import QdrantClient, models
from qdrant_client.common.version_check import is_compatible
from qdrant_client.http.exceptions import UnexpectedResponse
from qdrant_standin import API_KEY, READ_ONLY_KEY

pytestmark = pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection")


def client(server, key=API_KEY) -> QdrantClient:
    # The client checks the server version in the background, racing with the end of a test:
    # test_version_info checks that answer instead.
    return QdrantClient(url=server.url, api_key=key, timeout=10, check_compatibility=False)


def http(server, method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server.url + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_version_info_is_compatible_with_the_client(qdrant):
    info = client(qdrant).info()
    assert info.title == "qdrant - vector search engine"
    assert is_compatible(importlib.metadata.version("qdrant-client"), info.version)


def test_collection_lifecycle_with_points_and_snapshot(qdrant):
    qc = client(qdrant)
    assert not qc.collection_exists("docs")
    assert qc.create_collection("docs", vectors_config=models.VectorParams(size=4, distance=models.Distance.COSINE),
                                hnsw_config=models.HnswConfigDiff(m=32))
    assert qc.collection_exists("docs")
    info = qc.get_collection("docs")
    assert info.config.params.vectors.size == 4
    assert info.config.params.vectors.distance == models.Distance.COSINE
    assert info.config.hnsw_config.m == 32
    assert info.config.hnsw_config.ef_construct == 100  # server default kept

    qc.upsert("docs", points=[
        models.PointStruct(id=1, vector=[1, 0, 0, 0], payload={"lang": "en"}),
        models.PointStruct(id=2, vector=[0, 1, 0, 0], payload={"lang": "de"}),
        models.PointStruct(id="5c56c793-69f3-4fbf-87e6-c4bf54c28c26", vector=[0.9, 0.1, 0, 0], payload={"lang": "en"}),
    ])
    assert qc.count("docs", exact=True).count == 3
    assert qc.get_collection("docs").points_count == 3
    hits = qc.query_points("docs", query=[1, 0, 0, 0], limit=2, with_payload=True).points
    assert [hit.id for hit in hits] == [1, "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"]
    assert hits[0].score == pytest.approx(1.0)
    assert hits[0].payload == {"lang": "en"}
    english = models.Filter(must=[models.FieldCondition(key="lang", match=models.MatchValue(value="en"))])
    assert qc.count("docs", count_filter=english).count == 2
    assert [r.id for r in qc.retrieve("docs", ids=[2])] == [2]

    snapshot = qc.create_snapshot("docs")
    assert snapshot.name.startswith("docs-") and snapshot.name.endswith(".snapshot")
    assert snapshot.size > 0 and len(snapshot.checksum) == 64
    assert (qdrant.workdir / "snapshots" / "docs" / snapshot.name).is_file()
    assert [s.name for s in qc.list_snapshots("docs")] == [snapshot.name]

    assert qc.delete_collection("docs") is True
    assert not qc.collection_exists("docs")
    assert qc.delete_collection("docs") is False  # idempotent, like the real server


def test_euclid_and_dot_order_results_as_qdrant(qdrant):
    qc = client(qdrant)
    for distance in (models.Distance.EUCLID, models.Distance.DOT, models.Distance.MANHATTAN):
        name = f"c-{distance.value.lower()}"
        qc.create_collection(name, vectors_config=models.VectorParams(size=2, distance=distance))
        qc.upsert(name, points=[models.PointStruct(id=i, vector=v) for i, v in ((1, [1, 0]), (2, [3, 0]), (3, [0, 2]))])
        hits = qc.query_points(name, query=[3, 0], limit=3).points
        if distance == models.Distance.DOT:
            assert [h.id for h in hits] == [2, 1, 3]  # largest dot product first
        else:
            assert [h.id for h in hits] == [2, 1, 3]  # smallest distance first
            assert hits[0].score == pytest.approx(0.0)


def test_update_ignores_size_and_distance_like_the_real_server(qdrant):
    qc = client(qdrant)
    qc.create_collection("docs", vectors_config=models.VectorParams(size=4, distance=models.Distance.COSINE))
    body = {"vectors": {"": {"size": 8, "distance": "Dot", "on_disk": True}}, "hnsw_config": {"m": 8}}
    status, _body = http(qdrant, "PATCH", "/collections/docs", body,
                         {"api-key": API_KEY, "Content-Type": "application/json"})
    assert status == 200
    vectors = qc.get_collection("docs").config.params.vectors
    assert (vectors.size, vectors.distance, vectors.on_disk) == (4, models.Distance.COSINE, True)
    assert qc.get_collection("docs").config.hnsw_config.m == 8
    assert qc.update_collection("docs", optimizers_config=models.OptimizersConfigDiff(indexing_threshold=5000))
    assert qc.get_collection("docs").config.optimizer_config.indexing_threshold == 5000


def test_errors_have_the_real_codes_and_messages(qdrant):
    qc = client(qdrant)
    qc.create_collection("docs", vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT))
    with pytest.raises(UnexpectedResponse) as exc:
        qc.create_collection("docs", vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT))
    assert exc.value.status_code == 409
    assert "Collection `docs` already exists!" in exc.value.content.decode()
    with pytest.raises(UnexpectedResponse) as exc:
        qc.get_collection("nothing")
    assert exc.value.status_code == 404
    with pytest.raises(UnexpectedResponse) as exc:
        qc.upsert("docs", points=[models.PointStruct(id=1, vector=[1, 2, 3])])
    assert exc.value.status_code == 400
    assert "expected dim: 4, got 3" in exc.value.content.decode()
    headers = {"api-key": API_KEY, "Content-Type": "application/json"}
    assert http(qdrant, "PUT", "/collections/x", {"vectors": {"size": 4, "distance": "cosine"}}, headers)[0] == 400
    assert http(qdrant, "PUT", "/collections/x", {"vectors": {"size": 70000, "distance": "Dot"}}, headers)[0] == 422
    status, body = http(qdrant, "PATCH", "/collections/docs", {"vectors": {"text": {"on_disk": True}}}, headers)
    assert status == 400 and "Vector params for text are not specified in config" in body


def test_api_key_is_required_except_on_health_paths(qdrant):
    for path in ("/", "/healthz", "/livez", "/readyz"):
        assert http(qdrant, "GET", path)[0] == 200
    assert http(qdrant, "GET", "/collections") == (401, "Must provide an API key or an Authorization bearer token")
    assert http(qdrant, "GET", "/collections", headers={"api-key": "wrong"}) == (401, "Invalid API key or JWT")
    assert http(qdrant, "GET", "/collections", headers={"Authorization": f"Bearer {API_KEY}"})[0] == 200
    for path in ("/metrics", "/telemetry"):
        assert http(qdrant, "GET", path)[0] == 401
        assert http(qdrant, "GET", path, headers={"api-key": API_KEY})[0] == 200
    with pytest.raises(UnexpectedResponse) as exc:
        client(qdrant, key=None).get_collections()
    assert exc.value.status_code == 401


def test_read_only_key_reads_but_cannot_write(qdrant):
    client(qdrant).create_collection("docs", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    reader = client(qdrant, key=READ_ONLY_KEY)
    assert reader.collection_exists("docs")
    assert reader.count("docs").count == 0
    with pytest.raises(UnexpectedResponse) as exc:
        reader.delete_collection("docs")
    assert exc.value.status_code == 403


def test_data_survives_a_restart(qdrant_factory, tmp_path):
    workdir = tmp_path / "persist"
    first = qdrant_factory(workdir=workdir)
    qc = client(first, key=None)
    qc.create_collection("docs", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    qc.upsert("docs", points=[models.PointStruct(id=7, vector=[1, 2], payload={"k": "v"})])
    first.stop()
    second = qdrant_factory(workdir=workdir)
    qc = client(second, key=None)
    assert qc.count("docs").count == 1
    assert qc.retrieve("docs", ids=[7])[0].payload == {"k": "v"}


def test_environment_overrides_the_config_file(qdrant_factory):
    server = qdrant_factory(config="service:\n  api_key: from-file\n", env={"QDRANT__SERVICE__API_KEY": "from-env"})
    assert http(server, "GET", "/collections", headers={"api-key": "from-file"})[0] == 401
    assert http(server, "GET", "/collections", headers={"api-key": "from-env"})[0] == 200
