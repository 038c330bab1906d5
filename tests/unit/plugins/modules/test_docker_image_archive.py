"""docker_image_archive: read `docker save` manifests of both layouts, load only what is missing."""

import io
import json
import os
import stat
import subprocess
import sys
import tarfile

import pytest
from ansible_collections.aistack.selfhosted.plugins.modules import docker_image_archive

ID_A = "a" * 64
ID_B = "b" * 64


def write_archive(path, manifest, compress=False):
    with tarfile.open(path, "w:gz" if compress else "w") as archive:
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return str(path)


def test_reads_legacy_layout(tmp_path):
    # Docker before 25 names the config "<id>.json".
    path = write_archive(tmp_path / "a.tar", [{"Config": f"{ID_A}.json", "RepoTags": ["web:1", "web:latest"]}])
    assert docker_image_archive.read_manifest(path) == [("web:1", f"sha256:{ID_A}"), ("web:latest", f"sha256:{ID_A}")]


def test_reads_oci_layout_compressed_and_untagged(tmp_path):
    # Docker 25+ writes an OCI layout: "blobs/sha256/<id>"; untagged images have RepoTags null.
    manifest = [{"Config": f"blobs/sha256/{ID_B}", "RepoTags": None}]
    path = write_archive(tmp_path / "b.tar.gz", manifest, compress=True)
    assert docker_image_archive.read_manifest(path) == [(None, f"sha256:{ID_B}")]


FAKE_DOCKER = """#!/bin/sh
# A fake docker CLI: `image inspect` answers from $STATE (lines "name id"); `load` appends a log line.
case "$1 $2" in
  "image inspect") ref="$5"; line=$(grep "^$ref " "$STATE") || exit 1; echo "${line#* }";;
  "load --input") echo "load $3" >> "$STATE.log";;
  *) exit 2;;
esac
"""


def run_module(tmp_path, archive, known_images, check_mode=False, paths=None):
    fake = tmp_path / "docker"
    fake.write_text(FAKE_DOCKER)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    state = tmp_path / "state"
    state.write_text("".join(f"{name} {image_id}\n" for name, image_id in known_images))
    target = {key: value for key, value in (("path", archive), ("paths", paths)) if value is not None}
    args = {"ANSIBLE_MODULE_ARGS": {**target, "docker_cli": str(fake), "_ansible_check_mode": check_mode}}
    module_file = docker_image_archive.__file__
    proc = subprocess.run(
        [sys.executable, module_file], input=json.dumps(args), capture_output=True, text=True,
        env={**os.environ, "STATE": str(state)}, check=False,
    )
    result = json.loads(proc.stdout)
    loads = (tmp_path / "state.log").read_text().splitlines() if (tmp_path / "state.log").exists() else []
    return result, loads


@pytest.fixture
def archive(tmp_path):
    return write_archive(tmp_path / "web.tar", [{"Config": f"{ID_A}.json", "RepoTags": ["web:1"]}])


def test_loads_a_missing_image(tmp_path, archive):
    result, loads = run_module(tmp_path, archive, known_images=[])
    assert result["changed"] is True
    assert result["loaded"] == ["web:1"]
    assert loads == [f"load {archive}"]


def test_same_image_already_there_changes_nothing(tmp_path, archive):
    result, loads = run_module(tmp_path, archive, known_images=[("web:1", f"sha256:{ID_A}")])
    assert result["changed"] is False
    assert result["loaded"] == []
    assert loads == []


def test_tag_pointing_at_another_image_is_reloaded(tmp_path, archive):
    result, loads = run_module(tmp_path, archive, known_images=[("web:1", f"sha256:{ID_B}")])
    assert result["changed"] is True
    assert result["images"][0]["engine_id_before"] == f"sha256:{ID_B}"
    assert len(loads) == 1


def test_check_mode_reports_without_loading(tmp_path, archive):
    result, loads = run_module(tmp_path, archive, known_images=[], check_mode=True)
    assert result["changed"] is True
    assert loads == []


def test_not_an_archive_fails_clearly(tmp_path):
    bogus = tmp_path / "bogus.tar"
    bogus.write_text("not a tar")
    result, loads = run_module(tmp_path, str(bogus), known_images=[])
    assert loads == []
    assert result["failed"] is True
    assert "is not an archive written by `docker save`" in result["msg"]


def test_several_archives_in_one_run_load_only_what_is_missing(tmp_path, archive):
    other = write_archive(tmp_path / "db.tar", [{"Config": f"blobs/sha256/{ID_B}", "RepoTags": ["db:2"]}])
    result, loads = run_module(tmp_path, None, known_images=[("web:1", f"sha256:{ID_A}")], paths=[archive, other])
    assert result["changed"] is True
    assert result["loaded"] == ["db:2"]
    assert [image["archive"] for image in result["images"]] == [archive, other]
    assert loads == [f"load {other}"]


def test_path_and_paths_are_exclusive(tmp_path, archive):
    result, loads = run_module(tmp_path, archive, known_images=[], paths=[archive])
    assert result["failed"] is True
    assert loads == []
