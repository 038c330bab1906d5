"""ollama_model end to end against an in-memory fake of the Ollama client."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.aistack.selfhosted.plugins.module_utils._ollama_client import OllamaError
from ansible_collections.aistack.selfhosted.plugins.modules import ollama_model


class FakeOllama:
    """Installed models in a dict; a registry of name -> digest; every call is recorded."""

    base_url = "http://fake:11434"

    def __init__(self, installed=None, registry=None, fail_pull=None):
        self.installed = dict(installed or {})
        self.registry = dict(registry or {})
        self.fail_pull = fail_pull or {}
        self.calls = []

    def tags(self):
        self.calls.append(("GET", "/api/tags"))
        return [{"name": n, "model": n, "digest": d, "size": 10, "modified_at": "2025-01-01T00:00:00Z"}
                for n, d in self.installed.items()]

    def delete(self, name):
        self.calls.append(("DELETE", name))
        return self.installed.pop(name, None) is not None

    def pull(self, name, pull_timeout, retries):
        self.calls.append(("PULL", name))
        if name in self.fail_pull:
            raise OllamaError(self.fail_pull[name])
        self.installed[name] = self.registry[name]
        return {"attempts": 1, "bytes": 10, "seconds": 0.5, "total_bytes": 10}


def run(monkeypatch, capsys, fake, check_mode=False, diff=False, **args):
    monkeypatch.setattr(ollama_model.OllamaClient, "from_module", classmethod(lambda cls, module: fake))
    args.update(_ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit):
        ollama_model.main()
    return json.loads(capsys.readouterr().out)


def test_fifty_installed_models_cost_one_request(monkeypatch, capsys):
    installed = {f"m{i}:latest": f"{i:064x}" for i in range(50)}
    fake = FakeOllama(installed)
    result = run(monkeypatch, capsys, fake, models=[f"m{i}" for i in range(50)])
    assert result["changed"] is False
    assert fake.calls == [("GET", "/api/tags")]
    assert len(result["unchanged"]) == 50


def test_missing_model_is_pulled_and_reported(monkeypatch, capsys):
    fake = FakeOllama(registry={"llama3.2:latest": "a" * 64})
    result = run(monkeypatch, capsys, fake, diff=True, name="llama3.2")
    assert result["changed"] is True
    assert fake.calls == [("GET", "/api/tags"), ("PULL", "llama3.2:latest"), ("GET", "/api/tags")]
    assert result["pulled"] == [{"name": "llama3.2:latest", "state": "present", "digest_before": None,
                                 "digest": "a" * 64, "changed": True, "bytes": 10, "seconds": 0.5, "attempts": 1}]
    assert result["diff"]["before"] == ""
    assert result["diff"]["after"] == "llama3.2:latest aaaaaaaaaaaa\n"


def test_check_mode_pulls_and_removes_nothing(monkeypatch, capsys):
    fake = FakeOllama({"old:latest": "b" * 64}, registry={"llama3.2:latest": "a" * 64})
    result = run(monkeypatch, capsys, fake, check_mode=True, diff=True, models=["llama3.2"], prune=True)
    assert result["changed"] is True
    assert fake.calls == [("GET", "/api/tags")]
    assert [p["name"] for p in result["pulled"]] == ["llama3.2:latest"]
    assert result["removed"] == ["old:latest"]
    assert result["diff"]["after"] == "llama3.2:latest (to be pulled)\n"


def test_latest_with_an_unchanged_digest_is_not_a_change(monkeypatch, capsys):
    fake = FakeOllama({"llama3.2:latest": "a" * 64}, registry={"llama3.2:latest": "a" * 64})
    result = run(monkeypatch, capsys, fake, name="llama3.2", state="latest")
    assert result["changed"] is False
    assert result["pulled"][0]["changed"] is False
    assert result["unchanged"] == ["llama3.2:latest"]


def test_latest_with_a_new_digest_is_a_change(monkeypatch, capsys):
    fake = FakeOllama({"llama3.2:latest": "a" * 64}, registry={"llama3.2:latest": "c" * 64})
    result = run(monkeypatch, capsys, fake, name="llama3.2", state="latest")
    assert result["changed"] is True
    assert (result["pulled"][0]["digest_before"], result["pulled"][0]["digest"]) == ("a" * 64, "c" * 64)


def test_invalid_name_fails_before_any_request(monkeypatch, capsys):
    fake = FakeOllama()
    result = run(monkeypatch, capsys, fake, models=["llama3.2", "model:"])
    assert result["failed"] is True
    assert "invalid model name 'model:'" in result["msg"]
    assert fake.calls == []


def test_a_failed_pull_reports_what_was_done_before(monkeypatch, capsys):
    fake = FakeOllama({"old:latest": "b" * 64}, registry={"a:latest": "a" * 64},
                      fail_pull={"b:latest": "pulling model b:latest failed: disk full"})
    result = run(monkeypatch, capsys, fake, models=["a", "b"], prune=True)
    assert result["failed"] is True
    assert result["msg"] == "pulling model b:latest failed: disk full"
    assert result["changed"] is True
    assert result["removed"] == ["old:latest"]
    assert [p["name"] for p in result["pulled"]] == ["a:latest"]
    assert [m["name"] for m in result["models"]["after"]] == ["a:latest"]


def test_name_and_models_are_exclusive(monkeypatch, capsys):
    result = run(monkeypatch, capsys, FakeOllama(), name="a", models=["b"])
    assert result["failed"] is True
    assert "mutually exclusive" in result["msg"]
