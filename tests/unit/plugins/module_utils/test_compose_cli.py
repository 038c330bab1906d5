"""Compose command lines, plugin lookup and error wording (no Docker needed)."""

import json

from ansible_collections.aistack.selfhosted.plugins.module_utils._compose_cli import (
    ComposeCLI,
    Result,
    find_compose_plugin,
    looks_like_daemon_down,
)


def make_plugin(directory):
    directory.mkdir(parents=True, exist_ok=True)
    plugin = directory / "docker-compose"
    plugin.write_text("#!/bin/sh\n")
    plugin.chmod(0o755)
    return str(plugin)


def test_plugin_in_the_docker_config_dir_is_found_first(tmp_path):
    mine = make_plugin(tmp_path / "cli-plugins")
    assert find_compose_plugin({"DOCKER_CONFIG": str(tmp_path)}) == mine


def test_plugin_extra_dirs_of_config_json_come_before_the_config_dir(tmp_path):
    make_plugin(tmp_path / "cli-plugins")
    extra = make_plugin(tmp_path / "extra")
    (tmp_path / "config.json").write_text(json.dumps({"cliPluginsExtraDirs": [str(tmp_path / "extra")]}))
    assert find_compose_plugin({"DOCKER_CONFIG": str(tmp_path)}) == extra


def test_a_plugin_that_is_not_executable_is_skipped(tmp_path):
    plugin = make_plugin(tmp_path / "cli-plugins")
    (tmp_path / "cli-plugins" / "docker-compose").chmod(0o644)
    assert find_compose_plugin({"DOCKER_CONFIG": str(tmp_path)}) != plugin


def test_compose_commands_name_the_project_and_select_every_profile():
    cli = ComposeCLI(
        "/usr/bin/docker", project_src="/opt/aistack", project_name="aistack",
        files=["compose.yml", "gpu.yml"], env_files=["site.env"],
    )
    assert cli.compose("ps", "--all") == [
        "/usr/bin/docker", "compose", "--project-directory", "/opt/aistack", "-f", "compose.yml", "-f", "gpu.yml",
        "--env-file", "site.env", "-p", "aistack", "--profile", "*", "ps", "--all",
    ]
    assert cli.compose_version() == ["/usr/bin/docker", "compose", "version", "--format", "json"]


def test_compose_commands_run_the_plugin_directly_when_given():
    cli = ComposeCLI("/usr/bin/docker", plugin="/usr/libexec/docker/cli-plugins/docker-compose", project_src="/p")
    assert cli.compose("config")[:2] == ["/usr/libexec/docker/cli-plugins/docker-compose", "--project-directory"]
    assert cli.docker_cmd("image", "inspect", "x") == ["/usr/bin/docker", "image", "inspect", "x"]


def test_commands_run_side_by_side_keep_their_order(tmp_path):
    cli = ComposeCLI("docker", project_src=str(tmp_path))
    first, second = cli.run_many([["sh", "-c", "sleep 0.2; echo one"], ["sh", "-c", "echo two >&2; exit 3"]])
    assert (first.rc, first.stdout) == (0, "one\n")
    assert (second.rc, second.stderr) == (3, "two\n")


def test_error_drops_compose_progress_lines():
    stderr = " Network p_default  Creating\n Container p-web-1  Creating\nError response from daemon: no such image\n"
    assert Result(["x"], 1, "", stderr).error == "Error response from daemon: no such image"


def test_daemon_down_is_recognised():
    assert looks_like_daemon_down(
        "Cannot connect to the Docker daemon at unix:///run/none.sock. Is the docker daemon running?"
    )
    assert not looks_like_daemon_down("yaml: line 2: did not find expected ',' or ']'")
