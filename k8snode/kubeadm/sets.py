"""`kubeadm-config --set Kind.field.path=VALUE`: the value typed as the field's schema says, then set."""

from __future__ import annotations

import re

from k8snode.core import schema
from k8snode.core.errors import bad_input
from k8snode.core.yamldoc import load_documents
from k8snode.kubeadm.documents import find, set_at


def split_assignment(assignment: str) -> tuple[str, list[str], str]:
    path, equals, value = assignment.partition("=")
    parts = path.split(".")
    if not equals or len(parts) < 2 or not all(parts):
        raise bad_input(
            f"--set {assignment!r}: use Kind.field.path=VALUE, e.g. KubeProxyConfiguration.ipvs.syncPeriod=10s"
        )
    return parts[0], parts[1:], value


def apply_sets(documents: list[object], assignments: tuple[str, ...]) -> None:
    for assignment in assignments:
        kind, parts, text = split_assignment(assignment)
        document = find(documents, kind)
        if document is None:
            kinds = [str(d.get("kind")) for d in documents if isinstance(d, dict)]
            hint = "; add --kubelet-config" if kind == "KubeletConfiguration" else schema.did_you_mean(kind, kinds)
            raise bad_input(f"--set {assignment!r}: no {kind} document (the file has {', '.join(kinds)}){hint}")
        found = schema.load(str(document.get("apiVersion")), kind)
        if found is None:
            raise bad_input(f"--set {assignment!r}: k8snode has no schema for {document.get('apiVersion')} {kind}")
        spec = schema.field_spec(found, parts)
        if isinstance(spec, str):
            raise bad_input(f"--set {assignment!r}: {spec}")
        set_at(document, tuple(parts), _typed(text, spec, assignment))


def _typed(text: str, spec: schema.Spec, assignment: str) -> object:
    kind = spec["type"]
    if kind in ("string", "duration", "time"):
        return text
    if kind == "bool" and text in ("true", "false"):
        return text == "true"
    if kind in ("integer", "int-or-string", "quantity") and _DECIMAL.fullmatch(text):
        return _integer(text, spec, assignment)
    if kind in ("int-or-string", "quantity"):
        return text
    if kind == "number":
        try:
            return float(text) if "." in text else int(text)
        except ValueError:
            pass
    if kind == "list":
        return [_typed(item.strip(), spec["items"], assignment) for item in text.split(",") if item.strip()]
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


def _integer(text: str, spec: schema.Spec, assignment: str) -> int | str:
    """A --set number, refused when it is outside the range of the Go integer type the field decodes into."""
    field = assignment.partition("=")[0]
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
