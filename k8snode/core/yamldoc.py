"""YAML through ruamel.yaml: round-trip load and dump of multi-document files, and the quoting of a value.

ruamel.yaml costs ~50 ms to import, so it is imported inside these functions, never at module level.
"""

from __future__ import annotations

import io
import itertools
import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from k8snode.core.errors import bad_input

if TYPE_CHECKING:
    from ruamel.yaml import YAML


@dataclass(frozen=True)
class Indent:
    """Block indentation as ruamel.yaml counts it; the default is kubeadm's (``key:`` then ``- item`` below it)."""

    mapping: int = 2
    sequence: int = 2
    offset: int = 0


_KEY_LINE = re.compile(r"^( *)(- +)?[^\s#-][^:#]*:\s*(#.*)?$")


def guess_indent(text: str) -> Indent:
    """The indentation a file uses, so that a round trip does not re-indent the lines it does not change."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith(("#", "---"))]
    mapping = offset = None
    for parent, child in itertools.pairwise(lines):
        match = _KEY_LINE.match(parent)
        if match is None:
            continue
        parent_column = len(match[1]) + len(match[2] or "")
        column = len(child) - len(child.lstrip(" "))
        if child.lstrip().startswith("- ") and offset is None:
            offset = column - parent_column
        elif column > parent_column and mapping is None:
            mapping = column - parent_column
    mapping = mapping or 2
    offset = max(offset or 0, 0)
    return Indent(mapping, max(mapping, offset + 2), offset)


@cache
def _round_trip(indent: Indent = Indent()) -> YAML:
    """Keeps comments, key order and quotes; writes null as ``null`` like kubeadm does, and never wraps lines.

    One instance per indentation serves every load and dump: building one costs milliseconds.
    """
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=indent.mapping, sequence=indent.sequence, offset=indent.offset)
    yaml.representer.add_representer(
        type(None), lambda representer, _: representer.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    return yaml


MAX_CONFIG_CHARS = 1 << 20
MAX_CONFIG_BYTES = MAX_CONFIG_CHARS
MAX_EXPANDED_NODES = 100_000
MAX_DEPTH = 64
"""Nesting k8snode parses at most; kubeadm's deepest documents nest under ten levels."""
MAX_COLUMN = 256
_BRACKET = re.compile(r"[\[\]{}]")
_BLOCK_PREFIX = re.compile(r"^[ ]*(?:[-?:][ ]+)*")


def decode_text(data: bytes, source: str) -> str:
    """``data`` as UTF-8 text, which is what kubeadm reads; anything else is bad input, never silently replaced."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise bad_input(
            f"{source} is not a text file: not UTF-8 (byte {error.object[error.start]:#04x} at offset {error.start}); "
            "kubeadm reads UTF-8: convert the file (iconv -t UTF-8)"
        ) from None


def load_documents(text: str, source: str) -> list[Any]:
    """Every document of ``text`` as round-trip data (CommentedMap keeps comments and order); empty ones dropped."""
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.reader import ReaderError

    if len(text) > MAX_CONFIG_CHARS:
        raise bad_input(f"{source} holds {len(text)} characters; a kubeadm configuration is at most 1 MiB")
    _check_depth(text, source)
    try:
        documents = [document for document in _round_trip().load_all(text) if document is not None]
    except RecursionError:
        raise bad_input(f"{source} nests too deeply to be a kubeadm configuration") from None
    except (ValueError, ArithmeticError, LookupError, TypeError) as error:
        # A tagged or implicit value the constructor cannot build: a date like 2024-02-30, !!int 0x,
        # !!bool maybe, an integer of more digits than Python converts.
        raise bad_input(f"{source} is not valid YAML: a value cannot be read ({error})") from None
    except ReaderError as error:  # a character YAML text may not hold: a binary file, most likely
        code = ord(error.character) if isinstance(error.character, str) else error.character
        raise bad_input(
            f"{source} is not a text file: it holds the control character {code:#04x} at character "
            f"{error.position}; give a YAML kubeadm configuration"
        ) from None
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or type(error).__name__
        raise bad_input(f"{source} is not valid YAML{where}: {problem}") from None
    if _expanded_size(documents, {}) > MAX_EXPANDED_NODES:
        raise bad_input(
            f"{source} expands to more than {MAX_EXPANDED_NODES} values through YAML aliases (an alias bomb?)"
        )
    return documents


def _check_depth(text: str, source: str) -> None:
    """Refuse deep nesting before parsing it: ruamel.yaml's scanner slows down with each level and its composer
    recurses, so a 4 KB file nested 2,000 deep took seconds before failing. Brackets are counted wherever they
    are (an overestimate inside quotes, which a kubeadm file never nests 64 deep), and block nesting is bounded by
    the column where a line's content starts."""
    depth = deepest = 0
    for bracket in _BRACKET.finditer(text):
        depth = depth + 1 if bracket[0] in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            raise bad_input(f"{source} nests brackets more than {MAX_DEPTH} deep; a kubeadm configuration does not")
    for number, line in enumerate(text.splitlines(), start=1):
        prefix = _BLOCK_PREFIX.match(line)
        if prefix is not None and prefix.end() > MAX_COLUMN:
            raise bad_input(
                f"{source} line {number} starts its content after column {MAX_COLUMN}; "
                "a kubeadm configuration does not nest that deep"
            )


def _expanded_size(node: Any, sizes: dict[int, int]) -> int:
    """How many values ``node`` becomes once every alias is expanded; shared nodes are counted once per use."""
    if not isinstance(node, list | dict):
        return 1
    if id(node) not in sizes:
        sizes[id(node)] = 0  # a node that contains itself counts once
        children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
        sizes[id(node)] = 1 + sum(_expanded_size(child, sizes) for child in children)
    return sizes[id(node)]


def dump_documents(documents: list[Any], indent: Indent = Indent()) -> str:
    stream = io.StringIO()
    _round_trip(indent).dump_all(documents, stream)
    return stream.getvalue()


def quoted(value: Any) -> Any:
    """A string that a YAML 1.1 reader (kubeadm's sigs.k8s.io/yaml, or this file's own round trip) would take as
    something else (``yes``, ``y``, ``off``, ``~``, ``0x1f``, ``1:20``) as a double-quoted scalar; else ``value``."""
    if not isinstance(value, str) or type(value) is not str:
        return value
    from ruamel.yaml.nodes import ScalarNode
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    plain = ("tag:yaml.org,2002:str",)
    for resolver in _resolvers():
        if resolver.resolve(ScalarNode, value, (True, False)) not in plain:
            return DoubleQuotedScalarString(value)
    return value


@cache
def _resolvers() -> tuple[Any, ...]:
    from ruamel.yaml.resolver import VersionedResolver

    return VersionedResolver(version=(1, 1)), VersionedResolver(version=(1, 2))
