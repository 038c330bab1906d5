"""The prometheus_scrape_configs filter, on the declarations the inference roles really make.

The declarations below are what services.json records (compose_project's `recorded`: the declaration
without `compose`, `publish`, `reserve`) for roles/qdrant, roles/ollama and roles/open_webui rendered from
their vars/main.yml with their defaults, at one exposure for all three ports; only the exposure, the address
and the ports change between the cases. Ports templated as "{{ ollama_port }}" may arrive as strings.
"""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.aistack.selfhosted.plugins.filter.prometheus_scrape_configs import FilterModule

scrape = FilterModule().filters()["prometheus_scrape_configs"]
SECRETS = "/etc/aistack/secrets/prometheus/targets"
BLACKBOX_RELABEL = [
    {"source_labels": ["__address__"], "target_label": "__param_target"},
    {"source_labels": ["__param_target"], "target_label": "instance"},
    {"target_label": "__address__", "replacement": "blackbox:9115"},
]


def ollama(exposure, address, port=11434):
    """roles/ollama/vars/main.yml, install_method compose."""
    local = address if exposure == "private" else "127.0.0.1"
    return {
        "name": "ollama", "profile": "ai", "image": "ollama/ollama:0.13.5",
        "ports": [{"name": "api", "container": 11434, "host": str(port), "variable": "ollama_port",
                   "exposure": exposure}],
        "secrets_owned": [], "secrets_read": [],
        "data": [{"path": "/srv/aistack/models/ollama", "backup": "files"}],
        "gpu": "auto", "gpu_variable": "ollama_gpu",
        "health": {"url": f"http://{local}:{port}/api/version"},
        "metrics": {},
        "urls": {"host": f"http://{local}:{port}", "containers": "http://ollama:11434",
                 "others": f"http://{address}:{port}" if exposure in ("private", "public") else ""},
        "stack": "inference", "fragment": True,
    }


def open_webui(exposure, address, port=3000):
    """roles/open_webui/vars/main.yml."""
    local = address if exposure == "private" else "127.0.0.1"
    return {
        "name": "open-webui", "profile": "ai", "image": "ghcr.io/open-webui/open-webui:v0.6.41",
        "ports": [{"name": "http", "container": 8080, "host": port, "variable": "open_webui_port",
                   "exposure": exposure}],
        "secrets_owned": ["open-webui/secret_key", "open-webui/admin_password", "open-webui/qdrant_api_key"],
        "secrets_read": ["open-webui/secret_key", "open-webui/admin_password", "qdrant/api_key"],
        "data": [{"path": "/srv/aistack/data/open-webui", "backup": "sqlite", "database": "webui.db"}],
        "gpu": False,
        "health": {"path": "/health", "port": 8080},
        "metrics": {},
        "urls": {"host": f"http://{local}:{port}"},
        "stack": "inference", "fragment": True,
    }


def qdrant(exposure, address, port=6333):
    """roles/qdrant/vars/main.yml (gRPC not published)."""
    return {
        "name": "qdrant", "profile": "data", "image": "qdrant/qdrant:v1.16.2",
        "ports": [{"name": "http", "container": 6333, "host": port, "variable": "qdrant_http_port",
                   "exposure": exposure}],
        "secrets_owned": ["qdrant/api_key", "qdrant/config.yaml"],
        "secrets_read": ["qdrant/config.yaml"],
        "data": [{"path": "/srv/aistack/data/qdrant/storage", "backup": "qdrant_snapshot"},
                 {"path": "/srv/aistack/data/qdrant/snapshots", "backup": "files"}],
        "gpu": False,
        "health": {"path": "/readyz", "port": 6333},
        "metrics": {"path": "/metrics", "port": 6333, "api_key": "qdrant/api_key"},
        "urls": {"containers": "http://qdrant:6333",
                 "others": f"http://{address}:{port}" if exposure in ("private", "public") else ""},
        "api_key_secret": "qdrant/api_key",
        "stack": "inference", "fragment": True,
    }


def inference(name, address, exposure="private", gpu=False):
    return {"name": name, "address": address, "gpu": gpu,
            "declarations": {"ollama": ollama(exposure, address), "open-webui": open_webui(exposure, address),
                             "qdrant": qdrant(exposure, address)}}


def jobs(result):
    return {job["job_name"]: job for job in result["scrape_configs"]}


def targets(job):
    return [(config["targets"][0], config["labels"]) for config in job["static_configs"]]


def test_an_inference_host_with_everything_private():
    result = scrape([inference("inference-1", "10.0.0.11")], SECRETS)
    assert list(jobs(result)) == ["node", "cadvisor", "qdrant@inference-1", "blackbox-http_2xx"]
    by_name = jobs(result)
    assert targets(by_name["node"]) == [("10.0.0.11:9100", {"host": "inference-1", "service": "node-exporter"})]
    assert targets(by_name["cadvisor"]) == [("10.0.0.11:9338", {"host": "inference-1", "service": "cadvisor"})]
    assert by_name["qdrant@inference-1"] == {
        "job_name": "qdrant@inference-1",
        "metrics_path": "/metrics",
        "authorization": {"type": "Bearer", "credentials_file": SECRETS + "/inference-1/qdrant/api_key"},
        "static_configs": [{"targets": ["10.0.0.11:6333"], "labels": {"host": "inference-1", "service": "qdrant"}}],
        "relabel_configs": [{"target_label": "job", "replacement": "qdrant"}],
    }
    probe = by_name["blackbox-http_2xx"]
    assert probe["metrics_path"] == "/probe"
    assert probe["params"] == {"module": ["http_2xx"]}
    assert probe["relabel_configs"] == BLACKBOX_RELABEL
    # Ollama at its URL for other hosts + /api/tags (its declaration names its own host's /api/version).
    assert targets(probe) == [
        ("http://10.0.0.11:11434/api/tags", {"host": "inference-1", "service": "ollama"}),
        ("http://10.0.0.11:3000/health", {"host": "inference-1", "service": "open-webui"}),
        ("http://10.0.0.11:6333/readyz", {"host": "inference-1", "service": "qdrant"}),
    ]
    assert result["unreachable"] == []
    assert result["credentials"] == [{
        "host": "inference-1", "service": "qdrant", "source_path": "/etc/aistack/secrets/qdrant/api_key",
        "dest_path": SECRETS + "/inference-1/qdrant/api_key",
    }]


def test_public_ports_are_reached_at_the_private_address_too():
    result = scrape([inference("inference-1", "10.0.0.11", exposure="public")], SECRETS)
    assert targets(jobs(result)["blackbox-http_2xx"])[1][0] == "http://10.0.0.11:3000/health"
    assert targets(jobs(result)["qdrant@inference-1"]) == [
        ("10.0.0.11:6333", {"host": "inference-1", "service": "qdrant"})]


def test_an_inference_host_with_everything_loopback_is_scraped_by_the_agent_only_and_says_what_to_set():
    result = scrape([inference("inference-1", "10.0.0.11", exposure="loopback")], SECRETS)
    assert list(jobs(result)) == ["node", "cadvisor"]
    assert result["unreachable"] == [
        {"host": "inference-1", "service": "ollama", "what": "health", "fix": "set ollama_exposure: private"},
        {"host": "inference-1", "service": "open-webui", "what": "health", "fix": "set open_webui_exposure: private"},
        {"host": "inference-1", "service": "qdrant", "what": "metrics", "fix": "set qdrant_exposure: private"},
        {"host": "inference-1", "service": "qdrant", "what": "health", "fix": "set qdrant_exposure: private"},
    ]
    assert result["credentials"] == []


def test_qdrant_internal_by_default_is_unreachable_with_the_fix():
    host = inference("inference-1", "10.0.0.11")
    host["declarations"]["qdrant"] = qdrant("internal", "10.0.0.11")
    result = scrape([host], SECRETS)
    assert "qdrant@inference-1" not in jobs(result)
    assert [t[1]["service"] for t in targets(jobs(result)["blackbox-http_2xx"])] == ["ollama", "open-webui"]
    assert [(u["service"], u["what"], u["fix"]) for u in result["unreachable"]] == [
        ("qdrant", "metrics", "set qdrant_exposure: private"), ("qdrant", "health", "set qdrant_exposure: private")]
    assert result["credentials"] == []


def test_a_gpu_host_gets_a_dcgm_target():
    result = scrape([inference("gpu-1", "10.0.0.21", gpu=True), inference("cpu-1", "10.0.0.22")], SECRETS)
    assert targets(jobs(result)["dcgm"]) == [("10.0.0.21:9400", {"host": "gpu-1", "service": "dcgm-exporter"})]


def test_no_gpu_anywhere_means_no_dcgm_job():
    assert "dcgm" not in jobs(scrape([inference("cpu-1", "10.0.0.22")], SECRETS))


def test_two_inference_hosts_each_get_their_targets_and_a_third_needs_no_other_change():
    one = [inference("inference-1", "10.0.0.11", gpu=True)]
    two = [*one, inference("inference-2", "10.0.0.12")]
    result = scrape(two, SECRETS)
    by_name = jobs(result)
    assert list(by_name) == ["node", "cadvisor", "dcgm", "qdrant@inference-1", "qdrant@inference-2",
                             "blackbox-http_2xx"]
    assert [t[0] for t in targets(by_name["node"])] == ["10.0.0.11:9100", "10.0.0.12:9100"]
    assert [t[1]["host"] for t in targets(by_name["cadvisor"])] == ["inference-1", "inference-2"]
    assert [t[0] for t in targets(by_name["blackbox-http_2xx"])] == [
        "http://10.0.0.11:11434/api/tags", "http://10.0.0.11:3000/health", "http://10.0.0.11:6333/readyz",
        "http://10.0.0.12:11434/api/tags", "http://10.0.0.12:3000/health", "http://10.0.0.12:6333/readyz",
    ]
    assert by_name["qdrant@inference-2"]["authorization"]["credentials_file"] == SECRETS + "/inference-2/qdrant/api_key"
    assert [c["dest_path"] for c in result["credentials"]] == [
        SECRETS + "/inference-1/qdrant/api_key", SECRETS + "/inference-2/qdrant/api_key"]
    # Adding a host adds its targets and changes nothing of the others'.
    three = scrape([*two, inference("inference-3", "10.0.0.13")], SECRETS)
    for job in result["scrape_configs"]:
        extended = jobs(three)[job["job_name"]]
        assert extended["static_configs"][:len(job["static_configs"])] == job["static_configs"]
    assert targets(jobs(three)["node"])[-1] == ("10.0.0.13:9100", {"host": "inference-3", "service": "node-exporter"})
    assert "qdrant@inference-3" in jobs(three)


def test_every_target_has_the_labels_host_and_service():
    result = scrape([inference("inference-1", "10.0.0.11", gpu=True)], SECRETS)
    for job in result["scrape_configs"]:
        for config in job["static_configs"]:
            assert set(config["labels"]) == {"host", "service"}, job["job_name"]


def test_qdrant_with_its_key_reads_it_from_a_file_under_the_secrets_dir_by_host():
    host = {"name": "vectors", "address": "10.0.0.31", "gpu": False, "secrets_dir": "/srv/keys/",
            "declarations": {"qdrant": qdrant("private", "10.0.0.31", port=16333)}}
    result = scrape([host], SECRETS + "/")
    job = jobs(result)["qdrant@vectors"]
    assert job["authorization"] == {"type": "Bearer", "credentials_file": SECRETS + "/vectors/qdrant/api_key"}
    assert targets(job) == [("10.0.0.31:16333", {"host": "vectors", "service": "qdrant"})]
    assert result["credentials"] == [{"host": "vectors", "service": "qdrant", "source_path": "/srv/keys/qdrant/api_key",
                                      "dest_path": SECRETS + "/vectors/qdrant/api_key"}]
    # The key never appears in the configuration, only its file.
    assert "credentials" not in job["authorization"]


def test_a_service_with_metrics_and_no_key_gets_one_job_for_all_hosts():
    def mlflow(address):
        return {"name": "mlflow", "profile": "train", "health": {"path": "/health", "port": 5000},
                "metrics": {"path": "/metrics", "port": 5000},
                "ports": [{"name": "http", "container": 5000, "host": 5000, "exposure": "private"}]}
    hosts = [{"name": f"train-{n}", "address": f"10.0.1.{n}", "declarations": {"mlflow": mlflow(f"10.0.1.{n}")}}
             for n in (1, 2)]
    result = scrape(hosts, SECRETS)
    assert jobs(result)["mlflow"] == {"job_name": "mlflow", "metrics_path": "/metrics", "static_configs": [
        {"targets": ["10.0.1.1:5000"], "labels": {"host": "train-1", "service": "mlflow"}},
        {"targets": ["10.0.1.2:5000"], "labels": {"host": "train-2", "service": "mlflow"}}]}
    assert [t[0] for t in targets(jobs(result)["blackbox-http_2xx"])] == [
        "http://10.0.1.1:5000/health", "http://10.0.1.2:5000/health"]


def test_declared_exporters_and_monitoring_services_make_no_job_of_their_own():
    exporter = {"metrics": {"path": "/metrics", "port": 9400},
                "ports": [{"container": 9400, "host": 9400, "exposure": "private"}]}
    host = {"name": "gpu-2", "address": "10.0.0.41", "gpu": False,
            "declarations": {"dcgm-exporter": exporter, "prometheus": {
                "metrics": {"path": "/metrics", "port": 9090}, "health": {"path": "/-/healthy", "port": 9090},
                "ports": [{"container": 9090, "host": 9090, "exposure": "loopback"}]}}}
    result = scrape([host], SECRETS)
    assert list(jobs(result)) == ["node", "cadvisor", "dcgm"]
    assert result["unreachable"] == []


def test_the_ports_and_the_blackbox_address_are_arguments():
    result = scrape([inference("inference-1", "10.0.0.11", gpu=True)], SECRETS, node_exporter_port=19100,
                    cadvisor_port=18080, dcgm_exporter_port=19400, blackbox_address="probe:9116",
                    probe_paths={"ollama": "/api/ps"})
    by_name = jobs(result)
    assert [targets(by_name[j])[0][0] for j in ("node", "cadvisor", "dcgm")] == [
        "10.0.0.11:19100", "10.0.0.11:18080", "10.0.0.11:19400"]
    assert by_name["blackbox-http_2xx"]["relabel_configs"][-1] == {"target_label": "__address__",
                                                                   "replacement": "probe:9116"}
    assert targets(by_name["blackbox-http_2xx"])[0][0] == "http://10.0.0.11:11434/api/ps"


def test_a_health_module_of_the_declaration_gets_its_own_probe_job():
    host = inference("inference-1", "10.0.0.11")
    host["declarations"]["qdrant"]["health"]["module"] = "http_2xx_with_key"
    by_name = jobs(scrape([host], SECRETS))
    assert [t[1]["service"] for t in targets(by_name["blackbox-http_2xx_with_key"])] == ["qdrant"]
    assert by_name["blackbox-http_2xx_with_key"]["params"] == {"module": ["http_2xx_with_key"]}


def test_a_declared_exposure_variable_is_the_one_the_fix_names():
    host = inference("inference-1", "10.0.0.11", exposure="loopback")
    host["declarations"]["open-webui"]["ports"][0]["exposure_variable"] = "webui_exposure"
    fixes = {u["service"]: u["fix"] for u in scrape([host], SECRETS)["unreachable"]}
    assert fixes["open-webui"] == "set webui_exposure: private"


def test_an_ipv6_address_is_bracketed():
    result = scrape([inference("inference-1", "fd00::11")], SECRETS)
    assert targets(jobs(result)["node"])[0][0] == "[fd00::11]:9100"
    assert targets(jobs(result)["blackbox-http_2xx"])[1][0] == "http://[fd00::11]:3000/health"


def test_a_host_without_declarations_is_scraped_by_the_agent_jobs():
    result = scrape([{"name": "monitoring-1", "address": "10.0.0.5"}], SECRETS)
    assert list(jobs(result)) == ["node", "cadvisor"]


@pytest.mark.parametrize(("hosts", "message"), [
    ([{"name": "inference-1", "address": ""}], "host inference-1 has no address"),
    ([{"name": "a", "address": "10.0.0.1"}, {"name": "a", "address": "10.0.0.2"}], "host a is listed twice"),
    ([{"address": "10.0.0.1"}], "a host without a name"),
    ([{"name": "a", "address": "10.0.0.1", "declarations": ["qdrant"]}], "not a mapping"),
    ({"name": "a"}, "the input is a list of hosts"),
])
def test_bad_input_fails_saying_what_to_change(hosts, message):
    with pytest.raises(AnsibleFilterError, match=message):
        scrape(hosts, SECRETS)


def test_the_monitoring_host_s_own_services_are_reached_over_the_project_network():
    """Grafana on the monitoring host, published on loopback only: scraped and probed by service name."""
    grafana = {"name": "grafana", "profile": "monitoring", "health": {"path": "/api/health", "port": 3000},
               "metrics": {"path": "/metrics", "port": 3000},
               "ports": [{"name": "http", "container": 3000, "host": 3000, "exposure": "loopback"}]}
    hosts = [{"name": "monitoring-1", "address": "10.0.0.5", "local": True, "declarations": {"grafana": grafana}},
             {"name": "inference-1", "address": "10.0.0.11", "declarations": {"grafana": grafana}}]
    result = scrape(hosts, SECRETS)
    assert jobs(result)["grafana"]["static_configs"] == [
        {"targets": ["grafana:3000"], "labels": {"host": "monitoring-1", "service": "grafana"}}]
    assert [t[0] for t in targets(jobs(result)["blackbox-http_2xx"])] == ["http://grafana:3000/api/health"]
    # The same service on another host, on loopback there, stays out of reach and says what to set.
    assert [(u["host"], u["what"]) for u in result["unreachable"]] == [("inference-1", "metrics"),
                                                                       ("inference-1", "health")]
