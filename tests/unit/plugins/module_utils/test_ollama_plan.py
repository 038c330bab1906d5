"""Declared models against /api/tags: what to pull, remove, or leave alone."""

import pytest
from ansible_collections.aistack.selfhosted.plugins.module_utils._ollama_plan import (
    declare,
    diff_text,
    make_plan,
)


def tag(name, digest="d" * 64):
    return {"name": name, "model": name, "digest": digest, "size": 1, "modified_at": "2025-01-01T00:00:00Z"}


def names_of(plan):
    return ([item.name.display for item, _entry in plan.pull], [e["name"] for e in plan.remove], plan.unchanged)


def test_short_and_tagged_names_are_one_declaration():
    declared = declare(models=["llama3.1", "llama3.1:latest", "LLAMA3.1"])
    assert [d.name.display for d in declared] == ["llama3.1:latest"]


def test_conflicting_states_for_one_model_are_refused():
    with pytest.raises(ValueError, match="declared twice with different states"):
        declare(models=["llama3.1", {"name": "llama3.1:latest", "state": "absent"}])


def test_invalid_names_and_states_are_refused_before_anything_else():
    with pytest.raises(ValueError, match="invalid model name 'my.ns/model'"):
        declare(models=["llama3.1", "my.ns/model"])
    with pytest.raises(ValueError, match="must be one of"):
        declare(models=[{"name": "llama3.1", "state": "installed"}])
    with pytest.raises(ValueError, match="unknown keys"):
        declare(models=[{"name": "llama3.1", "tag": "8b"}])


def test_present_pulls_only_what_is_missing():
    plan = make_plan(declare(models=["llama3.2", "mistral"]), [tag("llama3.2:latest")])
    assert names_of(plan) == (["mistral:latest"], [], ["llama3.2:latest"])


def test_latest_pulls_installed_models_too():
    plan = make_plan(declare(name="llama3.2", state="latest"), [tag("llama3.2:latest")])
    assert names_of(plan) == (["llama3.2:latest"], [], [])
    assert plan.pull[0][1]["digest"] == "d" * 64


def test_absent_removes_only_installed_models():
    plan = make_plan(declare(models=["llama3.2", "mistral"], state="absent"), [tag("Llama3.2:latest")])
    assert names_of(plan) == ([], ["Llama3.2:latest"], ["mistral:latest"])


def test_prune_removes_undeclared_models_only():
    installed = [tag("llama3.2:latest"), tag("old:7b"), tag("hf.co/x/y:Q4")]
    plan = make_plan(declare(models=["llama3.2", {"name": "hf.co/x/y:q4", "state": "latest"}]), installed, prune=True)
    assert names_of(plan) == (["hf.co/x/y:q4"], ["old:7b"], ["llama3.2:latest"])


def test_without_prune_undeclared_models_stay():
    plan = make_plan(declare(models=["llama3.2"]), [tag("llama3.2:latest"), tag("old:7b")])
    assert plan.remove == []


def test_diff_text_is_sorted_and_shows_short_digests():
    text = diff_text([{"name": "b:latest", "digest": "f" * 64}, {"name": "a:latest", "digest": None}])
    assert text == "a:latest (to be pulled)\nb:latest ffffffffffff\n"
