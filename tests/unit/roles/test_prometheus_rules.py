"""The prometheus role's alert rules, as the role renders them.

The role itself renders its template (ansible-playbook on localhost, with its defaults, or with
tests/prometheus/custom/vars.yml), its `validate:` step runs `promtool check rules`, and the
rendered file is then checked again here and unit-tested with `promtool test rules`
(tests/prometheus/*.yml: each alert fired and resolved at its thresholds). promtool comes from
scripts/setup-prom-tools.sh (`make prom-tools`, part of `make unit`); without it these tests skip.
"""

import shutil

import pytest
import yaml
from prometheus_role import MISSING, PROMTOOL, REPO, ansible_playbook, run

TESTS = REPO / "tests" / "prometheus"
CUSTOM = TESTS / "custom"
# The major version of the Prometheus image the role pins (v3.x).
PROMTOOL_MAJOR = 3

pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool " + MISSING)


def render(workdir, vars_file=None):
    result = ansible_playbook(workdir, {}, vars_file)
    assert result.returncode == 0, "the role failed to render the rules:\n" + result.stdout + result.stderr
    return workdir / "rules" / "aistack.rules.yml"


def promtool(*args, cwd):
    return run(PROMTOOL, *args, cwd=cwd)


def unit_test(rules, test_file):
    """promtool test rules on a copy of test_file beside the rendered rules (rule_files: [aistack.rules.yml])."""
    copy = rules.parent / test_file.name
    shutil.copyfile(test_file, copy)
    rc, output = promtool("test", "rules", copy.name, cwd=rules.parent)
    assert rc == 0, f"promtool test rules {test_file.relative_to(REPO)}:\n{output}"
    return output


@pytest.fixture(scope="module")
def default_rules(tmp_path_factory):
    return render(tmp_path_factory.mktemp("default-rules"))


@pytest.fixture(scope="module")
def custom_rules(tmp_path_factory):
    return render(tmp_path_factory.mktemp("custom-rules"), CUSTOM / "vars.yml")


def test_promtool_is_of_the_major_version_the_role_pins():
    rc, output = promtool("--version", cwd=REPO)
    assert rc == 0, output
    assert output.startswith(f"promtool, version {PROMTOOL_MAJOR}."), output


def test_rendered_rules_pass_promtool_check(default_rules):
    rc, output = promtool("check", "rules", default_rules.name, cwd=default_rules.parent)
    assert rc == 0, output
    assert "SUCCESS" in output, output


def alerts_of(rules):
    groups = yaml.safe_load(rules.read_text())["groups"]
    return {rule["alert"] for group in groups for rule in group["rules"] if "alert" in rule}


def test_every_alert_has_a_unit_test(default_rules):
    tested = {case["alertname"] for path in TESTS.glob("*.yml")
              for test in yaml.safe_load(path.read_text())["tests"] for case in test.get("alert_rule_test", [])}
    assert alerts_of(default_rules) - tested == set()
    assert tested - alerts_of(default_rules) == set(), "tests of alerts the rules do not have"


@pytest.mark.parametrize("test_file", sorted(TESTS.glob("*.yml")), ids=lambda path: path.name)
def test_alerts_fire_and_resolve_at_the_default_thresholds(default_rules, test_file):
    unit_test(default_rules, test_file)


def test_non_default_thresholds_render_and_fire(custom_rules):
    text = custom_rules.read_text()
    assert "expr: DCGM_FI_DEV_GPU_TEMP >= 70\n" in text
    assert "aistack:gpu_cost:24h >= 2 * 75 / 100" in text
    assert "budget_percent: \"50\"" not in text
    rc, output = promtool("check", "rules", custom_rules.name, cwd=custom_rules.parent)
    assert rc == 0, output
    for test_file in sorted(CUSTOM.glob("*.yml")):
        if test_file.name != "vars.yml":
            unit_test(custom_rules, test_file)


def test_a_file_promtool_refuses_is_not_written(tmp_path):
    """The validate step: an unparsable duration (input checks skipped) fails the task and writes nothing."""
    rules = tmp_path / "rules" / "aistack.rules.yml"
    result = ansible_playbook(tmp_path, {"aistack_inputs_checked": True,
                                         "prometheus_alert_gpu_temp_warning_for": "5 minutes"})
    assert result.returncode != 0, result.stdout
    assert "failed to validate" in result.stdout + result.stderr, result.stdout + result.stderr
    assert not rules.exists()


def test_input_checks_refuse_a_duration_prometheus_cannot_read(tmp_path):
    rules = tmp_path / "rules" / "aistack.rules.yml"
    result = ansible_playbook(tmp_path, {"prometheus_alert_probe_slow_for": "5 minutes"})
    assert result.returncode != 0, result.stdout
    assert "prometheus_alert_probe_slow_for: " in result.stdout, result.stdout + result.stderr
    assert not rules.exists()
