# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The prometheus_scrape_configs filter: the monitoring host's scrape targets from the hosts' declarations
(see its .yml docs)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.aistack.selfhosted.plugins.module_utils._prometheus_targets import (
    AGENT_SERVICES,
    TargetError,
    scrape_configs,
)


def prometheus_scrape_configs(hosts, secrets_dir, *, node_exporter_port=9100, cadvisor_port=9338,
                              dcgm_exporter_port=9400, blackbox_address="blackbox:9115", probe_paths=None,
                              skip_services=AGENT_SERVICES, probe_module="http_2xx"):
    if not isinstance(hosts, (list, tuple)):
        raise AnsibleFilterError(f"prometheus_scrape_configs: the input is a list of hosts, not {type(hosts).__name__}")
    try:
        return scrape_configs(hosts, secrets_dir, node_exporter_port=node_exporter_port, cadvisor_port=cadvisor_port,
                              dcgm_exporter_port=dcgm_exporter_port, blackbox_address=blackbox_address,
                              probe_paths=probe_paths, skip_services=skip_services, probe_module=probe_module)
    except TargetError as error:
        raise AnsibleFilterError(f"prometheus_scrape_configs: {error}") from None


class FilterModule:
    def filters(self):
        return {"prometheus_scrape_configs": prometheus_scrape_configs}
