"""The ollama_model_name filter, on its own and through Ansible's templating."""

import subprocess
import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.aistack.selfhosted.plugins.filter.ollama_model_name import FilterModule

name_filter = FilterModule().filters()["ollama_model_name"]


@pytest.mark.parametrize(("text", "short", "full"), [
    ("llama3.2", "llama3.2:latest", "registry.ollama.ai/library/llama3.2:latest"),
    ("registry.ollama.ai/library/qwen2.5:7b", "qwen2.5:7b", "registry.ollama.ai/library/qwen2.5:7b"),
    ("hf.co/user/repo:Q4_K_M", "hf.co/user/repo:Q4_K_M", "hf.co/user/repo:Q4_K_M"),
])
def test_short_and_qualified_forms(text, short, full):
    assert name_filter(text) == short
    assert name_filter(text, qualified=True) == full


def test_invalid_names_fail_saying_why():
    with pytest.raises(AnsibleFilterError, match="namespace may not contain '.'"):
        name_filter("my.ns/model")


def test_the_filter_works_by_its_fqcn_in_a_template():
    repo = Path(__file__).resolve().parents[4]
    template = "msg={{ ['llama3.2', 'mistral:7b'] | map('aistack.selfhosted.ollama_model_name') }}"
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible"), "localhost", "-i", "localhost,", "-c", "local", "-m",
         "ansible.builtin.debug", "-a", template],
        capture_output=True, text=True, check=False,
        env={"ANSIBLE_CONFIG": str(repo / "ansible.cfg"), "ANSIBLE_COLLECTIONS_PATH": str(repo / "collections"),
             "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "ANSIBLE_NOCOLOR": "1"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "llama3.2:latest" in proc.stdout
    assert "mistral:7b" in proc.stdout
