"""The monitoring test images, run as the monitoring scenario runs them.

Real Prometheus 3, Alertmanager, node-exporter and blackbox exporter (Debian sid packages, in
tests/images/) and the test doubles of dcgm-exporter, cAdvisor and Grafana (tests/standins/).
Every /metrics page is read with prometheus_client's text-format parser. The images come from
scripts/build-test-images.sh (make images); a test skips, naming the image, where one is missing.
"""

from __future__ import annotations

import base64
import json
import pathlib
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.docker

H100_UUID = "GPU-4b330ae0-eb5b-91c6-0e55-336f75503a54"


def docker(*args: str, check: bool = True, timeout: int = 60) -> subprocess.CompletedProcess:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def engine():
    if shutil.which("docker") is None:
        pytest.skip("no docker client: the monitoring images run only under Docker (make setup)")
    if docker("info", check=False).returncode != 0:
        pytest.skip("no Docker engine answers: the monitoring images run only under Docker (make setup)")


def need(image: str) -> str:
    if docker("image", "inspect", image, check=False).returncode != 0:
        pytest.skip(f"{image} is not built: run scripts/build-test-images.sh (make images)")
    return image


def http(url: str, data: bytes | None = None, headers: dict | None = None, timeout: float = 10):
    """(status, body) of one request; HTTP errors are answers too."""
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def families(text: str) -> dict:
    return {family.name: family for family in text_string_to_metric_families(text)}


def scrape(url: str) -> dict:
    status, body = http(url)
    assert status == 200, body
    return families(body)


@pytest.fixture
def network(engine):
    name = f"aistack-mon-test-{uuid.uuid4().hex[:8]}"
    docker("network", "create", name)
    yield name
    # This fixture's teardown can come before the containers' (fixture order): remove those on it first.
    attached = docker("network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{end}}", name, check=False)
    if attached.stdout.split():
        docker("rm", "-f", "-v", *attached.stdout.split(), check=False)
    docker("network", "rm", name)


@pytest.fixture
def run(engine):
    """Start a container with its port published on loopback; returns (name, base URL) once it answers."""
    names = []

    def start(image: str, port: int, *args: str, path: str = "/", network: str | None = None,
              alias: str | None = None, command: tuple = ()) -> tuple[str, str]:
        name = f"aistack-mon-test-{uuid.uuid4().hex[:8]}"
        names.append(name)
        extra = ["--network", network] if network else []
        extra += ["--network-alias", alias] if alias else []
        docker("run", "-d", "--name", name, "-p", f"127.0.0.1::{port}", *extra, *args, need(image), *command)
        host_port = docker("port", name, f"{port}/tcp").stdout.splitlines()[0].rsplit(":", 1)[1]
        base = f"http://127.0.0.1:{host_port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                http(base + path, timeout=2)
                return name, base
            except OSError:
                state = docker("inspect", "-f", "{{.State.Running}}", name).stdout.strip()
                assert state == "true" and time.monotonic() < deadline, docker("logs", name).stderr
                time.sleep(0.2)

    yield start
    for name in names:
        docker("rm", "-f", "-v", name, check=False)


def run_to_exit(image: str, *args: str) -> subprocess.CompletedProcess:
    """Run a container that is expected to stop by itself; its output and status."""
    return subprocess.run(["docker", "run", "--rm", *args, need(image)], capture_output=True, text=True,
                          timeout=60, check=False)


# --- real services -------------------------------------------------------------------------------


def test_prometheus_3_answers_and_checks_its_config(run):
    name, url = run("aistack-test/prometheus:test", 9090, path="/-/healthy")
    assert http(url + "/-/healthy") == (200, "Prometheus Server is Healthy.\n")
    status, body = http(url + "/api/v1/status/buildinfo")
    assert status == 200
    assert json.loads(body)["data"]["version"].startswith("3."), body
    assert "prometheus_build_info" in scrape(url + "/metrics")
    # promtool from the same Debian version, for the role's validate: steps
    check = docker("exec", name, "promtool", "check", "config", "/etc/prometheus/prometheus.yml")
    assert "SUCCESS" in check.stdout + check.stderr
    assert docker("exec", name, "promtool", "--version").stdout.split()[2].startswith("3.")
    assert docker("exec", name, "id", "-u").stdout.strip() == "65534"  # nobody, as prom/prometheus
    assert docker("exec", name, "sh", "-c", "command -v curl", check=False).returncode != 0  # as upstream


def test_alertmanager_answers_status_and_checks_its_config(run):
    name, url = run("aistack-test/alertmanager:test", 9093, path="/-/healthy")
    assert http(url + "/-/healthy")[0] == 200
    status, body = http(url + "/api/v2/status")
    assert status == 200
    status_doc = json.loads(body)
    assert status_doc["versionInfo"]["version"].startswith("0.")
    assert "receiver: web.hook" in status_doc["config"]["original"]
    check = docker("exec", name, "amtool", "check-config", "/etc/alertmanager/alertmanager.yml")
    assert "SUCCESS" in check.stdout + check.stderr


def test_node_exporter_reports_memory(run):
    _name, url = run("aistack-test/node-exporter:test", 9100)
    metrics = scrape(url + "/metrics")
    total = metrics["node_memory_MemTotal_bytes"].samples[0].value
    assert total > 64 * 2**20
    assert metrics["node_memory_MemTotal_bytes"].type == "gauge"


def test_blackbox_probes_a_web_server(run, network):
    run("aistack-test/tiny-web:test", 8000, network=network, alias="web")
    _name, url = run("aistack-test/blackbox-exporter:test", 9115, network=network, path="/-/healthy")
    ok = scrape(url + "/probe?target=http://web:8000/&module=http_2xx")
    assert ok["probe_success"].samples[0].value == 1
    assert ok["probe_http_status_code"].samples[0].value == 200
    down = scrape(url + "/probe?target=http://web:8001/&module=http_2xx")
    assert down["probe_success"].samples[0].value == 0


def test_prometheus_scrapes_every_exporter_and_double(run, network, tmp_path, grafana_files):
    """Real Prometheus parses each /metrics page (a stricter reader than any client library)."""
    prov, dashboards, password = grafana_files
    run("aistack-test/node-exporter:test", 9100, network=network, alias="node")
    run("aistack-test/dcgm-exporter:test", 9400, network=network, alias="dcgm", path="/health")
    run("aistack-test/cadvisor:test", 8080, "-v", "/var/run/docker.sock:/var/run/docker.sock:ro",
        network=network, alias="cadvisor", path="/healthz")
    run("aistack-test/blackbox-exporter:test", 9115, network=network, alias="blackbox", path="/-/healthy")
    run("aistack-test/alertmanager:test", 9093, network=network, alias="alertmanager", path="/-/healthy")
    run("aistack-test/grafana:test", 3000, *grafana_args(prov, dashboards, password), network=network,
        alias="grafana", path="/api/health")
    jobs = {"node": "node:9100", "dcgm": "dcgm:9400", "cadvisor": "cadvisor:8080", "blackbox": "blackbox:9115",
            "alertmanager": "alertmanager:9093", "grafana": "grafana:3000"}
    config = tmp_path / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1s\nscrape_configs:\n" + "".join(
        f"  - job_name: {job}\n    static_configs:\n      - targets: ['{target}']\n" for job, target in jobs.items()))
    config.chmod(0o644)
    _name, url = run("aistack-test/prometheus:test", 9090, "-v", f"{config}:/etc/prometheus/prometheus.yml:ro",
                     network=network, path="/-/ready")
    deadline = time.monotonic() + 30
    while True:
        targets = json.loads(http(url + "/api/v1/targets")[1])["data"]["activeTargets"]
        health = {t["labels"]["job"]: (t["health"], t["lastError"]) for t in targets}
        if len(health) == len(jobs) and all(h == "up" for h, _err in health.values()):
            break
        assert time.monotonic() < deadline, health
        time.sleep(0.5)
    query = json.loads(http(url + "/api/v1/query?query=DCGM_FI_DEV_GPU_TEMP")[1])["data"]["result"]
    assert [(r["metric"]["modelName"], r["value"][1]) for r in query] == [("NVIDIA H100 80GB HBM3", "34")]


# --- test doubles --------------------------------------------------------------------------------


def test_dcgm_double_serves_real_names_and_follows_the_control(run):
    _name, url = run("aistack-test/dcgm-exporter:test", 9400, command=("--gpus", "2"), path="/health")
    metrics = scrape(url + "/metrics")
    for field in ("DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_GPU_UTIL",
                  "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_MEM_COPY_UTIL", "DCGM_FI_DEV_SM_CLOCK"):
        assert metrics[field].type == "gauge", field
        assert len(metrics[field].samples) == 2, field
    assert metrics["DCGM_FI_DEV_GPU_TEMP"].documentation == "GPU temperature (in C)."
    first = metrics["DCGM_FI_DEV_GPU_TEMP"].samples[0]
    assert set(first.labels) == {"gpu", "UUID", "pci_bus_id", "device", "modelName", "Hostname",
                                 "DCGM_FI_DRIVER_VERSION"}
    assert first.labels["UUID"] == H100_UUID and first.labels["modelName"] == "NVIDIA H100 80GB HBM3"
    assert first.labels["DCGM_FI_DRIVER_VERSION"] == "580.159.04" and first.labels["device"] == "nvidia0"
    assert first.value == 34  # the idle H100
    used, free = (metrics[f"DCGM_FI_DEV_FB_{k}"].samples[0].value for k in ("USED", "FREE"))
    assert (used, free) == (0, 81079)

    status, _body = http(url + "/_standin/control", json.dumps({"gpu": 1, "DCGM_FI_DEV_GPU_TEMP": 90}).encode())
    assert status == 200
    temps = {s.labels["gpu"]: s.value for s in scrape(url + "/metrics")["DCGM_FI_DEV_GPU_TEMP"].samples}
    assert temps == {"0": 34, "1": 90}
    assert http(url + "/_standin/control", json.dumps({"gpu": 0, "preset": "load"}).encode())[0] == 200
    load = scrape(url + "/metrics")
    assert load["DCGM_FI_DEV_FB_USED"].samples[0].value == 58233
    assert load["DCGM_FI_DEV_POWER_USAGE"].samples[0].value == pytest.approx(698.28)
    status, body = http(url + "/_standin/control", json.dumps({"DCGM_FI_DEV_GPU_TMP": 1}).encode())
    assert status == 400 and "DCGM_FI_DEV_GPU_TMP" in body
    assert http(url + "/health") == (200, "KO")  # what dcgm-exporter 4.x answers


def test_cadvisor_double_lists_running_containers(run):
    web, _web_url = run("aistack-test/tiny-web:test", 8000)
    _name, url = run("aistack-test/cadvisor:test", 8080, "-v", "/var/run/docker.sock:/var/run/docker.sock:ro",
                     path="/healthz")
    assert http(url + "/healthz") == (200, "ok")
    metrics = scrape(url + "/metrics")
    for family in ("container_cpu_usage_seconds", "container_memory_working_set_bytes", "container_last_seen"):
        by_name = {s.labels["name"]: s for s in metrics[family].samples}
        assert web in by_name, family
        assert by_name[web].labels["image"] == "aistack-test/tiny-web:test"
        assert by_name[web].labels["id"].endswith(docker("inspect", "-f", "{{.Id}}", web).stdout.strip())
        assert by_name[web].timestamp is not None  # cAdvisor stamps container samples
        assert by_name[""].labels["id"] == "/"
    assert metrics["container_cpu_usage_seconds"].type == "counter"
    assert metrics["machine_memory_bytes"].samples[0].value > 0


def test_cadvisor_double_without_the_socket_serves_the_machine(run):
    _name, url = run("aistack-test/cadvisor:test", 8080, path="/healthz")
    samples = scrape(url + "/metrics")["container_last_seen"].samples
    assert [s.labels["id"] for s in samples] == ["/"]


@pytest.fixture
def grafana_files(tmp_path):
    """Provisioning as the role writes it: a Prometheus datasource, a file provider, one dashboard."""
    prov = tmp_path / "provisioning"
    (prov / "datasources").mkdir(parents=True)
    (prov / "dashboards").mkdir()
    dashboards = tmp_path / "dashboards"
    dashboards.mkdir()
    (prov / "datasources" / "prometheus.yaml").write_text(
        "apiVersion: 1\ndatasources:\n  - name: Prometheus\n    type: prometheus\n    uid: prometheus\n"
        "    access: proxy\n    url: ${PROMETHEUS_URL}\n    isDefault: true\n"
        "    jsonData:\n      timeInterval: 15s\n    secureJsonData:\n      httpHeaderValue1: secret\n")
    (prov / "dashboards" / "aistack.yaml").write_text(
        "apiVersion: 1\nproviders:\n  - name: aistack\n    folder: AI stack\n    type: file\n"
        "    options:\n      path: /var/lib/grafana/dashboards\n")
    (dashboards / "gpu.json").write_text(json.dumps({"uid": "aistack-gpu", "title": "GPU", "tags": ["gpu"],
                                                     "panels": [], "schemaVersion": 39}))
    password = tmp_path / "admin_password"
    password.write_text("s3cret-from-file\n")
    for path in (prov, prov / "datasources", prov / "dashboards", dashboards):
        path.chmod(0o755)
    for path in (*prov.rglob("*.yaml"), dashboards / "gpu.json", password):
        path.chmod(0o644)
    return prov, dashboards, password


def grafana_args(prov: pathlib.Path, dashboards: pathlib.Path, password: pathlib.Path) -> list[str]:
    return ["-v", f"{prov}:/etc/grafana/provisioning:ro", "-v", f"{dashboards}:/var/lib/grafana/dashboards:ro",
            "-v", f"{password}:/run/secrets/grafana_admin_password:ro",
            "-e", "GF_SECURITY_ADMIN_PASSWORD__FILE=/run/secrets/grafana_admin_password"]


def test_grafana_double_reports_what_it_provisioned(run, network, grafana_files):
    prov, dashboards, password = grafana_files
    run("aistack-test/prometheus:test", 9090, network=network, alias="prometheus", path="/-/ready")
    _name, url = run("aistack-test/grafana:test", 3000, *grafana_args(prov, dashboards, password),
                     "-e", "PROMETHEUS_URL=http://prometheus:9090", network=network, path="/api/health")
    status, body = http(url + "/api/health")
    assert status == 200 and json.loads(body)["database"] == "ok"
    assert http(url + "/api/datasources")[0] == 401  # anonymous access off
    wrong = {"Authorization": "Basic " + base64.b64encode(b"admin:admin").decode()}
    assert http(url + "/api/datasources", headers=wrong)[0] == 401
    admin = {"Authorization": "Basic " + base64.b64encode(b"admin:s3cret-from-file").decode()}
    status, body = http(url + "/api/datasources", headers=admin)
    assert status == 200
    [source] = json.loads(body)
    assert (source["name"], source["type"], source["url"], source["isDefault"]) == (
        "Prometheus", "prometheus", "http://prometheus:9090", True)
    assert "secureJsonData" not in source
    detail = json.loads(http(url + "/api/datasources/uid/prometheus", headers=admin)[1])
    assert detail["secureJsonFields"] == {"httpHeaderValue1": True}
    # Grafana's own datasource health check, through to the real Prometheus
    status, body = http(url + "/api/datasources/uid/prometheus/health", headers=admin)
    assert (status, json.loads(body)["status"]) == (200, "OK"), body
    status, body = http(url + "/api/search?type=dash-db", headers=admin)
    assert status == 200
    assert [(d["uid"], d["title"], d["folderTitle"]) for d in json.loads(body)] == [("aistack-gpu", "GPU", "AI stack")]
    status, body = http(url + "/api/dashboards/uid/aistack-gpu", headers=admin)
    assert status == 200
    doc = json.loads(body)
    assert doc["dashboard"]["title"] == "GPU" and doc["meta"]["provisioned"] is True
    assert http(url + "/api/dashboards/uid/nope", headers=admin)[0] == 404


def test_grafana_double_refuses_a_malformed_file_and_a_missing_password(grafana_files, engine):
    prov, dashboards, password = grafana_files
    (prov / "datasources" / "broken.yaml").write_text("apiVersion: 1\ndatasources:\n  - name: [unclosed\n")
    (prov / "datasources" / "broken.yaml").chmod(0o644)
    broken = run_to_exit("aistack-test/grafana:test", *grafana_args(prov, dashboards, password))
    assert broken.returncode != 0
    assert "Datasource provisioning error" in broken.stderr and "broken.yaml" in broken.stderr
    no_password = run_to_exit("aistack-test/grafana:test")
    assert no_password.returncode != 0 and "GF_SECURITY_ADMIN_PASSWORD__FILE" in no_password.stderr
    in_env = run_to_exit("aistack-test/grafana:test", "-e", "GF_SECURITY_ADMIN_PASSWORD=s3cret")
    assert in_env.returncode != 0 and "secret in the environment" in in_env.stderr
    (prov / "datasources" / "broken.yaml").unlink()
    password.chmod(0o600)  # a secret file the image's user 472 cannot read, as with the real image
    unreadable = run_to_exit("aistack-test/grafana:test", *grafana_args(prov, dashboards, password))
    assert unreadable.returncode != 0 and "Permission denied" in unreadable.stderr
