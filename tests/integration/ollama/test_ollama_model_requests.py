"""What ollama_model asks of the server: one /api/tags for installed models, whatever their number."""

import pytest
from module_runner import run_module
from standin import OllamaStandin


@pytest.fixture
def verbose_standin(tmp_path):
    server = OllamaStandin(tmp_path / "models", verbose=True).start()
    yield server
    server.stop()


def test_fifty_installed_models_take_exactly_one_request(verbose_standin):
    names = [f"bench/model-{i:02d}:q4" for i in range(50)]
    for name in names:
        verbose_standin.add_to_catalogue(name, size=1024)
        verbose_standin.pull(name)
    logged = len(verbose_standin.request_log())
    result, _usage = run_module("ollama_model", {"api_url": verbose_standin.url, "models": names})
    assert result["changed"] is False, result
    assert len(result["unchanged"]) == 50
    assert verbose_standin.request_log()[logged:] == ["GET /api/tags"]


def test_a_missing_model_costs_tags_pull_tags(verbose_standin):
    logged = len(verbose_standin.request_log())
    result, _usage = run_module("ollama_model", {"api_url": verbose_standin.url, "name": "qwen2.5:0.5b"})
    assert result["changed"] is True, result
    assert verbose_standin.request_log()[logged:] == ["GET /api/tags", "POST /api/pull", "GET /api/tags"]
