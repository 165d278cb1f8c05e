"""`k8snode validate FILE`: offline validation of a kubeadm configuration file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from k8snode.commands.common import Debug, Json, Root, command_app, execute
from k8snode.core import console
from k8snode.core.result import Result
from k8snode.core.system import System
from k8snode.proxy.modes import LoadBalancer

app = command_app()


@app.command(
    "validate",
    epilog="""Examples:

\b
  k8snode validate init-config.yaml
  k8snode validate init-config.yaml --kubernetes-version v1.36.3 --lb metallb
  kubeadm config print init-defaults | k8snode validate -""",
)
def command(
    file: Annotated[
        str,
        typer.Argument(help="The kubeadm configuration file (a path on the target system); - reads standard input."),
    ],
    kubernetes_version: Annotated[
        str | None,
        typer.Option(
            "--kubernetes-version",
            help="Target release (default: the file's kubernetesVersion, else the newest known).",
        ),
    ] = None,
    load_balancer: Annotated[
        LoadBalancer | None,
        typer.Option("--lb", help="An L2 load balancer runs (metallb or kube-vip): IPVS needs strictARP."),
    ] = None,
    node_kernel: Annotated[
        str | None, typer.Option("--node-kernel", help="The node's kernel release, for the nftables check.")
    ] = None,
    root: Root = Path("/"),
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """Validate a kubeadm configuration file offline.

    Checks apiVersion and kind for the target version, unknown fields, types and values, and the documents
    together; exit 1 when there are problems.
    """
    from k8snode.kubeadm import validate as library  # lazy: every other command would pay for its imports

    execute(
        "validate",
        lambda: library.validate_file(
            System(root, debug), file, kubernetes_version, load_balancer and load_balancer.value, node_kernel
        ),
        show,
        json_output=json_output,
        debug=debug,
    )


def show(result: Result) -> None:
    for problem in result.data.get("problems", []):
        console.line(problem, style="red")
    console.line(result.summary, style="green" if result.ok else "red")
