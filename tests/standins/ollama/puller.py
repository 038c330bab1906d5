"""A pull, as Ollama's PullModel reports it: a sequence of progress objects.

The sequence and texts follow server/images.go and server/download.go (reference A.3):
"pulling manifest", one "pulling <12 hex>" group per layer and for the config, then
"verifying sha256 digest", "writing manifest", maybe "removing unused layers", "success".
A failure is raised as PullError; a fault that cuts the connection yields DROP.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator

import catalogue as cat
import names
from faults import Faults
from store import Store

DROP = object()  # yielded when the connection must be cut here


class PullError(Exception):
    def __init__(self, message: str, status: int = 500):
        super().__init__(message)
        self.status = status


def pull(store: Store, registry: cat.Catalogue, faults: Faults, name: names.Name) -> Iterator[dict | object]:
    yield {"status": "pulling manifest"}
    if faults.get("registry_offline"):
        path = f"{name.namespace}/{name.model}/manifests/{name.tag}"
        raise PullError(f'pull model manifest: Get "https://{name.host}/v2/{path}": '
                        f"dial tcp: lookup {name.host}: no such host")
    published = registry.resolve(name)
    if published is None:
        raise PullError("pull model manifest: file does not exist")
    drop_after = faults.take_drop()
    budget = _Budget(faults, drop_after)
    for blob in published.layers:
        yield from _fetch(store, faults, blob, budget)
    yield {"status": "verifying sha256 digest"}
    yield {"status": "writing manifest"}
    with store.lock:
        previous = store.find(name)
        store.write_manifest(name, published.manifest)
        if previous is not None and store.remove_unused(
                [*previous.manifest["layers"], previous.manifest["config"]]):
            yield {"status": "removing unused layers"}
    yield {"status": "success"}


class _Budget:
    """Bytes this pull may still move before a drop fault fires."""

    def __init__(self, faults: Faults, drop_after: int | None):
        self.faults = faults
        self.drop_after = drop_after
        self.moved = 0
        self.started = time.monotonic()

    def must_drop(self) -> bool:
        return self.drop_after is not None and self.moved >= self.drop_after

    def throttle(self) -> None:
        rate = self.faults.get("rate_bytes_per_second")
        if rate:
            ahead = self.moved / rate - (time.monotonic() - self.started)
            if ahead > 0:
                time.sleep(ahead)


def _progress(blob: cat.Blob, completed: int) -> dict:
    line = {"status": "pulling " + blob.digest[7:19], "digest": blob.digest, "total": blob.size}
    if completed:
        line["completed"] = completed  # omitempty in Ollama's ProgressResponse
    return line


def _fetch(store: Store, faults: Faults, blob: cat.Blob, budget: _Budget) -> Iterator[dict | object]:
    with store.blob_lock(blob.digest):
        yield from _download(store, faults, blob, budget)


def _download(store: Store, faults: Faults, blob: cat.Blob, budget: _Budget) -> Iterator[dict | object]:
    if store.has_blob(blob.digest):
        yield _progress(blob, blob.size)  # cache hit: reported once, complete
        return
    partial = store.partial_path(blob.digest)
    done = partial.stat().st_size if partial.exists() else 0
    yield _progress(blob, done)
    hasher = hashlib.sha256() if done == 0 else None  # a resumed blob is re-read to verify
    interval = faults.get("progress_interval")
    last_report = time.monotonic()
    with partial.open("r+b" if done else "wb") as handle:
        for chunk in blob.chunks(done):
            if budget.must_drop():
                yield DROP
                return
            if faults.spend_disk(len(chunk)) < len(chunk):
                raise PullError(f"write {partial}: no space left on device")
            if chunk.count(0) == len(chunk):
                handle.truncate(done + len(chunk))  # zeros: extend sparsely, no disk used
                handle.seek(done + len(chunk))
            else:
                handle.write(chunk)
            if hasher is not None:
                hasher.update(chunk)
            done += len(chunk)
            budget.moved += len(chunk)
            budget.throttle()
            now = time.monotonic()
            if now - last_report >= interval or done == blob.size:
                last_report = now
                yield _progress(blob, done)
    digest = "sha256:" + hasher.hexdigest() if hasher is not None else store.hash_file(partial)
    if digest != blob.digest:
        partial.unlink()
        raise PullError("digest mismatch, file must be downloaded again")
    os.replace(partial, store.blob_path(blob.digest))
