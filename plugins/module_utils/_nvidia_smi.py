# Copyright (c) aistack.selfhosted maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the host's NVIDIA GPUs, driver and CDI specs say, from text the gpu_info module collects.

Pure parsing (nvidia-smi output, sysfs, CDI specs); the module runs the commands.
Private to this collection. Only the standard library: the code runs on the managed host.
"""

from __future__ import annotations

import json
import os
import re

try:
    import yaml
except ImportError:  # not needed on the managed host: nvidia-ctk's specs are read without it
    yaml = None

# Fields `nvidia-smi --query-gpu` accepts on driver 580 (`nvidia-smi --help-query-gpu`).
QUERY_FIELDS = (
    "index",
    "uuid",
    "name",
    "pci.bus_id",
    "driver_version",
    "compute_cap",
    "memory.total",
    "memory.used",
    "memory.free",
    "mig.mode.current",
)

# nvidia-smi field -> (key returned, converter). Fields not listed keep their name, dots as underscores.
_KEYS = {
    "index": ("index", int),
    "pci.bus_id": ("pci_bus_id", str),
    "compute_cap": ("compute_capability", str),
    "memory.total": ("memory_total_mib", int),
    "memory.used": ("memory_used_mib", int),
    "memory.free": ("memory_free_mib", int),
    "mig.mode.current": ("mig_mode", str),
}

# What nvidia-smi prints for a value the GPU or driver cannot give.
_MISSING = ("[N/A]", "[Not Supported]", "N/A", "[Unknown Error]", "[Insufficient Permissions]")

NVIDIA_VENDOR = "0x10de"
# PCI classes of display controllers: 0x0300 VGA (consumer cards), 0x0302 3D controller (data-centre cards).
_GPU_CLASSES = ("0x0300", "0x0302")

CDI_KIND = "nvidia.com/gpu"


def _value(field, text):
    text = text.strip()
    if text in _MISSING:
        return None
    key, convert = _KEYS.get(field, (field.replace(".", "_"), str))
    if convert is int:
        # Without `nounits` the value carries its unit ("81559 MiB"): keep the number.
        text = text.split()[0] if text else text
        try:
            return int(text)
        except ValueError:
            try:
                return int(float(text))
            except ValueError:
                raise ValueError("nvidia-smi gave %r for %s, not a number" % (text, field))
    return text


def field_key(field):
    """The key parse_query_gpu returns for an nvidia-smi field ("memory.total" -> "memory_total_mib")."""
    return _KEYS.get(field, (field.replace(".", "_"), str))[0]


def parse_query_gpu(text, fields=QUERY_FIELDS):
    """One dict per GPU from `nvidia-smi --query-gpu=<fields> --format=csv,noheader,nounits`."""
    fields = tuple(fields)
    gpus = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        # GPU names hold no commas, so a plain split is exact (nvidia-smi does not quote).
        values = line.split(",")
        if len(values) != len(fields):
            raise ValueError(
                "nvidia-smi --query-gpu line %d has %d values, expected %d (%s): %r"
                % (number, len(values), len(fields), ", ".join(fields), line)
            )
        # Lengths are checked above; zip's strict= needs Python 3.10, newer than some managed hosts have.
        gpus.append({field_key(field): _value(field, value) for field, value in zip(fields, values)})  # noqa: B905
    return gpus


_CUDA_VERSION = re.compile(r"CUDA Version\s*:\s*([0-9]+(?:\.[0-9]+)*)")


def parse_cuda_version(text):
    """ "13.0" from `nvidia-smi -q` ("CUDA Version : 13.0") or its table header ("CUDA Version: 13.0")."""
    match = _CUDA_VERSION.search(text or "")
    return match.group(1) if match else None


def _first_line(*texts):
    for text in texts:
        for line in (text or "").splitlines():
            if line.strip():
                return line.strip()
    return ""


_MISSING_TOOLS = (
    "the driver's user-space tools are missing. Install the NVIDIA driver (the distribution's nvidia-driver "
    "package or NVIDIA's .run installer), or set the nvidia_smi option to where nvidia-smi is."
)


def driver_problem(rc, stdout, stderr):
    """None when nvidia-smi worked, else what is wrong and what to do, with nvidia-smi's own first line."""
    said = _first_line(stdout, stderr)
    both = "%s\n%s" % (stdout or "", stderr or "")
    if rc == 0 and "Failed to initialize NVML" not in both and "NVIDIA-SMI has failed" not in both:
        return None
    quoted = " (nvidia-smi: %s)" % said if said else " (nvidia-smi exited %s with no output)" % rc
    if "Driver/library version mismatch" in both:
        return (
            "The NVIDIA kernel module and the driver's user-space libraries are different versions, as after a "
            "driver upgrade without a reboot%s. Reboot the host, or unload and reload the nvidia kernel modules "
            "(nothing may be using the GPU)." % quoted
        )
    if "couldn't communicate with the NVIDIA driver" in both or "NVIDIA driver is not loaded" in both:
        return (
            "nvidia-smi cannot reach the NVIDIA kernel driver: it is not installed or not loaded%s. Install or load "
            "the NVIDIA driver (for example `modprobe nvidia`, or reboot after installing it); this collection "
            "does not install drivers." % quoted
        )
    if "No devices were found" in both:
        return (
            "The NVIDIA driver is loaded but sees no GPU%s. Check that the GPU is attached to this host (PCI "
            "passthrough for a VM) and not bound to another driver (vfio-pci), then reload the driver." % quoted
        )
    # What a shell or run_command says when the program is not there (rc 127, or ENOENT as rc 2).
    if rc == 127 or "No such file or directory" in both or "command not found" in both:
        return "nvidia-smi could not be run%s: %s" % (quoted, _MISSING_TOOLS)
    return "nvidia-smi failed with exit code %s%s." % (rc, quoted)


def nvidia_smi_missing(pci_devices):
    """The driver_problem for a host with NVIDIA GPUs on its PCI bus but no nvidia-smi."""
    addresses = ", ".join(device["address"] for device in pci_devices)
    return "An NVIDIA GPU is on the PCI bus (%s) but nvidia-smi was not found: %s" % (addresses, _MISSING_TOOLS)


def _read(path):
    try:
        with open(path) as handle:
            return handle.read().strip().lower()
    except (IOError, OSError):
        return ""


def nvidia_pci_devices(root="/sys/bus/pci/devices"):
    """NVIDIA display controllers in sysfs (no lspci needed): [{address, vendor, device, class}], by address."""
    try:
        addresses = sorted(os.listdir(root))
    except (IOError, OSError):
        return []
    devices = []
    for address in addresses:
        path = os.path.join(root, address)
        if _read(os.path.join(path, "vendor")) != NVIDIA_VENDOR:
            continue
        pci_class = _read(os.path.join(path, "class"))
        # The audio function of a consumer card (0x0403) is NVIDIA's too, but not a GPU.
        if not pci_class.startswith(_GPU_CLASSES):
            continue
        devices.append({"address": address, "vendor": NVIDIA_VENDOR, "device": _read(os.path.join(path, "device")),
                        "class": pci_class})
    return devices


def _unquote(text):
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def _scan_cdi_yaml(spec_text):
    """kind and device names from a CDI spec in YAML, without PyYAML: top-level `kind:` and the `- name:`
    items directly under the top-level `devices:` list, as nvidia-ctk writes them."""
    kind = None
    names = []
    in_devices = False
    item_indent = None
    for line in spec_text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0:
            in_devices = stripped.startswith("devices:")
            item_indent = None
            if stripped.startswith("kind:"):
                kind = _unquote(stripped.split(":", 1)[1])
            continue
        if not in_devices or not stripped.startswith("-"):
            continue
        if item_indent is None:
            item_indent = indent
        if indent != item_indent:
            continue
        item = stripped[1:].strip()
        if item.startswith("name:"):
            names.append(_unquote(item.split(":", 1)[1]))
    return kind, names


def _load_cdi(spec_text):
    stripped = spec_text.lstrip()
    if stripped.startswith("{"):
        spec = json.loads(spec_text)
    else:
        if yaml is None:
            return _scan_cdi_yaml(spec_text)
        spec = yaml.safe_load(spec_text)
    if not isinstance(spec, dict):
        raise ValueError("not a CDI spec (no mapping at the top)")
    devices = spec.get("devices") or []
    names = [str(device["name"]) for device in devices if isinstance(device, dict) and "name" in device]
    return spec.get("kind"), names


def cdi_kind(spec_text):
    """The kind a CDI spec declares ("nvidia.com/gpu"), or None."""
    return _load_cdi(spec_text)[0]


def cdi_device_names(spec_text):
    """Fully qualified CDI device names of a spec (YAML or JSON): "nvidia.com/gpu=0", "nvidia.com/gpu=all"."""
    kind, names = _load_cdi(spec_text)
    if not kind:
        return []
    return ["%s=%s" % (kind, name) for name in names]
