"""The ollama role's VRAM check on the seed plan's 24 GB card (tests/integration/targets/ollama_vram_check):
the three seed models accepted, the three plus a 70B model refused before any pull, with the numbers."""

from conftest import run_target


def test_the_seed_models_fit_a_24_gb_card_and_a_70b_model_is_refused():
    output = run_target("ollama_vram_check").stdout
    assert "llama3.1:70b needs 41.3 GB" in output
