"""The kubeadm-config options, declared once.

Each field of ``Options`` carries its flag and help. The Typer command's parameters
(k8snode/commands/kubeadm_config.py) and the canonical command line in the written file's header
(``Options.command_line``) both follow from these fields, in this order. Import-light: the CLI builds its
parameters from this module at start-up.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field, fields
from typing import Any

from k8snode.core.secrets import REDACTED, redact
from k8snode.core.versions import NEWEST_KUBERNETES
from k8snode.node.swap import SwapMode


@dataclass(frozen=True)
class Flag:
    """How an option is spelled and explained; a ``bool | None`` field also gets its ``--no-`` form."""

    name: str
    help: str
    metavar: str | None = None
    secret: bool = False
    """Redacted in the canonical command line."""
    canonical: bool = True
    """Part of the canonical command line of a written file (options that write no file are not)."""

    @property
    def negative(self) -> str:
        return f"--no-{self.name.removeprefix('--')}"


def _option(name: str, help: str, default: Any = None, **details: Any) -> Any:
    return field(default=default, repr=not details.get("secret", False), metadata={"flag": Flag(name, help, **details)})


@dataclass(frozen=True)
class Options:
    """The command's options; None means "not given" (a default applies, or a patched file keeps its value)."""

    kubernetes_version: str | None = _option(
        "--kubernetes-version", f"Target release (default {NEWEST_KUBERNETES}).", metavar="vX.Y.Z"
    )
    api_version: str = _option("--api-version", "kubeadm API: auto, v1beta4, v1beta3 or v1alpha1.", "auto")
    patch: str | None = _option(
        "--patch",
        "Start from this kubeadm config (comments and order kept), or edit the kube-proxy or kubeadm-config "
        "ConfigMap as kubectl prints it; - reads standard input.",
    )
    migrate: bool = _option("--migrate", "Convert a v1beta3 --patch file to v1beta4.", False)
    proxy_mode: str | None = _option("--proxy-mode", "kube-proxy mode: ipvs (default), iptables or nftables.")
    ipvs_scheduler: str | None = _option("--ipvs-scheduler", "IPVS scheduler (default rr).")
    strict_arp: bool | None = _option("--strict-arp", "Set ipvs.strictARP.")
    exclude_cidrs: tuple[str, ...] = _option("--exclude-cidr", "ipvs.excludeCIDRs entry (repeatable).", ())
    sync_period: str | None = _option("--ipvs-sync-period", "Go duration.")
    min_sync_period: str | None = _option("--ipvs-min-sync-period", "Go duration.")
    tcp_timeout: str | None = _option("--ipvs-tcp-timeout", "Go duration.")
    tcp_fin_timeout: str | None = _option("--ipvs-tcp-fin-timeout", "Go duration.")
    udp_timeout: str | None = _option("--ipvs-udp-timeout", "Go duration.")
    load_balancer: str | None = _option(
        "--lb", "L2 load balancer (metallb or kube-vip): turns on strictARP under IPVS."
    )
    advertise_address: str | None = _option(
        "--advertise-address", "API server address (default: the host's primary IPv4)."
    )
    bind_port: int | None = _option("--bind-port", "API server port (default 6443).")
    control_plane_endpoint: str | None = _option("--control-plane-endpoint", "Stable address of the control plane.")
    node_name: str | None = _option("--node-name", "Node name (default: the hostname).")
    cri_socket: str | None = _option("--cri-socket", "CRI socket (default: containerd's).")
    pod_subnet: str | None = _option("--pod-subnet", "Pod CIDR(s), dual stack allowed; also kube-proxy clusterCIDR.")
    service_subnet: str | None = _option("--service-subnet", "Service CIDR(s) (default 10.96.0.0/12).")
    image_repository: str | None = _option("--image-repository", "Registry.")
    cluster_name: str | None = _option("--cluster-name", "Cluster name.")
    token: str | None = _option(
        "--token",
        "Bootstrap token: 6, a dot, 16 lower-case letters or digits (default: reused from --out, else random).",
        secret=True,
    )
    kubelet_config: bool = _option("--kubelet-config", "Also emit a KubeletConfiguration (systemd cgroups).", False)
    swap: SwapMode = _option(  # noqa: RUF009 - the default is an enum member, immutable like the others
        "--swap",
        "keep (with --kubelet-config): the node keeps swap on, so failSwapOn false and, from 1.30, "
        "memorySwap.swapBehavior NoSwap.",
        SwapMode.OFF,
    )
    sets: tuple[str, ...] = _option(
        "--set",
        "Kind.field.path=VALUE, checked against the schema (repeatable); quote a map key that holds dots: "
        'KubeletConfiguration.evictionHard."memory.available"=200Mi.',
        (),
    )
    node_kernel: str | None = _option("--node-kernel", "The node's kernel release (default: this host's).")
    out: str | None = _option("--out", "Write here (mode 0600); - or no --out: standard output.")
    print_defaults: bool = _option(
        "--print-defaults",
        "Print kubeadm's init defaults of the target release (as `kubeadm config print init-defaults`).",
        False,
        canonical=False,
    )
    component_configs: str | None = _option(
        "--component-configs",
        "With --print-defaults: also KubeProxyConfiguration and/or KubeletConfiguration (comma-separated).",
        canonical=False,
    )

    def command_line(self) -> str:
        """The canonical command that writes this file: each option given, in declaration order, secrets redacted."""
        words = ["k8snode", "kubeadm-config"]
        for item in fields(self):
            flag, value = flag_of(item.name), getattr(self, item.name)
            if not flag.canonical or value == item.default or value == "":
                continue
            if isinstance(value, bool):
                words.append(flag.name if value else flag.negative)
            elif isinstance(value, tuple):
                words += [word for entry in value for word in (flag.name, entry)]
            else:
                words += [flag.name, REDACTED if flag.secret else str(value)]
        # Shell-quoted, and every token-shaped value redacted whatever option it came through (--set too).
        return redact(" ".join(word if word == REDACTED else shlex.quote(word) for word in words))


def flag_of(attribute: str) -> Flag:
    """The flag that sets ``Options.<attribute>``."""
    flag: Flag = next(item for item in fields(Options) if item.name == attribute).metadata["flag"]
    return flag
