"""The check_inputs action plugin, run as the task executor runs it, on the collection's own roles."""

from __future__ import annotations

import pathlib
from unittest import mock

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.template import Templar
from ansible_collections.aistack.selfhosted.plugins.action.check_inputs import ActionModule, trusted

REPO = pathlib.Path(__file__).resolve().parents[4]
ROLES = REPO / "roles"


@pytest.fixture(scope="session")
def roles_dir() -> pathlib.Path:
    """The collection's own roles: their argument specs and meta/input_checks.yml."""
    return ROLES


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
