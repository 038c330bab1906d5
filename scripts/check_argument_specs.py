"""Check that every role's meta/argument_specs.yml is in step with its defaults/main.yml.

Each public default (a name not starting with "_") must be an option of the entry point
`main`, with the same default value; each option that is not required must have a
default in defaults/main.yml. Roles talk through documented variables only: every
project setting (aistack_*, defaulted by the internal _compose role) that a role uses is
an option of its `main` entry point with _compose's type and default, and no role uses
another role's private names (_<role>_*), except the documented options of _compose's
entry points. Exit 1 listing every drift.
"""

import pathlib
import re
import sys

import yaml

ROLES = pathlib.Path(__file__).resolve().parents[1] / "roles"


def load(path: pathlib.Path) -> dict:
    return yaml.safe_load(path.read_text()) or {} if path.exists() else {}


def drifts(role: pathlib.Path) -> list[str]:
    defaults = {k: v for k, v in load(role / "defaults" / "main.yml").items() if not k.startswith("_")}
    specs = load(role / "meta" / "argument_specs.yml").get("argument_specs", {})
    if "main" not in specs:
        return [f"{role.name}: meta/argument_specs.yml has no entry point 'main'"]
    options = specs["main"].get("options", {}) or {}
    problems = []
    for name in sorted(defaults.keys() - options.keys()):
        problems.append(f"{role.name}: default {name} is not in argument_specs")
    for name, spec in sorted(options.items()):
        if name not in defaults:
            if name.startswith("aistack_") and role.name != "_compose":
                continue  # defaulted by _compose; checked by interface_drifts
            if not spec.get("required"):
                problems.append(f"{role.name}: option {name} is neither required nor in defaults/main.yml")
            continue
        if "default" in spec and spec["default"] != defaults[name]:
            problems.append(f"{role.name}: {name} default {spec['default']!r} != defaults/main.yml {defaults[name]!r}")
        if not spec.get("description"):
            problems.append(f"{role.name}: option {name} has no description")
    return problems


# Facts the roles publish, not inputs.
PUBLISHED_FACTS = {"aistack_declared_services", "aistack_gpu"}


def role_text(role: pathlib.Path) -> str:
    return "\n".join(
        path.read_text() for folder in ("tasks", "templates", "vars", "defaults", "handlers")
        for path in sorted((role / folder).rglob("*")) if path.is_file()
    )


def interface_drifts(role: pathlib.Path, roles: list[pathlib.Path]) -> list[str]:
    if role.name == "_compose":
        return []
    compose_specs = load(ROLES / "_compose" / "meta" / "argument_specs.yml").get("argument_specs", {})
    shared = compose_specs.get("main", {}).get("options", {})
    entry_options = {name for spec in compose_specs.values() for name in (spec.get("options") or {})}
    options = load(role / "meta" / "argument_specs.yml").get("argument_specs", {}).get("main", {}).get("options") or {}
    text = role_text(role)
    problems = []
    for name in sorted(set(re.findall(r"\baistack_[a-z_]+", text)) - PUBLISHED_FACTS):
        if name not in shared:
            problems.append(f"{role.name}: uses {name}, which _compose does not declare")
        elif name not in options:
            problems.append(f"{role.name}: uses {name} but its argument_specs do not document it")
        elif any(options[name].get(key) != shared[name].get(key) for key in ("type", "default")):
            problems.append(f"{role.name}: {name} is documented with another type or default than _compose's")
    for other in roles:
        if other == role:
            continue
        private = re.compile(r"(?<![A-Za-z0-9_])_{1,2}" + re.escape(other.name.lstrip("_")) + r"_[a-z_]+")
        for name in sorted(set(private.findall(text))):
            if name not in entry_options:
                problems.append(f"{role.name}: reads {name}, a private name of role {other.name}")
    return problems


def main() -> int:
    roles = sorted(p for p in ROLES.iterdir() if (p / "tasks").is_dir()) if ROLES.is_dir() else []
    problems = [p for role in roles for p in drifts(role) + interface_drifts(role, roles)]
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"argument_specs: {len(roles)} roles checked, {len(problems)} drifts")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
