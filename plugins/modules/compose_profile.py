#!/usr/bin/python
# Copyright (c) aistack.selfhosted maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: compose_profile
short_description: Turn Docker Compose profiles on and off on a host
version_added: "0.1.0"
description:
  - Makes the services of some profiles of a Docker Compose project run, up to date and healthy
    (O(state=present)), or stops and removes the services only those profiles run (O(state=absent)).
  - Reads the project and its containers from the JSON the Compose CLI prints
    (C(config --format json), C(ps --format json)) and decides itself what is missing, stopped or out of date,
    by the same configuration hash and image ID Compose compares. It calls C(docker compose up) only for those
    services, so an up-to-date project costs a few read-only CLI calls, run side by side, and reports
    C(changed=false).
  - The configuration hash is computed from the model Compose holds, so C(config)'s C($$) escape (a
    C($$(cat /run/secrets/x)) in an entrypoint or command) is turned back into C($) first.
  - After C(up), each container's C(com.docker.compose.config-hash) label is compared with the hash this module
    computed. Where they differ, the module never forces a recreate; plain C(up) lets Compose's own plan decide,
    an action C(up) did not carry out is left out of RV(actions), and a warning names the service (check mode
    keeps showing a change for it; please report it).
  - Before anything is stopped or recreated, and in check mode too, every fixed host port (C(host_ip:published),
    TCP) of a service the plan creates, recreates or starts must be free or held by that service's own running
    container (its recreate releases it). The module tries to bind it, and a port another process holds fails
    the module with nothing stopped or changed. The probe runs where the module runs, so it is skipped when
    E(DOCKER_HOST) names a remote engine.
  - Check mode computes the same plan and changes nothing; it does not use C(up --dry-run), whose output is
    text meant for people.
  - Services without a profile are always on in Compose; this module touches them only as dependencies of
    the services it brings up.
author:
  - aistack.selfhosted maintainers (@aistack)
extends_documentation_fragment:
  - aistack.selfhosted.attributes
  - aistack.selfhosted.compose
attributes:
  check_mode:
    support: full
    details: Returns the plan in RV(actions) and changes nothing; a host port clash fails as without check mode.
  diff_mode:
    support: full
    details: Shows the running services and their images before and after.
  idempotent:
    support: partial
    details: Idempotent except with O(state=restarted), which restarts every time, and O(recreate=always).
  platform:
    support: full
    platforms: posix
options:
  profiles:
    description:
      - Profiles whose services to act on. Each must be defined by the project; an unknown one fails,
        listing the profiles the project defines.
      - An empty list acts on no service; with O(remove_orphans) it still removes the containers of services the
        project no longer defines (the collection's apply does so when a host has no service left).
    type: list
    elements: str
    required: true
  services:
    description:
      - Only these services of O(profiles). Each must belong to one of O(profiles).
    type: list
    elements: str
  state:
    description:
      - V(present) creates, recreates or starts the services of O(profiles) (and what they depend on) that are
        missing, stopped or out of date, and nothing else.
      - V(absent) stops and removes the services of O(profiles) that no other running profile and no running
        service needs. A profile counts as running when one of its services runs that does not belong to
        O(profiles).
      - V(stopped) stops the running services of O(profiles).
      - V(restarted) does what V(present) does, then restarts the services of O(profiles) it did not just
        create, recreate or start.
    type: str
    choices: [present, absent, stopped, restarted]
    default: present
  pull:
    description:
      - When to pull images, as C(docker compose up --pull) takes it.
      - V(always) pulls before the plan is made (not in check mode), so a new image recreates the service.
    type: str
    choices: [missing, always, never]
    default: missing
  recreate:
    description:
      - V(auto) recreates a container whose configuration or image changed, V(always) recreates every selected
        container, V(never) only creates missing containers and starts stopped ones.
    type: str
    choices: [auto, always, never]
    default: auto
  remove_orphans:
    description:
      - Also remove containers of services the project files no longer define.
    type: bool
    default: false
  wait:
    description:
      - After V(present) or V(restarted), wait until the services are up. A service with a healthcheck (its own or
        its image's) is up only when V(healthy), and its first result is waited for. One without a healthcheck is up
        when running and not restarting and, when this run created, recreated, started or restarted it, still
        running unchanged two seconds later.
      - Fails at once when a container is V(restarting) (a crash loop under a C(restart) policy), V(exited),
        V(dead) or V(unhealthy), or was restarted by Docker during the wait. A service that another waits on with the
        C(depends_on) condition V(service_completed_successfully) may exit with code 0.
      - On failure the error names the service, its state, exit code, restart count and health, its last health
        check output and the last O(log_lines) lines of its log.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait with O(wait).
    type: int
    default: 120
  log_lines:
    description:
      - How many of the last log lines of a failing service to show.
    type: int
    default: 20
notes:
  - Compose 2.26 (Debian 13) and later releases are supported, 2.26.1 and 2.40.3 (Debian sid) tested against a
    Docker 20.10 engine; the differences between releases (how C(config --hash) treats C(env_file), which fields
    the configuration hash leaves out) are gated on the version C(docker compose version --format json) reports.
  - To run another Compose release than the installed plugin, set E(DOCKER_CONFIG) in the task's C(environment) to
    a directory whose C(cli-plugins/docker-compose) is that release. The module runs the plugin the docker CLI
    would run, and the docker CLI looks there first (see O(docker_cli)).
seealso:
  - module: community.docker.docker_compose_v2
"""

EXAMPLES = r"""
- name: Run the AI services, up to date and healthy
  aistack.selfhosted.compose_profile:
    project_src: /opt/aistack
    profiles: [ai]

- name: Add the data services, waiting up to five minutes for them
  aistack.selfhosted.compose_profile:
    project_src: /opt/aistack
    profiles: [ai, data]
    wait_timeout: 300

- name: Turn the training profile off; services another running profile shares stay
  aistack.selfhosted.compose_profile:
    project_src: /opt/aistack
    profiles: [train]
    state: absent

- name: Restart only Open WebUI
  aistack.selfhosted.compose_profile:
    project_src: /opt/aistack
    profiles: [ai]
    services: [open-webui]
    state: restarted

- name: Use a Compose release other than the installed plugin (a directory with cli-plugins/docker-compose)
  aistack.selfhosted.compose_profile:
    project_src: /opt/aistack
    profiles: [ai]
  environment:
    DOCKER_CONFIG: /opt/compose-2.40.3

- name: What would change? (check mode returns the plan)
  aistack.selfhosted.compose_profile:
    project_src: /opt/aistack
    profiles: [obs]
  check_mode: true
  register: obs_plan
"""

RETURN = r"""
actions:
  description:
    - What was done, or in check mode what would be done, one entry per service.
    - A create, recreate or start that C(up) did not carry out, because Compose's own plan found the container
      up to date (see the configuration hash check above), is left out.
  returned: always
  type: list
  elements: dict
  contains:
    service:
      description: Service name.
      type: str
      sample: open-webui
    action:
      description: One of V(create), V(recreate), V(start), V(restart), V(stop), V(remove).
      type: str
      sample: recreate
    reason:
      description: Why.
      type: str
      sample: configuration changed
services:
  description: Every service of the project, after the run (before it in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Service name.
      type: str
      sample: ollama
    state:
      description: Container state as Docker reports it (V(running), V(exited), ...), or V(absent) without container.
      type: str
      sample: running
    health:
      description:
        - Health status as C(docker compose ps) reports it (V(starting), V(healthy), V(unhealthy)), or null without
          healthcheck or container.
      type: str
      sample: healthy
    image:
      description: Image of the container, or of the service definition when there is no container.
      type: str
      sample: ollama/ollama:0.6.3
    profiles:
      description: Profiles of the service.
      type: list
      elements: str
      sample: [ai]
project_name:
  description: The project name Compose uses.
  returned: always
  type: str
  sample: aistack
compose_version:
  description: The Compose version that ran.
  returned: always
  type: str
  sample: 2.26.1
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aistack.selfhosted.plugins.module_utils._compose_cli import (
    ComposeCLI,
    ComposeError,
    check_version,
    find_compose_plugin,
    format_version,
    looks_like_daemon_down,
    parse_version,
)
from ansible_collections.aistack.selfhosted.plugins.module_utils._compose_plan import (
    UP_ACTIONS,
    compute_plan,
    port_claims,
    predicted_running,
    running_images,
    select_services,
    with_dependencies,
)
from ansible_collections.aistack.selfhosted.plugins.module_utils._compose_project import (
    CONFIG_HASH_CLI_FROM,
    assess,
    expected_hashes,
    load_config,
    parse_image_ids,
    parse_inspect,
    parse_ps,
    run_to_completion,
)
from ansible_collections.aistack.selfhosted.plugins.module_utils._host_ports import (
    can_probe,
    endpoint,
    port_in_use,
)

POLL_SECONDS = 1.0
# How long a container without healthcheck that this run (re)started must keep running, unchanged.
STABLE_SECONDS = 2.0


def _executable(path):
    return path if os.access(path, os.X_OK) else None


class ComposeProfile:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        wanted = self.params["docker_cli"] or "docker"
        docker = _executable(wanted) if os.sep in wanted else module.get_bin_path(wanted)
        if not docker:
            raise ComposeError(
                "the docker CLI %r was not found on the host: install Docker's docker-ce-cli and "
                "docker-compose-plugin packages, or Debian's docker.io and docker-compose (Debian 13 or later)"
                % wanted
            )
        # With the default CLI, run the Compose plugin directly where the CLI would find it.
        plugin = find_compose_plugin() if self.params["docker_cli"] is None else None
        src = self.params["project_src"]
        if not os.path.isdir(src):
            raise ComposeError("project_src %s does not exist or is not a directory" % src)
        self.cli = ComposeCLI(
            docker,
            plugin=plugin,
            project_src=src,
            project_name=self.params["project_name"],
            files=self.params["files"],
            env_files=self.params["env_files"],
        )

    # Reading -----------------------------------------------------------------------------

    def _fail_on(self, result, what):
        if result.rc == 0:
            return
        stderr = result.error
        if looks_like_daemon_down(stderr):
            raise ComposeError(
                "cannot reach the Docker daemon (DOCKER_HOST=%s): start the Docker engine, or point DOCKER_HOST "
                "at a running one. Docker said: %s" % (os.environ.get("DOCKER_HOST", "default socket"), stderr)
            )
        raise ComposeError("%s failed (`%s`, rc=%s): %s" % (what, result.command, result.rc, stderr))

    def read_project(self):
        version_r, config_r, ps_r = self.cli.run_many([
            self.cli.compose_version(),
            self.cli.compose("config", "--format", "json"),
            self.cli.compose("ps", "--all", "--format", "json"),
        ])
        if version_r.rc != 0:
            raise ComposeError(
                "the Compose v2 plugin is missing from %s (%s): install docker-compose-plugin from Docker's "
                "repository, or docker-compose on Debian 13 or later"
                % (self.cli.docker, version_r.stderr.strip())
            )
        self.version = parse_version(version_r.stdout)
        check_version(self.version)
        self._fail_on(config_r, "reading the Compose project in %s" % self.params["project_src"])
        self.project_name, self.raw_config, self.services = load_config(config_r.stdout)
        self._fail_on(ps_r, "listing the containers of project %s" % self.project_name)
        return parse_ps(ps_r.stdout)

    def read_images_and_hashes(self, images):
        commands = [self.cli.docker_cmd("image", "inspect", *images)] if images else []
        if self.version >= CONFIG_HASH_CLI_FROM:
            commands.append(self.cli.compose("config", "--hash", "*"))
        results = self.cli.run_many(commands)
        image_ids = {}
        if images:
            inspect_r = results.pop(0)
            # rc 1 with the found images on stdout when some are absent: that is an answer, not an error.
            if inspect_r.rc != 0 and not inspect_r.stdout.strip().startswith("["):
                self._fail_on(inspect_r, "inspecting images")
            image_ids = parse_image_ids(inspect_r.stdout, images)
        hash_output = None
        if results:
            self._fail_on(results[0], "computing configuration hashes")
            hash_output = results[0].stdout
        return image_ids, expected_hashes(self.raw_config, self.version, hash_output)

    def read_containers(self):
        result = self.cli.run(self.cli.compose("ps", "--all", "--format", "json"))
        self._fail_on(result, "listing the containers of project %s" % self.project_name)
        return parse_ps(result.stdout)

    # Acting ------------------------------------------------------------------------------

    def execute(self, plan):
        """Carry out the plan; a failed `up` is diagnosed by the health check below, not here."""
        p = self.params
        failures = []
        if plan.orphans:
            result = self.cli.run(self.cli.docker_cmd("container", "rm", "--force", *plan.orphans))
            self._fail_on(result, "removing orphan containers")
        up = plan.services_for(*UP_ACTIONS)
        if up:
            args = ["up", "--detach", "--pull", p["pull"]]
            if p["recreate"] == "always":
                args.append("--force-recreate")
            elif p["recreate"] == "never":
                args.append("--no-recreate")
            result = self.cli.run(self.cli.compose(*args, *up))
            if result.rc != 0:
                failures.append(result)
        restart = plan.services_for("restart")
        if restart and not failures:
            result = self.cli.run(self.cli.compose("restart", *restart))
            self._fail_on(result, "restarting %s" % ", ".join(restart))
        stop = plan.services_for("stop")
        if stop:
            self._fail_on(self.cli.run(self.cli.compose("stop", *stop)), "stopping %s" % ", ".join(stop))
        remove = [a.service for a in plan.actions if a.action == "remove" and a.service in self.services]
        if remove:
            result = self.cli.run(self.cli.compose("rm", "--force", "--stop", *remove))
            self._fail_on(result, "removing %s" % ", ".join(remove))
        return failures

    # Waiting -----------------------------------------------------------------------------

    def read_runtime(self, containers):
        """{container ID: Runtime} from one `docker container inspect` of the given containers."""
        if not containers:
            return {}
        result = self.cli.run(self.cli.docker_cmd("container", "inspect", *[c.id for c in containers]))
        # rc 1 with the others on stdout when one went away meanwhile: read what is there.
        if result.rc != 0 and not result.stdout.strip().startswith("["):
            self._fail_on(result, "inspecting containers")
        return parse_inspect(result.stdout)

    def diagnose(self, container, runtime, why):
        """What is wrong with a container: its state, last health check output and last log lines."""
        logs_r = self.cli.run(self.cli.docker_cmd("logs", "--tail", str(self.params["log_lines"]), container.id))
        logs = (logs_r.stdout + logs_r.stderr).rstrip()
        if runtime is None:
            state = "state: %s, health: %s" % (container.state, container.health or "unknown")
            last_check = ""
        else:
            state = runtime.describe()
            last_check = runtime.last_check
        return "service %s is %s (%s)%s; last %d log lines:\n%s" % (
            container.service,
            why,
            state,
            "; last health check: %s" % last_check if last_check else "",
            self.params["log_lines"],
            logs or "(no output)",
        )

    def survey(self, targets, containers, acted, first_seen):
        """One look at the targets' containers: (failed, waiting, missing services, runtimes).

        `failed` and `waiting` hold (container, runtime, why). A target without a container is
        missing. `first_seen` ({container ID: (runtime, when)}) carries what earlier looks saw,
        so that a restart since then fails and a container this run created, recreated, started
        or restarted (`acted`) counts as up only after running unchanged for STABLE_SECONDS.
        """
        mine = [c for c in containers if c.service in targets]
        missing = [name for name in targets if not any(c.service == name for c in mine)]
        runtimes = self.read_runtime(mine)
        may_exit = run_to_completion(self.raw_config)
        now = time.monotonic()
        failed, waiting = [], []
        for container in mine:
            runtime = runtimes.get(container.id)
            if runtime is None:
                waiting.append((container, None, "gone"))
                continue
            seen, since = first_seen.setdefault(container.id, (runtime, now))
            stable = container.service not in acted or (
                runtime.started_at == seen.started_at and now - since >= STABLE_SECONDS
            )
            verdict, why = assess(runtime, first_seen=seen, stable=stable, may_exit=container.service in may_exit)
            if verdict == "failed":
                failed.append((container, runtime, why))
                continue
            if runtime.started_at != seen.started_at:
                # It started (again) since the first look: it stays up from now on, or not.
                first_seen[container.id] = (runtime, now)
            if verdict == "waiting":
                waiting.append((container, runtime, why))
        return failed, waiting, missing, runtimes

    def wait_ready(self, targets, containers, acted):
        """Wait until every target is up; fail at once on a restarting, exited, dead or unhealthy container.

        Up means `healthy` with a healthcheck (its first result is waited for) and, without one,
        running and not restarting; a container this run created, recreated, started or restarted
        must also keep running unchanged for STABLE_SECONDS, so a crash loop is not taken for a start.
        """
        deadline = time.monotonic() + self.params["wait_timeout"]
        first_seen = {}
        while True:
            failed, waiting, missing, runtimes = self.survey(targets, containers, acted, first_seen)
            if failed:
                raise ComposeError("\n".join(self.diagnose(*entry) for entry in failed))
            if not waiting and not missing:
                # `ps` was read before `inspect`: report what inspect saw last.
                for container in containers:
                    runtime = runtimes.get(container.id)
                    if container.service in targets and runtime is not None:
                        container.state, container.health = runtime.status, runtime.health
                return containers
            if time.monotonic() >= deadline:
                details = ["service %s has no container" % name for name in missing]
                details += [self.diagnose(*entry) for entry in waiting]
                raise ComposeError(
                    "timed out after %ss waiting for services to be up:\n%s"
                    % (self.params["wait_timeout"], "\n".join(details))
                )
            time.sleep(POLL_SECONDS)
            containers = self.read_containers()

    # Checking ----------------------------------------------------------------------------

    def check_ports(self, plan, containers):
        """Fail, before anything is stopped, when a host port the plan needs is held by another process."""
        if not can_probe():
            return
        for service, address, number in port_claims(plan, self.raw_config, containers):
            if port_in_use(address, number):
                raise ComposeError(
                    "port %s wanted by service %s is in use by another process; nothing was stopped or changed. "
                    "Free the port, or publish the service on another one"
                    % (endpoint(address, number), service)
                )

    def check_hashes(self, hashes, before, after, plan):
        """After `up`: warn where a container's config hash label is not the hash this module computed.

        There Compose's own `up` plan decided (the module never forces a recreate for it); an
        action for a service whose container `up` left as it was is dropped from the result.
        """
        before_ids = {(c.service, c.id, c.running) for c in before}
        untouched = set()
        for name in plan.services_for(*UP_ACTIONS):
            mine = [c for c in after if c.service == name]
            if mine and all((c.service, c.id, c.running) in before_ids for c in mine):
                untouched.add(name)
            expected = hashes.get(name)
            labels = sorted({c.config_hash for c in mine if c.config_hash})
            if expected and labels and labels != [expected] and self.params["recreate"] != "never":
                self.module.warn(
                    "compose_profile: service %s: the configuration hash this module computes (%s) differs from "
                    "the one Compose %s wrote on its container (%s), so Compose's own `up` plan decided whether to "
                    "recreate it (%s). Check mode and the planned actions may show a change for this service that "
                    "Compose does not make; please report it with the service's definition."
                    % (
                        name,
                        expected[:12],
                        format_version(self.version),
                        ", ".join(label[:12] for label in labels),
                        "it did not" if name in untouched else "it did",
                    )
                )
        return untouched

    # Main --------------------------------------------------------------------------------

    def run(self):
        p = self.params
        state = p["state"]
        containers = self.read_project()
        # Fails early, listing the known profiles, before any image is looked at.
        selected = select_services(self.services, p["profiles"], p["services"])
        bringing_up = state in ("present", "restarted")
        targets = with_dependencies(self.services, selected) if bringing_up else selected
        if p["pull"] == "always" and bringing_up and not self.module.check_mode:
            self._fail_on(self.cli.run(self.cli.compose("pull", *targets)), "pulling images")
        image_ids, hashes = {}, {}
        if bringing_up:
            # Only bringing up compares images and configuration; stopping and removing need neither.
            image_ids, hashes = self.read_images_and_hashes(sorted({self.services[name].image for name in targets}))
        plan = compute_plan(
            state,
            self.services,
            containers,
            hashes=hashes,
            image_ids=image_ids,
            profiles=p["profiles"],
            only=p["services"],
            recreate=p["recreate"],
            remove_orphans=p["remove_orphans"],
        )
        if bringing_up:
            # Before anything is stopped or recreated, in check mode too.
            self.check_ports(plan, containers)
        before = running_images(containers)
        result = {
            "changed": bool(plan.actions),
            "actions": [a.as_dict() for a in plan.actions],
            "project_name": self.project_name,
            "compose_version": format_version(self.version),
        }
        if self.module.check_mode:
            after_containers = containers
            after = predicted_running(self.services, containers, plan, image_ids)
        else:
            failures = self.execute(plan) if plan.actions else []
            after_containers = self.read_containers() if plan.actions else containers
            result["changed"] = self._changed(containers, after_containers, plan)
            if bringing_up and plan.actions:
                untouched = self.check_hashes(hashes, containers, after_containers, plan)
                result["actions"] = [
                    a.as_dict() for a in plan.actions if not (a.action in UP_ACTIONS and a.service in untouched)
                ]
            # A failure after something changed still reports what changed.
            partial = {"changed": result["changed"], "actions": result["actions"]}
            if failures:
                # One look, nothing waited for: what already restarts, exited or is unhealthy.
                failed = self.survey(targets, after_containers, set(), {})[0]
                details = [self.diagnose(*entry) for entry in failed]
                details += ["`%s` failed: %s" % (f.command, f.error) for f in failures]
                raise ComposeError("\n".join(details), partial)
            if p["wait"] and bringing_up:
                # What up and restart carried out: those must show they stay up.
                acted = {a["service"] for a in result["actions"] if a["action"] in UP_ACTIONS + ("restart",)}
                try:
                    after_containers = self.wait_ready(targets, after_containers, acted)
                except ComposeError as exc:
                    raise ComposeError(str(exc), partial) from None
            after = running_images(after_containers)
        result["services"] = self._services(after_containers)
        if self.module._diff:
            result["diff"] = {"before": {"running": before}, "after": {"running": after}}
        return result

    @staticmethod
    def _changed(before, after, plan):
        """True only when a container was created, recreated, started, restarted, stopped or removed."""
        if any(a.action == "restart" for a in plan.actions):
            return True
        state_before = {c.id: c.running for c in before}
        state_after = {c.id: c.running for c in after}
        return state_before != state_after

    def _services(self, containers):
        by_service = {}
        for container in containers:
            by_service.setdefault(container.service, container)
        result = []
        for name, svc in sorted(self.services.items()):
            container = by_service.get(name)
            result.append({
                "name": name,
                "state": container.state if container else "absent",
                "health": (container.health or None) if container else None,
                "image": container.image if container else svc.image,
                "profiles": list(svc.profiles),
            })
        return result


def main():
    module = AnsibleModule(
        argument_spec={
            "project_src": {"type": "path", "required": True},
            "project_name": {"type": "str"},
            "files": {"type": "list", "elements": "path"},
            "env_files": {"type": "list", "elements": "path"},
            "docker_cli": {"type": "str"},
            "profiles": {"type": "list", "elements": "str", "required": True},
            "services": {"type": "list", "elements": "str"},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent", "stopped", "restarted"]},
            "pull": {"type": "str", "default": "missing", "choices": ["missing", "always", "never"]},
            "recreate": {"type": "str", "default": "auto", "choices": ["auto", "always", "never"]},
            "remove_orphans": {"type": "bool", "default": False},
            "wait": {"type": "bool", "default": True},
            "wait_timeout": {"type": "int", "default": 120},
            "log_lines": {"type": "int", "default": 20},
        },
        supports_check_mode=True,
    )
    try:
        result = ComposeProfile(module).run()
    except ComposeError as exc:
        module.fail_json(msg=str(exc), **exc.result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
