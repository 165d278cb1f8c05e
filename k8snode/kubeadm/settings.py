"""The kubeadm settings: where each kubeadm-config option lands in the documents, with its check beside it.

``settings()`` turns the options and the target release into (kind, path, value) settings, each with the reason it is
set. Rendering applies them to a skeleton (data/skeletons/, one per kubeadm API), ``--patch`` to the user's
documents, and the kube-proxy ConfigMap patch applies those of KubeProxyConfiguration. The table speaks kubeadm
v1beta3/v1beta4; v1alpha1 (kubeadm 1.10) kept the same values in one MasterConfiguration (``V1ALPHA1_PLACES``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from k8snode.core.durations import duration
from k8snode.core.errors import bad_input
from k8snode.core.networks import cidr_problem
from k8snode.core.releases import KubeadmApi, Release, kubeadm_api, newest_known, parse_release
from k8snode.core.resources import package_text
from k8snode.core.secrets import is_token
from k8snode.core.yamldoc import load_documents
from k8snode.kubeadm.documents import Document, YamlPath, find, leaves, prune, set_at
from k8snode.kubeadm.options import Options, flag_of
from k8snode.kubeadm.sets import split_assignment
from k8snode.kubeadm.validate import (
    CRI_SCHEME,
    DEFAULT_SERVICE_SUBNET,
    LOAD_BALANCERS,
    PLACEHOLDER_ADDRESS,
    cri_endpoint,
    named_version,
    release_problem,
    target_release,
)
from k8snode.node.swap import SwapMode, kubelet_keep_swap
from k8snode.proxy.ipvs import validate_scheduler
from k8snode.proxy.modes import (
    NFTABLES_ALPHA,
    NFTABLES_BETA,
    NFTABLES_GATE,
    NFTABLES_STAGES,
    PROXY_MODES,
    ProxyMode,
    minor_text,
)

INIT = "InitConfiguration"
CLUSTER = "ClusterConfiguration"
KUBE_PROXY = "KubeProxyConfiguration"
KUBELET = "KubeletConfiguration"
MASTER = "MasterConfiguration"
CONTAINERD_SOCKET = "unix:///var/run/containerd/containerd.sock"
CONTAINERD_SOCKET_V1ALPHA1 = "/var/run/containerd/containerd.sock"  # kubeadm 1.10 took a path, not a URL
IPVS_PERIODS = {
    "sync_period": "syncPeriod",
    "min_sync_period": "minSyncPeriod",
    "tcp_timeout": "tcpTimeout",
    "tcp_fin_timeout": "tcpFinTimeout",
    "udp_timeout": "udpTimeout",
}
"""Options fields that are Go durations, and their KubeProxyConfiguration.ipvs keys."""
IPVS_GATE_UNTIL = (1, 10)
"""kube-proxy's IPVS mode needed the SupportIPVSProxyMode gate up to 1.10 (GA in 1.11); a map from 1.10 on (PR
#57962), a "Name=true" string in 1.8 and 1.9."""
V1ALPHA1_PLACES: dict[tuple[str, YamlPath], YamlPath] = {
    (INIT, ("bootstrapTokens", 0, "token")): ("token",),
    (INIT, ("localAPIEndpoint", "advertiseAddress")): ("api", "advertiseAddress"),
    (INIT, ("localAPIEndpoint", "bindPort")): ("api", "bindPort"),
    (INIT, ("nodeRegistration", "criSocket")): ("criSocket",),
    (INIT, ("nodeRegistration", "name")): ("nodeName",),
    (CLUSTER, ("controlPlaneEndpoint",)): ("api", "controlPlaneEndpoint"),
}
"""Where MasterConfiguration keeps what v1beta3/v1beta4 keep elsewhere; the rest of ClusterConfiguration sits at its
root, KubeProxyConfiguration under kubeProxy.config and KubeletConfiguration under kubeletConfiguration.baseConfig."""
V1ALPHA1_PREFIX = {CLUSTER: (), KUBE_PROXY: ("kubeProxy", "config"), KUBELET: ("kubeletConfiguration", "baseConfig")}


class Scope(Enum):
    """The documents a setting applies to."""

    BOTH = "both"
    NEW = "new"
    """Only a document k8snode builds from its skeleton: a default, which a patched file's own value overrides."""
    PATCHED = "patched"
    """Only a document of the user's (--patch)."""


@dataclass(frozen=True)
class Setting:
    kind: str
    path: YamlPath
    value: object
    reason: str
    """Why it is set: the option that gives it, or whose default it is."""
    option: str | None = None
    """The Options field that sets it; None for what k8snode always writes."""
    scope: Scope = Scope.BOTH

    def applies(self, new: bool) -> bool:
        """Whether the setting goes into a new document (``new``) or one of the user's; a value left None in a new
        document is not written, and in the user's it is not touched."""
        if new:
            return self.scope is not Scope.PATCHED
        return self.scope is not Scope.NEW and self.value is not None


@dataclass(frozen=True)
class Table:
    """The settings for one run, and the notes (warnings) that computing them gave."""

    settings: list[Setting]
    notes: list[str] = field(default_factory=list)

    def apply(self, documents: Sequence[object], *, new: bool, kinds: tuple[str, ...] | None = None) -> None:
        """Set each setting in the document of its kind (when there is one); a new document then loses its nulls."""
        for setting in self.settings:
            target = find(documents, setting.kind)
            if target is not None and setting.applies(new) and (kinds is None or setting.kind in kinds):
                set_at(target, setting.path, setting.value)
        if new:
            for document in documents:
                prune(document)

    def options(self, kind: str) -> set[str]:
        """The options whose settings land in ``kind``."""
        return {setting.option for setting in self.settings if setting.kind == kind and setting.option}


def settings(
    options: Options, release: Release, api: KubeadmApi, *, token: str | None = None, address: str | None = None
) -> Table:
    """What each option sets for ``release`` in the documents of ``api``; ``token`` and ``address`` are the ones a
    new InitConfiguration gets (a patched file keeps its own, or k8snode replaces kubeadm's placeholders)."""
    table: list[Setting] = []

    def given(attribute: str, kind: str, path: YamlPath, default: object = None, why: str = "") -> None:
        value = getattr(options, attribute)
        if value is not None and value != ():
            table.append(Setting(kind, path, list(value) if isinstance(value, tuple) else value, _flag(attribute),
                                 attribute))  # fmt: skip
        elif default is not None:
            table.append(Setting(kind, path, default, why or f"{_flag(attribute)}'s default", attribute, Scope.NEW))

    v1alpha1 = api.name == "v1alpha1"
    mode = options.proxy_mode or ProxyMode.IPVS
    table.append(Setting(INIT, ("apiVersion",), api.api_version, f"the kubeadm API of {release}", scope=Scope.NEW))
    table.append(Setting(CLUSTER, ("apiVersion",), api.api_version, f"the kubeadm API of {release}", scope=Scope.NEW))
    if token is not None:
        table.append(Setting(INIT, ("bootstrapTokens", 0, "token"), token, "the bootstrap token", "token", Scope.NEW))
    if address is not None:
        given_by = "advertise_address" if options.advertise_address else None
        why = _flag("advertise_address") if given_by else "the host's primary IPv4 address"
        table.append(Setting(INIT, ("localAPIEndpoint", "advertiseAddress"), address, why, given_by, Scope.NEW))
    table.append(Setting(INIT, ("localAPIEndpoint", "advertiseAddress"), options.advertise_address,
                         _flag("advertise_address"), "advertise_address", Scope.PATCHED))  # fmt: skip
    given("bind_port", INIT, ("localAPIEndpoint", "bindPort"), 6443)
    given("node_name", INIT, ("nodeRegistration", "name"))
    notes: list[str] = []
    endpoint = cri_endpoint(options.cri_socket) if options.cri_socket and not v1alpha1 else None  # 1.10 took a path
    if endpoint is not None:
        table.append(Setting(INIT, ("nodeRegistration", "criSocket"), endpoint, _flag("cri_socket"), "cri_socket"))
        notes.append(
            f"--cri-socket {options.cri_socket}: written as {endpoint}; kubeadm deprecates CRI endpoints without URL "
            f"scheme and prepends {CRI_SCHEME}:// itself"
        )
    else:
        given("cri_socket", INIT, ("nodeRegistration", "criSocket"),
              CONTAINERD_SOCKET_V1ALPHA1 if v1alpha1 else CONTAINERD_SOCKET, "containerd's socket")  # fmt: skip
    why = _flag("kubernetes_version") if options.kubernetes_version else "the newest release k8snode knows"
    table.append(Setting(CLUSTER, ("kubernetesVersion",), str(release), why, "kubernetes_version", Scope.NEW))
    table.append(Setting(CLUSTER, ("kubernetesVersion",), options.kubernetes_version, _flag("kubernetes_version"),
                         "kubernetes_version", Scope.PATCHED))  # fmt: skip
    given("control_plane_endpoint", CLUSTER, ("controlPlaneEndpoint",))
    given("pod_subnet", CLUSTER, ("networking", "podSubnet"))
    given("service_subnet", CLUSTER, ("networking", "serviceSubnet"), DEFAULT_SERVICE_SUBNET)
    given("image_repository", CLUSTER, ("imageRepository",), "k8s.gcr.io" if v1alpha1 else "registry.k8s.io")
    given("cluster_name", CLUSTER, ("clusterName",), "kubernetes")
    why = _flag("proxy_mode") if options.proxy_mode else "k8snode's default"
    table.append(Setting(KUBE_PROXY, ("mode",), str(mode), why, "proxy_mode"))
    given("pod_subnet", KUBE_PROXY, ("clusterCIDR",))
    ipvs = mode == ProxyMode.IPVS  # the defaults of the ipvs block go only where kube-proxy reads it
    given("ipvs_scheduler", KUBE_PROXY, ("ipvs", "scheduler"), "rr" if ipvs else None, "kube-proxy's default")
    table += _strict_arp(options, v1alpha1, ipvs)
    given("exclude_cidrs", KUBE_PROXY, ("ipvs", "excludeCIDRs"))
    for attribute, key in IPVS_PERIODS.items():
        given(attribute, KUBE_PROXY, ("ipvs", key))
    if ipvs and v1alpha1:
        table.append(_ipvs_gate(release))
    if not ipvs:
        table.append(Setting(KUBE_PROXY, ("ipvs",), None, f"only IPVS mode reads it, not {mode}", scope=Scope.NEW))
    for gate, on in proxy_feature_gates(options, release).items():
        why = f"{_flag('proxy_mode')} {mode} on kube-proxy {release}"
        table.append(Setting(KUBE_PROXY, ("featureGates", gate), on, why, "proxy_mode"))
    if options.kubelet_config:
        table.append(Setting(KUBELET, ("cgroupDriver",), "systemd", "kubeadm's cgroup driver", "kubelet_config"))
        table.append(Setting(KUBELET, ("staticPodPath",), "/etc/kubernetes/manifests",
                             "kubeadm's static pod directory", "kubelet_config"))  # fmt: skip
    if options.swap == SwapMode.KEEP:
        fields, swap_notes = kubelet_keep_swap(release.minor_version)
        notes += swap_notes
        table += [Setting(KUBELET, path, value, "--swap keep", "swap") for path, value in leaves(fields)]
    table = [setting for setting in table if setting.value is not None or setting.scope is Scope.NEW]
    return Table([_placed(setting) for setting in table] if v1alpha1 else table, notes)


def _placed(setting: Setting) -> Setting:
    """The setting where v1alpha1's MasterConfiguration keeps it."""
    path = V1ALPHA1_PLACES.get((setting.kind, setting.path))
    if path is None:
        path = (*V1ALPHA1_PREFIX.get(setting.kind, ()), *setting.path)
    return Setting(MASTER, path, setting.value, setting.reason, setting.option, setting.scope)


def _flag(attribute: str) -> str:
    return flag_of(attribute).name


def _strict_arp(options: Options, v1alpha1: bool, ipvs: bool) -> list[Setting]:
    """strictARP as given, or on when an L2 load balancer runs under IPVS; a new v1beta document in IPVS mode says
    false. kube-proxy 1.10 had no strictARP (1.16 added it): v1alpha1 gets it only when asked for, as before."""
    value = strict_arp(options)
    if options.load_balancer is not None and value:
        why = f"{options.load_balancer} in L2 mode under IPVS needs it"
        return [Setting(KUBE_PROXY, ("ipvs", "strictARP"), True, why, "load_balancer")]
    if value is not None and (value or not v1alpha1):
        return [Setting(KUBE_PROXY, ("ipvs", "strictARP"), value, _flag("strict_arp"), "strict_arp")]
    if v1alpha1 or not ipvs:
        return []
    return [Setting(KUBE_PROXY, ("ipvs", "strictARP"), False, "kube-proxy's default", "strict_arp", Scope.NEW)]


def strict_arp(options: Options) -> bool | None:
    """strictARP as given, or on when an L2 load balancer runs under IPVS (render and patch alike)."""
    if options.load_balancer is None or (options.proxy_mode or ProxyMode.IPVS) != ProxyMode.IPVS:
        return options.strict_arp
    if options.strict_arp is False:
        raise bad_input(f"--lb {options.load_balancer} in L2 mode under IPVS needs strictARP: drop --no-strict-arp")
    return True


def proxy_feature_gates(options: Options, release: Release) -> dict[str, bool]:
    """The kube-proxy feature gates the proxy mode needs on ``release``; nftables before its alpha is bad input."""
    if options.proxy_mode != ProxyMode.NFTABLES:
        return {}
    if release.minor_version < NFTABLES_ALPHA:
        raise bad_input(
            f"--proxy-mode nftables needs Kubernetes {minor_text(NFTABLES_ALPHA)} or later (kube-proxy's "
            f"{NFTABLES_GATE} gate: {NFTABLES_STAGES}); kube-proxy {release} has ipvs and iptables"
        )
    return {NFTABLES_GATE: True} if release.minor_version < NFTABLES_BETA else {}


def _ipvs_gate(release: Release) -> Setting:
    why = f"IPVS mode of kube-proxy {release} needs the SupportIPVSProxyMode gate (GA in 1.11)"
    if release.minor_version >= IPVS_GATE_UNTIL:
        return Setting(KUBE_PROXY, ("featureGates", "SupportIPVSProxyMode"), True, why, scope=Scope.NEW)
    return Setting(KUBE_PROXY, ("featureGates",), "SupportIPVSProxyMode=true", why, scope=Scope.NEW)


def release_for(options: Options, documents: list[object] | None, warnings: list[str]) -> Release:
    """The target release: --kubernetes-version, else the one the --patch file names, else the newest k8snode knows."""
    if options.kubernetes_version:
        release = parse_release(options.kubernetes_version)
    elif documents:
        named = target_release(documents)
        if named is None:
            problem = release_problem(str(named_version(documents)))
            raise bad_input(
                f"--patch {options.patch}: kubernetesVersion {problem}; correct it or give --kubernetes-version"
            )
        release = named
    else:
        release = newest_known()
    if release > newest_known():
        warnings.append(
            f"Kubernetes {release} is newer than the newest release k8snode knows ({newest_known()}); "
            "rendering with the newest kubeadm API"
        )
    return release


def target_note(options: Options, documents: list[object], release: Release) -> list[str]:
    """Say so when the --patch file's kubernetesVersion, not the newest release, is the target."""
    if options.kubernetes_version or release == newest_known():
        return []
    return [
        f"--patch {options.patch} targets Kubernetes {release} (its kubernetesVersion {named_version(documents)}), "
        f"not {newest_known()}; pass --kubernetes-version to target another release"
    ]


def skeleton(api: KubeadmApi) -> list[Document]:
    """The documents of data/skeletons/ for ``api``: v1beta3 shares v1beta4's (its settings set the apiVersion)."""
    name = "v1alpha1" if api.name == "v1alpha1" else "v1beta4"
    text = package_text("kubeadm", "data", "skeletons", f"{name}.yaml").partition("\n")[2]  # without its comment
    return load_documents(text, f"data/skeletons/{name}.yaml")


# The checks of the options, beside the table: bad input found before anything is read or written. One per option
# (and the one that weighs the ipvs options against the mode), in the order they run.


def check_options(options: Options) -> None:
    _check_characters(options)
    for _option, check in CHECKS:
        check(options)


def _check_characters(options: Options) -> None:
    """Values become YAML scalars and words of the header: a control character or a line separator (U+0085,
    U+2028, U+2029, which YAML readers take as line breaks) in one could inject a key; refuse them."""
    for name, value in vars(options).items():
        if name in ("out", "patch"):  # file names: core.system.check_name decides, and the header escapes them
            continue
        for text in value if isinstance(value, tuple) else (value,):
            if isinstance(text, str) and not text.isprintable():
                bad = next(c for c in text if not c.isprintable())
                raise bad_input(f"{_flag(name)} holds the character {bad!r}; values must not hold control characters")


def ip_address(text: str, option: str) -> str:
    """``text`` as an IP address (normalised); kubeadm's placeholder 1.2.3.4 is refused."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise bad_input(f"{option} {text!r} is not an IP address") from None
    if str(address) == PLACEHOLDER_ADDRESS:
        raise bad_input(f"{option} 1.2.3.4 is kubeadm's placeholder; give the host's real address")
    return str(address)


def _one_of(attribute: str, known: tuple[str, ...]) -> Callable[[Options], None]:
    def check(options: Options) -> None:
        value = getattr(options, attribute)
        if value is not None and value not in known:
            raise bad_input(f"{_flag(attribute)} {value!r} is not known; use one of {', '.join(known)}")

    return check


def _duration(attribute: str) -> Callable[[Options], None]:
    def check(options: Options) -> None:
        value = getattr(options, attribute)
        if value is not None:
            duration(value, _flag(attribute))

    return check


def _cidr(attribute: str) -> Callable[[Options], None]:
    def check(options: Options) -> None:
        value = getattr(options, attribute)
        problem = cidr_problem(value) if value is not None else None
        if problem:
            raise bad_input(f"{_flag(attribute)}: {problem}")

    return check


def _check_version(options: Options) -> None:
    if options.kubernetes_version is not None:
        parse_release(options.kubernetes_version)


def _check_api(options: Options) -> None:
    if options.api_version != "auto":
        kubeadm_api(options.api_version)


def _check_swap(options: Options) -> None:
    if options.swap == SwapMode.KEEP and not options.kubelet_config:
        raise bad_input("--swap keep sets fields of the KubeletConfiguration: add --kubelet-config")


def _check_token(options: Options) -> None:
    if options.token is not None and not is_token(options.token):
        raise bad_input("--token is not a bootstrap token; use the form [a-z0-9]{6}.[a-z0-9]{16}")


def _check_scheduler(options: Options) -> None:
    if options.ipvs_scheduler is not None:
        validate_scheduler(options.ipvs_scheduler)


def _check_excluded(options: Options) -> None:
    for cidr in options.exclude_cidrs:
        problem = cidr_problem(cidr, dual_stack=False)
        if problem:
            raise bad_input(f"--exclude-cidr: {problem}")


def _check_address(options: Options) -> None:
    if options.advertise_address is not None:
        ip_address(options.advertise_address, "--advertise-address")


def _check_port(options: Options) -> None:
    if options.bind_port is not None and not 1 <= options.bind_port <= 65535:
        raise bad_input(f"--bind-port {options.bind_port} is not a TCP port; use 1-65535")


def _check_ipvs_mode(options: Options) -> None:
    ipvs_given = (
        options.ipvs_scheduler
        or options.strict_arp
        or options.exclude_cidrs
        or any(getattr(options, attribute) for attribute in IPVS_PERIODS)
    )
    if ipvs_given and options.proxy_mode not in (None, ProxyMode.IPVS):
        raise bad_input(
            f"the --ipvs-* options, --strict-arp and --exclude-cidr need --proxy-mode ipvs, not {options.proxy_mode}"
        )


def _check_migrate(options: Options) -> None:
    if options.migrate and not options.patch:
        raise bad_input("--migrate converts a file given with --patch; add --patch FILE")


def _check_sets(options: Options) -> None:
    for assignment in options.sets:
        split_assignment(assignment)


CHECKS: tuple[tuple[str, Callable[[Options], None]], ...] = (
    ("kubernetes_version", _check_version),
    ("api_version", _check_api),
    ("swap", _check_swap),
    ("token", _check_token),
    ("proxy_mode", _one_of("proxy_mode", PROXY_MODES)),
    ("load_balancer", _one_of("load_balancer", LOAD_BALANCERS)),
    ("ipvs_scheduler", _check_scheduler),
    *((attribute, _duration(attribute)) for attribute in IPVS_PERIODS),
    ("pod_subnet", _cidr("pod_subnet")),
    ("service_subnet", _cidr("service_subnet")),
    ("exclude_cidrs", _check_excluded),
    ("advertise_address", _check_address),
    ("bind_port", _check_port),
    ("proxy_mode", _check_ipvs_mode),
    ("migrate", _check_migrate),
    ("sets", _check_sets),
)
"""Each option's check (the option it checks, then the check)."""
