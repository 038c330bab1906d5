"""_nvidia_smi: nvidia-smi output, driver errors, sysfs and CDI specs, on captures from a real H100."""

import json
import re
from pathlib import Path

import pytest
from ansible_collections.aistack.selfhosted.plugins.module_utils import _nvidia_smi
from ansible_collections.aistack.selfhosted.plugins.module_utils._nvidia_smi import (
    QUERY_FIELDS,
    cdi_device_names,
    cdi_kind,
    driver_problem,
    nvidia_pci_devices,
    parse_cuda_version,
    parse_query_gpu,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gpu"
H100_UUID = "GPU-4b330ae0-eb5b-91c6-0e55-336f75503a54"
MISMATCH = "Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 580.95\n"
NO_DRIVER = ("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
             "Make sure that the latest NVIDIA driver is installed and running.\n\n")


def fixture(name):
    return (FIXTURES / name).read_text()


def capture_fields():
    """The fields of the idle/load captures, from the header of h100-idle.csv without the units."""
    header = fixture("h100-idle.csv").splitlines()[0]
    return [column.split(" [")[0].strip() for column in header.split(",")]


def test_query_fields_are_accepted_by_driver_580():
    # `nvidia-smi --help-query-gpu` lists each field on a line of its own: "name" or "gpu_name".
    accepted = set(re.findall(r'^"([^"]+)"', fixture("nvidia-smi-help-query-gpu.txt"), re.MULTILINE))
    assert set(QUERY_FIELDS) <= accepted


def test_module_fields_line():
    [gpu] = parse_query_gpu(fixture("h100-query-fields.csv"))
    assert gpu == {
        "index": 0, "uuid": H100_UUID, "name": "NVIDIA H100 80GB HBM3", "pci_bus_id": "00000000:00:06.0",
        "driver_version": "580.159.04", "compute_capability": "9.0", "memory_total_mib": 81559,
        "memory_used_mib": 0, "memory_free_mib": 81079, "mig_mode": "Disabled",
    }


@pytest.mark.parametrize(("capture", "used", "free"), [
    ("h100-idle-noheader-nounits.csv", 0, 81079),
    ("h100-load-noheader-nounits.csv", 58233, 22847),
])
def test_captures_with_their_own_field_list(capture, used, free):
    fields = capture_fields()
    assert len(fields) == 17
    [gpu] = parse_query_gpu(fixture(capture), fields)
    assert gpu["memory_total_mib"] == 81559
    assert (gpu["memory_used_mib"], gpu["memory_free_mib"]) == (used, free)
    assert gpu["compute_capability"] == "9.0"
    assert gpu["mig_mode"] == "Disabled"
    # Fields the module does not ask for keep their name, dots as underscores.
    assert gpu["pstate"] == "P0"
    assert gpu["temperature_gpu"] in ("34", "64")


def test_values_with_units_keep_the_number():
    fields = capture_fields()
    [gpu] = parse_query_gpu(fixture("h100-idle.csv").splitlines()[1], fields)
    assert gpu["memory_total_mib"] == 81559
    assert gpu["memory_free_mib"] == 81079


def test_two_gpus_and_blank_lines():
    line = fixture("h100-query-fields.csv").strip()
    second = line.replace("0, GPU-4b330ae0", "1, GPU-9f00aa11", 1).replace("00:06.0", "00:07.0")
    gpus = parse_query_gpu("\n%s\n\n%s\n\n" % (line, second))
    assert [gpu["index"] for gpu in gpus] == [0, 1]
    assert gpus[1]["uuid"] == "GPU-9f00aa11-eb5b-91c6-0e55-336f75503a54"
    assert gpus[1]["pci_bus_id"] == "00000000:00:07.0"


def test_mig_enabled_and_not_available_values():
    line = "0, GPU-1, NVIDIA A100-SXM4-40GB, 00000000:07:00.0, 580.159.04, 8.0, 40960, [N/A], 40326, Enabled"
    [gpu] = parse_query_gpu(line)
    assert gpu["mig_mode"] == "Enabled"
    assert gpu["memory_used_mib"] is None
    [gpu] = parse_query_gpu("0, GPU-2, Tesla T4, 00000000:00:04.0, 535.54, 7.5, 15360, 0, 15101, [Not Supported]")
    assert gpu["mig_mode"] is None


def test_wrong_field_count_says_which_line():
    with pytest.raises(ValueError, match=r"line 2 has 17 values, expected 10"):
        parse_query_gpu(fixture("h100-query-fields.csv") + fixture("h100-idle-noheader-nounits.csv"))


def test_not_a_number_is_an_error():
    with pytest.raises(ValueError, match="memory.total"):
        parse_query_gpu("0, GPU-1, X, 0:0:0.0, 1, 9.0, lots, 0, 0, Disabled")


@pytest.mark.parametrize(("text", "version"), [
    (fixture("h100-nvidia-smi-q.txt"), "13.0"),
    (fixture("h100-load-nvidia-smi.txt"), "13.0"),
    ("Driver Version : 470.256.02\nCUDA Version : 11.4\n", "11.4"),
    ("Driver Version : 580.159.04\n", None),
    ("", None),
])
def test_cuda_version(text, version):
    assert parse_cuda_version(text) == version


def test_a_working_driver_is_no_problem():
    assert driver_problem(0, fixture("h100-query-fields.csv"), "") is None


def test_driver_library_mismatch():
    message = driver_problem(18, MISMATCH, "")
    assert "Failed to initialize NVML: Driver/library version mismatch" in message
    assert "Reboot" in message and "reload the nvidia kernel modules" in message
    assert "NVML library version" not in message  # the first line only


def test_no_kernel_driver():
    message = driver_problem(9, NO_DRIVER, "")
    assert NO_DRIVER.strip() in message
    assert "Install or load the NVIDIA driver" in message
    assert "does not install drivers" in message


def test_no_devices():
    message = driver_problem(6, "No devices were found\n", "")
    assert "No devices were found" in message
    assert "sees no GPU" in message


def test_nvidia_smi_not_runnable():
    message = driver_problem(127, "", "/bin/sh: 1: nvidia-smi: not found\nNo such file or directory")
    assert "user-space tools are missing" in message
    assert "nvidia-driver package" in message and "nvidia_smi option" in message


def test_other_failures_keep_nvidia_smis_words():
    message = driver_problem(2, 'Field "bogus.field" is not a valid field to query.\n', "")
    assert message == 'nvidia-smi failed with exit code 2 (nvidia-smi: Field "bogus.field" is not a valid field ' \
        "to query.)."


def test_nvidia_smi_missing_names_the_pci_gpus():
    message = _nvidia_smi.nvidia_smi_missing([{"address": "0000:00:06.0"}])
    assert "0000:00:06.0" in message and "user-space tools are missing" in message


def fake_device(root, address, vendor, pci_class, device="0x2330"):
    path = root / address
    path.mkdir(parents=True)
    (path / "vendor").write_text(vendor + "\n")
    (path / "class").write_text(pci_class + "\n")
    (path / "device").write_text(device + "\n")


@pytest.fixture
def sysfs(tmp_path):
    root = tmp_path / "devices"
    fake_device(root, "0000:00:06.0", "0x10de", "0x030200", "0x2330")   # H100, 3D controller
    fake_device(root, "0000:01:00.0", "0x10de", "0x030000", "0x2684")   # RTX 4090, VGA
    fake_device(root, "0000:01:00.1", "0x10de", "0x040300", "0x22ba")   # the 4090's audio function
    fake_device(root, "0000:00:02.0", "0x8086", "0x030000", "0xa780")   # Intel integrated graphics
    return root


def test_pci_gpus_from_sysfs(sysfs):
    assert nvidia_pci_devices(str(sysfs)) == [
        {"address": "0000:00:06.0", "vendor": "0x10de", "device": "0x2330", "class": "0x030200"},
        {"address": "0000:01:00.0", "vendor": "0x10de", "device": "0x2684", "class": "0x030000"},
    ]


def test_no_sysfs_is_no_gpu(tmp_path):
    assert nvidia_pci_devices(str(tmp_path / "absent")) == []


H100_CDI = ["nvidia.com/gpu=0", "nvidia.com/gpu=GPU-872d4beb-9491-3204-4fd0-2826a00c8d6e", "nvidia.com/gpu=all"]


def test_cdi_names_of_the_h100_spec():
    text = fixture("h100-cdi-nvidia.yaml")
    assert cdi_kind(text) == "nvidia.com/gpu"
    assert cdi_device_names(text) == H100_CDI


def test_cdi_names_without_pyyaml(monkeypatch):
    # The managed host may lack PyYAML: the scanner reads nvidia-ctk's layout the same.
    monkeypatch.setattr(_nvidia_smi, "yaml", None)
    assert cdi_device_names(fixture("h100-cdi-nvidia.yaml")) == H100_CDI
    assert cdi_kind(fixture("h100-cdi-nvidia.yaml")) == "nvidia.com/gpu"
    assert _nvidia_smi._scan_cdi_yaml("kind: 'x.com/y'\ndevices:\n  - name: a\n    containerEdits: {}\n") == (
        "x.com/y", ["a"])


def test_cdi_json_spec():
    spec = {"cdiVersion": "0.5.0", "kind": "nvidia.com/gpu", "devices": [{"name": "0"}, {"name": "all"}]}
    assert cdi_device_names(json.dumps(spec)) == ["nvidia.com/gpu=0", "nvidia.com/gpu=all"]


def test_cdi_spec_without_kind_has_no_names():
    assert cdi_device_names("cdiVersion: 0.5.0\ndevices: []\n") == []
