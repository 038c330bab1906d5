"""Check that every role's meta/argument_specs.yml is in step with its defaults/main.yml.

Each public default (a name not starting with "_") must be an option of the entry point
`main`, with the same default value; each option that is not required must have a
default in defaults/main.yml. Exit 1 listing every drift.
"""

import pathlib
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
            if not spec.get("required"):
                problems.append(f"{role.name}: option {name} is neither required nor in defaults/main.yml")
            continue
        if "default" in spec and spec["default"] != defaults[name]:
            problems.append(f"{role.name}: {name} default {spec['default']!r} != defaults/main.yml {defaults[name]!r}")
        if not spec.get("description"):
            problems.append(f"{role.name}: option {name} has no description")
    return problems


def main() -> int:
    roles = sorted(p for p in ROLES.iterdir() if (p / "tasks").is_dir()) if ROLES.is_dir() else []
    problems = [p for role in roles for p in drifts(role)]
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"argument_specs: {len(roles)} roles checked, {len(problems)} drifts")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
