"""qdrant_collection's comparison: what is immutable, what gets PATCHed, what is sent on create."""

import pytest
from ansible_collections.aistack.selfhosted.plugins.module_utils import _qdrant_collection as logic

# GET /collections/docs of a collection created with {"vectors": {"size": 768, "distance": "Cosine"}}
# (the example of the API reference, part B.3).
INFO = {
    "status": "green", "optimizer_status": "ok", "indexed_vectors_count": 0, "points_count": 12, "segments_count": 2,
    "config": {
        "params": {"vectors": {"size": 768, "distance": "Cosine"}, "shard_number": 1, "replication_factor": 1,
                   "write_consistency_factor": 1, "on_disk_payload": True},
        "hnsw_config": {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000, "max_indexing_threads": 0,
                        "on_disk": False},
        "optimizer_config": {"deleted_threshold": 0.2, "vacuum_min_vector_number": 1000, "default_segment_number": 0,
                             "max_segment_size": None, "memmap_threshold": None, "indexing_threshold": 10000,
                             "flush_interval_sec": 5, "max_optimization_threads": None},
        "wal_config": {"wal_capacity_mb": 32, "wal_segments_ahead": 0}, "quantization_config": None,
    },
    "payload_schema": {},
}


def params(**overrides):
    base = {"name": "docs", "vector_size": 768, "distance": "Cosine", "on_disk": None, "on_disk_payload": None,
            "hnsw_config": None, "optimizers_config": None}
    base.update(overrides)
    return base


def test_current_is_read_in_the_options_shape():
    current = logic.current_from_info("docs", INFO)
    assert current["vector_size"] == 768
    assert current["distance"] == "Cosine"
    assert current["on_disk"] is False  # omitted by Qdrant when never set
    assert current["on_disk_payload"] is True
    assert current["hnsw_config"]["m"] == 16
    assert current["optimizers_config"]["indexing_threshold"] == 10000
    assert current["points_count"] == 12


def test_named_vectors_are_refused_with_their_names():
    info = {"config": {"params": {"vectors": {"text": {"size": 4, "distance": "Dot"}}}}}
    with pytest.raises(logic.UnsupportedCollection, match="named vectors \\(text\\)"):
        logic.current_from_info("docs", info)


def test_unset_options_are_not_compared():
    current = logic.current_from_info("docs", INFO)
    desired = logic.desired_from_params(params(hnsw_config={"m": None, "ef_construct": None}))
    assert logic.immutable_changes(current, desired) == []
    assert logic.update_body(current, desired) == {}


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"vector_size": 1024}, [("vector_size", 768, 1024)]),
    ({"distance": "Dot"}, [("distance", "Cosine", "Dot")]),
    ({"vector_size": 4, "distance": "Euclid"}, [("vector_size", 768, 4), ("distance", "Cosine", "Euclid")]),
])
def test_size_and_distance_changes_are_immutable(overrides, expected):
    current = logic.current_from_info("docs", INFO)
    changes = logic.immutable_changes(current, logic.desired_from_params(params(**overrides)))
    assert changes == expected
    assert "768 -> " in logic.describe_immutable(changes) or "Cosine -> " in logic.describe_immutable(changes)


def test_update_body_holds_only_what_differs():
    current = logic.current_from_info("docs", INFO)
    desired = logic.desired_from_params(params(
        on_disk=True, on_disk_payload=True, hnsw_config={"m": 32, "ef_construct": 100},
        optimizers_config={"indexing_threshold": 20000, "flush_interval_sec": 5}))
    assert logic.update_body(current, desired) == {
        "vectors": {"": {"on_disk": True}},  # "" is the unnamed vector in an update
        "hnsw_config": {"m": 32},
        "optimizers_config": {"indexing_threshold": 20000},
    }


def test_payload_on_disk_goes_to_params():
    current = logic.current_from_info("docs", INFO)
    desired = logic.desired_from_params(params(on_disk_payload=False))
    assert logic.update_body(current, desired) == {"params": {"on_disk_payload": False}}


def test_create_body_sends_only_what_was_set():
    desired = logic.desired_from_params(params(vector_size=4, distance="Dot"))
    assert logic.create_body(desired) == {"vectors": {"size": 4, "distance": "Dot"}}
    desired = logic.desired_from_params(params(on_disk=False, on_disk_payload=True, hnsw_config={"m": 8},
                                               optimizers_config={"deleted_threshold": 0.3}))
    assert logic.create_body(desired) == {
        "vectors": {"size": 768, "distance": "Cosine", "on_disk": False}, "on_disk_payload": True,
        "hnsw_config": {"m": 8}, "optimizers_config": {"deleted_threshold": 0.3}}


def test_prediction_applies_the_wanted_values():
    current = logic.current_from_info("docs", INFO)
    after = logic.predicted(current, logic.desired_from_params(params(hnsw_config={"m": 32}, on_disk=True)))
    assert after["hnsw_config"]["m"] == 32
    assert after["hnsw_config"]["ef_construct"] == 100
    assert after["on_disk"] is True
    assert after["points_count"] == 12
    created = logic.predicted(None, logic.desired_from_params(params(vector_size=4)))
    assert (created["state"], created["vector_size"], created["points_count"]) == ("present", 4, 0)
