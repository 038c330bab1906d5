# Copyright (c) aistack.selfhosted maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""An estimate of the memory an Ollama model takes when loaded, and whether declared models fit in a GPU.

The arithmetic behind the ollama_model_memory and vram_fit filters (their .yml docs describe the method).
Private to this collection. Only the standard library. Errors are ValueError; the filters turn them into
AnsibleFilterError.
"""

from __future__ import annotations

import math
import re

MIB = 1024 * 1024
GIB_MIB = 1024  # the messages' "GB" are GiB, as nvidia-smi's MiB are

# Bits per weight of a GGUF file in each quantisation, scales included (llama.cpp's figures, rounded up).
BITS_PER_WEIGHT = {
    "q2_k": 3.35,
    "q3_k_m": 3.9,
    "q4_0": 4.5,
    "q4_1": 5.0,
    "q4_k_s": 4.6,
    "q4_k_m": 4.85,
    "q5_0": 5.5,
    "q5_1": 6.0,
    "q5_k_s": 5.5,
    "q5_k_m": 5.7,
    "q6_k": 6.6,
    "q8_0": 8.5,
    "f16": 16.0,
    "bf16": 16.0,
    "f32": 32.0,
}
_QUANT_ALIASES = {"fp16": "f16", "fp32": "f32", "q4_k": "q4_k_m", "q5_k": "q5_k_m", "q3_k": "q3_k_m"}
# What Ollama's plain tags (llama3.1:8b) are.
DEFAULT_QUANTIZATION = "q4_k_m"

OVERHEAD_MIB = 512  # per loaded model: CUDA context and compute graph
KV_BYTES = 2  # Ollama's default KV cache type is f16

# Without the architecture, KV cache per token follows a power of the parameter count through two real
# points: Llama 3 8B (32 layers x 8 KV heads x 128 x 2 x 2 bytes = 0.125 MiB) and Llama 3 70B
# (80 layers: 0.3125 MiB). The exponent is log(2.5)/log(8.75), about 0.42 (a square root would give 0.37 MiB
# at 70B, 18 % more than the real figure).
KV_MIB_PER_TOKEN_8B = 0.125
KV_EXPONENT = math.log(0.3125 / 0.125) / math.log(70.0 / 8.0)

_SIZE_TOKEN = re.compile(r"^(?:(\d+)x)?(\d+(?:\.\d+)?)([bm])$", re.IGNORECASE)
_PARAMETER_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmbt])\s*$", re.IGNORECASE)
_SCALE = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}


def _mib(number_of_bytes):
    # round first: 1280.0000000002 MiB is 1280, not 1281
    return int(math.ceil(round(number_of_bytes / MIB, 6)))


def gb(mib):
    """MiB as the messages write GB: one decimal."""
    return "%.1f" % (mib / float(GIB_MIB))


def quantization_key(text):
    """"Q4_K_M" -> "q4_k_m"; None when the text names no quantisation of the table."""
    text = (text or "").strip().lower()
    text = _QUANT_ALIASES.get(text, text)
    return text if text in BITS_PER_WEIGHT else None


def _split_name(name):
    """("llama3.1", "8b") from "llama3.1:8b"; the tag is "" when the name has none."""
    last = name.rsplit("/", 1)[-1]
    base, _colon, tag = last.partition(":")
    return base, tag


def quantization_from_name(name):
    """The quantisation a tag names ("16b-lite-instruct-q4_K_M", "Q8_0", "fp16"), or None."""
    base, tag = _split_name(name)
    keys = sorted(set(BITS_PER_WEIGHT) | set(_QUANT_ALIASES), key=len, reverse=True)
    for text in (tag.lower(), base.lower()):
        for key in keys:
            if re.search(r"(?<![a-z0-9])%s(?![a-z0-9])" % re.escape(key), text):
                return quantization_key(key)
    return None


def parameters_from_name(name):
    """Parameters a tag or model name states ("8b", "1.5b", "270m", "8x7b" as 8 x 7e9), or None."""
    base, tag = _split_name(name)
    for text in (tag, base):
        for token in re.split(r"[-_]", text):
            match = _SIZE_TOKEN.match(token)
            if match:
                experts = int(match.group(1) or 1)
                return experts * float(match.group(2)) * _SCALE[match.group(3).lower()]
    return None


def parameters_from_size(text):
    """Ollama's details.parameter_size ("8.0B", "270M") as a count, or None."""
    match = _PARAMETER_SIZE.match(str(text or ""))
    return float(match.group(1)) * _SCALE[match.group(2).lower()] if match else None


def _show_answer(model):
    """The /api/show answer in a model dict: under `details`, or the dict itself (an ollama_info `shown` item)."""
    details = model.get("details")
    if isinstance(details, dict) and ("model_info" in details or isinstance(details.get("details"), dict)):
        return details
    if "model_info" in model:
        return model
    if isinstance(details, dict):
        return {"details": details}  # only the `details` block of /api/show or /api/tags
    return {}


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, list) and value and all(isinstance(item, (int, float)) for item in value):
        return value
    return None


def kv_bytes_per_token(model_info):
    """KV cache bytes per token of context from /api/show's model_info, or None when it lacks the architecture."""
    arch = model_info.get("general.architecture")
    if not arch:
        return None

    def key(name):
        return _number(model_info.get("%s.%s" % (arch, name)))

    blocks, heads, heads_kv, width = (key("block_count"), key("attention.head_count"),
                                      key("attention.head_count_kv"), key("embedding_length"))
    if not blocks or heads_kv is None:
        return None
    # Some architectures list head counts per layer.
    if isinstance(heads, list):
        heads = max(heads) or None
    head_dim = width // heads if width and heads else None
    key_length = key("attention.key_length") or head_dim
    value_length = key("attention.value_length") or head_dim
    if not key_length or not value_length:
        return None
    kv_heads = sum(heads_kv) if isinstance(heads_kv, list) else heads_kv * blocks
    return kv_heads * (key_length + value_length) * KV_BYTES


def estimated_kv_mib_per_token(parameters):
    return KV_MIB_PER_TOKEN_8B * (parameters / 8e9) ** KV_EXPONENT


class UnknownSize(ValueError):
    """A model whose size neither its name, its details nor a declaration tells."""


def model_memory(model, context_length=4096, num_parallel=1, *, overhead_mib=OVERHEAD_MIB):
    """{name, required_mib, weights_mib, kv_cache_mib, overhead_mib, context_length, source} for one model."""
    if context_length < 1 or num_parallel < 1:
        raise ValueError("context_length and num_parallel must be at least 1")
    if isinstance(model, str):
        model = {"name": model}
    if not isinstance(model, dict) or not str(model.get("name") or "").strip():
        raise ValueError("a model is a name or a dict with a name, not %r" % (model,))
    name = str(model["name"]).strip()

    if model.get("size_gb") not in (None, ""):
        # What the model takes in all, as `ollama ps` shows it: nothing is added.
        required = int(math.ceil(float(model["size_gb"]) * GIB_MIB))
        return dict(name=name, required_mib=required, weights_mib=required, kv_cache_mib=0, overhead_mib=0,
                    context_length=context_length, source="declared")

    show = _show_answer(model)
    model_info = show.get("model_info") or {}
    show_details = show.get("details") or {}
    parameters, source = None, "name"
    if _number(model_info.get("general.parameter_count")):
        parameters, source = float(model_info["general.parameter_count"]), "details"
    elif parameters_from_size(show_details.get("parameter_size")):
        parameters, source = parameters_from_size(show_details["parameter_size"]), "details"
    elif model.get("parameters_b") not in (None, ""):
        parameters, source = float(model["parameters_b"]) * 1e9, "declared"
    else:
        parameters = parameters_from_name(name)
    if not parameters:
        raise UnknownSize(
            "the size of model %s cannot be told from its name (no parameter tag such as :8b): declare size_gb for "
            "it (the SIZE `ollama ps` shows once loaded), e.g. {name: %s, size_gb: 5.5}" % (name, name)
        )

    quantization = (quantization_key(model.get("quantization"))
                    or quantization_key(show_details.get("quantization_level"))
                    or quantization_from_name(name)
                    or DEFAULT_QUANTIZATION)
    weights = _mib(parameters * BITS_PER_WEIGHT[quantization] / 8)

    # Ollama caps the context at what the model was trained for.
    trained = _number(model_info.get("%s.context_length" % model_info.get("general.architecture")))
    if isinstance(trained, (int, float)) and 0 < trained < context_length:
        context_length = int(trained)
    tokens = context_length * num_parallel
    per_token = kv_bytes_per_token(model_info)
    if per_token:
        kv_cache = _mib(tokens * per_token)
    else:
        kv_cache = int(math.ceil(round(tokens * estimated_kv_mib_per_token(parameters), 6)))
    return dict(name=name, required_mib=weights + kv_cache + int(overhead_mib), weights_mib=weights,
                kv_cache_mib=kv_cache, overhead_mib=int(overhead_mib), context_length=context_length,
                source=source)


def _needs(model, num_parallel):
    if model["source"] == "declared" and not model["kv_cache_mib"] and not model["overhead_mib"]:
        return "%s needs %s GB (declared)" % (model["name"], gb(model["required_mib"]))
    return "%s needs %s GB (weights %s, KV cache %s at %d tokens x %d, overhead %s)" % (
        model["name"], gb(model["required_mib"]), gb(model["weights_mib"]), gb(model["kv_cache_mib"]),
        model["context_length"], num_parallel, gb(model["overhead_mib"]))


def vram_fit(models, memory_mib, headroom_percent=17, *, context_length=4096, num_parallel=1, loaded_together=1,
             device="GPU", overhead_mib=OVERHEAD_MIB):
    """Whether each model fits alone, and the loaded_together largest together, in memory_mib less headroom."""
    if isinstance(models, (str, dict)):
        models = [models]
    try:
        memory_mib = float(memory_mib)
        headroom_percent = float(headroom_percent)
        loaded_together = int(loaded_together)
    except (TypeError, ValueError):
        raise ValueError("memory_mib and headroom_percent must be numbers and loaded_together an integer")
    if memory_mib <= 0:
        raise ValueError("memory_mib must be more than 0 (the MiB of the chosen GPUs, or the host's memory), "
                         "not %s" % memory_mib)
    if not 0 <= headroom_percent < 100:
        raise ValueError("headroom_percent must be from 0 to less than 100, not %s" % headroom_percent)
    if loaded_together < 1:
        raise ValueError("loaded_together must be at least 1, not %s" % loaded_together)

    usable = int(memory_mib * (1 - headroom_percent / 100.0))
    estimates, unknown = [], []
    for model in models:
        try:
            estimate = model_memory(model, context_length, num_parallel, overhead_mib=overhead_mib)
        except UnknownSize as error:
            # Left out of the sums, and named in the message: the check is incomplete, not wrong.
            unknown.append((model if isinstance(model, str) else model.get("name"), str(error)))
            continue
        estimate["fits"] = estimate["required_mib"] <= usable
        estimates.append(estimate)
    largest = sorted(estimates, key=lambda item: item["required_mib"], reverse=True)[:loaded_together]
    together = sum(item["required_mib"] for item in largest)
    fits = all(item["fits"] for item in estimates) and together <= usable

    memory_text = "the %s has %s GB usable (%s GB, %s %% headroom)" % (
        device, gb(usable), gb(memory_mib), ("%g" % headroom_percent))
    too_big = [item for item in estimates if not item["fits"]]
    if not estimates:
        message = "No model of known size to fit; %s" % memory_text
    elif too_big:
        message = "%s but %s" % ("; ".join(_needs(item, num_parallel) for item in too_big), memory_text)
    elif not fits:
        message = "Each model fits alone, but the %d largest loaded together (loaded_together=%d) need %s GB (%s) " \
            "and %s" % (len(largest), loaded_together, gb(together),
                        ", ".join("%s %s" % (item["name"], gb(item["required_mib"])) for item in largest), memory_text)
    else:
        message = "%d model%s fit%s: largest %s %s GB of %s GB usable in the %s (%s GB, %s %% headroom)" % (
            len(estimates), "" if len(estimates) == 1 else "s", "s" if len(estimates) == 1 else "",
            largest[0]["name"], gb(largest[0]["required_mib"]), gb(usable), device, gb(memory_mib),
            "%g" % headroom_percent)
        if len(largest) > 1:
            message += "; the %d largest loaded together need %s GB" % (len(largest), gb(together))
    if unknown:
        message += "; not checked: " + "; ".join(reason for _name, reason in unknown)
    return dict(fits=fits, usable_mib=usable, memory_mib=int(memory_mib), headroom_percent=headroom_percent,
                models=estimates, together_mib=together, unknown=[name for name, _reason in unknown],
                message=message)
