"""The grafana role's dashboards and provisioning: what Grafana needs to load them.

That every panel shows data is the monitoring scenario's test (molecule/monitoring), which asks
Prometheus each panel's query; here, the files themselves.
"""

import json
import pathlib

import pytest
import yaml

ROLE = pathlib.Path(__file__).resolve().parents[3] / "roles" / "grafana"
DASHBOARDS = sorted((ROLE / "files" / "dashboards").glob("*.json"))
UIDS = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())["_grafana_dashboard_uids"]


def test_the_role_checks_for_every_dashboard_it_ships():
    uids = [json.loads(path.read_text())["uid"] for path in DASHBOARDS]
    assert sorted(uids) == sorted(UIDS) and len(set(uids)) == len(uids)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_a_dashboard_has_a_title_tag_and_panels_on_the_provisioned_datasource(path):
    dashboard = json.loads(path.read_text())
    assert dashboard["title"].startswith("aistack / ") and "aistack" in dashboard["tags"]
    assert dashboard["panels"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(set(ids)) == len(ids)
    for panel in dashboard["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}, panel["title"]
        assert panel["targets"] and all(target["expr"].strip() for target in panel["targets"]), panel["title"]
    # The host variable every query filters on.
    assert [variable["name"] for variable in dashboard["templating"]["list"]] == ["host"]


def test_no_secret_in_the_compose_fragment_environment():
    fragment = (ROLE / "templates" / "compose.yml.j2").read_text()
    assert "GF_SECURITY_ADMIN_PASSWORD__FILE: /run/secrets/grafana_admin_password" in fragment
    assert "GF_SECURITY_ADMIN_PASSWORD:" not in fragment
    assert 'GF_AUTH_ANONYMOUS_ENABLED: "false"' in fragment
