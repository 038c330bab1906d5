#!/usr/bin/python
# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: qdrant_collection
short_description: Create, update, recreate or delete a Qdrant collection
version_added: 0.1.0
description:
  - Makes a collection of a Qdrant server match the options given, through Qdrant's HTTP API.
  - Only the options you set are compared and sent; the server keeps its own defaults for the others.
  - HNSW, optimizer, O(on_disk) and O(on_disk_payload) settings are changed in place (C(PATCH)) when they differ.
  - The vector size and distance cannot be changed in place, and Qdrant silently ignores them in an update.
    When they differ the module fails, saying how many points the collection holds, unless O(recreate=true),
    which deletes the collection (and its points) and creates it again.
  - Manages collections with one unnamed vector; a collection with named vectors makes it fail.
author:
  - aistack.selfhosted maintainers (@aistack)
extends_documentation_fragment:
  - aistack.selfhosted.attributes
  - aistack.selfhosted.qdrant
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
  idempotent:
    support: full
options:
  name:
    description:
      - Name of the collection.
    type: str
    required: true
  state:
    description:
      - V(present) creates the collection or brings it in line; V(absent) deletes it with its points.
    type: str
    choices: [present, absent]
    default: present
  vector_size:
    description:
      - Dimension of the vectors (for an embedding model, its output size, for example 768).
      - Required when O(state=present).
    type: int
  distance:
    description:
      - Distance function of the vectors. Required when O(state=present).
    type: str
    choices: [Cosine, Dot, Euclid, Manhattan]
  on_disk:
    description:
      - Keep the vectors on disk (memmapped) instead of in memory.
    type: bool
  on_disk_payload:
    description:
      - Keep the payloads on disk instead of in memory.
    type: bool
  hnsw_config:
    description:
      - HNSW index settings; only the keys given are compared and changed.
    type: dict
    suboptions:
      m:
        description: Edges per node in the index graph.
        type: int
      ef_construct:
        description: Neighbours considered while building the index (at least 4).
        type: int
      full_scan_threshold:
        description: Below this many kilobytes of vectors a search scans instead of using the index (at least 10).
        type: int
      max_indexing_threads:
        description: Threads used to build the index; V(0) lets Qdrant choose.
        type: int
      on_disk:
        description: Keep the index on disk.
        type: bool
      payload_m:
        description: Edges per node for the payload-aware index.
        type: int
  optimizers_config:
    description:
      - Optimizer settings; only the keys given are compared and changed.
    type: dict
    suboptions:
      deleted_threshold:
        description: Share of deleted vectors in a segment that triggers its vacuum.
        type: float
      vacuum_min_vector_number:
        description: Minimal number of vectors in a segment for a vacuum (at least 100).
        type: int
      default_segment_number:
        description: Target number of segments; V(0) lets Qdrant choose from the CPU count.
        type: int
      max_segment_size:
        description: Maximal segment size in kilobytes.
        type: int
      indexing_threshold:
        description: Kilobytes of vectors in a segment above which it gets an HNSW index.
        type: int
      flush_interval_sec:
        description: Seconds between forced flushes.
        type: int
      max_optimization_threads:
        description: Threads for optimizations of this collection.
        type: int
  recreate:
    description:
      - Allow deleting and recreating the collection when O(vector_size) or O(distance) differs.
      - Acts only while they differ, so it can stay set; a second run changes nothing.
      - B(All points of the collection are lost.) Restore them from a snapshot or re-index them.
    type: bool
    default: false
notes:
  - Against Qdrant 1.8 or newer (the module uses the 409 of an existing collection and C(PATCH) of the unnamed vector).
seealso:
  - name: Qdrant collections
    description: Qdrant's documentation of collections and their settings.
    link: https://qdrant.tech/documentation/concepts/collections/
"""

EXAMPLES = r"""
- name: A collection for 768-dimension embeddings
  aistack.selfhosted.qdrant_collection:
    name: documents
    vector_size: 768
    distance: Cosine
    api_key: "{{ qdrant_api_key }}"

- name: Vectors and HNSW index on disk, larger graph
  aistack.selfhosted.qdrant_collection:
    name: documents
    vector_size: 768
    distance: Cosine
    on_disk: true
    hnsw_config:
      m: 32
      on_disk: true
    api_key: "{{ qdrant_api_key }}"

- name: Switch to a 1024-dimension embedding model, dropping the old vectors
  aistack.selfhosted.qdrant_collection:
    name: documents
    vector_size: 1024
    distance: Cosine
    recreate: true
    api_key: "{{ qdrant_api_key }}"

- name: Remove a collection
  aistack.selfhosted.qdrant_collection:
    name: scratch
    state: absent
    url: http://qdrant.internal:6333
    api_key: "{{ qdrant_api_key }}"
"""

RETURN = r"""
collection:
  description:
    - The collection after the task (in check mode, as it would be), in the shape of the module's options,
      plus C(state) and C(points_count). Only C(name) and C(state) when it is absent.
  returned: always
  type: dict
  sample:
    name: documents
    state: present
    vector_size: 768
    distance: Cosine
    on_disk: false
    on_disk_payload: true
    hnsw_config: {m: 16, ef_construct: 100, full_scan_threshold: 10000, max_indexing_threads: 0, on_disk: false}
    optimizers_config: {deleted_threshold: 0.2, indexing_threshold: 10000, flush_interval_sec: 5}
    points_count: 0
recreated:
  description: Whether the collection was (or in check mode would be) deleted and created again.
  returned: always
  type: bool
  sample: false
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aistack.selfhosted.plugins.module_utils._qdrant import (
    QDRANT_CONNECTION_ARGS,
    QdrantClient,
    QdrantError,
)
from ansible_collections.aistack.selfhosted.plugins.module_utils._qdrant_collection import (
    DISTANCES,
    HNSW_KEYS,
    OPTIMIZER_KEYS,
    UnsupportedCollection,
    absent_view,
    create_body,
    current_from_info,
    describe_immutable,
    desired_from_params,
    immutable_changes,
    predicted,
    update_body,
)

HNSW_TYPES = dict(m="int", ef_construct="int", full_scan_threshold="int", max_indexing_threads="int", on_disk="bool",
                  payload_m="int")
OPTIMIZER_TYPES = dict(deleted_threshold="float", vacuum_min_vector_number="int", default_segment_number="int",
                       max_segment_size="int", indexing_threshold="int", flush_interval_sec="int",
                       max_optimization_threads="int")


def argument_spec() -> dict:
    return dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        vector_size=dict(type="int"),
        distance=dict(type="str", choices=list(DISTANCES)),
        on_disk=dict(type="bool"),
        on_disk_payload=dict(type="bool"),
        hnsw_config=dict(type="dict", options={key: dict(type=HNSW_TYPES[key]) for key in HNSW_KEYS}),
        optimizers_config=dict(type="dict",
                               options={key: dict(type=OPTIMIZER_TYPES[key]) for key in OPTIMIZER_KEYS}),
        recreate=dict(type="bool", default=False),
        **QDRANT_CONNECTION_ARGS,
    )


def read_current(client: QdrantClient, name: str) -> dict | None:
    info = client.get_collection(name)
    return current_from_info(name, info) if info is not None else None


def ensure_absent(module, client: QdrantClient, name: str, current: dict | None) -> dict:
    after = absent_view(name)
    if current is None:
        return dict(changed=False, collection=after, recreated=False, diff=dict(before=after, after=after))
    if not module.check_mode:
        client.delete_collection(name)
    return dict(changed=True, collection=after, recreated=False, diff=dict(before=current, after=after))


def ensure_present(module, client: QdrantClient, name: str, current: dict | None) -> dict:
    desired = desired_from_params(module.params)
    before = current or absent_view(name)
    recreated = False
    if current is None:
        after = predicted(None, desired)
        if not module.check_mode:
            client.create_collection(name, create_body(desired))
    else:
        changes = immutable_changes(current, desired)
        if changes and not module.params["recreate"]:
            module.fail_json(
                msg=(f"collection '{name}' at {client.url}: {describe_immutable(changes)} cannot be changed in place "
                     f"(Qdrant ignores them in an update). The collection has {current['points_count']} points; "
                     "set recreate: true to delete and recreate it, which drops those points."),
                collection=current)
        if changes:
            recreated = True
            after = predicted(None, desired)
            if not module.check_mode:
                client.delete_collection(name)
                try:
                    client.create_collection(name, create_body(desired))
                except QdrantError as exc:
                    raise QdrantError(f"collection '{name}' was deleted for the recreate, but creating it again "
                                      f"failed (run the task again to create it): {exc}", exc.status) from exc
        else:
            patch = update_body(current, desired)
            if not patch:
                return dict(changed=False, collection=current, recreated=False,
                            diff=dict(before=current, after=current))
            after = predicted(current, desired)
            if not module.check_mode:
                client.update_collection(name, patch)
    if not module.check_mode:
        after = read_current(client, name)
        left = update_body(after, desired) if after else {"collection": "missing"}
        if left:
            module.fail_json(msg=f"collection '{name}' at {client.url}: the server accepted the change but still "
                                 f"reports other values for {sorted(left)}; it may not support these settings "
                                 "(the module needs Qdrant 1.8 or newer)", collection=after)
    return dict(changed=True, collection=after, recreated=recreated, diff=dict(before=before, after=after))


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_if=[("state", "present", ("vector_size", "distance"))],
        supports_check_mode=True,
    )
    size = module.params["vector_size"]
    if size is not None and not 1 <= size <= 65536:
        module.fail_json(msg=f"vector_size must be from 1 to 65536 (Qdrant's limit), got {size}")
    client = QdrantClient.from_module(module)
    name = module.params["name"]
    try:
        current = read_current(client, name)
        if module.params["state"] == "absent":
            result = ensure_absent(module, client, name, current)
        else:
            result = ensure_present(module, client, name, current)
    except (QdrantError, UnsupportedCollection) as exc:
        module.fail_json(msg=str(exc), status=getattr(exc, "status", None))
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
