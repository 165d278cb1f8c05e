"""Go's ``time.ParseDuration`` grammar, which kubelet, kube-proxy and kubeadm use for every duration field.

The arithmetic mirrors Go's (uint64 accumulation, a float64 for the fraction, the same overflow limits), so
that k8snode accepts and rejects exactly what the Kubernetes components do.
"""

from __future__ import annotations

from k8snode.core.errors import bad_input

_UNITS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # micro sign
    "\u03bcs": 1_000,  # Greek small letter mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_LIMIT = 1 << 63


class _Invalid(ValueError):
    pass


def parse_duration(text: str) -> int:
    """Nanoseconds for a Go duration such as ``10s``, ``1m30s``, ``1.5h`` or ``-500ms``; ValueError otherwise."""
    rest = text
    negative = False
    if rest[:1] in ("-", "+"):
        negative, rest = rest[0] == "-", rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise _Invalid(f"invalid duration {text!r}")
    total = 0
    while rest:
        whole, rest = _leading_int(rest, text)
        had_whole = whole is not None
        fraction, scale, had_fraction = 0, 1.0, False
        if rest.startswith("."):
            digits_before = len(rest) - 1
            fraction, scale, rest = _leading_fraction(rest[1:])
            had_fraction = len(rest) != digits_before
        if not had_whole and not had_fraction:
            raise _Invalid(f"invalid duration {text!r}")
        end = next((i for i, c in enumerate(rest) if c == "." or (c.isascii() and c.isdigit())), len(rest))
        if end == 0:
            raise _Invalid(f"missing unit in duration {text!r}")
        unit_name, rest = rest[:end], rest[end:]
        if unit_name not in _UNITS:
            raise _Invalid(f"unknown unit {unit_name!r} in duration {text!r}")
        unit = _UNITS[unit_name]
        value = whole or 0
        if value > _LIMIT // unit:
            raise _Invalid(f"invalid duration {text!r}")
        value *= unit
        if fraction > 0:
            value += int(float(fraction) * (float(unit) / scale))
            if value > _LIMIT:
                raise _Invalid(f"invalid duration {text!r}")
        total += value
        if total > _LIMIT:
            raise _Invalid(f"invalid duration {text!r}")
    if negative:
        return -total
    if total > _LIMIT - 1:
        raise _Invalid(f"invalid duration {text!r}")
    return total


def duration(text: str, option: str) -> str:
    """``text`` unchanged when it is a valid Go duration; otherwise bad input naming ``option``."""
    try:
        parse_duration(text)
    except ValueError as error:
        raise bad_input(f"{option}: {error}; use Go duration syntax such as 10s, 1m30s or 500ms") from None
    return text


def timeout_seconds(text: str, option: str) -> float:
    """A Go duration given as a timeout, in seconds; bad input naming ``option`` unless it is more than zero."""
    seconds = parse_duration(duration(text, option)) / 1e9
    if seconds <= 0:
        raise bad_input(f"{option} must be more than zero, not {text}")
    return seconds


def _leading_int(text: str, original: str) -> tuple[int | None, str]:
    value, index = 0, 0
    while index < len(text) and text[index].isascii() and text[index].isdigit():
        if value > _LIMIT // 10:
            raise _Invalid(f"invalid duration {original!r}")
        value = value * 10 + int(text[index])
        if value > _LIMIT:
            raise _Invalid(f"invalid duration {original!r}")
        index += 1
    return (value if index else None), text[index:]


def _leading_fraction(text: str) -> tuple[int, float, str]:
    """Digits after the point; digits that would overflow are consumed but ignored, as Go does."""
    value, scale, index, overflow = 0, 1.0, 0, False
    while index < len(text) and text[index].isascii() and text[index].isdigit():
        if not overflow:
            if value > (_LIMIT - 1) // 10:
                overflow = True
            else:
                candidate = value * 10 + int(text[index])
                if candidate > _LIMIT:
                    overflow = True
                else:
                    value, scale = candidate, scale * 10
        index += 1
    return value, scale, text[index:]
