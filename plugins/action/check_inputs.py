# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""check_inputs: every input of the named roles checked on the controller, before any change.

Documentation: plugins/modules/check_inputs.py. The checks themselves are in
module_utils/_input_checks.py; this file finds the roles, resolves the values and reports.
"""

from __future__ import annotations

import pathlib
import re

import yaml
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible_collections.aistack.selfhosted.plugins.module_utils._input_checks import (
    Problem,
    SpecError,
    mask,
    run_checks,
    show,
    unknown_variables,
    validate_checks,
)

try:  # ansible-core 2.19+: only trusted strings are templates (inventory and playbook values are)
    from ansible.template import trust_as_template
except ImportError:  # earlier releases template every string
    def trust_as_template(value):
        return value

display = Display()

# The collection's roles, relative to this file: <collection>/plugins/action/check_inputs.py.
ROLES_DIR = pathlib.Path(__file__).resolve().parents[2] / "roles"
COLLECTION = "aistack.selfhosted."
# The project settings every service role shares are declared (and checked) by the internal _compose role.
SHARED_ROLE = "_compose"
SHARED_PREFIX = "aistack_"


def trusted(value):
    """A value (a default from argument_specs.yml) trusted as a template, as defaults/main.yml and the inventory are."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, list):
        return [trusted(item) for item in value]
    if isinstance(value, dict):
        return {key: trusted(item) for key, item in value.items()}
    return value


def load_yaml(path):
    if not path.is_file():
        return {}
    try:
        return yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise AnsibleActionFail("%s is not valid YAML: %s" % (path, error))


class Role:
    """A role's argument specs and input checks."""

    def __init__(self, roles_dir, name, entry_point):
        self.name = name
        folder = roles_dir / name
        if not folder.is_dir():
            raise AnsibleActionFail("check_inputs: there is no role %s in %s" % (name, roles_dir))
        specs = load_yaml(folder / "meta" / "argument_specs.yml").get("argument_specs") or {}
        self.options = dict((specs.get(entry_point) or {}).get("options") or {})
        # Every entry point's options are variables of the role (known names for the warnings).
        self.all_options = {option for entry in specs.values() for option in ((entry or {}).get("options") or {})}
        checks = load_yaml(folder / "meta" / "input_checks.yml").get(entry_point) or {}
        try:
            validate_checks(name, checks)
        except SpecError as error:
            raise AnsibleActionFail("check_inputs: %s" % error)
        self.checks = checks.get("options") or {}
        self.relations = checks.get("relations") or []
        self.published = set(checks.get("published") or ())
        self.removed = dict(checks.get("removed") or {})
        self.prefix = checks.get("prefix") or ("" if name.startswith("_") else name + "_")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    _VALID_ARGS = frozenset(("roles", "entry_point", "ignore", "roles_dir"))

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        _spec, args = self.validate_argument_spec(argument_spec=dict(
            roles=dict(type="list", elements="str", required=True),
            entry_point=dict(type="str", default="main"),
            ignore=dict(type="list", elements="str", default=[]),
            roles_dir=dict(type="path"),
        ))
        roles_dir = pathlib.Path(args["roles_dir"]) if args["roles_dir"] else ROLES_DIR
        entry_point = args["entry_point"]
        names = [name[len(COLLECTION):] if name.startswith(COLLECTION) else name for name in args["roles"]]
        checked = [Role(roles_dir, name, entry_point) for name in dict.fromkeys(names)]
        every = {role.name: role for role in checked}
        for folder in sorted(roles_dir.iterdir()) if roles_dir.is_dir() else ():
            if folder.is_dir() and folder.name not in every and (folder / "meta").is_dir():
                every[folder.name] = Role(roles_dir, folder.name, entry_point)

        # The options checked: the checked roles' entry point options (first declaration wins).
        specs = {}
        for role in checked:
            for option, spec in role.options.items():
                specs.setdefault(option, spec)
        # Their extra checks, wherever declared (the shared aistack_* ones once, in _compose).
        order = checked + [role for name, role in every.items() if role not in checked]
        option_checks = {}
        for role in order:
            for option, check in role.checks.items():
                if option in specs:
                    option_checks.setdefault(option, check)
        relations = [relation for role in checked for relation in role.relations]
        secrets = {option for option, spec in specs.items() if spec.get("no_log")}

        given, values, warnings = self._resolve(specs, secrets, task_vars)
        secret_values = [values[name] for name in secrets if name in values]

        problems = []
        # ansible-core's own validation of what was given: types, choices, elements, required.
        validator = ArgumentSpecValidator({option: dict(spec) for option, spec in specs.items()})
        validation = validator.validate({name: values[name] for name in given if name in values},
                                        validate_role_argument_spec=True)
        refused = set()
        secret_values.extend(getattr(validation, "_no_log_values", ()) or ())
        for message in validation.error_messages:
            named = [option for option in specs if re.search(r"(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])" % option, message)]
            refused.update(named)
            problems.append(Problem("error", named[0] if named else "arguments", mask(message, secret_values)))
        problems.extend(run_checks(option_checks, relations, values, secrets,
                                   {"groups": task_vars.get("groups") or {}}, refused))

        for role in every.values():
            for name, instead in role.removed.items():
                if name in task_vars:
                    problems.append(Problem("error", name, "no longer exists: %s" % instead))
        known = set().union(*(role.all_options | role.published | set(role.removed) for role in every.values()))
        prefixes = {role.prefix for role in checked if role.prefix} | {SHARED_PREFIX}
        problems.extend(unknown_variables([name for name in task_vars if isinstance(name, str)], prefixes, known,
                                          set(args["ignore"])))

        errors, seen = [], set()
        for problem in problems:
            line = str(problem)  # the checks never show a secret; ansible-core's messages were masked above
            if line in seen:
                continue
            seen.add(line)
            (errors if problem.level == "error" else warnings).append(line)
        result.update(changed=False, roles=list(dict.fromkeys(names)),
                      errors=errors, input_warnings=warnings)
        for line in warnings:
            display.warning("check_inputs: %s" % line)
        if errors:
            result["failed"] = True
            result["msg"] = "%d input problem(s) in the variables of the roles %s:\n%s" % (
                len(errors), ", ".join(dict.fromkeys(names)), "\n".join("- " + line for line in errors))
        else:
            result["msg"] = "the inputs of the roles %s pass their checks%s" % (
                ", ".join(dict.fromkeys(names)), " (%d warning(s))" % len(warnings) if warnings else "")
        return result

    def _resolve(self, specs, secrets, task_vars):
        """(given names, effective values, warnings): given values templated, defaults where none was given."""
        variables = dict(task_vars)
        for option, spec in specs.items():
            if option not in variables and "default" in spec:
                variables[option] = trusted(spec["default"])
        templar = self._templar.copy_with_new_env(available_variables=variables)
        given, values, warnings = [], {}, []
        for option, spec in specs.items():
            if option in task_vars:
                given.append(option)
                raw = task_vars[option]
            elif "default" in spec:
                raw = trusted(spec["default"])
            else:
                continue
            try:
                values[option] = templar.template(raw)
            except Exception as error:  # undefined names, facts not gathered yet: not checkable here
                if option in task_vars:
                    reason = "its template" if option in secrets else show(raw)
                    warnings.append("%s: not checked, %s cannot be resolved before the play (%s)" % (
                        option, reason, type(error).__name__))
                    given.remove(option)
        return given, values, warnings
