"""Model names as the Ollama server parses them (ollama/ollama types/model/name.go).

Written independently of the collection's module_utils on purpose: the stand-in and the
module each implement the rules of the reference, so a test that passes checks both.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"
MISSING = "!MISSING!"
_LIMITS = {"host": 350, "namespace": 80, "model": 80, "tag": 80}


@dataclass(frozen=True)
class Name:
    host: str
    namespace: str
    model: str
    tag: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Identity of the model: Ollama resolves names case-insensitively."""
        return (self.host.lower(), self.namespace.lower(), self.model.lower(), self.tag.lower())

    @property
    def display(self) -> str:
        """DisplayShortest: what /api/tags shows; the tag is always present."""
        if self.host.lower() != DEFAULT_HOST:
            return f"{self.host}/{self.namespace}/{self.model}:{self.tag}"
        if self.namespace.lower() != DEFAULT_NAMESPACE:
            return f"{self.namespace}/{self.model}:{self.tag}"
        return f"{self.model}:{self.tag}"

    @property
    def parts(self) -> tuple[str, str, str, str]:
        return (self.host, self.namespace, self.model, self.tag)


def _cut_promised(text: str, sep: str) -> tuple[str, str, bool]:
    index = text.rfind(sep)
    if index < 0:
        return text, "", False
    return text[:index] or MISSING, text[index + 1:] or MISSING, True


def _valid_part(kind: str, part: str) -> bool:
    if not 1 <= len(part) <= _LIMITS[kind]:
        return False
    if not (part[0].isascii() and (part[0].isalnum() or part[0] == "_")):
        return False
    for char in part[1:]:
        if char in "_-":
            continue
        if char == ".":
            if kind == "namespace":
                return False
            continue
        if char == ":":
            if kind != "host":
                return False
            continue
        if not (char.isascii() and char.isalnum()):
            return False
    return True


def parse(text: str) -> Name | None:
    """The fully-qualified Name, or None when Ollama would answer "invalid model name"."""
    host = namespace = tag = ""
    rest = text
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
    name = Name(host or DEFAULT_HOST, namespace or DEFAULT_NAMESPACE, model, tag or DEFAULT_TAG)
    kinds = ("host", "namespace", "model", "tag")
    if all(_valid_part(kind, part) for kind, part in zip(kinds, name.parts, strict=True)):
        return name
    return None
