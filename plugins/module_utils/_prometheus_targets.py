# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The monitoring host's scrape targets, from the inventory and the hosts' service declarations.

Pure functions (no I/O): the prometheus_scrape_configs filter calls them, the unit tests drive them with the
declarations the roles really make (docs/declarations.md). A host is
``{name, address, declarations, gpu, secrets_dir}``: its inventory name, the address the monitoring host
reaches it at (its ``aistack_private_address``), its ``services.json`` content (``{service: declaration}``),
whether it runs the DCGM exporter, and (optional) its own ``aistack_secrets_dir``.

What the monitoring host reaches is what a host publishes on its private address: a port of exposure
``private`` or ``public``. A port of exposure ``loopback`` or ``internal`` yields no target but an
``unreachable`` entry saying which variable to set.
"""

from __future__ import annotations

from urllib.parse import urlsplit

REACHABLE = ("private", "public")
DEFAULT_SECRETS_DIR = "/etc/aistack/secrets"
# Services of a host that the agent's jobs (node, cadvisor, dcgm) or the monitoring host's own jobs scrape;
# their declarations make no job of their own.
AGENT_SERVICES = ("node-exporter", "cadvisor", "dcgm-exporter", "prometheus", "alertmanager", "blackbox-exporter")
# The path a service is probed at where its health declaration is this host's own URL (health.url): Ollama's
# declaration names /api/version; the monitoring issue asks for /api/tags (it proves the model store answers).
PROBE_PATHS = {"ollama": "/api/tags"}


class TargetError(ValueError):
    """An input the targets cannot be built from; the message says what to change."""


def _exposure_variable(service, declaration, port):
    """The variable that sets the port's exposure (qdrant_exposure): declared, or the role's convention."""
    return (port.get("exposure_variable") or declaration.get("exposure_variable")
            or service.replace("-", "_") + "_exposure")


def _port_serving(declaration, container_port):
    """The declared port that publishes this container port, or None."""
    for port in declaration.get("ports") or []:
        if str(port.get("container")) == str(container_port):
            return port
    return None


def _reach(host, service, declaration, container_port, *, what, unreachable):
    """``address:host_port`` where the monitoring host reaches this container port; else None, recorded.

    The monitoring host's own services (``local``) share Prometheus' project network: ``service:port``."""
    if host.get("local"):
        return f"{service}:{int(container_port)}"
    port = _port_serving(declaration, container_port)
    exposure = (port or {}).get("exposure", "loopback")
    if port is not None and exposure in REACHABLE:
        return f"{_host_part(host['address'])}:{int(port['host'])}"
    variable = _exposure_variable(service, declaration, port or {})
    if port is None:
        fix = f"declare a port of container port {container_port} for {service}, of exposure private"
    else:
        fix = f"set {variable}: private"
    unreachable.append({"host": host["name"], "service": service, "what": what, "fix": fix})
    return None


def _host_part(address):
    return f"[{address}]" if ":" in address and not address.startswith("[") else address


def _path(path):
    path = path or "/"
    return path if path.startswith("/") else "/" + path


def _health_url(host, service, declaration, probe_paths, unreachable):
    health = declaration.get("health") or {}
    if health.get("port") is not None:
        address = _reach(host, service, declaration, health["port"], what="health", unreachable=unreachable)
        if address is None:
            return None
        return f"{health.get('scheme', 'http')}://{address}{_path(probe_paths.get(service) or health.get('path'))}"
    if health.get("url"):
        # This host's own URL: other hosts use the URL the service declares for them (urls.others).
        others = ((declaration.get("urls") or {}).get("others") or "").rstrip("/")
        if not others:
            port = (declaration.get("ports") or [{}])[0]
            unreachable.append({"host": host["name"], "service": service, "what": "health",
                                "fix": f"set {_exposure_variable(service, declaration, port)}: private"})
            return None
        return others + _path(probe_paths.get(service) or urlsplit(health["url"]).path)
    return None


def _static(target, host, service):
    return {"targets": [target], "labels": {"host": host["name"], "service": service}}


def _agent_job(job, service, hosts, port):
    configs = [_static(f"{_host_part(host['address'])}:{int(port)}", host, service) for host in hosts]
    return {"job_name": job, "static_configs": configs} if configs else None


def _check_hosts(hosts):
    names = set()
    for host in hosts:
        name = host.get("name")
        if not name:
            raise TargetError(f"a host without a name: {host!r}")
        if name in names:
            raise TargetError(f"host {name} is listed twice")
        names.add(name)
        if not host.get("address"):
            raise TargetError(f"host {name} has no address the monitoring host reaches it at: set its "
                              "aistack_private_address")
        declarations = host.get("declarations") or {}
        if not isinstance(declarations, dict):
            raise TargetError(f"host {name}: the declarations are not a mapping of service to declaration "
                              f"(services.json), but {type(declarations).__name__}")


def scrape_configs(hosts, secrets_dir, *, node_exporter_port=9100, cadvisor_port=9338, dcgm_exporter_port=9400,
                   blackbox_address="blackbox:9115", probe_paths=None, skip_services=AGENT_SERVICES,
                   probe_module="http_2xx"):
    """{scrape_configs, unreachable, credentials} for these hosts (see the module's docstring).

    - ``scrape_configs``: job ``node`` and ``cadvisor`` (every host), ``dcgm`` (hosts with a GPU, or that
      declare ``dcgm-exporter``), one job per service with a ``metrics`` declaration the monitoring host
      reaches (a service whose metrics need its API key: one scrape config per host, ``<service>@<host>``,
      relabelled to job ``<service>``, since the key differs per host), and ``blackbox-<module>``: every
      reachable health endpoint, probed through the blackbox exporter at ``blackbox_address``. Every target
      has the labels ``host`` and ``service``.
    - ``unreachable``: ``{host, service, what (metrics|health), fix}`` for each declared endpoint the monitoring
      host cannot reach.
    - ``credentials``: ``{host, service, source_path, dest_path}``, the key files the monitoring host needs:
      ``source_path`` on that host, ``dest_path`` (under ``secrets_dir``, ``<host>/<secret>``) where Prometheus
      reads it (``credentials_file``).
    """
    hosts = list(hosts or [])
    _check_hosts(hosts)
    probe_paths = PROBE_PATHS if probe_paths is None else probe_paths
    skip = set(skip_services or ())
    secrets_dir = secrets_dir.rstrip("/")
    unreachable, credentials = [], []
    jobs = [
        _agent_job("node", "node-exporter", hosts, node_exporter_port),
        _agent_job("cadvisor", "cadvisor", hosts, cadvisor_port),
        _agent_job("dcgm", "dcgm-exporter",
                   [h for h in hosts if h.get("gpu") or "dcgm-exporter" in (h.get("declarations") or {})],
                   dcgm_exporter_port),
    ]
    service_jobs = {}  # job name -> scrape config, in the order first seen
    probes = {}  # module -> static configs
    for host in hosts:
        for service, declaration in sorted((host.get("declarations") or {}).items()):
            if service in skip or not isinstance(declaration, dict):
                continue
            metrics = declaration.get("metrics") or {}
            if metrics.get("port") is not None:
                address = _reach(host, service, declaration, metrics["port"], what="metrics",
                                 unreachable=unreachable)
                if address is not None:
                    _add_metrics(service_jobs, host, service, metrics, address=address, secrets_dir=secrets_dir,
                                 credentials=credentials)
            url = _health_url(host, service, declaration, probe_paths, unreachable)
            if url is not None:
                module = (declaration.get("health") or {}).get("module") or probe_module
                probes.setdefault(module, []).append(_static(url, host, service))
    jobs += list(service_jobs.values())
    for module, configs in sorted(probes.items()):
        jobs.append({
            "job_name": f"blackbox-{module}",
            "metrics_path": "/probe",
            "params": {"module": [module]},
            "static_configs": configs,
            # The blackbox exporter's own documented relabelling: the target becomes the probe's ?target=,
            # and the instance label; the exporter is what Prometheus scrapes.
            "relabel_configs": [
                {"source_labels": ["__address__"], "target_label": "__param_target"},
                {"source_labels": ["__param_target"], "target_label": "instance"},
                {"target_label": "__address__", "replacement": blackbox_address},
            ],
        })
    return {"scrape_configs": [job for job in jobs if job], "unreachable": unreachable, "credentials": credentials}


def _add_metrics(service_jobs, host, service, metrics, *, address, secrets_dir, credentials):
    path = _path(metrics.get("path") or "/metrics")
    key = metrics.get("api_key")
    if not key:
        job = service_jobs.setdefault(service, {"job_name": service, "metrics_path": path, "static_configs": []})
        if job["metrics_path"] != path:
            # Another host's service of this name serves its metrics elsewhere: a job of its own.
            job = service_jobs.setdefault(f"{service}@{host['name']}", {
                "job_name": f"{service}@{host['name']}", "metrics_path": path, "static_configs": [],
                "relabel_configs": [{"target_label": "job", "replacement": service}]})
        job["static_configs"].append(_static(address, host, service))
        return
    dest = f"{secrets_dir}/{host['name']}/{key}"
    credentials.append({
        "host": host["name"], "service": service,
        "source_path": f"{(host.get('secrets_dir') or DEFAULT_SECRETS_DIR).rstrip('/')}/{key}",
        "dest_path": dest,
    })
    service_jobs[f"{service}@{host['name']}"] = {
        "job_name": f"{service}@{host['name']}",
        "metrics_path": path,
        # Qdrant takes its API key as a bearer token too (Authorization: Bearer <key>, as well as api-key).
        "authorization": {"type": "Bearer", "credentials_file": dest},
        "static_configs": [_static(address, host, service)],
        "relabel_configs": [{"target_label": "job", "replacement": service}],
    }
