"""kube-proxy facts every command shares; kept import-light because the CLI's option defaults come from here."""

from k8snode.core.compat import StrEnum


class ProxyMode(StrEnum):
    """kube-proxy's Linux modes (``kernelspace`` is Windows only; an empty mode means iptables)."""

    IPVS = "ipvs"
    IPTABLES = "iptables"
    NFTABLES = "nftables"


PROXY_MODES = tuple(sorted(mode.value for mode in ProxyMode))
KUBELET_HEALTHZ = "http://127.0.0.1:10248/healthz"
KUBE_PROXY_HEALTHZ = "http://127.0.0.1:10256/healthz"
KUBE_PROXY_METRICS = "http://127.0.0.1:10249"
