"""Options every command shares, and the edge where results and errors become output and exit codes."""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from k8snode.core.errors import ExitCode, K8snodeError
from k8snode.core.result import Result

Root = Annotated[
    Path,
    typer.Option("--root", envvar="K8SNODE_ROOT", help="Directory that stands for '/' for every path k8snode touches."),
]
Json = Annotated[bool, typer.Option("--json", help="Print one versioned JSON envelope on stdout.")]
Debug = Annotated[bool, typer.Option("--debug", help="Show commands run and tracebacks on errors.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show what would change, with diffs; touch nothing.")]
Force = Annotated[
    bool, typer.Option("--force", help="Replace a file k8snode did not write, or a symlink at the target.")
]

Show = Callable[[Result], None]


def execute(command: str, action: Callable[[], Result], show: Show, *, json_output: bool, debug: bool) -> NoReturn:
    """Run ``action``, print its result for a person or as JSON, and exit with its code."""
    try:
        result = action()
    except K8snodeError as error:
        if debug:
            traceback.print_exc()
        result = Result(command, exit_code=error.code, error=error.message)
    except Exception as error:  # the edge: an unexpected failure is still one line and exit 3
        if debug:
            traceback.print_exc()
        result = Result(
            command,
            exit_code=ExitCode.FAILED,
            error=f"internal error: {type(error).__name__}: {error}; rerun with --debug for a traceback",
        )
    if json_output:
        sys.stdout.write(json.dumps(result.envelope()) + "\n")
    else:
        if result.error is None:
            show(result)
        for warning in result.warnings:
            print(f"k8snode: warning: {warning}", file=sys.stderr)
    if result.error is not None:
        print(f"k8snode: error: {one_line(result.error)}", file=sys.stderr)
    raise typer.Exit(int(result.exit_code))


def usage_error(argv: list[str], message: str) -> NoReturn:
    """Bad command-line input: one line on stderr (and the envelope with --json), exit 2."""
    if "--json" in argv:
        command = " ".join(word for word in argv[:2] if not word.startswith("-"))
        envelope = Result(command, exit_code=ExitCode.BAD_INPUT, error=one_line(message)).envelope()
        sys.stdout.write(json.dumps(envelope) + "\n")
    print(f"k8snode: error: {one_line(message)}", file=sys.stderr)
    sys.exit(int(ExitCode.BAD_INPUT))


def one_line(message: str) -> str:
    return " ".join(message.split())
