#!/usr/bin/env bash
# Run by the device tool on the project's lent GPU machine, from the repository root (see
# prepare-device.sh): `setup` (carrying .device/base) installs Ansible and starts Docker;
# `check` (carrying .device/repo) runs run-on-gpu-host.sh with that machine's settings: no
# network (only the local repository), no bridge (the ollama service on the host's network), no
# systemd (dockerd restarted by hand), no registry (its own userland as the container image).
set -euo pipefail
cd "$(dirname "$0")/../.."
site=/opt/aistack-ansible
case ${1:-} in
  setup)
    python3 -m pip install -q --no-index --no-deps --no-compile --target "$site" .device/base/wheels/*.whl
    bash .device/base/start-docker-on-gpu-host.sh .device/base/gpu-docker-kit.tar.xz
    ;;
  check)
    export PATH=/opt/dk/bin:$site/bin:$PATH PYTHONPATH=$site
    /usr/bin/python3 -c 'import apt' 2>/dev/null || echo "WARNING: /usr/bin/python3 lacks python3-apt (the apt module needs it)"
    rm -rf /srv/nvidia-repo && mkdir -p /srv && cp -r .device/repo /srv/nvidia-repo
    NVIDIA_REPO_DIR=/srv/nvidia-repo APT_LOCAL_ONLY=1 HOST_NETWORK=1 VERIFY_IMAGE=host-rootfs:1 \
      OLLAMA_IMAGE=host-rootfs:1 tests/gpu/run-on-gpu-host.sh 2>&1 | tee "${OUT:-/tmp}/gpu-host.log"
    ;;
  *) echo "usage: $0 setup|check" >&2; exit 2 ;;
esac
