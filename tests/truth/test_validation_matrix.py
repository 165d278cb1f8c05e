"""Every configuration k8snode kubeadm-config renders, across options and releases, passes that release's kubeadm.

One test per built release renders the whole matrix with the real CLI and runs `kubeadm config validate` on each
file. kubeadm must say ok, and every warning it prints must be one k8snode predicted in its own output.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from fakes import make_node, write
from test_kubeadm_config_truth import kubeadm_validate

from k8snode.core.releases import parse_release

pytestmark = pytest.mark.truth

BASE = ("--advertise-address", "192.0.2.10", "--node-name", "cp-1")
DUAL_STACK = ("--pod-subnet", "10.244.0.0/16,fd00:10:244::/56", "--service-subnet", "10.96.0.0/12,fd00:10:96::/112")
NESTED_SETS = (
    "--set",
    "ClusterConfiguration.networking.dnsDomain=cluster.example",
    "--set",
    "ClusterConfiguration.etcd.local.dataDir=/var/lib/etcd-main",
    "--set",
    "InitConfiguration.nodeRegistration.imagePullPolicy=IfNotPresent",
    "--set",
    "KubeProxyConfiguration.conntrack.maxPerCore=0",
    "--set",
    "KubeProxyConfiguration.ipvs.tcpTimeout=900s",
    "--set",
    "KubeletConfiguration.logging.format=json",
)
IPVS_TUNING = (
    "--exclude-cidr",
    "10.0.0.0/8",
    "--exclude-cidr",
    "fd00::/8",
    "--ipvs-sync-period",
    "30s",
    "--ipvs-min-sync-period",
    "2s",
    "--ipvs-tcp-timeout",
    "15m",
    "--ipvs-tcp-fin-timeout",
    "30s",
    "--ipvs-udp-timeout",
    "300ms",
)
SCHEDULERS = ("rr", "wrr", "lc", "sh", "mh")

MATRIX: dict[str, tuple[str, ...]] = {
    "default": (),
    "ipvs": ("--proxy-mode", "ipvs"),
    "iptables": ("--proxy-mode", "iptables"),
    "nftables": ("--proxy-mode", "nftables"),
    **{f"scheduler-{name}": ("--ipvs-scheduler", name) for name in SCHEDULERS},
    "strict-arp": ("--strict-arp",),
    "no-strict-arp": ("--no-strict-arp",),
    "lb-metallb": ("--lb", "metallb"),
    "lb-kube-vip-iptables": ("--proxy-mode", "iptables", "--lb", "kube-vip"),
    "ipvs-tuning": IPVS_TUNING,
    "kubelet-config": ("--kubelet-config",),
    "kubelet-swap-keep": ("--kubelet-config", "--swap", "keep"),
    "set-nested": ("--kubelet-config", *NESTED_SETS),
    "dual-stack": DUAL_STACK,
    "dual-stack-nftables-kubelet": ("--proxy-mode", "nftables", "--kubelet-config", *DUAL_STACK),
    "endpoint-and-names": (
        "--control-plane-endpoint",
        "cp.example:6443",
        "--bind-port",
        "8443",
        "--cluster-name",
        "prod",
        "--image-repository",
        "registry.example/k8s",
        "--cri-socket",
        "unix:///run/crio/crio.sock",
    ),
    "patch-init-defaults": ("--patch", "/init-defaults.yaml"),
    "patch-init-defaults-everything": (
        "--patch",
        "/init-defaults.yaml",
        "--lb",
        "metallb",
        "--ipvs-scheduler",
        "wrr",
        *NESTED_SETS,
    ),
    "patch-init-defaults-other-services": ("--patch", "/init-defaults.yaml", "--service-subnet", "10.100.0.0/16"),
    "patch-init-defaults-nftables": ("--patch", "/init-defaults.yaml", "--proxy-mode", "nftables"),
    "patch-init-defaults-swap-keep": ("--patch", "/init-defaults.yaml", "--kubelet-config", "--swap", "keep"),
}
V1BETA3_MATRIX: dict[str, tuple[str, ...]] = {
    "v1beta3": ("--api-version", "v1beta3", "--kubelet-config", "--lb", "metallb", *DUAL_STACK),
    "v1beta3-set-nested": ("--api-version", "v1beta3", "--kubelet-config", *NESTED_SETS),
}
V1BETA3_UNTIL = (1, 37)  # kubeadm 1.37 removed v1beta3

KLOG_WARNING = re.compile(r"^W\d{4} [\d:.]+\s+\d+ [\w.]+:\d+\] (?P<message>.*)$")
IPVS_DEPRECATED_BY_KUBEADM = 'The "KubeProxyConfiguration" field "mode" is set to "ipvs" which has been deprecated'
# kubeadm's warnings, and the text k8snode's own warning about the same thing holds ({names} from the match).
PREDICTED = (
    (re.compile(re.escape(IPVS_DEPRECATED_BY_KUBEADM)), "IPVS mode is deprecated since Kubernetes 1.35 (KEP-5495)"),
    (
        re.compile(r'your configuration file uses a deprecated API spec: "(?P<api>[\w./]+)" \(kind: "(?P<kind>\w+)"\)'),
        "{kind}: {api} is deprecated",
    ),
    (re.compile(r'The recommended value for "(?P<field>\w+)" in "(?P<kind>\w+)" is'), "{kind}.{field} "),
)


def matrix_for(version: str) -> dict[str, tuple[str, ...]]:
    return MATRIX | V1BETA3_MATRIX if parse_release(version).minor_version < V1BETA3_UNTIL else dict(MATRIX)


def init_defaults(kubeadm: Path) -> str:
    done = subprocess.run(
        [
            str(kubeadm),
            "config",
            "print",
            "init-defaults",
            "--component-configs",
            "KubeProxyConfiguration,KubeletConfiguration",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def unpredicted_warnings(kubeadm_stderr: str, k8snode_warnings: list[str]) -> list[str]:
    """kubeadm's stderr lines that are not a warning k8snode gave too (any line that is not a klog warning counts)."""
    return [line for line in kubeadm_stderr.splitlines() if not _predicted(line, k8snode_warnings)]


def _predicted(line: str, k8snode_warnings: list[str]) -> bool:
    match = KLOG_WARNING.match(line)
    if match is None:
        return False
    for pattern, k8snode_text in PREDICTED:
        found = pattern.match(match["message"])
        if found:
            expected = k8snode_text.format(**found.groupdict())
            return any(expected in warning for warning in k8snode_warnings)
    return False


def test_kubeadm_accepts_every_rendered_configuration(
    truth_version: str, truth_bin: Callable[[str], Path], cli, tmp_path: Path
) -> None:
    kubeadm = truth_bin(truth_version) / "kubeadm"
    node = make_node(tmp_path / "node")
    write(node / "init-defaults.yaml", init_defaults(kubeadm))
    matrix = matrix_for(truth_version)
    failures: dict[str, str] = {}
    ipvs_warned = 0
    for case, options in matrix.items():
        out = f"/{case}.yaml"
        run = cli(
            "kubeadm-config",
            "--kubernetes-version",
            truth_version,
            *BASE,
            *options,
            "--out",
            out,
            "--json",
            "--root",
            str(node),
        )
        if run.exit_code != 0:
            failures[case] = f"k8snode exit {run.exit_code}: {run.stderr or run.stdout}"
            continue
        warnings = run.envelope()["warnings"]
        assert "KubeProxyConfiguration" in run.envelope()["data"]["documents"], case
        done = kubeadm_validate(kubeadm.parent, node / out.lstrip("/"))
        if done.returncode != 0 or done.stdout.strip() != "ok":
            failures[case] = f"kubeadm exit {done.returncode}: {done.stderr.strip()}"
        elif extra := unpredicted_warnings(done.stderr, warnings):
            failures[case] = "kubeadm warned and k8snode did not: " + " | ".join(extra)
        ipvs_warned += IPVS_DEPRECATED_BY_KUBEADM in done.stderr
    print(f"{truth_version}: {len(matrix)} configurations validated by kubeadm, {ipvs_warned} with its IPVS warning")
    assert not failures, "\n".join(f"{case}: {message}" for case, message in failures.items())
    if parse_release(truth_version).minor_version >= (1, 37):
        assert ipvs_warned > 0, "kubeadm 1.37 warns about mode: ipvs, so the matrix must have met that warning"


def test_a_warning_k8snode_did_not_give_is_reported() -> None:
    ipvs = f"W1126 16:42:27.180816   28717 kubeproxy.go:144] {IPVS_DEPRECATED_BY_KUBEADM} since version v1.35."
    dns = (
        'W1126 16:45:54.740421   16539 utils.go:69] The recommended value for "clusterDNS" in "KubeletConfiguration" '
        "is: [10.100.0.10]; the provided value is: [10.96.0.10]"
    )
    other = "W1126 16:42:27.180816   28717 strict.go:54] error unmarshaling configuration: unknown field"
    k8snode_ipvs = "IPVS mode is deprecated since Kubernetes 1.35 (KEP-5495) and Kubernetes v1.37.2 warns about it"
    k8snode_dns = "KubeletConfiguration.clusterDNS 10.96.0.10 differs from 10.100.0.10"
    assert unpredicted_warnings(f"{ipvs}\n{dns}", [k8snode_ipvs, k8snode_dns]) == []
    assert unpredicted_warnings(f"{ipvs}\n{dns}", [k8snode_dns]) == [ipvs]
    assert unpredicted_warnings(f"{ipvs}\n{other}", [k8snode_ipvs]) == [other]
    assert unpredicted_warnings("not a klog line", []) == ["not a klog line"]
