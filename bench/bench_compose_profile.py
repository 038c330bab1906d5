"""Benchmark: an idempotent compose_profile `present` on a project of 10 running services.

Figures (median and best of several rounds, each call a fresh ad-hoc `ansible` run on localhost):
  - ping: `ansible.builtin.ping`, Ansible's own start-up and module round trip;
  - compose_profile and community.docker.docker_compose_v2 (`state: present`, same profile);
  - bare: `docker compose --profile X up -d` on the same, already running, project.
Each module's time net of ping, as a ratio to the bare command: the cost of asking Ansible
to check the profile over asking Compose directly. A measurement, not a test: no thresholds.
"""

import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
IMAGE = "aistack-test/tiny-web:test"
SERVICES = 10
PROFILE = "bench"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
BIN = pathlib.Path(sys.executable).parent


def ansible_env():
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / "collections"),
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
        PATH=f"{BIN}:{env.get('PATH', '')}",
    )
    return env


def write_project(directory):
    lines = ["services:"]
    for index in range(SERVICES):
        lines += [
            f"  svc{index:02d}:",
            f"    image: {IMAGE}",
            f"    profiles: [{PROFILE}]",
            "    healthcheck: {interval: 2s, timeout: 3s, retries: 3}",
        ]
    (directory / "compose.yml").write_text("\n".join(lines) + "\n")


def timed(cmd, env=None, cwd=None):
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(cmd)}\n{proc.stdout}{proc.stderr}")
    return elapsed, proc.stdout


def adhoc(module, args=None):
    cmd = [str(BIN / "ansible"), "localhost", "-i", "localhost,", "-c", "local", "-m", module]
    return cmd + (["-a", json.dumps(args)] if args else [])


def result_of(output):
    """Ad-hoc output is `localhost | SUCCESS => {json}`: the module's result."""
    return json.loads(output.split("=>", 1)[1])


def main():
    if subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True, check=False).returncode != 0:
        raise SystemExit(f"{IMAGE} is missing: run `make images` first")
    env = ansible_env()
    name = f"bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        project = pathlib.Path(tmp)
        write_project(project)
        compose = ["docker", "compose", "-p", name, "--profile", PROFILE]
        try:
            timed(compose + ["up", "-d", "--wait"], cwd=project)
            args = {"project_src": str(project), "project_name": name, "profiles": [PROFILE]}
            commands = {
                "ping": (adhoc("ansible.builtin.ping"), env, None),
                "compose_profile": (adhoc("aistack.selfhosted.compose_profile", args), env, None),
                "docker_compose_v2": (
                    adhoc("community.docker.docker_compose_v2", dict(args, state="present")), env, None),
                "bare compose up -d": (compose + ["up", "-d"], None, project),
            }
            times = {label: [] for label in commands}
            for _round in range(ROUNDS):
                # Interleaved rounds: a slow moment of the machine hits every figure alike.
                for label, (cmd, cmd_env, cwd) in commands.items():
                    elapsed, output = timed(cmd, cmd_env, cwd)
                    if label in ("compose_profile", "docker_compose_v2") and result_of(output).get("changed"):
                        raise SystemExit(f"{label} reported a change on an up-to-date project:\n{output}")
                    times[label].append(elapsed)
        finally:
            subprocess.run(["docker", "compose", "-p", name, "down", "-v", "-t", "1"],
                           capture_output=True, check=False)
    print(f"compose_profile benchmark: idempotent present, {SERVICES} running services, {ROUNDS} rounds")
    # Median for the typical figure, best round for the one least disturbed by other load.
    for kind, pick in (("median", statistics.median), ("best", min)):
        figure = {label: pick(values) for label, values in times.items()}
        ping, bare = figure["ping"], figure["bare compose up -d"]
        print(f"  {kind:20} {'call s':>8} {'net of ping s':>14} {'ratio to bare':>14}")
        for label in ("compose_profile", "docker_compose_v2"):
            net = figure[label] - ping
            print(f"  {label:20} {figure[label]:8.2f} {net:14.2f} {net / bare:14.1f}")
        print(f"  {'ansible ping':20} {ping:8.2f}")
        print(f"  {'bare compose up -d':20} {bare:8.2f}")


if __name__ == "__main__":
    main()
