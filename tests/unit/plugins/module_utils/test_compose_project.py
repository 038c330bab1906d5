"""Reading Compose CLI JSON captured from Compose 2.26.1 and written after 5.5.0's source."""

import hashlib
import json
import pathlib

import pytest
from ansible_collections.aistack.selfhosted.plugins.module_utils._compose_cli import (
    ComposeError,
    check_version,
    parse_version,
)
from ansible_collections.aistack.selfhosted.plugins.module_utils._compose_project import (
    assess,
    defined_profiles,
    expected_hashes,
    load_config,
    parse_hash_lines,
    parse_image_ids,
    parse_inspect,
    parse_labels,
    parse_ps,
    published_ports,
    run_to_completion,
    service_hash,
    unescape_config,
)

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "compose"
RELEASES = ["2.26.1", "5.5.0"]


def read(release, name):
    return (FIXTURES / release / name).read_text()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"version":"2.26.1-4"}', (2, 26, 1)),
        ('{"version":"v5.5.0"}', (5, 5, 0)),
        ("Docker Compose version v2.40.3", (2, 40, 3)),
    ],
)
def test_version_is_read_from_debian_and_docker_builds(text, expected):
    assert parse_version(text) == expected


def test_version_older_than_minimum_fails_naming_both():
    with pytest.raises(ComposeError, match=r"2\.20\.3 is too old.*2\.26\.0"):
        check_version((2, 20, 3))
    check_version((2, 26, 1))


def test_unreadable_version_fails():
    with pytest.raises(ComposeError, match="cannot read the Compose version"):
        parse_version("docker: 'compose' is not a docker command.")


@pytest.mark.parametrize("release", RELEASES)
def test_config_gives_services_profiles_and_required_dependencies(release):
    name, _raw, services = load_config(read(release, "config.json"))
    assert name == "aistack"
    assert sorted(services) == ["db", "trainer", "vectors", "web"]
    assert services["vectors"].profiles == ("ai", "data")
    assert services["db"].depends_on == ("vectors",)
    assert services["web"].image == "aistack-test/tiny-web:test"
    assert defined_profiles(services) == ["ai", "data", "train"]


@pytest.mark.parametrize("release", RELEASES)
def test_ps_lines_give_state_health_and_labels(release):
    containers = {c.service: c for c in parse_ps(read(release, "ps.json"))}
    assert sorted(containers) == ["db", "vectors", "web"]
    assert containers["db"].state == "exited"
    assert not containers["db"].running
    assert containers["web"].health == "healthy"
    assert containers["web"].image_id.startswith("sha256:")
    assert len(containers["web"].config_hash) == 64


def test_ps_as_one_array_is_read_too():
    # Compose before 2.21 printed one JSON array of api.ContainerSummary, without labels.
    text = json.dumps(
        [{"ID": "abc", "Name": "p-web-1", "Image": "img", "Command": "", "Project": "p", "Service": "web",
          "Created": 1700000000, "State": "running", "Status": "Up", "Health": "", "ExitCode": 0, "Publishers": None}]
    )
    (container,) = parse_ps(text)
    assert (container.service, container.state, container.config_hash) == ("web", "running", "")


def test_empty_ps_means_no_containers():
    assert parse_ps("\n") == []


def test_label_values_with_commas_stay_whole():
    labels = parse_labels("a.b=1,com.docker.compose.project.config_files=/x/a.yml,/x/b.yml,c=3")
    assert labels == {"a.b": "1", "com.docker.compose.project.config_files": "/x/a.yml,/x/b.yml", "c": "3"}


@pytest.mark.parametrize("release", RELEASES)
def test_expected_hashes_match_labels_of_up_to_date_containers(release):
    version = parse_version(read(release, "version.json"))
    _name, raw, _services = load_config(read(release, "config.json"))
    hashes = expected_hashes(raw, version, read(release, "config-hash.txt"))
    labels = {c.service: c.config_hash for c in parse_ps(read(release, "ps.json"))}
    # db (env_file) and vectors are as `up` left them; web's environment was edited since.
    assert hashes["db"] == labels["db"]
    assert hashes["vectors"] == labels["vectors"]
    assert hashes["web"] != labels["web"]


def test_compose_2_26_hash_cli_disagrees_with_up_for_env_file_services():
    # Why the module computes hashes itself before 5.5.0: `config --hash` skips env_file.
    cli = parse_hash_lines(read("2.26.1", "config-hash.txt"))
    labels = {c.service: c.config_hash for c in parse_ps(read("2.26.1", "ps.json"))}
    assert cli["vectors"] == labels["vectors"]
    assert cli["db"] != labels["db"]


def test_hash_drops_depends_on_and_profiles_only_from_the_releases_that_do():
    svc = {"profiles": ["ai"], "depends_on": {"x": {"condition": "service_started", "required": True}}, "image": "i"}
    old, mid, new = (service_hash(svc, v) for v in ((2, 26, 1), (2, 29, 3), (2, 30, 2)))
    assert len({old, mid, new}) == 3
    assert new == service_hash({"image": "i"}, (2, 30, 2))


def test_hash_ignores_build_pull_policy_scale_and_replicas():
    base = {"image": "i", "deploy": {"resources": {}}}
    noisy = {"build": {"context": "."}, "image": "i", "pull_policy": "always", "scale": 3,
             "deploy": {"replicas": 3, "resources": {}}}
    assert service_hash(base, (2, 26, 1)) == service_hash(noisy, (2, 26, 1))


def test_hash_escapes_html_characters_as_go_does():
    # Go's json.Marshal writes <, > and & as \u003c, \u003e, \u0026.
    expected = hashlib.sha256(b'{"command":["echo","\\u003ca\\u0026b\\u003e"]}').hexdigest()
    assert service_hash({"command": ["echo", "<a&b>"]}, (2, 26, 1)) == expected


@pytest.mark.parametrize("release", RELEASES)
def test_image_ids_by_reference_and_absent_images_are_none(release):
    ids = parse_image_ids(read(release, "image-inspect.json"), ["aistack-test/tiny-web:test", "missing:1"])
    assert ids["aistack-test/tiny-web:test"].startswith("sha256:")
    assert ids["missing:1"] is None


def test_image_without_tag_means_latest():
    text = json.dumps([{"Id": "sha256:1", "RepoTags": ["busybox:latest"], "RepoDigests": []}])
    assert parse_image_ids(text, ["busybox"]) == {"busybox": "sha256:1"}


DOLLAR_LABEL = "177269d8ee35a75f264ec0e7b9b5b7cf88b2326de131a1b861c78545cf81aa57"


@pytest.mark.parametrize("version", [(2, 26, 1), (2, 40, 3)])
def test_dollar_escape_is_turned_back_before_hashing(version):
    # `config` prints `$(echo hi)` as `$$(echo hi)`; `up` hashes the model with the single `$`.
    text = (FIXTURES / "dollar" / "config.json").read_text()
    assert '$$(echo hi)' in text
    _name, raw, _services = load_config(text)
    assert raw["services"]["a"]["command"][2].startswith('export X="$(echo hi)"; echo $X;')
    assert raw["services"]["a"]["environment"] == {"E": "a$b"}
    assert service_hash(raw["services"]["a"], version) == DOLLAR_LABEL


def test_unescape_is_the_exact_inverse_of_doubling():
    for model in ["$", "$$", "a$b$$c", "$$$", "no dollar"]:
        assert unescape_config(model.replace("$", "$$")) == model


def test_published_ports_long_form():
    raw = {"ports": [
        {"host_ip": "127.0.0.1", "target": 8080, "published": "3000", "protocol": "tcp", "mode": "ingress"},
        {"target": 8000, "published": "9000-9001", "protocol": "tcp"},
        {"host_ip": "127.0.0.1", "target": 8000, "protocol": "tcp"},
        {"host_ip": "::1", "target": 53, "published": "5353", "protocol": "udp"},
    ]}
    assert published_ports(raw) == [
        ("127.0.0.1", 3000, "tcp"), ("0.0.0.0", 9000, "tcp"), ("0.0.0.0", 9001, "tcp"), ("::1", 5353, "udp"),
    ]
    assert published_ports({}) == []


def test_ps_publishers_are_read():
    publishers = [
        {"URL": "127.0.0.1", "TargetPort": 8000, "PublishedPort": 3000, "Protocol": "tcp"},
        {"URL": "", "TargetPort": 9000, "PublishedPort": 0, "Protocol": "tcp"},
    ]
    line = json.dumps({"ID": "abc", "Service": "web", "State": "running", "Labels": "", "Publishers": publishers})
    assert parse_ps(line)[0].published == (("127.0.0.1", 3000, "tcp"),)


def inspect_entry(status, *, restarting=False, exit_code=0, restarts=0, test=("CMD", "true"), health=None):
    state = {"Status": status, "Restarting": restarting, "ExitCode": exit_code, "StartedAt": "2026-12-02T10:00:00Z"}
    if health is not None:
        state["Health"] = {"Status": health, "Log": [{"Output": "probe said no\n"}]}
    config = {"Healthcheck": {"Test": list(test)}} if test is not None else {}
    return {"Id": "f" * 64, "RestartCount": restarts, "State": state, "Config": config}


def runtime_of(**kwargs):
    return parse_inspect(json.dumps([inspect_entry(**kwargs)]))["f" * 12]


@pytest.mark.parametrize(
    ("kwargs", "verdict"),
    [
        ({"status": "running", "health": "healthy"}, ("ready", None)),
        ({"status": "running", "health": "starting"}, ("waiting", "health: starting")),
        # A healthcheck without a result yet is not healthy.
        ({"status": "running"}, ("waiting", "health: no result yet")),
        ({"status": "running", "health": "unhealthy"}, ("failed", "unhealthy")),
        ({"status": "running", "test": ("NONE",)}, ("ready", None)),
        ({"status": "running", "test": None}, ("ready", None)),
        ({"status": "restarting", "restarting": True, "exit_code": 1, "test": None}, ("failed", "restarting")),
        ({"status": "exited", "exit_code": 1}, ("failed", "exited")),
        ({"status": "exited", "exit_code": 0}, ("failed", "exited")),
        ({"status": "dead"}, ("failed", "dead")),
        ({"status": "created", "test": None}, ("waiting", "created")),
    ],
)
def test_assess(kwargs, verdict):
    assert assess(runtime_of(**kwargs)) == verdict


def test_assess_stability_restarts_and_run_to_completion():
    plain = runtime_of(status="running", test=None)
    assert assess(plain, stable=False) == ("waiting", "running, not yet stable")
    crashed_since = runtime_of(status="running", test=None, restarts=2)
    assert assess(crashed_since, first_seen=plain) == ("failed", "restarting")
    done = runtime_of(status="exited", exit_code=0)
    assert assess(done, may_exit=True) == ("ready", None)
    assert assess(runtime_of(status="exited", exit_code=3), may_exit=True) == ("failed", "exited")


def test_runtime_describe_names_state_exit_code_restarts_and_health():
    crash = runtime_of(status="restarting", restarting=True, exit_code=1, restarts=3, test=None)
    assert crash.describe() == "state: restarting, exit code 1, restarted 3 times, health: no healthcheck"
    sick = runtime_of(status="running", health="unhealthy")
    assert sick.describe() == "state: running, health: unhealthy"
    assert sick.last_check == "probe said no"


def test_run_to_completion():
    raw = {"services": {"app": {"depends_on": {"init": {"condition": "service_completed_successfully"},
                                               "db": {"condition": "service_healthy"}}},
                        "init": {}, "db": {}}}
    assert run_to_completion(raw) == {"init"}
