"""How a command is declared (its Typer app, its shared options) and the edge where results and errors become output
and exit codes.

Every command module holds one ``app``: ``command_app()`` for a single command, ``group()`` for a group whose
subcommands are built when they are looked up. Options are declared one way, as ``Annotated[type,
typer.Option(...)]`` parameters; the shared ones are below.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from difflib import get_close_matches
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
import typer.core

from k8snode.core.errors import ExitCode, K8snodeError
from k8snode.core.result import Result
from k8snode.core.system import RUNNING_COMMAND
from k8snode.core.text import printable

ARGV = "k8snode.argv"
"""Key of the command line's words in ``typer.Context.meta`` (shared by every nested context), set by the CLI."""

Function = TypeVar("Function", bound=Callable[..., Any])


def command_app() -> typer.Typer:
    """The Typer app of one command, or of a group: plain help (rich is not imported), no completion options of its
    own (the root app has them)."""
    return typer.Typer(add_completion=False, rich_markup_mode=None)


def given_on_command_line(context: typer.Context, name: str) -> bool:
    source = context.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


class Subcommands:
    """A group's subcommands, each built by Typer from its function when it is first looked up: `ipvs check` does
    not pay for building the options of enable, disable, cleanup and status. Help and completion list them all."""

    def __init__(self) -> None:
        self._functions: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {}
        self._built: dict[str, Any] = {}

    def __call__(self, name: str | None = None, **settings: Any) -> Callable[[Function], Function]:
        """Register a subcommand, as ``typer.Typer.command`` would: ``@subcommand()`` or ``@subcommand("exec")``."""

        def register(function: Function) -> Function:
            self._functions[name or function.__name__.replace("_", "-")] = (function, settings)
            return function

        return register

    def names(self) -> list[str]:
        return list(self._functions)

    def get(self, name: str) -> Any:
        """The click command of ``name``, or None (click then says "No such command" with a suggestion)."""
        if name not in self._built and name in self._functions:
            function, settings = self._functions[name]
            single = command_app()
            single.command(name, **settings)(function)
            self._built[name] = typer.main.get_command(single)
        return self._built.get(name)

    def group_class(self) -> type[LazyGroup]:
        """The group class Typer builds the app's group from (its ``cls``)."""
        subcommands = self

        class Group(LazyGroup):
            def list_commands(self, ctx: Any) -> list[str]:
                return subcommands.names()

            def get_command(self, ctx: Any, cmd_name: str) -> Any:
                return subcommands.get(cmd_name)

        return Group


class LazyGroup(typer.core.TyperGroup):
    """click's lazy group: a group whose list_commands names every command and whose get_command builds the one
    asked for (click's docs, "Lazily Loading Subcommands"); a TyperGroup, as ``typer.Typer(cls=...)`` asks."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except typer.TyperException as error:  # "No such command": suggest from every name, as Typer does
            close = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if close:
                error.message = f"{error.message.rstrip('.')}. Did you mean {', '.join(map(repr, close))}?"
            raise


def help_without_subcommand(context: typer.Context) -> None:
    """A group given no subcommand prints its help (exit 0)."""
    if context.invoked_subcommand is None:
        print(context.get_help())
        raise typer.Exit(0)


def group(
    help: str, *, epilog: str, callback: Callable[..., None] = help_without_subcommand
) -> tuple[typer.Typer, Subcommands]:
    """A command group and the decorator that adds its subcommands; ``callback`` runs before any subcommand, and
    alone when none is given. ``epilog`` shows examples below the options."""
    subcommands = Subcommands()
    app = typer.Typer(
        cls=subcommands.group_class(),
        help=help,
        epilog=epilog,
        invoke_without_command=True,
        add_completion=False,
        rich_markup_mode=None,
    )
    app.callback()(callback)
    return app, subcommands


def _root(context: typer.Context, value: Path) -> Path:
    """An empty K8SNODE_ROOT is refused as an empty --root is, instead of silently meaning '/'."""
    if os.environ.get("K8SNODE_ROOT") == "" and not given_on_command_line(context, "root"):
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
