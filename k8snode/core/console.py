"""Human output. The only module that imports rich, and only when something is printed for a person."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import TYPE_CHECKING

from k8snode.core.text import printable

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text


PIPE_WIDTH = 120
"""The width of output that goes to no terminal and has no COLUMNS: lines a pager or a log shows whole. Long cells
fold onto more lines, never cut."""


@cache
def _console() -> Console:
    import os
    import sys

    # A terminal: its own width. Elsewhere COLUMNS when it is set (rich reads it), else PIPE_WIDTH.
    given = sys.stdout.isatty() or os.environ.get("COLUMNS", "").isdigit()
    width = None if given else PIPE_WIDTH
    return _console_type()(highlight=False, soft_wrap=True, width=width)  # honours NO_COLOR; no colour when piped


@cache
def _console_type() -> type[Console]:
    import errno
    import os

    from rich.console import Console

    class Carried(Console):
        def on_broken_pipe(self) -> None:
            """Rich would exit 1, which means drift to k8snode: the edge (cli.py) ends a run whose reader went away."""
            self.quiet = True
            raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))

    return Carried


def interactive() -> bool:
    """A person watches: standard error is a terminal. Progress lines are for them only."""
    import sys

    return sys.stderr.isatty()


def progress(text: str) -> None:
    """One line on standard error, as something long-running happens."""
    _error_console().print(text, style="dim", markup=False, highlight=False)


@cache
def _error_console() -> Console:
    return _console_type()(stderr=True, highlight=False, soft_wrap=True)


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    from rich.table import Table

    grid = Table(title=title, title_justify="left")
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*_cells(row))
    _console().print(grid)


def line(text: str, style: str | None = None) -> None:
    _console().print(printable(text, keep="\n"), style=style, markup=False)


def diff(text: str) -> None:
    for row in text.splitlines():
        style = "green" if row.startswith("+") else "red" if row.startswith("-") else None
        _console().print(printable(row), style=style, markup=False)


def grouped_table(
    title: str,
    columns: Sequence[str],
    groups: Sequence[tuple[str, Sequence[Sequence[object]]]],
    style: Callable[[Sequence[object]], str | None] = lambda row: None,
) -> None:
    """A table whose first column names each group once, with a rule between groups; ``style`` gives a row's colour
    (a terminal shows it; NO_COLOR and a pipe do not)."""
    from rich.table import Table

    grid = Table(title=title, title_justify="left")
    for column in columns:
        grid.add_column(column, overflow="fold")
    for index, (name, rows) in enumerate(groups):
        if index:
            grid.add_section()
        for number, row in enumerate(rows):
            grid.add_row(*_cells([name if number == 0 else "", *row]), style=style(row))
    _console().print(grid)


def _cells(row: Sequence[object]) -> list[Text]:
    """Cells as plain text: brackets in values (IPv6 addresses) are not rich markup."""
    from rich.text import Text

    return [Text(printable(str(cell), keep="\n")) for cell in row]
