# Copyright: aistack.selfhosted contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Ollama model names, parsed and normalised exactly as the Ollama server does.

Rules of ollama/ollama types/model/name.go (ParseName = ParseNameBare merged with the
defaults, IsValid = IsFullyQualified, DisplayShortest):

    [ [scheme://]host / ] [ namespace / ] model [ : tag ]

The tag is split at the last ':' only when it comes after the last '/', so registry hosts
with a port work. Missing parts default to registry.ollama.ai / library / latest. A part
that a separator promised but left empty (``model:``) is invalid. Names compare
case-insensitively, part by part, as the server resolves them against what is on disk.
"""

from __future__ import annotations

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"

# What name.go's cutPromised puts in a part that a separator promised but left empty.
_MISSING = "!MISSING!"
_MAX_LENGTH = {"host": 350, "namespace": 80, "model": 80, "tag": 80}
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class InvalidModelName(ValueError):
    """The server would answer "invalid model name"; the message says which part and why."""


class ModelName:
    """A fully-qualified model reference: host, namespace, model, tag (case kept as given)."""

    __slots__ = ("host", "namespace", "model", "tag", "raw")

    def __init__(self, host, namespace, model, tag, raw=None):
        self.host = host
        self.namespace = namespace
        self.model = model
        self.tag = tag
        self.raw = raw

    @property
    def key(self):
        """Identity for comparisons and dict keys: Ollama matches names case-insensitively."""
        return (self.host.lower(), self.namespace.lower(), self.model.lower(), self.tag.lower())

    @property
    def display(self):
        """DisplayShortest: the form /api/tags shows. The tag is always included."""
        if self.host.lower() != DEFAULT_HOST:
            return "%s/%s/%s:%s" % (self.host, self.namespace, self.model, self.tag)
        if self.namespace.lower() != DEFAULT_NAMESPACE:
            return "%s/%s:%s" % (self.namespace, self.model, self.tag)
        return "%s:%s" % (self.model, self.tag)

    @property
    def fully_qualified(self):
        return "%s/%s/%s:%s" % (self.host, self.namespace, self.model, self.tag)

    def __eq__(self, other):
        return isinstance(other, ModelName) and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    def __repr__(self):
        return "ModelName(%r)" % self.fully_qualified


def _cut_promised(text, sep):
    """(before, after, found) at the last sep; a promised but empty side becomes _MISSING."""
    index = text.rfind(sep)
    if index < 0:
        return text, "", False
    return text[:index] or _MISSING, text[index + 1:] or _MISSING, True


def _check_part(kind, value, raw):
    if value == _MISSING:
        raise InvalidModelName("invalid model name %r: the %s is empty" % (raw, kind))
    if len(value) > _MAX_LENGTH[kind]:
        raise InvalidModelName("invalid model name %r: the %s %r is longer than %d characters"
                               % (raw, kind, value, _MAX_LENGTH[kind]))
    if value[0] not in _ALNUM:
        raise InvalidModelName("invalid model name %r: the %s %r must start with a letter, digit or '_'"
                               % (raw, kind, value))
    for char in value[1:]:
        if char in _ALNUM or char == "-":
            continue
        if char == "." and kind != "namespace":
            continue
        if char == ":" and kind == "host":
            continue
        if char == "/":
            reason = "too many '/' (at most host/namespace/model)"
        elif char == "." and kind == "namespace":
            reason = "a namespace may not contain '.'"
        elif char == ":":
            reason = "':' is only allowed in the host (a port) and before the tag"
        else:
            reason = "%r is not allowed" % char
        raise InvalidModelName("invalid model name %r: the %s %r is invalid: %s" % (raw, kind, value, reason))


def parse_model_name(text):
    """Parse and normalise a model reference; raise InvalidModelName saying why it is invalid."""
    if not isinstance(text, str) or text == "":
        raise InvalidModelName("invalid model name %r: a model name is required" % (text,))
    rest = text
    host = namespace = tag = ""
    if rest.rfind(":") > rest.rfind("/"):
        rest, tag, _found = _cut_promised(rest, ":")
    rest, model, promised = _cut_promised(rest, "/")
    if not promised:
        model = rest
    else:
        rest, namespace, promised = _cut_promised(rest, "/")
        if not promised:
            namespace = rest
        else:
            host = rest.split("://", 1)[1] if "://" in rest else rest
    parts = (
        ("host", DEFAULT_HOST if host == "" else host),
        ("namespace", DEFAULT_NAMESPACE if namespace == "" else namespace),
        ("model", model),
        ("tag", DEFAULT_TAG if tag == "" else tag),
    )
    try:
        for kind, value in parts:
            _check_part(kind, value, text)
    except InvalidModelName as error:
        if tag in ("cloud", "local") and ":" in (model or ""):
            # Recent servers rewrite "model:tag:cloud" into "model:tag-cloud" before parsing.
            raise InvalidModelName("%s; write it as %r, the name Ollama stores"
                                   % (error, "%s-%s" % (text[:-len(tag) - 1], tag))) from None
        raise
    return ModelName(*(value for _kind, value in parts), raw=text)


def normalize_model_name(text):
    """The DisplayShortest form of a reference (``llama3.2`` -> ``llama3.2:latest``)."""
    return parse_model_name(text).display
