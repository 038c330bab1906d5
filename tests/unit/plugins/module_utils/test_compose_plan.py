"""Plan computation on project states captured from Compose 2.26.1 and written after 5.5.0."""

import pathlib

import pytest
from ansible_collections.aistack.selfhosted.plugins.module_utils._compose_cli import ComposeError, parse_version
from ansible_collections.aistack.selfhosted.plugins.module_utils._compose_plan import (
    Plan,
    compute_plan,
    port_claims,
    predicted_running,
    running_images,
)
from ansible_collections.aistack.selfhosted.plugins.module_utils._compose_project import (
    Container,
    expected_hashes,
    load_config,
    parse_image_ids,
    parse_ps,
)

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "compose"
IMAGE = "aistack-test/tiny-web:test"


class Project:
    """The captured project: ai and data up, db stopped, web edited, trainer never created."""

    def __init__(self, release):
        def read(name):
            return (FIXTURES / release / name).read_text()

        version = parse_version(read("version.json"))
        _name, raw, self.services = load_config(read("config.json"))
        self.containers = parse_ps(read("ps.json"))
        self.hashes = expected_hashes(raw, version, read("config-hash.txt"))
        self.images = parse_image_ids(read("image-inspect.json"), [IMAGE])

    def plan(self, state, profiles, **kwargs):
        plan = compute_plan(
            state, self.services, self.containers, hashes=self.hashes, image_ids=self.images,
            profiles=profiles, **kwargs,
        )
        return [(a.service, a.action, a.reason) for a in plan.actions]

    def replace(self, service, **changes):
        for container in self.containers:
            if container.service == service:
                for key, value in changes.items():
                    setattr(container, key, value)


@pytest.fixture(params=["2.26.1", "5.5.0"])
def project(request):
    return Project(request.param)


def test_present_recreates_only_the_changed_service(project):
    assert project.plan("present", ["ai"]) == [("web", "recreate", "configuration changed")]


def test_present_starts_the_stopped_service_of_a_second_profile(project):
    assert project.plan("present", ["data"]) == [("db", "start", "container is exited")]


def test_present_creates_a_service_with_no_container(project):
    assert project.plan("present", ["train"]) == [("trainer", "create", "no container")]


def test_nothing_to_do_when_everything_is_up_to_date(project):
    project.replace("web", config_hash=project.hashes["web"])
    project.replace("db", state="running")
    assert project.plan("present", ["ai", "data"]) == []


def test_services_subset_limits_the_plan(project):
    assert project.plan("present", ["ai", "data"], only=["db"]) == [("db", "start", "container is exited")]


def test_dependencies_in_other_profiles_are_brought_up(project):
    project.containers = [c for c in project.containers if c.service != "vectors"]
    plan = project.plan("present", ["data"], only=["db"])
    assert plan == [("db", "start", "container is exited"), ("vectors", "create", "no container")]


def test_new_image_recreates(project):
    project.replace("web", config_hash=project.hashes["web"])
    project.images[IMAGE] = "sha256:" + "0" * 64
    assert ("web", "recreate", "image %s changed" % IMAGE) in project.plan("present", ["ai"])


def test_recreate_never_only_starts(project):
    assert project.plan("present", ["ai", "data"], recreate="never") == [("db", "start", "container is exited")]


def test_recreate_always_recreates_every_selected_service(project):
    actions = project.plan("present", ["ai"], recreate="always")
    assert [(a[0], a[1]) for a in actions] == [("vectors", "recreate"), ("web", "recreate")]


def test_absent_keeps_a_service_shared_with_a_running_profile(project):
    project.replace("db", state="running")
    assert project.plan("absent", ["ai"]) == [("web", "remove", "only profile(s) ai run it")]


def test_absent_removes_a_shared_service_when_no_other_profile_runs(project):
    project.containers = [c for c in project.containers if c.service != "db"]
    assert project.plan("absent", ["ai"]) == [
        ("vectors", "remove", "only profile(s) ai run it"),
        ("web", "remove", "only profile(s) ai run it"),
    ]


def test_absent_keeps_a_dependency_of_a_service_left_running(project):
    # vectors in ai only: no other profile keeps it, but db (data) stays running and
    # depends on it, so turning ai off must leave it alone.
    project.replace("db", state="running")
    project.services["vectors"].profiles = ("ai",)
    assert [a[0] for a in project.plan("absent", ["ai"])] == ["web"]


def test_absent_of_a_profile_with_no_containers_does_nothing(project):
    assert project.plan("absent", ["train"]) == []


def test_stopped_stops_only_running_selected_services(project):
    assert project.plan("stopped", ["data"]) == [("vectors", "stop", "state=stopped")]


def test_restarted_brings_up_what_is_missing_and_restarts_the_rest(project):
    actions = project.plan("restarted", ["ai"])
    assert actions == [("web", "recreate", "configuration changed"), ("vectors", "restart", "state=restarted")]


def test_unknown_profile_fails_listing_the_known_ones(project):
    with pytest.raises(ComposeError, match="unknown profile.*gpu.*the project defines ai, data, train"):
        project.plan("present", ["gpu"])


def test_service_outside_the_profiles_fails(project):
    with pytest.raises(ComposeError, match="service.*trainer not in profile.*ai.*which run: vectors, web"):
        project.plan("present", ["ai"], only=["trainer"])


def test_orphans_are_removed_only_when_asked(project):
    project.containers.append(Container(
        "f00", "aistack-old-1", "old", state="running", health="", image="x", config_hash="", image_id=""
    ))
    assert ("old", "remove", "orphan: the project files no longer define it") in project.plan(
        "present", ["ai"], remove_orphans=True
    )
    assert all(a[0] != "old" for a in project.plan("present", ["ai"]))


def test_diff_shows_running_services_and_image_ids_before_and_after(project):
    plan = compute_plan(
        "absent", project.services, project.containers, hashes=project.hashes, image_ids=project.images, profiles=["ai"]
    )
    image = "%s (%s)" % (IMAGE, project.images[IMAGE][:19])
    assert running_images(project.containers) == {"vectors": image, "web": image}
    assert predicted_running(project.services, project.containers, plan, project.images) == {}
    plan = compute_plan(
        "present", project.services, project.containers, hashes=project.hashes, image_ids=project.images,
        profiles=["train"],
    )
    after = predicted_running(project.services, project.containers, plan, project.images)
    assert after == {"trainer": image, "vectors": image, "web": image}


PORTS_RAW = {"services": {
    "open-webui": {"image": IMAGE, "ports": [{"host_ip": "127.0.0.1", "target": 8080, "published": "3000"}]},
    "ollama": {"image": IMAGE, "ports": [
        {"host_ip": "127.0.0.1", "target": 11434, "published": "11434"},
        {"target": 9000, "published": "9000", "protocol": "udp"},
    ]},
    "qdrant": {"image": IMAGE, "ports": [{"host_ip": "127.0.0.1", "target": 6333, "published": "6333"}]},
}}


def container(service, *, running=True, published=()):
    return Container(service[:4], service, service, state="running" if running else "exited", health="",
                     image=IMAGE, config_hash="h", image_id="sha256:x", published=published)


def test_port_claims_leave_out_the_ports_the_service_itself_holds():
    plan = Plan(sorted(PORTS_RAW["services"]))
    plan.add("open-webui", "recreate", "configuration changed")
    plan.add("ollama", "start", "container is exited")
    containers = [
        # open-webui holds its port: its recreate releases it.
        container("open-webui", published=[("127.0.0.1", 3000, "tcp")]),
        # ollama is stopped: it holds nothing; its UDP port is not probed.
        container("ollama", running=False),
        # qdrant is up to date: not part of the plan.
        container("qdrant"),
    ]
    assert port_claims(plan, PORTS_RAW, containers) == [("ollama", "127.0.0.1", 11434)]


def test_port_held_by_another_service_is_claimed():
    plan = Plan(["open-webui"])
    plan.add("open-webui", "create", "no container")
    containers = [container("qdrant", published=[("127.0.0.1", 3000, "tcp")])]
    assert port_claims(plan, PORTS_RAW, containers) == [("open-webui", "127.0.0.1", 3000)]
