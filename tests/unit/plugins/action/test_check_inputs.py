"""check_inputs: one row per bad input (the variable, the bad value, the expected words)."""

from __future__ import annotations

import pytest

GOOD = {"open_webui_admin_password": "correct horse battery"}
PASSWORD_80 = "p" * 80

# (variables set, the variable the message must name, words the message must hold)
ERRORS = [
    ({"open_webui_admin_password": PASSWORD_80}, "open_webui_admin_password", ["80 bytes", "8 to 72 bytes"]),
    ({"open_webui_admin_password": "é" * 40}, "open_webui_admin_password", ["80 bytes"]),
    ({"open_webui_admin_password": "short"}, "open_webui_admin_password", ["5 bytes", "8 to 72"]),
    ({"open_webui_secret_key": "abc"}, "open_webui_secret_key", ["3 characters", "32 characters or more"]),
    ({"open_webui_url": "chat.example.org"}, "open_webui_url", ["not a URL", "https://"]),
    ({"open_webui_url": "ftp://chat.example.org"}, "open_webui_url", ["not a URL", "scheme"]),
    ({"open_webui_url": "https://"}, "open_webui_url", ["not a URL", "host"]),
    ({"open_webui_admin_email": "admin"}, "open_webui_admin_email", ["not an e-mail address", "local@domain"]),
    ({"open_webui_admin_email": "a@b@c"}, "open_webui_admin_email", ["not an e-mail address"]),
    ({"ollama_num_parallel": -1}, "ollama_num_parallel", ["-1 is out of range", "from 0"]),
    ({"ollama_gpu": "maybe"}, "ollama_gpu", ["'maybe' is not accepted", "auto, true, false"]),
    ({"open_webui_ollama_group": "gpu_hosts"}, "open_webui_ollama_group",
     ["not a group of the inventory", "inference"]),
    ({"aistack_data_dir": "/"}, "aistack_data_dir", ["root directory", "absolute path"]),
    ({"aistack_data_dir": "/var/"}, "aistack_data_dir", ["system directory /var"]),
    ({"aistack_model_dir": "srv/models"}, "aistack_model_dir", ["not an absolute path"]),
    ({"aistack_secrets_dir": "/etc"}, "aistack_secrets_dir", ["system directory /etc"]),
    ({"qdrant_storage_dir": "/usr/../usr"}, "qdrant_storage_dir", ["system directory /usr"]),
    ({"ollama_keep_alive": "forever"}, "ollama_keep_alive", ["not a duration", "5m", "negative"]),
    ({"ollama_keep_alive": "5 minutes"}, "ollama_keep_alive", ["not a duration"]),
    ({"ollama_port": 70000}, "ollama_port", ["70000 is not a port", "1 to 65535"]),
    ({"ollama_port": 0}, "ollama_port", ["0 is not a port"]),
    ({"qdrant_http_port": "http"}, "qdrant_http_port", ["qdrant_http_port", "int"]),
    ({"open_webui_port": 11434}, "open_webui_port", ["also the host port of ollama_port", "no other service"]),
    ({"qdrant_exposure": "loopback", "qdrant_http_port": 3000}, "open_webui_port",
     ["3000 is also the host port of qdrant_http_port"]),
    ({"qdrant_publish_grpc": True, "qdrant_exposure": "public", "qdrant_grpc_port": 6333}, "qdrant_grpc_port",
     ["host port of qdrant_http_port"]),
    ({"ollama_image": ""}, "ollama_image", ["image is empty", "explicit version tag"]),
    ({"qdrant_image": "Qdrant/Qdrant:v1"}, "qdrant_image", ["not an image reference", "lowercase"]),
    ({"open_webui_image": "ghcr.io/open-webui/open-webui:v 1"}, "open_webui_image", ["white space"]),
    ({"ollama_models": [{"name": "llama3.1:8b", "state": "installed"}]}, "ollama_models[0].state",
     ["'installed' is not accepted", "present, absent, latest"]),
    ({"ollama_models": ["llama3.1:8b", {"name": "Llama3.1:8B"}]}, "ollama_models[1].name",
     ["listed twice", "ollama_models[0]"]),
    ({"ollama_models": ["llama3.2", "llama3.2:latest"]}, "ollama_models[1].name", ["listed twice"]),
    ({"ollama_models": ["bad name!"]}, "ollama_models[0].name", ["invalid model name"]),
    ({"ollama_models": [{"state": "present"}]}, "ollama_models[0].name", ["is missing"]),
    ({"ollama_models": [5]}, "ollama_models[0]", ["not a dict", "name"]),
    ({"qdrant_collections": [{"name": "docs", "vector_size": 0, "distance": "Cosine"}]},
     "qdrant_collections[0].vector_size", ["out of range", "from 1"]),
    ({"qdrant_collections": [{"name": "docs", "vector_size": 768, "distance": "cosine"}]},
     "qdrant_collections[0].distance", ["'cosine' is not accepted", "Cosine, Dot, Euclid, Manhattan"]),
    ({"qdrant_collections": [{"vector_size": 768}]}, "qdrant_collections[0].name", ["is missing"]),
    ({"qdrant_collections": [{"name": "a/b", "vector_size": 8}]}, "qdrant_collections[0].name", ["does not match"]),
    ({"qdrant_collections": [{"name": "docs", "vector_size": 8}, {"name": "docs", "vector_size": 16}]},
     "qdrant_collections[1].name", ["listed twice"]),
    ({"qdrant_collections": [{"name": "docs", "vector_size": "big"}]}, "qdrant_collections[0].vector_size",
     ["not an integer"]),
    ({"open_webui_chunk_overlap": 1000}, "open_webui_chunk_overlap",
     ["not smaller than open_webui_chunk_size", "1000"]),
    ({"open_webui_chunk_size": 100, "open_webui_chunk_overlap": 200}, "open_webui_chunk_overlap",
     ["not smaller than open_webui_chunk_size (100)"]),
    ({"open_webui_rag_top_k": 0}, "open_webui_rag_top_k", ["0 is out of range", "at least 1"]),
    ({"open_webui_chunk_size": 0}, "open_webui_chunk_size", ["out of range"]),
    ({"ollama_kv_cache_type": "q8_0"}, "ollama_flash_attention",
     ["null is not accepted", "ollama_kv_cache_type is 'q8_0'", "accepted: true"]),
    ({"ollama_kv_cache_type": "q4_1"}, "ollama_kv_cache_type", ["must be one of", "q8_0"]),
    ({"ollama_exposure": "wide"}, "ollama_exposure", ["must be one of", "loopback, private, public"]),
    ({"ollama_install_method": "native"}, "ollama_native_checksum", ["does not match", "sha256:<64"]),
    ({"aistack_private_address": "10.0.0.300"}, "aistack_private_address", ["not an IP address"]),
    ({"aistack_project_name": "My Stack"}, "aistack_project_name", ["does not match", "lowercase"]),
    ({"aistack_wait_timeout": 0}, "aistack_wait_timeout", ["out of range"]),
    ({"aistack_bind_address": "0.0.0.0"}, "aistack_bind_address", ["no longer exists", "ollama_exposure"]),
    ({"open_webui_qdrant_url": "qdrant:6333"}, "open_webui_qdrant_url", ["not a URL"]),
    ({"open_webui_ollama_base_urls": ["http://a:11434", "localhost"]}, "open_webui_ollama_base_urls[1]",
     ["not a URL"]),
    ({"open_webui_embedding_model": "nomic embed"}, "open_webui_embedding_model", ["invalid model name"]),
    ({"ollama_pull_retries": "many"}, "ollama_pull_retries", ["ollama_pull_retries", "int"]),
    ({"docker_source": "snap"}, "docker_source", ["must be one of", "upstream, distro"]),
    ({"docker_upstream_repo_url": "download.docker.com"}, "docker_upstream_repo_url", ["not a URL"]),
    ({"docker_packages": []}, "docker_packages", ["0 items", "1 items or more"]),
    ({"docker_packages_state": "latest", "docker_packages": ["docker-ce=5:28.5.2"]}, "docker_packages[0]",
     ["does not match", "docker_packages_state is 'latest'"]),
    ({"docker_image_archive_dir": "/var/lib"}, "docker_image_archive_dir", ["system directory /var/lib"]),
    ({"open_webui_environment": {"ENABLE_SIGNUP": "True"}}, "open_webui_environment['ENABLE_SIGNUP']",
     ["does not match", "set its open_webui_* variable instead"]),
    ({"open_webui_environment": {"OPENAI_API_KEY": "sk-1"}}, "open_webui_environment['OPENAI_API_KEY']",
     ["names no secret"]),
    ({"open_webui_environment": {"DATA_DIR": "/tmp"}}, "open_webui_environment['DATA_DIR']", ["does not match"]),
    ({"ollama_environment": {"OLLAMA_HOST": "0.0.0.0:11434"}}, "ollama_environment['OLLAMA_HOST']",
     ["does not match", "ollama_exposure"]),
    ({"ollama_environment": {"OLLAMA_KEEP_ALIVE": "forever"}}, "ollama_environment['OLLAMA_KEEP_ALIVE']",
     ["does not match"]),
    ({"ollama_environment": {"1BAD": "x"}}, "ollama_environment['1BAD']", ["environment variable name"]),
    ({"qdrant_api_key": "short"}, "qdrant_api_key", ["the secret is 5 characters long", "16 characters or more"]),
]

WARNINGS = [
    ({"ollama_modles": ["llama3.1:8b"]}, "ollama_modles", ["not a variable", "did you mean ollama_models"]),
    ({"open_webui_admin_passwd": "x"}, "open_webui_admin_passwd", ["did you mean open_webui_admin_password"]),
    ({"qdrant_colections": []}, "qdrant_colections", ["did you mean qdrant_collections"]),
    ({"aistack_datadir": "/srv/x"}, "aistack_datadir", ["did you mean aistack_data_dir"]),
    ({"ollama_image": "ollama/ollama:latest"}, "ollama_image", ["floating tag :latest"]),
    ({"qdrant_image": "qdrant/qdrant"}, "qdrant_image", ["no tag"]),
]


def _line_for(lines, name):
    return [line for line in lines if line.startswith(name + ":")]


@pytest.mark.parametrize(("variables", "name", "words"), ERRORS, ids=[row[1] for row in ERRORS])
def test_bad_input_is_refused_naming_the_variable(check, variables, name, words):
    result = check({**GOOD, **variables})
    assert result["failed"] is True
    assert result["changed"] is False
    lines = _line_for(result["errors"], name)
    assert lines, result["errors"]
    assert any(all(word in line for word in words) for line in lines), lines
    assert any("accepted" in line or "must be one of" in line or "type" in line or "exists" in line
               for line in lines)


@pytest.mark.parametrize(("variables", "name", "words"), WARNINGS, ids=[row[1] for row in WARNINGS])
def test_doubtful_input_is_a_warning_only(check, variables, name, words):
    result = check({**GOOD, **variables})
    assert not result.get("failed"), result["errors"]
    lines = _line_for(result["input_warnings"], name)
    assert lines and all(word in lines[0] for word in words), result["input_warnings"]


def test_the_defaults_and_good_values_pass(check):
    result = check({**GOOD, "ollama_models": ["llama3.1:8b", {"name": "qwen3:4b", "state": "latest"}],
                    "ollama_keep_alive": "-1", "open_webui_url": "https://chat.example.org",
                    "qdrant_collections": [{"name": "docs", "vector_size": 768, "distance": "Cosine"}],
                    "ollama_kv_cache_type": "q8_0", "ollama_flash_attention": True, "ollama_gpu": "yes",
                    "ollama_environment": {"OLLAMA_DEBUG": "1", "OLLAMA_MODELS": "/models"},
                    "open_webui_environment": {"ENABLE_API_KEY": "True", "WEBUI_NAME": "Lab"},
                    "qdrant_api_key": "k" * 32})
    assert not result.get("failed"), result["errors"]
    assert result["changed"] is False
    assert result["input_warnings"] == []


def test_every_problem_is_reported_at_once(check):
    bad = {**ERRORS[0][0], **ERRORS[3][0], **ERRORS[9][0], **ERRORS[12][0], **ERRORS[17][0], **ERRORS[19][0]}
    result = check(bad)
    named = {line.split(":", 1)[0] for line in result["errors"]}
    assert named >= {"open_webui_admin_password", "open_webui_secret_key", "ollama_num_parallel",
                     "aistack_data_dir", "ollama_keep_alive", "ollama_port"}
    assert result["msg"].count("\n- ") == len(result["errors"])


def test_secrets_are_never_printed(check):
    secret = "s3cr3t-" + "x" * 80
    result = check({"open_webui_admin_password": secret, "open_webui_secret_key": "abc",
                    "qdrant_api_key": ["not", "a", "string"]})
    text = repr(result)
    assert secret not in text and "'abc'" not in text
    assert any(line.startswith("open_webui_admin_password:") for line in result["errors"])


def test_a_missing_required_secret_is_named(check):
    result = check({})
    assert any("open_webui_admin_password" in line for line in result["errors"])


def test_only_the_roles_named_are_checked(check):
    result = check({"ollama_port": 70000, "ollama_modles": []}, roles=["aistack.selfhosted.docker"])
    assert not result.get("failed"), result["errors"]
    assert result["input_warnings"] == []  # ollama_* is not a prefix of the docker role


def test_templates_are_resolved_before_checking(check):
    result = check({**GOOD, "base_port": 11434, "open_webui_port": "{{ base_port }}"})
    assert any(line.startswith("open_webui_port: 11434 is also") for line in result["errors"])
    result = check({**GOOD, "aistack_data_dir": "/srv/aistack/data", "open_webui_data_dir": "{{ aistack_data_dir }}"})
    assert not result.get("failed"), result["errors"]


def test_private_and_ignored_names_are_not_warned_about(check):
    result = check({**GOOD, "_ollama_arch": "amd64", "__ollama_result": {}, "aistack_service": "ollama",
                    "aistack_declared_services": {}}, ignore=["aistack_service"])
    assert result["input_warnings"] == []


def test_there_are_enough_rows():
    assert len(ERRORS) + len(WARNINGS) >= 40
