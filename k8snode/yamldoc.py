"""YAML through ruamel.yaml: round-trip load and dump of multi-document files, and one value as YAML text.

ruamel.yaml costs ~50 ms to import, so it is imported inside these functions, never at module level.
"""

from __future__ import annotations

import io
from functools import cache
from typing import TYPE_CHECKING, Any

from k8snode.errors import bad_input

if TYPE_CHECKING:
    from ruamel.yaml import YAML


@cache
def _round_trip() -> YAML:
    """Keeps comments, key order and quotes; writes null as ``null`` like kubeadm does, and never wraps lines.

    One instance serves every load and dump: building one costs milliseconds, and the templates call to_yaml often.
    """
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=2, offset=0)
    yaml.representer.add_representer(
        type(None), lambda representer, _: representer.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    return yaml


def load_documents(text: str, source: str) -> list[Any]:
    """Every document of ``text`` as round-trip data (CommentedMap keeps comments and order); empty ones dropped."""
    from ruamel.yaml.error import YAMLError

    try:
        return [document for document in _round_trip().load_all(text) if document is not None]
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or type(error).__name__
        raise bad_input(f"{source} is not valid YAML{where}: {problem}") from None


def dump_documents(documents: list[Any]) -> str:
    stream = io.StringIO()
    _round_trip().dump_all(documents, stream)
    return stream.getvalue()


def to_yaml(value: Any, indent: int = 0) -> str:
    """``value`` as YAML text for a template: a scalar inline, a list or mapping as an indented block."""
    stream = io.StringIO()
    _round_trip().dump(value, stream)
    text = stream.getvalue()
    if not isinstance(value, list | dict) or not value:
        return text.removesuffix("\n...\n").strip()
    pad = " " * indent
    return "".join(f"\n{pad}{line}" for line in text.splitlines())
