"""Human output. The only module that imports rich, and only when something is printed for a person."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text


@cache
def _console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)  # honours NO_COLOR; no colour codes when not a terminal


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    from rich.table import Table

    grid = Table(title=title, title_justify="left")
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*_cells(row))
    _console().print(grid)


def line(text: str, style: str | None = None) -> None:
    _console().print(clean(text, keep="\n"), style=style, markup=False)


def diff(text: str) -> None:
    for row in text.splitlines():
        style = "green" if row.startswith("+") else "red" if row.startswith("-") else None
        _console().print(clean(row), style=style, markup=False)


def clean(text: str, keep: str = "") -> str:
    """``text`` safe for a terminal: each control or other non-printable character (``\\x1b[2J`` from an HTTP
    body, a line separator) as an escape, except those in ``keep``. Only for people: --json escapes them itself."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in keep else c.encode("unicode_escape").decode("ascii") for c in text)


def grouped_table(title: str, columns: Sequence[str], groups: Sequence[tuple[str, Sequence[Sequence[object]]]]) -> None:
    """A table whose first column names each group once, with a rule between groups."""
    from rich.table import Table

    grid = Table(title=title, title_justify="left")
    for column in columns:
        grid.add_column(column)
    for index, (name, rows) in enumerate(groups):
        if index:
            grid.add_section()
        for number, row in enumerate(rows):
            grid.add_row(*_cells([name if number == 0 else "", *row]))
    _console().print(grid)


def _cells(row: Sequence[object]) -> list[Text]:
    """Cells as plain text: brackets in values (IPv6 addresses) are not rich markup."""
    from rich.text import Text

    return [Text(clean(str(cell), keep="\n")) for cell in row]
