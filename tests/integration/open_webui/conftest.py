"""Fixtures: the real Open WebUI image (aistack-test/open-webui:0.12.4, `make images`) with the
Ollama and Qdrant test doubles, in Docker. Skipped, with the reason, where no engine answers."""

import pathlib
import shutil
import subprocess
import tempfile

import pytest
from owui_docker import OLLAMA_IMAGE, OPEN_WEBUI_IMAGE, QDRANT_IMAGE, Stack, docker, role_environment


@pytest.fixture(scope="module")
def engine():
    if shutil.which("docker") is None:
        pytest.skip("no docker client: the real Open WebUI runs only as an image (make setup)")
    if subprocess.run(["docker", "info"], capture_output=True, check=False).returncode != 0:
        pytest.skip("no Docker engine answers: the real Open WebUI runs only as an image (make setup)")
    missing = [image for image in (OPEN_WEBUI_IMAGE, OLLAMA_IMAGE, QDRANT_IMAGE)
               if docker("image", "inspect", image, check=False) == ""]
    if missing:
        pytest.fail(f"images missing: {', '.join(missing)}: run `make images`", pytrace=False)


@pytest.fixture(scope="module")
def stack(engine):
    """One Qdrant, two Ollama servers (different models) and Open WebUI wired to the first."""
    # Not tmp_path: the container writes the data directory, and the fixture is module-wide.
    stack = Stack(pathlib.Path(tempfile.mkdtemp(prefix="owui-it-"))).create()
    try:
        stack.first_ollama = stack.ollama("ollama", ("llama3.2:1b", "nomic-embed-text"))
        stack.second_ollama = stack.ollama("ollama-b", ("qwen2.5:0.5b", "nomic-embed-text"))
        stack.environment = role_environment([stack.first_ollama])
        stack.start_webui(stack.environment)
        yield stack
    finally:
        stack.close()
