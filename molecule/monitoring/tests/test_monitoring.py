"""The monitoring host scrapes and probes what the inference host declared, its alerts reach
Alertmanager and resolve, Grafana loads its provisioning; nothing listens on every address and no
container holds a secret in its environment.

Prometheus, Alertmanager, node-exporter and the blackbox exporter are the real ones; cAdvisor, the
DCGM exporter and Grafana are test doubles (tests/standins). The scenario's rules run with short
`for:` durations and a 5 s scrape and evaluation interval (molecule.yml); each alert timing is
printed (pytest -s, or the molecule log) for the issue's note.
"""

import json
import os
import time
import urllib.parse

import testinfra

testinfra_hosts = ["ansible://monitoring-1"]

PROMETHEUS = "http://127.0.0.1:9090"
ALERTMANAGER = "http://127.0.0.1:9093"
GRAFANA = "http://127.0.0.1:3000"
SCRAPE, EVALUATION = 5, 5
PROBE_FAILED_FOR, GPU_CRITICAL_FOR = 20, 10


def inference(_host):
    """The inference host, through Molecule's inventory (its directory: group_vars beside it)."""
    inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    return testinfra.get_host(f"ansible://inference-1?ansible_inventory={inventory}")


def get_json(host, url, *options):
    return json.loads(host.check_output(f"curl -fsS {' '.join(options)} '{url}'"))


def query(host, expression):
    url = f"{PROMETHEUS}/api/v1/query?query={urllib.parse.quote(expression)}"
    return get_json(host, url)["data"]["result"]


def alerts(host, name):
    """The alerts of this name Alertmanager holds as active (firing and not silenced or inhibited)."""
    found = get_json(host, f"{ALERTMANAGER}/api/v2/alerts?active=true&silenced=false&inhibited=false")
    return [alert for alert in found if alert["labels"]["alertname"] == name]


def wait_for(what, condition, timeout):
    """Seconds until condition() holds; fails naming what after timeout seconds."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(1)
    raise AssertionError(f"{what}: not within {timeout} s")


def test_every_target_is_up_including_the_other_host(host):
    targets = get_json(host, f"{PROMETHEUS}/api/v1/targets?state=active")["data"]["activeTargets"]
    down = [(t["labels"].get("host"), t["labels"]["job"], t["lastError"]) for t in targets if t["health"] != "up"]
    assert down == []
    seen = {(t["labels"].get("host"), t["labels"]["job"]) for t in targets}
    for host_name in ("inference-1", "monitoring-1"):
        assert {(host_name, "node"), (host_name, "cadvisor")} <= seen, seen
    # Qdrant's /metrics needs its API key: up means the key file was read and sent.
    assert ("inference-1", "qdrant") in seen
    assert {("monitoring-1", job) for job in ("prometheus", "alertmanager", "blackbox-exporter", "grafana")} <= seen


def test_every_declared_health_endpoint_is_probed_and_succeeds(host):
    probes = query(host, "probe_success")
    by_service = {(p["metric"]["host"], p["metric"]["service"]): p["value"][1] for p in probes}
    assert {("inference-1", "ollama"), ("inference-1", "qdrant")} <= set(by_service), by_service
    assert set(by_service.values()) == {"1"}, by_service
    # Ollama is probed at /api/tags (its model store answers), not its declared /api/version.
    ollama = next(p for p in probes if p["metric"]["service"] == "ollama")
    assert ollama["metric"]["instance"].endswith(":11434/api/tags")


def test_stopping_ollama_fires_its_alert_and_starting_it_resolves_it(host):
    other = inference(host)
    other.run_expect([0], "docker stop aistack-ollama-1")
    try:
        fired = wait_for("ProbeFailed for ollama in Alertmanager",
                         lambda: any(a["labels"].get("service") == "ollama" for a in alerts(host, "ProbeFailed")),
                         timeout=PROBE_FAILED_FOR + 3 * SCRAPE + 30)
    finally:
        other.run_expect([0], "docker start aistack-ollama-1")
    resolved = wait_for("ProbeFailed for ollama resolved",
                        lambda: not any(a["labels"].get("service") == "ollama" for a in alerts(host, "ProbeFailed")),
                        timeout=60 + 3 * SCRAPE)
    print(f"\nProbeFailed (ollama): fired {fired:.0f} s after docker stop (for: {PROBE_FAILED_FOR} s, "
          f"scrape {SCRAPE} s, evaluation {EVALUATION} s); resolved {resolved:.0f} s after docker start")
    # Within for: plus one scrape interval (the probe fails at the next scrape), one evaluation
    # interval (the rule sees it) and the time to start counting it (Alertmanager's group_wait: 1 s).
    assert fired <= PROBE_FAILED_FOR + SCRAPE + EVALUATION + 5


def test_a_gpu_over_85_degrees_fires_the_critical_alert(host):
    other = inference(host)
    control = "http://127.0.0.1:9400/_standin/control"
    set_temp = ("docker exec aistack-dcgm-exporter-1 curl -fsS "
                "-d '{{\"gpu\": 0, \"DCGM_FI_DEV_GPU_TEMP\": {}}}' " + control)
    other.run_expect([0], set_temp.format(90))
    try:
        fired = wait_for("GPUTemperatureCritical in Alertmanager",
                         lambda: alerts(host, "GPUTemperatureCritical"), timeout=GPU_CRITICAL_FOR + 3 * SCRAPE + 30)
        alert = alerts(host, "GPUTemperatureCritical")[0]
        assert alert["labels"]["severity"] == "critical"
        assert alert["labels"]["host"] == "inference-1"
    finally:
        other.run_expect([0], set_temp.format(34))
    resolved = wait_for("GPUTemperatureCritical resolved", lambda: not alerts(host, "GPUTemperatureCritical"),
                        timeout=60 + 3 * SCRAPE)
    print(f"\nGPUTemperatureCritical: fired {fired:.0f} s after 90 °C (for: {GPU_CRITICAL_FOR} s); "
          f"resolved {resolved:.0f} s after 34 °C")
    assert fired <= GPU_CRITICAL_FOR + SCRAPE + EVALUATION + 5


def test_grafana_loads_its_datasource_and_dashboards_and_refuses_anonymous(host):
    auth = "-u admin:molecule-grafana-password"
    datasource = get_json(host, f"{GRAFANA}/api/datasources/uid/prometheus", auth)
    assert datasource["type"] == "prometheus" and datasource["isDefault"]
    health = get_json(host, f"{GRAFANA}/api/datasources/uid/prometheus/health", auth)
    assert health["status"] == "OK", health
    dashboards = get_json(host, f"{GRAFANA}/api/search?type=dash-db", auth)
    assert len(dashboards) >= 4, dashboards
    anonymous = host.run(f"curl -s -o /dev/null -w '%{{http_code}}' {GRAFANA}/api/search")
    assert anonymous.stdout == "401"


def test_nothing_listens_on_every_address_on_either_host(host):
    for each in (host, inference(host)):
        listeners = each.check_output("ss -Hltn").splitlines()
        wildcard = [line for line in listeners if line.split()[3].rsplit(":", 1)[0] in ("0.0.0.0", "*", "[::]")]
        assert wildcard == [], (each.backend.host, wildcard)


def test_no_container_holds_a_secret_in_its_environment(host):
    secrets = {"molecule-grafana-password"}
    other = inference(host)
    secrets.add(other.file("/etc/aistack/secrets/qdrant/api_key").content_string.strip())
    for each in (host, other):
        for container in each.check_output("docker ps -q").split():
            environment = json.loads(each.check_output(f"docker inspect {container}"))[0]["Config"]["Env"] or []
            assert not [item for item in environment if any(secret in item for secret in secrets)], container


def test_every_dashboard_panel_shows_data(host):
    """What Grafana draws: each panel query of the provisioned dashboards, asked of Prometheus for every host
    ($host as every value), returns series (the DCGM exporter's double runs on inference-1)."""
    empty = []
    for name in ("hosts", "containers", "gpu", "services"):
        dashboard = json.loads(host.file(f"/opt/aistack/services/grafana/dashboards/{name}.json").content_string)
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                if not query(host, target["expr"].replace("$host", ".*")):
                    empty.append((name, panel["title"], target["expr"]))
    assert empty == []
