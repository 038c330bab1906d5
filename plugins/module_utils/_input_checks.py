# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Input checks of the roles' variables beyond what argument specs can say.

Pure Python (standard library and ansible.module_utils only), used by the check_inputs
action plugin on the controller and unit-tested on its own. A role's checks live next to
its argument specs, in ``meta/input_checks.yml`` (ansible-lint's schema of
``meta/argument_specs.yml`` refuses any key it does not know):

    main:                       # entry point, as in argument_specs.yml
      prefix: ollama_           # optional; default: the role's name + '_'
      published: [name, ...]    # facts the role sets under its prefix: not inputs
      removed: {name: what to set instead}
      options:
        <option>: <check>       # see CHECK_KEYS
      relations:
        - less_than: [a, b]     # a < b
        - when: {a: [values]}   # when a is one of the values ...
          then: {b: <check>}    # ... b must pass the check
          reason: text

Every problem is one line: ``<variable>: <what is wrong>; accepted: <what is>``. Values of
secret options (``no_log: true`` in the argument specs) are never shown.
"""

from __future__ import annotations

import difflib
import ipaddress
import os.path
import re
from urllib.parse import urlsplit

from ansible_collections.aistack.selfhosted.plugins.module_utils._ollama_name import (
    InvalidModelName,
    parse_model_name,
)

CHECK_KEYS = frozenset((
    "format", "allow_empty", "min", "max", "min_length", "max_length", "min_bytes", "max_bytes",
    "pattern", "pattern_help", "choices", "host_port", "items", "keys", "schemes",
))
ITEM_KEYS = CHECK_KEYS | frozenset(("as_dict", "fields", "unique"))
FIELD_KEYS = CHECK_KEYS | frozenset(("type", "required"))
RELATION_KEYS = frozenset(("less_than", "when", "then", "reason"))
ENTRY_KEYS = frozenset(("prefix", "published", "removed", "options", "relations"))
FORMATS = frozenset((
    "port", "ip", "ipv4", "ipv6", "host", "duration", "url", "email", "safe_path", "image",
    "model_name", "inventory_group",
))

# Directories no service's data, project or secrets may be: the root, the FHS top-level
# directories and the system directories below them. Subdirectories (/srv/aistack/data,
# /etc/aistack/secrets) are fine.
SYSTEM_DIRECTORIES = frozenset((
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media",
    "/mnt", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/bin",
    "/usr/lib", "/usr/lib64", "/usr/local", "/usr/local/bin", "/usr/sbin", "/usr/share", "/var",
    "/var/cache", "/var/lib", "/var/log", "/var/run", "/var/spool", "/var/tmp", "/etc/systemd",
    "/var/lib/docker",
))
FLOATING_TAGS = frozenset(("latest", "stable", "main", "master", "nightly", "edge", "dev", "beta", "rolling"))
SECRET = "(secret, not shown)"
_TRUE = frozenset(("true", "yes", "on", "y", "1"))
_FALSE = frozenset(("false", "no", "off", "n", "0"))

_GO_DURATION = re.compile(r"^[-+]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h))+)$")
_GO_INT = re.compile(r"^[-+]?\d+$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_EMAIL_LOCAL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$")
_IMAGE_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_IMAGE_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_IMAGE_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}$")


class SpecError(ValueError):
    """A role's meta/input_checks.yml is malformed (a bug of the role, not of the input)."""


class Problem:
    """One line of the report: an error refuses the input, a warning only says so."""

    __slots__ = ("level", "name", "text")

    def __init__(self, level, name, text):
        self.level = level
        self.name = name
        self.text = text

    def __str__(self):
        return "%s: %s" % (self.name, self.text)

    def __repr__(self):
        return "Problem(%r, %r, %r)" % (self.level, self.name, self.text)

    def __eq__(self, other):
        return isinstance(other, Problem) and (
            (self.level, self.name, self.text) == (other.level, other.name, other.text))

    def __hash__(self):
        return hash((self.level, self.name, self.text))


def show(value, secret=False):
    """A value as the messages print it (short; secrets replaced)."""
    if secret:
        return SECRET
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _as_int(value):
    if _is_int(value):
        return value
    if isinstance(value, str) and _GO_INT.match(value.strip()):
        return int(value.strip())
    return None


def _empty(value):
    return value is None or value in ("", [], {})


def same(value, choice):
    """value equals choice, where a boolean choice also matches Ansible's boolean strings."""
    if isinstance(choice, bool):
        if isinstance(value, bool):
            return value is choice
        if isinstance(value, str):
            return value.strip().lower() in (_TRUE if choice else _FALSE)
        return False
    if isinstance(value, bool):
        return False
    return value == choice or (choice is not None and value is not None and str(value) == str(choice))


def _choices_text(choices):
    return ", ".join(show(choice) if not isinstance(choice, str) else choice or "''" for choice in choices)


# Formats: each returns None (fine), or (level, problem, accepted).

def _port(value):
    number = _as_int(value)
    if number is None or not 1 <= number <= 65535:
        return "error", "%s is not a port" % show(value), "an integer from 1 to 65535"
    return None


def _ip(value, versions=(4, 6)):
    accepted = {(4,): "an IPv4 address (192.0.2.10)", (6,): "an IPv6 address (2001:db8::10)"}.get(
        tuple(versions), "an IPv4 or IPv6 address (192.0.2.10, 2001:db8::10)")
    if not isinstance(value, str):
        return "error", "%s is not an IP address" % show(value), accepted
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return "error", "%s is not an IP address" % show(value), accepted
    if address.version not in versions:
        return "error", "%s is an IPv%d address" % (show(value), address.version), accepted
    return None


def _is_hostname(text):
    text = text[:-1] if text.endswith(".") else text
    return 0 < len(text) <= 253 and all(_LABEL.match(label) for label in text.split("."))


def _host(value):
    accepted = "a host name (ollama.example.org) or an IP address"
    if isinstance(value, str) and (_is_hostname(value) or _ip(value) is None):
        return None
    return "error", "%s is not a host name or an address" % show(value), accepted


def _duration(value):
    accepted = ("a duration as Ollama reads it: Go's 30s, 5m, 1h30m, or a whole number of seconds "
                "(a negative one keeps the model loaded forever)")
    if _is_int(value):
        return None
    if isinstance(value, str) and (_GO_DURATION.match(value.strip()) or _GO_INT.match(value.strip())):
        return None
    return "error", "%s is not a duration" % show(value), accepted


def _url(value, schemes=("http", "https")):
    accepted = "a URL with a scheme (%s) and a host, such as https://chat.example.org%s" % (
        ", ".join(schemes), ", or file:///absolute/path" if "file" in schemes else "")
    if not isinstance(value, str) or any(char.isspace() for char in value):
        return "error", "%s is not a URL" % show(value), accepted
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as error:
        return "error", "%s is not a URL (%s)" % (show(value), error), accepted
    if parts.scheme.lower() not in schemes:
        return "error", "%s is not a URL (%s)" % (
            show(value), "no scheme" if not parts.scheme else "scheme %r" % parts.scheme), accepted
    host = parts.hostname or ""
    if parts.scheme.lower() == "file":
        # A local copy (a mirror on disk): an absolute path, no host but this one.
        if host not in ("", "localhost") or not parts.path.startswith("/"):
            return "error", "%s is not a file URL (file:///absolute/path)" % show(value), accepted
        return None
    if not host or not (_is_hostname(host) or _ip(host) is None):
        return "error", "%s is not a URL (no valid host)" % show(value), accepted
    if port == 0:
        return "error", "%s is not a URL (port 0)" % show(value), accepted
    return None


def _email(value):
    accepted = "an e-mail address, local@domain (admin@example.org; admin@localhost works too)"
    if isinstance(value, str) and value.count("@") == 1:
        local, domain = value.split("@")
        if _EMAIL_LOCAL.match(local) and not local.startswith(".") and not local.endswith(".") \
                and ".." not in local and _is_hostname(domain):
            return None
    return "error", "%s is not an e-mail address" % show(value), accepted


def _safe_path(value):
    accepted = "an absolute path of a directory of its own, not / nor a system directory (such as /srv/aistack/data)"
    if not isinstance(value, str) or not value.startswith("/"):
        return "error", "%s is not an absolute path" % show(value), accepted
    path = os.path.normpath(value)
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    if path in SYSTEM_DIRECTORIES:
        what = "the root directory" if path == "/" else "the system directory %s" % path
        return "error", "%s is %s" % (show(value), what), accepted
    return None


def parse_image(text):
    """(name, tag, digest) of an image reference; ValueError saying why it is not one."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("the image is empty")
    if text != text.strip() or any(char.isspace() for char in text):
        raise ValueError("the image contains white space")
    rest, digest = text, ""
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        if not _IMAGE_DIGEST.match(digest):
            raise ValueError("the digest %r is not algorithm:hex" % digest)
    tag = ""
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1:]
        if not _IMAGE_TAG.match(tag):
            raise ValueError("the tag %r is not a tag (letters, digits, '_', '.', '-', at most 128)" % tag)
    components = rest.split("/")
    if len(components) > 1 and ("." in components[0] or ":" in components[0] or components[0] == "localhost"):
        registry = components.pop(0)
        host, _sep, port = registry.partition(":")
        if not (_is_hostname(host) or _ip(host.strip("[]")) is None) or (port and not port.isdigit()):
            raise ValueError("the registry %r is not a host[:port]" % registry)
    for component in components:
        if not _IMAGE_COMPONENT.match(component):
            raise ValueError("the name part %r is not lowercase letters, digits and separators" % component)
    return rest, tag, digest


def _image(value):
    accepted = "an image with an explicit version tag, such as ollama/ollama:0.34.2 (or a @sha256 digest)"
    try:
        _name, tag, digest = parse_image(value)
    except ValueError as error:
        return "error", "%s is not an image reference: %s" % (show(value), error), accepted
    if digest:
        return None
    if not tag:
        return "warning", "%s has no tag, so Docker takes the floating :latest" % show(value), accepted
    if tag.lower() in FLOATING_TAGS:
        return "warning", "%s has the floating tag :%s, which moves under you" % (show(value), tag), accepted
    return None


def _model_name(value):
    accepted = "an Ollama model name, [host/][namespace/]model[:tag] such as llama3.1:8b"
    try:
        parse_model_name(value)
    except InvalidModelName as error:
        return "error", str(error), accepted
    return None


def _inventory_group(value, groups):
    names = sorted(name for name in groups or () if name not in ("all", "ungrouped"))
    listed = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    accepted = "a group of the inventory (%s)" % (listed or "it has none")
    if isinstance(value, str) and value in (groups or {}):
        return None
    return "error", "%s is not a group of the inventory" % show(value), accepted


def check_format(kind, value, context=None, schemes=None):
    """None, or (level, problem, accepted) for value in the named format."""
    context = context or {}
    if kind == "port":
        return _port(value)
    if kind in ("ip", "ipv4", "ipv6"):
        return _ip(value, {"ip": (4, 6), "ipv4": (4,), "ipv6": (6,)}[kind])
    if kind == "host":
        return _host(value)
    if kind == "duration":
        return _duration(value)
    if kind == "url":
        return _url(value, tuple(schemes or ("http", "https")))
    if kind == "email":
        return _email(value)
    if kind == "safe_path":
        return _safe_path(value)
    if kind == "image":
        return _image(value)
    if kind == "model_name":
        return _model_name(value)
    if kind == "inventory_group":
        return _inventory_group(value, context.get("groups"))
    raise SpecError("unknown format %r (known: %s)" % (kind, ", ".join(sorted(FORMATS))))


def normalise(kind, value):
    """Identity of a value for duplicate detection, as the service would compare it."""
    if kind == "model_name":
        try:
            return parse_model_name(value).key
        except InvalidModelName:
            pass
    if isinstance(value, str):
        return value.strip().casefold()
    return value


def _problem(level, name, problem, accepted, suffix=""):
    return Problem(level, name, "%s%s; accepted: %s" % (problem, suffix, accepted))


def check_value(name, value, check, secret=False, context=None, suffix=""):  # noqa: PLR0917
    """Problems of one value against one check (a dict of CHECK_KEYS)."""
    problems = []
    if check.get("allow_empty") and _empty(value):
        return problems
    shown = show(value, secret)
    if "choices" in check:
        choices = check["choices"]
        if not any(same(value, choice) for choice in choices):
            problems.append(_problem("error", name, "%s is not accepted" % shown, _choices_text(choices), suffix))
            return problems
    kind = check.get("format")
    if kind:
        found = check_format(kind, value, context, check.get("schemes"))
        if found:
            level, problem, accepted = found
            if secret:
                problem = "%s is not valid as %s" % (SECRET, kind)
            problems.append(_problem(level, name, problem, accepted, suffix))
            if level == "error":
                return problems
    if "min" in check or "max" in check:
        number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else _as_int(value)
        low, high = check.get("min"), check.get("max")
        accepted = ("a number from %s to %s" % (low, high) if low is not None and high is not None
                    else "a number of at least %s" % low if low is not None else "a number of at most %s" % high)
        if number is None:
            problems.append(_problem("error", name, "%s is not a number" % shown, accepted, suffix))
        elif (low is not None and number < low) or (high is not None and number > high):
            problems.append(_problem("error", name, "%s is out of range" % shown, accepted, suffix))
    for unit, size in (("characters", len), ("bytes", lambda text: len(text.encode("utf-8")))):
        key = "length" if unit == "characters" else "bytes"
        low, high = check.get("min_" + key), check.get("max_" + key)
        if low is None and high is None:
            continue
        measure = unit
        if isinstance(value, str):
            length = size(value)
        elif isinstance(value, (list, dict)) and unit == "characters":
            length, measure = len(value), "items"
        else:
            length = size(str(value if value is not None else ""))
        accepted = ("%s to %s %s" % (low, high, measure) if low is not None and high is not None
                    else "%s %s or more" % (low, measure) if low is not None else "at most %s %s" % (high, measure))
        if check.get("allow_empty"):
            accepted += ", or empty"
        if (low is not None and length < low) or (high is not None and length > high):
            what = "%s is %d %s long" % (shown, length, measure) if not secret else "the secret is %d %s long" % (
                length, measure)
            problems.append(_problem("error", name, what, accepted, suffix))
    if "pattern" in check:
        text = value if isinstance(value, str) else show(value)
        if not re.fullmatch(check["pattern"], text):
            problems.append(_problem("error", name, "%s does not match" % shown,
                                     check.get("pattern_help") or "the pattern %s" % check["pattern"], suffix))
    if "items" in check:
        problems.extend(check_items(name, value, check["items"], context, suffix))
    if "keys" in check and isinstance(value, dict):
        # Each key of a dict (environment variable names, ...), named as name[key].
        for key in value:
            problems.extend(check_value("%s[%s]" % (name, show(key)), key, check["keys"], context=context,
                                        suffix=suffix))
    return problems


def check_items(name, items, check, context=None, suffix=""):
    """Problems of a list's items: each against the item check, fields of dict items, duplicates."""
    problems = []
    if not isinstance(items, list):
        return [_problem("error", name, "%s is not a list" % show(items), "a list", suffix)]
    as_dict = check.get("as_dict")
    fields = check.get("fields") or {}
    own = {key: value for key, value in check.items() if key in CHECK_KEYS}
    seen = {}
    unique = check.get("unique")
    for index, given in enumerate(items):
        where = "%s[%d]" % (name, index)
        item = {as_dict: given} if as_dict and isinstance(given, str) else given
        if fields:
            if not isinstance(item, dict):
                accepted = ("a %s or a dict with %s" % (as_dict, ", ".join(fields)) if as_dict
                            else "a dict with %s" % ", ".join(fields))
                problems.append(_problem("error", where, "%s is not a dict" % show(item), accepted))
                continue
            for field, field_check in fields.items():
                field_name = "%s.%s" % (where, field)
                if field not in item or item[field] is None:
                    if field_check.get("required"):
                        problems.append(_problem("error", field_name, "is missing", "a value (%s)" % (
                            field_check.get("format") or field_check.get("type") or "required")))
                    continue
                problems.extend(_check_field(field_name, item[field], field_check, context, suffix))
        elif own:
            problems.extend(check_value(where, item, own, context=context, suffix=suffix))
        if unique:
            key_field = None if unique is True else unique
            if key_field is not None and not (isinstance(item, dict) and key_field in item):
                continue
            raw = item[key_field] if key_field is not None else item
            kind = (fields.get(key_field, {}) if key_field else own).get("format")
            try:
                identity = normalise(kind, raw)
                hash(identity)
            except TypeError:
                continue
            if identity in seen:
                label = "%s.%s" % (where, key_field) if key_field else where
                problems.append(_problem("error", label, "%s is listed twice (also at %s)" % (
                    show(raw), seen[identity]), "each %s once" % (key_field or "item")))
            else:
                seen[identity] = "%s[%d]" % (name, index)
    return problems


_TYPES = {
    "int": (_is_int, "an integer"),
    "str": (lambda value: isinstance(value, str), "a string"),
    "bool": (lambda value: isinstance(value, bool), "true or false"),
    "list": (lambda value: isinstance(value, list), "a list"),
    "dict": (lambda value: isinstance(value, dict), "a dict"),
    "float": (lambda value: isinstance(value, (int, float)) and not isinstance(value, bool), "a number"),
}


def _check_field(name, value, check, context, suffix=""):
    kind = check.get("type")
    if kind:
        test, accepted = _TYPES[kind]
        if kind == "int" and _as_int(value) is not None:
            value = _as_int(value)
        elif kind == "bool" and isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            value = value.strip().lower() in _TRUE
        if not test(value):
            return [_problem("error", name, "%s is not %s" % (show(value), accepted), accepted, suffix)]
    return check_value(name, value, {key: val for key, val in check.items() if key in CHECK_KEYS}, context=context,
                       suffix=suffix)


def _matches(values, condition):
    """Whether every option of condition ({name: [values]}) has one of the listed values."""
    for option, wanted in condition.items():
        if option not in values:
            return False
        choices = wanted if isinstance(wanted, list) else [wanted]
        if not any(same(values[option], choice) for choice in choices):
            return False
    return True


def host_port_active(check, values):
    """Whether an option marked host_port publishes its port with the current values."""
    marker = check.get("host_port")
    if not marker:
        return False
    if marker is True:
        return True
    if "when" in marker and not _matches(values, marker["when"]):
        return False
    return not ("unless" in marker and _matches(values, marker["unless"]))


def check_relations(relations, values, secrets=frozenset(), context=None):
    problems = []
    for relation in relations:
        if "less_than" in relation:
            low, high = relation["less_than"]
            if low not in values or high not in values:
                continue
            small, large = _as_int(values[low]), _as_int(values[high])
            if small is not None and large is not None and small >= large:
                reason = (": %s" % relation["reason"]) if relation.get("reason") else ""
                problems.append(_problem("error", low, "%s is not smaller than %s (%s)%s" % (
                    show(values[low], low in secrets), high, show(values[high], high in secrets), reason),
                    "a value below %s" % high))
            continue
        condition = relation.get("when") or {}
        if not _matches(values, condition):
            continue
        because = " (because %s%s)" % (
            " and ".join("%s is %s" % (option, show(values[option], option in secrets)) for option in condition),
            ": " + relation["reason"] if relation.get("reason") else "")
        for option, check in (relation.get("then") or {}).items():
            if option not in values:
                continue
            problems.extend(check_value(option, values[option], check, option in secrets, context, because))
    return problems


def check_host_ports(port_options, values, secrets=frozenset()):
    """Clashes between the host ports of one host: port_options is the ordered list of active ones."""
    problems = []
    owner = {}
    for name in port_options:
        number = _as_int(values.get(name))
        if number is None:
            continue
        if number in owner:
            problems.append(_problem("error", name, "%s is also the host port of %s" % (
                show(values[name], name in secrets), owner[number]),
                "a port that no other service of this host publishes"))
        else:
            owner[number] = name
    return problems


def unknown_variables(names, prefixes, known, ignore=frozenset()):
    """Warnings for names under the prefixes that no role declares, each with the nearest known name."""
    problems = []
    for name in sorted(names):
        if name.startswith("_") or name in known or name in ignore:
            continue
        prefix = next((prefix for prefix in sorted(prefixes, key=len, reverse=True) if name.startswith(prefix)), None)
        if prefix is None:
            continue
        near = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
        hint = ("did you mean %s?" % near[0]) if near else "no variable of these roles is close to it"
        problems.append(Problem("warning", name, "is not a variable of any role (%s*): it is ignored; %s" % (
            prefix, hint)))
    return problems


def validate_checks(role, entry):
    """SpecError listing the unknown keys of a role's input_checks entry (a bug of the role)."""
    bad = ["%s" % key for key in entry if key not in ENTRY_KEYS]
    for option, check in (entry.get("options") or {}).items():
        bad.extend("options.%s.%s" % (option, key) for key in check if key not in CHECK_KEYS)
        if check.get("format") and check["format"] not in FORMATS:
            bad.append("options.%s.format=%s" % (option, check["format"]))
        bad.extend("options.%s.keys.%s" % (option, key) for key in check.get("keys") or {}
                   if key not in CHECK_KEYS - {"keys", "items", "host_port"})
        items = check.get("items") or {}
        bad.extend("options.%s.items.%s" % (option, key) for key in items if key not in ITEM_KEYS)
        for field, field_check in (items.get("fields") or {}).items():
            bad.extend("options.%s.items.fields.%s.%s" % (option, field, key)
                       for key in field_check if key not in FIELD_KEYS)
    for index, relation in enumerate(entry.get("relations") or []):
        bad.extend("relations[%d].%s" % (index, key) for key in relation if key not in RELATION_KEYS)
    if bad:
        raise SpecError("%s: meta/input_checks.yml has unknown keys: %s" % (role, ", ".join(bad)))


def run_checks(option_checks, relations, values, secrets=frozenset(), context=None, skip=frozenset()):  # noqa: PLR0917
    """All problems of the values: each option's check, relations, host port clashes.

    option_checks: {option: check}; values: the effective values (given or default) of the
    options that could be resolved; secrets: names whose values are never shown; skip:
    options already refused (by the argument specs), whose checks would only repeat that.
    """
    problems = []
    ports = []
    for name, check in option_checks.items():
        if name not in values or name in skip:
            continue
        problems.extend(check_value(name, values[name], check, name in secrets, context))
        if host_port_active(check, values):
            ports.append(name)
    usable = {name: value for name, value in values.items() if name not in skip}
    problems.extend(check_relations(relations, usable, secrets, context))
    problems.extend(check_host_ports(ports, usable, secrets))
    return problems


def mask(text, secret_values):
    """text with every secret value replaced (ansible-core's messages can quote values)."""
    for value in sorted((str(value) for value in secret_values if value not in (None, "")), key=len, reverse=True):
        text = text.replace(value, "********")
    return text
