"""Settings of the Qdrant test double, read in the order the real server reads them.

Real order (qdrant/qdrant src/settings.rs): config/config.yaml, config/<RUN_MODE>.yaml
(RUN_MODE defaults to "development"; the image sets "production"), config/local.yaml, then the
file given by --config-path, then QDRANT__SECTION__KEY environment variables. Later sources win.

Only a small YAML subset is understood (standard library only): nested mappings of scalars,
`#` comments, quoted or plain strings, integers, floats, true/false, null/~, and `{}`. A file that starts
with `{` is read as JSON. Lists, anchors, multi-line strings and flow mappings are refused with
an error naming the file and line, so a config outside the subset fails loudly.
"""

import copy
import json
import os
import re

DEFAULTS = {
    "log_level": "INFO",
    "telemetry_disabled": False,
    "service": {
        "host": "0.0.0.0",
        "http_port": 6333,
        "grpc_port": 6334,
        "api_key": None,
        "read_only_api_key": None,
    },
    "storage": {
        "storage_path": "./storage",
        "snapshots_path": "./snapshots",
        "on_disk_payload": True,
    },
}

_INT = re.compile(r"^[-+]?\d+$")
_FLOAT = re.compile(r"^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$")


class ConfigError(Exception):
    """A config file or variable the stand-in cannot read."""


def parse_scalar(text: str):
    """A YAML scalar as the real (serde_yaml) parser would type it, for the common cases."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    lowered = text.lower()
    if lowered in ("", "null", "~"):
        return None
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    return text


def _strip_comment(line: str) -> str:
    """Drop a trailing `# comment` that is not inside quotes."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in " \t"):
            return line[:index]
    return line


def parse_yaml_subset(text: str, source: str = "<config>") -> dict:
    """Nested mappings of scalars (see the module docstring for the limits)."""
    root: dict = {}
    stack = [(-1, root)]  # (indent, mapping) of the open mappings
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw).rstrip()
        if not line.strip() or line.strip() == "---":
            continue
        if "\t" in line[: len(line) - len(line.lstrip())]:
            raise ConfigError(f"{source}:{number}: tabs are not allowed for indentation")
        indent = len(line) - len(line.lstrip())
        content = line.strip()
        if content.startswith(("- ", "[", "{", "&", "*", "|", ">")) or content == "-":
            raise ConfigError(f"{source}:{number}: only nested mappings of scalars are supported")
        key, sep, value = content.partition(":")
        if not sep or (value and not value.startswith(" ")):
            raise ConfigError(f"{source}:{number}: expected `key: value`")
        while stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        key = parse_scalar(key)
        if value.strip() == "":
            parent[key] = {}
            stack.append((indent, parent[key]))
        elif value.strip() == "{}":  # an empty mapping, as to_nice_yaml writes one
            parent[key] = {}
        elif value.strip()[0] in "[{|>&*":
            raise ConfigError(f"{source}:{number}: only nested mappings of scalars are supported")
        else:
            parent[key] = parse_scalar(value)
    return root


def load_file(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"{path}: invalid JSON: {exc}") from exc
    return parse_yaml_subset(text, path)


def merge(base: dict, override: dict) -> dict:
    """Deep merge: mappings merge key by key, anything else replaces."""
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def env_overrides(environ) -> dict:
    """QDRANT__SERVICE__API_KEY=x -> {"service": {"api_key": "x"}} (prefix QDRANT, separator __)."""
    result: dict = {}
    for name, value in environ.items():
        if not name.startswith("QDRANT__"):
            continue
        path = [part.lower() for part in name[len("QDRANT__"):].split("__") if part]
        if not path:
            continue
        node = result
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = parse_scalar(value)
    return result


def load_settings(base_dir: str, config_path: str | None = None, environ=None) -> dict:
    """Merged settings; relative storage paths are resolved against base_dir (the real WORKDIR)."""
    environ = os.environ if environ is None else environ
    settings = copy.deepcopy(DEFAULTS)
    run_mode = environ.get("RUN_MODE", "development")
    for name in ("config.yaml", f"{run_mode}.yaml", "local.yaml"):
        path = os.path.join(base_dir, "config", name)
        if os.path.isfile(path):
            merge(settings, load_file(path))
    if config_path:
        if not os.path.isfile(config_path):
            raise ConfigError(f"config file {config_path} not found")
        merge(settings, load_file(config_path))
    merge(settings, env_overrides(environ))
    storage = settings["storage"]
    for key in ("storage_path", "snapshots_path"):
        storage[key] = os.path.normpath(os.path.join(base_dir, str(storage[key])))
    for key in ("api_key", "read_only_api_key"):
        # Stand-in choice: an empty key means "no key" (so `QDRANT__SERVICE__API_KEY=` disables it).
        if settings["service"].get(key) in ("", None):
            settings["service"][key] = None
        else:
            settings["service"][key] = str(settings["service"][key])
    return settings
