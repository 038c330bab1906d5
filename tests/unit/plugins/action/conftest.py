"""Roles for the check_inputs tests: the collection's argument specs, with the input checks of each
role's meta/input_checks.yml, or, while a role has none yet, the block docs/input-checks.md gives for it."""

from __future__ import annotations

import pathlib
import re
import shutil
from unittest import mock

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.template import Templar
from ansible_collections.aistack.selfhosted.plugins.action.check_inputs import ActionModule, trusted

REPO = pathlib.Path(__file__).resolve().parents[4]
ROLES = REPO / "roles"
DOC = REPO / "docs" / "input-checks.md"
BLOCK = re.compile(r"^### roles/([A-Za-z0-9_]+)/meta/input_checks\.yml\n\n```yaml\n(.*?)^```", re.M | re.S)


def documented_checks() -> dict[str, str]:
    """{role: the YAML text docs/input-checks.md gives for its meta/input_checks.yml}."""
    return dict(BLOCK.findall(DOC.read_text()))


@pytest.fixture(scope="session")
def roles_dir(tmp_path_factory) -> pathlib.Path:
    dest = tmp_path_factory.mktemp("roles")
    documented = documented_checks()
    for role in sorted(path for path in ROLES.iterdir() if (path / "meta" / "argument_specs.yml").is_file()):
        meta = dest / role.name / "meta"
        meta.mkdir(parents=True)
        shutil.copy(role / "meta" / "argument_specs.yml", meta / "argument_specs.yml")
        own = role / "meta" / "input_checks.yml"
        if own.is_file():
            shutil.copy(own, meta / "input_checks.yml")
        elif role.name in documented:
            (meta / "input_checks.yml").write_text(documented[role.name])
    return dest


def make_action(args: dict):
    """The check_inputs action plugin as the task executor builds it (a real templar, no connection)."""
    loader = DataLoader()
    task = Task()
    task.args = args
    connection = mock.MagicMock()
    connection._shell.tmpdir = "/nonexistent"
    return ActionModule(task=task, connection=connection, play_context=PlayContext(), loader=loader,
                        templar=Templar(loader=loader), shared_loader_obj=None)


@pytest.fixture
def check(roles_dir):
    """check(vars, roles=...) -> the action's result for those task variables."""

    def run(variables: dict, roles=("docker", "qdrant", "ollama", "open_webui"), **args):
        task_vars = {"groups": {"all": ["host1"], "ungrouped": [], "inference": ["host1"]},
                     "inventory_hostname": "host1", "ansible_facts": {"default_ipv4": {"address": "192.0.2.10"}}}
        task_vars.update(trusted(variables))
        action = make_action({"roles": list(roles), "roles_dir": str(roles_dir), **args})
        return action.run(task_vars=task_vars)

    return run


def test_documented_blocks_are_valid_yaml():
    blocks = documented_checks()
    assert set(blocks) >= {"_compose", "docker", "ollama", "open_webui", "qdrant"}
    for text in blocks.values():
        assert "main" in yaml.safe_load(text)
