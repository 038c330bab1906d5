# Copyright (c) aistack.selfhosted maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Running the Docker Compose v2 CLI: command lines, parallel runs, version gate, error wording.

Private to this collection. Only the standard library: the code runs on the managed host.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

# The oldest Compose verified with this code: the release Debian 13 ships (2.26.1).
# `--profile '*'`, `ps --format json` with labels and one JSON object per line, and
# `config --format json` all behave there as the parser expects.
MIN_COMPOSE_VERSION = (2, 26, 0)

DAEMON_DOWN_MARKERS = (
    "Cannot connect to the Docker daemon",
    "connect: no such file or directory",
    "connect: connection refused",
    "error during connect",
)


class ComposeError(Exception):
    """A failure worth showing to the user as is: the message says what to do.

    `result` holds what the module returns alongside the message (changed, actions)
    when the failure came after something was already done.
    """

    def __init__(self, msg, result=None):
        super().__init__(msg)
        self.result = result or {}


def parse_version(text):
    """Version tuple from `docker compose version --format json` output.

    Docker's own builds print {"version":"v2.40.3"}; Debian's package prints
    {"version":"2.26.1-4"}. Only the leading major.minor.patch matters.
    """
    try:
        raw = json.loads(text)["version"]
    except (ValueError, KeyError, TypeError):
        raw = text
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", str(raw))
    if not match:
        raise ComposeError("cannot read the Compose version from %r" % text.strip())
    return tuple(int(part or 0) for part in match.groups())


def format_version(version):
    return ".".join(str(part) for part in version)


def check_version(version):
    if version < MIN_COMPOSE_VERSION:
        raise ComposeError(
            "Docker Compose %s is too old: this module needs Compose v2 %s or later "
            "(Debian 13 ships 2.26; Docker's docker-compose-plugin package is current)"
            % (format_version(version), format_version(MIN_COMPOSE_VERSION))
        )


# Where the docker CLI looks for plugins, after the config's cliPluginsExtraDirs and
# <config dir>/cli-plugins (docker/cli, cli-plugins/manager, Linux defaults).
SYSTEM_PLUGIN_DIRS = (
    "/usr/local/lib/docker/cli-plugins",
    "/usr/local/libexec/docker/cli-plugins",
    "/usr/lib/docker/cli-plugins",
    "/usr/libexec/docker/cli-plugins",
)


def find_compose_plugin(environ=None):
    """Path of the docker-compose CLI plugin the docker CLI would run, or None.

    Running it directly gives the same result as `docker compose` (the plugin also
    runs standalone) without the docker CLI's own start-up on every call.
    """
    environ = os.environ if environ is None else environ
    config_dir = environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    dirs = []
    try:
        with open(os.path.join(config_dir, "config.json")) as handle:
            dirs += list(json.load(handle).get("cliPluginsExtraDirs") or [])
    except (OSError, ValueError, AttributeError):
        pass
    dirs.append(os.path.join(config_dir, "cli-plugins"))
    dirs.extend(SYSTEM_PLUGIN_DIRS)
    for directory in dirs:
        candidate = os.path.join(directory, "docker-compose")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def looks_like_daemon_down(stderr):
    return any(marker in stderr for marker in DAEMON_DOWN_MARKERS)


class Result:
    __slots__ = ("args", "rc", "stdout", "stderr")

    def __init__(self, args, rc, stdout, stderr):
        self.args = args
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr

    @property
    def command(self):
        return " ".join(self.args)

    @property
    def error(self):
        """stderr without Compose's progress lines (indented, "Container x  Creating"): the reason."""
        lines = [line for line in self.stderr.splitlines() if line.strip() and not line.startswith(" ")]
        return "\n".join(lines) if lines else self.stderr.strip()


class ComposeCLI:
    """Builds `docker compose` command lines for one project and runs them.

    Every command selects all profiles (`--profile '*'`) and names its services
    explicitly: profiles then only decide which services the module picks, and a
    dependency in another profile never makes Compose refuse the project.
    """

    def __init__(
        self, docker, *, plugin=None, project_src=None, project_name=None, files=None, env_files=None, timeout=600
    ):
        self.docker = docker
        # `docker compose` through the CLI, or the plugin binary itself when it was found.
        self.compose_prefix = [plugin] if plugin else [docker, "compose"]
        self.cwd = project_src
        self.timeout = timeout
        self.project_args = []
        if project_src:
            self.project_args += ["--project-directory", project_src]
        for path in files or []:
            self.project_args += ["-f", path]
        for path in env_files or []:
            self.project_args += ["--env-file", path]
        if project_name:
            self.project_args += ["-p", project_name]

    def compose(self, *args):
        return self.compose_prefix + self.project_args + ["--profile", "*"] + list(args)

    def compose_version(self):
        return self.compose_prefix + ["version", "--format", "json"]

    def docker_cmd(self, *args):
        return [self.docker] + list(args)

    def _env(self):
        env = dict(os.environ)
        # Machine-readable output only: no colours, no progress bars, no hints.
        env.update(COMPOSE_ANSI="never", COMPOSE_PROGRESS="plain", DOCKER_CLI_HINTS="false", NO_COLOR="1")
        return env

    def start(self, args):
        return subprocess.Popen(
            args,
            cwd=self.cwd,
            env=self._env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run_many(self, commands):
        """Run independent commands at the same time; results in the same order.

        Each docker CLI call costs tens of milliseconds of start-up: reading the
        project, the containers and the images side by side keeps an idempotent
        run close to the cost of one call.
        """
        procs = [(args, self.start(args)) for args in commands]
        results = []
        for args, proc in procs:
            try:
                out, err = proc.communicate(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
                err = (err or "") + "\n(timed out after %ss)" % self.timeout
            results.append(Result(args, proc.returncode, out or "", err or ""))
        return results

    def run(self, args):
        return self.run_many([args])[0]
