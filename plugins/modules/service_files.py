#!/usr/bin/python
# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: service_files
short_description: Ensure a service's directories and secret files in one run
version_added: 0.1.0
description:
  - Creates the given directories (and their missing parents) with their owner, group and mode, writes the
    given secret files, and removes the given paths, all in one module run instead of one task per path.
  - A secret with a value is written with that value; one without keeps the file that is there, or is
    generated the first time (letters and digits). A secret may name a legacy path where earlier releases kept
    it; the file is moved from there once, when the new path does not exist yet, so a generated key survives.
  - Secret files are mode C(0600) (owned by root unless told otherwise); their folder is created C(0700) when missing.
  - Never returns a secret's value in clear. O(secrets[].read) returns its content base64-encoded (as
    M(ansible.builtin.slurp) does), so the task reading it must set C(no_log).
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
  directories:
    description: Directories to create, in order, with the owner, group and mode to keep (symlinks are followed).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the directory.
        type: path
        required: true
      mode:
        description: Mode, as an octal string.
        type: str
        default: "0755"
      owner:
        description: Owner.
        type: str
        default: root
      group:
        description: Group.
        type: str
        default: root
  secrets:
    description: Secret files to keep, after the directories are made.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the secret file.
        type: path
        required: true
      value:
        description: The value to write; empty keeps the file that is there, or generates one the first time.
        type: str
        default: ""
      legacy_path:
        description: Where earlier releases kept the file; moved to O(secrets[].path) when only it exists.
        type: path
      length:
        description: Length of a generated value.
        type: int
        default: 40
      read:
        description: Return the file's content (base64) in RV(secrets); absent in check mode when not written yet.
        type: bool
        default: false
      owner:
        description: Owner of the file and of its folder when that is created.
        type: str
        default: root
      group:
        description: Group of the file and of its folder when that is created.
        type: str
        default: root
  absent:
    description: Paths (files, or empty directories) to remove last.
    type: list
    elements: path
    default: []
notes:
  - The secrets' values are never logged (C(no_log)), nor in RV(changes).
"""

EXAMPLES = r"""
- name: Keep Qdrant's directories and API key, and read the key
  aistack.selfhosted.service_files:
    directories:
      - {path: /srv/aistack/data/qdrant/storage, mode: "0750"}
      - {path: /etc/aistack/secrets, mode: "0700"}
    secrets:
      - {path: /etc/aistack/secrets/qdrant/api_key, value: "{{ qdrant_api_key }}",
         legacy_path: /etc/aistack/secrets/qdrant_api_key, read: true}
    absent: [/etc/aistack/secrets/qdrant.yaml]
  register: qdrant_files
  no_log: true

- name: Use the key
  ansible.builtin.debug:
    msg: "{{ qdrant_files.secrets[0].content | b64decode | length }} characters"
"""

RETURN = r"""
changes:
  description: What was (or in check mode would be) done, one line per change; never a secret's value.
  returned: always
  type: list
  elements: str
  sample: ["created /srv/aistack/data/qdrant", "generated /etc/aistack/secrets/qdrant/api_key"]
secrets:
  description: One entry per secret, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The secret's path.
      type: str
    content:
      description: Its content, base64-encoded; only with O(secrets[].read), and when the file exists.
      type: str
"""

import base64
import os
import secrets as random_secrets
import shutil
import string
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes

ALPHABET = string.ascii_letters + string.digits


def attributes(path, mode, owner="root", group="root"):
    return {"path": path, "mode": mode, "owner": owner, "group": group,
            "secontext": None, "attributes": None}


class Files:
    def __init__(self, module):
        self.module = module
        self.check = module.check_mode
        self.changes = []
        # Directories that check mode would create: their (missing) contents are not read.
        self.planned = set()

    def note(self, change):
        self.changes.append(change)

    def fix_attributes(self, path, mode, owner="root", group="root"):
        if path in self.planned:
            return
        real = os.path.realpath(path) if os.path.islink(path) else path
        if self.module.set_fs_attributes_if_different(attributes(real, mode, owner, group), False):
            self.note(f"set owner/group/mode of {path}")

    def directory(self, path, mode, owner="root", group="root"):
        path = os.path.normpath(path)
        if os.path.isdir(path) or path in self.planned:
            self.fix_attributes(path, mode, owner, group)
            return
        if os.path.lexists(path):
            self.module.fail_json(msg=f"{path} exists and is not a directory.", changes=self.changes)
        # As ansible.builtin.file does: each missing parent gets the same owner, group and mode.
        missing, current = [], path
        while not os.path.isdir(current) and current not in self.planned:
            missing.append(current)
            current = os.path.dirname(current)
        for component in reversed(missing):
            self.note(f"created {component}")
            if self.check:
                self.planned.add(component)
                continue
            os.mkdir(component, int(mode, 8) & 0o777)
            self.module.set_fs_attributes_if_different(attributes(component, mode, owner, group), True)

    def write(self, path, value):
        if self.check:
            return
        # mkstemp makes it 0600: the value is never readable by others, not even for a moment.
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".aistack-secret-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(to_bytes(value, errors="surrogate_or_strict"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def secret(self, spec):
        path = os.path.normpath(spec["path"])
        value = spec["value"] or ""
        owner, group = spec["owner"], spec["group"]
        # Its folder is kept 0700 (as the owner's folder of secrets always was).
        self.directory(os.path.dirname(path), "0700", owner, group)
        legacy = spec.get("legacy_path")
        if legacy and not os.path.lexists(path) and os.path.lexists(legacy):
            self.note(f"moved {legacy} to {path}")
            if self.check:
                return self.result(spec, path, legacy)
            shutil.move(legacy, path)
        exists = os.path.exists(path) and os.path.dirname(path) not in self.planned
        if exists and os.path.isdir(path):
            self.module.fail_json(msg=f"The secret {path} is a directory.", changes=self.changes)
        if value:
            if not exists or self.read(path) != to_bytes(value, errors="surrogate_or_strict"):
                self.note(f"wrote {path}")
                self.write(path, value)
        elif not exists:
            self.note(f"generated {path}")
            self.write(path, "".join(random_secrets.choice(ALPHABET) for _position in range(spec["length"])))
        if os.path.exists(path) and not (self.check and not exists):
            self.fix_attributes(path, "0600", owner, group)
        return self.result(spec, path)

    @staticmethod
    def read(path):
        with open(path, "rb") as handle:
            return handle.read()

    def result(self, spec, path, source=None):
        entry = {"path": path}
        source = source or path
        if spec["read"] and os.path.isfile(source):
            entry["content"] = base64.b64encode(self.read(source)).decode("ascii")
        return entry

    def absent(self, path):
        if not os.path.lexists(path):
            return
        self.note(f"removed {path}")
        if self.check:
            return
        if os.path.isdir(path) and not os.path.islink(path):
            os.rmdir(path)
        else:
            os.unlink(path)


def main():
    module = AnsibleModule(
        argument_spec={
            "directories": {"type": "list", "elements": "dict", "default": [], "options": {
                "path": {"type": "path", "required": True},
                "mode": {"type": "str", "default": "0755"},
                "owner": {"type": "str", "default": "root"},
                "group": {"type": "str", "default": "root"},
            }},
            "secrets": {"type": "list", "elements": "dict", "default": [], "no_log": False, "options": {
                "path": {"type": "path", "required": True},
                "value": {"type": "str", "default": "", "no_log": True},
                "legacy_path": {"type": "path"},
                "length": {"type": "int", "default": 40},
                "read": {"type": "bool", "default": False},
                "owner": {"type": "str", "default": "root"},
                "group": {"type": "str", "default": "root"},
            }},
            "absent": {"type": "list", "elements": "path", "default": []},
        },
        supports_check_mode=True,
    )
    for entry in module.params["directories"] + module.params["secrets"]:
        if not os.path.isabs(entry["path"]):
            module.fail_json(msg=f"{entry['path']} is not an absolute path.")
    files = Files(module)
    try:
        for entry in module.params["directories"]:
            files.directory(entry["path"], entry["mode"], entry["owner"], entry["group"])
        results = [files.secret(entry) for entry in module.params["secrets"]]
        for path in module.params["absent"]:
            files.absent(os.path.normpath(path))
    except OSError as exc:
        module.fail_json(msg=f"{exc.filename or ''}: {exc.strerror or exc}", changes=files.changes)
    module.exit_json(changed=bool(files.changes), changes=files.changes, secrets=results)


if __name__ == "__main__":
    main()
