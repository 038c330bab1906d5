#!/usr/bin/python
# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the work is done on the controller by the action plugin plugins/action/check_inputs.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: check_inputs
short_description: Check every input of the named roles before anything changes
version_added: 0.1.0
description:
  - Runs on the controller and changes nothing. For each role of O(roles) it reads the role's
    C(meta/argument_specs.yml) (entry point O(entry_point)) and C(meta/input_checks.yml) from the collection's
    C(roles/) directory, takes the values of the role's options from the task's variables (templated; options not
    set take the role's default), and reports every problem at once.
  - "The argument specs are applied as ansible-core applies them: types, C(choices), C(elements), C(required),
    sub-options."
  - "C(meta/input_checks.yml) says what argument specs cannot: formats (C(port), C(ip), C(ipv4), C(ipv6), C(host),
    C(duration) as Ollama reads it, C(url), C(email), C(safe_path), C(image), C(model_name), C(inventory_group)),
    number ranges (C(min), C(max)), lengths in characters or bytes (C(min_length), C(max_length), C(min_bytes),
    C(max_bytes)), C(pattern), C(choices) (tolerant of Ansible's boolean strings), host ports that must not clash
    between the services of a host (C(host_port)), list items (C(items) with C(fields), C(as_dict), C(unique)), and
    relations between options (C(less_than), C(when)/C(then)). See C(docs/input-checks.md) of the collection."
  - "Each problem is one line naming the variable, what is wrong with the value and what is accepted. Values of
    options with C(no_log: true) are never shown."
  - Warns (without failing) about floating image tags and about variables under a checked role's prefix (the role's
    name and C(_), and C(aistack_)) that no role declares, naming the nearest known variable. Names starting with
    C(_) are private and not looked at.
author:
  - aistack.selfhosted maintainers (@aistack)
extends_documentation_fragment:
  - aistack.selfhosted.attributes
attributes:
  check_mode:
    support: full
    details: Changes nothing in any mode; check mode runs the same checks.
  diff_mode:
    support: none
  idempotent:
    support: full
  platform:
    platforms: posix
    details: Runs on the controller only; the target is not contacted.
options:
  roles:
    description:
      - The roles whose inputs to check, by name (V(ollama)) or fully qualified (V(aistack.selfhosted.ollama)).
      - Host ports are compared across all of them, so list every role that runs on the hosts of the play.
    type: list
    elements: str
    required: true
  entry_point:
    description: The entry point of the roles' argument specs and input checks.
    type: str
    default: main
  ignore:
    description: Variables under a checked prefix that are not inputs (a loop variable, a fact of your own); no warning.
    type: list
    elements: str
    default: []
  roles_dir:
    description: Directory of the roles; by default the collection's own C(roles/).
    type: path
notes:
  - Put it in the first play of a playbook, for every role the playbook runs, so that nothing changes on any host
    when an input is wrong.
seealso:
  - module: ansible.builtin.validate_argument_spec
"""

EXAMPLES = r"""
- name: Check every input of the inference roles before anything changes
  aistack.selfhosted.check_inputs:
    roles: [docker, qdrant, ollama, open_webui]

- name: The same for the roles a host runs, with a loop variable of the play left alone
  aistack.selfhosted.check_inputs:
    roles: "{{ ['docker'] + inference_services }}"
    ignore: [aistack_service]
"""

RETURN = r"""
changed:
  description: Always V(false).
  returned: always
  type: bool
  sample: false
msg:
  description: A summary; on failure one line per problem, after a header line.
  returned: always
  type: str
  sample: |-
    2 input problem(s) in the variables of the roles ollama, open_webui:
    - ollama_port: 70000 is not a port; accepted: an integer from 1 to 65535
    - open_webui_rag_top_k: 0 is out of range; accepted: a number of at least 1
errors:
  description: "The problems that refuse the inputs, one line each: C(<variable>: <problem>; accepted: <what is>)."
  returned: always
  type: list
  elements: str
  sample: ["ollama_keep_alive: 'forever' is not a duration; accepted: a duration as Ollama reads it: ..."]
input_warnings:
  description: The problems that do not refuse (floating tags, unknown variables), also shown as warnings.
  returned: always
  type: list
  elements: str
  sample: ["ollama_modles: is not a variable of any role (ollama_*): it is ignored; did you mean ollama_models?"]
roles:
  description: The roles checked, as named in O(roles) without the collection prefix.
  returned: always
  type: list
  elements: str
  sample: [docker, ollama]
"""
