"""Model names are normalised exactly as Ollama's types/model/name.go (reference A.2)."""

import pytest
from ansible_collections.aistack.selfhosted.plugins.module_utils._ollama_name import (
    InvalidModelName,
    normalize_model_name,
    parse_model_name,
)

# input -> (fully qualified, what /api/tags shows): the verified table of reference A.2
VALID = [
    ("llama3.2", "registry.ollama.ai/library/llama3.2:latest", "llama3.2:latest"),
    ("llama3.2:3b", "registry.ollama.ai/library/llama3.2:3b", "llama3.2:3b"),
    ("library/llama3.2", "registry.ollama.ai/library/llama3.2:latest", "llama3.2:latest"),
    ("registry.ollama.ai/library/llama3.2:latest", "registry.ollama.ai/library/llama3.2:latest", "llama3.2:latest"),
    ("mychen76/qwen3_cline_roocode:14b", "registry.ollama.ai/mychen76/qwen3_cline_roocode:14b",
     "mychen76/qwen3_cline_roocode:14b"),
    ("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M", "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
     "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"),
    ("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF", "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:latest",
     "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:latest"),
    ("huggingface.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q8_0",
     "huggingface.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q8_0",
     "huggingface.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q8_0"),
    ("localhost:5000/myns/mymodel:v1", "localhost:5000/myns/mymodel:v1", "localhost:5000/myns/mymodel:v1"),
    ("http://localhost:5000/myns/mymodel:v1", "localhost:5000/myns/mymodel:v1", "localhost:5000/myns/mymodel:v1"),
    ("localhost:5000/myns/mymodel", "localhost:5000/myns/mymodel:latest", "localhost:5000/myns/mymodel:latest"),
    ("gpt-oss:20b-cloud", "registry.ollama.ai/library/gpt-oss:20b-cloud", "gpt-oss:20b-cloud"),
    ("_private", "registry.ollama.ai/library/_private:latest", "_private:latest"),
]

# input -> words the error must contain (it says which part and why)
INVALID = [
    ("", "required"),
    ("my.ns/model", "namespace"),
    ("model:", "tag is empty"),
    ("a/b/c/d", "host"),
    ("/model", "namespace is empty"),
    (":latest", "model is empty"),
    ("-model", "must start"),
    ("model name", "' '"),
    ("ns/mo:del/x", "host"),
    ("a" * 81, "longer than 80"),
    ("model:" + "t" * 81, "longer than 80"),
    ("gpt-oss:20b:cloud", "model"),
    ("llama3.2:v1@sha256", "'@'"),
    ("lläma", "'ä'"),
]


@pytest.mark.parametrize(("text", "qualified", "display"), VALID)
def test_valid_names_normalise_like_ollama(text, qualified, display):
    name = parse_model_name(text)
    assert name.fully_qualified == qualified
    assert name.display == display
    assert normalize_model_name(text) == display


@pytest.mark.parametrize(("text", "reason"), INVALID)
def test_invalid_names_fail_saying_why(text, reason):
    with pytest.raises(InvalidModelName) as error:
        parse_model_name(text)
    assert "invalid model name" in str(error.value)
    assert reason in str(error.value)


def test_none_is_not_a_name():
    with pytest.raises(InvalidModelName):
        parse_model_name(None)


def test_short_and_long_forms_are_the_same_model():
    assert parse_model_name("llama3.1") == parse_model_name("llama3.1:latest")
    assert parse_model_name("llama3.1") == parse_model_name("registry.ollama.ai/library/llama3.1:latest")
    assert parse_model_name("llama3.1:8b") != parse_model_name("llama3.1")


def test_names_match_case_insensitively_but_keep_their_case():
    upper = parse_model_name("HF.co/Bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M")
    lower = parse_model_name("hf.co/bartowski/llama-3.2-1b-instruct-gguf:q4_k_m")
    assert upper == lower
    assert hash(upper) == hash(lower)
    assert upper.display == "HF.co/Bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"


def test_hf_co_and_huggingface_co_are_different_models():
    assert parse_model_name("hf.co/a/b") != parse_model_name("huggingface.co/a/b")


def test_default_namespace_and_host_are_hidden_case_insensitively():
    assert normalize_model_name("Registry.Ollama.AI/Library/Mistral") == "Mistral:latest"


def test_host_length_limit_is_350():
    host = "h" * 350
    assert parse_model_name(host + "/ns/model").host == host
    with pytest.raises(InvalidModelName, match="longer than 350"):
        parse_model_name("h" * 351 + "/ns/model")


def test_cloud_suffix_after_a_tag_points_to_the_stored_form():
    with pytest.raises(InvalidModelName, match="'gpt-oss:20b-cloud'"):
        parse_model_name("gpt-oss:20b:cloud")
