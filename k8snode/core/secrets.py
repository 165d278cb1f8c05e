"""Bootstrap tokens: their form, and redaction of every token-shaped value before text reaches a person or a log."""

from __future__ import annotations

import re
from typing import Any

TOKEN = re.compile(r"[a-z0-9]{6}\.[a-z0-9]{16}")
"""The bootstrap token form: BootstrapTokenPattern in kubernetes staging/src/k8s.io/cluster-bootstrap/token/api/
types.go is anchored with \\A and \\z, so a trailing newline does not match: use fullmatch, never ``$``."""
_TOKEN_SHAPED = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{6}\.[A-Za-z0-9]{16}(?![A-Za-z0-9])")
REDACTED = "<redacted>"
PLACEHOLDER_TOKEN = "abcdef.0123456789abcdef"  # noqa: S105 - kubeadm's well-known placeholder, public and never redacted


def is_token(text: str) -> bool:
    """``text`` is a bootstrap token, exactly: no trailing newline (``$`` would let one through)."""
    return TOKEN.fullmatch(text) is not None


def redact(text: str) -> str:
    """``text`` with every token-shaped value (whatever its case, whatever option it came through) redacted."""
    return _TOKEN_SHAPED.sub(lambda found: found[0] if found[0] == PLACEHOLDER_TOKEN else REDACTED, text)


def redact_yaml(text: str) -> str:
    """``redact`` of YAML text, and first every scalar whose parsed value holds a token-shaped value, however the text
    spells it: ``"qwerty\\x2ezxcv..."`` or a double-quoted value split by an escaped line break is a token to kubeadm
    but no match for the pattern. Text that is not YAML gets ``redact`` alone. The line breaks stay where they were
    (a scalar over three lines leaves two empty ones), so a diff can pair the lines with the text's."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.nodes import ScalarNode

    spans: dict[int, tuple[int, int]] = {}

    def walk(node: Any) -> None:
        if id(node) in spans or node is None:
            return
        spans[id(node)] = (0, 0)  # seen: an alias is walked once
        if isinstance(node, ScalarNode):
            if isinstance(node.value, str) and redact(node.value) != node.value:
                spans[id(node)] = (node.start_mark.index, node.end_mark.index)
            return
        for item in node.value:
            for child in item if isinstance(item, tuple) else (item,):
                walk(child)

    try:
        for document in YAML().compose_all(text):
            walk(document)
    except (YAMLError, ValueError, RecursionError):
        return redact(text)
    for start, end in sorted((span for span in spans.values() if span[1] > span[0]), reverse=True):
        spelled = text[start:end]
        quote = spelled[0] if spelled[0] in "'\"" else ""
        text = text[:start] + quote + REDACTED + quote + "\n" * spelled.count("\n") + text[end:]  # lines kept
    return redact(text)


def redact_all(value: Any) -> Any:
    """``redact`` applied to every string in a JSON-like value (dicts, lists, strings)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_all(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_all(item) for item in value]
    return value
