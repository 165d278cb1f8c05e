"""The k8snode command line: the Typer app, the version flag, and the edge for usage errors.

A command's module is imported only when that command runs (or for --help): `ipvs check` does not pay for
kubeadm-config's, probe's or doctor's imports. Only the public API of Typer is used: the root is a LazyGroup
(k8snode.commands.common), click's lazy-group pattern on the TyperGroup that ``typer.Typer(cls=...)`` takes.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator
from typing import Annotated, Any, NoReturn

import typer

from k8snode.commands.common import ARGV, LazyGroup, execute, usage_error
from k8snode.core.about import about
from k8snode.core.errors import ExitCode

# name -> the module whose `app` (a typer.Typer: one command, or a group) is that command.
COMMANDS = {
    "ipvs": "k8snode.commands.ipvs",
    "node": "k8snode.commands.node",
    "kubelet-flags": "k8snode.commands.kubelet_flags",
    "probe": "k8snode.commands.probe",
    "doctor": "k8snode.commands.doctor",
    "kubeadm-config": "k8snode.commands.kubeadm_config",
    "validate": "k8snode.commands.validate",
}


class _Edge(LazyGroup):
    """Loads commands lazily, and turns click's usage errors into one line and exit 2, instead of click's
    multi-line message."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        command: typer.Typer = importlib.import_module(COMMANDS[cmd_name]).app
        return typer.main.get_command(command)

    # Parsing (which prints --help) and running: what goes wrong in either ends here.
    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        argv = list(args)
        if sys.stdout is None:  # `k8snode ... >&-`: Python found no descriptor 1 and gave no stream
            print("k8snode: error: standard output is closed; give it a place (>/dev/null to discard)", file=sys.stderr)
            sys.exit(int(ExitCode.BAD_INPUT))
        with _edge(argv):
            context = super().make_context(info_name, args, parent, **extra)
        context.meta[ARGV] = argv
        return context

    def invoke(self, ctx: Any) -> Any:
        with _edge(ctx.meta[ARGV]):
            return super().invoke(ctx)


@contextlib.contextmanager
def _edge(argv: list[str]) -> Iterator[None]:
    try:
        try:
            yield
        except typer.Abort:
            sys.exit(130)
        except ValueError as error:  # raised while converting an option, e.g. a path with a NUL byte
            usage_error(argv, f"invalid command-line value: {error}")
        except typer.TyperException as error:  # click's usage errors: typer.BadParameter, "No such option" ...
            usage_error(argv, error.format_message())
        finally:
            sys.stdout.flush()  # what is still buffered fails here, not in the interpreter's last flush
    except BrokenPipeError:  # carried past click's own handling, which exits 1, a code that means drift here
        _output_closed()
    except OSError as error:  # the same, for /dev/full or a full disk: Python's traceback would exit 1 too
        _output_failed(error)


def _output_closed() -> NoReturn:
    """The reader of the output went away (`k8snode ... | head -1`): end quietly, with the status a shell gives a
    command that SIGPIPE ends, 128 + 13. Every other write to a pipe or socket is handled where it is made, so a broken
    pipe that reaches the edge is the output's. stdout and stderr are pointed at /dev/null first, so that what is still
    buffered does not fail again in the interpreter's last flush (Python's signal module docs, "Note on SIGPIPE")."""
    _discard(sys.stdout, sys.stderr)
    sys.exit(int(ExitCode.OUTPUT_CLOSED))


def _output_failed(error: OSError) -> NoReturn:
    """Standard output could not be written (ENOSPC on /dev/full or a full disk, EIO): the report is lost, so the run
    failed, exit 3, whatever the command did, and stderr says so in one line. Every other OSError is caught where it
    happens or by ``execute`` around the command's action, so one that reaches the edge is the output's."""
    _discard(sys.stdout)
    try:
        why = error.strerror or str(error)
        print(f"k8snode: error: cannot write standard output: {why}; the report is lost", file=sys.stderr, flush=True)
    except (OSError, ValueError):  # stderr fails too: nothing more can be said
        _discard(sys.stderr)
    sys.exit(int(ExitCode.FAILED))


def _discard(*streams: Any) -> None:
    """What is still buffered in ``streams`` goes to /dev/null, and so does what follows."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in streams:
        with contextlib.suppress(OSError, ValueError):  # io.UnsupportedOperation: a stream without a descriptor
            os.dup2(devnull, stream.fileno())
    os.close(devnull)


app = typer.Typer(
    cls=_Edge,
    name="k8snode",
    help="Prepare Linux hosts to become Kubernetes nodes.",
    epilog="Run k8snode COMMAND --help for a command's options and examples.",
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
        if not json_output:  # `k8snode` alone asks for the help
            print(context.get_help())
            raise typer.Exit(0)
        usage_error(context.meta[ARGV], "missing command; run k8snode --help for the list")
    if json_output:  # `k8snode --json ipvs check` would print text: refused, not ignored
        name = context.invoked_subcommand
        usage_error(context.meta[ARGV], f"--json given before '{name}' is --version's; give it after the command")


def main() -> None:
    app(prog_name="k8snode")
