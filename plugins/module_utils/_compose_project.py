# Copyright (c) aistack.selfhosted maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reading a Compose project from the CLI's JSON: services, containers, images, config hashes.

Private to this collection. Pure functions on the text the CLI printed, so the unit
tests feed them output captured from real Compose releases.
"""

from __future__ import annotations

import hashlib
import json
import re

CONFIG_HASH_LABEL = "com.docker.compose.config-hash"
IMAGE_DIGEST_LABEL = "com.docker.compose.image"

# Compose fixed `config --hash` to hash the service environment as `up` does
# (env_file merged in) in 5.5.0 ("fix(config): resolve service environment when
# computing --hash"). Before, its answer differs from the container label for any
# service with an env_file, so the hash is computed here the way `up` computes it.
CONFIG_HASH_CLI_FROM = (5, 5, 0)
# Fields `ServiceHash` (pkg/compose/hash.go) blanks before hashing, by release.
HASH_DROPS_DEPENDS_ON_FROM = (2, 29, 3)
HASH_DROPS_PROFILES_FROM = (2, 30, 2)

_LABEL_START = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*=")


class Service:
    __slots__ = ("name", "profiles", "depends_on", "image", "has_build")

    def __init__(self, name, profiles, depends_on, image, has_build):
        self.name = name
        self.profiles = tuple(profiles)
        self.depends_on = tuple(depends_on)
        self.image = image
        self.has_build = has_build


class Container:
    __slots__ = ("id", "name", "service", "state", "health", "image", "config_hash", "image_id")

    def __init__(self, id, name, service, *, state, health, image, config_hash, image_id):
        self.id = id
        self.name = name
        self.service = service
        self.state = state
        self.health = health
        self.image = image
        self.config_hash = config_hash
        self.image_id = image_id

    @property
    def running(self):
        return self.state == "running"


def load_config(text):
    """`docker compose --profile '*' config --format json` -> (project name, raw config, {name: Service})."""
    config = json.loads(text)
    name = config.get("name", "")
    raw_services = config.get("services") or {}
    services = {}
    for svc_name, svc in raw_services.items():
        depends = svc.get("depends_on") or {}
        if isinstance(depends, list):
            depends = {dep: {} for dep in depends}
        # A dependency declared `required: false` may be absent: Compose skips it.
        needed = [dep for dep, spec in depends.items() if (spec or {}).get("required", True)]
        services[svc_name] = Service(
            name=svc_name,
            profiles=svc.get("profiles") or (),
            depends_on=needed,
            image=svc.get("image") or "%s-%s" % (name, svc_name),
            has_build="build" in svc,
        )
    return name, config, services


def defined_profiles(services):
    return sorted({profile for svc in services.values() for profile in svc.profiles})


def parse_labels(text):
    """The `Labels` field of `ps --format json`: a map, or "k=v,k=v" as Compose prints it.

    Values may themselves hold commas (config_files lists several files): a piece that
    does not start with `key=` belongs to the previous value.
    """
    if isinstance(text, dict):
        return dict(text)
    labels = {}
    key = None
    for piece in (text or "").split(","):
        if _LABEL_START.match(piece):
            key, _sep, value = piece.partition("=")
            labels[key] = value
        elif key is not None:
            labels[key] += "," + piece
    return labels


def parse_ps(text):
    """`docker compose ps --all --format json` -> [Container].

    Compose 2.21 and later print one JSON object per line; older releases printed one
    JSON array. Both are read, whichever this Compose prints.
    """
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        entries = json.loads(text)
    else:
        entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    containers = []
    for entry in entries:
        labels = parse_labels(entry.get("Labels"))
        containers.append(
            Container(
                id=entry.get("ID", ""),
                name=entry.get("Name", ""),
                service=entry.get("Service") or labels.get("com.docker.compose.service", ""),
                state=(entry.get("State") or "").lower(),
                health=(entry.get("Health") or "").lower(),
                image=entry.get("Image", ""),
                config_hash=labels.get(CONFIG_HASH_LABEL, ""),
                image_id=labels.get(IMAGE_DIGEST_LABEL, ""),
            )
        )
    return containers


def parse_image_ids(text, wanted):
    """`docker image inspect IMAGE...` JSON -> {reference: image ID or None when absent}."""
    found = {}
    try:
        entries = json.loads(text) if text.strip() else []
    except ValueError:
        entries = []
    for entry in entries:
        image_id = entry.get("Id")
        for ref in entry.get("RepoTags") or []:
            found[ref] = image_id
        for ref in entry.get("RepoDigests") or []:
            found[ref] = image_id
        found[image_id] = image_id
    result = {}
    for ref in wanted:
        result[ref] = found.get(ref) or found.get(_with_default_tag(ref))
    return result


def _with_default_tag(ref):
    last = ref.rsplit("/", 1)[-1]
    if ":" in last or "@" in last:
        return ref
    return ref + ":latest"


def parse_hash_lines(text):
    """`docker compose config --hash '*'`: one "service hash" line per service."""
    hashes = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            hashes[parts[0]] = parts[1]
    return hashes


def _go_json(value):
    """Serialise as Go's encoding/json.Marshal does for this data: compact, UTF-8, HTML-safe."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for char in "<>&\u2028\u2029":
        text = text.replace(char, "\\u%04x" % ord(char))
    return text


def service_hash(raw_service, version):
    """The `com.docker.compose.config-hash` label `up` writes, from the service as `config --format json` prints it.

    `config --format json` marshals the same Go struct, fields in the same order, that
    ServiceHash marshals; what ServiceHash blanks first depends on the release.
    """
    svc = dict(raw_service)
    for key in ("build", "pull_policy", "scale"):
        svc.pop(key, None)
    if isinstance(svc.get("deploy"), dict):
        svc["deploy"] = {k: v for k, v in svc["deploy"].items() if k != "replicas"}
    if version >= HASH_DROPS_DEPENDS_ON_FROM:
        svc.pop("depends_on", None)
    if version >= HASH_DROPS_PROFILES_FROM:
        svc.pop("profiles", None)
    return hashlib.sha256(_go_json(svc).encode("utf-8")).hexdigest()


def expected_hashes(raw_config, version, hash_output=None):
    """{service: config hash} as `up` would label the containers with this Compose.

    From 5.5.0 Compose's own `config --hash` answer is used; before, it is computed.
    """
    if version >= CONFIG_HASH_CLI_FROM and hash_output is not None:
        return parse_hash_lines(hash_output)
    services = raw_config.get("services") or {}
    return {name: service_hash(svc, version) for name, svc in services.items()}
