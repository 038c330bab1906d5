"""What a user checks after the nvidia_container_toolkit role installed the toolkit (GPU mode
assumed on this GPU-less test host): the signed repository, the pinned packages, Docker with the
NVIDIA runtime and CDI enabled, and the docker role's own daemon.json keys kept."""

import json

testinfra_hosts = ["ansible://test_hosts"]


def test_the_repository_is_deb822_signed_by_its_key(host):
    sources = host.file("/etc/apt/sources.list.d/nvidia-container-toolkit.sources")
    assert sources.exists
    text = sources.content_string
    architecture = host.check_output("dpkg --print-architecture")
    assert f"URIs: file:///srv/nvidia-repo/stable/deb/{architecture}" in text
    assert "Suites: /" in text
    signed_by = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Signed-By:"))
    assert host.file(signed_by).exists
    # apt trusts it: no warning about an unsigned or unknown-key repository.
    update = host.run("apt-get update 2>&1")
    assert update.rc == 0, update.stdout
    assert "NO_PUBKEY" not in update.stdout and "not signed" not in update.stdout


def test_the_pinned_toolkit_is_installed(host):
    for name in ("nvidia-container-toolkit", "nvidia-container-toolkit-base"):
        package = host.package(name)
        assert package.is_installed
        assert package.version == "1.20.0-1"
    assert "1.20.0" in host.check_output("nvidia-ctk --version")
    assert host.file("/etc/nvidia-container-runtime/config.toml").exists


def test_docker_has_the_nvidia_runtime_and_cdi_and_keeps_the_docker_roles_keys(host):
    config = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert config["runtimes"]["nvidia"]["path"] == "nvidia-container-runtime"
    assert config["features"]["cdi"] is True
    assert config["log-driver"] == "json-file" and config["log-opts"] == {"max-size": "10m"}
    # The running engine read it: the handler restarted Docker.
    assert "nvidia" in host.check_output("docker info --format '{{json .Runtimes}}'")
    assert host.service("docker").is_running


def test_no_cdi_spec_without_a_real_gpu(host):
    # nvidia-ctk cdi generate needs the driver; with the GPU only assumed the role skips it.
    assert not host.file("/etc/cdi/nvidia.yaml").exists
