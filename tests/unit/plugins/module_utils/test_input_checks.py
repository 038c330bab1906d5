"""The formats and rules of _input_checks, without Ansible's runtime."""

from __future__ import annotations

import pytest
from ansible_collections.aistack.selfhosted.plugins.module_utils import _input_checks as ic


@pytest.mark.parametrize(("kind", "value"), [
    ("port", 1), ("port", 65535), ("port", "8080"), ("ip", "192.0.2.1"), ("ipv6", "2001:db8::1"),
    ("host", "ollama.example.org"), ("duration", "5m"), ("duration", "1h30m"), ("duration", "-1"),
    ("duration", -1), ("duration", "0"), ("duration", "1.5h"), ("url", "http://qdrant:6333"),
    ("url", "https://[2001:db8::1]:8443/x"), ("email", "admin@localhost"), ("email", "a.b+c@example.org"),
    ("safe_path", "/srv/aistack/data"), ("safe_path", "/etc/aistack/secrets"), ("image", "ollama/ollama:0.34.2"),
    ("image", "localhost:5000/a/b:1.0"), ("image", "qdrant/qdrant@sha256:" + "a" * 64),
    ("model_name", "hf.co/org/model:Q4_K_M"), ("inventory_group", "inference"),
])
def test_good_values(kind, value):
    assert ic.check_format(kind, value, {"groups": {"inference": []}}) is None


@pytest.mark.parametrize(("kind", "value"), [
    ("port", 0), ("port", 65536), ("port", True), ("ipv4", "2001:db8::1"), ("ip", "300.1.1.1"),
    ("duration", "forever"), ("duration", "5M"), ("duration", ""), ("url", "qdrant:6333"), ("url", "http:///x"),
    ("email", "@example.org"), ("email", "a@-b"), ("safe_path", "/"), ("safe_path", "//"), ("safe_path", "/var/lib/"),
    ("safe_path", "relative"), ("image", ""), ("image", "UPPER/case:1"), ("model_name", "a:b:c"),
    ("inventory_group", "nowhere"),
])
def test_bad_values(kind, value):
    found = ic.check_format(kind, value, {"groups": {"inference": []}})
    assert found and found[0] == "error"


@pytest.mark.parametrize("image", ["ollama/ollama", "ollama/ollama:latest", "x/y:stable"])
def test_floating_tags_warn(image):
    assert ic.check_format("image", image)[0] == "warning"


def test_boolean_choices_take_ansible_strings():
    assert ic.same("yes", True) and ic.same("False", False) and not ic.same("maybe", True)
    assert not ic.same(True, "auto") and ic.same("auto", "auto")


def test_relations_and_ports():
    values = {"a": 5, "b": 5, "p": 80, "q": 80, "kv": "q8_0", "fa": None}
    problems = ic.run_checks(
        {"p": {"format": "port", "host_port": True}, "q": {"format": "port", "host_port": True}},
        [{"less_than": ["a", "b"]}, {"when": {"kv": ["q8_0"]}, "then": {"fa": {"choices": [True]}}}], values)
    assert [problem.name for problem in problems] == ["a", "fa", "q"]


def test_conditional_host_port():
    check = {"host_port": {"when": {"grpc": [True]}, "unless": {"exposure": ["internal"]}}}
    assert ic.host_port_active(check, {"grpc": True, "exposure": "public"})
    assert not ic.host_port_active(check, {"grpc": True, "exposure": "internal"})
    assert not ic.host_port_active(check, {"grpc": False, "exposure": "public"})


def test_unknown_variables_name_the_nearest():
    problems = ic.unknown_variables(["ollama_modles", "_ollama_x", "other_x", "ollama_models"], {"ollama_"},
                                    {"ollama_models", "ollama_port"})
    assert [str(problem) for problem in problems] == [
        "ollama_modles: is not a variable of any role (ollama_*): it is ignored; did you mean ollama_models?"]


def test_malformed_checks_are_a_spec_error():
    with pytest.raises(ic.SpecError, match="options.x.fromat"):
        ic.validate_checks("role", {"options": {"x": {"fromat": "port"}}})
    with pytest.raises(ic.SpecError, match="format=portt"):
        ic.validate_checks("role", {"options": {"x": {"format": "portt"}}})


def test_secret_values_never_shown():
    problems = ic.check_value("pw", "tiny", {"min_bytes": 8}, secret=True)
    assert "tiny" not in str(problems[0]) and "4 bytes" in str(problems[0])


def test_file_urls_only_where_the_file_scheme_is_accepted():
    schemes = ("http", "https", "file")
    assert ic._url("file:///srv/nvidia-repo/stable/deb", schemes) is None
    assert ic._url("file://localhost/srv/nvidia-repo/gpgkey", schemes) is None
    assert ic._url("file://mirror.example.org/srv/repo", schemes)[1].endswith("is not a file URL (file:///absolute/path)")
    assert "file:///absolute/path" in ic._url("file:relative/repo", schemes)[2]
    assert ic._url("file:///srv/nvidia-repo", ("http", "https"))[1].endswith("(scheme 'file')")
