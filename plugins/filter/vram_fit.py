# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ollama_model_memory and vram_fit filters: will the declared models fit in the GPUs (see their .yml docs)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.aistack.selfhosted.plugins.module_utils import _model_memory


def ollama_model_memory(model, context_length=4096, num_parallel=1, *, overhead_mib=_model_memory.OVERHEAD_MIB):
    try:
        return _model_memory.model_memory(model, int(context_length), int(num_parallel), overhead_mib=int(overhead_mib))
    except (TypeError, ValueError) as error:
        raise AnsibleFilterError("ollama_model_memory: %s" % error) from None


# Past the headroom, by keyword only: a row of bare numbers in a template would be unreadable.
def vram_fit(models, memory_mib, headroom_percent=17, *, context_length=4096, num_parallel=1, loaded_together=1,
             device="GPU", overhead_mib=_model_memory.OVERHEAD_MIB):
    try:
        return _model_memory.vram_fit(models, memory_mib, headroom_percent, context_length=int(context_length),
                                      num_parallel=int(num_parallel), loaded_together=loaded_together,
                                      device=str(device), overhead_mib=int(overhead_mib))
    except (TypeError, ValueError) as error:
        raise AnsibleFilterError("vram_fit: %s" % error) from None


class FilterModule:
    def filters(self):
        return {"ollama_model_memory": ollama_model_memory, "vram_fit": vram_fit}
