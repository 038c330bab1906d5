"""The lint check that keeps each role's meta/argument_specs.yml in step with defaults/main.yml."""

import importlib.util
import pathlib

import pytest
import yaml

SCRIPT = pathlib.Path(__file__).resolve().parents[3] / "scripts" / "check_argument_specs.py"
spec = importlib.util.spec_from_file_location("check_argument_specs", SCRIPT)
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)


def make_role(tmp_path, defaults, options):
    role = tmp_path / "roles" / "demo"
    for sub in ("tasks", "defaults", "meta"):
        (role / sub).mkdir(parents=True)
    (role / "tasks" / "main.yml").write_text("---\n[]\n")
    (role / "defaults" / "main.yml").write_text(yaml.safe_dump(defaults))
    specs = {"argument_specs": {"main": {"options": options}}}
    (role / "meta" / "argument_specs.yml").write_text(yaml.safe_dump(specs))
    return role


def test_roles_in_step_have_no_drift(tmp_path):
    role = make_role(tmp_path, {"demo_port": 80, "_demo_internal": 1},
                     {"demo_port": {"type": "int", "default": 80, "description": "Port."},
                      "demo_secret": {"type": "str", "required": True, "description": "Secret."}})
    assert check.drifts(role) == []


@pytest.mark.parametrize(
    ("defaults", "options", "expected"),
    [
        ({"demo_port": 80}, {}, "default demo_port is not in argument_specs"),
        ({}, {"demo_port": {"type": "int", "description": "Port."}},
         "option demo_port is neither required nor in defaults"),
        ({"demo_port": 80}, {"demo_port": {"type": "int", "default": 8080, "description": "Port."}},
         "8080 != defaults/main.yml 80"),
        ({"demo_port": 80}, {"demo_port": {"type": "int", "default": 80}},
         "option demo_port has no description"),
    ],
)
def test_each_kind_of_drift_is_reported(tmp_path, defaults, options, expected):
    problems = check.drifts(make_role(tmp_path, defaults, options))
    assert any(expected in problem for problem in problems), problems
