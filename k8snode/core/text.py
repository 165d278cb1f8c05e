"""Text made safe to show: one home for the escaping of what a terminal or a comment line must not take raw."""

from __future__ import annotations


def printable(text: str, keep: str = "") -> str:
    """``text`` with each non-printable character (a control character, ``\\x1b``, U+0085, U+2028, U+2029) as a
    Python-style escape (``\\n``, ``\\x1b``, ``\\u2028``), except the characters in ``keep``."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in keep else c.encode("unicode_escape").decode("ascii") for c in text)
