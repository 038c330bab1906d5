"""Run a module of this collection as Ansible does on a target: its own process, JSON arguments.

Used where a playbook would hide what is measured: the HTTP requests one module call makes,
and the peak memory of the module process (from wait4's rusage of that process alone).
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]


def run_module(name: str, args: dict, check_mode: bool = False) -> tuple[dict, dict]:
    """(module result, {"seconds": wall time, "cpu_seconds": user + system CPU, "max_rss_kib": peak memory})."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": {**args, "_ansible_check_mode": check_mode}}, handle)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "collections")}
    module = REPO_ROOT / "plugins" / "modules" / f"{name}.py"
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, str(module), handle.name], stdout=out,
                                   stderr=subprocess.STDOUT, env=env)
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode()
    os.unlink(handle.name)
    try:
        result = json.loads(output[output.index("{"):])
    except ValueError:
        raise AssertionError(f"module {name} printed no JSON result:\n{output}") from None
    return result, {"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime, "max_rss_kib": usage.ru_maxrss}
