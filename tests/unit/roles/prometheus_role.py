"""Running the prometheus role on localhost, as test_prometheus_rules.py and test_prometheus_config.py do.

The role renders its files (alert rules, prometheus.yml, alertmanager.yml, blackbox.yml) into a
temporary directory, with its own `validate:` steps; promtool and amtool come from
scripts/setup-prom-tools.sh (`make prom-tools`, part of `make unit`), or AISTACK_PROMTOOL / AISTACK_AMTOOL.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[3]
# Where scripts/lib.sh puts what the scripts install (CACHE_DIR); setup-prom-tools.sh: tools/bin.
CACHE_DIR = pathlib.Path(
    os.environ.get("AISTACK_CACHE_DIR")
    or pathlib.Path(os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache") / "aistack"
)
TOOLS = CACHE_DIR / "tools" / "bin"


def find_tool(name, variable, *aliases):
    """The tool from its variable, the cache, or the PATH; None when it is nowhere."""
    for candidate in (os.environ.get(variable), *(TOOLS / n for n in (name, *aliases)),
                      *(shutil.which(n) for n in (name, *aliases))):
        if candidate and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


PROMTOOL = find_tool("promtool", "AISTACK_PROMTOOL")
AMTOOL = find_tool("amtool", "AISTACK_AMTOOL")
BLACKBOX = find_tool("blackbox_exporter", "AISTACK_BLACKBOX_EXPORTER", "prometheus-blackbox-exporter")
MISSING = ("is not installed: `make prom-tools` (scripts/setup-prom-tools.sh) puts it into "
           f"{TOOLS}; or set AISTACK_PROMTOOL / AISTACK_AMTOOL")

PLAYBOOK = """\
- name: Render the prometheus role's files
  hosts: {hosts}
  gather_facts: false
  roles:
    - role: aistack.selfhosted.prometheus
"""


def paths(workdir):
    """The role's output paths, all in workdir."""
    return {
        "aistack_root": str(workdir / "root"),
        "aistack_data_dir": str(workdir / "data"),
        "aistack_model_dir": str(workdir / "models"),
        "prometheus_user": str(os.getuid()),
        # Declared only: nothing is brought up.
        "aistack_apply_deferred": True,
        "prometheus_rules_file": str(workdir / "rules" / "aistack.rules.yml"),
        "prometheus_config_file": str(workdir / "prometheus" / "prometheus.yml"),
        "prometheus_alertmanager_config_file": str(workdir / "alertmanager" / "alertmanager.yml"),
        "prometheus_blackbox_config_file": str(workdir / "blackbox" / "blackbox.yml"),
        "prometheus_targets_secrets_dir": str(workdir / "targets"),
    }


def ansible_playbook(workdir, extra_vars, vars_file=None, inventory=None, hosts="localhost"):
    """Run the role on `hosts` (localhost, or a host of `inventory`, a YAML file) with these extra vars."""
    playbook = workdir / "render.yml"
    playbook.write_text(PLAYBOOK.format(hosts=hosts))
    tool = pathlib.Path(sys.executable).with_name("ansible-playbook")
    # The role's validate steps with the local tools (by default it runs those of the pinned images in Docker).
    tools = {"prometheus_rules_validate": f"{PROMTOOL} check rules %s",
             "prometheus_config_validate": f"{PROMTOOL} check config --syntax-only %s",
             # Without amtool (the rule tests need promtool only) the Alertmanager file is only checked non-empty.
             "prometheus_alertmanager_config_validate": f"{AMTOOL} check-config %s" if AMTOOL else "test -s %s",
             "prometheus_blackbox_config_validate":
                 f"{BLACKBOX} --config.check --config.file=%s" if BLACKBOX else "test -s %s"}
    command = [str(tool) if tool.exists() else "ansible-playbook", "-i", str(inventory) if inventory else "localhost,",
               "-c", "local", str(playbook),
               "-e", json.dumps({"ansible_python_interpreter": sys.executable, **tools, **paths(workdir),
                                 # A test inventory gives each host its own secrets directory.
                                 **({} if inventory else {"aistack_secrets_dir": str(workdir / "secrets")}),
                                 **extra_vars})]
    if vars_file:
        command += ["-e", "@" + str(vars_file)]
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(workdir / ".ansible-tmp"))
    return subprocess.run(command, check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def run(tool, *args, cwd):
    """(rc, stdout + stderr) of a tool."""
    result = subprocess.run([tool, *args], check=False, cwd=cwd, capture_output=True, text=True, timeout=600)
    return result.returncode, (result.stdout + result.stderr).strip()
