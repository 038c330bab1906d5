#!/usr/bin/env bash
# Proves the GPU paths for real on an NVIDIA GPU host with Docker running (Ansible on the host
# itself): the GPU facts (gpu_info), the nvidia_container_toolkit role (repository, package,
# runtime and CDI in daemon.json, CDI spec, a container that lists the GPUs, a second run with
# changed=0), and the ollama role's compose fragment with the host's GPU request, run as a
# container that must print nvidia-smi's list. Run as root from the repository root.
#
# Environment:
#   NVIDIA_REPO_DIR  a local copy of NVIDIA's repository (scripts/build-nvidia-ctk-repo.sh); by
#                    default NVIDIA's own repository is used.
#   APT_LOCAL_ONLY=1 hide the host's other apt sources during the run (a machine without network).
#   VERIFY_IMAGE     image of the role's container check (default ubuntu:24.04): any image with a C
#                    library; OLLAMA_IMAGE the image the ollama fragment runs (default the role's).
#   HOST_NETWORK=1   run the ollama service on the host's network (no bridge on the machine).
#   DOCKERD_RESTART  how to restart dockerd where systemd does not run it.
set -euo pipefail
cd "$(dirname "$0")/../.."
export ANSIBLE_CONFIG=$PWD/ansible.cfg ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1
step() { printf '\n=== %s\n' "$*"; }

extra=(-e nvidia_container_toolkit_verify_image="${VERIFY_IMAGE:-ubuntu:24.04}")
if [ -n "${NVIDIA_REPO_DIR:-}" ]; then
  extra+=(-e nvidia_container_toolkit_repo_url="file://$NVIDIA_REPO_DIR/stable/deb"
          -e nvidia_container_toolkit_repo_key_url="file://$NVIDIA_REPO_DIR/gpgkey")
fi
[ -n "${OLLAMA_IMAGE:-}" ] && extra+=(-e ollama_image="$OLLAMA_IMAGE")
if [ "${APT_LOCAL_ONLY:-0}" = 1 ]; then
  mkdir -p /tmp/apt-hidden
  mv /etc/apt/sources.list.d/* /tmp/apt-hidden/ 2>/dev/null || true
  [ -f /etc/apt/sources.list ] && mv /etc/apt/sources.list /tmp/apt-hidden/sources.list.orig
fi
restart_dockerd() {
  if [ -n "${DOCKERD_RESTART:-}" ]; then sh -c "$DOCKERD_RESTART"
  elif [ -d /run/systemd/system ]; then systemctl restart docker
  else
    pkill -x dockerd || true
    for _ in $(seq 30); do pgrep -x dockerd >/dev/null || break; sleep 1; done
    (setsid dockerd > /tmp/dockerd.log 2>&1 &)
  fi
  for _ in $(seq 40); do docker info >/dev/null 2>&1 && return 0; sleep 1; done
  echo "dockerd did not come back" >&2; return 1
}
playbook() { ansible-playbook -i localhost, tests/gpu/gpu-host.yml "${extra[@]}" "$@"; }

step "nvidia-smi on the host"
nvidia-smi -L
nvidia-smi --query-gpu=index,uuid,name,memory.total,driver_version,compute_cap --format=csv

step "first run: GPU facts, toolkit install and configure"
playbook --skip-tags nvidia_container_toolkit_run

step "restart dockerd (it reads daemon.json only when it starts)"
restart_dockerd
docker info --format '{{json .Runtimes}} CDI: {{json .CDISpecDirs}}'

step "second run: everything, the container check and the project"
playbook | tee /tmp/gpu-host-run2.log

step "third run: must change nothing"
playbook | tee /tmp/gpu-host-run3.log
grep -E 'localhost +: ok=[0-9]+ +changed=0 ' /tmp/gpu-host-run3.log || { echo "third run changed something" >&2; exit 1; }

step "the CDI spec"
nvidia-ctk cdi list

step "the ollama service of the project, with the GPU request the apply wrote"
cat /opt/aistack/services/ollama/aistack.yml
files=(-f /opt/aistack/compose.yml)
if [ "${HOST_NETWORK:-0}" = 1 ]; then
  # A machine without a bridge network (no iptables, no bridge module): the ollama service on the
  # host's network, publishing nothing; everything else, the GPU request included, as written.
  printf '%s\n' 'services:' '  ollama:' '    networks: !reset []' '    ports: !reset []' '    network_mode: host' \
    > /tmp/gpu-host-network.yml
  files+=(-f /tmp/gpu-host-network.yml)
fi
docker compose --project-directory /opt/aistack "${files[@]}" config --format json \
  | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["services"]["ollama"].get("deploy"), indent=1))'
docker compose --project-directory /opt/aistack "${files[@]}" run --rm --no-deps --entrypoint nvidia-smi ollama -L

step "all GPU checks passed"
