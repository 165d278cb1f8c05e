#!/usr/bin/env python3
"""Write docs/cli.md, the CLI reference, from the Typer app: each command's --help, 80 columns wide.

usage: .venv/bin/python tools/gen_cli_docs.py   (tests/test_docs.py fails when docs/cli.md is not what this writes)
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
CLI_MD = REPO / "docs" / "cli.md"


def command_names() -> list[str]:
    """Every command and group, parents first, in the order the app declares them."""
    names: list[str] = []

    def walk(prefix: str, command: Any) -> None:
        names.append(prefix)
        if hasattr(command, "list_commands"):  # a group; k8snode.cli loads its commands lazily
            context = typer.Context(command)
            for name in command.list_commands(context):
                walk(f"{prefix} {name}".strip(), command.get_command(context, name))

    walk("", typer.main.get_command(app))
    return names


def render() -> str:
    runner = CliRunner()
    parts = [
        "# k8snode command-line reference\n\n",
        "Generated from the Typer app by `tools/gen_cli_docs.py`; do not edit by hand.\n",
    ]
    for name in command_names():
        run = runner.invoke(app, [*name.split(), "--help"], terminal_width=80, catch_exceptions=False)
        if run.exit_code != 0:
            raise SystemExit(f"gen_cli_docs: k8snode {name} --help exited {run.exit_code}: {run.stderr}")
        parts.append(
            f"\n## k8snode {name}\n\n```text\n{run.stdout.rstrip()}\n```\n".replace("## k8snode \n", "## k8snode\n")
        )
    return "".join(parts)


if __name__ == "__main__":
    CLI_MD.write_text(render())
    print(f"gen_cli_docs: wrote {CLI_MD.relative_to(REPO)}", file=sys.stderr)
