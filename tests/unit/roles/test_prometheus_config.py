"""The configuration the monitoring host's Prometheus, Alertmanager and blackbox exporter run with, as the
prometheus role renders it, checked by the real tools.

The role runs on the monitoring host of a test inventory (every host local) whose two inference hosts carry
the declarations the inference roles make (tests/unit/plugins/filter/test_prometheus_scrape_configs.py) as
`aistack_declared_services`, and a Qdrant key file under their own `aistack_secrets_dir`. The role copies
the keys into `prometheus_targets_secrets_dir` and renders the rules into a directory that
`prometheus_container_rules_dir` names, so the full `promtool check config` (not only the role's
`--syntax-only` validate step) finds every file the configuration names, as Prometheus will in its container.
`amtool check-config` checks alertmanager.yml with no receiver, a webhook, email with a password file and
Slack, and refuses a broken one. The blackbox exporter checks its file (`--config.check`) where its binary is
found (AISTACK_BLACKBOX_EXPORTER, the tools cache, the PATH); otherwise the file is only parsed and linted.
"""

import json
import pathlib
import subprocess
import sys

import pytest
import yaml
from prometheus_role import AMTOOL, BLACKBOX, MISSING, PROMTOOL, REPO, ansible_playbook, run

sys.path.insert(0, str(REPO / "tests" / "unit" / "plugins" / "filter"))
from test_prometheus_scrape_configs import inference  # noqa: E402  (the roles' declarations)

# The role's own validate steps run promtool: every test here renders through the role.
pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool " + MISSING)
needs_amtool = pytest.mark.skipif(AMTOOL is None, reason="amtool " + MISSING)
KEY = "test-qdrant-key-of-{host}"


def write_inventory(workdir, hosts):
    """A YAML inventory: monitoring-1 and these inference hosts, all local, each with its secrets dir."""
    inference_hosts = {}
    for host in hosts:
        secrets = workdir / "hosts" / host["name"] / "secrets"
        (secrets / "qdrant").mkdir(parents=True)
        (secrets / "qdrant" / "api_key").write_text(KEY.format(host=host["name"]))
        inference_hosts[host["name"]] = {
            "aistack_private_address": host["address"],
            "aistack_secrets_dir": str(secrets),
            "aistack_declared_services": host["declarations"],
            "aistack_gpu": {"mode": "cdi" if host["gpu"] else "none"},
        }
    inventory = {"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        "children": {
            "monitoring": {"hosts": {"monitoring-1": {
                "aistack_private_address": "10.0.0.5", "aistack_secrets_dir": str(workdir / "secrets")}}},
            "inference": {"hosts": inference_hosts},
        },
    }}
    path = workdir / "inventory.yml"
    path.write_text(json.dumps(inventory))
    return path


def render(workdir, extra_vars=None, hosts=None):
    hosts = [inference("inference-1", "10.0.0.11", gpu=True), inference("inference-2", "10.0.0.12")] \
        if hosts is None else hosts
    inventory = write_inventory(workdir, hosts)
    extra = {"prometheus_container_rules_dir": str(workdir / "rules"), **(extra_vars or {})}
    return ansible_playbook(workdir, extra, inventory=inventory, hosts="monitoring")


@pytest.fixture(scope="module")
def two_hosts(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("two-hosts")
    result = render(workdir)
    assert result.returncode == 0, result.stdout + result.stderr
    return workdir, result


def jobs(config_file):
    return {job["job_name"]: job for job in yaml.safe_load(config_file.read_text())["scrape_configs"]}


def test_promtool_accepts_the_rendered_prometheus_yml_with_every_file_it_names(two_hosts):
    workdir, _result = two_hosts
    config = workdir / "prometheus" / "prometheus.yml"
    rc, output = run(PROMTOOL, "check", "config", str(config), cwd=workdir)
    assert rc == 0, output
    assert "SUCCESS" in output, output
    # The rule file is found through rule_files (not --syntax-only): promtool names the rules it checked.
    assert "rules found" in output, output


def test_the_rendered_config_scrapes_both_inference_hosts(two_hosts):
    workdir, _result = two_hosts
    config = yaml.safe_load((workdir / "prometheus" / "prometheus.yml").read_text())
    assert config["global"] == {"scrape_interval": "15s", "scrape_timeout": "10s", "evaluation_interval": "15s"}
    assert config["rule_files"] == [str(workdir / "rules") + "/*.yml"]
    assert config["alerting"] == {"alertmanagers": [{"static_configs": [{"targets": ["alertmanager:9093"]}]}]}
    by_name = jobs(workdir / "prometheus" / "prometheus.yml")
    assert list(by_name) == ["prometheus", "alertmanager", "blackbox-exporter", "node", "cadvisor", "dcgm",
                             "qdrant@inference-1", "qdrant@inference-2", "blackbox-http_2xx"]
    assert [c["labels"]["host"] for c in by_name["node"]["static_configs"]] == [
        "monitoring-1", "inference-1", "inference-2"]
    assert [c["targets"] for c in by_name["node"]["static_configs"]] == [
        ["10.0.0.5:9100"], ["10.0.0.11:9100"], ["10.0.0.12:9100"]]
    assert [c["labels"]["host"] for c in by_name["dcgm"]["static_configs"]] == ["inference-1"]
    assert len(by_name["blackbox-http_2xx"]["static_configs"]) == 6


def test_the_qdrant_keys_are_copied_where_the_config_reads_them(two_hosts):
    workdir, _result = two_hosts
    by_name = jobs(workdir / "prometheus" / "prometheus.yml")
    for host in ("inference-1", "inference-2"):
        key_file = pathlib.Path(by_name[f"qdrant@{host}"]["authorization"]["credentials_file"])
        assert key_file == workdir / "targets" / host / "qdrant" / "api_key"
        assert key_file.read_text() == KEY.format(host=host)
        assert oct(key_file.stat().st_mode & 0o777) == "0o400"
    assert KEY.format(host="inference-1") not in (workdir / "prometheus" / "prometheus.yml").read_text()


def test_loopback_services_are_warned_of_with_the_variable_to_set(tmp_path):
    result = render(tmp_path, hosts=[inference("inference-1", "10.0.0.11", exposure="loopback")])
    assert result.returncode == 0, result.stdout + result.stderr
    output = " ".join(result.stdout.split())  # the callback wraps long messages
    assert ("WARNING: inference-1: the metrics endpoint of qdrant is not reachable from the monitoring host, so it "
            "is not scraped: on inference-1, set qdrant_exposure: private.") in output, result.stdout
    assert "the health endpoint of open-webui is not reachable" in output
    assert "on inference-1, set open_webui_exposure: private." in output
    assert list(jobs(tmp_path / "prometheus" / "prometheus.yml")) == [
        "prometheus", "alertmanager", "blackbox-exporter", "node", "cadvisor"]
    rc, output = run(PROMTOOL, "check", "config", str(tmp_path / "prometheus" / "prometheus.yml"), cwd=tmp_path)
    assert rc == 0, output


def test_promtool_refuses_a_config_it_cannot_load_and_nothing_is_written(tmp_path):
    """The validate step: a scrape timeout longer than the interval (input checks skipped) fails the task."""
    result = render(tmp_path, {"aistack_inputs_checked": True, "prometheus_scrape_timeout": "1m"})
    assert result.returncode != 0, result.stdout
    assert "failed to validate" in result.stdout + result.stderr, result.stdout + result.stderr
    assert not (tmp_path / "prometheus" / "prometheus.yml").exists()


def test_input_checks_refuse_a_duration_prometheus_cannot_read(tmp_path):
    result = render(tmp_path, {"prometheus_scrape_interval": "15 seconds"})
    assert result.returncode != 0, result.stdout
    assert "prometheus_scrape_interval: " in result.stdout, result.stdout + result.stderr
    assert not (tmp_path / "prometheus" / "prometheus.yml").exists()


@pytest.mark.parametrize(("receiver", "message"), [
    # A secret given inline instead of as a file.
    ({"name": "ops", "type": "slack", "api_url": "https://hooks.slack.com/services/T0/B0/x"},
     "prometheus_alertmanager_receivers.api_url"),
    ({"name": "ops", "type": "email", "to": "ops@example.org", "from": "am@example.org",
      "smarthost": "smtp.example.org:587", "auth_password": "hunter2"},
     "prometheus_alertmanager_receivers.auth_password"),
    ({"name": "ops", "type": "webhook"}, "type is webhook but all of the following are missing: url"),
    ({"name": "ops", "type": "pager", "url": "http://10.0.0.9/"},
     "value of type must be one of: webhook, email, slack"),
], ids=["inline-slack-url", "inline-password", "webhook-without-url", "unknown-type"])
def test_a_receiver_alertmanager_cannot_use_is_refused_before_anything_is_written(tmp_path, receiver, message):
    result = render(tmp_path, {"prometheus_alertmanager_receivers": [receiver]}, hosts=[])
    assert result.returncode != 0, result.stdout
    assert message in " ".join(result.stdout.split()), result.stdout
    assert "hunter2" not in result.stdout
    assert not (tmp_path / "alertmanager" / "alertmanager.yml").exists()


RECEIVERS = {
    "none": [],
    "webhook": [{"name": "hook", "type": "webhook", "url": "http://10.0.0.9:5001/alerts"}],
    "email": [{"name": "ops-mail", "type": "email", "to": "ops@example.org", "from": "alertmanager@example.org",
               "smarthost": "smtp.example.org:587", "auth_username": "alertmanager",
               "auth_password_file": "/etc/alertmanager/secrets/smtp_password"}],
    "all": [
        {"name": "hook", "type": "webhook", "url": "https://hooks.example.org/alerts", "send_resolved": False},
        {"name": "ops-mail", "type": "email", "to": "ops@example.org", "from": "alertmanager@example.org",
         "smarthost": "smtp.example.org:587", "auth_password_file": "/etc/alertmanager/secrets/smtp_password",
         "matchers": ['severity="critical"']},
        {"name": "chat", "type": "slack", "api_url_file": "/etc/alertmanager/secrets/slack_url",
         "channel": "#alerts"},
    ],
}


@needs_amtool
@pytest.mark.parametrize("receivers", list(RECEIVERS), ids=str)
def test_amtool_accepts_the_rendered_alertmanager_yml(tmp_path, receivers):
    result = render(tmp_path, {"prometheus_alertmanager_receivers": RECEIVERS[receivers]}, hosts=[])
    assert result.returncode == 0, result.stdout + result.stderr
    config_file = tmp_path / "alertmanager" / "alertmanager.yml"
    rc, output = run(AMTOOL, "check-config", str(config_file), cwd=tmp_path)
    assert rc == 0, output
    assert "SUCCESS" in output, output
    config = yaml.safe_load(config_file.read_text())
    assert config["route"]["group_by"] == ["alertname", "host"]
    names = [r["name"] for r in config["receivers"]]
    if receivers == "none":
        assert names == ["null"]
        assert config["route"]["receiver"] == "null"
        assert "routes" not in config["route"]
    else:
        assert names == [r["name"] for r in RECEIVERS[receivers]]
        assert config["route"]["receiver"] == names[0]
        assert [(r["receiver"], r["continue"]) for r in config["route"]["routes"]] == [(n, True) for n in names]
    text = config_file.read_text()
    assert "auth_password:" not in text and "api_url:" not in text


@needs_amtool
def test_the_email_and_slack_secrets_are_files_and_matchers_route(tmp_path):
    result = render(tmp_path, {"prometheus_alertmanager_receivers": RECEIVERS["all"]}, hosts=[])
    assert result.returncode == 0, result.stdout + result.stderr
    config = yaml.safe_load((tmp_path / "alertmanager" / "alertmanager.yml").read_text())
    by_name = {r["name"]: r for r in config["receivers"]}
    assert by_name["ops-mail"]["email_configs"][0]["auth_password_file"] == "/etc/alertmanager/secrets/smtp_password"
    assert by_name["chat"]["slack_configs"][0] == {"api_url_file": "/etc/alertmanager/secrets/slack_url",
                                                   "channel": "#alerts", "send_resolved": True}
    assert by_name["hook"]["webhook_configs"][0] == {"url": "https://hooks.example.org/alerts", "send_resolved": False}
    assert config["route"]["routes"][1]["matchers"] == ['severity="critical"']
    # Where amtool routes alerts: every receiver its matchers match.
    assert routed(tmp_path, "alertname=GPUTemperatureCritical", "severity=critical") == "hook,ops-mail,chat"
    assert routed(tmp_path, "alertname=GPUTemperatureWarning", "severity=warning") == "hook,chat"


def routed(workdir, *labels):
    """The receivers amtool routes an alert with these labels to, as it prints them."""
    rc, output = run(AMTOOL, "config", "routes", "test", "--config.file",
                     str(workdir / "alertmanager" / "alertmanager.yml"), *labels, cwd=workdir)
    assert rc == 0, output
    return [line for line in output.splitlines() if not line.startswith("Warning:")][0].strip()


@needs_amtool
def test_a_critical_alert_inhibits_the_warning_of_its_prefix(tmp_path):
    result = render(tmp_path, hosts=[])
    assert result.returncode == 0, result.stdout + result.stderr
    config = yaml.safe_load((tmp_path / "alertmanager" / "alertmanager.yml").read_text())
    gpu_temp = config["inhibit_rules"][0]
    assert gpu_temp == {"source_matchers": ['alertname=~"GPUTemperature.*"', 'severity="critical"'],
                        "target_matchers": ['alertname=~"GPUTemperature.*"', 'severity="warning"'],
                        "equal": ["host", "instance", "gpu", "mountpoint"]}
    # What the rules really call them: each prefix has a critical and a warning alert.
    rules = yaml.safe_load((tmp_path / "rules" / "aistack.rules.yml").read_text())
    severities = {}
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                severities.setdefault(rule["alert"], set()).add(rule["labels"]["severity"])
    for rule in config["inhibit_rules"]:
        prefix = rule["source_matchers"][0].split('"')[1].removesuffix(".*")
        kinds = set().union(*(s for name, s in severities.items() if name.startswith(prefix)))
        assert kinds == {"critical", "warning"}, prefix
    assert routed(tmp_path, "alertname=GPUTemperatureCritical") == "null"


@needs_amtool
def test_amtool_refuses_a_broken_alertmanager_yml_and_nothing_is_written(tmp_path):
    """An email receiver with an empty smarthost (the input checks skipped, which refuse it): amtool refuses the
    file, and the role's validate step keeps it from replacing the live one."""
    broken = [{"name": "ops-mail", "type": "email", "to": "ops@example.org", "from": "alertmanager@example.org",
               "smarthost": ""}]
    result = render(tmp_path, {"aistack_inputs_checked": True, "prometheus_alertmanager_receivers": broken},
                    hosts=[])
    assert result.returncode != 0, result.stdout
    assert "failed to validate" in result.stdout + result.stderr, result.stdout + result.stderr
    assert not (tmp_path / "alertmanager" / "alertmanager.yml").exists()
    # And amtool itself on a file whose route names a receiver it does not define.
    bad = tmp_path / "bad.yml"
    bad.write_text("route:\n  receiver: nowhere\nreceivers:\n  - name: \"null\"\n")
    rc, output = run(AMTOOL, "check-config", str(bad), cwd=tmp_path)
    assert rc != 0, output
    assert "nowhere" in output, output


def test_the_blackbox_config_loads(tmp_path):
    result = render(tmp_path, hosts=[])
    assert result.returncode == 0, result.stdout + result.stderr
    config_file = tmp_path / "blackbox" / "blackbox.yml"
    config = yaml.safe_load(config_file.read_text())
    assert config["modules"]["http_2xx"]["prober"] == "http"
    lint = subprocess.run([str(pathlib.Path(sys.executable).with_name("yamllint")), "-s", "-d",
                           "{extends: default, rules: {document-start: disable, line-length: {max: 120}}}",
                           str(config_file)], check=False, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    if BLACKBOX is None:
        pytest.skip("the blackbox exporter is not installed (only parsed and linted): set AISTACK_BLACKBOX_EXPORTER "
                    "or `make prom-tools`")
    rc, output = run(BLACKBOX, "--config.check", f"--config.file={config_file}", cwd=tmp_path)
    assert rc == 0, output


def test_the_probe_modules_prometheus_names_are_the_ones_blackbox_yml_defines(two_hosts):
    workdir, _result = two_hosts
    modules = set(yaml.safe_load((workdir / "blackbox" / "blackbox.yml").read_text())["modules"])
    named = {m for job in jobs(workdir / "prometheus" / "prometheus.yml").values()
             for m in job.get("params", {}).get("module", [])}
    assert named and named <= modules


@pytest.mark.skipif(BLACKBOX is None, reason="the blackbox exporter is not installed: set AISTACK_BLACKBOX_EXPORTER "
                                             "or `make prom-tools`")
def test_the_blackbox_exporter_refuses_a_timeout_it_cannot_read_and_nothing_is_written(tmp_path):
    result = render(tmp_path, {"aistack_inputs_checked": True, "prometheus_blackbox_timeout": "5 seconds"}, hosts=[])
    assert result.returncode != 0, result.stdout
    assert "failed to validate" in result.stdout + result.stderr, result.stdout + result.stderr
    assert "5 seconds" in result.stdout + result.stderr
    assert not (tmp_path / "blackbox" / "blackbox.yml").exists()


def test_a_second_run_changes_nothing(two_hosts):
    workdir, _result = two_hosts
    # The same inventory (its key files written once by render), the same variables.
    result = ansible_playbook(workdir, {"prometheus_container_rules_dir": str(workdir / "rules")},
                              inventory=workdir / "inventory.yml", hosts="monitoring")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "changed=0" in result.stdout.split("PLAY RECAP")[1], result.stdout


def test_a_key_file_missing_on_its_host_fails_naming_it(tmp_path):
    inventory = write_inventory(tmp_path, [inference("inference-1", "10.0.0.11")])
    missing = tmp_path / "hosts" / "inference-1" / "secrets" / "qdrant" / "api_key"
    missing.unlink()
    result = ansible_playbook(tmp_path, {"prometheus_container_rules_dir": str(tmp_path / "rules")},
                              inventory=inventory, hosts="monitoring")
    assert result.returncode != 0, result.stdout
    output = " ".join(result.stdout.split())
    assert f"could not read them: inference-1: {missing} (qdrant)" in output, result.stdout
    assert not (tmp_path / "prometheus" / "prometheus.yml").exists()
