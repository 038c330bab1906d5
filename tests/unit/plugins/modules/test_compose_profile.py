"""compose_profile's own pieces: the host port probe and the check of Compose's hash labels after `up`."""

import socket

from ansible_collections.aistack.selfhosted.plugins.module_utils._compose_plan import Plan
from ansible_collections.aistack.selfhosted.plugins.module_utils._compose_project import Container
from ansible_collections.aistack.selfhosted.plugins.modules import compose_profile


def test_port_in_use_only_when_another_socket_holds_it():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        busy = listener.getsockname()[1]
        assert compose_profile.port_in_use("127.0.0.1", busy)
        # Every address (0.0.0.0) includes the one held.
        assert compose_profile.port_in_use("0.0.0.0", busy)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    assert not compose_profile.port_in_use("127.0.0.1", free)
    # An address this host does not have is Docker's to refuse, not a clash.
    assert not compose_profile.port_in_use("192.0.2.1", free)


def test_connections_that_just_closed_do_not_hold_the_port():
    """A service's port right after `compose down`: TIME_WAIT sockets only, free for Docker."""
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _peer = server.accept()
        accepted.close()  # the server side closes first: its end stays in TIME_WAIT
        client.close()
    assert not compose_profile.port_in_use("127.0.0.1", port)


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
