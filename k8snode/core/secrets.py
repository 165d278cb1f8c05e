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


def redact_all(value: Any) -> Any:
    """``redact`` applied to every string in a JSON-like value (dicts, lists, strings)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_all(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_all(item) for item in value]
    return value
