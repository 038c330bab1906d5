#!/usr/bin/env bash
# Packs what the project's lent GPU machine lacks (it reaches no network and has no Docker) into
# .device/ (git-ignored), as two folders that each fit one device call (64 MiB):
#   .device/base  Docker 28.5 and Compose 2.40 from Debian sid (../shared/gpu/build-docker-kit.sh),
#                 the script that starts them there, and Ansible as wheels for its Python 3.12;
#   .device/repo  the local signed copy of NVIDIA's repository (scripts/build-nvidia-ctk-repo.sh).
# Then, with the device tool: `tests/gpu/device-run.sh setup` carrying .device/base, and at once
# (the machine stays warm for seconds only) `tests/gpu/device-run.sh check` carrying .device/repo.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$REPO_ROOT"
shared=$REPO_ROOT/../shared/gpu
[ -f "$shared/build-docker-kit.sh" ] || die "no ../shared/gpu/build-docker-kit.sh beside the checkout"
mkdir -p .device/base/wheels .device/repo

[ -s .device/base/gpu-docker-kit.tar.xz ] || bash "$shared/build-docker-kit.sh" .device/base
cp "$shared/start-docker-on-gpu-host.sh" .device/base/

version=$("$REPO_ROOT/.venv/bin/python" -c 'from ansible.release import __version__; print(__version__)')
rm -f .device/base/wheels/*.whl
"$REPO_ROOT/.venv/bin/python" -m pip download -q --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d .device/base/wheels "ansible-core==$version"

bash scripts/build-nvidia-ctk-repo.sh
[ -f "$CACHE_DIR/nvidia-ctk-repo/gpgkey" ] || die "the local NVIDIA repository is not built (NVIDIA_CTK_SOURCE)"
rm -rf .device/repo && cp -r "$CACHE_DIR/nvidia-ctk-repo" .device/repo
du -sh .device/base .device/repo
