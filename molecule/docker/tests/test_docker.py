"""What a user checks after the docker role ran: the engine works, Compose is v2,
containers run and publish ports, and the refused host was left untouched."""

import json

import pytest

testinfra_hosts = ["ansible://docker_hosts"]


def test_engine_runs_and_starts_at_boot(host):
    service = host.service("docker")
    assert service.is_running
    assert service.is_enabled
    assert host.run("docker info --format '{{.ServerVersion}}'").rc == 0


def test_compose_is_v2(host):
    version = host.check_output("docker compose version --short")
    assert version.lstrip("v").split(".")[0] == "2", version


def test_daemon_json_merges_role_options_with_existing_keys(host):
    config = json.loads(host.file("/etc/docker/daemon.json").content_string)
    # Set by the role:
    assert config["log-driver"] == "json-file"
    assert config["log-opts"] == {"max-size": "10m"}
    # Set before by "another role" (prepare.yml), kept, and merged below "features":
    assert config["runtimes"]["runc-alias"]["path"] == "/usr/sbin/runc"
    assert config["features"] == {"buildkit": True, "containerd-snapshotter": False}
    assert "runc-alias" in host.check_output("docker info --format '{{json .Runtimes}}'")


def test_dockerd_environment_comes_from_the_dropin(host):
    pid = host.check_output("systemctl show -p MainPID --value docker")
    environ = host.file(f"/proc/{pid}/environ").content.split(b"\0")
    assert b"DOCKER_ALLOW_IPV6_ON_IPV4_INTERFACE=1" in environ


def test_user_is_in_docker_group_and_can_use_docker(host):
    assert "docker" in host.user("tester").groups
    assert host.run("sudo -u tester docker ps").rc == 0


def test_offline_image_archive_was_loaded(host):
    assert host.run("docker image inspect aistack-test/tiny-web:test").rc == 0


@pytest.fixture
def web_container(host):
    name = "verify-tiny-web"
    host.run(f"docker rm -f {name}")
    host.check_output(f"docker run -d --name {name} -p 127.0.0.1:18080:8000 aistack-test/tiny-web:test")
    yield name
    host.run(f"docker rm -f {name}")


def test_container_with_published_port_answers(host, web_container):
    # Retry while the server inside starts.
    answer = host.run(
        "for i in $(seq 1 30); do curl -fsS http://127.0.0.1:18080/ && exit 0; sleep 0.5; done; exit 1"
    )
    assert answer.rc == 0, answer.stderr
    assert answer.stdout.strip() == "tiny-web ok"
    # Published on loopback only, as asked.
    ports = host.check_output(f"docker port {web_container} 8000")
    assert ports.strip() == "127.0.0.1:18080"
