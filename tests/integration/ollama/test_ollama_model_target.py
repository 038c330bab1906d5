"""The ollama_model integration target, one scenario per test, each against a fresh stand-in."""

import pytest


@pytest.mark.parametrize("scenario", ["present", "absent", "latest", "prune", "faults"])
def test_ollama_model_target(ollama_standin, run_target, free_port, scenario):
    proc = run_target("ollama_model", {
        "ollama_api_url": ollama_standin.url,
        "ollama_closed_url": f"http://127.0.0.1:{free_port()}",
        "scenario": scenario,
    })
    assert "failed=0" in proc.stdout
