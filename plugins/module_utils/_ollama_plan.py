# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Declared models against installed ones: what to pull, what to remove, what is fine.

Pure functions, no HTTP: the module feeds them one /api/tags answer.
"""

from __future__ import annotations

from ansible_collections.aistack.selfhosted.plugins.module_utils._ollama_name import (
    InvalidModelName,
    parse_model_name,
)

STATES = ("present", "absent", "latest")


class Declared:
    __slots__ = ("name", "state")

    def __init__(self, name, state):
        self.name = name
        self.state = state


def declare(name=None, models=None, state="present"):
    """Normalise the module's name/models options; invalid or contradictory input raises ValueError."""
    items = [name] if name is not None else list(models or [])
    declared = {}
    for item in items:
        if isinstance(item, dict):
            # size_gb is the model's declared memory, for the ollama role's VRAM check: nothing to pull by.
            unknown = set(item) - {"name", "state", "size_gb"}
            if unknown:
                raise ValueError(
                    "models: unknown keys %s in %r (allowed: name, state, size_gb)" % (sorted(unknown), item))
            text, item_state = item.get("name"), item.get("state") or state
        else:
            text, item_state = item, state
        if item_state not in STATES:
            raise ValueError("models: state of %r must be one of %s, not %r" % (text, ", ".join(STATES), item_state))
        try:
            parsed = parse_model_name(text)
        except InvalidModelName as error:
            raise ValueError(str(error)) from None
        previous = declared.get(parsed.key)
        if previous is not None and previous.state != item_state:
            raise ValueError("model %s is declared twice with different states (%s as %r, %s as %r)"
                             % (parsed.display, previous.state, previous.name.raw, item_state, text))
        if previous is None:
            declared[parsed.key] = Declared(parsed, item_state)
    return list(declared.values())


def summary(entry):
    """The fields of an /api/tags entry worth returning."""
    return dict(name=entry.get("name") or entry.get("model"), digest=entry.get("digest"),
                size=entry.get("size"), modified_at=entry.get("modified_at"))


def index_installed(entries):
    """key -> /api/tags entry; entries whose name does not parse are kept under their raw text."""
    installed = {}
    for entry in entries:
        text = entry.get("model") or entry.get("name") or ""
        try:
            installed[parse_model_name(text).key] = entry
        except InvalidModelName:
            installed[("?", text)] = entry
    return installed


class Plan:
    def __init__(self):
        self.pull = []  # (Declared, installed entry or None)
        self.remove = []  # installed entries
        self.unchanged = []  # display names


def make_plan(declared, installed_entries, prune=False):
    installed = index_installed(installed_entries)
    plan = Plan()
    wanted = set()
    for item in declared:
        entry = installed.get(item.name.key)
        if item.state == "absent":
            if entry is None:
                plan.unchanged.append(item.name.display)
            else:
                plan.remove.append(entry)
            continue
        wanted.add(item.name.key)
        if item.state == "present" and entry is not None:
            plan.unchanged.append(entry.get("name") or item.name.display)
        else:
            plan.pull.append((item, entry))
    if prune:
        declared_keys = {item.name.key for item in declared}
        for key, entry in installed.items():
            if key not in declared_keys and key not in wanted:
                plan.remove.append(entry)
    return plan


def diff_text(entries):
    """One line per model, sorted: name and short digest, so a new digest shows as a changed line."""
    lines = []
    for entry in entries:
        digest = entry.get("digest")
        lines.append("%s %s" % (entry.get("name"), digest[:12] if digest else "(to be pulled)"))
    return "".join(line + "\n" for line in sorted(lines))
