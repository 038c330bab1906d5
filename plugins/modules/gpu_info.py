#!/usr/bin/python
# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gpu_info
short_description: Read the host's NVIDIA GPUs, driver, CUDA version and CDI devices
version_added: 0.1.0
description:
  - Lists the NVIDIA display controllers on the PCI bus from sysfs (no C(lspci) needed), so a GPU is seen
    before any driver is installed.
  - Where C(nvidia-smi) is installed, runs C(nvidia-smi --query-gpu=... --format=csv,noheader,nounits) for each
    GPU's name, memory and MIG mode, and C(nvidia-smi -q) for the CUDA version the driver supports. A GPU on the
    PCI bus without C(nvidia-smi) is reported as a driver problem.
  - Lists the device names of the CDI specs of kind C(nvidia.com/gpu) (as C(nvidia-ctk cdi generate) writes
    them) and whether C(nvidia-container-runtime) is installed.
  - A broken driver does not fail the task; RV(driver_ok) and RV(driver_problem) say what is wrong and what
    to do, and the caller decides. A host without NVIDIA GPU returns RV(gpus=[]).
  - Changes nothing.
author:
  - aistack.selfhosted maintainers (@aistack)
extends_documentation_fragment:
  - aistack.selfhosted.attributes
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
  nvidia_smi:
    description:
      - The C(nvidia-smi) program, a path or a name looked up on E(PATH).
      - By default C(nvidia-smi) on E(PATH), then C(/usr/bin/nvidia-smi), then C(/usr/local/nvidia/bin/nvidia-smi)
        (where some cloud images and GPU virtual machines keep the driver's files).
    type: str
  pci_devices_path:
    description:
      - The sysfs directory of PCI devices, one directory per device with its C(vendor), C(device) and C(class)
        files.
    type: path
    default: /sys/bus/pci/devices
  cdi_spec_dirs:
    description:
      - Directories of CDI specs (C(*.yaml), C(*.yml), C(*.json)), the ones container engines read.
    type: list
    elements: path
    default: [/etc/cdi, /var/run/cdi]
notes:
  - "RV(driver_ok=false) with an empty RV(driver_problem) means a host without NVIDIA GPU: none on the PCI bus
    and no C(nvidia-smi)."
  - This module does not install drivers; RV(driver_problem) says how to fix the driver it found.
seealso:
  - name: NVIDIA Container Device Interface
    description: CDI support of the NVIDIA container toolkit.
    link: https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/cdi-support.html
"""

EXAMPLES = r"""
- name: Read the GPUs
  aistack.selfhosted.gpu_info:
  register: gpu

- name: A GPU host needs a working driver
  ansible.builtin.assert:
    that: gpu.driver_ok
    fail_msg: "{{ gpu.driver_problem }}"
  when: gpu.pci_devices | length > 0

- name: Reserve GPUs by CDI where the spec lists them
  ansible.builtin.set_fact:
    gpu_by_cdi: "{{ 'nvidia.com/gpu=all' in gpu.cdi_devices }}"

- name: Do the declared models fit in the GPUs' memory?
  ansible.builtin.debug:
    msg: "{{ (ollama_models | aistack.selfhosted.vram_fit(gpu_memory_mib)).message }}"
  vars:
    ollama_models: [llama3.1:8b, mistral:7b]
    gpu_memory_mib: "{{ gpu.gpus | map(attribute='memory_total_mib') | sum }}"
"""

RETURN = r"""
pci_devices:
  description:
    - NVIDIA display controllers on the PCI bus (class C(0x0300xx) VGA or C(0x0302xx) 3D controller), by address.
    - Other functions of an NVIDIA card (audio C(0x0403xx)) are not listed.
  returned: always
  type: list
  elements: dict
  sample:
    - {address: "0000:00:06.0", vendor: "0x10de", device: "0x2330", class: "0x030200"}
gpus:
  description:
    - One item per GPU that C(nvidia-smi) lists, in its order; empty without GPU or with a broken driver.
    - C(compute_capability), C(mig_mode) (C(Enabled) or C(Disabled)) and the memory figures are null when the GPU
      does not report them.
  returned: always
  type: list
  elements: dict
  contains:
    index:
      description: nvidia-smi's index of the GPU.
      type: int
    uuid:
      description: The GPU's UUID (C(GPU-...)), also a CDI device name.
      type: str
    name:
      description: The product name.
      type: str
    pci_bus_id:
      description: The PCI address as nvidia-smi writes it.
      type: str
    driver_version:
      description: The driver's version.
      type: str
    compute_capability:
      description: CUDA compute capability (C(9.0) for Hopper).
      type: str
    memory_total_mib:
      description: Memory of the GPU in MiB.
      type: int
    memory_used_mib:
      description: Memory in use in MiB.
      type: int
    memory_free_mib:
      description: Memory free in MiB.
      type: int
    mig_mode:
      description: Current MIG mode.
      type: str
  sample:
    - index: 0
      uuid: GPU-4b330ae0-eb5b-91c6-0e55-336f75503a54
      name: NVIDIA H100 80GB HBM3
      pci_bus_id: "00000000:00:06.0"
      driver_version: 580.159.04
      compute_capability: "9.0"
      memory_total_mib: 81559
      memory_used_mib: 0
      memory_free_mib: 81079
      mig_mode: Disabled
driver_version:
  description: The NVIDIA driver's version, empty when no working driver answered.
  returned: always
  type: str
  sample: 580.159.04
cuda_version:
  description: The newest CUDA version the driver supports (C(nvidia-smi -q)), empty when unknown.
  returned: always
  type: str
  sample: "13.0"
driver_ok:
  description:
    - Whether C(nvidia-smi) ran and listed at least one GPU.
    - False with an empty RV(driver_problem) on a host without NVIDIA GPU.
  returned: always
  type: bool
  sample: true
driver_problem:
  description: What is wrong with the driver and what to do, with nvidia-smi's own words; empty when none.
  returned: always
  type: str
  sample: >-
    The NVIDIA kernel module and the driver's user-space libraries are different versions, as after a driver
    upgrade without a reboot (nvidia-smi: Failed to initialize NVML: Driver/library version mismatch). Reboot
    the host, or unload and reload the nvidia kernel modules (nothing may be using the GPU).
cdi_devices:
  description:
    - Fully qualified device names of every CDI spec of kind C(nvidia.com/gpu) in O(cdi_spec_dirs), in file order.
  returned: always
  type: list
  elements: str
  sample: [nvidia.com/gpu=0, nvidia.com/gpu=GPU-872d4beb-9491-3204-4fd0-2826a00c8d6e, nvidia.com/gpu=all]
nvidia_container_runtime:
  description: The path of C(nvidia-container-runtime) on E(PATH) or in C(/usr/bin), empty when not installed.
  returned: always
  type: str
  sample: /usr/bin/nvidia-container-runtime
"""

import glob
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aistack.selfhosted.plugins.module_utils._nvidia_smi import (
    CDI_KIND,
    QUERY_FIELDS,
    cdi_device_names,
    cdi_kind,
    driver_problem,
    nvidia_pci_devices,
    nvidia_smi_missing,
    parse_cuda_version,
    parse_query_gpu,
)

# Beyond PATH: a service or sudo's PATH may lack the driver's directory.
NVIDIA_SMI_DIRS = ["/usr/bin", "/usr/local/nvidia/bin"]
CDI_PATTERNS = ("*.yaml", "*.yml", "*.json")


def find_nvidia_smi(module):
    wanted = module.params["nvidia_smi"]
    if wanted and os.sep in wanted:
        return wanted if os.access(wanted, os.X_OK) and os.path.isfile(wanted) else None
    return module.get_bin_path(wanted or "nvidia-smi", opt_dirs=NVIDIA_SMI_DIRS)


def read_gpus(module, nvidia_smi):
    """(gpus, cuda_version, problem) from nvidia-smi; problem is "" when the driver answered."""
    rc, out, err = module.run_command(
        [nvidia_smi, "--query-gpu=" + ",".join(QUERY_FIELDS), "--format=csv,noheader,nounits"]
    )
    problem = driver_problem(rc, out, err)
    if problem:
        return [], "", problem
    try:
        gpus = parse_query_gpu(out)
    except ValueError as error:
        module.fail_json(msg="Could not read what %s answered: %s" % (nvidia_smi, error), stdout=out, stderr=err)
    if not gpus:
        return [], "", driver_problem(6, "No devices were found", "")
    rc, out, err = module.run_command([nvidia_smi, "-q"])
    # The CUDA version is a bonus: without it the GPUs are still known.
    cuda = (parse_cuda_version(out) or "") if rc == 0 else ""
    return gpus, cuda, ""


def read_cdi(module, directories):
    names = []
    for directory in directories:
        paths = sorted(set(path for pattern in CDI_PATTERNS for path in glob.glob(os.path.join(directory, pattern))))
        for path in paths:
            try:
                with open(path) as handle:
                    text = handle.read()
                if cdi_kind(text) != CDI_KIND:
                    continue
                found = cdi_device_names(text)
            except Exception as error:  # pylint: disable=broad-except  # one unreadable spec must not hide the rest
                module.warn("Skipped the CDI spec %s, which could not be read: %s" % (path, error))
                continue
            names.extend(name for name in found if name not in names)
    return names


def main():
    module = AnsibleModule(
        argument_spec=dict(
            nvidia_smi=dict(type="str"),
            pci_devices_path=dict(type="path", default="/sys/bus/pci/devices"),
            cdi_spec_dirs=dict(type="list", elements="path", default=["/etc/cdi", "/var/run/cdi"]),
        ),
        supports_check_mode=True,
    )
    pci = nvidia_pci_devices(module.params["pci_devices_path"])
    nvidia_smi = find_nvidia_smi(module)
    gpus, cuda, problem = [], "", ""
    if nvidia_smi:
        gpus, cuda, problem = read_gpus(module, nvidia_smi)
    elif pci:
        problem = nvidia_smi_missing(pci)
    module.exit_json(
        changed=False,
        pci_devices=pci,
        gpus=gpus,
        driver_version=(gpus[0].get("driver_version") or "") if gpus else "",
        cuda_version=cuda,
        driver_ok=bool(gpus),
        driver_problem=problem,
        cdi_devices=read_cdi(module, module.params["cdi_spec_dirs"]),
        nvidia_container_runtime=module.get_bin_path("nvidia-container-runtime", opt_dirs=["/usr/bin"]) or "",
    )


if __name__ == "__main__":
    main()
