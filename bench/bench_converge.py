"""Benchmark: the idempotent re-converge of an inference host against its floor on the same host.

Creates its own disposable host, a systemd container named aistack-bench (BENCH_HOST) set up
as `make demo`'s (scripts/local-host.sh), converges `site.yml -l inference` into it once, then
measures on the converged host:
  - re-converge: `ansible-playbook site.yml -l inference` again, wall time, tasks run, changed
    (and which), and its 10 slowest tasks (the ansible.posix.profile_tasks callback);
  - floor: a one-task play (ansible.builtin.ping) against the same host, plus a no-op
    `docker compose --project-directory /opt/aistack up -d --wait` inside it: what any
    converge costs at the least, Ansible's start-up and connection plus Compose's own check;
and prints both and their ratio. A measurement, not a test: no thresholds. The host is
removed at the end unless BENCH_KEEP_HOST=1 (kept, a later run converges it again first).
BENCH_CONVERGE_ROUNDS (default 1) re-converges, BENCH_FLOOR_ROUNDS (default 3) floors: medians.
"""

import json
import os
import pathlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
HOST = os.environ.get("BENCH_HOST", "aistack-bench")
KEEP = os.environ.get("BENCH_KEEP_HOST") == "1"
CONVERGE_ROUNDS = int(os.environ.get("BENCH_CONVERGE_ROUNDS", "1"))
FLOOR_ROUNDS = int(os.environ.get("BENCH_FLOOR_ROUNDS", "3"))
PROJECT = "/opt/aistack"
ADMIN_PASSWORD_SECRET = "/etc/aistack/secrets/open-webui/admin_password"
BIN = pathlib.Path(sys.executable).parent
# Hosts of other tools on this machine: never touch them.
FOREIGN = {"aistack-demo", "instance"}

RECAP = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)",
    re.M,
)
# profile_tasks' summary lines: "role : task name ------------- 1.23s"
PROFILE_LINE = re.compile(r"^(?P<task>.+?) -+ (?P<seconds>\d+\.\d+)s$", re.M)


def log(message):
    print(f"==> {message}", file=sys.stderr, flush=True)


def run(cmd, env=None, check=True, capture=True):
    proc = subprocess.run(cmd, env=env, cwd=REPO_ROOT, capture_output=capture, text=True, check=False)
    if check and proc.returncode != 0:
        output = (proc.stdout or "") + (proc.stderr or "")
        raise SystemExit(f"benchmark command failed ({proc.returncode}): {' '.join(cmd)}\n{output[-6000:]}")
    return proc


def timed(cmd, env=None):
    start = time.perf_counter()
    proc = run(cmd, env=env)
    return time.perf_counter() - start, proc.stdout


def ansible_env(workdir, profile=False):
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        AISTACK_DEMO_PASSWORD_FILE=str(workdir / "admin-password"),
        PATH=f"{BIN}:{env.get('PATH', '')}",
    )
    if profile:
        env.update(
            ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks",
            PROFILE_TASKS_TASK_OUTPUT_LIMIT="10",
            PROFILE_TASKS_SORT_ORDER="descending",
        )
    return env


def inventory(workdir):
    """The local inventory's settings (its group_vars) for this host, without editing it."""
    inv = workdir / "inventory"
    inv.mkdir()
    (inv / "hosts.yml").write_text(json.dumps({"all": {"children": {"inference": {"hosts": {HOST: {
        "ansible_connection": "community.docker.docker",
        "ansible_python_interpreter": "/usr/bin/python3",
    }}}}}}))
    (inv / "group_vars").symlink_to(REPO_ROOT / "inventories" / "local" / "group_vars")
    return inv


def recap(output):
    for match in RECAP.finditer(output):
        if match["host"] == HOST:
            return {k: int(v) for k, v in match.groupdict().items() if k != "host"}
    raise SystemExit(f"no PLAY RECAP line for {HOST} in the playbook output:\n{output[-3000:]}")


def changed_tasks(output):
    names, task = [], None
    for line in output.splitlines():
        if line.startswith("TASK ["):
            task = line[len("TASK ["):line.rfind("]")]
        elif line.startswith(f"changed: [{HOST}]") and task:
            names.append(task)
    return names


def slowest(output):
    tail = output[output.rfind("TASKS RECAP"):]
    return [(m["task"].strip(), float(m["seconds"])) for m in PROFILE_LINE.finditer(tail)][:10]


def main():
    if HOST in FOREIGN:
        raise SystemExit(f"BENCH_HOST={HOST} is another tool's host; pick another name")
    if shutil.which("docker") is None or run(["docker", "info"], check=False).returncode != 0:
        log("converge benchmark skipped: no Docker engine answers (make engine)")
        return 0
    if run(["docker", "image", "inspect", "aistack-test/debian:trixie"], check=False).returncode != 0:
        log("converge benchmark skipped: no test-host image aistack-test/debian:trixie (make images)")
        return 0

    workdir = pathlib.Path(tempfile.mkdtemp(prefix="aistack-bench-"))
    try:
        # A kept host (BENCH_KEEP_HOST=1 earlier) keeps its administrator: converge it with that
        # password, else the new one would replace the secret and Open WebUI's sign-in fail.
        kept = run(["docker", "exec", HOST, "cat", ADMIN_PASSWORD_SECRET], check=False)
        password = kept.stdout.strip() if kept.returncode == 0 and kept.stdout.strip() else os.urandom(12).hex()
        (workdir / "admin-password").write_text(password + "\n")
        inv = inventory(workdir)
        images = run(["bash", "scripts/local-host.sh", "image-vars", "the bench"])
        sys.stderr.write(images.stderr)
        images = images.stdout.strip()
        run(["bash", "scripts/local-host.sh", "create", HOST], env=dict(os.environ, AISTACK_HOST_WHO="bench"),
            capture=False)
        playbook = ["ansible-playbook", "-i", str(inv), "site.yml", "-l", "inference", "-e", images]

        log(f"first converge of {HOST} (not measured)")
        start = time.perf_counter()
        run(playbook, env=ansible_env(workdir), capture=False)  # its output streams; a failure stops here
        log(f"first converge took {time.perf_counter() - start:.1f} s")

        rounds = []
        for index in range(CONVERGE_ROUNDS):
            log(f"re-converge {index + 1}/{CONVERGE_ROUNDS}")
            seconds, output = timed(playbook, env=ansible_env(workdir, profile=True))
            rounds.append((seconds, output))
        seconds, output = sorted(rounds, key=lambda r: r[0])[len(rounds) // 2]
        stats = recap(output)
        tasks = stats["ok"] + stats["failed"] + stats["skipped"] + stats["unreachable"]

        ping_play = workdir / "ping.yml"
        ping_play.write_text(json.dumps([{
            "name": "Floor: one task", "hosts": "inference", "gather_facts": False,
            "tasks": [{"name": "Ping", "ansible.builtin.ping": {}}],
        }]))
        pings, ups = [], []
        for _round in range(FLOOR_ROUNDS):
            pings.append(timed(["ansible-playbook", "-i", str(inv), str(ping_play)], env=ansible_env(workdir))[0])
            ups.append(timed(["docker", "exec", HOST, "docker", "compose", "--project-directory", PROJECT,
                              "up", "-d", "--wait"])[0])
        ping, up = statistics.median(pings), statistics.median(ups)
        floor = ping + up

        print(f"\nidempotent re-converge of an inference host ({HOST}, site.yml -l inference; "
              f"medians of {CONVERGE_ROUNDS} re-converge and {FLOOR_ROUNDS} floor rounds; "
              f"load average {os.getloadavg()[0]:.1f})")
        print(f"  re-converge           {seconds:7.1f} s   {tasks} tasks "
              f"(ok {stats['ok']}, skipped {stats['skipped']}), changed {stats['changed']}, failed {stats['failed']}")
        for name in changed_tasks(output):
            print(f"    changed: {name}")
        print(f"  floor                 {floor:7.1f} s   = one-task play {ping:.2f} s"
              f" + no-op `docker compose up -d --wait` {up:.2f} s")
        print(f"  ratio                 {seconds / floor:7.1f} x")
        print("  10 slowest tasks of the re-converge (ansible.posix.profile_tasks):")
        for name, task_seconds in slowest(output):
            print(f"    {task_seconds:6.2f} s  {name}")
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if KEEP:
            log(f"host {HOST} kept (BENCH_KEEP_HOST=1): docker rm -f -v {HOST} removes it")
        else:
            run(["docker", "rm", "-f", "-v", HOST], check=False)


if __name__ == "__main__":
    sys.exit(main())
