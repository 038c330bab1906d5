"""The qdrant_collection integration target against the Qdrant test double."""

from qdrant_standin import API_KEY


def test_qdrant_collection_target(qdrant, run_target):
    proc = run_target("qdrant_collection", {"qdrant_url": qdrant.url, "qdrant_api_key": API_KEY})
    assert "failed=0" in proc.stdout
