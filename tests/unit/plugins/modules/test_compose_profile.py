"""compose_profile's own pieces: the check of Compose's hash labels after `up` (the host port probe is tested in
module_utils/test_host_ports.py)."""

from ansible_collections.aistack.selfhosted.plugins.module_utils._compose_plan import Plan
from ansible_collections.aistack.selfhosted.plugins.module_utils._compose_project import Container
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
