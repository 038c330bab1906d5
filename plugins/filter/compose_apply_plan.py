# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The compose_apply_plan filter: which declared services the host's project runs (see its .yml docs)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

EXPOSURES = ("internal", "loopback", "private", "public")


def _published(name, port, addresses):
    exposure = port.get("exposure", "loopback")
    if exposure not in EXPOSURES:
        raise AnsibleFilterError(
            f"service {name}, port {port.get('name', port.get('container'))}: exposure {exposure!r} is not one of "
            f"{', '.join(EXPOSURES)}"
        )
    if exposure == "internal":
        return None
    address = addresses.get(exposure) or ""
    if not address:
        raise AnsibleFilterError(
            f"service {name} publishes port {port['host']} to the private address, but this host has none: "
            "set aistack_private_address (the address the other hosts of the inventory reach it at)"
        )
    return address, int(port["host"]), int(port["container"])


def _check_clashes(services):
    taken = {}
    for name, service in services.items():
        for address, host_port, _ in service["publish"]:
            for other_address, other in taken.get(host_port, []):
                if "0.0.0.0" in (address, other_address) or address == other_address:
                    raise AnsibleFilterError(
                        f"services {other} and {name} both publish port {host_port} "
                        f"({other_address} and {address}): give one of them another port"
                    )
            taken.setdefault(host_port, []).append((address, name))


def compose_apply_plan(declared, live=None, stack="", addresses=None):
    """What the apply does: services the root file includes, services it removes, profiles, ports."""
    declared = declared or {}
    live = live or {}
    addresses = addresses or {}
    kept = {
        name: service for name, service in live.items()
        if name not in declared and not (stack and service.get("stack") == stack)
    }
    run = {name: service for name, service in declared.items() if service.get("fragment", True)}
    included = {}
    for name, service in sorted({**kept, **run}.items()):
        published = [_published(name, port, addresses) for port in service.get("ports", [])]
        included[name] = dict(service, publish=[p for p in published if p])
    _check_clashes(included)
    return {
        "services": included,
        "declarations": {
            name: {key: value for key, value in svc.items() if key != "publish"} for name, svc in included.items()
        },
        "removed": sorted(set(live) - set(included)),
        "profiles": sorted({service["profile"] for service in included.values()}),
        "secrets_read": sorted({path for service in included.values() for path in service.get("secrets_read", [])}),
    }


class FilterModule:
    def filters(self):
        return {"compose_apply_plan": compose_apply_plan}
