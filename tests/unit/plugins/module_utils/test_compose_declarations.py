"""The project from the declarations: which services it runs, which it removes, how ports publish."""

import json

import pytest
from ansible_collections.aistack.selfhosted.plugins.module_utils._compose_declarations import (
    DeclarationError,
    env_file,
    plan,
    port_claims,
    recorded,
    root_file,
    secret_name,
    secrets_digest,
    service_settings,
)

compose_apply_plan = plan

ADDRESSES = {"loopback": "127.0.0.1", "private": "10.0.0.5", "public": "0.0.0.0"}


def service(name, profile="ai", stack="inference", *, ports=(), fragment=True, secrets_read=()):
    return {"name": name, "profile": profile, "stack": stack, "fragment": fragment,
            "ports": list(ports), "secrets_read": list(secrets_read)}


def port(host, container, exposure, variable=None):
    result = {"name": "p", "host": host, "container": container, "exposure": exposure}
    return dict(result, variable=variable) if variable else result


def test_declared_services_are_included_with_their_profiles_and_ports():
    result = compose_apply_plan(
        {"ollama": service("ollama", ports=[port(11434, 11434, "private")]),
         "qdrant": service("qdrant", "data", ports=[port(6333, 6333, "internal")],
                           secrets_read=["qdrant/config.yaml"])},
        addresses=ADDRESSES,
    )
    assert list(result["services"]) == ["ollama", "qdrant"]
    assert result["services"]["ollama"]["publish"] == [["10.0.0.5", 11434, 11434]]
    assert result["services"]["qdrant"]["publish"] == []
    assert result["profiles"] == ["ai", "data"]
    assert result["secrets_read"] == ["qdrant/config.yaml"]
    assert "publish" not in recorded(result["services"])["ollama"]


def test_a_service_of_the_same_stack_no_longer_declared_is_removed():
    live = {"open-webui": service("open-webui"), "ollama": service("ollama")}
    result = compose_apply_plan({"ollama": service("ollama")}, live=live, stack="inference", addresses=ADDRESSES)
    assert list(result["services"]) == ["ollama"]
    assert result["removed"] == ["open-webui"]


def test_services_of_other_stacks_and_a_role_used_alone_keep_what_runs():
    live = {"node-exporter": service("node-exporter", "obs", stack="monitoring"), "qdrant": service("qdrant", "data")}
    result = compose_apply_plan({"ollama": service("ollama")}, live=live, stack="inference", addresses=ADDRESSES)
    assert list(result["services"]) == ["node-exporter", "ollama"]
    alone = compose_apply_plan({"ollama": service("ollama", stack="")}, live=live, stack="", addresses=ADDRESSES)
    assert list(alone["services"]) == ["node-exporter", "ollama", "qdrant"]
    assert alone["removed"] == []


def test_a_service_declared_without_fragment_leaves_the_project():
    live = {"ollama": service("ollama")}
    result = compose_apply_plan({"ollama": service("ollama", fragment=False)}, live=live, stack="", addresses=ADDRESSES)
    assert result["services"] == {}
    assert result["removed"] == ["ollama"]


def test_two_services_on_one_host_port_fail_before_anything_changes():
    declared = {"a": service("a", ports=[port(3000, 8080, "loopback")]),
                "b": service("b", ports=[port(3000, 80, "public")])}
    with pytest.raises(DeclarationError, match="both publish port 3000"):
        compose_apply_plan(declared, addresses=ADDRESSES)


def test_the_same_port_on_two_distinct_addresses_is_fine():
    declared = {"a": service("a", ports=[port(3000, 8080, "loopback")]),
                "b": service("b", ports=[port(3000, 80, "private")])}
    assert compose_apply_plan(declared, addresses=ADDRESSES)["services"]["b"]["publish"] == [["10.0.0.5", 3000, 80]]


def test_a_private_port_without_private_address_fails_saying_what_to_set():
    declared = {"a": service("a", ports=[port(3000, 8080, "private")])}
    with pytest.raises(DeclarationError, match="set aistack_private_address"):
        compose_apply_plan(declared, addresses={**ADDRESSES, "private": ""})


def test_an_unknown_exposure_is_refused():
    with pytest.raises(DeclarationError, match="not one of internal, loopback, private, public"):
        compose_apply_plan({"a": service("a", ports=[port(1, 1, "world")])}, addresses=ADDRESSES)


def test_the_root_file_includes_each_fragment_with_its_settings_and_no_static_address():
    text = root_file("aistack", "aistack", ["ollama", "qdrant"])
    assert "  - path: [services/ollama/compose.yml, services/ollama/aistack.yml]" in text
    assert "internal: true" in text
    assert "ipv4_address" not in text and "subnet" not in text
    assert "include: []" in root_file("aistack", "aistack", [])


def test_env_names_the_profiles_and_no_secret():
    text = env_file("aistack", ["ai", "data"], "/etc/aistack/secrets")
    assert "COMPOSE_PROFILES=ai,data\n" in text and "COMPOSE_PROJECT_NAME=aistack\n" in text


def test_service_settings_publish_ports_and_a_digest_that_follows_the_secrets():
    one = json.loads(service_settings("ollama", [["127.0.0.1", 11434, 11434]], "d1").split("\n", 2)[2])
    assert one["services"]["ollama"]["ports"] == ["127.0.0.1:11434:11434"]
    assert one["services"]["ollama"]["labels"] == {"org.aistack.secrets-digest": "d1"}
    assert secrets_digest("salt", ["a", "b"]) == secrets_digest("salt", ["a", "b"])
    assert secrets_digest("salt", ["a", "b"]) != secrets_digest("salt", ["a", "c"])
    assert secrets_digest("salt", ["a"]) != secrets_digest("other", ["a"])


def test_recorded_declarations_leave_out_the_fragment_text():
    services = {"a": dict(service("a"), compose="services: {}", publish=[])}
    assert "compose" not in recorded(services)["a"] and recorded(services)["a"]["profile"] == "ai"


def test_a_secret_is_named_by_its_owner_and_file():
    assert secret_name("qdrant/api_key") == "qdrant_api_key"
    assert secret_name("open-webui/secret_key") == "open_webui_secret_key"
    assert secret_name("qdrant/config.yaml") == "qdrant_config_yaml"


def test_the_root_file_defines_each_secret_read_once():
    declared = {"open-webui": service("open-webui", secrets_read=["open-webui/secret_key", "qdrant/api_key"]),
                "rag": service("rag", secrets_read=["qdrant/api_key"]),
                "qdrant": service("qdrant", "data", secrets_read=["qdrant/config.yaml"])}
    result = compose_apply_plan(declared, addresses=ADDRESSES)
    assert result["secrets_read"] == ["open-webui/secret_key", "qdrant/api_key", "qdrant/config.yaml"]
    text = root_file("aistack", "aistack", list(result["services"]), "/etc/aistack/secrets/", result["secrets_read"])
    assert text.count("  qdrant_api_key:\n") == 1
    assert '  qdrant_api_key:\n    file: "/etc/aistack/secrets/qdrant/api_key"\n' in text
    assert '  qdrant_config_yaml:\n    file: "/etc/aistack/secrets/qdrant/config.yaml"\n' in text
    assert "secrets:" not in root_file("aistack", "aistack", [])


def test_two_secret_files_with_one_compose_name_are_refused():
    declared = {"a": service("a", secrets_read=["open-webui/key"]), "b": service("b", secrets_read=["open_webui/key"])}
    with pytest.raises(DeclarationError, match="open-webui/key and open_webui/key would both be Compose secret"):
        compose_apply_plan(declared, addresses=ADDRESSES)


def test_port_claims_name_the_declared_port_and_leave_out_what_the_service_holds():
    declared = {"open-webui": service("open-webui", ports=[port(3000, 8080, "loopback", "open_webui_port")]),
                "qdrant": service("qdrant", "data", ports=[port(6333, 6333, "private"), port(6334, 6334, "internal")])}
    services = compose_apply_plan(declared, addresses=ADDRESSES)["services"]
    claims = port_claims(services, {})
    assert [(name, address, number) for name, _port, address, number in claims] == [
        ("open-webui", "127.0.0.1", 3000), ("qdrant", "10.0.0.5", 6333)]
    assert claims[0][1]["variable"] == "open_webui_port"
    # The service's own running container keeps its port: not a claim. Another service's is.
    assert [claim[0] for claim in port_claims(services, {"open-webui": {3000}})] == ["qdrant"]
    assert [claim[0] for claim in port_claims(services, {"qdrant": {3000}})] == ["open-webui", "qdrant"]


CDI_REQUEST = {"mode": "cdi", "reason": "CDI spec names the GPUs",
               "devices": [{"driver": "cdi", "device_ids": ["nvidia.com/gpu=all"], "capabilities": ["gpu"]}]}
CPU_HOST = {"mode": "none", "reason": "the host has no NVIDIA GPU", "devices": []}


def test_every_service_that_wants_a_gpu_reserves_the_hosts_one_request():
    declared = {"ollama": dict(service("ollama"), gpu="auto"), "trainer": dict(service("trainer", "train"), gpu=True),
                "qdrant": dict(service("qdrant", "data"), gpu=False)}
    result = compose_apply_plan(declared, addresses=ADDRESSES, gpu=CDI_REQUEST)
    assert result["services"]["ollama"]["reserve"] == CDI_REQUEST["devices"]
    assert result["services"]["trainer"]["reserve"] == CDI_REQUEST["devices"]
    assert result["services"]["qdrant"]["reserve"] == []
    assert "reserve" not in recorded(result["services"])["ollama"]
    settings = json.loads(service_settings("ollama", [], "d1", result["services"]["ollama"]["reserve"])
                          .split("\n", 2)[2])
    assert settings["services"]["ollama"]["deploy"] == {
        "resources": {"reservations": {"devices": [
            {"driver": "cdi", "device_ids": ["nvidia.com/gpu=all"], "capabilities": ["gpu"]}]}}}


def test_on_a_cpu_host_auto_reserves_nothing_and_the_settings_have_no_deploy():
    result = compose_apply_plan({"ollama": dict(service("ollama"), gpu="auto")}, addresses=ADDRESSES, gpu=CPU_HOST)
    assert result["services"]["ollama"]["reserve"] == []
    assert "deploy" not in service_settings("ollama", [], "d1", [])


def test_a_service_that_needs_a_gpu_on_a_cpu_host_fails_naming_its_setting_and_the_reason():
    declared = {"ollama": dict(service("ollama"), gpu=True, gpu_variable="ollama_gpu")}
    with pytest.raises(DeclarationError, match="service ollama needs a GPU .ollama_gpu: true. but the host has no "
                                               "NVIDIA GPU; set ollama_gpu: auto"):
        compose_apply_plan(declared, addresses=ADDRESSES, gpu=CPU_HOST)
