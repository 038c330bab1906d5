"""compose_project and the _compose role's apply against the real Docker engine and Compose v2
(targets/compose_project): one secret two services read, a port clash before any live change,
a stack emptied."""

import pytest

pytestmark = pytest.mark.docker


def test_apply_shared_secret_port_clash_and_empty_stack(compose_project, run_target, held_port, tmp_path):
    project_dir, name = compose_project
    for owner in ("shared", "web"):
        (tmp_path / "secrets" / owner).mkdir(mode=0o700, parents=True)
    (tmp_path / "data").mkdir()
    busy_port, own_port = held_port
    run_target("compose_project", {
        "project_src": project_dir, "project_name": name, "secrets_dir": tmp_path / "secrets",
        "data_dir": tmp_path / "data", "busy_port": busy_port, "own_port": own_port,
    })
