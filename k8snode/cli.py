"""The k8snode command line: the Typer app, the version flag, and the edge for usage errors.

A command's module is imported only when that command runs (or for --help): `ipvs check` does not pay for
kubeadm-config's, probe's or doctor's imports.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator, MutableMapping, Sequence
from typing import Annotated, Any, NoReturn

import typer
from typer._click.core import Command, Context  # typer 0.28 vendors click (pinned in pyproject)
from typer._click.exceptions import ClickException, NoArgsIsHelpError
from typer.core import TyperGroup

from k8snode.commands.common import execute, usage_error
from k8snode.core.about import about
from k8snode.core.errors import ExitCode

# name -> (module, attribute): a Typer app (a command group) or a command function.
COMMANDS = {
    "ipvs": ("k8snode.commands.ipvs", "app"),
    "node": ("k8snode.commands.node", "app"),
    "kubelet-flags": ("k8snode.commands.kubelet_flags", "app"),
    "probe": ("k8snode.commands.probe", "app"),
    "doctor": ("k8snode.commands.doctor", "command"),
    "kubeadm-config": ("k8snode.commands.kubeadm_config", "command"),
    "validate": ("k8snode.commands.validate", "command"),
}


def _load(name: str) -> Command:
    module, attribute = COMMANDS[name]
    target = getattr(importlib.import_module(module), attribute)
    if isinstance(target, typer.Typer):
        target.rich_markup_mode = app.rich_markup_mode  # as add_typer would hand it down
        infos, target.registered_commands = target.registered_commands, []
        try:
            group = typer.main.get_group(target)  # the group's own options and help; its commands come below
        finally:
            target.registered_commands = infos
        group.commands = _Subcommands(target)
        group.name = name
        return group
    single = typer.Typer(rich_markup_mode=app.rich_markup_mode, add_completion=False)
    single.command(name)(target)
    return typer.main.get_command(single)


class _Subcommands(MutableMapping[str, Command]):
    """A group's commands by name, each built from its Typer definition when it is first looked up: `ipvs check`
    does not pay for building enable's, disable's and status's options. Help and completion list them all."""

    def __init__(self, group: typer.Typer) -> None:
        self._infos = {
            info.name or typer.main.get_command_name(info.callback.__name__): info  # as typer names it
            for info in group.registered_commands
            if info.callback
        }
        self._built: dict[str, Command] = {}
        self._group = group

    def __getitem__(self, name: str) -> Command:
        if name not in self._built:
            self._built[name] = typer.main.get_command_from_info(
                self._infos[name],
                pretty_exceptions_short=self._group.pretty_exceptions_short,
                rich_markup_mode=self._group.rich_markup_mode,
            )
        return self._built[name]

    def __setitem__(self, name: str, command: Command) -> None:
        self._built[name] = command
        self._infos.pop(name, None)

    def __delitem__(self, name: str) -> None:
        self._built.pop(name, None)
        del self._infos[name]

    def __iter__(self) -> Iterator[str]:
        return iter({**self._infos, **self._built})

    def __len__(self) -> int:
        return len({**self._infos, **self._built})


class _Edge(TyperGroup):
    """Loads commands lazily, and turns click's usage errors into one line and exit 2, instead of a boxed
    multi-line message."""

    def list_commands(self, ctx: Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        return _load(cmd_name) if cmd_name in COMMANDS else None

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        try:
            try:
                code = super().main(argv, prog_name or "k8snode", complete_var, False, windows_expand_args, **extra)
            except NoArgsIsHelpError as error:  # `k8snode`, `k8snode ipvs`: no subcommand asks for the help
                if error.ctx is not None:
                    print(error.ctx.get_help())
                sys.exit(0)
            except ClickException as error:
                usage_error(argv, error.format_message())
            except ValueError as error:  # raised while converting an option, e.g. a path with a NUL byte
                usage_error(argv, f"invalid command-line value: {error}")
            except typer.Abort:
                sys.exit(130)
            finally:
                sys.stdout.flush()  # what is still buffered fails here, not in the interpreter's last flush
            sys.exit(code if isinstance(code, int) else 0)
        except (BrokenPipeError, _OutputClosed):
            _output_closed()

    # Parsing (which prints --help) and running: a broken pipe in either is carried past click's own handling,
    # which exits 1, a code that means drift here.
    def make_context(
        self, info_name: str | None, args: list[str], parent: Context | None = None, **extra: Any
    ) -> Context:
        with _carried():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: Context) -> Any:
        with _carried():
            return super().invoke(ctx)


class _OutputClosed(Exception):
    """A write to stdout or stderr found its reader gone."""


@contextlib.contextmanager
def _carried() -> Iterator[None]:
    try:
        yield
    except BrokenPipeError as error:
        raise _OutputClosed from error


def _output_closed() -> NoReturn:
    """The reader of the output went away (`k8snode ... | head -1`): end quietly, with the status a shell gives a
    command that SIGPIPE ends, 128 + 13. Every other write to a pipe or socket is handled where it is made, so a broken
    pipe that reaches the edge is the output's. stdout and stderr are pointed at /dev/null first, so that what is still
    buffered does not fail again in the interpreter's last flush (Python's signal module docs, "Note on SIGPIPE")."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # io.UnsupportedOperation: a stream without a descriptor
            os.dup2(devnull, stream.fileno())
    os.close(devnull)
    sys.exit(int(ExitCode.OUTPUT_CLOSED))


app = typer.Typer(
    cls=_Edge,
    name="k8snode",
    help="Prepare Linux hosts to become Kubernetes nodes.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion/--show-completion: no start-up cost (bench/completion.py)
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback(invoke_without_command=True)
def _root(
    context: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit; with --json also the interpreter and the pyz."),
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="With --version: one JSON envelope.")] = False,
) -> None:
    """Prepare Linux hosts to become Kubernetes nodes."""
    if version:
        execute("version", about, lambda result: print(result.summary), json_output=json_output, debug=False)
    if context.invoked_subcommand is None:
        usage_error(sys.argv[1:], "missing command; run k8snode --help for the list")


def main() -> None:
    app()
