"""compose_profile's own pieces: one look at the containers while waiting, and the check of Compose's hash labels
after `up` (the host port probe is tested in module_utils/test_host_ports.py)."""

import json

from ansible_collections.aistack.selfhosted.plugins.module_utils._compose_plan import Plan
from ansible_collections.aistack.selfhosted.plugins.module_utils._compose_project import Container, parse_inspect
from ansible_collections.aistack.selfhosted.plugins.modules import compose_profile


class FakeModule:
    def __init__(self, recreate="auto"):
        self.params = {"recreate": recreate}
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)


def profile_with(module):
    profile = compose_profile.ComposeProfile.__new__(compose_profile.ComposeProfile)
    profile.module = module
    profile.params = module.params
    profile.version = (2, 40, 3)
    return profile


def web(container_id, config_hash):
    return Container(container_id, "p-web-1", "web", state="running", health="", image="img",
                     config_hash=config_hash, image_id="sha256:x")


def test_check_hashes_warns_and_reports_what_compose_left_alone():
    module = FakeModule()
    plan = Plan(["web"])
    plan.add("web", "recreate", "configuration changed")
    before = [web("aaa", "compose-hash")]
    untouched = profile_with(module).check_hashes({"web": "module-hash"}, before, before, plan)
    assert untouched == {"web"}
    assert len(module.warnings) == 1
    assert module.warnings[0].startswith("compose_profile: service web: the configuration hash this module computes")
    assert "it did not" in module.warnings[0]


def test_check_hashes_is_silent_when_the_label_matches():
    module = FakeModule()
    plan = Plan(["web"])
    plan.add("web", "recreate", "configuration changed")
    untouched = profile_with(module).check_hashes({"web": "new"}, [web("aaa", "old")], [web("bbb", "new")], plan)
    assert untouched == set()
    assert module.warnings == []


def test_check_hashes_ignores_recreate_never():
    module = FakeModule(recreate="never")
    plan = Plan(["web"])
    plan.add("web", "start", "container is exited")
    profile_with(module).check_hashes({"web": "new"}, [], [web("aaa", "old")], plan)
    assert module.warnings == []


def runtime(container_id, status="running", *, restarts=0, started="10:00", health=None, healthcheck=False):
    state = {"Status": status, "Restarting": status == "restarting", "ExitCode": 1 if status == "exited" else 0,
             "StartedAt": started}
    if health:
        state["Health"] = {"Status": health, "Log": []}
    test = ["CMD", "true"] if healthcheck else []
    return {"Id": container_id, "RestartCount": restarts, "State": state, "Config": {"Healthcheck": {"Test": test}}}


def surveyor(monkeypatch, looks):
    """A profile whose `docker container inspect` answers from `looks`, one list of entries per look."""
    profile = profile_with(FakeModule())
    profile.raw_config = {"services": {"web": {}, "db": {}}}
    answers = iter(looks)
    monkeypatch.setattr(profile, "read_runtime", lambda _containers: parse_inspect(json.dumps(next(answers))))
    return profile


def test_one_look_fails_what_restarts_and_waits_for_a_first_health_result(monkeypatch):
    containers = [web("a" * 64, "h"), Container("b" * 64, "p-db-1", "db", state="running", health="", image="img",
                                                config_hash="h", image_id="x")]
    profile = surveyor(monkeypatch, [[runtime("a" * 64, "restarting"), runtime("b" * 64, healthcheck=True)]])
    failed, waiting, missing, _runtimes = profile.survey(["web", "db", "cache"], containers, set(), {})
    assert [(c.service, why) for c, _r, why in failed] == [("web", "restarting")]
    assert [(c.service, why) for c, _r, why in waiting] == [("db", "health: no result yet")]
    assert missing == ["cache"]


def test_what_this_run_started_must_stay_up_and_a_restart_since_the_first_look_fails(monkeypatch):
    clock = iter([100.0, 103.0, 104.0])
    monkeypatch.setattr(compose_profile.time, "monotonic", lambda: next(clock))
    profile = surveyor(monkeypatch, [[runtime("a" * 64)], [runtime("a" * 64)], [runtime("a" * 64, restarts=1)]])
    first_seen = {}
    containers = [web("a" * 64, "h")]
    assert [why for _c, _r, why in profile.survey(["web"], containers, {"web"}, first_seen)[1]] == [
        "running, not yet stable"]
    # Running unchanged for longer than STABLE_SECONDS: up.
    assert profile.survey(["web"], containers, {"web"}, first_seen)[:3] == ([], [], [])
    failed = profile.survey(["web"], containers, {"web"}, first_seen)[0]
    assert [why for _c, _r, why in failed] == ["restarting"]
