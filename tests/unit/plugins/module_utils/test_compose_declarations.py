"""compose_apply_plan: which services the host's project runs, which it removes, how ports publish."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.aistack.selfhosted.plugins.filter.compose_apply_plan import compose_apply_plan

ADDRESSES = {"loopback": "127.0.0.1", "private": "10.0.0.5", "public": "0.0.0.0"}


def service(name, profile="ai", stack="inference", *, ports=(), fragment=True, secrets_read=()):
    return {"name": name, "profile": profile, "stack": stack, "fragment": fragment,
            "ports": list(ports), "secrets_read": list(secrets_read)}


def port(host, container, exposure):
    return {"name": "p", "host": host, "container": container, "exposure": exposure}


def test_declared_services_are_included_with_their_profiles_and_ports():
    plan = compose_apply_plan(
        {"ollama": service("ollama", ports=[port(11434, 11434, "private")]),
         "qdrant": service("qdrant", "data", ports=[port(6333, 6333, "internal")],
                           secrets_read=["qdrant/config.yaml"])},
        addresses=ADDRESSES,
    )
    assert list(plan["services"]) == ["ollama", "qdrant"]
    assert plan["services"]["ollama"]["publish"] == [("10.0.0.5", 11434, 11434)]
    assert plan["services"]["qdrant"]["publish"] == []
    assert plan["profiles"] == ["ai", "data"]
    assert plan["secrets_read"] == ["qdrant/config.yaml"]
    assert "publish" not in plan["declarations"]["ollama"]


def test_a_service_of_the_same_stack_no_longer_declared_is_removed():
    live = {"open-webui": service("open-webui"), "ollama": service("ollama")}
    plan = compose_apply_plan({"ollama": service("ollama")}, live=live, stack="inference", addresses=ADDRESSES)
    assert list(plan["services"]) == ["ollama"]
    assert plan["removed"] == ["open-webui"]


def test_services_of_other_stacks_and_a_role_used_alone_keep_what_runs():
    live = {"node-exporter": service("node-exporter", "obs", stack="monitoring"), "qdrant": service("qdrant", "data")}
    plan = compose_apply_plan({"ollama": service("ollama")}, live=live, stack="inference", addresses=ADDRESSES)
    assert list(plan["services"]) == ["node-exporter", "ollama"]
    alone = compose_apply_plan({"ollama": service("ollama", stack="")}, live=live, stack="", addresses=ADDRESSES)
    assert list(alone["services"]) == ["node-exporter", "ollama", "qdrant"]
    assert alone["removed"] == []


def test_a_service_declared_without_fragment_leaves_the_project():
    live = {"ollama": service("ollama")}
    plan = compose_apply_plan({"ollama": service("ollama", fragment=False)}, live=live, stack="", addresses=ADDRESSES)
    assert plan["services"] == {}
    assert plan["removed"] == ["ollama"]


def test_two_services_on_one_host_port_fail_before_anything_changes():
    declared = {"a": service("a", ports=[port(3000, 8080, "loopback")]),
                "b": service("b", ports=[port(3000, 80, "public")])}
    with pytest.raises(AnsibleFilterError, match="both publish port 3000"):
        compose_apply_plan(declared, addresses=ADDRESSES)


def test_the_same_port_on_two_distinct_addresses_is_fine():
    declared = {"a": service("a", ports=[port(3000, 8080, "loopback")]),
                "b": service("b", ports=[port(3000, 80, "private")])}
    assert compose_apply_plan(declared, addresses=ADDRESSES)["services"]["b"]["publish"] == [("10.0.0.5", 3000, 80)]


def test_a_private_port_without_private_address_fails_saying_what_to_set():
    declared = {"a": service("a", ports=[port(3000, 8080, "private")])}
    with pytest.raises(AnsibleFilterError, match="set aistack_private_address"):
        compose_apply_plan(declared, addresses={**ADDRESSES, "private": ""})


def test_an_unknown_exposure_is_refused():
    with pytest.raises(AnsibleFilterError, match="not one of internal, loopback, private, public"):
        compose_apply_plan({"a": service("a", ports=[port(1, 1, "world")])}, addresses=ADDRESSES)
