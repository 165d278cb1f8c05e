"""`k8snode kubeadm-config`: a kubeadm init configuration for the target Kubernetes version."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from k8snode.commands.common import Debug, DryRun, Force, Json, Root, execute
from k8snode.core import console
from k8snode.core.releases import NEWEST_KNOWN
from k8snode.core.result import Result
from k8snode.core.system import System
from k8snode.node.swap import SwapMode

_IPVS = "IPVS"
_API = "API endpoint and node"
_CLUSTER = "Cluster"
_OUTPUT = "Output"


def _option(*names: str, help: str, panel: str | None = None, metavar: str | None = None) -> Any:
    return typer.Option(*names, help=help, rich_help_panel=panel, metavar=metavar)


def command(
    kubernetes_version: Annotated[
        str | None, _option("--kubernetes-version", help=f"Target release (default {NEWEST_KNOWN}).", metavar="vX.Y.Z")
    ] = None,
    api_version: Annotated[
        str, _option("--api-version", help="kubeadm API: auto, v1beta4, v1beta3 or v1alpha1.")
    ] = "auto",
    proxy_mode: Annotated[
        str | None, _option("--proxy-mode", help="kube-proxy mode: ipvs (default), iptables or nftables.")
    ] = None,
    ipvs_scheduler: Annotated[
        str | None, _option("--ipvs-scheduler", help="IPVS scheduler (default rr).", panel=_IPVS)
    ] = None,
    strict_arp: Annotated[
        bool | None, _option("--strict-arp/--no-strict-arp", help="Set ipvs.strictARP.", panel=_IPVS)
    ] = None,
    exclude_cidr: Annotated[
        list[str] | None, _option("--exclude-cidr", help="ipvs.excludeCIDRs entry (repeatable).", panel=_IPVS)
    ] = None,
    ipvs_sync_period: Annotated[str | None, _option("--ipvs-sync-period", help="Go duration.", panel=_IPVS)] = None,
    ipvs_min_sync_period: Annotated[
        str | None, _option("--ipvs-min-sync-period", help="Go duration.", panel=_IPVS)
    ] = None,
    ipvs_tcp_timeout: Annotated[str | None, _option("--ipvs-tcp-timeout", help="Go duration.", panel=_IPVS)] = None,
    ipvs_tcp_fin_timeout: Annotated[
        str | None, _option("--ipvs-tcp-fin-timeout", help="Go duration.", panel=_IPVS)
    ] = None,
    ipvs_udp_timeout: Annotated[str | None, _option("--ipvs-udp-timeout", help="Go duration.", panel=_IPVS)] = None,
    load_balancer: Annotated[
        str | None, _option("--lb", help="L2 load balancer (metallb or kube-vip): turns on strictARP under IPVS.")
    ] = None,
    advertise_address: Annotated[
        str | None,
        _option("--advertise-address", help="API server address (default: the host's primary IPv4).", panel=_API),
    ] = None,
    bind_port: Annotated[int | None, _option("--bind-port", help="API server port (default 6443).", panel=_API)] = None,
    control_plane_endpoint: Annotated[
        str | None, _option("--control-plane-endpoint", help="Stable address of the control plane.", panel=_API)
    ] = None,
    node_name: Annotated[
        str | None, _option("--node-name", help="Node name (default: the hostname).", panel=_API)
    ] = None,
    cri_socket: Annotated[
        str | None, _option("--cri-socket", help="CRI socket (default: containerd's).", panel=_API)
    ] = None,
    pod_subnet: Annotated[
        str | None,
        _option("--pod-subnet", help="Pod CIDR(s), dual stack allowed; also kube-proxy clusterCIDR.", panel=_CLUSTER),
    ] = None,
    service_subnet: Annotated[
        str | None, _option("--service-subnet", help="Service CIDR(s) (default 10.96.0.0/12).", panel=_CLUSTER)
    ] = None,
    image_repository: Annotated[str | None, _option("--image-repository", help="Registry.", panel=_CLUSTER)] = None,
    cluster_name: Annotated[str | None, _option("--cluster-name", help="Cluster name.", panel=_CLUSTER)] = None,
    token: Annotated[
        str | None,
        _option(
            "--token",
            help="Bootstrap token [a-z0-9]{6}.[a-z0-9]{16} (default: reused from --out, else random).",
            panel=_CLUSTER,
        ),
    ] = None,
    kubelet_config: Annotated[
        bool, _option("--kubelet-config", help="Also emit a KubeletConfiguration (systemd cgroups).", panel=_CLUSTER)
    ] = False,
    swap: Annotated[
        SwapMode,
        _option(
            "--swap",
            help="keep: the node keeps swap on; the KubeletConfiguration gets failSwapOn false (memorySwap from 1.30).",
            panel=_CLUSTER,
        ),
    ] = SwapMode.OFF,
    set_values: Annotated[
        list[str] | None,
        _option("--set", help="Kind.field.path=VALUE, checked against the schema (repeatable).", panel=_CLUSTER),
    ] = None,
    node_kernel: Annotated[
        str | None, _option("--node-kernel", help="The node's kernel release (default: this host's).", panel=_CLUSTER)
    ] = None,
    patch: Annotated[
        str | None, _option("--patch", help="Start from this kubeadm config (comments and order kept).", panel=_OUTPUT)
    ] = None,
    migrate: Annotated[
        bool, _option("--migrate", help="Convert a v1beta3 --patch file to v1beta4.", panel=_OUTPUT)
    ] = False,
    out: Annotated[
        str | None, _option("--out", help="Write here (mode 0600) instead of stdout.", panel=_OUTPUT)
    ] = None,
    force: Force = False,
    dry_run: DryRun = False,
    root: Root = Path("/"),
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """Render init-config.yaml: kubeadm Init/ClusterConfiguration plus KubeProxyConfiguration, validated."""
    from k8snode.kubeadm import render as library  # lazy: every other command would pay for its imports

    options = library.Options(
        kubernetes_version=kubernetes_version,
        api_version=api_version,
        proxy_mode=proxy_mode,
        ipvs_scheduler=ipvs_scheduler,
        strict_arp=strict_arp,
        exclude_cidrs=tuple(exclude_cidr or ()),
        sync_period=ipvs_sync_period,
        min_sync_period=ipvs_min_sync_period,
        tcp_timeout=ipvs_tcp_timeout,
        tcp_fin_timeout=ipvs_tcp_fin_timeout,
        udp_timeout=ipvs_udp_timeout,
        load_balancer=load_balancer,
        advertise_address=advertise_address,
        bind_port=bind_port,
        control_plane_endpoint=control_plane_endpoint,
        node_name=node_name,
        cri_socket=cri_socket,
        pod_subnet=pod_subnet,
        service_subnet=service_subnet,
        image_repository=image_repository,
        cluster_name=cluster_name,
        token=token,
        kubelet_config=kubelet_config,
        swap=swap,
        sets=tuple(set_values or ()),
        node_kernel=node_kernel,
        patch=patch,
        migrate=migrate,
        out=out,
    )
    execute(
        "kubeadm-config",
        lambda: library.kubeadm_config(System(root, debug), options, dry_run=dry_run, force=force),
        show,
        json_output=json_output,
        debug=debug,
    )


def show(result: Result) -> None:
    yaml_text = getattr(result, "yaml_text", "")  # a ConfigResult: the YAML holds the token, so it is not in data
    if yaml_text:
        print(yaml_text, end="")
        return
    if "diff" in result.data:
        console.diff(result.data["diff"])
    console.line(result.summary, style="green")
