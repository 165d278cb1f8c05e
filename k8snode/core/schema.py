"""Field schemas of the configuration kinds k8snode writes and validates, one JSON file per apiVersion and kind.

A schema file is ``{"apiVersion", "kind", "source", "fields": {name: spec}}`` where a spec is ``{"type": T}`` and T is
string, bool, integer, number, duration, time, quantity, int-or-string, any, object (with "fields"), list (with
"items") or map (with "values"). integer and int-or-string also carry "format", the Go integer type a number decodes
into (int32, uint32, ...), which sets its range. tools/k8s-truth generates them from the real Go types.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from k8snode.core.durations import parse_duration
from k8snode.core.resources import package_file, package_text

_QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i|[numkMGTPE])?$")

Spec = Mapping[str, Any]

# The values Go's encoding/json decodes into each integer type; a number outside is "cannot unmarshal number N into
# Go struct field F of type int32". int and uint are 64 bits wide on the 64-bit platforms kubeadm is released for.
_RANGES = {
    **{f"int{bits}": (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) for bits in (8, 16, 32, 64)},
    **{f"uint{bits}": (0, 2**bits - 1) for bits in (8, 16, 32, 64)},
    "int": (-(2**63), 2**63 - 1),
    "uint": (0, 2**64 - 1),
}


@dataclass(frozen=True)
class Schema:
    api_version: str
    kind: str
    source: str
    fields: Mapping[str, Spec]


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.path}: {self.message}"


def schema_name(api_version: str, kind: str) -> str:
    """The file name of a schema in k8snode/core/schemas/."""
    return f"{api_version.replace('/', '_')}_{kind}.json"


@cache
def load(api_version: str, kind: str) -> Schema | None:
    name = schema_name(api_version, kind)  # from the document being validated: a name, never a path
    if "/" in name or "\0" in name:
        return None
    try:
        data = json.loads(package_text("core", "schemas", name))
    except OSError:  # no schema for that kind
        return None
    return Schema(data["apiVersion"], data["kind"], data["source"], data["fields"])


@cache
def known_kinds() -> tuple[tuple[str, str], ...]:
    """(apiVersion, kind) of every schema file shipped."""
    pairs = []
    for node in package_file("core", "schemas").iterdir():
        if not node.name.endswith(".json"):
            continue
        data = json.loads(node.read_text(encoding="utf-8"))
        pairs.append((data["apiVersion"], data["kind"]))
    return tuple(sorted(pairs))


def is_quantity(text: str) -> bool:
    """resource.ParseQuantity's grammar: a signed decimal number and a binary-SI, decimal-SI or exponent suffix."""
    return _QUANTITY.match(text) is not None


def did_you_mean(name: str, candidates: Iterator[str] | list[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def field_spec(schema: Schema, parts: list[str]) -> Spec | str:
    """The spec at ``parts`` under the schema's fields, or a message naming the first part that does not exist."""
    spec: Spec = {"type": "object", "fields": schema.fields}
    walked = [schema.kind]
    for part in parts:
        if spec["type"] == "map":
            spec = spec["values"]
        elif spec["type"] == "object":
            if part not in spec["fields"]:
                return f"{'.'.join(walked)} has no field {part!r}{did_you_mean(part, list(spec['fields']))}"
            spec = spec["fields"][part]
        else:
            return f"{'.'.join(walked)} is a {spec['type']}, it has no field {part!r}"
        walked.append(part)
    return spec


def check(value: Any, spec: Spec, path: str, line: int | None) -> list[Problem]:
    """Problems of ``value`` against ``spec``, as Go's strict JSON decoding of that type would find them."""
    if value is None:  # encoding/json leaves the zero value for null, whatever the type
        return []
    kind = spec["type"]
    if kind == "object":
        return _check_object(value, spec["fields"], path, line)
    if kind == "list":
        if not isinstance(value, list):
            return [Problem(path, f"expected a list, got {_describe(value)}", line)]
        return [
            problem
            for index, item in enumerate(value)
            for problem in check(item, spec["items"], f"{path}[{index}]", _item_line(value, index, line))
        ]
    if kind == "map":
        if not isinstance(value, dict):
            return [Problem(path, f"expected a mapping, got {_describe(value)}", line)]
        return [
            problem
            for key, item in value.items()
            for problem in check(item, spec["values"], f"{path}.{key}", _key_line(value, key, line))
        ]
    message = scalar_problem(value, spec)
    return [Problem(path, message, line)] if message else []


def _check_object(value: Any, fields: Mapping[str, Spec], path: str, line: int | None) -> list[Problem]:
    if not isinstance(value, dict):
        return [Problem(path, f"expected a mapping, got {_describe(value)}", line)]
    problems = []
    for key, item in value.items():
        key_line = _key_line(value, key, line)
        child = f"{path}.{key}"
        if key not in fields:
            problems.append(Problem(child, f"unknown field{did_you_mean(str(key), list(fields))}", key_line))
            continue
        problems.extend(check(item, fields[key], child, key_line))
    return problems


# Go's YAML decoder (sigs.k8s.io/yaml) follows YAML 1.1, where these plain (unquoted) words are booleans.
_YAML11_BOOLS = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "off", "Off", "OFF"), False),
}


def go_value(value: Any) -> Any:
    """A plain scalar as Go's YAML 1.1 decoder reads it; ruamel.yaml (YAML 1.2) leaves ``yes`` a string."""
    return _YAML11_BOOLS.get(value, value) if type(value) is str else value


def scalar_problem(value: Any, spec: Spec) -> str | None:
    """What Go's decoding of a scalar spec (not object, list or map) would refuse in ``value``, or None."""
    value = go_value(value)
    kind = spec["type"]
    number = isinstance(value, int | float) and not isinstance(value, bool)
    whole = go_integer(value)
    if kind == "any":
        return None
    if kind == "string":
        return None if isinstance(value, str) else f"expected a string, got {_describe(value)}; quote it"
    if kind == "bool":
        return None if isinstance(value, bool) else f"expected true or false, got {_describe(value)}"
    if kind == "integer":
        if whole is None:
            return f"expected an integer, got {_describe(value)}"
        return _range_problem(whole, spec["format"])
    if kind == "number":
        return None if number else f"expected a number, got {_describe(value)}"
    if kind == "int-or-string":
        if whole is not None:
            return _range_problem(whole, spec["format"])
        return None if isinstance(value, str) else _expected(value, kind)
    if kind == "quantity":
        return None if number or (isinstance(value, str) and is_quantity(value)) else _expected(value, kind)
    if kind == "duration":
        return _duration_problem(value)
    if kind == "time":
        return None if isinstance(value, datetime | date) or _is_rfc3339(value) else _expected(value, "RFC 3339 time")
    raise ValueError(f"schema type {kind!r} is not one k8snode knows")


def go_integer(value: Any) -> int | None:
    """The number a Go integer field decodes from a YAML value, or None. sigs.k8s.io/yaml turns the YAML into JSON
    first, and encoding/json writes a float64 without a fraction as the shortest digits that read back as that
    float, padded with zeros (5.0 as 5, 1e3 as 1000, -2**63 as -9223372036854776000): the integer field decodes
    that number. Python's repr() of a float is the same shortest form."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        from decimal import Decimal

        return int(Decimal(repr(value)))
    return None


def _range_problem(value: int, go_type: str) -> str | None:
    low, high = _RANGES[go_type]
    return None if low <= value <= high else out_of_range(_digits(value), go_type)


def out_of_range(shown: str, go_type: str) -> str:
    low, high = _RANGES[go_type]
    return f"{shown} is out of range for {go_type} ({low} to {high})"


def _digits(value: int) -> str:
    """The number, or for one too long to read in a one-line message its first digits and its length."""
    text = str(value)
    return text if len(text) <= 40 else f"{text[:12]}... ({len(text.lstrip('-'))} digits)"


def _duration_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"expected a Go duration string such as 30s, got {_describe(value)}"
    try:
        parse_duration(value)
    except ValueError as error:
        return f"{error}; use Go duration syntax such as 10s, 1m30s or 500ms"
    return None


def _is_rfc3339(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _expected(value: Any, kind: str) -> str:
    return f"expected a {kind}, got {_describe(value)}"


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the bool {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"the {type(value).__name__.lower().replace('scalar', '')} {value!r}"


def _key_line(mapping: Any, key: Any, fallback: int | None) -> int | None:
    try:
        return int(mapping.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return fallback


def _item_line(sequence: Any, index: int, fallback: int | None) -> int | None:
    try:
        return int(sequence.lc.item(index)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return fallback
