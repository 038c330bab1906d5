# Copyright (c) aistack.selfhosted maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # How a module finds a Compose project and the docker CLI that runs it.
    DOCUMENTATION = r"""
options:
  project_src:
    description:
      - Directory of the Compose project. Compose files and O(env_files) are looked up relative to it.
    type: path
    required: true
  project_name:
    description:
      - Project name, as C(docker compose -p) takes it.
      - When omitted, Compose derives it (the C(name:) of the Compose file, else the directory name).
    type: str
  files:
    description:
      - Compose files, relative to O(project_src) or absolute, in the order Compose merges them.
      - When omitted, Compose looks for C(compose.yaml), C(compose.yml) (or C(docker-compose.yml)) in O(project_src).
    type: list
    elements: path
  env_files:
    description:
      - Environment files for variable interpolation, as C(docker compose --env-file) takes them.
    type: list
    elements: path
  docker_cli:
    description:
      - Name or path of the docker CLI, which must have the Compose v2 plugin. Compose runs as C(<docker_cli> compose).
      - When omitted, C(docker) from E(PATH), and the Compose plugin binary is run directly from the directories the
        docker CLI loads plugins from (E(DOCKER_CONFIG)/cli-plugins, C(/usr/local/lib/docker/cli-plugins),
        C(/usr/libexec/docker/cli-plugins), ...), which saves the CLI's start-up on every call; C(docker compose)
        otherwise.
      - The Docker daemon is the one the CLI talks to; set E(DOCKER_HOST) with the task's C(environment) for another.
    type: str
requirements:
  - Docker CLI with the Compose v2 plugin, Compose 2.26.0 or later, on the managed host.
"""
