# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

import pytest
from ansible_collections.aistack.selfhosted.plugins.module_utils._gpu_request import (
    GpuSelectionError,
    gpu_request,
)

# The H100 of the captures, and a second card as a two-GPU host would list it.
H100 = {"index": 0, "uuid": "GPU-4b330ae0-eb5b-91c6-0e55-336f75503a54", "name": "NVIDIA H100 80GB HBM3",
        "memory_total_mib": 81559}
SECOND = {"index": 1, "uuid": "GPU-0c1d2e3f-0000-1111-2222-333344445555", "name": "NVIDIA H100 80GB HBM3",
          "memory_total_mib": 81559}
CDI_ALL = ["nvidia.com/gpu=0", f"nvidia.com/gpu={H100['uuid']}", "nvidia.com/gpu=1",
           f"nvidia.com/gpu={SECOND['uuid']}", "nvidia.com/gpu=all"]


def host(gpus, cdi=(), runtime="", **more):
    return {"gpus": gpus, "pci_devices": [{"address": "0000:00:06.0"}] if gpus else [], "cdi_devices": list(cdi),
            "nvidia_container_runtime": runtime, "driver_version": "580.159.04", "cuda_version": "13.0",
            "driver_ok": bool(gpus), "driver_problem": "", **more}


def test_a_cdi_spec_gives_the_request_that_works_on_both_compose_releases():
    request = gpu_request(host([H100], CDI_ALL[:2] + ["nvidia.com/gpu=all"], "/usr/bin/nvidia-container-runtime"))
    assert request["mode"] == "cdi"
    assert request["devices"] == [{"driver": "cdi", "device_ids": ["nvidia.com/gpu=all"], "capabilities": ["gpu"]}]
    assert request["memory_mib"] == 81559
    assert request["cuda_version"] == "13.0"


def test_the_runtime_alone_gives_driver_nvidia():
    request = gpu_request(host([H100], runtime="/usr/bin/nvidia-container-runtime"))
    assert request["mode"] == "nvidia"
    assert request["devices"] == [{"driver": "nvidia", "count": "all", "capabilities": ["gpu"]}]


def test_a_gpu_without_the_toolkit_reserves_nothing_but_names_the_role_and_keeps_the_gpus():
    request = gpu_request(host([H100]))
    assert request["mode"] == "none" and request["devices"] == []
    assert "nvidia_container_toolkit" in request["reason"]
    # A native service (Ollama's binary) still uses them: the VRAM check sizes against them.
    assert request["memory_mib"] == 81559


def test_a_cpu_host_reserves_nothing():
    request = gpu_request(host([]))
    assert request == {"mode": "none", "reason": "the host has no NVIDIA GPU", "gpus": [], "memory_mib": 0,
                       "devices": [], "driver_version": "580.159.04", "cuda_version": "13.0"}


def test_a_driver_problem_is_the_reason():
    info = host([], driver_problem="Failed to initialize NVML: Driver/library version mismatch: reboot")
    info["pci_devices"] = [{"address": "0000:00:06.0"}]
    request = gpu_request(info)
    assert request["mode"] == "none" and "version mismatch" in request["reason"]


def test_a_count_selects_the_first_gpus_by_uuid():
    request = gpu_request(host([SECOND, H100], CDI_ALL), 1)
    assert request["devices"][0]["device_ids"] == [f"nvidia.com/gpu={H100['uuid']}"]
    assert request["memory_mib"] == 81559
    request = gpu_request(host([H100, SECOND], runtime="/usr/bin/nvidia-container-runtime"), "2")
    assert request["devices"] == [{"driver": "nvidia", "device_ids": [H100["uuid"], SECOND["uuid"]],
                                   "capabilities": ["gpu"]}]


def test_uuids_or_indexes_separated_by_commas():
    request = gpu_request(host([H100, SECOND], CDI_ALL), f"{SECOND['uuid']}")
    assert request["devices"][0]["device_ids"] == [f"nvidia.com/gpu={SECOND['uuid']}"]
    request = gpu_request(host([H100, SECOND], runtime="/usr/bin/nvidia-container-runtime"), ["0", "1"])
    assert request["devices"][0]["device_ids"] == [H100["uuid"], SECOND["uuid"]]
    assert request["memory_mib"] == 2 * 81559


def test_a_selection_the_host_cannot_give_is_refused():
    with pytest.raises(GpuSelectionError, match="asks for 3 GPU.*has 2"):
        gpu_request(host([H100, SECOND], CDI_ALL), 3)
    with pytest.raises(GpuSelectionError, match="GPU-missing.*its GPUs: 0 .GPU-4b33"):
        gpu_request(host([H100], CDI_ALL), "GPU-missing")


def test_a_cdi_spec_that_does_not_name_the_selected_gpu_falls_back_to_the_runtime():
    request = gpu_request(host([H100, SECOND], ["nvidia.com/gpu=0", f"nvidia.com/gpu={H100['uuid']}"],
                               "/usr/bin/nvidia-container-runtime"), SECOND["uuid"])
    assert request["mode"] == "nvidia"
