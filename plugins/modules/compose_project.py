#!/usr/bin/python
# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: compose_project
short_description: Write the host's compose project from the services' declarations, validated first
version_added: 0.2.0
description:
  - The file half of the collection's one apply per host (the C(_compose) role runs it, then
    M(aistack.selfhosted.compose_profile) once).
  - Services declared in this run with a fragment are included; the services the live project records in
    C(services.json) are kept unless they were declared under O(stack) and no longer are, or are now declared
    without a fragment (a service that runs outside the project). What is not kept is removed from the files
    (its containers are removed by the following C(compose_profile) call with C(remove_orphans); its data stays).
  - Writes the whole candidate project (root C(compose.yml), C(.env) with C(COMPOSE_PROFILES), C(services.json),
    each service's fragment and its C(aistack.yml) with the published ports and a salted digest of the secrets
    it reads) into C(.candidate/) of O(project_src), has C(docker compose config) accept it, and only then
    replaces the live files that differ. A project Compose rejects leaves the live one untouched.
  - The root C(compose.yml) defines every secret the services read (their C(secrets_read)) once, named by its
    path under O(secrets_dir) with each character other than C([A-Za-z0-9_]) an C(_) (C(qdrant/api_key) is
    C(qdrant_api_key)); fragments refer to these names and define no top-level C(secrets) of their own. Compose
    accepts the same secret defined identically in two included files but refuses two different definitions
    (C(secrets.<name> conflicts with imported resource)), so two services that read one secret must not each
    define it. Two paths that would get the same name fail.
  - Fails before writing anything live when two services publish the same host port or a private port has no
    address.
  - Fails before writing anything live, in check mode too, when a TCP host port the project publishes is held by
    anything but the running container of the service that keeps it (another process, or a container of another
    service of the project). It is the probe M(aistack.selfhosted.compose_profile) runs before C(up), binding the port
    as a server does (C(SO_REUSEADDR), so connections that just closed do not count). The message names the service,
    the address and port and, where the declaration names it (the port's C(variable)), the variable that sets it.
    The running containers are read with C(docker compose ps); the probe is skipped when E(DOCKER_HOST) names a
    remote engine.
author:
  - aistack.selfhosted maintainers (@aistack)
extends_documentation_fragment:
  - aistack.selfhosted.attributes
attributes:
  check_mode:
    support: full
    details: >-
      The candidate is written to a temporary directory and validated there, and the host ports are probed;
      nothing else is written.
  diff_mode:
    support: full
  platform:
    platforms: posix
  idempotent:
    support: full
options:
  project_src:
    description: Directory of the live project.
    type: path
    required: true
  project_name:
    description: Compose project name.
    type: str
    required: true
  network_name:
    description: Name of the project's default network.
    type: str
    required: true
  secrets_dir:
    description:
      - Directory of the secret files; O(declared) names them relative to it (C(secrets_read)).
      - Holds C(digest_salt), generated once, which salts the secrets digests.
    type: path
    required: true
  declared:
    description:
      - The declarations of this run by service name (the C(aistack_declared_services) fact). Each has C(name),
        C(profile), C(stack), C(fragment) (whether it runs in the project), C(compose) (the fragment's text),
        C(ports) (each with C(host), C(container), C(exposure) and optionally C(variable), the role variable that
        sets C(host), for the messages), C(secrets_read), and whatever else it declares (recorded as given).
    type: dict
    required: true
  stack:
    description: The stack whose undeclared services are removed; empty removes nothing.
    type: str
    default: ""
  addresses:
    description: Bind address of each exposure (C(loopback), C(private), C(public)).
    type: dict
    required: true
  gpu:
    description:
      - The host's GPU request, as the filter P(aistack.selfhosted.gpu_request#filter) returns it (C(mode), C(reason),
        C(devices)). Every service whose declaration has C(gpu) V(true) or V(auto) reserves C(devices) in its
        C(services/<name>/aistack.yml); one with V(true) fails, before any live file changes, where C(devices) is
        empty, saying C(reason) (its C(gpu_variable) names the setting in the message).
    type: dict
    default: {}
  docker_cli:
    description: The Docker CLI to validate the candidate with.
    type: path
    default: docker
seealso:
  - module: aistack.selfhosted.compose_profile
"""

EXAMPLES = r"""
- name: Write the host's project from the declarations
  aistack.selfhosted.compose_project:
    project_src: /opt/aistack
    project_name: aistack
    network_name: aistack
    secrets_dir: /etc/aistack/secrets
    declared: "{{ aistack_declared_services }}"
    stack: inference
    addresses: {loopback: 127.0.0.1, private: "{{ ansible_facts.default_ipv4.address }}", public: 0.0.0.0}
  register: project

- name: Bring it up in one call
  aistack.selfhosted.compose_profile:
    project_src: /opt/aistack
    profiles: "{{ project.profiles }}"
    remove_orphans: true
"""

RETURN = r"""
services:
  description: The services the project includes.
  returned: always
  type: list
  elements: str
  sample: [ollama, open-webui, qdrant]
removed:
  description: The services removed from the project.
  returned: always
  type: list
  elements: str
profiles:
  description: The profiles of the included services (what C(.env) names in C(COMPOSE_PROFILES)).
  returned: always
  type: list
  elements: str
  sample: [ai, data]
files:
  description: The live files written (or, in check mode, that would be), relative to O(project_src).
  returned: always
  type: list
  elements: str
validated:
  description:
    - Whether C(docker compose config) accepted the candidate (false only where it could not run, in check mode).
  returned: always
  type: bool
"""

import hashlib
import json
import os
import secrets
import shutil
import string
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.aistack.selfhosted.plugins.module_utils._compose_declarations import (
    DeclarationError,
    env_file,
    plan,
    port_claims,
    recorded,
    root_file,
    secrets_digest,
    service_settings,
)
from ansible_collections.aistack.selfhosted.plugins.module_utils._compose_project import parse_ps
from ansible_collections.aistack.selfhosted.plugins.module_utils._host_ports import can_probe, endpoint, port_in_use

SALT = "digest_salt"


def read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def checksum(path):
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except FileNotFoundError:
        return ""


def write(path, content, mode):
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".aistack-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
    os.chmod(temp, mode)
    os.replace(temp, path)


def salt(module, secrets_dir):
    """The salt of the digests, generated once (not in check mode)."""
    path = os.path.join(secrets_dir, SALT)
    value = read(path)
    if value is not None:
        return value, False
    if module.check_mode:
        return "", True
    write(path, "".join(secrets.choice(string.ascii_letters + string.digits) for position in range(40)), 0o600)
    return read(path), True


def project_files(module, params, project):
    """Every file of the project, relative path -> text."""
    live_dir, declared = params["project_src"], params["declared"]
    salt_value, salt_changed = salt(module, params["secrets_dir"])
    files = {
        "compose.yml": root_file(params["project_name"], params["network_name"], list(project["services"]),
                                 params["secrets_dir"], project["secrets_read"]),
        ".env": env_file(params["project_name"], project["profiles"], params["secrets_dir"]),
        "services.json": json.dumps(recorded(project["services"]), indent=2, sort_keys=True) + "\n",
    }
    for name, service in project["services"].items():
        fragment = declared[name].get("compose") if name in declared else read(
            os.path.join(live_dir, "services", name, "compose.yml"))
        if not fragment:
            module.fail_json(msg=f"service {name} has no compose fragment (neither declared in this run nor in "
                                 f"{live_dir}/services/{name}); the live project was not changed")
        checksums = [checksum(os.path.join(params["secrets_dir"], path)) for path in service.get("secrets_read", [])]
        files[f"services/{name}/compose.yml"] = fragment
        files[f"services/{name}/aistack.yml"] = service_settings(name, service["publish"],
                                                                 secrets_digest(salt_value, checksums),
                                                                 service["reserve"])
    return files, salt_changed


def validate(module, params, cli, candidate):
    """Compose's verdict on the candidate, or None where it cannot run (check mode on a fresh host)."""
    if cli is None:
        return None
    rc, _out, err = module.run_command([cli, "compose", "--project-directory", candidate, "config", "--quiet"])
    if rc != 0:
        module.fail_json(
            msg="docker compose rejects the project as declared; the live project in "
                f"{params['project_src']} was not changed and nothing was started or stopped. Compose said: "
                f"{err.strip()} (the candidate is in {candidate})",
        )
    return True


def held_ports(module, params, cli, candidate):
    """{service: host ports its running container publishes now}, from `ps` of the project's containers."""
    if cli is None:
        # No Docker CLI (check mode on a fresh host): no container holds anything.
        return {}
    rc, out, err = module.run_command(
        [cli, "compose", "--project-directory", candidate, "--profile", "*", "ps", "--all", "--format", "json"])
    if rc != 0:
        module.fail_json(msg=f"listing the containers of project {params['project_name']} failed (is the Docker "
                             f"daemon running?); the live project in {params['project_src']} was not changed. "
                             f"Compose said: {err.strip()}")
    held = {}
    for container in parse_ps(out):
        if container.running:
            held.setdefault(container.service, set()).update(
                number for _address, number, protocol in container.published if protocol == "tcp")
    return held


def clash_message(claim, held):
    """"service open-webui: port 127.0.0.1:3000 (open_webui_port) is in use by another process. ..."""
    name, declaration, address, number = claim
    variable = declaration.get("variable")
    what = f" ({variable})" if variable else ""
    fix = f"set {variable} to another port" if variable else "publish the service on another port"
    holders = sorted(other for other, ports in held.items() if number in ports)
    by = f"this project's {', '.join(holders)} container" if holders else "another process"
    return f"service {name}: port {endpoint(address, number)}{what} is in use by {by}. Free it, or {fix}"


def check_ports(module, params, project, cli, candidate):
    """Fail, before any live file changes, when a host port the project publishes is held by something else.

    The same probe compose_profile runs before `up`; run here, before the live files are replaced, they
    never describe a project whose ports are taken.
    """
    if not can_probe():
        # The engine is elsewhere: its ports cannot be probed from here (compose_profile skips it too).
        return
    held = held_ports(module, params, cli, candidate)
    claims = [claim for claim in port_claims(project["services"], held) if port_in_use(claim[2], claim[3])]
    if claims:
        module.fail_json(msg="; ".join(clash_message(claim, held) for claim in claims)
                         + f". The live project in {params['project_src']} was not changed and nothing was "
                           "started or stopped")


def main():
    module = AnsibleModule(
        argument_spec={
            "project_src": {"type": "path", "required": True},
            "project_name": {"type": "str", "required": True},
            "network_name": {"type": "str", "required": True},
            "secrets_dir": {"type": "path", "required": True},
            "declared": {"type": "dict", "required": True},
            "stack": {"type": "str", "default": ""},
            "addresses": {"type": "dict", "required": True},
            "gpu": {"type": "dict", "default": {}},
            "docker_cli": {"type": "path", "default": "docker"},
        },
        supports_check_mode=True,
    )
    params = module.params
    live_dir = params["project_src"]
    live = json.loads(read(os.path.join(live_dir, "services.json")) or "{}")
    try:
        project = plan(params["declared"], live, params["stack"], params["addresses"], params["gpu"])
    except DeclarationError as error:
        module.fail_json(msg=f"{error}; the live project in {live_dir} was not changed")
    if not project["services"] and not live and not os.path.exists(os.path.join(live_dir, "compose.yml")):
        # Nothing runs in a project here (a native service only, perhaps without Docker): no project to write.
        module.exit_json(changed=False, services=[], removed=[], profiles=[], files=[], validated=False)
    files, salt_changed = project_files(module, params, project)

    # In check mode the candidate goes to a temporary directory: nothing under the project changes.
    candidate = os.path.join(live_dir, ".candidate")
    if module.check_mode:
        candidate = tempfile.mkdtemp(prefix="aistack-candidate-")
    shutil.rmtree(candidate, ignore_errors=True)
    for path, content in files.items():
        write(os.path.join(candidate, path), content, 0o644)
    cli = module.get_bin_path(params["docker_cli"], required=not module.check_mode)
    try:
        validated = validate(module, params, cli, candidate)
        check_ports(module, params, project, cli, candidate)
    finally:
        if module.check_mode:
            shutil.rmtree(candidate, ignore_errors=True)

    changed_files, diffs = [], []
    for path, content in files.items():
        before = read(os.path.join(live_dir, path))
        if before == content:
            continue
        changed_files.append(path)
        diffs.append({"before_header": path, "after_header": path, "before": before or "", "after": content})
        if not module.check_mode:
            write(os.path.join(live_dir, path), content, 0o644)
    for name in project["removed"]:
        if not module.check_mode:
            shutil.rmtree(os.path.join(live_dir, "services", name), ignore_errors=True)
    module.exit_json(
        changed=bool(changed_files or project["removed"] or salt_changed),
        services=list(project["services"]),
        removed=project["removed"],
        profiles=project["profiles"],
        files=changed_files,
        validated=bool(validated),
        diff=diffs,
    )


if __name__ == "__main__":
    main()
