"""qdrant_collection end to end against an in-memory fake of the Qdrant client."""

import copy
import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.aistack.selfhosted.plugins.module_utils._qdrant import QdrantError
from ansible_collections.aistack.selfhosted.plugins.modules import qdrant_collection

DEFAULT_HNSW = {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000, "max_indexing_threads": 0, "on_disk": False}


class FakeQdrant:
    """Collections in a dict, with the real server's update rule: size and distance are ignored."""

    url = "http://fake:6333"

    def __init__(self, collections=None, apply_updates=True, error=None):
        self.collections = copy.deepcopy(collections or {})
        self.apply_updates = apply_updates
        self.error = error
        self.writes = []

    def get_collection(self, name):
        if self.error:
            raise self.error
        return copy.deepcopy(self.collections.get(name))

    def create_collection(self, name, body):
        self.writes.append(("PUT", name, body))
        self.collections[name] = info(body["vectors"]["size"], body["vectors"]["distance"])
        config = self.collections[name]["config"]
        config["hnsw_config"].update(body.get("hnsw_config", {}))
        if "on_disk" in body["vectors"]:
            config["params"]["vectors"]["on_disk"] = body["vectors"]["on_disk"]

    def update_collection(self, name, body):
        self.writes.append(("PATCH", name, body))
        if self.apply_updates:
            config = self.collections[name]["config"]
            config["hnsw_config"].update(body.get("hnsw_config", {}))
            config["optimizer_config"].update(body.get("optimizers_config", {}))
            config["params"].update(body.get("params", {}))
            if "on_disk" in body.get("vectors", {}).get("", {}):
                config["params"]["vectors"]["on_disk"] = body["vectors"][""]["on_disk"]

    def delete_collection(self, name):
        self.writes.append(("DELETE", name, None))
        return self.collections.pop(name, None) is not None


def info(size, distance, points=0):
    return {"status": "green", "points_count": points, "config": {
        "params": {"vectors": {"size": size, "distance": distance}, "on_disk_payload": True},
        "hnsw_config": dict(DEFAULT_HNSW),
        "optimizer_config": {"deleted_threshold": 0.2, "indexing_threshold": 10000, "flush_interval_sec": 5}}}


def run(monkeypatch, capsys, fake, check_mode=False, diff=False, **args):
    monkeypatch.setattr(qdrant_collection.QdrantClient, "from_module", classmethod(lambda cls, module: fake))
    args.setdefault("name", "docs")
    args.update(_ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit):
        qdrant_collection.main()
    return json.loads(capsys.readouterr().out)


def test_creates_a_missing_collection_with_only_what_was_set(monkeypatch, capsys):
    fake = FakeQdrant()
    result = run(monkeypatch, capsys, fake, vector_size=4, distance="Cosine")
    assert result["changed"] is True
    assert fake.writes == [("PUT", "docs", {"vectors": {"size": 4, "distance": "Cosine"}})]
    assert result["collection"]["vector_size"] == 4
    assert result["collection"]["hnsw_config"]["m"] == 16  # read back from the server


def test_check_mode_predicts_and_writes_nothing(monkeypatch, capsys):
    fake = FakeQdrant()
    result = run(monkeypatch, capsys, fake, check_mode=True, diff=True, vector_size=4, distance="Dot")
    assert result["changed"] is True
    assert fake.writes == []
    assert result["diff"]["before"] == {"name": "docs", "state": "absent"}
    assert result["diff"]["after"]["distance"] == "Dot"


def test_matching_collection_is_left_alone(monkeypatch, capsys):
    fake = FakeQdrant({"docs": info(4, "Cosine", points=3)})
    result = run(monkeypatch, capsys, fake, vector_size=4, distance="Cosine", hnsw_config={"m": 16})
    assert result["changed"] is False
    assert fake.writes == []
    assert "diff" not in result


def test_updatable_settings_are_patched_alone(monkeypatch, capsys):
    fake = FakeQdrant({"docs": info(4, "Cosine", points=3)})
    result = run(monkeypatch, capsys, fake, diff=True, vector_size=4, distance="Cosine", on_disk=True,
                 hnsw_config={"m": 32, "ef_construct": 100})
    assert result["changed"] is True
    assert fake.writes == [("PATCH", "docs", {"vectors": {"": {"on_disk": True}}, "hnsw_config": {"m": 32}})]
    assert result["diff"]["before"]["hnsw_config"]["m"] == 16
    assert result["diff"]["after"]["hnsw_config"]["m"] == 32
    assert result["collection"]["points_count"] == 3  # points kept


def test_size_change_without_recreate_fails_and_names_the_points(monkeypatch, capsys):
    fake = FakeQdrant({"docs": info(4, "Cosine", points=3)})
    result = run(monkeypatch, capsys, fake, vector_size=8, distance="Dot")
    assert result["failed"] is True
    assert "collection 'docs' at http://fake:6333" in result["msg"]
    assert "vector size 4 -> 8, distance Cosine -> Dot" in result["msg"]
    assert "3 points" in result["msg"] and "recreate: true" in result["msg"]
    assert fake.writes == []


def test_recreate_deletes_then_creates(monkeypatch, capsys):
    fake = FakeQdrant({"docs": info(4, "Cosine", points=3)})
    result = run(monkeypatch, capsys, fake, vector_size=8, distance="Cosine", recreate=True)
    assert result["changed"] is True and result["recreated"] is True
    assert [w[0] for w in fake.writes] == ["DELETE", "PUT"]
    assert result["collection"]["vector_size"] == 8
    assert result["collection"]["points_count"] == 0


def test_recreate_is_not_used_when_nothing_immutable_differs(monkeypatch, capsys):
    fake = FakeQdrant({"docs": info(4, "Cosine", points=3)})
    result = run(monkeypatch, capsys, fake, vector_size=4, distance="Cosine", recreate=True)
    assert (result["changed"], result["recreated"], fake.writes) == (False, False, [])


def test_failed_create_after_delete_says_the_collection_is_gone(monkeypatch, capsys):
    fake = FakeQdrant({"docs": info(4, "Cosine", points=3)})

    def refuse(name, body):
        raise QdrantError("Qdrant at http://fake:6333 refused PUT /collections/docs: HTTP 422 Validation error", 422)

    fake.create_collection = refuse
    result = run(monkeypatch, capsys, fake, vector_size=8, distance="Cosine", recreate=True)
    assert result["failed"] is True
    assert "was deleted for the recreate" in result["msg"] and "HTTP 422" in result["msg"]


def test_absent_deletes_once(monkeypatch, capsys):
    fake = FakeQdrant({"docs": info(4, "Cosine")})
    assert run(monkeypatch, capsys, fake, state="absent")["changed"] is True
    assert run(monkeypatch, capsys, fake, state="absent")["changed"] is False
    assert fake.writes == [("DELETE", "docs", None)]


def test_a_server_that_ignores_the_update_is_reported(monkeypatch, capsys):
    fake = FakeQdrant({"docs": info(4, "Cosine")}, apply_updates=False)
    result = run(monkeypatch, capsys, fake, vector_size=4, distance="Cosine", hnsw_config={"m": 32})
    assert result["failed"] is True
    assert "still reports other values for ['hnsw_config']" in result["msg"]


def test_present_requires_size_and_distance(monkeypatch, capsys):
    result = run(monkeypatch, capsys, FakeQdrant(), distance="Cosine")
    assert result["failed"] is True and "vector_size" in result["msg"]


def test_out_of_range_size_fails_before_any_request(monkeypatch, capsys):
    fake = FakeQdrant(error=AssertionError("no request expected"))
    result = run(monkeypatch, capsys, fake, vector_size=70000, distance="Cosine")
    assert result["failed"] is True and "65536" in result["msg"]
    assert fake.writes == []


def test_server_errors_are_passed_on(monkeypatch, capsys):
    fake = FakeQdrant(error=QdrantError("Qdrant at http://fake:6333 refused GET /collections/docs: HTTP 401 "
                                        "Invalid API key or JWT (check api_key: ...)", 401))
    result = run(monkeypatch, capsys, fake, vector_size=4, distance="Cosine", api_key="wrong")
    assert result["failed"] is True and "check api_key" in result["msg"] and result["status"] == 401
    assert "wrong" not in json.dumps(result)  # no_log: the key never comes back


def test_named_vector_collections_are_refused(monkeypatch, capsys):
    named = info(4, "Cosine")
    named["config"]["params"]["vectors"] = {"text": {"size": 4, "distance": "Cosine"}}
    result = run(monkeypatch, capsys, FakeQdrant({"docs": named}), vector_size=4, distance="Cosine")
    assert result["failed"] is True and "named vectors (text)" in result["msg"]
