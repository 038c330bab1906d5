"""The ollama role's VRAM check on the seed plan's 24 GB card (tests/integration/targets/ollama_vram_check):
the three seed models accepted, the three plus a 70B model refused before any pull, with the numbers."""


def test_the_seed_models_fit_a_24_gb_card_and_a_70b_model_is_refused(run_target):
    output = run_target("ollama_vram_check").stdout
    assert "3 models fit: largest deepseek-coder-v2:16b 10.2 GB of 19.9 GB usable" in output
    assert "llama3.1:70b needs 41.3 GB" in output
