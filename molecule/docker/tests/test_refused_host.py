"""The Debian 12 host got only bad input: the role must have failed before changing anything."""

testinfra_hosts = ["ansible://refused_hosts"]


def test_no_docker_package_was_installed(host):
    for package in ("docker.io", "docker-ce", "docker-compose"):
        assert not host.package(package).is_installed, package


def test_no_repository_or_config_was_written(host):
    assert not host.file("/etc/apt/sources.list.d/docker.sources").exists
    assert not host.file("/etc/docker/daemon.json").exists
    assert not host.file("/etc/systemd/system/docker.service.d").exists
