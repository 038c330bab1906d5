#!/usr/bin/env bash
# The local copy of NVIDIA's repository that scripts/build-nvidia-ctk-repo.sh builds from
# NVIDIA's source (NVIDIA_CTK_SOURCE): without it this scenario cannot run.
repo="$REPO_ROOT/.cache/nvidia-ctk-repo"
if [ ! -f "$repo/gpgkey" ]; then
  echo "no local NVIDIA repository in .cache/nvidia-ctk-repo: set NVIDIA_CTK_SOURCE to a clone of" \
       "NVIDIA/nvidia-container-toolkit and run scripts/build-nvidia-ctk-repo.sh"
  exit 1
fi
