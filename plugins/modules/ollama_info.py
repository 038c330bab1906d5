#!/usr/bin/python
# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ollama_info
short_description: Read an Ollama server's version, installed models and running models
version_added: 0.1.0
description:
  - Reads C(/api/version), C(/api/tags) and C(/api/ps) of an Ollama server, for C(register) and assertions.
  - Optionally adds the details of C(/api/show) (capabilities, context length, ...) for some models.
  - Changes nothing.
author:
  - aistack.selfhosted maintainers (@aistack)
extends_documentation_fragment:
  - aistack.selfhosted.attributes
  - aistack.selfhosted.ollama
attributes:
  check_mode:
    support: full
  diff_mode:
    support: N/A
    details: Reads only.
  idempotent:
    support: full
  platform:
    platforms: posix
options:
  show:
    description:
      - Models to describe with C(/api/show), by any name Ollama accepts (C(llama3.2) means C(llama3.2:latest)).
      - A model that is not installed is returned with C(installed=false) rather than failing.
    type: list
    elements: str
    default: []
seealso:
  - module: aistack.selfhosted.ollama_model
"""

EXAMPLES = r"""
- name: What the inference host serves
  aistack.selfhosted.ollama_info:
    show: [llama3.2]
  register: ollama

- name: The embedding model must be there
  ansible.builtin.assert:
    that:
      - "'nomic-embed-text:latest' in ollama.model_names"
      - "'completion' in ollama.shown[0].capabilities"
"""

RETURN = r"""
version:
  description: The server's version (C(/api/version)).
  returned: always
  type: str
  sample: 0.12.6
models:
  description: Installed models as C(/api/tags) lists them, newest first.
  returned: always
  type: list
  elements: dict
  sample:
    - name: llama3.2:latest
      model: llama3.2:latest
      modified_at: "2025-05-04T17:37:44.706015396-07:00"
      size: 2019393189
      digest: a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72
      details: {format: gguf, family: llama, families: [llama], parameter_size: 3.2B, quantization_level: Q4_K_M,
                parent_model: ""}
model_names:
  description: The names of the installed models, in the form C(/api/tags) uses (always with a tag).
  returned: always
  type: list
  elements: str
  sample: [llama3.2:latest, nomic-embed-text:latest]
running:
  description: Models loaded in memory (C(/api/ps)), with C(expires_at), C(size_vram) and C(context_length).
  returned: always
  type: list
  elements: dict
  sample: []
shown:
  description:
    - One item per model of O(show), in that order, with C(name) (normalised), C(installed), and when installed the
      C(/api/show) fields C(details), C(capabilities), C(model_info), C(parameters), C(template), C(modified_at).
  returned: always
  type: list
  elements: dict
  sample:
    - name: llama3.2:latest
      installed: true
      capabilities: [completion, tools]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aistack.selfhosted.plugins.module_utils._ollama_client import (
    OLLAMA_CONNECTION_ARGS,
    OllamaClient,
    OllamaError,
)
from ansible_collections.aistack.selfhosted.plugins.module_utils._ollama_name import (
    InvalidModelName,
    parse_model_name,
)

_SHOW_FIELDS = ("details", "capabilities", "model_info", "parameters", "template", "system", "license",
                "modified_at")


def describe(client, text):
    name = parse_model_name(text).display
    try:
        answer = client.request("POST", "/api/show", {"model": name}, what="describing model %s" % name) or {}
    except OllamaError as error:
        if error.status == 404:
            return dict(name=name, installed=False)
        raise
    shown = dict(name=name, installed=True)
    shown.update((key, answer[key]) for key in _SHOW_FIELDS if key in answer)
    return shown


def main():
    argument_spec = dict(show=dict(type="list", elements="str", default=[]))
    argument_spec.update(OLLAMA_CONNECTION_ARGS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    client = OllamaClient.from_module(module)
    try:
        for text in module.params["show"]:
            parse_model_name(text)  # fail on a bad name before any request
        models = client.tags()
        result = dict(
            changed=False,
            version=client.version(),
            models=models,
            model_names=[m.get("name") or m.get("model") for m in models],
            running=client.running(),
            shown=[describe(client, text) for text in module.params["show"]],
        )
    except InvalidModelName as error:
        module.fail_json(msg="show: %s" % error)
    except OllamaError as error:
        module.fail_json(msg=error.message)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
