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

# Every release this module supports prints `config` output with each `$` written as `$$`
# (cmd/compose/config.go, escapeDollarSign), so that the output is itself a valid Compose
# file. The model `up` hashes holds the single `$`: a command's `$$(cat /run/secrets/x)` is
# `$(cat /run/secrets/x)` there. load_config turns the escape back.
_ESCAPED_DOLLAR = "$$"

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
    __slots__ = ("id", "name", "service", "state", "health", "image", "config_hash", "image_id", "published")

    def __init__(self, id, name, service, *, state, health, image, config_hash, image_id, published=()):
        self.id = id
        self.name = name
        self.service = service
        self.state = state
        self.health = health
        self.image = image
        self.config_hash = config_hash
        self.image_id = image_id
        # (host address, host port, protocol) of each port it publishes now.
        self.published = tuple(published)

    @property
    def running(self):
        return self.state == "running"


def load_config(text):
    """`docker compose --profile '*' config --format json` -> (project name, raw config, {name: Service}).

    The raw config is the model as Compose holds it: its `$$` escape of the output turned back to `$`.
    """
    config = json.loads(unescape_config(text))
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


def unescape_config(text):
    """`config` output with Compose's `$$` (every `$` of the model doubled) turned back to `$`.

    The output never holds a lone `$`, so replacing each `$$` pair, left to right, is the
    exact inverse: `$$$$` (a `$$` in the model) becomes `$$`.
    """
    return text.replace(_ESCAPED_DOLLAR, "$")


def published_ports(raw_service):
    """[(host address, host port, protocol)] a service publishes on fixed host ports.

    From the long form `config --format json` prints: `published` is a string ("3000", or a
    range "3000-3005"), absent or empty for an ephemeral port, which is skipped; an absent
    `host_ip` means every address (0.0.0.0).
    """
    result = []
    for port in raw_service.get("ports") or []:
        if not isinstance(port, dict):
            continue
        published = str(port.get("published") or "").strip()
        if not published:
            continue
        low, _sep, high = published.partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError:
            continue
        host_ip = port.get("host_ip") or "0.0.0.0"
        protocol = (port.get("protocol") or "tcp").lower()
        result.extend((host_ip, number, protocol) for number in range(first, last + 1))
    return result


def _publishers(entry):
    result = []
    for pub in entry.get("Publishers") or []:
        number = pub.get("PublishedPort") or 0
        if number:
            result.append((pub.get("URL") or "", int(number), (pub.get("Protocol") or "tcp").lower()))
    return result


def run_to_completion(raw_config):
    """Services another one waits on with `condition: service_completed_successfully`: they may exit 0."""
    result = set()
    for svc in (raw_config.get("services") or {}).values():
        depends = svc.get("depends_on") or {}
        if isinstance(depends, dict):
            for dep, spec in depends.items():
                if (spec or {}).get("condition") == "service_completed_successfully":
                    result.add(dep)
    return result


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
                published=_publishers(entry),
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


class Runtime:
    """What `docker container inspect` says of a container that `ps` does not: restarts, healthcheck, exit code."""

    __slots__ = ("id", "status", "restarting", "exit_code", "restart_count", "started_at", "has_healthcheck",
                 "health", "last_check")

    def __init__(self, id, *, status, restarting=False, exit_code=0, restart_count=0, started_at="",
                 has_healthcheck=False, health="", last_check=""):
        self.id = id
        self.status = status
        self.restarting = restarting
        self.exit_code = exit_code
        self.restart_count = restart_count
        self.started_at = started_at
        self.has_healthcheck = has_healthcheck
        self.health = health
        self.last_check = last_check

    def describe(self):
        """"state: restarting, exit code 1, restarted 3 times, health: no healthcheck"."""
        parts = ["state: %s" % self.status]
        if self.status in ("exited", "dead", "restarting") or self.exit_code:
            parts.append("exit code %s" % self.exit_code)
        if self.restart_count:
            parts.append("restarted %d time%s" % (self.restart_count, "" if self.restart_count == 1 else "s"))
        if self.has_healthcheck:
            parts.append("health: %s" % (self.health or "no result yet"))
        else:
            parts.append("health: no healthcheck")
        return ", ".join(parts)


def parse_inspect(text):
    """`docker container inspect ID...` JSON -> {ID: Runtime}, keyed by the full and the 12-character ID.

    A healthcheck counts when the container's configuration (the image's, unless the service
    overrides it) has a test other than NONE; `health` is "" until its first result.
    """
    try:
        entries = json.loads(text) if text.strip() else []
    except ValueError:
        entries = []
    result = {}
    for entry in entries or []:
        state = entry.get("State") or {}
        test = ((entry.get("Config") or {}).get("Healthcheck") or {}).get("Test") or []
        health = state.get("Health") or {}
        checks = health.get("Log") or []
        runtime = Runtime(
            entry.get("Id", ""),
            status=(state.get("Status") or "").lower(),
            restarting=bool(state.get("Restarting")),
            exit_code=state.get("ExitCode") or 0,
            restart_count=entry.get("RestartCount") or 0,
            started_at=state.get("StartedAt") or "",
            has_healthcheck=bool(test) and test[0] != "NONE",
            health=(health.get("Status") or "").lower(),
            last_check=((checks[-1].get("Output") or "") if checks else "").strip(),
        )
        result[runtime.id] = runtime
        result[runtime.id[:12]] = runtime
    return result


def assess(runtime, *, first_seen=None, stable=True, may_exit=False):
    """("ready" | "waiting" | "failed", why) for one container after `up`.

    - restarting, exited or dead fails (exited with 0 is fine for a service others wait on
      with `service_completed_successfully`: `may_exit`); so does a restart since `first_seen`
      (the Runtime first observed): the process died and Docker started it again.
    - with a healthcheck it is ready only when `healthy`; `unhealthy` fails; no result yet waits.
    - without one it is ready when running and `stable` (the caller saw it run unchanged for a moment).
    """
    if may_exit and runtime.status == "exited" and runtime.exit_code == 0:
        return "ready", None
    if runtime.restarting or runtime.status == "restarting":
        return "failed", "restarting"
    if runtime.status in ("exited", "dead"):
        return "failed", runtime.status
    if first_seen is not None and runtime.restart_count > first_seen.restart_count:
        return "failed", "restarting"
    if runtime.status != "running":
        return "waiting", runtime.status or "not running"
    if runtime.has_healthcheck:
        if runtime.health == "healthy":
            return "ready", None
        if runtime.health == "unhealthy":
            return "failed", "unhealthy"
        return "waiting", "health: %s" % (runtime.health or "no result yet")
    if not stable:
        return "waiting", "running, not yet stable"
    return "ready", None
