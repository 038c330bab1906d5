"""What a user checks after the qdrant role: healthy, private, keyed, persistent, no secret leaks."""

import json

testinfra_hosts = ["ansible://test_hosts"]


def api_key(host):
    return host.file("/etc/aistack/secrets/qdrant/api_key").content_string.strip()


def container(host):
    return json.loads(host.check_output("docker inspect aistack-qdrant-1"))[0]


def url(host):
    """Qdrant publishes no port: the host reaches it on the project's internal network."""
    return f"http://{container(host)['NetworkSettings']['Networks']['aistack_internal']['IPAddress']}:6333"


def test_service_is_healthy(host):
    assert container(host)["State"]["Health"]["Status"] == "healthy"


def test_no_port_is_published_and_only_the_internal_network_is_joined(host):
    assert not container(host)["HostConfig"]["PortBindings"]
    assert set(container(host)["NetworkSettings"]["Networks"]) == {"aistack_internal"}
    assert host.run("curl -s -m 3 http://127.0.0.1:6333/readyz").rc != 0


def test_qdrant_has_no_route_out(host):
    """A listener on the host's own address answers the host, and not Qdrant's container."""
    route = host.check_output("ip -4 -o route get 192.0.2.1").split()
    address = route[route.index("src") + 1]
    host.run_expect([0], f"(timeout 20 python3 -m http.server 8765 --bind {address} >/dev/null 2>&1 &) ; sleep 1")
    assert host.run(f"curl -s -m 3 -o /dev/null http://{address}:8765/").rc == 0
    probe = host.run(
        f"docker exec aistack-qdrant-1 timeout 3 bash -c 'exec 3<>/dev/tcp/{address}/8765'"
    )
    assert probe.rc != 0, "Qdrant's container reached the host's address"
    assert host.check_output("docker network inspect aistack_internal --format '{{.Internal}}'") == "true"


def test_request_without_key_is_refused(host):
    status = host.check_output(f"curl -s -o /dev/null -w '%{{http_code}}' {url(host)}/collections")
    assert status == "401"


def test_declared_collection_exists_with_its_vector_params(host):
    answer = host.check_output(f"curl -fsS -H 'api-key: {api_key(host)}' {url(host)}/collections/documents")
    vectors = json.loads(answer)["result"]["config"]["params"]["vectors"]
    assert vectors == {"size": 4, "distance": "Cosine"} or (vectors["size"], vectors["distance"]) == (4, "Cosine")


def test_secret_files_are_private(host):
    for name in ("qdrant/api_key", "qdrant/config.yaml"):
        secret = host.file(f"/etc/aistack/secrets/{name}")
        assert secret.mode == 0o600, name
        assert secret.user == "root"
    assert host.file("/etc/aistack/secrets").mode == 0o700
    assert host.file("/etc/aistack/secrets/qdrant").mode == 0o700


def test_no_secret_in_the_container_environment(host):
    environment = "\n".join(container(host)["Config"]["Env"])
    assert api_key(host) not in environment


def test_storage_is_on_the_host(host):
    mounts = {m["Destination"]: m["Source"] for m in container(host)["Mounts"]}
    assert mounts["/qdrant/storage"] == "/srv/aistack/data/qdrant/storage"
    assert mounts["/qdrant/snapshots"] == "/srv/aistack/data/qdrant/snapshots"
    assert host.file("/srv/aistack/data/qdrant/storage/collections").is_directory
