"""compose_profile against the real Docker engine and Compose v2 (targets/compose_profile)."""

import subprocess

import pytest

pytestmark = pytest.mark.docker


def project_containers(name):
    proc = subprocess.run(
        ["docker", "ps", "--all", "--quiet", "--filter", f"label=com.docker.compose.project={name}"],
        capture_output=True, text=True, check=True,
    )
    return proc.stdout.split()


def test_profiles_on_change_add_off_subset_stop_restart(compose_project, run_target):
    project_dir, name = compose_project
    run_target("compose_profile", {"project_src": project_dir, "project_name": name, "compose_suite": "lifecycle"})
    # The target leaves db, vectors and webui running: the fixture must clean them up.
    assert len(project_containers(name)) == 3


def test_failures_say_what_went_wrong(compose_project, run_target):
    project_dir, name = compose_project
    run_target("compose_profile", {"project_src": project_dir, "project_name": name, "compose_suite": "failures"})


def test_design_layout_with_includes_secrets_and_env_files_is_idempotent(compose_project, run_target):
    project_dir, name = compose_project
    run_target("compose_profile", {"project_src": project_dir, "project_name": name, "compose_suite": "layout"})
