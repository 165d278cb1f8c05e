"""`k8snode kubeadm-config`: a kubeadm init configuration for the target Kubernetes version.

Each option's flag and help are those of its field of ``k8snode.kubeadm.options.Options`` (``_option``); the
parameters below are those fields, in their order (tests/kubeadm/test_kubeadm_options.py holds the two together).
"""

# No `from __future__ import annotations`: the parameters' annotations are evaluated once, here, where each calls
# _option; Typer would otherwise evaluate their text again each time it builds the command.
from pathlib import Path
from typing import Annotated, Any, Literal, get_type_hints

import typer

from k8snode.commands.common import Debug, DryRun, Force, Json, Root, command_app, execute
from k8snode.core import console
from k8snode.core.result import Result
from k8snode.core.system import System
from k8snode.kubeadm.options import Options, flag_of
from k8snode.node.swap import SwapMode
from k8snode.proxy.modes import LoadBalancer, ProxyMode

ApiVersion = Literal["auto", "v1beta4", "v1beta3", "v1alpha1"]
"""auto, then the names of k8snode.core.releases.KUBEADM_APIS (a test holds them equal)."""

Text = str | None
Texts = list[str] | None


_FLAG_PAIRS = {name for name, kind in get_type_hints(Options).items() if kind == bool | None}


def _option(attribute: str) -> Any:
    """The Typer option of ``Options.<attribute>``: its flag and help; a ``bool | None`` field has a --no- form."""
    flag = flag_of(attribute)
    pair = attribute in _FLAG_PAIRS
    return typer.Option(f"{flag.name}/{flag.negative}" if pair else flag.name, help=flag.help, metavar=flag.metavar)


app = command_app()


@app.command(
    "kubeadm-config",
    epilog="""Examples:

\b
  k8snode kubeadm-config --out /etc/kubernetes/init-config.yaml
  k8snode kubeadm-config --kubernetes-version v1.36.3 --proxy-mode nftables
  k8snode kubeadm-config --lb metallb --pod-subnet 10.244.0.0/16 --kubelet-config
  k8snode kubeadm-config --print-defaults | k8snode kubeadm-config --patch -
  k8snode kubeadm-config --patch kube-proxy.yaml --proxy-mode nftables --dry-run""",
)
def command(
    kubernetes_version: Annotated[Text, _option("kubernetes_version")] = None,
    api_version: Annotated[ApiVersion, _option("api_version")] = "auto",
    patch: Annotated[Text, _option("patch")] = None,
    migrate: Annotated[bool, _option("migrate")] = False,
    proxy_mode: Annotated[ProxyMode | None, _option("proxy_mode")] = None,
    ipvs_scheduler: Annotated[Text, _option("ipvs_scheduler")] = None,
    strict_arp: Annotated[bool | None, _option("strict_arp")] = None,
    exclude_cidrs: Annotated[Texts, _option("exclude_cidrs")] = None,
    sync_period: Annotated[Text, _option("sync_period")] = None,
    min_sync_period: Annotated[Text, _option("min_sync_period")] = None,
    tcp_timeout: Annotated[Text, _option("tcp_timeout")] = None,
    tcp_fin_timeout: Annotated[Text, _option("tcp_fin_timeout")] = None,
    udp_timeout: Annotated[Text, _option("udp_timeout")] = None,
    load_balancer: Annotated[LoadBalancer | None, _option("load_balancer")] = None,
    advertise_address: Annotated[Text, _option("advertise_address")] = None,
    bind_port: Annotated[int | None, _option("bind_port")] = None,
    control_plane_endpoint: Annotated[Text, _option("control_plane_endpoint")] = None,
    node_name: Annotated[Text, _option("node_name")] = None,
    cri_socket: Annotated[Text, _option("cri_socket")] = None,
    pod_subnet: Annotated[Text, _option("pod_subnet")] = None,
    service_subnet: Annotated[Text, _option("service_subnet")] = None,
    image_repository: Annotated[Text, _option("image_repository")] = None,
    cluster_name: Annotated[Text, _option("cluster_name")] = None,
    token: Annotated[Text, _option("token")] = None,
    kubelet_config: Annotated[bool, _option("kubelet_config")] = False,
    swap: Annotated[SwapMode, _option("swap")] = SwapMode.OFF,
    sets: Annotated[Texts, _option("sets")] = None,
    node_kernel: Annotated[Text, _option("node_kernel")] = None,
    out: Annotated[Text, _option("out")] = None,
    print_defaults: Annotated[bool, _option("print_defaults")] = False,
    component_configs: Annotated[Text, _option("component_configs")] = None,
    force: Force = False,
    dry_run: DryRun = False,
    root: Root = Path("/"),
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """Render init-config.yaml for kubeadm, validated.

    InitConfiguration, ClusterConfiguration and a KubeProxyConfiguration (mode ipvs by default), plus a
    KubeletConfiguration with --kubelet-config; or patch an existing file or kube-proxy ConfigMap (--patch).
    Without --out the YAML goes to standard output.
    """
    from k8snode.kubeadm import render as library  # lazy: every other command would pay for its imports

    options = Options(
        kubernetes_version=kubernetes_version,
        api_version=api_version,
        patch=patch,
        migrate=migrate,
        proxy_mode=None if proxy_mode is None else proxy_mode.value,
        ipvs_scheduler=ipvs_scheduler,
        strict_arp=strict_arp,
        exclude_cidrs=tuple(exclude_cidrs or ()),
        sync_period=sync_period,
        min_sync_period=min_sync_period,
        tcp_timeout=tcp_timeout,
        tcp_fin_timeout=tcp_fin_timeout,
        udp_timeout=udp_timeout,
        load_balancer=None if load_balancer is None else load_balancer.value,
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
        sets=tuple(sets or ()),
        node_kernel=node_kernel,
        out=out,
        print_defaults=print_defaults,
        component_configs=component_configs,
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
    if "next" in result.data:
        console.line(f"next: {result.data['next']}")
