"""`k8snode kubelet-flags`: the kubelet flag set (or KubeletConfiguration) for a Kubernetes version."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from k8snode.commands.common import Debug, DryRun, Force, Json, Root, execute
from k8snode.core import console
from k8snode.core.result import Result
from k8snode.core.system import System
from k8snode.kubelet import flags as library
from k8snode.node.swap import SwapMode

_describe = library.describe
Text = str | None
Texts = list[str] | None


def command(
    kubernetes_version: Annotated[
        Text,
        typer.Option(
            "--kubernetes-version",
            help="Kubelet version the flags are for: the newest release k8snode knows by default.",
            show_default=library.catalog().default_kubernetes_version,
        ),
    ] = None,
    register_node: Annotated[
        bool | None, typer.Option("--register-node/--no-register-node", help=_describe("register-node"))
    ] = None,
    api_servers: Annotated[Texts, typer.Option("--api-servers", "--api-server", help=_describe("api-servers"))] = None,
    kubeconfig: Annotated[Text, typer.Option("--kubeconfig", help=_describe("kubeconfig"))] = None,
    bootstrap_kubeconfig: Annotated[
        Text, typer.Option("--bootstrap-kubeconfig", help=_describe("bootstrap-kubeconfig"))
    ] = None,
    cloud_provider: Annotated[Text, typer.Option("--cloud-provider", help=_describe("cloud-provider"))] = None,
    node_status_update_frequency: Annotated[
        Text, typer.Option("--node-status-update-frequency", help=_describe("node-status-update-frequency"))
    ] = None,
    static_pod_path: Annotated[
        Text, typer.Option("--static-pod-path", "--pod-manifest-path", help=_describe("static-pod-path"))
    ] = None,
    file_check_frequency: Annotated[
        Text, typer.Option("--file-check-frequency", help=_describe("file-check-frequency"))
    ] = None,
    manifest_url: Annotated[Text, typer.Option("--manifest-url", help=_describe("manifest-url"))] = None,
    manifest_url_header: Annotated[
        Texts, typer.Option("--manifest-url-header", help=_describe("manifest-url-header"))
    ] = None,
    http_check_frequency: Annotated[
        Text, typer.Option("--http-check-frequency", help=_describe("http-check-frequency"))
    ] = None,
    node_ip: Annotated[Texts, typer.Option("--node-ip", help=_describe("node-ip"))] = None,
    node_labels: Annotated[Texts, typer.Option("--node-labels", help=_describe("node-labels"))] = None,
    register_with_taints: Annotated[
        Texts, typer.Option("--register-with-taints", help=_describe("register-with-taints"))
    ] = None,
    fail_swap_on: Annotated[
        bool | None, typer.Option("--fail-swap-on/--no-fail-swap-on", help=_describe("fail-swap-on"))
    ] = None,
    config: Annotated[Text, typer.Option("--config", help=_describe("config"))] = None,
    output: Annotated[
        library.Format, typer.Option("--format", help="flags, args, env, dropin or config.")
    ] = library.Format.FLAGS,
    swap: Annotated[
        SwapMode,
        typer.Option(
            "--swap", help="keep: the node keeps swap on, so add failSwapOn false (and memorySwap from 1.30)."
        ),
    ] = SwapMode.OFF,
    out: Annotated[
        Text, typer.Option("--out", help="Write the output to this file (0644, atomically) instead of stdout.")
    ] = None,
    force: Force = False,
    dry_run: DryRun = False,
    root: Root = Path("/"),
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """Print the kubelet flags for a Kubernetes version, with deprecations and KubeletConfiguration equivalents.

    With no setting options: the node-management set (registration, status updates, kubeconfig, static pods).
    """
    given = {
        "register-node": register_node,
        "api-servers": api_servers,
        "kubeconfig": kubeconfig,
        "bootstrap-kubeconfig": bootstrap_kubeconfig,
        "cloud-provider": cloud_provider,
        "node-status-update-frequency": node_status_update_frequency,
        "static-pod-path": static_pod_path,
        "file-check-frequency": file_check_frequency,
        "manifest-url": manifest_url,
        "manifest-url-header": manifest_url_header,
        "http-check-frequency": http_check_frequency,
        "node-ip": node_ip,
        "node-labels": node_labels,
        "register-with-taints": register_with_taints,
        "fail-swap-on": fail_swap_on,
        "config": config,
    }
    settings = {name: ",".join(v) if isinstance(v, list) else v for name, v in given.items() if v is not None}
    execute(
        "kubelet-flags",
        lambda: library.render(
            System(root, debug),
            settings,
            kubernetes_version=kubernetes_version,
            output=output,
            out=out,
            dry_run=dry_run,
            force=force,
            swap=swap,
        ),
        show,
        json_output=json_output,
        debug=debug,
    )


def show(result: Result) -> None:
    data = result.data
    if "files" in data:
        for path, text in data.get("diffs", {}).items():
            console.line(f"diff for {path}:")
            console.diff(text)
        console.line(result.summary)
    else:
        print(data["text"], end="")
    if data["extra_args"]:
        print("# Flag-only settings, for /etc/default/kubelet or /etc/sysconfig/kubelet:")
        print(data["extra_args"])
