"""service_files: directories, secrets (given, kept, generated, moved from a legacy path) and removals in one run."""

import base64
import grp
import json
import os
import pwd
import stat
import subprocess
import sys

from ansible_collections.aistack.selfhosted.plugins.modules import service_files

OWNER = pwd.getpwuid(os.geteuid()).pw_name
GROUP = grp.getgrgid(os.getegid()).gr_name


def run_module(check_mode=False, **params):
    for entry in params.get("directories", []) + params.get("secrets", []):
        entry.setdefault("owner", OWNER)
        entry.setdefault("group", GROUP)
    args = {"ANSIBLE_MODULE_ARGS": {**params, "_ansible_check_mode": check_mode}}
    proc = subprocess.run([sys.executable, service_files.__file__], input=json.dumps(args),
                          capture_output=True, text=True, check=False)
    return json.loads(proc.stdout)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_creates_directories_with_parents_then_changes_nothing(tmp_path):
    target = tmp_path / "a" / "b"
    params = {"directories": [{"path": str(target), "mode": "0750"}]}
    result = run_module(**params)
    assert result["changed"] is True
    assert result["changes"] == [f"created {tmp_path / 'a'}", f"created {target}"]
    assert mode(target) == 0o750 and mode(tmp_path / "a") == 0o750
    assert run_module(**params)["changed"] is False


def test_fixes_the_mode_of_an_existing_directory(tmp_path):
    (tmp_path / "d").mkdir(mode=0o777)
    os.chmod(tmp_path / "d", 0o777)
    result = run_module(directories=[{"path": str(tmp_path / "d"), "mode": "0700"}])
    assert result["changed"] is True
    assert mode(tmp_path / "d") == 0o700


def test_follows_a_symlinked_directory(tmp_path):
    (tmp_path / "real").mkdir(mode=0o755)
    os.chmod(tmp_path / "real", 0o755)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    params = {"directories": [{"path": str(tmp_path / "link"), "mode": "0755"}]}
    assert run_module(**params)["changed"] is False
    assert run_module(**params)["changed"] is False


def test_generates_a_secret_once_keeps_it_and_reads_it(tmp_path):
    path = tmp_path / "secrets" / "owner" / "key"
    params = {"secrets": [{"path": str(path), "read": True}]}
    first = run_module(**params)
    assert first["changed"] is True
    value = path.read_text()
    assert len(value) == 40 and value.isalnum()
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert base64.b64decode(first["secrets"][0]["content"]).decode() == value
    second = run_module(**params)
    assert second["changed"] is False
    assert path.read_text() == value


def test_a_given_value_replaces_the_file_and_is_never_returned_in_clear(tmp_path):
    path = tmp_path / "owner" / "key"
    path.parent.mkdir(mode=0o700)
    path.write_text("old")
    os.chmod(path, 0o600)
    result = run_module(secrets=[{"path": str(path), "value": "s3cret-value", "read": True}])
    assert result["changed"] is True
    assert path.read_text() == "s3cret-value"
    assert "s3cret-value" not in json.dumps(result)
    assert run_module(secrets=[{"path": str(path), "value": "s3cret-value"}])["changed"] is False


def test_moves_a_legacy_secret_once(tmp_path):
    legacy = tmp_path / "old_key"
    legacy.write_text("kept")
    path = tmp_path / "owner" / "key"
    params = {"secrets": [{"path": str(path), "legacy_path": str(legacy)}]}
    assert run_module(**params)["changed"] is True
    assert path.read_text() == "kept" and not legacy.exists()
    assert mode(path) == 0o600
    assert run_module(**params)["changed"] is False


def test_check_mode_reports_and_writes_nothing(tmp_path):
    path = tmp_path / "new" / "owner" / "key"
    params = {"directories": [{"path": str(tmp_path / "new"), "mode": "0700"}],
              "secrets": [{"path": str(path), "read": True}], "absent": []}
    result = run_module(check_mode=True, **params)
    assert result["changed"] is True
    assert "content" not in result["secrets"][0]
    assert not (tmp_path / "new").exists()


def test_removes_absent_paths(tmp_path):
    (tmp_path / "gone").write_text("x")
    result = run_module(absent=[str(tmp_path / "gone"), str(tmp_path / "never")])
    assert result["changed"] is True and result["changes"] == [f"removed {tmp_path / 'gone'}"]
    assert not (tmp_path / "gone").exists()
    assert run_module(absent=[str(tmp_path / "gone")])["changed"] is False


def test_a_file_in_the_way_of_a_directory_fails(tmp_path):
    (tmp_path / "f").write_text("x")
    result = run_module(directories=[{"path": str(tmp_path / "f")}])
    assert result["failed"] is True and "is not a directory" in result["msg"]
