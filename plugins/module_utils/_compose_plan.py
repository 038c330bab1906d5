# Copyright (c) aistack.selfhosted maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What to do to a Compose project so the services of some profiles reach a state.

Private to this collection. Pure: the inputs are what _compose_project read from the
CLI, the output is a list of actions (service, action, reason) that the module carries
out, or returns as is in check mode.
"""

from __future__ import annotations

from ansible_collections.aistack.selfhosted.plugins.module_utils._compose_cli import ComposeError
from ansible_collections.aistack.selfhosted.plugins.module_utils._compose_project import (
    defined_profiles,
    published_ports,
)

UP_ACTIONS = ("create", "recreate", "start")


class Action:
    __slots__ = ("service", "action", "reason")

    def __init__(self, service, action, reason):
        self.service = service
        self.action = action
        self.reason = reason

    def as_dict(self):
        return {"service": self.service, "action": self.action, "reason": self.reason}

    def __repr__(self):
        return "Action(%r, %r, %r)" % (self.service, self.action, self.reason)


class Plan:
    def __init__(self, selected):
        self.selected = selected
        self.actions = []
        self.orphans = []

    def add(self, service, action, reason):
        self.actions.append(Action(service, action, reason))

    def services_for(self, *actions):
        return [a.service for a in self.actions if a.action in actions]


def select_services(services, profiles, only=None):
    """Services of the given profiles, limited to `only` when given; fails on unknown names."""
    known = defined_profiles(services)
    unknown = [p for p in profiles if p not in known]
    if unknown:
        raise ComposeError(
            "unknown profile(s) %s: the project defines %s"
            % (", ".join(unknown), ", ".join(known) if known else "no profiles")
        )
    wanted = set(profiles)
    selected = [name for name, svc in sorted(services.items()) if wanted & set(svc.profiles)]
    if only:
        outside = [name for name in only if name not in selected]
        if outside:
            raise ComposeError(
                "service(s) %s not in profile(s) %s, which run: %s"
                % (", ".join(outside), ", ".join(profiles), ", ".join(selected) or "nothing")
            )
        selected = [name for name in selected if name in only]
    return selected


def with_dependencies(services, names):
    """`names` plus every service they depend on, transitively (Compose starts those too)."""
    result = []
    todo = list(names)
    while todo:
        name = todo.pop(0)
        if name in result or name not in services:
            continue
        result.append(name)
        todo.extend(services[name].depends_on)
    return result


def _by_service(containers):
    grouped = {}
    for container in containers:
        grouped.setdefault(container.service, []).append(container)
    return grouped


def _up_action(service, containers, *, expected_hash, image_id, recreate):
    """The one action that brings `name` up to date, or None when it already is."""
    if not containers:
        return "create", "no container"
    if recreate == "always":
        return "recreate", "recreate=always"
    if recreate == "auto":
        if any(c.config_hash != expected_hash for c in containers):
            return "recreate", "configuration changed"
        if image_id is None:
            return "recreate", "image %s is not present locally" % service.image
        if any(c.image_id != image_id for c in containers):
            return "recreate", "image %s changed" % service.image
    stopped = [c for c in containers if not c.running]
    if stopped:
        return "start", "container is %s" % (stopped[0].state or "not running")
    return None


def _plan_up(plan, services, grouped, targets, *, hashes, image_ids, recreate):
    for name in targets:
        svc = services[name]
        decision = _up_action(
            svc,
            grouped.get(name, []),
            expected_hash=hashes.get(name),
            image_id=image_ids.get(svc.image),
            recreate=recreate,
        )
        if decision:
            plan.add(name, *decision)


def _plan_absent(plan, services, grouped, selected, profiles):
    """Remove what only the given profiles run; keep what another running profile or service needs."""
    off = set(profiles)
    running = {name for name, cs in grouped.items() if name in services and any(c.running for c in cs)}
    # A profile counts as on when a running service belongs to it and to none of the
    # profiles being turned off (a shared service alone says nothing about which
    # profile started it).
    still_on = set()
    for name in running:
        svc_profiles = set(services[name].profiles)
        if not svc_profiles & off:
            still_on |= svc_profiles
    removable = {name for name in selected if grouped.get(name) and not set(services[name].profiles) & still_on}
    while True:
        staying = running - removable
        needed = set(with_dependencies(services, sorted(staying))) & removable
        if not needed:
            break
        removable -= needed
    for name in selected:
        if name in removable:
            owners = ", ".join(sorted(off & set(services[name].profiles)))
            plan.add(name, "remove", "only profile(s) %s run it" % owners)


def compute_plan(
    state, services, containers, *, hashes, image_ids, profiles, only=None, recreate="auto", remove_orphans=False
):
    """Plan for one call of the module. `services` come from `config`, `containers` from `ps`."""
    selected = select_services(services, profiles, only)
    plan = Plan(selected)
    grouped = _by_service(containers)
    if state in ("present", "restarted"):
        targets = with_dependencies(services, selected)
        _plan_up(plan, services, grouped, targets, hashes=hashes, image_ids=image_ids, recreate=recreate)
        if state == "restarted":
            acted = set(plan.services_for(*UP_ACTIONS))
            for name in selected:
                if name not in acted and grouped.get(name):
                    plan.add(name, "restart", "state=restarted")
    elif state == "stopped":
        for name in selected:
            if any(c.running for c in grouped.get(name, [])):
                plan.add(name, "stop", "state=stopped")
    elif state == "absent":
        _plan_absent(plan, services, grouped, selected, profiles)
    else:
        raise ComposeError("unknown state %s" % state)
    if remove_orphans:
        for name, cs in sorted(grouped.items()):
            if name not in services:
                plan.orphans.extend(c.id for c in cs)
                plan.add(name, "remove", "orphan: the project files no longer define it")
    return plan


def describe_image(image, image_id):
    """"ref (sha256:0123456789ab)": the reference alone would hide a rebuilt or re-pulled tag."""
    if image_id:
        return "%s (%s)" % (image, image_id[:19])
    return image


def running_images(containers):
    """{service: image} of the running services: what diff mode shows before and after."""
    result = {}
    for container in containers:
        if container.running:
            result[container.service] = describe_image(container.image, container.image_id)
    return dict(sorted(result.items()))


def predicted_running(services, containers, plan, image_ids):
    """The running services after `plan`, for check mode's diff."""
    result = running_images(containers)
    for action in plan.actions:
        svc = services.get(action.service)
        if action.action in ("create", "recreate", "start") and svc:
            result[action.service] = describe_image(svc.image, image_ids.get(svc.image))
        elif action.action in ("stop", "remove"):
            result.pop(action.service, None)
    return dict(sorted(result.items()))


def port_claims(plan, raw_config, containers):
    """[(service, host address, port)]: the TCP host ports the plan's create, recreate and start need free.

    A port the service's own running container publishes now is left out: recreating that
    container releases it. Every other claimed port must be free before anything is stopped.
    """
    raw_services = raw_config.get("services") or {}
    grouped = _by_service(containers)
    claims = []
    for name in plan.services_for(*UP_ACTIONS):
        held = {
            (number, protocol)
            for container in grouped.get(name, [])
            if container.running
            for _address, number, protocol in container.published
        }
        for address, number, protocol in published_ports(raw_services.get(name) or {}):
            if protocol != "tcp" or (number, protocol) in held:
                continue
            claim = (name, address, number)
            if claim not in claims:
                claims.append(claim)
    return claims
