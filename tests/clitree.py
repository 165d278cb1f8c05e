"""The CLI's commands as click sees them, through Typer's public API (k8snode.cli loads each group lazily)."""

from __future__ import annotations

from typing import Any

import typer
import typer.main

from k8snode.cli import app


def command(path: str) -> Any:
    """The click command of ``path`` ("kubelet-flags", "ipvs check")."""
    found: Any = typer.main.get_command(app)
    for word in path.split():
        found = found.get_command(typer.Context(found), word)
    return found


def leaves() -> list[tuple[str, Any]]:
    """(full name, click command) of every command that is not a group."""
    found = []

    def walk(prefix: str, node: Any) -> None:
        if hasattr(node, "list_commands"):
            context = typer.Context(node)
            for name in node.list_commands(context):
                walk(f"{prefix} {name}".strip(), node.get_command(context, name))
        else:
            found.append((prefix, node))

    walk("", typer.main.get_command(app))
    return found
