"""gpu_info: the module run as Ansible runs it, against a fake nvidia-smi, sysfs tree and CDI directories."""

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_collections.aistack.selfhosted.plugins.modules import gpu_info

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gpu"
COLLECTIONS = str(Path(__file__).resolve().parents[4] / "collections")
# Where the module looks for nvidia-container-runtime besides PATH: a machine that has it cannot show its absence.
HOST_RUNTIME = os.path.exists("/usr/bin/nvidia-container-runtime")
H100_CDI = ["nvidia.com/gpu=0", "nvidia.com/gpu=GPU-872d4beb-9491-3204-4fd0-2826a00c8d6e", "nvidia.com/gpu=all"]

# A fake nvidia-smi: the query prints $QUERY_OUT and exits $QUERY_RC; `-q` prints $Q_OUT. Each call is logged.
FAKE_NVIDIA_SMI = """#!/bin/sh
echo "$*" >> "$CALLS"
case "$1" in
  --query-gpu=*) cat "$QUERY_OUT"; exit "${QUERY_RC:-0}";;
  -q) cat "$Q_OUT";;
  *) exit 2;;
esac
"""


def executable(path, text):
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def fake_device(root, address, vendor, pci_class, device="0x2330"):
    path = root / address
    path.mkdir(parents=True)
    for name, value in (("vendor", vendor), ("class", pci_class), ("device", device)):
        (path / name).write_text(value + "\n")


class Host:
    """A fake host under tmp_path: sysfs, CDI directories, a bin directory for PATH."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.sysfs = tmp_path / "sys"
        self.sysfs.mkdir()
        self.cdi = [tmp_path / "etc-cdi", tmp_path / "run-cdi"]
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        self.calls = tmp_path / "calls"
        self.query = tmp_path / "query.out"
        self.query.write_text("")
        self.query_rc = 0
        self.nvidia_smi = None

    def add_h100(self):
        fake_device(self.sysfs, "0000:00:06.0", "0x10de", "0x030200")

    def install_nvidia_smi(self, query_text, rc=0):
        self.query.write_text(query_text)
        self.query_rc = rc
        self.nvidia_smi = executable(self.tmp / "nvidia-smi", FAKE_NVIDIA_SMI)

    def run(self, **args):
        args.setdefault("pci_devices_path", str(self.sysfs))
        args.setdefault("cdi_spec_dirs", [str(path) for path in self.cdi])
        if self.nvidia_smi:
            args.setdefault("nvidia_smi", self.nvidia_smi)
        else:
            # The defaults look on PATH and in /usr/bin and /usr/local/nvidia/bin: the test runs on a machine
            # without nvidia-smi, so name a program nowhere to be found.
            args.setdefault("nvidia_smi", "aistack-no-nvidia-smi")
        env = {**os.environ, "PATH": os.pathsep.join((str(self.bin), "/usr/bin", "/bin")), "PYTHONPATH": COLLECTIONS,
               "CALLS": str(self.calls), "QUERY_OUT": str(self.query),
               "QUERY_RC": str(self.query_rc), "Q_OUT": str(FIXTURES / "h100-nvidia-smi-q.txt")}
        proc = subprocess.run(
            [sys.executable, gpu_info.__file__], input=json.dumps({"ANSIBLE_MODULE_ARGS": args}),
            capture_output=True, text=True, env=env, check=False,
        )
        result = json.loads(proc.stdout)
        calls = self.calls.read_text().splitlines() if self.calls.exists() else []
        return result, calls


@pytest.fixture
def host(tmp_path):
    return Host(tmp_path)


def test_h100_with_a_working_driver_and_cdi(host):
    host.add_h100()
    host.install_nvidia_smi((FIXTURES / "h100-query-fields.csv").read_text())
    host.cdi[0].mkdir()
    shutil.copy(FIXTURES / "h100-cdi-nvidia.yaml", host.cdi[0] / "nvidia.yaml")
    runtime = executable(host.bin / "nvidia-container-runtime", "#!/bin/sh\n")
    result, calls = host.run(_ansible_check_mode=True)
    assert result["changed"] is False
    assert result["driver_ok"] is True
    assert result["driver_problem"] == ""
    assert result["driver_version"] == "580.159.04"
    assert result["cuda_version"] == "13.0"
    assert result["pci_devices"] == [{"address": "0000:00:06.0", "vendor": "0x10de", "device": "0x2330",
                                      "class": "0x030200"}]
    [gpu] = result["gpus"]
    assert gpu["name"] == "NVIDIA H100 80GB HBM3"
    assert gpu["memory_total_mib"] == 81559
    assert result["cdi_devices"] == H100_CDI
    assert result["nvidia_container_runtime"] == runtime
    assert calls == [
        "--query-gpu=index,uuid,name,pci.bus_id,driver_version,compute_cap,memory.total,memory.used,memory.free,"
        "mig.mode.current --format=csv,noheader,nounits",
        "-q",
    ]


def test_two_gpus(host):
    line = (FIXTURES / "h100-query-fields.csv").read_text().strip()
    second = line.replace("0, GPU-4b330ae0", "1, GPU-9f00aa11", 1)
    host.install_nvidia_smi(line + "\n" + second + "\n")
    result, _calls = host.run()
    assert [gpu["index"] for gpu in result["gpus"]] == [0, 1]
    assert sum(gpu["memory_total_mib"] for gpu in result["gpus"]) == 2 * 81559


def test_cpu_host_has_no_gpu_and_no_problem(host):
    fake_device(host.sysfs, "0000:00:02.0", "0x8086", "0x030000", "0xa780")
    result, calls = host.run()
    assert result.get("failed") is not True
    assert result["gpus"] == [] and result["pci_devices"] == []
    assert result["driver_ok"] is False
    assert result["driver_problem"] == ""
    assert result["driver_version"] == "" and result["cuda_version"] == ""
    assert result["cdi_devices"] == []
    if not HOST_RUNTIME:
        assert result["nvidia_container_runtime"] == ""
    assert calls == []


def test_gpu_on_the_bus_without_nvidia_smi(host):
    host.add_h100()
    result, _calls = host.run()
    assert result.get("failed") is not True
    assert result["driver_ok"] is False
    assert "0000:00:06.0" in result["driver_problem"]
    assert "user-space tools are missing" in result["driver_problem"]


def test_driver_library_mismatch_is_returned_not_failed(host):
    host.add_h100()
    host.install_nvidia_smi("Failed to initialize NVML: Driver/library version mismatch\n", rc=18)
    result, calls = host.run()
    assert result.get("failed") is not True
    assert result["driver_ok"] is False
    assert result["gpus"] == []
    assert "Failed to initialize NVML: Driver/library version mismatch" in result["driver_problem"]
    assert "Reboot" in result["driver_problem"]
    assert len(calls) == 1  # no `-q` after a failed query


def test_no_kernel_driver(host):
    host.add_h100()
    host.install_nvidia_smi("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure "
                            "that the latest NVIDIA driver is installed and running.\n", rc=9)
    result, _calls = host.run()
    assert result["driver_ok"] is False
    assert "couldn't communicate with the NVIDIA driver" in result["driver_problem"]
    assert "does not install drivers" in result["driver_problem"]


def test_unreadable_output_fails_showing_it(host):
    host.install_nvidia_smi("0, GPU-1, only three\n")
    result, _calls = host.run()
    assert result["failed"] is True
    assert "has 3 values, expected 10" in result["msg"]


def test_cdi_specs_of_other_kinds_and_broken_ones(host):
    for directory in host.cdi:
        directory.mkdir()
    shutil.copy(FIXTURES / "h100-cdi-nvidia.yaml", host.cdi[1] / "nvidia.yaml")
    (host.cdi[0] / "amd.json").write_text(json.dumps({"kind": "amd.com/gpu", "devices": [{"name": "0"}]}))
    (host.cdi[0] / "broken.yml").write_text("kind: [unclosed\n")
    (host.cdi[0] / "notes.txt").write_text("kind: nvidia.com/gpu\n")
    result, _calls = host.run()
    assert result["cdi_devices"] == H100_CDI
    # ansible-core 2.19 returns warnings as structured events: look for the file in them, whatever their shape.
    assert "Skipped the CDI spec %s" % (host.cdi[0] / "broken.yml") in json.dumps(result.get("warnings"))
