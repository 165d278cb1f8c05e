"""Options every command shares, and the edge where results and errors become output and exit codes."""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from k8snode.core.errors import ExitCode, K8snodeError
from k8snode.core.result import Result
from k8snode.core.system import RUNNING_COMMAND
from k8snode.core.text import printable


def _root(context: typer.Context, value: Path) -> Path:
    """An empty K8SNODE_ROOT is refused as an empty --root is, instead of silently meaning '/'."""
    from typer._click.core import ParameterSource

    given = context.get_parameter_source("root") == ParameterSource.COMMANDLINE
    if os.environ.get("K8SNODE_ROOT") == "" and not given:
        raise typer.BadParameter("K8SNODE_ROOT is set but empty; unset it, or give a directory such as / or /mnt/node")
    return value


Root = Annotated[
    Path,
    typer.Option(
        "--root",
        envvar="K8SNODE_ROOT",
        callback=_root,
        help="Directory that stands for '/' for every path k8snode touches.",
    ),
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
    RUNNING_COMMAND.set(f"k8snode {command}")
    try:
        result = action()
    except K8snodeError as error:
        if debug:
            traceback.print_exc()
        result = Result(command, exit_code=error.code, error=error.message)
    except Exception as error:  # the edge: an unexpected failure is still one line and exit 3
        if debug:
            traceback.print_exc()
        hint = "" if debug else "; rerun with --debug for a traceback"
        result = Result(
            command, exit_code=ExitCode.FAILED, error=f"internal error: {type(error).__name__}: {error}{hint}"
        )
    result = _redacted(result)
    if json_output:
        sys.stdout.write(json.dumps(result.envelope()) + "\n")
    else:
        if result.error is None:
            show(result)
        for warning in result.warnings:
            print(f"k8snode: warning: {printable(warning)}", file=sys.stderr)
    if result.error is not None:
        print(f"k8snode: error: {one_line(result.error)}", file=sys.stderr)
    raise typer.Exit(int(result.exit_code))


def _redacted(result: Result) -> Result:
    """Every token-shaped value in data, warnings and the error redacted (a kubeadm-config's YAML on stdout is
    the product the operator asked for and is no field of the result)."""
    from k8snode.core.secrets import redact, redact_all

    result.data = redact_all(result.data)
    result.warnings = [redact(warning) for warning in result.warnings]
    result.error = None if result.error is None else redact(result.error)
    result.summary = redact(result.summary)
    return result


def usage_error(argv: list[str], message: str) -> NoReturn:
    """Bad command-line input: one line on stderr (and the envelope with --json), exit 2."""
    if "--json" in argv:
        command = " ".join(word for word in argv[:2] if not word.startswith("-"))
        envelope = Result(command, exit_code=ExitCode.BAD_INPUT, error=one_line(message)).envelope()
        sys.stdout.write(json.dumps(envelope) + "\n")
    print(f"k8snode: error: {one_line(message)}", file=sys.stderr)
    sys.exit(int(ExitCode.BAD_INPUT))


def one_line(message: str) -> str:
    from k8snode.core.secrets import redact

    return printable(redact(" ".join(message.split())))
