"""The calls Open WebUI 0.12.4 makes to Qdrant (retrieval/vector/dbs/qdrant*.py), made with the
official qdrant-client against the test double, and what a user would check after each one."""

import http.client
import json
import uuid

import pytest
from qdrant_client import QdrantClient, models
from qdrant_standin import API_KEY, READ_ONLY_KEY

pytestmark = pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection")

COLLECTION = "open-webui_knowledge"
DIM = 4


def client(server, key=API_KEY) -> QdrantClient:
    return QdrantClient(url=server.url, api_key=key, timeout=10, check_compatibility=False)


def tenant(tenant_id: str) -> models.FieldCondition:
    return models.FieldCondition(key="tenant_id", match=models.MatchValue(value=tenant_id))


def metadata(key: str, value) -> models.FieldCondition:
    return models.FieldCondition(key=f"metadata.{key}", match=models.MatchValue(value=value))


def create_like_open_webui(qc: QdrantClient) -> None:
    """_create_multi_tenant_collection: no global HNSW graph, one keyword index per lookup field."""
    qc.create_collection(COLLECTION, vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE,
                                                                        on_disk=False),
                         hnsw_config=models.HnswConfigDiff(payload_m=16, m=0))
    qc.create_payload_index(COLLECTION, "tenant_id", field_schema=models.KeywordIndexParams(
        type=models.KeywordIndexType.KEYWORD, is_tenant=True, on_disk=False))
    for field in ("metadata.hash", "metadata.file_id"):
        qc.create_payload_index(COLLECTION, field, field_schema=models.KeywordIndexParams(
            type=models.KeywordIndexType.KEYWORD, on_disk=False))


def chunk(point_id: int, tenant_id: str, file_id: str, vector: list, page: int = 0) -> models.PointStruct:
    return models.PointStruct(id=str(uuid.UUID(int=point_id)), vector=vector, payload={
        "text": f"chunk {point_id}", "tenant_id": tenant_id,
        "metadata": {"file_id": file_id, "hash": f"h{point_id}", "page": page, "source": f"{file_id}.pdf"}})


def uid(point_id: int) -> str:
    return str(uuid.UUID(int=point_id))


@pytest.fixture
def knowledge(qdrant):
    """Open WebUI's knowledge collection with two tenants; tenant b's chunk is nearest to [1, 0, 0, 0]."""
    qc = client(qdrant)
    create_like_open_webui(qc)
    qc.upsert(COLLECTION, points=[
        chunk(1, "a", "file-1", [0.9, 0.3, 0, 0], page=1),
        chunk(2, "a", "file-1", [0.7, 0.7, 0, 0], page=2),
        chunk(3, "a", "file-2", [0, 1, 0, 0], page=3),
        chunk(4, "b", "file-3", [1, 0, 0, 0], page=1),
    ])
    return qc


def test_payload_indexes_are_created_and_reported(qdrant):
    qc = client(qdrant)
    create_like_open_webui(qc)
    info = qc.get_collection(COLLECTION)
    assert set(info.payload_schema) == {"tenant_id", "metadata.hash", "metadata.file_id"}
    assert info.payload_schema["tenant_id"].data_type == models.PayloadSchemaType.KEYWORD
    assert info.payload_schema["tenant_id"].params.is_tenant is True
    assert info.config.hnsw_config.m == 0 and info.config.hnsw_config.payload_m == 16
    result = qc.delete_payload_index(COLLECTION, "metadata.hash")
    assert result.status == models.UpdateStatus.COMPLETED
    assert "metadata.hash" not in qc.get_collection(COLLECTION).payload_schema


def test_payload_index_counts_the_points_that_have_the_field(knowledge):
    schema = knowledge.get_collection(COLLECTION).payload_schema
    assert schema["metadata.file_id"].points == 4
    knowledge.upsert(COLLECTION, points=[models.PointStruct(id=99, vector=[0, 0, 1, 0], payload={"other": 1})])
    assert knowledge.get_collection(COLLECTION).payload_schema["tenant_id"].points == 4


def test_upsert_reports_acknowledged_without_wait_and_completed_with_it(qdrant):
    qc = client(qdrant)
    create_like_open_webui(qc)
    queued = qc.upsert(COLLECTION, points=[chunk(1, "a", "f", [1, 0, 0, 0])], wait=False)
    assert queued.status == models.UpdateStatus.ACKNOWLEDGED
    done = qc.upsert(COLLECTION, points=[chunk(2, "a", "f", [0, 1, 0, 0])], wait=True)
    assert done.status == models.UpdateStatus.COMPLETED
    assert done.operation_id > queued.operation_id
    assert qc.count(COLLECTION).count == 2  # the double applies even an unawaited write at once
    # Open WebUI's upsert() goes through upload_points (wait=False batches).
    qc.upload_points(COLLECTION, [chunk(i, "b", "g", [0, 0, 1, 0]) for i in range(10, 15)])
    assert qc.count(COLLECTION, count_filter=models.Filter(must=[tenant("b")])).count == 5


def test_query_with_a_tenant_filter_in_prefetch_never_returns_another_tenant(knowledge):
    prefetch = models.Prefetch(query=[1, 0, 0, 0], filter=models.Filter(must=[tenant("a")]), limit=10)
    hits = knowledge.query_points(COLLECTION, prefetch=prefetch, query=[1, 0, 0, 0], limit=10,
                                  with_payload=True).points
    assert [hit.id for hit in hits] == [uid(1), uid(2), uid(3)]
    assert {hit.payload["tenant_id"] for hit in hits} == {"a"}
    assert hits[0].score > hits[1].score > hits[2].score
    # The filter at the top level (Open WebUI's search()) isolates the same way.
    top = knowledge.query_points(COLLECTION, query=[1, 0, 0, 0], limit=2,
                                 query_filter=models.Filter(must=[tenant("b")])).points
    assert [hit.id for hit in top] == [uid(4)]
    # Without a filter tenant b's chunk is the nearest: the filters above did the isolating.
    assert knowledge.query_points(COLLECTION, query=[1, 0, 0, 0], limit=1).points[0].id == uid(4)


def test_query_limit_offset_and_score_threshold(knowledge):
    ordered = [hit.id for hit in knowledge.query_points(COLLECTION, query=[1, 0, 0, 0], limit=10).points]
    assert ordered == [uid(4), uid(1), uid(2), uid(3)]
    page = knowledge.query_points(COLLECTION, query=[1, 0, 0, 0], limit=2, offset=1).points
    assert [hit.id for hit in page] == ordered[1:3]
    close = knowledge.query_points(COLLECTION, query=[1, 0, 0, 0], score_threshold=0.9, limit=10).points
    assert [hit.id for hit in close] == [uid(4), uid(1)]
    assert all(hit.score >= 0.9 for hit in close)


def test_delete_by_a_nested_key_really_removes_the_points(knowledge):
    only_a = models.Filter(must=[tenant("a")])
    assert knowledge.count(COLLECTION, count_filter=only_a).count == 3
    # Open WebUI's delete(filter={"file_id": ...}): tenant and metadata.file_id in must, an empty should.
    result = knowledge.delete(COLLECTION, points_selector=models.FilterSelector(
        filter=models.Filter(must=[tenant("a"), metadata("file_id", "file-1")], should=[])))
    assert result.status == models.UpdateStatus.COMPLETED
    remaining = knowledge.scroll(COLLECTION, scroll_filter=only_a, limit=100)[0]
    assert [record.id for record in remaining] == [uid(3)]
    assert knowledge.count(COLLECTION).count == 2  # tenant b untouched


def test_delete_by_ids_of_the_metadata_in_should(knowledge):
    """Open WebUI's delete(ids=[...]): the ids live in metadata.id, alternatives in should."""
    knowledge.set_payload(COLLECTION, payload={"id": "doc-1"}, key="metadata", points=[uid(1)])
    knowledge.set_payload(COLLECTION, payload={"id": "doc-2"}, key="metadata", points=[uid(2)])
    knowledge.delete(COLLECTION, points_selector=models.FilterSelector(filter=models.Filter(
        must=[tenant("a")], should=[metadata("id", "doc-1"), metadata("id", "doc-2")])))
    assert [r.id for r in knowledge.scroll(COLLECTION, limit=10)[0]] == sorted([uid(3), uid(4)])


def test_with_payload_list_returns_only_those_keys(knowledge):
    records, _next = knowledge.scroll(COLLECTION, scroll_filter=models.Filter(must=[tenant("a")]), limit=1,
                                      with_payload=["metadata"])
    assert records[0].payload == {"metadata": {"file_id": "file-1", "hash": "h1", "page": 1, "source": "file-1.pdf"}}
    hits = knowledge.query_points(COLLECTION, query=[1, 0, 0, 0], limit=1, with_payload=["metadata.file_id"]).points
    assert hits[0].payload == {"metadata": {"file_id": "file-3"}}
    excluded = knowledge.retrieve(COLLECTION, ids=[uid(1)],
                                  with_payload=models.PayloadSelectorExclude(exclude=["metadata", "text"]))
    assert excluded[0].payload == {"tenant_id": "a"}
    bare = knowledge.query_points(COLLECTION, query=[1, 0, 0, 0], limit=1, with_payload=False).points
    assert bare[0].payload is None


def test_with_vector_returns_the_stored_cosine_vector_normalised(qdrant):
    qc = client(qdrant)
    qc.create_collection("v", vectors_config=models.VectorParams(size=2, distance=models.Distance.COSINE))
    qc.upsert("v", points=[models.PointStruct(id=1, vector=[3, 4])])
    hit = qc.query_points("v", query=[3, 4], limit=1, with_vectors=True).points[0]
    assert hit.vector == [0.6, 0.8]  # float32 printed shortest, as the real server does
    assert hit.score == pytest.approx(1.0)
    assert qc.query_points("v", query=[3, 4], limit=1).points[0].vector is None


def test_count_with_a_range_filter(knowledge):
    pages = models.Filter(must=[models.FieldCondition(key="metadata.page", range=models.Range(gte=2, lt=4))])
    assert knowledge.count(COLLECTION, count_filter=pages).count == 2
    first_pages = models.Filter(must=[models.FieldCondition(key="metadata.page", range=models.Range(lte=1))],
                                must_not=[tenant("b")])
    assert knowledge.count(COLLECTION, count_filter=first_pages).count == 1


def test_filters_on_arrays_ids_and_empty_fields(qdrant):
    qc = client(qdrant)
    qc.create_collection("f", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    qc.upsert("f", points=[
        models.PointStruct(id=1, vector=[1, 0], payload={"tags": ["red", "big"], "doc": {"authors": [{"n": "x"}]}}),
        models.PointStruct(id=2, vector=[0, 1], payload={"tags": ["blue"], "doc": {"authors": [{"n": "y"}]}}),
        models.PointStruct(id=3, vector=[1, 1], payload={"tags": []}),
    ])

    def ids(flt):
        return sorted(r.id for r in qc.scroll("f", scroll_filter=flt, limit=10)[0])

    tags = "tags"
    assert ids(models.Filter(must=[models.FieldCondition(key=tags, match=models.MatchValue(value="big"))])) == [1]
    assert ids(models.Filter(must=[models.FieldCondition(key=tags, match=models.MatchAny(any=["blue", "red"]))])) \
        == [1, 2]
    assert ids(models.Filter(must=[models.FieldCondition(key="doc.authors[].n", match=models.MatchValue(value="y"))])) \
        == [2]
    assert ids(models.Filter(must=[models.IsEmptyCondition(is_empty=models.PayloadField(key=tags))])) == [3]
    assert ids(models.Filter(must_not=[models.HasIdCondition(has_id=[1, 3])])) == [2]
    # An array matches `except` when one of its values is outside the list (point 1 has only listed ones).
    outside = models.MatchExcept(**{"except": ["red", "big"]})
    assert ids(models.Filter(should=[models.HasIdCondition(has_id=[3]),
                                     models.FieldCondition(key=tags, match=outside)])) == [2, 3]


def test_payload_updates_follow_wait(knowledge):
    done = knowledge.set_payload(COLLECTION, payload={"reviewed": True}, points=models.Filter(must=[tenant("b")]))
    assert done.status == models.UpdateStatus.COMPLETED
    assert knowledge.retrieve(COLLECTION, ids=[uid(4)])[0].payload["reviewed"] is True
    queued = knowledge.overwrite_payload(COLLECTION, payload={"tenant_id": "b"}, points=[uid(4)], wait=False)
    assert queued.status == models.UpdateStatus.ACKNOWLEDGED
    assert knowledge.retrieve(COLLECTION, ids=[uid(4)])[0].payload == {"tenant_id": "b"}
    knowledge.delete_payload(COLLECTION, keys=["metadata.hash"], points=[uid(1)])
    assert "hash" not in knowledge.retrieve(COLLECTION, ids=[uid(1)])[0].payload["metadata"]


def test_read_only_key_may_query_but_not_index(knowledge, qdrant):
    reader = client(qdrant, key=READ_ONLY_KEY)
    prefetch = models.Prefetch(query=[1, 0, 0, 0], filter=models.Filter(must=[tenant("a")]))
    assert len(reader.query_points(COLLECTION, prefetch=prefetch, query=[1, 0, 0, 0]).points) == 3
    assert len(reader.query_batch_points(COLLECTION, requests=[models.QueryRequest(query=[1, 0, 0, 0], limit=1)])) == 1
    with pytest.raises(Exception, match="403"):
        reader.create_payload_index(COLLECTION, "metadata.page", field_schema=models.PayloadSchemaType.INTEGER)


def test_points_and_payload_indexes_survive_a_restart(qdrant_factory, tmp_path):
    workdir = tmp_path / "persist"
    first = qdrant_factory(workdir=workdir)
    qc = client(first, key=None)
    create_like_open_webui(qc)
    qc.upsert(COLLECTION, points=[chunk(1, "a", "file-1", [1, 0, 0, 0]), chunk(2, "b", "file-2", [0, 1, 0, 0])])
    file_2 = models.Filter(must=[metadata("file_id", "file-2")])
    qc.delete(COLLECTION, points_selector=models.FilterSelector(filter=file_2))
    first.stop()
    second = qdrant_factory(workdir=workdir)
    qc = client(second, key=None)
    assert qc.count(COLLECTION).count == 1
    assert qc.retrieve(COLLECTION, ids=[uid(1)])[0].payload["metadata"]["file_id"] == "file-1"
    assert set(qc.get_collection(COLLECTION).payload_schema) == {"tenant_id", "metadata.hash", "metadata.file_id"}
    prefetch = models.Prefetch(query=[1, 0, 0, 0], filter=models.Filter(must=[tenant("a")]))
    assert [p.id for p in qc.query_points(COLLECTION, prefetch=prefetch, query=[1, 0, 0, 0]).points] == [uid(1)]


def test_data_of_the_earlier_json_store_is_imported(qdrant_factory, tmp_path):
    workdir = tmp_path / "old"
    old = workdir / "storage" / "collections" / "docs"
    old.mkdir(parents=True)
    config = {"params": {"vectors": {"size": 2, "distance": "Dot"}, "shard_number": 1, "replication_factor": 1,
                         "write_consistency_factor": 1, "on_disk_payload": True},
              "hnsw_config": {"m": 32}, "optimizer_config": {}, "wal_config": {}, "quantization_config": None}
    points = {"7": {"id": 7, "vector": {"": [1.0, 2.0]}, "payload": {"k": "v"}}}
    (old / "collection.json").write_text(json.dumps({"config": config, "points": points}))
    qc = client(qdrant_factory(workdir=workdir), key=None)
    assert qc.retrieve("docs", ids=[7], with_vectors=True)[0].model_dump(include={"payload", "vector"}) \
        == {"payload": {"k": "v"}, "vector": [1.0, 2.0]}
    assert qc.get_collection("docs").config.hnsw_config.m == 32


# -- the HTTP connection ---------------------------------------------------------------------
def exchange(conn: http.client.HTTPConnection, method: str, path: str, body, headers: dict) -> tuple:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn.request(method, path, body=data, headers={"Content-Type": "application/json", **headers})
    response = conn.getresponse()
    return response.status, response.read().decode()


def test_error_replies_read_the_body_so_the_kept_alive_connection_stays_in_sync(qdrant):
    key = {"api-key": API_KEY}
    # A body that is itself a request: parsed as the next request if the server leaves it unread.
    smuggled = b"GET /collections HTTP/1.1\r\nHost: x\r\napi-key: " + API_KEY.encode() + b"\r\n\r\n"
    conn = http.client.HTTPConnection("127.0.0.1", qdrant.port, timeout=10)
    status, text = exchange(conn, "PUT", "/collections/nothing/points?wait=true", smuggled, key)
    assert status == 400  # not JSON
    sock = conn.sock
    status, text = exchange(conn, "PUT", "/collections/nothing/index",
                            {"field_name": "tenant_id" * 500, "field_schema": "keyword"}, key)
    assert (status, json.loads(text)["status"]["error"]) == (404, "Not found: Collection `nothing` doesn't exist!")
    status, text = exchange(conn, "POST", "/collections/nothing/points/query", smuggled, {})
    assert (status, text) == (401, "Must provide an API key or an Authorization bearer token")
    status, text = exchange(conn, "POST", "/no/such/path", {"a": 1}, key)
    assert status == 404
    status, text = exchange(conn, "PUT", "/collections/docs", {"vectors": {"size": 2, "distance": "Dot"}}, key)
    assert (status, json.loads(text)["result"]) == (200, True)
    status, text = exchange(conn, "GET", "/collections", b"", key)
    assert json.loads(text)["result"] == {"collections": [{"name": "docs"}]}
    assert conn.sock is sock, "the server dropped the kept-alive connection"
    conn.close()
