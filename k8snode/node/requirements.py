"""What a Kubernetes node needs from its host, per kube-proxy mode and kernel: kernel modules, sysctls and tools.

The one home of these facts: `node check | prepare` (k8snode.prepare.node), `ipvs check | enable`
(k8snode.proxy.ipvs) and `doctor` (k8snode.health.doctor) read them here. Sources: the kubeadm install guide's
prerequisites (overlay, br_netfilter, the bridge-nf-call and forwarding sysctls); kubeadm's preflight
(kubernetes/kubernetes cmd/kubeadm/app/preflight/checks_linux.go: ip, iptables, mount, nsenter); kube-proxy's IPVS
README (pkg/proxy/ipvs/README.md: ip_vs, ip_vs_rr, ip_vs_wrr, ip_vs_sh, nf_conntrack or nf_conntrack_ipv4, and the
ipset and ipvsadm tools); KEP-3866 (nftables mode: nf_tables and nft).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from k8snode.core.compat import StrEnum
from k8snode.core.files import Action
from k8snode.node.kernel import ModuleState

if TYPE_CHECKING:
    from k8snode.node.kernel import Kernel


class ProxyMode(StrEnum):
    """kube-proxy's Linux modes (``kernelspace`` is Windows only; an empty mode means iptables)."""

    IPVS = "ipvs"
    IPTABLES = "iptables"
    NFTABLES = "nftables"


PROXY_MODES = tuple(sorted(mode.value for mode in ProxyMode))


class IpFamily(StrEnum):
    IPV4 = "ipv4"
    IPV6 = "ipv6"
    DUAL = "dual"


NODE_MODULES = ("br_netfilter", "overlay")
"""Every node, whatever the proxy mode: the bridge netfilter hooks and the container runtimes' overlay filesystem."""
MODE_MODULES = {ProxyMode.NFTABLES: ("nf_tables",)}
"""A mode's own modules, persisted with the node's; IPVS mode's set depends on the scheduler and kernel
(``ipvs_modules``) and is `ipvs enable`'s to persist."""
IPVS_BASE_MODULES = ("ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh")
NODE_BINARIES = ("ip", "iptables", "mount", "nsenter")
MODE_BINARIES = {ProxyMode.IPVS: ("ipset", "ipvsadm"), ProxyMode.NFTABLES: ("nft",)}


@dataclass(frozen=True)
class Conntrack:
    """The conntrack module this kernel needs, and the rule and evidence that chose it."""

    module: str
    rule: str
    reason: str


def choose_conntrack(kernel: Kernel) -> Conntrack:
    """nf_conntrack_ipv4 where the kernel still ships it, nf_conntrack where it was merged (4.19, RHEL 8.3)."""
    if kernel.indexed:
        ships_ipv4 = "nf_conntrack_ipv4" in (kernel.shipped or frozenset()) | (kernel.builtin or frozenset())
        where = f"{kernel.module_dir}/modules.dep and modules.builtin"
        if ships_ipv4:
            return Conntrack("nf_conntrack_ipv4", "module-index", f"nf_conntrack_ipv4 is listed in {where}")
        return Conntrack("nf_conntrack", "module-index", f"nf_conntrack_ipv4 is not in {where}")
    version = kernel.version
    if version is not None and version < (4, 19):
        return Conntrack("nf_conntrack_ipv4", "kernel-release", f"no module index; kernel {kernel.release} < 4.19")
    return Conntrack("nf_conntrack", "kernel-release", f"no module index; kernel {kernel.release} is 4.19 or later")


def ipvs_modules(scheduler: str, conntrack: str) -> list[str]:
    """IPVS mode's modules: the base set, the scheduler's module and the conntrack module."""
    extra = [f"ip_vs_{scheduler}"] if f"ip_vs_{scheduler}" not in IPVS_BASE_MODULES else []
    return [*IPVS_BASE_MODULES, *extra, conntrack]


def node_modules(mode: ProxyMode) -> list[str]:
    """The modules `node prepare` persists in its own file: every node's, and the mode's own but IPVS's."""
    return [*NODE_MODULES, *MODE_MODULES.get(mode, ())]


def boot_modules(mode: ProxyMode, scheduler: str, kernel: Kernel) -> list[str]:
    """Every module a node in ``mode`` needs loaded at boot."""
    ipvs = ipvs_modules(scheduler, choose_conntrack(kernel).module) if mode == ProxyMode.IPVS else []
    return [*node_modules(mode), *ipvs]


def sysctls(family: IpFamily = IpFamily.IPV4) -> dict[str, str]:
    """The kernel parameters a node needs, and their values."""
    wanted = {
        "net.ipv4.ip_forward": "1",
        "net.bridge.bridge-nf-call-iptables": "1",
        "net.bridge.bridge-nf-call-ip6tables": "1",
    }
    if family != IpFamily.IPV4:
        wanted["net.ipv6.conf.all.forwarding"] = "1"
    return wanted


def binaries(mode: ProxyMode) -> list[str]:
    """The tools on PATH that kubeadm's preflight and kube-proxy in ``mode`` run."""
    return [*NODE_BINARIES, *MODE_BINARIES.get(mode, ())]


def check_action(state: ModuleState) -> Action:
    """What a check reports for a module: would-load when it is not in the running kernel and the kernel ships it,
    or no module index says it does not (a missing module cannot be loaded); none otherwise."""
    return Action.WOULD_LOAD if not state.present and state != ModuleState.MISSING else Action.NONE
