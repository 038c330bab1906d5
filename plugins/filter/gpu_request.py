# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The gpu_request filter: how the host's containers get its GPUs, from gpu_info's facts (see its .yml docs)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.aistack.selfhosted.plugins.module_utils._gpu_request import (
    GpuSelectionError,
    gpu_request,
)


def gpu_request_filter(info, devices="all"):
    try:
        return gpu_request(info, devices)
    except GpuSelectionError as error:
        raise AnsibleFilterError(str(error)) from None


class FilterModule:
    def filters(self):
        return {"gpu_request": gpu_request_filter}
