"""compose_profile against the real Docker engine and Compose v2 (targets/compose_profile)."""

import pathlib
import subprocess
import sys

import pytest

TARGETS = pathlib.Path(__file__).resolve().parents[1] / "targets"

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


# Suites whose target asserts everything itself: failures say what went wrong; the design
# layout (includes, secrets, env files) is idempotent; the $$ escape converges; the wait fails
# on a crash loop and waits for a healthcheck's first result.
@pytest.mark.parametrize("suite", ["failures", "layout", "dollar", "wait"])
def test_target_suite(compose_project, run_target, suite):
    project_dir, name = compose_project
    run_target("compose_profile", {"project_src": project_dir, "project_name": name, "compose_suite": suite})


def test_port_held_by_another_process_fails_before_anything_is_stopped(compose_project, run_target, held_port):
    project_dir, name = compose_project
    busy_port, own_port = held_port
    run_target("compose_profile", {
        "project_src": project_dir, "project_name": name, "compose_suite": "ports",
        "busy_port": busy_port, "own_port": own_port,
    })


def test_hash_differing_from_compose_label_defers_to_compose_and_warns(compose_project, ansible_env):
    project_dir, name = compose_project
    cmd = [
        str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
        str(TARGETS / "compose_profile" / "main.yml"),
        "-e", f"project_src={project_dir}", "-e", f"project_name={name}", "-e", "compose_suite=hash_mismatch",
    ]
    proc = subprocess.run(cmd, env=ansible_env(), capture_output=True, text=True, timeout=600, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    flat = " ".join(output.split())
    assert "service web: the configuration hash this module computes" in flat, output
    assert "it did not" in flat, output
    # Only the run through the stand-in warns.
    assert flat.count("[WARNING]") == 1, output
