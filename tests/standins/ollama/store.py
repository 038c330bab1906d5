"""Installed models on disk, in Ollama's own layout, so they survive a restart.

    <models>/manifests/<host>/<namespace>/<model>/<tag>   manifest JSON
    <models>/blobs/sha256-<hex>                           layer and config blobs
    <models>/blobs/sha256-<hex>-partial                   an interrupted download (resumed)

The digest Ollama reports is the sha256 of the manifest file bytes; modified_at is its mtime.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pathlib
import threading
from dataclasses import dataclass

import names


@dataclass(frozen=True)
class Installed:
    name: names.Name
    path: pathlib.Path
    manifest: dict
    digest: str  # hex sha256 of the manifest bytes, no prefix
    mtime_ns: int

    @property
    def size(self) -> int:
        return sum(layer["size"] for layer in [*self.manifest["layers"], self.manifest["config"]])

    def layer(self, media_type: str) -> dict | None:
        return next((layer for layer in self.manifest["layers"] if layer["mediaType"] == media_type), None)


class Store:
    def __init__(self, models_dir: pathlib.Path):
        self.root = models_dir
        self.manifests = models_dir / "manifests"
        self.blobs = models_dir / "blobs"
        self.manifests.mkdir(parents=True, exist_ok=True)
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self._blob_locks: dict[str, threading.Lock] = {}

    def blob_lock(self, digest: str) -> threading.Lock:
        """One download of a blob at a time: a second pull of it waits for the first."""
        with self.lock:
            return self._blob_locks.setdefault(digest, threading.Lock())

    # blobs -----------------------------------------------------------------------------
    def blob_path(self, digest: str) -> pathlib.Path:
        return self.blobs / digest.replace(":", "-")

    def partial_path(self, digest: str) -> pathlib.Path:
        return self.blobs / (digest.replace(":", "-") + "-partial")

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).is_file()

    def read_blob(self, digest: str) -> bytes:
        return self.blob_path(digest).read_bytes()

    def hash_file(self, path: pathlib.Path) -> str:
        hasher = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                hasher.update(chunk)
        return "sha256:" + hasher.hexdigest()

    # manifests -------------------------------------------------------------------------
    def list(self) -> list[Installed]:
        found = []
        for path in self.manifests.glob("*/*/*/*"):
            if not path.is_file():
                continue
            host, namespace, model, tag = path.relative_to(self.manifests).parts
            name = names.parse(f"{host}/{namespace}/{model}:{tag}")
            if name is None:
                continue
            with contextlib.suppress(OSError, ValueError):
                found.append(self._load(name, path))
        return found

    def _load(self, name: names.Name, path: pathlib.Path) -> Installed:
        data = path.read_bytes()
        return Installed(name, path, json.loads(data), hashlib.sha256(data).hexdigest(), path.stat().st_mtime_ns)

    def find(self, name: names.Name) -> Installed | None:
        """The installed model with this name, matched case-insensitively as Ollama does."""
        return next((model for model in self.list() if model.name.key == name.key), None)

    def write_manifest(self, name: names.Name, manifest: bytes) -> Installed:
        with self.lock:
            existing = self.find(name)
            path = existing.path if existing else self.manifests.joinpath(*name.parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(manifest)
            os.replace(tmp, path)
            return self._load(existing.name if existing else name, path)

    def config(self, model: Installed) -> dict:
        try:
            return json.loads(self.read_blob(model.manifest["config"]["digest"]))
        except (OSError, ValueError):
            return {}

    def delete(self, model: Installed) -> None:
        """Remove the manifest, then every blob that no other manifest references."""
        with self.lock:
            model.path.unlink()
            self._prune_dirs(model.path.parent)
            self.remove_unused([*model.manifest["layers"], model.manifest["config"]])

    def remove_unused(self, layers: list[dict]) -> bool:
        in_use = {layer["digest"] for other in self.list()
                  for layer in [*other.manifest["layers"], other.manifest["config"]]}
        removed = False
        for layer in layers:
            if layer["digest"] not in in_use:
                with contextlib.suppress(FileNotFoundError):
                    self.blob_path(layer["digest"]).unlink()
                    removed = True
        return removed

    def _prune_dirs(self, directory: pathlib.Path) -> None:
        while directory != self.manifests and directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
            directory = directory.parent
