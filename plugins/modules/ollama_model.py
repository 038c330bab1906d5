#!/usr/bin/python
# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ollama_model
short_description: Declare which models an Ollama server has installed
version_added: 0.1.0
description:
  - Pulls the models that are missing, updates models declared C(latest), and removes models declared
    C(absent) or, with O(prune), every installed model that is not declared.
  - One C(GET /api/tags) request decides what is missing, whatever the number of models. A model that is
    installed and declared C(present) is never pulled again, so the module works offline once models are there.
  - Model names are normalised as Ollama does (default tag C(latest), namespace C(library), host
    C(registry.ollama.ai), case-insensitive), so C(llama3.1) and C(llama3.1:latest) are the same model.
    An invalid name fails before any request.
  - Pulls are streamed line by line (constant memory for multi-GB models), have no read timeout while
    progress flows (only O(pull_timeout) bounds them), and are retried when the stream is cut; Ollama
    resumes what it already downloaded.
  - Talks to the Ollama HTTP API from the target; no Python library is needed there.
author:
  - aistack.selfhosted maintainers (@aistack)
extends_documentation_fragment:
  - aistack.selfhosted.attributes
  - aistack.selfhosted.ollama
attributes:
  check_mode:
    support: partial
    details:
      - Reports what would be pulled or removed and changes nothing.
      - Whether a registry has a newer version of an installed model cannot be known without pulling it, so
        models declared C(latest) that are installed are reported as would-be pulled (changed).
  diff_mode:
    support: full
    details:
      - The list of installed models (name and short digest) before and after.
  platform:
    platforms: posix
  idempotent:
    support: partial
    details:
      - C(present) and C(absent) are idempotent. C(latest) reports a change only when the digest of the model
        changed, but a new version published in the registry between two runs is a change.
options:
  name:
    description:
      - One model, for example C(llama3.2), C(qwen2.5:7b) or C(hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M).
      - Mutually exclusive with O(models).
    type: str
  models:
    description:
      - Several models. Each item is a name, or a dictionary with C(name) and its own C(state)
        (O(state) when not given), and optionally C(size_gb), the memory it needs, which this module ignores (the
        ollama role's VRAM check reads it).
      - A model listed twice with different states is an error.
    type: list
    elements: raw
  state:
    description:
      - C(present) pulls a model only if it is not installed.
      - C(latest) pulls every time and reports a change only when the model's digest changed.
      - C(absent) removes the model if it is installed.
    type: str
    choices: [present, absent, latest]
    default: present
  prune:
    description:
      - Also remove every installed model that is not in O(name) or O(models).
    type: bool
    default: false
  pull_timeout:
    description:
      - Seconds a whole pull of one model may take, retries included. Raise it for very large models on slow links.
    type: int
    default: 3600
  retries:
    description:
      - How many times a pull is tried again when its stream is cut, the connection fails or a proxy answers
        502, 503 or 504. Errors that Ollama states (unknown model, disk full) are not retried.
    type: int
    default: 3
notes:
  - Ollama must be running; the module does not install or start it.
  - The pull happens on the Ollama server, which needs access to the model registry; C(present) for an installed
    model never needs it.
seealso:
  - module: aistack.selfhosted.ollama_info
  - name: Ollama API
    description: The HTTP API this module uses.
    link: https://github.com/ollama/ollama/blob/main/docs/api.md
"""

EXAMPLES = r"""
- name: Models of the inference host
  aistack.selfhosted.ollama_model:
    models:
      - llama3.2
      - nomic-embed-text
      - name: qwen2.5:7b
        state: latest
      - name: mistral
        state: absent

- name: Exactly these models, nothing else
  aistack.selfhosted.ollama_model:
    models: "{{ ollama_models }}"
    prune: true

- name: A model from Hugging Face, through a proxy that wants a token
  aistack.selfhosted.ollama_model:
    name: hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M
    api_url: https://ollama.example.com
    api_key: "{{ vault_ollama_proxy_token }}"
    pull_timeout: 7200
  register: pulled

- name: How long the pull took
  ansible.builtin.debug:
    msg: "{{ pulled.pulled | map(attribute='seconds') | list }}"
"""

RETURN = r"""
models:
  description: Installed models before and after the run (after is predicted in check mode).
  returned: always
  type: dict
  contains:
    before:
      description:
        - Models installed before, each with C(name), C(digest) (sha256 of the manifest), C(size), C(modified_at).
      type: list
      elements: dict
    after:
      description: Models installed after, same fields; a model still to be pulled in check mode has no digest.
      type: list
      elements: dict
  sample:
    before: []
    after:
      - name: llama3.2:latest
        digest: a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72
        size: 2019393189
        modified_at: "2025-05-04T17:37:44.706015396-07:00"
pulled:
  description: Models pulled (or, in check mode, that would be pulled).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The model as Ollama lists it.
      type: str
    state:
      description: The state it was declared with.
      type: str
    digest_before:
      description: Its digest before the pull, null if it was not installed.
      type: str
    digest:
      description: Its digest after the pull (null in check mode).
      type: str
    changed:
      description: Whether the pull installed or changed the model.
      type: bool
    bytes:
      description: Bytes Ollama downloaded for it (layers already on disk do not count).
      type: int
    seconds:
      description: Wall time of the pull, retries included.
      type: float
    attempts:
      description: Pull attempts made (1 without retries).
      type: int
  sample:
    - name: llama3.2:latest
      state: present
      digest_before: null
      digest: a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72
      changed: true
      bytes: 2019393189
      seconds: 95.2
      attempts: 1
removed:
  description: Models removed (or that would be removed).
  returned: always
  type: list
  elements: str
  sample: [mistral:latest]
unchanged:
  description: Declared models that needed nothing.
  returned: always
  type: list
  elements: str
  sample: [nomic-embed-text:latest]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aistack.selfhosted.plugins.module_utils._ollama_client import (
    OLLAMA_CONNECTION_ARGS,
    OllamaClient,
    OllamaError,
)
from ansible_collections.aistack.selfhosted.plugins.module_utils._ollama_name import parse_model_name
from ansible_collections.aistack.selfhosted.plugins.module_utils._ollama_plan import (
    declare,
    diff_text,
    index_installed,
    make_plan,
    summary,
)


def predicted_after(before, plan):
    removed = {id(entry) for entry in plan.remove}
    after = [summary(entry) for entry in before if id(entry) not in removed]
    for item, entry in plan.pull:
        if entry is None:
            after.append(dict(name=item.name.display, digest=None, size=None, modified_at=None))
    return after


def settle(result, after):
    """Fill in digests and changed from the /api/tags answer after the run; returns a pulled name it lacks."""
    installed = index_installed(after)
    missing = None
    for pulled in result["pulled"]:
        entry = installed.get(parse_model_name(pulled["name"]).key)
        if entry is None:
            missing = pulled["name"]
            continue
        pulled["name"] = entry.get("name") or pulled["name"]
        pulled["digest"] = entry.get("digest")
        pulled["changed"] = pulled["digest"] != pulled["digest_before"]
        if not pulled["changed"]:
            result["unchanged"].append(pulled["name"])
    result["models"]["after"] = [summary(entry) for entry in after]
    result["changed"] = bool(result["removed"]) or any(p["changed"] for p in result["pulled"])
    return missing


def run(module, client):
    params = module.params
    declared = declare(params["name"], params["models"], params["state"])
    before = client.tags()
    plan = make_plan(declared, before, params["prune"])
    result = dict(changed=False, pulled=[], removed=[], unchanged=list(plan.unchanged),
                  models=dict(before=[summary(entry) for entry in before], after=None))

    if module.check_mode:
        for item, entry in plan.pull:
            result["pulled"].append(dict(name=entry["name"] if entry else item.name.display, state=item.state,
                                         digest_before=entry.get("digest") if entry else None, digest=None,
                                         changed=True, bytes=0, seconds=0.0, attempts=0))
        result["removed"] = [entry["name"] for entry in plan.remove]
        result["models"]["after"] = predicted_after(before, plan)
        result["changed"] = bool(plan.pull or plan.remove)
        return result

    try:
        # Removing first frees disk space for the pulls that follow.
        for entry in plan.remove:
            if client.delete(entry["name"]):
                result["removed"].append(entry["name"])
        for item, entry in plan.pull:
            name = entry["name"] if entry else item.name.display
            outcome = client.pull(name, params["pull_timeout"], params["retries"])
            result["pulled"].append(dict(
                name=name, state=item.state, digest_before=entry.get("digest") if entry else None, digest=None,
                changed=None, bytes=outcome["bytes"], seconds=outcome["seconds"], attempts=outcome["attempts"]))
    except OllamaError as error:
        # Say what was done before the failure: a pulled model stays installed.
        try:
            settle(result, client.tags())
        except OllamaError:
            result["changed"] = bool(result["removed"] or result["pulled"])
        module.fail_json(msg=error.message, **result)

    missing = settle(result, client.tags() if (plan.pull or plan.remove) else before)
    if missing:
        module.fail_json(msg="pulling model %s reported success, but %s/api/tags does not list it"
                         % (missing, client.base_url), **result)
    return result


def main():
    argument_spec = dict(
        name=dict(type="str"),
        models=dict(type="list", elements="raw"),
        state=dict(type="str", default="present", choices=["present", "absent", "latest"]),
        prune=dict(type="bool", default=False),
        pull_timeout=dict(type="int", default=3600),
        retries=dict(type="int", default=3),
    )
    argument_spec.update(OLLAMA_CONNECTION_ARGS)
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[("name", "models")],
        required_one_of=[("name", "models")],
        supports_check_mode=True,
    )
    if module.params["pull_timeout"] <= 0 or module.params["retries"] < 0:
        module.fail_json(msg="pull_timeout must be positive and retries not negative")
    client = OllamaClient.from_module(module)
    try:
        result = run(module, client)
    except ValueError as error:
        module.fail_json(msg=str(error))
    except OllamaError as error:
        module.fail_json(msg=error.message)
    if module._diff:
        result["diff"] = dict(before=diff_text(result["models"]["before"]),
                              after=diff_text(result["models"]["after"]),
                              before_header="%s/api/tags" % client.base_url,
                              after_header="%s/api/tags" % client.base_url)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
