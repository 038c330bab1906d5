# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ollama_model_name filter: a model reference in the form Ollama lists it (see its .yml docs)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.aistack.selfhosted.plugins.module_utils._ollama_name import (
    InvalidModelName,
    parse_model_name,
)


def ollama_model_name(name, qualified=False):
    try:
        parsed = parse_model_name(name)
    except InvalidModelName as error:
        raise AnsibleFilterError(str(error)) from None
    return parsed.fully_qualified if qualified else parsed.display


class FilterModule:
    def filters(self):
        return {"ollama_model_name": ollama_model_name}
