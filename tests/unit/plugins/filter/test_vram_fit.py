"""The ollama_model_memory and vram_fit filters: the estimate by hand, and the seed plan on a 4090 and an H100.

Figures by hand (MiB = 2^20 bytes, GB in messages = 1024 MiB; q4_k_m = 4.85 bits per weight; KV cache without
the architecture = 4096 tokens x 0.125 MiB x (params / 8e9) ^ 0.4225; overhead 512):

  deepseek-coder-v2:16b  weights 16e9 x 4.85 / 8 = 9.7e9 B = 9250.6 -> 9251; KV 4096 x 0.125 x 1.3403 = 686.2 -> 687
                         required 9251 + 687 + 512 = 10450 (10.2 GB)
  llama3.1:8b            weights 4.85e9 B = 4625.3 -> 4626; KV 4096 x 0.125 = 512; required 5650 (5.5 GB)
  mistral:7b             weights 4.24375e9 B = 4047.2 -> 4048; KV 4096 x 0.125 x 0.9452 = 483.9 -> 484;
                         required 5044 (4.9 GB)
  llama3.1:70b           weights 42.4375e9 B = 40471.5 -> 40472; KV 4096 x 0.3125 = 1280; required 42264 (41.3 GB)

  RTX 4090 24564 MiB, 17 % headroom: usable int(24564 x 0.83) = int(20388.1) = 20388 (19.9 GB)
  H100 81559 MiB (the capture), 17 %: usable int(81559 x 0.83) = int(67693.97) = 67693 (66.1 GB)
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.aistack.selfhosted.plugins.filter.vram_fit import FilterModule

FILTERS = FilterModule().filters()
memory = FILTERS["ollama_model_memory"]
vram_fit = FILTERS["vram_fit"]

RTX_4090_MIB = 24564
H100_MIB = 81559  # memory.total of h100-query-gpu.csv
THREE = ["deepseek-coder-v2:16b", "llama3.1:8b", "mistral:7b"]
FOUR = [*THREE, "llama3.1:70b"]

# What /api/show answers for llama3.1:8b (the fields the estimate reads).
LLAMA31_8B_SHOW = {
    "details": {"format": "gguf", "family": "llama", "parameter_size": "8.0B", "quantization_level": "Q4_K_M"},
    "model_info": {
        "general.architecture": "llama",
        "general.parameter_count": 8030261248,
        "llama.block_count": 32,
        "llama.attention.head_count": 32,
        "llama.attention.head_count_kv": 8,
        "llama.embedding_length": 4096,
        "llama.context_length": 131072,
    },
}


@pytest.mark.parametrize(("name", "weights", "kv", "required"), [
    ("deepseek-coder-v2:16b", 9251, 687, 10450),
    ("llama3.1:8b", 4626, 512, 5650),
    ("mistral:7b", 4048, 484, 5044),
    ("llama3.1:70b", 40472, 1280, 42264),
    # The quantisation in the tag is the one used; q4_K_M is the default anyway.
    ("deepseek-coder-v2:16b-lite-instruct-q4_K_M", 9251, 687, 10450),
    ("qwen3-embedding:8b", 4626, 512, 5650),
])
def test_estimates_from_the_name(name, weights, kv, required):
    estimate = memory(name)
    assert estimate == {"name": name, "required_mib": required, "weights_mib": weights, "kv_cache_mib": kv,
                        "overhead_mib": 512, "context_length": 4096, "source": "name"}


def test_quantisation_and_sizes_from_tags():
    # 8e9 x 8.5 / 8 = 8.5e9 B = 8106.2 -> 8107
    assert memory("llama3.1:8b-instruct-q8_0")["weights_mib"] == 8107
    # 8e9 x 16 / 8 = 16e9 B = 15258.8 -> 15259
    assert memory("llama3.1:8b-instruct-fp16")["weights_mib"] == 15259
    # 1.5e9 x 4.85 / 8 = 909375000 B = 867.2 -> 868
    assert memory("qwen2.5:1.5b")["weights_mib"] == 868
    # 270e6 x 4.85 / 8 = 163687500 B = 156.1 -> 157
    assert memory("gemma3:270m")["weights_mib"] == 157
    # 8 x 7e9 = 56e9 (MoE counted as A x B): 56e9 x 4.85 / 8 = 33.95e9 B = 32377.2 -> 32378
    assert memory("mixtral:8x7b")["weights_mib"] == 32378
    # A Hugging Face repository names its size; the tag its quantisation: 3e9 x 8.5 / 8 = 3.1875e9 B = 3039.8 -> 3040
    assert memory("hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q8_0")["weights_mib"] == 3040


def test_context_parallel_and_overhead_scale():
    estimate = memory("llama3.1:8b", context_length=8192, num_parallel=2, overhead_mib=256)
    assert estimate["kv_cache_mib"] == 512 * 4
    assert estimate["required_mib"] == 4626 + 2048 + 256


def test_seed_plan_on_a_4090_each_model_alone():
    fit = vram_fit(THREE, RTX_4090_MIB)
    assert fit["fits"] is True
    assert fit["usable_mib"] == 20388
    assert fit["memory_mib"] == RTX_4090_MIB
    assert fit["headroom_percent"] == 17
    assert fit["together_mib"] == 10450  # loaded_together=1: the largest alone
    assert [model["fits"] for model in fit["models"]] == [True, True, True]
    assert fit["message"] == ("3 models fit: largest deepseek-coder-v2:16b 10.2 GB of 19.9 GB usable in the "
                              "GPU (24.0 GB, 17 % headroom)")


def test_seed_plan_with_the_70b_on_a_4090():
    fit = vram_fit(FOUR, RTX_4090_MIB)
    assert fit["fits"] is False
    assert [model["name"] for model in fit["models"] if not model["fits"]] == ["llama3.1:70b"]
    assert fit["message"] == ("llama3.1:70b needs 41.3 GB (weights 39.5, KV cache 1.2 at 4096 tokens x 1, overhead "
                              "0.5) but the GPU has 19.9 GB usable (24.0 GB, 17 % headroom)")


def test_seed_plan_on_an_h100():
    fit = vram_fit(FOUR, H100_MIB)
    assert fit["fits"] is True
    assert fit["usable_mib"] == 67693
    assert fit["together_mib"] == 42264
    assert "largest llama3.1:70b 41.3 GB of 66.1 GB usable in the GPU (79.6 GB, 17 % headroom)" in fit["message"]


def test_three_loaded_together_do_not_fit_a_4090():
    # 10450 + 5650 + 5044 = 21144 MiB (20.6 GB) > 20388 usable: each fits alone, not all three at once.
    fit = vram_fit(THREE, RTX_4090_MIB, loaded_together=3)
    assert fit["fits"] is False
    assert fit["together_mib"] == 21144
    assert all(model["fits"] for model in fit["models"])
    assert fit["message"] == (
        "Each model fits alone, but the 3 largest loaded together (loaded_together=3) need 20.6 GB "
        "(deepseek-coder-v2:16b 10.2, llama3.1:8b 5.5, mistral:7b 4.9) and the GPU has 19.9 GB usable "
        "(24.0 GB, 17 % headroom)")
    # Two of them (10450 + 5650 = 16100) do.
    assert vram_fit(THREE, RTX_4090_MIB, loaded_together=2)["fits"] is True


def test_declared_size_wins():
    estimate = memory({"name": "llama3.1:70b", "size_gb": 12})
    assert estimate == {"name": "llama3.1:70b", "required_mib": 12288, "weights_mib": 12288, "kv_cache_mib": 0,
                        "overhead_mib": 0, "context_length": 4096, "source": "declared"}
    fit = vram_fit([{"name": "mine", "size_gb": 30}], RTX_4090_MIB)
    assert fit["message"] == "mine needs 30.0 GB (declared) but the GPU has 19.9 GB usable (24.0 GB, 17 % headroom)"


def test_declared_parameters_and_quantisation():
    # 14e9 x 6.6 / 8 = 11.55e9 B = 11015.0 -> 11015 (11014.99...)
    estimate = memory({"name": "custom", "parameters_b": 14, "quantization": "Q6_K"})
    assert estimate["weights_mib"] == 11015
    assert estimate["source"] == "declared"


def test_details_from_api_show():
    # KV: 4096 x 32 blocks x 8 KV heads x (128 + 128) x 2 bytes = 536870912 B = 512 MiB
    # weights: 8030261248 x 4.85 / 8 = 4868345881.6 B = 4642.8 -> 4643
    estimate = memory({"name": "llama3.1:8b", "details": LLAMA31_8B_SHOW})
    assert estimate == {"name": "llama3.1:8b", "required_mib": 4643 + 512 + 512, "weights_mib": 4643,
                        "kv_cache_mib": 512, "overhead_mib": 512, "context_length": 4096, "source": "details"}
    # An ollama_info `shown` item carries the same fields at its top level.
    assert memory({"name": "llama3.1:8b", "installed": True, **LLAMA31_8B_SHOW}) == estimate


def test_details_key_lengths_and_context_cap():
    show = json.loads(json.dumps(LLAMA31_8B_SHOW))
    info = show["model_info"]
    info.update({"llama.attention.key_length": 192, "llama.attention.value_length": 128, "llama.context_length": 2048})
    estimate = memory({"name": "x:8b", "details": show}, context_length=8192)
    # capped at the trained 2048 tokens: 2048 x 32 x 8 x (192 + 128) x 2 = 335544320 B = 320 MiB
    assert estimate["context_length"] == 2048
    assert estimate["kv_cache_mib"] == 320


def test_details_block_only_gives_the_size():
    # /api/tags' details: parameter_size and quantisation, no architecture -> KV from the parameter count
    estimate = memory({"name": "y", "details": {"parameter_size": "8.0B", "quantization_level": "Q8_0"}})
    assert estimate["source"] == "details"
    assert estimate["weights_mib"] == 8107
    assert estimate["kv_cache_mib"] == 512


def test_unknown_size_says_to_declare_it():
    with pytest.raises(AnsibleFilterError, match=r"hf.co/x/y:Q8_0 cannot be told .*declare size_gb"):
        memory("hf.co/x/y:Q8_0")


def test_a_model_of_unknown_size_is_named_and_left_out_of_the_fit():
    fit = vram_fit(["llama3.1:8b", "nomic-embed-text"], RTX_4090_MIB)
    assert fit["fits"] is True
    assert fit["unknown"] == ["nomic-embed-text"]
    assert [model["name"] for model in fit["models"]] == ["llama3.1:8b"]
    assert "not checked: the size of model nomic-embed-text cannot be told" in fit["message"]
    assert "declare size_gb" in fit["message"]


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"memory_mib": 0}, "memory_mib must be more than 0"),
    ({"memory_mib": 1000, "headroom_percent": 100}, "headroom_percent"),
    ({"memory_mib": 1000, "loaded_together": 0}, "loaded_together must be at least 1"),
])
def test_bad_arguments(kwargs, error):
    with pytest.raises(AnsibleFilterError, match=error):
        vram_fit(THREE, **kwargs)


def test_cpu_host_and_no_models():
    fit = vram_fit(["llama3.1:8b"], 16384, headroom_percent=25, device="host")
    assert fit["usable_mib"] == 12288
    assert fit["message"] == "1 model fits: largest llama3.1:8b 5.5 GB of 12.0 GB usable in the host (16.0 GB, " \
        "25 % headroom)"
    assert vram_fit([], 16384)["fits"] is True


def test_the_filters_work_by_their_fqcn_in_a_template():
    repo = Path(__file__).resolve().parents[4]
    template = ("msg={{ (['llama3.1:8b', 'llama3.1:70b'] | aistack.selfhosted.vram_fit(24564)).message ~ ' / ' ~ "
                "('mistral:7b' | aistack.selfhosted.ollama_model_memory).required_mib }}")
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible"), "localhost", "-i", "localhost,", "-c", "local", "-m",
         "ansible.builtin.debug", "-a", template],
        capture_output=True, text=True, check=False,
        env={"ANSIBLE_CONFIG": str(repo / "ansible.cfg"), "ANSIBLE_COLLECTIONS_PATH": str(repo / "collections"),
             "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "ANSIBLE_NOCOLOR": "1"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "llama3.1:70b needs 41.3 GB" in proc.stdout
    assert "/ 5044" in proc.stdout
