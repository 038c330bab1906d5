# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How this host's containers get its NVIDIA GPUs: one decision, from the gpu_info facts, for every service.

CDI first: `{driver: cdi, device_ids: [nvidia.com/gpu=...], capabilities: [gpu]}` is the one request that
worked on both Compose 2.26.1 and 2.40.3 (checked on an H100). Where the NVIDIA runtime is installed but
no CDI spec names the GPUs, the older `driver: nvidia` request. Neither: no reservation (a CPU host).
"""

from __future__ import annotations

CDI_KIND = "nvidia.com/gpu"
TOOLKIT_ROLE = "aistack.selfhosted.nvidia_container_toolkit"
# The selections that mean every GPU of the host.
EVERY_GPU = (None, "", "all")


class GpuSelectionError(ValueError):
    """The selected GPUs do not exist on the host; the message says which and what there is."""


def _selected(gpus, devices):
    """The GPUs `devices` selects: "all", a count (the first N by index), or UUIDs or indexes (a list, or a
    string separated by commas)."""
    if devices in EVERY_GPU:
        return list(gpus)
    if isinstance(devices, int) or (isinstance(devices, str) and devices.isdigit()):
        count = int(devices)
        if count < 1 or count > len(gpus):
            raise GpuSelectionError(
                f"aistack_gpu_devices asks for {count} GPU(s) but the host has {len(gpus)}"
            )
        return sorted(gpus, key=lambda gpu: gpu["index"])[:count]
    if isinstance(devices, str):
        devices = [device.strip() for device in devices.split(",") if device.strip()]
    by_key = {str(gpu["uuid"]): gpu for gpu in gpus}
    by_key.update({str(gpu["index"]): gpu for gpu in gpus})
    unknown = [str(device) for device in devices if str(device) not in by_key]
    if unknown:
        present = ", ".join(f"{gpu['index']} ({gpu['uuid']})" for gpu in gpus) or "none"
        raise GpuSelectionError(
            f"aistack_gpu_devices names {', '.join(unknown)}, which this host does not have; its GPUs: {present}"
        )
    return [by_key[str(device)] for device in devices]


def _cdi_ids(selected, every):
    return [f"{CDI_KIND}=all"] if every else [f"{CDI_KIND}={gpu['uuid']}" for gpu in selected]


def _nvidia_request(selected, every):
    if every:
        return {"driver": "nvidia", "count": "all", "capabilities": ["gpu"]}
    return {"driver": "nvidia", "device_ids": [gpu["uuid"] for gpu in selected], "capabilities": ["gpu"]}


def _result(mode, reason, info, selected=(), devices=()):
    return {"mode": mode, "reason": reason, "gpus": list(selected),
            "memory_mib": sum(gpu.get("memory_total_mib") or 0 for gpu in selected), "devices": list(devices),
            "driver_version": info.get("driver_version") or "", "cuda_version": info.get("cuda_version") or ""}


def _none(reason, info, selected=()):
    return _result("none", reason, info, selected)


def gpu_request(info, devices="all"):
    """{mode: cdi|nvidia|none, reason, gpus (selected), memory_mib (theirs), devices (the Compose request)}.

    With a working driver but no container toolkit, `gpus` still lists them (mode none): a native service
    (Ollama's binary) uses them all the same.
    """
    gpus = info.get("gpus") or []
    if not gpus:
        if info.get("driver_problem"):
            return _none(info["driver_problem"], info)
        if info.get("pci_devices"):
            return _none("the host has an NVIDIA GPU but nvidia-smi lists none: is the NVIDIA driver installed?", info)
        return _none("the host has no NVIDIA GPU", info)
    selected = _selected(gpus, devices)
    every = devices in EVERY_GPU
    cdi_ids = _cdi_ids(selected, every)
    known = set(info.get("cdi_devices") or [])
    if all(device in known for device in cdi_ids):
        mode, reason, request = "cdi", "CDI spec names the GPUs", {
            "driver": "cdi", "device_ids": cdi_ids, "capabilities": ["gpu"]}
    elif info.get("nvidia_container_runtime"):
        mode, reason, request = "nvidia", "NVIDIA container runtime (no CDI spec names the GPUs)", _nvidia_request(
            selected, every)
    else:
        return _none(f"the host has {len(gpus)} NVIDIA GPU(s) but Docker cannot use them: the NVIDIA container "
                     f"toolkit is not set up (role {TOOLKIT_ROLE})", info, selected)
    return _result(mode, reason, info, selected, [request])
