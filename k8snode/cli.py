"""The k8snode command line: the Typer app, the version flag, and the edge for usage errors."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError  # typer 0.28 vendors click (pinned)
from typer.core import TyperGroup

from k8snode import __version__
from k8snode.commands import doctor, ipvs, kubeadm_config, kubelet_flags, node, probe, validate
from k8snode.commands.common import usage_error


class _Edge(TyperGroup):
    """Turns click's usage errors into one line and exit 2, instead of a boxed multi-line message."""

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
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=_Edge,
    name="k8snode",
    help="Prepare Linux hosts to become Kubernetes nodes.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion/--show-completion: no start-up cost (bench/completion.py)
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(ipvs.app, name="ipvs")
app.add_typer(node.app, name="node")
app.add_typer(kubelet_flags.app, name="kubelet-flags")
app.add_typer(probe.app, name="probe")
app.command("doctor")(doctor.command)
app.command("kubeadm-config")(kubeadm_config.command)
app.command("validate")(validate.command)


def _print_version(value: bool) -> None:
    if value:
        print(f"k8snode {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Prepare Linux hosts to become Kubernetes nodes."""


def main() -> None:
    app()
