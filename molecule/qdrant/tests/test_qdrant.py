"""What a user checks after the qdrant role: healthy, private, keyed, persistent, no secret leaks."""

import json

testinfra_hosts = ["ansible://test_hosts"]

URL = "http://127.0.0.1:6333"


def api_key(host):
    return host.file("/etc/aistack/secrets/qdrant_api_key").content_string.strip()


def container(host):
    return json.loads(host.check_output("docker inspect aistack-qdrant-1"))[0]


def test_service_is_healthy(host):
    assert container(host)["State"]["Health"]["Status"] == "healthy"


def test_port_is_published_on_loopback_only(host):
    bindings = container(host)["HostConfig"]["PortBindings"]
    assert bindings == {"6333/tcp": [{"HostIp": "127.0.0.1", "HostPort": "6333"}]}


def test_request_without_key_is_refused(host):
    status = host.check_output(f"curl -s -o /dev/null -w '%{{http_code}}' {URL}/collections")
    assert status == "401"


def test_declared_collection_exists_with_its_vector_params(host):
    answer = host.check_output(f"curl -fsS -H 'api-key: {api_key(host)}' {URL}/collections/documents")
    vectors = json.loads(answer)["result"]["config"]["params"]["vectors"]
    assert vectors == {"size": 4, "distance": "Cosine"} or (vectors["size"], vectors["distance"]) == (4, "Cosine")


def test_secret_files_are_private(host):
    for name in ("qdrant_api_key", "qdrant.yaml"):
        secret = host.file(f"/etc/aistack/secrets/{name}")
        assert secret.mode == 0o600, name
        assert secret.user == "root"
    assert host.file("/etc/aistack/secrets").mode == 0o700


def test_no_secret_in_the_container_environment(host):
    environment = "\n".join(container(host)["Config"]["Env"])
    assert api_key(host) not in environment


def test_storage_is_on_the_host(host):
    mounts = {m["Destination"]: m["Source"] for m in container(host)["Mounts"]}
    assert mounts["/qdrant/storage"] == "/srv/aistack/data/qdrant/storage"
    assert mounts["/qdrant/snapshots"] == "/srv/aistack/data/qdrant/snapshots"
    assert host.file("/srv/aistack/data/qdrant/storage/collections").is_directory
