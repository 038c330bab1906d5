"""The Qdrant test image as the role will run it: config file mounted, storage and snapshots on
host directories, a healthcheck without curl; data survives a new container."""

import pathlib
import subprocess
import time
import uuid

import pytest
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
IMAGE = "aistack-test/qdrant:test"
KEY = "image-test-key"

pytestmark = [pytest.mark.docker, pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection")]


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=300, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {proc.stderr}")
    return proc


@pytest.fixture
def run_qdrant(docker_engine, tmp_path):
    docker("build", "-q", "-t", IMAGE, str(REPO_ROOT / "tests" / "standins" / "qdrant"))
    names = []

    def run(config: pathlib.Path, storage: pathlib.Path, snapshots: pathlib.Path) -> tuple:
        name = f"qdrant-image-test-{uuid.uuid4().hex[:8]}"
        names.append(name)
        docker("run", "-d", "--name", name, "-p", "127.0.0.1::6333",
               "-v", f"{config}:/qdrant/config/production.yaml:ro",
               "-v", f"{storage}:/qdrant/storage", "-v", f"{snapshots}:/qdrant/snapshots",
               "--health-cmd", "bash -c 'exec 3<>/dev/tcp/127.0.0.1/6333'", "--health-interval", "1s", IMAGE)
        deadline = time.monotonic() + 30
        while docker("inspect", "-f", "{{.State.Health.Status}}", name).stdout.strip() != "healthy":
            assert time.monotonic() < deadline, docker("logs", name).stdout
            time.sleep(0.5)
        port = docker("port", name, "6333/tcp").stdout.splitlines()[0].rsplit(":", 1)[1]
        return name, f"http://127.0.0.1:{port}"

    yield run
    for name in names:
        docker("rm", "-f", name, check=False)


def test_image_keeps_data_on_host_directories(run_qdrant, tmp_path):
    config, storage, snapshots = tmp_path / "production.yaml", tmp_path / "storage", tmp_path / "snapshots"
    config.write_text(f"service:\n  api_key: {KEY}\n")
    storage.mkdir()
    snapshots.mkdir()
    name, url = run_qdrant(config, storage, snapshots)
    assert docker("exec", name, "sh", "-c", "command -v curl wget", check=False).returncode != 0  # as the real image
    client = QdrantClient(url=url, api_key=KEY, check_compatibility=False)
    client.create_collection("docs", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    client.upsert("docs", points=[models.PointStruct(id=1, vector=[1, 2])])
    snapshot = client.create_snapshot("docs")
    assert (snapshots / "docs" / snapshot.name).is_file()
    with pytest.raises(UnexpectedResponse) as refused:
        QdrantClient(url=url, check_compatibility=False).get_collections()
    assert refused.value.status_code == 401
    docker("rm", "-f", name)

    _name, url = run_qdrant(config, storage, snapshots)
    assert QdrantClient(url=url, api_key=KEY, check_compatibility=False).count("docs").count == 1
