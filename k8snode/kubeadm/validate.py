"""Offline validation of kubeadm configuration files: schemas, values, and checks across documents."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from k8snode.core import schema
from k8snode.core.errors import ExitCode, bad_input
from k8snode.core.heartbeat import Kubelet, check_heartbeats
from k8snode.core.names import is_dns_subdomain, registered_node_name
from k8snode.core.networks import cidr_problem, parse_networks
from k8snode.core.releases import KUBEADM_APIS, Release, kubeadm_api, newest_known, parse_release
from k8snode.core.result import Result
from k8snode.core.schema import Problem
from k8snode.core.secrets import PLACEHOLDER_TOKEN, is_token
from k8snode.core.system import STDIO, System
from k8snode.core.versions import NFTABLES_MIN_KERNEL, kernel_version, parse_kubernetes_version, version_problem
from k8snode.core.yamldoc import MAX_CONFIG_BYTES, decode_text, load_documents
from k8snode.kubeadm.documents import Document, YamlPath, extra_arg, value_at
from k8snode.kubeadm.gates import COMPONENT_GATES, known_gates, listed_minors, minor_of
from k8snode.proxy.ipvs import SCHEDULERS
from k8snode.proxy.modes import NFTABLES_ALPHA, NFTABLES_BETA, NFTABLES_GATE, PROXY_MODES, LoadBalancer, minor_text

KUBEADM_GROUP = "kubeadm.k8s.io"
PLACEHOLDER_ADDRESS = "1.2.3.4"
SCHEDULERS_BEFORE_1_27 = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "sh", "dh", "sed", "nq")
LOAD_BALANCERS = tuple(lb.value for lb in LoadBalancer)
# kubeadm's defaults for ClusterConfiguration.networking (cmd/kubeadm/app/apis/kubeadm/v1beta4/defaults.go).
DEFAULT_DNS_DOMAIN = "cluster.local"
DEFAULT_SERVICE_SUBNET = "10.96.0.0/12"
# kubeadm's ValidateServiceSubnetSize (constants.MaximumBitsForServiceSubnet), the same limit kube-apiserver keeps.
MAX_SERVICE_SUBNET_HOST_BITS = 20
# Kinds kubeadm reads (new in v1beta4: cmd/kubeadm/app/apis/kubeadm/v1beta4/doc.go) that k8snode has no schema for:
# reported, not checked.
UNCHECKED_KINDS = {("kubeadm.k8s.io/v1beta4", "ResetConfiguration"), ("kubeadm.k8s.io/v1beta4", "UpgradeConfiguration")}
STDIN_NAME = "standard input"
EMPTY_CONFIG = (
    "holds no YAML document (empty, or only comments): a kubeadm configuration needs at least an InitConfiguration "
    "or ClusterConfiguration"
)
RELEASE_LABELS = ("stable", "latest", "ci/")  # kubeadm resolves these online; offline k8snode cannot
CRI_SCHEME = "unix"  # kubeadm's DefaultContainerRuntimeURLScheme on Linux (apis/kubeadm/v1beta4/defaults_unix.go)


@dataclass(frozen=True)
class Context:
    """What validation knows besides the file: the target release, an L2 load balancer, the node's kernel."""

    release: Release
    load_balancer: str | None = None
    node_kernel: str | None = None
    release_known: bool = True
    """False when the file names a bad kubernetesVersion: ``release`` is then a guess, and the kubeadm API is not
    checked against it (the version itself is the problem reported)."""


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)

    def messages(self) -> list[str]:
        return [str(problem) for problem in self.problems]


@dataclass(frozen=True)
class _Located:
    """A document, the path that names it in messages, and where in it kube-proxy's settings sit."""

    document: Document
    name: str
    proxy_path: YamlPath | None = None


def validate_file(
    system: System, target: str, kubernetes_version: str | None, load_balancer: str | None, node_kernel: str | None
) -> Result:
    path, text = read_config(system, target, "FILE")
    if load_balancer is not None and load_balancer not in LOAD_BALANCERS:
        raise bad_input(f"--lb {load_balancer!r} is not known; use one of {', '.join(LOAD_BALANCERS)}")
    documents = load_documents(text, str(path))
    release = parse_release(kubernetes_version) if kubernetes_version else target_release(documents)
    context = Context(release or newest_known(), load_balancer, node_kernel, release_known=release is not None)
    report = validate_documents(documents, context)
    problems = report.messages()
    return Result(
        "validate",
        {
            "path": str(path),
            "kubernetes_version": str(release),
            "documents": report.kinds,
            "problems": problems,
        },
        warnings=report.warnings,
        exit_code=ExitCode.DRIFT if problems else ExitCode.OK,
        summary=f"{path}: {len(problems)} problem(s)" if problems else f"{path} is valid for Kubernetes {release}",
    )


def read_config(system: System, target: str, option: str) -> tuple[str, str]:
    """The name messages give a configuration to read, and its text: UTF-8, at most 1 MiB.

    ``-`` is standard input, held to the same size limit as a file; any other name is read by
    ``System.read_input`` (a relative name is the operator's own file; links are read; only regular files).
    """
    if target == STDIO:
        return STDIN_NAME, decode_text(system.read_stdin(MAX_CONFIG_BYTES, option), STDIN_NAME)
    label = "" if option == "FILE" else f"{option} "
    path, data = system.read_input(target, label, MAX_CONFIG_BYTES)
    return path, decode_text(data, f"{label}{path}")


def target_release(documents: Sequence[object]) -> Release | None:
    """The release the file names (ClusterConfiguration or MasterConfiguration), else the newest k8snode knows;
    None when the file names one that is not a Kubernetes version (``release_problem`` says why)."""
    version = named_version(documents)
    return newest_known() if version is None else parse_kubernetes_version(version)


def named_version(documents: Sequence[object]) -> str | None:
    """The kubernetesVersion the file gives, unless it is a label kubeadm resolves online (stable-1, latest)."""
    for document in documents:
        if isinstance(document, dict) and document.get("kind") in ("ClusterConfiguration", "MasterConfiguration"):
            version = document.get("kubernetesVersion")
            if isinstance(version, str) and version and not version.startswith(RELEASE_LABELS):
                return version
    return None


def release_problem(version: str) -> str:
    """Why a kubernetesVersion is bad, and the version meant when that can be told."""
    why = version_problem(version)
    return f"{version!r} is not a Kubernetes version" + (f": {why}" if why else "")


def validate_documents(documents: Sequence[object], context: Context) -> Report:
    report = Report()
    if not documents:
        report.problems.append(Problem("file", EMPTY_CONFIG))
    located = []
    for index, document in enumerate(documents, start=1):
        item = _validate_document(document, index, context, report)
        if item is not None:
            located.append(item)
    _check_across(located, context, report)
    report.problems.sort(key=lambda problem: problem.line or 0)  # in file order; those without a line first
    return report


def _validate_document(document: object, index: int, context: Context, report: Report) -> _Located | None:
    if not isinstance(document, dict):
        report.problems.append(Problem(f"document {index}", "is not a mapping"))
        return None
    api_version, kind = document.get("apiVersion"), document.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        report.problems.append(Problem(f"document {index}", "needs string apiVersion and kind fields"))
        return None
    report.kinds.append(kind)
    found = schema.load(api_version, kind)
    if found is None and (api_version, kind) in UNCHECKED_KINDS:
        report.warnings.append(f"{kind} ({api_version}) is not checked: k8snode has no schema for it")
        return None
    if found is None:
        report.problems.append(Problem(kind, _unknown_kind(api_version, kind)))
        return None
    if api_version.startswith(f"{KUBEADM_GROUP}/") and context.release_known:
        _check_kubeadm_api(document, kind, context.release, report)
    report.problems.extend(schema.check(document, {"type": "object", "fields": found.fields}, kind, 1))
    checks = _VALUE_CHECKS.get(kind, [])
    for check in checks:
        check(document, kind, report)
    if kind == "ClusterConfiguration" and context.release_known:
        _check_kubeadm_gates(document, kind, context.release, report)
    if kind in COMPONENTS and context.release_known:
        _check_component_gates(document, kind, context.release, report)
    proxy_path: YamlPath | None = None
    if kind == "KubeProxyConfiguration":
        proxy_path = ()
    elif kind == "MasterConfiguration" and isinstance(value_at(document, ("kubeProxy", "config")), dict):
        proxy_path = ("kubeProxy", "config")
    if proxy_path is not None:
        _check_proxy(document, proxy_path, kind, context, report)
    return _Located(document, kind, proxy_path)


def _unknown_kind(api_version: str, kind: str) -> str:
    versions = [api for api, known in schema.known_kinds() if known == kind]
    if versions:
        return f"apiVersion {api_version} is not one k8snode knows for {kind}; use {' or '.join(versions)}"
    kinds = sorted({known for _, known in schema.known_kinds()})
    return f"kind {kind} ({api_version}) is not one k8snode knows{schema.did_you_mean(kind, kinds)}"


def _check_kubeadm_api(document: Document, kind: str, release: Release, report: Report) -> None:
    api = kubeadm_api(str(document["apiVersion"]))  # a string: _validate_document checked it
    if api.serves(release):
        if api is not KUBEADM_APIS[0] and release.minor_version >= (1, 31):
            report.warnings.append(f"{kind}: {api.api_version} is deprecated since 1.31; convert it with --migrate")
        return
    if api.last is not None and release.minor_version > api.last:
        hint = "; convert it with: k8snode kubeadm-config --patch FILE --migrate" if api.name == "v1beta3" else ""
        reason = f"{api.removed_because}{hint}"
    else:
        reason = "kubeadm reads it from " + ".".join(map(str, api.first)) + " on"
    message = f"{api.api_version} does not work with Kubernetes {release}: {reason}"
    _problem(report, document, kind, ("apiVersion",), message)


def _line(document: Document, path: YamlPath) -> int | None:
    """The 1-based line of the key (or list item) at ``path``, when the document came from a file."""
    parent: Any = value_at(document, path[:-1]) if path else None
    try:
        where = parent.lc.item(path[-1]) if isinstance(path[-1], int) else parent.lc.key(path[-1])
        return int(where[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return None


def _dotted(kind: str, path: YamlPath) -> str:
    return kind + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


def _problem(report: Report, document: Document, kind: str, path: YamlPath, message: str) -> None:
    report.problems.append(Problem(_dotted(kind, path), message, _line(document, path)))


def _check_token(document: Document, kind: str, path: YamlPath, token: object, report: Report) -> None:
    if not isinstance(token, str):
        return
    if token == PLACEHOLDER_TOKEN:
        report.warnings.append(f"{_dotted(kind, path)} is the well-known placeholder token; replace it")
    elif not is_token(token):
        _problem(report, document, kind, path, "is not a bootstrap token of the form [a-z0-9]{6}.[a-z0-9]{16}")


def _check_address(document: Document, kind: str, path: YamlPath, report: Report) -> None:
    address = value_at(document, path)
    if not isinstance(address, str) or not address:
        return
    if address == PLACEHOLDER_ADDRESS:
        report.warnings.append(f"{_dotted(kind, path)} is the placeholder 1.2.3.4; set the host's address")
        return
    try:
        ipaddress.ip_address(address)
    except ValueError:
        _problem(report, document, kind, path, f"{address!r} is not an IP address")


def _check_port(document: Document, kind: str, path: YamlPath, report: Report) -> None:
    port = value_at(document, path)
    if isinstance(port, int) and not isinstance(port, bool) and not 1 <= port <= 65535:
        _problem(report, document, kind, path, f"{port} is not a TCP port (1-65535)")


def _check_cidrs(document: Document, kind: str, path: YamlPath, report: Report) -> None:
    value = value_at(document, path)
    if isinstance(value, str) and value:
        message = cidr_problem(value)
        if message:
            _problem(report, document, kind, path, message)


def _check_init(document: Document, kind: str, report: Report) -> None:
    tokens = document.get("bootstrapTokens")
    for index, token in enumerate(tokens if isinstance(tokens, list) else []):
        if isinstance(token, dict):
            _check_token(document, kind, ("bootstrapTokens", index, "token"), token.get("token"), report)
    _check_address(document, kind, ("localAPIEndpoint", "advertiseAddress"), report)
    _check_port(document, kind, ("localAPIEndpoint", "bindPort"), report)
    _check_cri_socket(document, kind, report)
    _check_node_name(document, kind, report)


def _check_node_name(document: Document, kind: str, report: Report) -> None:
    """kubeadm requires a DNS-1123 subdomain of the node name, after lowercasing it (as the node registers)."""
    path = ("nodeRegistration", "name")
    name = value_at(document, path)
    if not isinstance(name, str) or not name:
        return
    registered = registered_node_name(name)
    if not is_dns_subdomain(registered):
        message = f"{name!r} is not a valid node name: use letters, digits, '-' and '.' (a DNS-1123 subdomain)"
        _problem(report, document, kind, path, message)
    elif registered != name:
        report.warnings.append(
            f"{_dotted(kind, path)} {name!r}: kubeadm lowercases the node name, so the node registers as "
            f"{registered!r} (system:node:{registered})"
        )


def cri_endpoint(socket: str) -> str | None:
    """The endpoint kubeadm uses for a criSocket without URL scheme; None when it has one.

    cmd/kubeadm/app/util/config/initconfiguration.go (SetNodeRegistrationDynamicDefaults), as kubeadm tells it: a
    criSocket that does not start with "unix" gets "unix://" prepended, with a warning.
    """
    return None if socket.startswith(CRI_SCHEME) else f"{CRI_SCHEME}://{socket}"


def _check_cri_socket(document: Document, kind: str, report: Report) -> None:
    socket = value_at(document, ("nodeRegistration", "criSocket"))
    endpoint = cri_endpoint(socket) if isinstance(socket, str) and socket else None
    if endpoint is not None:
        report.warnings.append(
            f"{_dotted(kind, ('nodeRegistration', 'criSocket'))} {socket!r}: usage of CRI endpoints without URL "
            f"scheme is deprecated and can cause kubelet errors in the future (kubeadm prepends {CRI_SCHEME}:// "
            f"and warns); write {endpoint!r}"
        )


def _check_join(document: Document, kind: str, report: Report) -> None:
    _check_cri_socket(document, kind, report)
    _check_node_name(document, kind, report)


def _check_cluster(document: Document, kind: str, report: Report) -> None:
    _check_networking(document, kind, report)
    _check_release_field(document, kind, report)


def _check_kubeadm_gates(document: Document, kind: str, release: Release, report: Report) -> None:
    """featureGates against kubeadm's gates of the release (validation.ValidateFeatureGates refuses other names);
    a deprecated gate, or one locked to its default, is a warning. Without a list for the release: not checked."""
    gates = document.get("featureGates")
    if not isinstance(gates, dict) or not gates:
        return
    known = known_gates(release)
    minor = minor_of(release)
    if known is None:
        report.warnings.append(
            f"{kind}.featureGates are not checked: k8snode has kubeadm's feature gates of "
            f"{', '.join(listed_minors())}, not of {minor}"
        )
        return
    for name in gates:
        gate = known.get(str(name))
        path = ("featureGates", name)
        if gate is None:
            names = ", ".join(sorted(known)) or "none"
            message = (
                f"kubeadm {minor} has no feature gate {name!r} (it refuses it: not a valid feature name); its gates: "
                f"{names}{schema.did_you_mean(str(name), list(known))}"
            )
            _problem(report, document, kind, path, message)
        elif gate.is_deprecated:
            why = f": {gate.deprecated}" if gate.deprecated else ""
            report.warnings.append(f"{_dotted(kind, path)} is deprecated in kubeadm {minor}{why}")
        elif gate.locked:
            report.warnings.append(
                f"{_dotted(kind, path)} is locked to its default ({str(gate.default).lower()}) in kubeadm {minor}: "
                "the gate is on its way out, and a kubeadm that no longer has it refuses the file; drop it"
            )


COMPONENTS = {"KubeletConfiguration": "kubelet", "KubeProxyConfiguration": "kube-proxy"}


def _check_component_gates(document: Document, kind: str, release: Release, report: Report) -> None:
    """featureGates against the gates the kubelet and kube-proxy of the release know. Both apply them with
    component-base's featuregate SetFromMap, which refuses an unknown name ("unrecognized feature gate: NAME") and
    a locked gate set to another value than its default ("cannot set feature gate NAME to V, feature is locked to
    D"): the component does not start. A deprecated gate, or one set to its locked default, is a warning. Without
    a list for the release: not checked."""
    gates = document.get("featureGates")
    if not isinstance(gates, dict) or not gates:
        return
    component, minor = COMPONENTS[kind], minor_of(release)
    known = known_gates(release, COMPONENT_GATES)
    if known is None:
        report.warnings.append(
            f"{kind}.featureGates are not checked: k8snode has the {component} feature gates of "
            f"{', '.join(listed_minors(COMPONENT_GATES))}, not of {minor}"
        )
        return
    for name, given in gates.items():
        gate, value = known.get(str(name)), schema.go_value(given)
        path = ("featureGates", name)
        if gate is None:
            message = (
                f"the {component} of {minor} has no feature gate {name!r} (it refuses it: unrecognized feature gate)"
                f"{schema.did_you_mean(str(name), list(known))}"
            )
            _problem(report, document, kind, path, message)
        elif gate.locked and isinstance(value, bool) and value is not gate.default:
            default = str(gate.default).lower()
            message = (
                f"is locked to {default} in the {component} of {minor} (it refuses {str(value).lower()}: feature is "
                f"locked to {default}); drop it"
            )
            _problem(report, document, kind, path, message)
        elif gate.is_deprecated:
            report.warnings.append(
                f"{_dotted(kind, path)} is deprecated in the {component} of {minor}: it will be removed in a future "
                "release"
            )
        elif gate.locked:
            report.warnings.append(
                f"{_dotted(kind, path)} is locked to its default ({str(gate.default).lower()}) in the {component} of "
                f"{minor}: the gate is on its way out, and a {component} that no longer has it refuses the file; "
                "drop it"
            )


def _check_master(document: Document, kind: str, report: Report) -> None:
    _check_token(document, kind, ("token",), document.get("token"), report)
    _check_address(document, kind, ("api", "advertiseAddress"), report)
    _check_port(document, kind, ("api", "bindPort"), report)
    _check_networking(document, kind, report)
    _check_release_field(document, kind, report)


def _check_networking(document: Document, kind: str, report: Report) -> None:
    """Pod and service CIDRs, and a service range kube-apiserver can allocate from (at most 20 host bits)."""
    for name in ("podSubnet", "serviceSubnet"):
        _check_cidrs(document, kind, ("networking", name), report)
    service_subnet = value_at(document, ("networking", "serviceSubnet"))
    for network in parse_networks(service_subnet) if isinstance(service_subnet, str) else ():
        if network.max_prefixlen - network.prefixlen > MAX_SERVICE_SUBNET_HOST_BITS:
            _problem(
                report,
                document,
                kind,
                ("networking", "serviceSubnet"),
                f"{network} is too large for services: kubeadm and kube-apiserver take a mask of at least "
                f"/{network.max_prefixlen - MAX_SERVICE_SUBNET_HOST_BITS} for IPv{network.version}",
            )


def _check_release_field(document: Document, kind: str, report: Report) -> None:
    version = document.get("kubernetesVersion")
    if not isinstance(version, str) or not version or version.startswith(RELEASE_LABELS):
        return
    if parse_kubernetes_version(version) is None:
        _problem(report, document, kind, ("kubernetesVersion",), release_problem(version))


_VALUE_CHECKS: dict[str, list[Callable[[Document, str, Report], None]]] = {
    "InitConfiguration": [_check_init],
    "JoinConfiguration": [_check_join],
    "ClusterConfiguration": [_check_cluster],
    "MasterConfiguration": [_check_master],
}


def _check_proxy(document: Document, at: YamlPath, kind: str, context: Context, report: Report) -> None:
    mode = value_at(document, (*at, "mode"))
    if isinstance(mode, str) and mode and mode not in PROXY_MODES:
        extra = "; kernelspace is for Windows nodes" if mode == "kernelspace" else ""
        _problem(
            report,
            document,
            kind,
            (*at, "mode"),
            f"{mode!r} is not a Linux proxy mode ({', '.join(PROXY_MODES)}){extra}",
        )
    scheduler = value_at(document, (*at, "ipvs", "scheduler"))
    allowed = SCHEDULERS if context.release.minor_version >= (1, 27) else SCHEDULERS_BEFORE_1_27
    if isinstance(scheduler, str) and scheduler and scheduler not in allowed:
        _problem(
            report,
            document,
            kind,
            (*at, "ipvs", "scheduler"),
            f"{scheduler!r} is not an IPVS scheduler kube-proxy {context.release} accepts; "
            f"use one of {' '.join(allowed)}",
        )
    _check_cidrs(document, kind, (*at, "clusterCIDR"), report)
    excluded = value_at(document, (*at, "ipvs", "excludeCIDRs"))
    for index, cidr in enumerate(excluded if isinstance(excluded, list) else []):
        message = cidr_problem(str(cidr), dual_stack=False)
        if message:
            _problem(report, document, kind, (*at, "ipvs", "excludeCIDRs", index), message)


def _check_across(located: list[_Located], context: Context, report: Report) -> None:
    api_versions = (str(item.document["apiVersion"]) for item in located)  # strings: _validate_document checked
    kubeadm_apis = {api_version for api_version in api_versions if api_version.startswith(KUBEADM_GROUP)}
    if len(kubeadm_apis) > 1:
        report.problems.append(Problem("apiVersion", f"mixes kubeadm APIs {', '.join(sorted(kubeadm_apis))}"))
    pod_subnet = next(
        (
            value_at(item.document, ("networking", "podSubnet"))
            for item in located
            if item.name in ("ClusterConfiguration", "MasterConfiguration")
        ),
        None,
    )
    for item in (item for item in located if item.proxy_path is not None):
        assert item.proxy_path is not None
        _check_proxy_across(item, item.proxy_path, pod_subnet, context, report)
    if any(item.name in ("InitConfiguration", "ClusterConfiguration") for item in located):
        cluster: Document = next((item.document for item in located if item.name == "ClusterConfiguration"), {})
        for kubelet in (item.document for item in located if item.name == "KubeletConfiguration"):
            _check_kubelet_across(kubelet, cluster, report)
    if context.release_known:
        _check_heartbeats(located, context.release, report)


GRACE_ARGUMENT = "node-monitor-grace-period"


def _check_heartbeats(located: list[_Located], release: Release, report: Report) -> None:
    """kube-controller-manager's grace period against the kubelet's heartbeats (core/heartbeat.py): the
    ClusterConfiguration's controllerManager extraArgs, else the release's default; each KubeletConfiguration's
    nodeStatusUpdateFrequency, nodeStatusReportFrequency and nodeLeaseDurationSeconds, else the kubelet's."""
    cluster = next((item.document for item in located if item.name == "ClusterConfiguration"), None)
    holder = ("controllerManager", "extraArgs")
    grace = extra_arg(cluster, holder, GRACE_ARGUMENT) if cluster is not None else None
    grace_from = f"ClusterConfiguration.{'.'.join(holder)}"
    kubelets = [item.document for item in located if item.name == "KubeletConfiguration"]
    for kubelet in kubelets or ([{}] if cluster is not None else []):
        settings = Kubelet(
            _text(value_at(kubelet, ("nodeStatusUpdateFrequency",))),
            _text(value_at(kubelet, ("nodeStatusReportFrequency",))),
            schema.go_integer(value_at(kubelet, ("nodeLeaseDurationSeconds",))),
        )
        warning = check_heartbeats(release, settings, grace, grace_from)
        if warning is not None:
            report.warnings.append(warning)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _check_kubelet_across(kubelet: Document, cluster: Document, report: Report) -> None:
    """The kubelet values kubeadm derives from networking: kubeadm warns when a file sets them differently.

    cmd/kubeadm/app/componentconfigs/kubelet.go (Default): clusterDomain should be networking.dnsDomain, and
    clusterDNS the tenth address of the first networking.serviceSubnet (constants.GetDNSIP).
    """
    dns_domain = value_at(cluster, ("networking", "dnsDomain")) or DEFAULT_DNS_DOMAIN
    domain = value_at(kubelet, ("clusterDomain",))
    if domain and domain != dns_domain:
        report.warnings.append(
            f"KubeletConfiguration.clusterDomain {domain} differs from ClusterConfiguration.networking.dnsDomain "
            f"{dns_domain}; kubeadm warns about it, and pods get names under {domain}"
        )
    service_subnet = str(value_at(cluster, ("networking", "serviceSubnet")) or DEFAULT_SERVICE_SUBNET)
    networks = sorted(parse_networks(service_subnet.split(",")[0]), key=str)
    cluster_dns = value_at(kubelet, ("clusterDNS",))
    if not (networks and isinstance(cluster_dns, list) and cluster_dns) or networks[0].num_addresses <= 10:
        return
    expected = str(networks[0][10])
    if [str(address) for address in cluster_dns] != [expected]:
        report.warnings.append(
            f"KubeletConfiguration.clusterDNS {', '.join(map(str, cluster_dns))} differs from {expected}, the DNS "
            f"address kubeadm derives from networking.serviceSubnet; kubeadm warns about it"
        )


def _check_proxy_across(item: _Located, at: YamlPath, pod_subnet: object, context: Context, report: Report) -> None:
    document, kind = item.document, item.name
    mode = value_at(document, (*at, "mode")) or "iptables"
    cluster_cidr = value_at(document, (*at, "clusterCIDR"))
    if (
        isinstance(cluster_cidr, str)
        and cluster_cidr
        and isinstance(pod_subnet, str)
        and pod_subnet
        and parse_networks(cluster_cidr) != parse_networks(pod_subnet)
    ):
        _problem(
            report,
            document,
            kind,
            (*at, "clusterCIDR"),
            f"{cluster_cidr} does not agree with networking.podSubnet {pod_subnet}",
        )
    if (
        context.load_balancer
        and mode == "ipvs"
        and schema.go_value(value_at(document, (*at, "ipvs", "strictARP"))) is not True
    ):
        _problem(
            report,
            document,
            kind,
            (*at, "ipvs", "strictARP"),
            f"{context.load_balancer} in L2 mode under IPVS needs strictARP: true",
        )
    if mode == "ipvs":
        if kind == "MasterConfiguration" and not _ipvs_gate_on(value_at(document, (*at, "featureGates"))):
            _problem(
                report,
                document,
                kind,
                (*at, "featureGates"),
                "ipvs mode before 1.11 needs the feature gate SupportIPVSProxyMode "
                "(1.10: featureGates: {SupportIPVSProxyMode: true}; 1.8-1.9: featureGates: SupportIPVSProxyMode=true)",
            )
        if context.release.minor_version >= (1, 35):
            report.warnings.append(
                f"IPVS mode is deprecated since Kubernetes 1.35 (KEP-5495) and Kubernetes {context.release} "
                "warns about it; consider nftables mode (k8snode kubeadm-config --proxy-mode nftables)"
            )
    if mode == "nftables":
        _check_nftables_gate(item, at, context.release, report)
    kernel = kernel_version(context.node_kernel)
    if mode == "nftables" and kernel is not None and kernel < NFTABLES_MIN_KERNEL:
        _problem(
            report,
            document,
            kind,
            (*at, "mode"),
            f"nftables mode needs kernel {'.'.join(map(str, NFTABLES_MIN_KERNEL))} or later; "
            f"the node runs {context.node_kernel}",
        )


def _check_nftables_gate(item: _Located, at: YamlPath, release: Release, report: Report) -> None:
    """kube-proxy accepts mode nftables only while its NFTablesProxyMode gate is on (off by default before beta)."""
    gates = value_at(item.document, (*at, "featureGates"))
    gate = schema.go_value(gates.get(NFTABLES_GATE)) if isinstance(gates, dict) else None
    if release.minor_version < NFTABLES_ALPHA:
        message = (
            f"nftables mode needs kube-proxy {minor_text(NFTABLES_ALPHA)} or later; kube-proxy {release} has ipvs "
            "and iptables"
        )
        _problem(report, item.document, item.name, (*at, "mode"), message)
    elif release.minor_version < NFTABLES_BETA and gate is not True:
        gate_map = f"featureGates: {{{NFTABLES_GATE}: true}}"
        message = f"nftables mode in kube-proxy {release} needs the alpha feature gate on: {gate_map}"
        _problem(report, item.document, item.name, (*at, "featureGates"), message)
    elif gate is False:
        message = f"nftables mode needs the feature gate {NFTABLES_GATE}, which is set to false"
        _problem(report, item.document, item.name, (*at, "featureGates", NFTABLES_GATE), message)


def _ipvs_gate_on(gates: object) -> bool:
    """kube-proxy's featureGates: a map since 1.10 (PR #57962), a "Name=true,..." string in 1.8 and 1.9."""
    if isinstance(gates, dict):
        return schema.go_value(gates.get("SupportIPVSProxyMode")) is True
    return isinstance(gates, str) and "SupportIPVSProxyMode=true" in gates.replace(" ", "").split(",")
