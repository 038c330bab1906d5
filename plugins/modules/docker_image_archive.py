#!/usr/bin/python
# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: docker_image_archive
short_description: Load images from C(docker save) archives when the engine lacks them
version_added: 0.1.0
description:
  - Reads the image list from the archive's C(manifest.json) and compares each tagged image's ID with
    the one the Docker engine has under that tag.
  - Runs C(docker load) only when an image is missing or its tag points at another ID, so a second run
    reports no change. This is how hosts without a registry (air-gapped, or test hosts) get their images.
  - Uses the Docker CLI on the target; no Python library is needed there.
  - Several archives can be given at once (O(paths)), all checked in one module run.
author:
  - aistack.selfhosted maintainers (@aistack)
extends_documentation_fragment:
  - aistack.selfhosted.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
  idempotent:
    support: full
options:
  path:
    description:
      - Path on the target of an archive written by C(docker save) (C(.tar), or compressed C(.tar.gz)).
      - Exactly one of O(path) and O(paths) is required.
    type: path
  paths:
    description:
      - Paths of several such archives, checked (and loaded where needed) in order.
      - Exactly one of O(path) and O(paths) is required.
    type: list
    elements: path
  docker_cli:
    description:
      - The Docker CLI to run.
    type: path
    default: docker
notes:
  - Images in the archive without a tag cannot be compared by name and are loaded only when their ID is missing.
seealso:
  - module: community.docker.docker_image_load
"""

EXAMPLES = r"""
- name: Load the images shipped with the release, unless already loaded
  aistack.selfhosted.docker_image_archive:
    path: /var/lib/aistack/images/aistack-images.tar
  register: loaded

- name: Load several archives in one run
  aistack.selfhosted.docker_image_archive:
    paths:
      - /var/lib/aistack/images/aistack-images.tar
      - /var/lib/aistack/images/open-webui.tar

- name: Show what was loaded
  ansible.builtin.debug:
    msg: "{{ loaded.loaded }}"
"""

RETURN = r"""
images:
  description:
    - The images the archive holds, with the ID the archive has and the ID the engine had before.
    - With O(paths), those of every archive, each with the C(archive) it comes from.
  returned: success
  type: list
  elements: dict
  sample:
    - name: aistack-test/tiny-web:test
      id: sha256:0f6e...
      engine_id_before: null
      archive: /var/lib/aistack/images/aistack-images.tar
loaded:
  description: Names (or IDs, for untagged images) of the images that were (or in check mode would be) loaded.
  returned: success
  type: list
  elements: str
  sample: [aistack-test/tiny-web:test]
"""

import json
import os
import re
import tarfile

from ansible.module_utils.basic import AnsibleModule

CONFIG_DIGEST = re.compile(r"([0-9a-f]{64})(?:\.json)?$")


def read_manifest(path):
    """Return [(name or None, image id)] from the archive's manifest.json."""
    with tarfile.open(path, "r:*") as archive:
        member = archive.extractfile("manifest.json")
        manifest = json.load(member)
    images = []
    for entry in manifest:
        match = CONFIG_DIGEST.search(entry["Config"])
        image_id = "sha256:" + match.group(1)
        for name in entry.get("RepoTags") or [None]:
            images.append((name, image_id))
    return images


def engine_image_id(module, cli, ref):
    """The ID the engine has for a name or ID, or None when it has no such image."""
    rc, out, _err = module.run_command([cli, "image", "inspect", "--format", "{{.Id}}", ref])
    return out.strip() if rc == 0 else None


def check_archive(module, cli, path):
    """[(image dict)], [missing names or IDs] of one archive."""
    if not os.path.isfile(path):
        module.fail_json(msg=f"Image archive {path} does not exist on the host.")
    try:
        archived = read_manifest(path)
    except (tarfile.TarError, KeyError, ValueError, AttributeError) as exc:
        module.fail_json(msg=f"{path} is not an archive written by `docker save` (no usable manifest.json): {exc}")
    images, missing = [], []
    for name, image_id in archived:
        before = engine_image_id(module, cli, name or image_id) if cli else None
        images.append({"name": name, "id": image_id, "engine_id_before": before, "archive": path})
        if before != image_id:
            missing.append(name or image_id)
    return images, missing


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path"},
            "paths": {"type": "list", "elements": "path"},
            "docker_cli": {"type": "path", "default": "docker"},
        },
        mutually_exclusive=[("path", "paths")],
        required_one_of=[("path", "paths")],
        supports_check_mode=True,
    )
    paths = [module.params["path"]] if module.params["path"] else module.params["paths"]

    cli = module.get_bin_path(module.params["docker_cli"])
    if cli is None and not module.check_mode:
        module.fail_json(msg=f"The Docker CLI ({module.params['docker_cli']}) is not installed on the host.")

    images, loaded = [], []
    for path in paths:
        archive_images, missing = check_archive(module, cli, path)
        images.extend(archive_images)
        loaded.extend(missing)
        if missing and not module.check_mode:
            rc, out, err = module.run_command([cli, "load", "--input", path])
            if rc != 0:
                module.fail_json(msg=f"`docker load --input {path}` failed (exit {rc}): {err.strip() or out.strip()}")
    module.exit_json(changed=bool(loaded), images=images, loaded=loaded)


if __name__ == "__main__":
    main()
