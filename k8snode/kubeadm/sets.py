"""`kubeadm-config --set Kind.field.path=VALUE`: the value typed as the field's schema says, then set."""

from __future__ import annotations

import re
from dataclasses import dataclass

from k8snode.core import schema
from k8snode.core.errors import bad_input
from k8snode.core.yamldoc import load_documents
from k8snode.kubeadm.documents import find, set_at

USAGE = "use Kind.field.path=VALUE, e.g. KubeProxyConfiguration.ipvs.syncPeriod=10s"
QUOTING = 'quote a map key that holds dots whole: KubeletConfiguration.evictionHard."memory.available"=200Mi'
# One part of the path: a name without dots, quotes or '=', or a map key in double quotes that may hold them
# (KubeletConfiguration.evictionHard."memory.available"=200Mi).
_PART = re.compile(r'"(?P<quoted>[^"]+)"|(?P<plain>[^".=]+)')


@dataclass(frozen=True)
class Assignment:
    kind: str
    parts: list[str]
    """The field path under the kind, quotes taken off."""
    value: str
    target: str
    """The text before the '=' that ends the path, as given: what messages name."""


def split_assignment(assignment: str) -> Assignment:
    """``Kind.field.path=VALUE``; a part in double quotes is one map key, dots and '=' included."""
    parts: list[str] = []
    position = 0
    while True:
        match = _PART.match(assignment, position)
        if match is None:
            raise bad_input(f"--set {assignment!r}: {_problem_at(assignment, position)}")
        parts.append(match["quoted"] or match["plain"])
        position = match.end()
        separator = assignment[position : position + 1]
        if separator == "=" and len(parts) >= 2:
            return Assignment(parts[0], parts[1:], assignment[position + 1 :], assignment[:position])
        if separator != ".":
            raise bad_input(f"--set {assignment!r}: {_problem_at(assignment, position)}")
        position += 1


def _problem_at(assignment: str, position: int) -> str:
    """Why the path cannot be read at ``position``: a quote left open or inside a part, else the usage."""
    rest = assignment[position:]
    if rest.startswith('"') and '"' not in rest[1:]:
        return f"the quote at character {position + 1} is not closed; {QUOTING}"
    if '"' in rest.partition("=")[0]:
        return f"a quoted key must be a whole, non-empty part of the path; {QUOTING}"
    return USAGE


def apply_sets(documents: list[object], assignments: tuple[str, ...]) -> None:
    for assignment in assignments:
        parsed = split_assignment(assignment)
        kind = parsed.kind
        document = find(documents, kind)
        if document is None:
            kinds = [str(d.get("kind")) for d in documents if isinstance(d, dict)]
            hint = "; add --kubelet-config" if kind == "KubeletConfiguration" else schema.did_you_mean(kind, kinds)
            raise bad_input(f"--set {assignment!r}: no {kind} document (the file has {', '.join(kinds)}){hint}")
        found = schema.load(str(document.get("apiVersion")), kind)
        if found is None:
            raise bad_input(f"--set {assignment!r}: k8snode has no schema for {document.get('apiVersion')} {kind}")
        spec = schema.field_spec(found, parsed.parts)
        if isinstance(spec, str):
            raise bad_input(f"--set {assignment!r}: {spec}{_quoting_hint(found, parsed.parts)}")
        set_at(document, tuple(parsed.parts), _typed(parsed.value, spec, assignment, parsed.target))


def _quoting_hint(found: schema.Schema, parts: list[str]) -> str:
    """A hint to quote the key when the path went through a map, whose keys may hold dots (memory.available)."""
    prefixes = (schema.field_spec(found, parts[:length]) for length in range(1, len(parts)))
    through_map = any(isinstance(spec, dict) and spec["type"] == "map" for spec in prefixes)
    return f"; {QUOTING}" if through_map else ""


def _typed(text: str, spec: schema.Spec, assignment: str, target: str) -> object:
    kind = spec["type"]
    if kind in ("string", "duration", "time"):
        return text
    if kind == "bool" and text in ("true", "false"):
        return text == "true"
    if kind in ("integer", "int-or-string", "quantity") and _DECIMAL.fullmatch(text):
        return _integer(text, spec, target)
    if kind in ("int-or-string", "quantity"):
        return text
    if kind == "number":
        try:
            return float(text) if "." in text else int(text)
        except ValueError:
            pass
    if kind == "list":
        return [_typed(item.strip(), spec["items"], assignment, target) for item in text.split(",") if item.strip()]
    if kind == "any":
        documents = load_documents(text, f"--set {assignment!r}")
        return documents[0] if documents else None
    raise bad_input(
        f"--set {assignment!r}: {text!r} is not {'an' if kind[0] in 'aeiou' else 'a'} {kind} value"
        + ("; set its fields one by one" if kind in ("object", "map") else "")
    )


# ASCII digits only: str.isdigit() also takes "²" and "٣", which are not numbers to Go (nor to int(), for "²").
_DECIMAL = re.compile(r"-?[0-9]+")
# Far beyond every Go integer (20 digits), and below the 4,300 digits Python converts to an int.
_MAX_DIGITS = 64


def _integer(text: str, spec: schema.Spec, field: str) -> int | str:
    """A --set number, refused when it is outside the range of the Go integer type the field decodes into."""
    digits = len(text.lstrip("-"))
    if digits > _MAX_DIGITS:
        if spec["type"] == "quantity":
            return text
        raise bad_input(f"--set {field}: {schema.out_of_range(f'a number of {digits} digits', spec['format'])}")
    value = int(text)
    problem = schema.scalar_problem(value, spec)
    if problem:
        raise bad_input(f"--set {field}: {problem}")
    return value
