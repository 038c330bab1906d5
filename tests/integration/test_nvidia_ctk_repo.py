"""The nvidia_container_toolkit role's test repository (scripts/build-nvidia-ctk-repo.sh): a local
signed apt repository laid out like NVIDIA's, used by apt in a throwaway Debian 13 container as the
role will use it: deb822 source with Signed-By, `apt-get update` with no other source, the pinned
install, `nvidia-ctk runtime configure --runtime=docker` twice; a wrong key and an unsigned copy
refused. Skipped, with the reason, where the repository was not built (it needs NVIDIA's source).
"""

import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import tempfile

import pytest

pytestmark = pytest.mark.docker
IMAGE = "aistack-test/debian:trixie"
# As scripts/lib.sh sets CACHE_DIR.
CACHE_DIR = pathlib.Path(
    os.environ.get("AISTACK_CACHE_DIR")
    or pathlib.Path(os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache") / "aistack")
REPO = CACHE_DIR / "nvidia-ctk-repo"
SKIP_MARKER = CACHE_DIR / "nvidia-ctk-repo.skipped"
KEYRING = "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg"

# Runs in the container, the repository mounted at /srv/nvidia-repo, results written to /out.
CHECK = r"""
set -u
url=file:///srv/nvidia-repo/stable/deb/$ARCH
write_source() {  # write_source FILE URI KEYRING
  printf 'Types: deb\nURIs: %s\nSuites: /\nSigned-By: %s\n' "$2" "$3" > "$1"
}
isolated() {  # isolated NAME: apt options reading only /tmp/NAME/parts, lists in /tmp/NAME/lists
  mkdir -p "/tmp/$1/parts" "/tmp/$1/lists/partial"
  echo "-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=/tmp/$1/parts -o Dir::State::Lists=/tmp/$1/lists"
}
rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*
gpg --dearmor < /srv/nvidia-repo/gpgkey > "$KEYRING"

# A wrong key (Debian's archive keyring): apt must refuse the repository.
o=$(isolated wrong)
write_source /tmp/wrong/parts/nvidia.sources "$url" /usr/share/keyrings/debian-archive-keyring.gpg
apt-get $o update > /out/wrong-key.log 2>&1; echo $? > /out/wrong-key.rc
apt-get $o install -y nvidia-container-toolkit > /out/wrong-key-install.log 2>&1; echo $? > /out/wrong-key-install.rc

# An unsigned copy (no InRelease, no Release.gpg): refused too.
cp -r "/srv/nvidia-repo/stable/deb/$ARCH" /tmp/unsigned-repo
rm /tmp/unsigned-repo/InRelease /tmp/unsigned-repo/Release.gpg
chmod -R a+rX /tmp/unsigned-repo
o=$(isolated unsigned)
write_source /tmp/unsigned/parts/nvidia.sources file:///tmp/unsigned-repo "$KEYRING"
apt-get $o update > /out/unsigned.log 2>&1; echo $? > /out/unsigned.rc

# As the role does it, with no other source.
write_source /etc/apt/sources.list.d/nvidia-container-toolkit.sources "$url" "$KEYRING"
apt-get update > /out/update.log 2>&1; echo $? > /out/update.rc
DEBIAN_FRONTEND=noninteractive apt-get install -y "nvidia-container-toolkit=$VERSION" > /out/install.log 2>&1
echo $? > /out/install.rc
dpkg-query -W -f='${Package} ${Version} ${db:Status-Abbrev}\n' nvidia-container-toolkit nvidia-container-toolkit-base \
  > /out/dpkg.txt 2>&1
nvidia-ctk --version > /out/version.txt 2>&1
readlink /usr/bin/nvidia-container-toolkit > /out/symlink.txt 2>&1
cp /etc/nvidia-container-runtime/config.toml /out/config.toml 2>/dev/null
for run in 1 2; do
  nvidia-ctk runtime configure --runtime=docker > /out/configure$run.log 2>&1; echo $? > /out/configure$run.rc
  cp /etc/docker/daemon.json /out/daemon$run.json 2>/dev/null
done
chmod -R a+rX /out
"""


@pytest.fixture(scope="module")
def repo():
    """(version, architecture) of the built repository; a skip with the reason where there is none."""
    stamp = REPO / ".recipe"
    if not stamp.is_file():
        if SKIP_MARKER.is_file():
            pytest.skip(SKIP_MARKER.read_text().strip())
        pytest.skip(f"{REPO} is not built: run scripts/build-nvidia-ctk-repo.sh with NVIDIA_CTK_SOURCE set")
    base = dict(item.split("=", 1) for line in stamp.read_text().splitlines()
                if line.startswith("base=") for item in line[len("base="):].split())
    return f"{base['version']}-1", base["arch"]


@pytest.fixture(scope="module")
def results(repo, docker_engine):
    """Run CHECK once in a throwaway container; the files it wrote, by name."""
    version, arch = repo
    if subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True, check=False).returncode != 0:
        pytest.fail(f"image {IMAGE} missing: run `make images`", pytrace=False)
    out = pathlib.Path(tempfile.mkdtemp(prefix="nvidia-ctk-repo-it-"))
    proc = subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "bash",
         "-e", f"ARCH={arch}", "-e", f"VERSION={version}", "-e", f"KEYRING={KEYRING}",
         "-v", f"{REPO}:/srv/nvidia-repo:ro", "-v", f"{out}:/out", IMAGE, "-c", CHECK],
        capture_output=True, text=True, timeout=120, check=False)
    try:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        files = {path.name: path.read_text() for path in out.iterdir()}
        files.update({f"{path.name}.sha256": hashlib.sha256(path.read_bytes()).hexdigest()
                      for path in out.glob("daemon*.json")})
    finally:
        shutil.rmtree(out, ignore_errors=True)
    files["version"] = version
    return files


def test_the_repository_is_laid_out_like_nvidias(repo):
    version, arch = repo
    pool = REPO / "stable" / "deb" / arch
    debs = [f"{name}_{version}_{arch}.deb" for name in ("nvidia-container-toolkit", "nvidia-container-toolkit-base")]
    for name in ("Packages", "Packages.gz", "Release", "InRelease", "Release.gpg", *debs):
        assert (pool / name).is_file(), name
    assert (REPO / "gpgkey").read_text().startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    release = (pool / "Release").read_text()
    assert f"Architectures: {arch}\n" in release
    assert hashlib.sha256((pool / "Packages").read_bytes()).hexdigest() in release


def test_apt_verifies_the_signature(results):
    log = results["update.log"]
    assert results["update.rc"].strip() == "0", log
    for bad in ("NO_PUBKEY", "not signed", "insecure", "W:", "E:"):
        assert bad not in log, log


def test_a_wrong_key_is_refused(results):
    assert results["wrong-key.rc"].strip() != "0", results["wrong-key.log"]
    assert "is not signed" in results["wrong-key.log"], results["wrong-key.log"]
    assert results["wrong-key-install.rc"].strip() != "0", results["wrong-key-install.log"]


def test_an_unsigned_repository_is_refused(results):
    assert results["unsigned.rc"].strip() != "0", results["unsigned.log"]
    assert "is not signed" in results["unsigned.log"], results["unsigned.log"]


def test_the_pinned_install_brings_both_packages(results):
    version = results["version"]
    assert results["install.rc"].strip() == "0", results["install.log"]
    assert results["dpkg.txt"].splitlines() == [
        f"nvidia-container-toolkit {version} ii ", f"nvidia-container-toolkit-base {version} ii "], results["dpkg.txt"]
    assert results["version.txt"].startswith(f"NVIDIA Container Toolkit CLI version {version.rsplit('-', 1)[0]}\n")
    assert results["symlink.txt"].strip() == "/usr/bin/nvidia-container-runtime-hook"  # NVIDIA's postinst


def test_the_postinst_wrote_the_runtime_config(results):
    config = results.get("config.toml", "")
    assert "[nvidia-container-runtime]" in config, "no /etc/nvidia-container-runtime/config.toml"


def test_runtime_configure_writes_daemon_json_once(results):
    assert results["configure1.rc"].strip() == "0", results["configure1.log"]
    assert json.loads(results["daemon1.json"])["runtimes"]["nvidia"]["path"] == "nvidia-container-runtime"
    assert results["configure2.rc"].strip() == "0", results["configure2.log"]
    assert results["daemon1.json.sha256"] == results["daemon2.json.sha256"], (
        results["daemon1.json"], results["daemon2.json"])
