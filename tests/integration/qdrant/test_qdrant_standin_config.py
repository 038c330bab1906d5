"""How the Qdrant test double reads its configuration (no server needed)."""

import sys

import pytest
from qdrant_standin import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "tests" / "standins" / "qdrant"))
from qdrant_config import ConfigError, load_settings, parse_yaml_subset  # noqa: E402


def test_nested_mappings_scalars_and_comments():
    text = (
        "# comment\nlog_level: INFO\nservice:\n  api_key: 'se#cret'  # trailing comment\n  http_port: 6333\n"
        "  enable_tls: false\nstorage:\n  storage_path: ./storage\n  optimizers:\n    deleted_threshold: 0.2\n"
        "  nothing: ~\ncluster: {}\n"
    )
    assert parse_yaml_subset(text) == {
        "log_level": "INFO",
        "service": {"api_key": "se#cret", "http_port": 6333, "enable_tls": False},
        "storage": {"storage_path": "./storage", "optimizers": {"deleted_threshold": 0.2}, "nothing": None},
        "cluster": {},
    }


@pytest.mark.parametrize("text", ["hosts:\n  - a\n", "service: {api_key: x}\n", "key: |\n  text\n", "no colon\n"])
def test_yaml_outside_the_subset_fails_with_the_line(text):
    with pytest.raises(ConfigError, match=r"test\.yaml:\d+"):
        parse_yaml_subset(text, "test.yaml")


def test_sources_in_the_real_order(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text("service:\n  http_port: 1111\n  api_key: base\n")
    (tmp_path / "config" / "production.yaml").write_text("service:\n  api_key: production\n")
    extra = tmp_path / "extra.json"
    extra.write_text('{"storage": {"snapshots_path": "/elsewhere"}}')
    environ = {"RUN_MODE": "production", "QDRANT__SERVICE__HTTP_PORT": "2222"}
    settings = load_settings(str(tmp_path), str(extra), environ)
    assert settings["service"]["api_key"] == "production"
    assert settings["service"]["http_port"] == 2222
    assert settings["storage"]["snapshots_path"] == "/elsewhere"
    assert settings["storage"]["storage_path"] == str(tmp_path / "storage")


def test_development_mode_skips_production_yaml(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "production.yaml").write_text("service:\n  api_key: production\n")
    assert load_settings(str(tmp_path), None, {})["service"]["api_key"] is None
