"""Walking kubeadm's YAML documents: find one by kind, read or set the value at a path, drop what was left unset.

The documents are ruamel.yaml's round-trip data: mappings are dicts (CommentedMap keeps comments and key order),
sequences lists, and every other value a scalar. A file may hold anything, so what is read is checked, never assumed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

Scalar: TypeAlias = str | int | float | bool | None
Node: TypeAlias = "dict[str, Node] | list[Node] | Scalar"
"""A value of a loaded document: a mapping, a sequence or a scalar."""
Document: TypeAlias = "dict[str, Node]"
YamlPath = tuple[str | int, ...]
"""Keys and list indexes from a document's root."""


def value_at(document: object, path: YamlPath) -> object:
    """The value at ``path``; None when a step is missing or is not a mapping (for a key) or a list (an index)."""
    value = document
    for part in path:
        if isinstance(part, int):
            value = value[part] if isinstance(value, list) and part < len(value) else None
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def extra_arg(document: object, holder: YamlPath, name: str) -> str | None:
    """The value of argument ``name`` in the extraArgs at ``holder`` (such as ``("controllerManager", "extraArgs")``),
    None when it is not given: a map of name to value up to v1beta3; a list of {name, value} in v1beta4, where the
    last one given wins (cmd/kubeadm/app/util/arguments.go ArgumentsToCommand passes each in order, and the flag
    parser keeps the last)."""
    arguments = value_at(document, holder)
    if isinstance(arguments, dict):
        value = arguments.get(name)
        return None if value is None else str(value)
    found = None
    for argument in arguments if isinstance(arguments, list) else []:
        if isinstance(argument, dict) and argument.get("name") == name and argument.get("value") is not None:
            found = str(argument["value"])
    return found


def find(documents: Sequence[object], kind: str) -> Document | None:
    """The first document of ``kind``."""
    return next((d for d in documents if isinstance(d, dict) and d.get("kind") == kind), None)


def set_at(document: Document, path: YamlPath, value: object) -> None:
    """Set ``value`` at ``path`` (maps created as needed, a list index must exist); leave the node alone when it
    already holds the value. Strings a YAML 1.1 reader would take for something else are written quoted."""
    from ruamel.yaml.comments import CommentedMap

    from k8snode.core.yamldoc import quoted

    parent: object = document
    for part in path[:-1]:
        if isinstance(part, int) and isinstance(parent, list):
            parent = parent[part]
            continue
        assert isinstance(parent, dict)
        child = parent.get(part)
        if not isinstance(child, dict | list):
            child = CommentedMap()
            parent[part] = child
        parent = child
    key = path[-1]
    if isinstance(parent, list):
        assert isinstance(key, int)
        parent[key] = quoted(value)
        return
    assert isinstance(parent, dict)
    if parent.get(key) != value or key not in parent:
        parent[key] = [quoted(item) for item in value] if isinstance(value, list) else quoted(value)


def leaves(mapping: dict[str, object], above: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    """Each value of a nested mapping that is not itself a mapping, with its path: a patch sets fields one by one,
    so the other keys of a map the file already has stay."""
    found: list[tuple[tuple[str, ...], object]] = []
    for key, value in mapping.items():
        found += leaves(value, (*above, key)) if isinstance(value, dict) else [((*above, key), value)]
    return found


def prune(node: object) -> None:
    """Drop the keys left null, and the maps that leaves empty: the parts of a skeleton no setting filled."""
    if isinstance(node, dict):
        for key in list(node):
            prune(node[key])
            if node[key] is None or node[key] == {}:
                del node[key]
    elif isinstance(node, list):
        for item in node:
            prune(item)
