# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The host's compose project built from the services' declarations (DESIGN: declare, then apply once).

Pure functions: which services the project runs and which it removes, how their ports publish, and
the text of the files the apply writes. The compose_project module does the file work.
"""

from __future__ import annotations

import hashlib
import json
import re

EXPOSURES = ("internal", "loopback", "private", "public")
# Keys of a declaration that are not recorded in services.json (the fragment's own text).
NOT_RECORDED = ("compose", "publish", "reserve")


class DeclarationError(ValueError):
    """A declaration the project cannot be built from; the message says what to change."""


def _published(name, port, addresses):
    exposure = port.get("exposure", "loopback")
    if exposure not in EXPOSURES:
        raise DeclarationError(
            f"service {name}, port {port.get('name', port.get('container'))}: exposure {exposure!r} is not one of "
            f"{', '.join(EXPOSURES)}"
        )
    if exposure == "internal":
        return None
    address = addresses.get(exposure) or ""
    if not address:
        raise DeclarationError(
            f"service {name} publishes port {port['host']} to the private address, but this host has none: "
            "set aistack_private_address (the address the other hosts of the inventory reach it at)"
        )
    return [address, int(port["host"]), int(port["container"])]


def _check_clashes(services):
    taken = {}
    for name, service in services.items():
        for address, host_port, _container_port in service["publish"]:
            for other_address, other in taken.get(host_port, []):
                if "0.0.0.0" in (address, other_address) or address == other_address:
                    raise DeclarationError(
                        f"services {other} and {name} both publish port {host_port} "
                        f"({other_address} and {address}): give one of them another port"
                    )
            taken.setdefault(host_port, []).append((address, name))


def secret_name(path):
    """Compose's name of a secret file: its path under the secrets directory, owner first (qdrant/api_key ->
    qdrant_api_key). The root file defines each once, so two readers never define it twice."""
    return re.sub(r"[^A-Za-z0-9_]", "_", path)


def _check_secret_names(paths):
    named = {}
    for path in paths:
        other = named.setdefault(secret_name(path), path)
        if other != path:
            raise DeclarationError(
                f"secrets {other} and {path} would both be Compose secret {secret_name(path)}: rename one of them"
            )


def _reservation(name, service, gpu):
    """The GPU devices the service reserves: the host's one request (gpu_request) where it wants a GPU."""
    wanted = service.get("gpu", False)
    if wanted in (False, None, "false", "False", ""):
        return []
    devices = gpu.get("devices") or []
    if not devices and wanted in (True, "true", "True"):
        variable = service.get("gpu_variable", "its gpu setting")
        raise DeclarationError(
            f"service {name} needs a GPU ({variable}: true) but {gpu.get('reason') or 'the host has none'}; "
            f"set {variable}: auto to run it on the CPU where there is none"
        )
    return devices


def plan(declared, live=None, stack="", addresses=None, gpu=None):
    """Services the root file includes (with `publish`, `reserve`), services it removes, profiles, secrets read.

    `gpu` is the host's GPU request (gpu_request): every service that wants a GPU reserves the same devices.
    """
    declared = declared or {}
    live = live or {}
    addresses = addresses or {}
    gpu = gpu or {}
    kept = {
        name: service for name, service in live.items()
        if name not in declared and not (stack and service.get("stack") == stack)
    }
    run = {name: service for name, service in declared.items() if service.get("fragment", True)}
    included = {}
    for name, service in sorted({**kept, **run}.items()):
        published = [_published(name, port, addresses) for port in service.get("ports", [])]
        included[name] = dict(service, publish=[p for p in published if p], reserve=_reservation(name, service, gpu))
    _check_clashes(included)
    secrets_read = sorted({path for service in included.values() for path in service.get("secrets_read", [])})
    _check_secret_names(secrets_read)
    return {
        "services": included,
        "removed": sorted(set(live) - set(included)),
        "profiles": sorted({service["profile"] for service in included.values()}),
        "secrets_read": secrets_read,
    }


def port_claims(services, held):
    """[(service, port declaration, address, host port)]: the TCP host ports the project publishes that must be free.

    `held` maps a service to the host ports its running container publishes now: those are left out,
    since the service keeps them (a recreate releases and takes them again). Any other holder, another
    process or another service's container, is a clash.
    """
    claims = []
    for name, service in services.items():
        declarations = {int(port["host"]): port for port in service.get("ports", []) if "host" in port}
        for address, host_port, _container_port in service["publish"]:
            if host_port not in held.get(name, ()):
                claims.append((name, declarations.get(host_port, {}), address, host_port))
    return claims


def recorded(services):
    """The declarations as services.json keeps them: what the next apply, backups and monitoring read."""
    return {name: {k: v for k, v in service.items() if k not in NOT_RECORDED} for name, service in services.items()}


def secrets_digest(salt, checksums):
    """A salted digest of the secrets a service reads: a label that changes when one of them does."""
    return hashlib.sha256((salt + "," + ",".join(checksums)).encode()).hexdigest()


def service_settings(name, publish, digest, reserve=()):
    """services/<name>/aistack.yml: the published ports, the secrets digest, the GPU reservation (JSON is YAML)."""
    settings = {
        "ports": [":".join(str(part) for part in port) for port in publish],
        "labels": {"org.aistack.secrets-digest": digest},
    }
    if reserve:
        settings["deploy"] = {"resources": {"reservations": {"devices": list(reserve)}}}
    body = {"services": {name: settings}}
    return (
        "# Managed by Ansible (aistack.selfhosted): the published ports (each port's exposure), the host's GPU\n"
        "# request, and a digest of the secrets this service reads, so a changed secret recreates it alone.\n"
        + json.dumps(body, indent=2, sort_keys=True) + "\n"
    )


def root_file(project_name, network_name, service_names, secrets_dir="", secret_paths=()):
    lines = [
        "# Managed by Ansible (aistack.selfhosted). The host's compose project: one fragment per declared",
        "# service, each gated by a profile (ai, data, obs, train); .env names the profiles this host runs",
        "# (COMPOSE_PROFILES), so `docker compose ps|up -d|down` works by hand here. The declarations are in",
        "# services.json. Each secret a service reads is defined here once, named by its owner (a fragment only",
        "# refers to it), so two services reading one secret never define it twice. Validate with:",
        "# docker compose config -q",
        f"name: {project_name}",
        "",
        "include:" if service_names else "include: []",
    ]
    lines += [f"  - path: [services/{n}/compose.yml, services/{n}/aistack.yml]" for n in service_names]
    lines += [
        "",
        "networks:",
        "  default:",
        f"    name: {network_name}",
        "  # Data services only: no route outside, and nothing published from it.",
        "  internal:",
        f"    name: {project_name}_internal",
        "    internal: true",
    ]
    if secret_paths:
        lines += ["", "secrets:"]
        for path in secret_paths:
            # JSON is YAML: a path with any character stays one scalar.
            lines += [f"  {secret_name(path)}:", f"    file: {json.dumps(secrets_dir.rstrip('/') + '/' + path)}"]
    return "\n".join(lines) + "\n"


def env_file(project_name, profiles, secrets_dir):
    return (
        "# Managed by Ansible (aistack.selfhosted). Non-secret settings only: secrets are files in "
        f"{secrets_dir}.\n"
        f"COMPOSE_PROJECT_NAME={project_name}\n"
        f"COMPOSE_PROFILES={','.join(profiles)}\n"
    )
