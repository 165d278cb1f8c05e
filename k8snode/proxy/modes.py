"""kube-proxy facts every command shares; kept import-light because the CLI's option defaults come from here."""

from k8snode.core.compat import StrEnum
from k8snode.node.requirements import PROXY_MODES as PROXY_MODES
from k8snode.node.requirements import ProxyMode as ProxyMode

# ProxyMode is declared in the node layer, beside what each mode needs from the host; the commands and kubeadm name
# it from here with the rest of kube-proxy's facts.


class LoadBalancer(StrEnum):
    """L2 load balancers that answer ARP for Service addresses: under IPVS they need kube-proxy's strictARP."""

    METALLB = "metallb"
    KUBE_VIP = "kube-vip"


# kube-proxy's nftables mode sits behind the NFTablesProxyMode feature gate: alpha (off by default) in 1.29, beta (on)
# in 1.31, GA (locked on) in 1.33. Source: kubernetes/kubernetes pkg/features/kube_features.go (1.33 on; in 1.31-1.32
# pkg/features/versioned_kube_features.go), and pkg/proxy/apis/config/validation/validation.go, which accepts
# mode nftables only while the gate is on. tests/truth reads the same specs from each built release's source.
NFTABLES_GATE = "NFTablesProxyMode"
NFTABLES_ALPHA = (1, 29)
NFTABLES_BETA = (1, 31)
NFTABLES_GA = (1, 33)


def minor_text(minor: tuple[int, int]) -> str:
    """A minor release as people write it: ``(1, 29)`` is ``1.29``."""
    return ".".join(map(str, minor))


NFTABLES_STAGES = (
    f"alpha in {minor_text(NFTABLES_ALPHA)}, beta in {minor_text(NFTABLES_BETA)}, GA in {minor_text(NFTABLES_GA)}"
)
"""The gate's history, for messages."""
KUBELET_HEALTHZ = "http://127.0.0.1:10248/healthz"
KUBE_PROXY_HEALTHZ = "http://127.0.0.1:10256/healthz"
KUBE_PROXY_METRICS = "http://127.0.0.1:10249"
