#!/usr/bin/env python3
"""Write the command reference from the Typer app: one page per command, docs/commands/<command>.md, and the root's
in docs/cli.md. A page keeps its own text above the marker line; below it go the --help of the command and of each
subcommand, exactly as `k8snode ... --help` prints them to a pipe or a terminal of 80 columns or more: click wraps
help at the terminal's width less 2, at most 78.

usage: .venv/bin/python tools/gen_cli_docs.py   (tests/cli/test_docs.py fails when a page is not what this writes)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
import typer.main
from typer.testing import CliRunner

from k8snode.cli import app

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
MARKER = "<!-- Below: the --help of each command, written by tools/gen_cli_docs.py; do not edit by hand. -->\n"
WIDTH = 78


def command_names() -> list[str]:
    """Every command and group, parents first, in the order the app declares them ("" is the root)."""
    names: list[str] = []

    def walk(prefix: str, command: Any) -> None:
        names.append(prefix)
        if hasattr(command, "list_commands"):  # a group; k8snode.cli loads its commands lazily
            context = typer.Context(command)
            for name in command.list_commands(context):
                walk(f"{prefix} {name}".strip(), command.get_command(context, name))

    walk("", typer.main.get_command(app))
    return names


def page_of(name: str) -> Path:
    """The page that holds ``name``'s help: its top-level command's, or docs/cli.md for the root."""
    return DOCS / "commands" / f"{name.split()[0]}.md" if name else DOCS / "cli.md"


def help_text(name: str) -> str:
    run = CliRunner().invoke(app, [*name.split(), "--help"], terminal_width=WIDTH, catch_exceptions=False)
    if run.exit_code != 0:
        raise SystemExit(f"gen_cli_docs: k8snode {name} --help exited {run.exit_code}: {run.stderr}")
    return run.stdout


def section(name: str, text: str) -> str:
    return f"\n## `k8snode {name}`\n\n```text\n{text.rstrip()}\n```\n".replace("`k8snode `", "`k8snode`")


def render() -> dict[Path, str]:
    """Each page's text: what it holds above the marker (or a title for a new page), the marker, then the help."""
    pages: dict[Path, list[str]] = {}
    for name in command_names():
        page = page_of(name)
        if page not in pages:
            own = page.read_text().split(MARKER, 1)[0] if page.exists() else f"# `k8snode {name}`\n\n"
            pages[page] = [own, MARKER]
        pages[page].append(section(name, help_text(name)))
    return {page: "".join(parts) for page, parts in pages.items()}


if __name__ == "__main__":
    for page, text in render().items():
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(text)
        print(f"gen_cli_docs: wrote {page.relative_to(REPO)}", file=sys.stderr)
