"""Whether a value parses as a kubelet flag's type, by the rules of the Go code behind each flag.

Each checker mirrors the ``Set`` method of the flag's value type: pflag's own types (strconv, time.ParseDuration,
net.ParseIP, encoding/csv), component-base's ``cli/flag`` maps, and the kubelet's ``pkg/util/flag`` and
``pkg/util/taints``. A checker returns None when the value parses, else the reason. Which checker applies is
data: the flag's Go type, from the generated catalog.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from k8snode.core.durations import parse_duration
from k8snode.core.names import TaintError, TaintProblem, parse_taints
from k8snode.core.schema import is_quantity
from k8snode.kubelet.flagdefs import FlagDef

Check = Callable[[str], str | None]

_BOOLS = ("1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False")


def check(flag: FlagDef, value: str) -> str | None:
    """None when ``value`` parses as ``flag``'s type, else why not (in the words of the Go code where it helps)."""
    checker = _BY_GO_TYPE.get(flag.go_type) or _BY_TYPE.get(flag.type)
    return None if checker is None else checker(value)


def parse_bool(text: str) -> bool | None:
    """Go's strconv.ParseBool: True, False, or None when ``text`` is not one of its spellings."""
    if text not in _BOOLS:
        return None
    return _BOOLS.index(text) < 6


def _bool(text: str) -> str | None:
    return None if parse_bool(text) is not None else f"strconv.ParseBool: parsing {text!r}: invalid syntax"


def _int(bits: int) -> Check:
    def check_int(text: str) -> str | None:
        number = go_int(text)
        if number is None:
            return f"strconv.ParseInt: parsing {text!r}: invalid syntax"
        if not -(1 << (bits - 1)) <= number < 1 << (bits - 1):
            return f"strconv.ParseInt: parsing {text!r}: value out of range"
        return None

    return check_int


def go_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64)'s syntax: a sign, a 0x/0o/0b/0 prefix, and '_' between digits after one."""
    body = text[1:] if text[:1] in "+-" else text
    base, digits = 10, body
    lowered = body[:2].lower()
    if lowered in ("0x", "0o", "0b"):
        base, digits = {"0x": 16, "0o": 8, "0b": 2}[lowered], body[2:]
    elif body.startswith("0") and len(body) > 1:
        base, digits = 8, body[1:]
    if "_" in digits and not _underscores_ok(body):
        return None
    digits = digits.replace("_", "")
    if not digits or not all(c in "0123456789abcdefABCDEF"[: base if base <= 10 else 22] for c in digits):
        return None
    number = int(digits, base)
    return -number if text.startswith("-") else number


def _underscores_ok(body: str) -> bool:
    """Go's underscoreOK: each '_' sits between digits, or right after a 0x/0o/0b prefix."""
    saw = "^"
    hexadecimal = len(body) >= 2 and body[0] == "0" and body[1].lower() == "x"
    rest = body
    if len(body) >= 2 and body[0] == "0" and body[1].lower() in "box":
        saw, rest = "0", body[2:]
    for char in rest:
        if char.isdigit() or (hexadecimal and char in "abcdefABCDEF"):
            saw = "0"
        elif char == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
    return saw != "_"


def _uint31(text: str) -> str | None:
    if not text.isascii() or not text.isdigit() or int(text) >= 1 << 31:
        return f"strconv.ParseUint: parsing {text!r}: invalid syntax or out of range"
    return None


def _duration(text: str) -> str | None:
    try:
        parse_duration(text)
    except ValueError as error:
        return str(error)
    return None


def _go_ip(text: str, *, sloppy: bool = False) -> bool:
    """net.ParseIP (or, ``sloppy``, k8s.io/utils/net.ParseIPSloppy, which allows leading zeros in IPv4)."""
    if not text.isascii() or "%" in text or not text:
        return False
    if sloppy and re.fullmatch(r"\d+(\.\d+){3}", text):
        parts = text.split(".")
        return all(int(part) <= 255 for part in parts)
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _ip(text: str) -> str | None:
    return None if _go_ip(text.strip()) else f"failed to parse IP: {text!r}"


def _ip_var(text: str) -> str | None:
    return None if not text or _go_ip(text, sloppy=True) else f"{text!r} is not a valid IP address"


def _csv(text: str) -> str | None:
    """encoding/csv reading one record, as pflag's string slices do (strict quotes)."""
    if not text:
        return None
    position = 0
    while True:
        if text.startswith('"', position):
            position += 1
            while True:
                end = text.find('"', position)
                if end < 0:
                    return 'extraneous or missing " in quoted-field'
                if text.startswith('""', end):
                    position = end + 2
                    continue
                position = end + 1
                break
            if position < len(text) and text[position] != ",":
                return 'extraneous or missing " in quoted-field'
        else:
            end = text.find(",", position)
            field = text[position:] if end < 0 else text[position:end]
            if '"' in field:
                return 'bare " in non-quoted-field'
            position = len(text) if end < 0 else end
        if position >= len(text) or text[position] in "\r\n":
            return None
        position += 1  # the comma


def _pairs(separator: str, what: str, *, split: bool = True) -> Check:
    def check_pairs(text: str) -> str | None:
        items = [item for item in text.split(",") if item] if split else [text]
        if any(separator not in item for item in items):
            return f"malformed pair, expect {what}"
        return None

    return check_pairs


def _map_string_bool(text: str) -> str | None:
    for item in (item for item in text.split(",") if item):
        key, separator, value = item.partition("=")
        if not separator:
            return "malformed pair, expect string=bool"
        if parse_bool(value.strip()) is None:
            return f"invalid value of {key.strip()}: {value.strip()}"
    return None


def _quantity(text: str) -> str | None:
    return None if is_quantity(text) else f"{text!r} is not a quantity (such as 100Mi, 1.5G or 500m)"


def _taints(text: str) -> str | None:
    """RegisterWithTaintsVar.Set: utiltaints.ParseTaints of the comma-separated specs."""
    if not text:
        return None
    try:
        parse_taints(text.split(","))
    except TaintError as error:
        if error.problem == TaintProblem.EFFECT:
            return f"invalid taint effect: {error.detail}, unsupported taint effect"
        if error.problem == TaintProblem.DUPLICATE:
            return f"duplicated taints with the same key and effect: {error.detail}"
        return f"invalid taint spec: {error.spec}"
    return None


def _reserved_memory(text: str) -> str | None:
    """ReservedMemoryVar.Set: ``numa:type=quantity[,type=quantity]`` reservations separated by ';'."""
    if not text:
        return None
    for reservation in text.split(";"):
        node = reservation.split(":")
        if len(node) != 2:
            return f"the reserved memory has incorrect format, got {reservation}"
        if go_int(node[0]) is None or not re.fullmatch(r"[+-]?\d+", node[0]):
            return f"failed to convert the NUMA node ID, expected integer, got {node[0]}"
        for limit in node[1].split(","):
            name_quantity = limit.split("=")
            if len(name_quantity) != 2:
                return f"the reserved limit has incorrect value, expected type=quantity, got {limit}"
            name, quantity = name_quantity
            if name != "memory" and not name.startswith("hugepages-"):
                return f"memory type conversion error, unknown type: {name!r}"
            if _quantity(quantity) is not None:
                return f"failed to parse the quantity: {quantity}"
    return None


def _vmodule(text: str) -> str | None:
    for pattern in (item for item in text.split(",") if item):
        parts = pattern.split("=")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            return f"{pattern!r} does not have the pattern=N format"
        if _uint31(parts[1]) is not None:
            return f"parsing verbosity in {pattern!r}: invalid syntax"
    return None


def _version(text: str) -> str | None:
    """verflag's --version: raw, a boolean, or v-prefixed (a version to report, which k8snode does not check)."""
    if text == "raw" or text.startswith("v"):
        return None
    return _bool(text)


_BY_GO_TYPE: dict[str, Check] = {
    "*flag.MapStringString": _pairs("=", "string=string"),
    "*flag.MapStringString,nosplit": _pairs("=", "string=string", split=False),
    "*flag.LangleSeparatedMapStringString": _pairs("<", "string<string"),
    "*flag.ColonSeparatedMultimapStringString": _pairs(":", "string:string"),
    "*flag.MapStringBool": _map_string_bool,
    "*flag.ConfigurationMap": lambda _: None,
    "*flag.IPVar": _ip_var,
    "flag.RegisterWithTaintsVar": _taints,
    "*flag.RegisterWithTaintsVar": _taints,
    "*flag.ReservedMemoryVar": _reserved_memory,
}
_BY_TYPE: dict[str, Check] = {
    "bool": _bool,
    "int32": _int(32),
    "int64": _int(64),
    "int": _int(64),
    "duration": _duration,
    "ip": _ip,
    "stringSlice": _csv,
    "quantity": _quantity,
    "Level": _uint31,
    "pattern=N,...": _vmodule,
    "version": _version,
    "mapStringBool": _map_string_bool,
}
