"""The stand-in's "registry": which models a pull can fetch, and their generated content.

Real pulls fetch a manifest and blobs from registry.ollama.ai. Here every catalogue entry
describes a model, and its blobs are synthesised from (name, revision): a small GGUF-like
header followed by zero bytes up to `size`. Zeros let the store write the model layer as a
sparse file, so a multi-GB pull fills no disk. Bumping `revision` changes the header, hence
the layer digest, hence the manifest digest: that is how a test publishes "a new version".
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import names

CHUNK = 1 << 20
ZERO_CHUNK = bytes(CHUNK)

MEDIA_MODEL = "application/vnd.ollama.image.model"
MEDIA_TEMPLATE = "application/vnd.ollama.image.template"
MEDIA_PARAMS = "application/vnd.ollama.image.params"
MEDIA_SYSTEM = "application/vnd.ollama.image.system"
MEDIA_LICENSE = "application/vnd.ollama.image.license"
MEDIA_CONFIG = "application/vnd.docker.container.image.v1+json"
MEDIA_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"

CHAT_TEMPLATE = "{{ if .System }}<|system|>{{ .System }}{{ end }}<|user|>{{ .Prompt }}<|assistant|>"

DEFAULT_ENTRIES = {
    "llama3.2:latest": {"size": 4 << 20, "family": "llama", "parameter_size": "3.2B"},
    "llama3.2:1b": {"size": 2 << 20, "family": "llama", "parameter_size": "1.2B"},
    "qwen2.5:0.5b": {"size": 1 << 20, "family": "qwen2", "parameter_size": "494.03M"},
    "mistral:latest": {"size": 4 << 20, "family": "llama", "parameter_size": "7.2B", "quantization_level": "Q4_0"},
    "all-minilm:latest": {"size": 1 << 20, "family": "bert", "parameter_size": "23M",
                          "quantization_level": "F16", "embedding": True, "embedding_length": 384},
    "nomic-embed-text:latest": {"size": 1 << 20, "family": "nomic-bert", "parameter_size": "137M",
                                "quantization_level": "F16", "embedding": True, "embedding_length": 768},
    "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M": {"size": 2 << 20, "family": "llama",
                                                          "parameter_size": "1.2B"},
}


@dataclass(frozen=True)
class Blob:
    """One layer (or the config): its descriptor and how to produce its bytes."""

    media_type: str
    size: int
    digest: str
    header: bytes  # the non-zero prefix; the rest, up to size, is zero bytes

    def descriptor(self) -> dict:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}

    def chunks(self, offset: int = 0) -> Iterator[bytes]:
        """The content from offset on, in chunks of at most CHUNK bytes."""
        position = offset
        while position < self.size:
            end = min(self.size, position + CHUNK)
            if position < len(self.header):
                end = min(end, len(self.header))
                yield self.header[position:end]
            else:
                yield ZERO_CHUNK[: end - position]
            position = end


_digest_cache: dict[tuple[bytes, int], str] = {}
_digest_lock = threading.Lock()


def _digest_of(header: bytes, size: int) -> str:
    """sha256 of header + zeros, memoised: a 2 GB layer is hashed once per process."""
    with _digest_lock:
        cached = _digest_cache.get((header, size))
    if cached:
        return cached
    hasher = hashlib.sha256(header)
    remaining = size - len(header)
    while remaining > 0:
        step = min(remaining, CHUNK)
        hasher.update(ZERO_CHUNK[:step])
        remaining -= step
    digest = "sha256:" + hasher.hexdigest()
    with _digest_lock:
        _digest_cache[(header, size)] = digest
    return digest


def text_blob(media_type: str, text: str) -> Blob:
    data = text.encode()
    return Blob(media_type, len(data), "sha256:" + hashlib.sha256(data).hexdigest(), data)


def model_blob(name: names.Name, revision: int, size: int) -> Blob:
    header = b"GGUF\x03\x00\x00\x00" + f"aistack stand-in model {name.display} revision {revision}\n".encode()
    size = max(size, len(header))
    return Blob(MEDIA_MODEL, size, _digest_of(header, size), header)


@dataclass(frozen=True)
class Published:
    """What the registry serves for one name: manifest bytes and every blob it references."""

    name: names.Name
    manifest: bytes
    layers: list[Blob]  # manifest layers followed by the config blob, in pull order

    def blob(self, digest: str) -> Blob | None:
        return next((blob for blob in self.layers if blob.digest == digest), None)


def publish(name: names.Name, entry: dict) -> Published:
    family = entry.get("family", "llama")
    layers = [model_blob(name, int(entry.get("revision", 1)), int(entry.get("size", 1 << 20)))]
    if not entry.get("embedding"):
        layers.append(text_blob(MEDIA_TEMPLATE, entry.get("template", CHAT_TEMPLATE)))
    layers.append(text_blob(MEDIA_PARAMS, json.dumps(entry.get("parameters", {"stop": ["<|user|>"]}))))
    if entry.get("license"):
        layers.append(text_blob(MEDIA_LICENSE, entry["license"]))
    config = {
        "model_format": "gguf",
        "model_family": family,
        "model_families": [family],
        "model_type": entry.get("parameter_size", "1B"),
        "file_type": entry.get("quantization_level", "Q4_K_M"),
        "architecture": "amd64",
        "os": "linux",
        # Not in real configs (Ollama reads these from the GGUF); the stand-in keeps them here.
        "context_length": int(entry.get("context_length", 2048 if entry.get("embedding") else 131072)),
        "embedding_length": int(entry.get("embedding_length", 2048)),
        "capabilities": ["embedding"] if entry.get("embedding") else ["completion"],
        "rootfs": {"type": "layers", "diff_ids": [layer.digest for layer in layers]},
    }
    config_blob = text_blob(MEDIA_CONFIG, json.dumps(config, sort_keys=True))
    manifest = {
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": config_blob.descriptor(),
        "layers": [layer.descriptor() for layer in layers],
    }
    return Published(name, json.dumps(manifest, indent=2).encode(), [*layers, config_blob])


class Catalogue:
    """Thread-safe map of fully-qualified name -> entry, changeable while the server runs."""

    def __init__(self, entries: dict | None = None):
        self._lock = threading.Lock()
        self._entries: dict[tuple, tuple[names.Name, dict]] = {}
        for text, entry in (DEFAULT_ENTRIES if entries is None else entries).items():
            self.put(text, entry)

    def put(self, text: str, entry: dict) -> names.Name:
        name = names.parse(text)
        if name is None:
            raise ValueError(f"invalid model name {text!r}")
        with self._lock:
            self._entries[name.key] = (name, dict(entry))
        return name

    def remove(self, text: str) -> bool:
        name = names.parse(text)
        with self._lock:
            return name is not None and self._entries.pop(name.key, None) is not None

    def bump(self, text: str) -> int:
        """Publish a new revision of a model (new digest); returns the new revision."""
        name = names.parse(text)
        with self._lock:
            if name is None or name.key not in self._entries:
                raise KeyError(text)
            entry = self._entries[name.key][1]
            entry["revision"] = int(entry.get("revision", 1)) + 1
            return entry["revision"]

    def resolve(self, name: names.Name) -> Published | None:
        with self._lock:
            found = self._entries.get(name.key)
            stored, entry = (found[0], copy.deepcopy(found[1])) if found else (name, None)
        # Content derives from the catalogue's spelling, so the digest ignores the request's case.
        return publish(stored, entry) if entry is not None else None

    def snapshot(self) -> dict:
        with self._lock:
            return {name.display: dict(entry) for name, entry in self._entries.values()}
