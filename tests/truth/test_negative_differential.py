"""k8snode validate and the real kubeadm config validate agree on accept or reject for a corpus of mutated files.

Each case mutates a file k8snode rendered for the release (which both accept). The cases where the two differ by
design are listed in BY_DESIGN with the reason, and the test asserts that list exactly, for every release.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fakes import make_node
from test_kubeadm_config_truth import kubeadm_validate

pytestmark = pytest.mark.truth

Mutation = Callable[[str], str]
TOKEN = "k8sn0d.differential0123"
POD_SUBNET = "10.244.0.0/16"


def replace(*edits: tuple[str, str]) -> Mutation:
    """A mutation that makes each edit (every occurrence); an edit that does not apply fails the test."""

    def mutate(text: str) -> str:
        for old, new in edits:
            assert old in text, f"{old!r} is not in the rendered file"
            text = text.replace(old, new)
        return text

    return mutate


def other_kubeadm_api(text: str) -> str:
    """v1beta4 <-> v1beta3: kubeadm 1.37 no longer reads v1beta3, kubeadm 1.30 does not read v1beta4 yet."""
    old, new = ("v1beta4", "v1beta3") if "kubeadm.k8s.io/v1beta4" in text else ("v1beta3", "v1beta4")
    return replace((f"kubeadm.k8s.io/{old}", f"kubeadm.k8s.io/{new}"))(text)


def pod_subnets(value: str) -> Mutation:
    return replace(
        (f"  podSubnet: {POD_SUBNET}", f"  podSubnet: {value}"), (f"clusterCIDR: {POD_SUBNET}", f"clusterCIDR: {value}")
    )


KUBELET_LINE = "cgroupDriver: systemd\n"
IPVS_LINE = "  scheduler: rr\n"
CORPUS: dict[str, Mutation] = {
    "unchanged": replace(),
    # unknown fields, at each depth and in each kind
    "unknown-field-top-level": replace(("kind: InitConfiguration\n", "kind: InitConfiguration\nbogusField: 1\n")),
    "unknown-field-nested": replace(("  serviceSubnet:", "  serviceSubnett:")),
    "unknown-field-in-a-list-item": replace(("  ttl: 24h0m0s\n", "  ttl: 24h0m0s\n  extra: x\n")),
    "unknown-field-kube-proxy": replace((IPVS_LINE, "  schedular: rr\n")),
    "unknown-field-kubelet": replace((KUBELET_LINE, KUBELET_LINE + "cgroupDriverr: systemd\n")),
    "field-in-the-wrong-case": replace(("  strictARP: false", "  strictArp: false")),
    "duplicate-field": replace(("mode: ipvs\n", "mode: ipvs\nmode: iptables\n")),
    # wrong types
    "port-as-quoted-string": replace(("  bindPort: 6443", '  bindPort: "6443"')),
    "port-as-word": replace(("  bindPort: 6443", "  bindPort: six")),
    "bool-as-int": replace(("  strictARP: false", "  strictARP: 1")),
    "bool-as-quoted-string": replace(("  strictARP: false", '  strictARP: "false"')),
    "list-for-a-string": replace((f"  podSubnet: {POD_SUBNET}", f"  podSubnet: [{POD_SUBNET}]")),
    "string-for-an-object": replace(("networking:\n  serviceSubnet: 10.96.0.0/12\n", "networking: flat\n")),
    "string-for-a-list": replace(("  usages:\n  - signing\n  - authentication\n", "  usages: signing\n")),
    # durations
    "duration-in-days": replace(("ttl: 24h0m0s", "ttl: 1d")),
    "duration-unknown-unit": replace((IPVS_LINE, IPVS_LINE + "  syncPeriod: 10x\n")),
    "duration-with-a-space": replace((KUBELET_LINE, KUBELET_LINE + "nodeStatusUpdateFrequency: 10 s\n")),
    "duration-as-a-number": replace(("ttl: 24h0m0s", "ttl: 3600")),
    "duration-with-a-fraction": replace(("ttl: 24h0m0s", "ttl: 1.5h")),
    "duration-in-micro-sign-units": replace(
        (KUBELET_LINE, KUBELET_LINE + "nodeStatusUpdateFrequency: 10000000\u00b5s\n")
    ),
    # CIDRs
    "cidr-prefix-too-long": pod_subnets("10.244.0.0/33"),
    "cidr-not-an-address": replace(("  serviceSubnet: 10.96.0.0/12", "  serviceSubnet: not-a-cidr")),
    "cidr-with-host-bits": pod_subnets("10.244.0.1/16"),
    "cidr-three-subnets": pod_subnets(f"{POD_SUBNET},fd00::/56,10.245.0.0/16"),
    "cidr-two-of-one-family": pod_subnets(f"{POD_SUBNET},10.245.0.0/16"),
    "cidr-dual-stack": pod_subnets(f"{POD_SUBNET},fd00::/56"),
    "service-subnet-too-large": replace(("  serviceSubnet: 10.96.0.0/12", "  serviceSubnet: 10.0.0.0/8")),
    "service-subnet-largest": replace(("  serviceSubnet: 10.96.0.0/12", "  serviceSubnet: 10.96.0.0/12,fd00::/108")),
    "cluster-cidr-not-the-pod-subnet": replace((f"clusterCIDR: {POD_SUBNET}", "clusterCIDR: 10.245.0.0/16")),
    "exclude-cidr-invalid": replace((IPVS_LINE, IPVS_LINE + "  excludeCIDRs:\n  - 10.0.0.0/40\n")),
    # apiVersion and kind
    "kubeadm-api-unknown": replace(("kubeadm.k8s.io/v1beta", "kubeadm.k8s.io/v1gamma")),
    "kubeadm-api-other-beta": other_kubeadm_api,
    "kube-proxy-api-unknown": replace(("kubeproxy.config.k8s.io/v1alpha1", "kubeproxy.config.k8s.io/v1beta1")),
    "kubelet-api-unknown": replace(("kubelet.config.k8s.io/v1beta1", "kubelet.config.k8s.io/v1")),
    "kind-misspelled": replace(("kind: InitConfiguration", "kind: InitConfig")),
    "kind-misspelled-kube-proxy": replace(("kind: KubeProxyConfiguration", "kind: KubeProxyConfig")),
    "kind-in-lower-case": replace(("kind: ClusterConfiguration", "kind: clusterconfiguration")),
    # values
    "proxy-mode-unknown": replace(("mode: ipvs", "mode: ipvss")),
    "ipvs-scheduler-unknown": replace((IPVS_LINE, "  scheduler: fastest\n")),
    "token-in-upper-case": replace((f"token: {TOKEN}", f"token: {TOKEN.upper()}")),
    "advertise-address-invalid": replace(("advertiseAddress: 192.0.2.10", "advertiseAddress: 300.1.1.1")),
    "bind-port-out-of-range": replace(("  bindPort: 6443", "  bindPort: 70000")),
    "kubernetes-version-invalid": replace(("kubernetesVersion: v", "kubernetesVersion: x")),
    "node-name-not-a-dns-name": replace(("  name: cp-1", "  name: CP_1")),
    "cgroup-driver-unknown": replace(("cgroupDriver: systemd", "cgroupDriver: upstart")),
}

KUBE_PROXY_CHECKS = (
    "k8snode also checks the KubeProxyConfiguration values kube-proxy's own validation refuses at start-up; "
    "kubeadm only decodes that document strictly and passes it on"
)
BY_DESIGN: dict[str, str] = {
    "cidr-with-host-bits": (
        "k8snode refuses a subnet with host bits set as a likely typo; kubeadm parses it sloppily (ParseCIDRSloppy) "
        "and the components silently mask it"
    ),
    "cluster-cidr-not-the-pod-subnet": (
        "k8snode refuses a kube-proxy clusterCIDR that differs from networking.podSubnet; kubeadm accepts it "
        "(older releases only warn) and kube-proxy then misjudges which traffic is from pods"
    ),
    "exclude-cidr-invalid": KUBE_PROXY_CHECKS,
    "proxy-mode-unknown": KUBE_PROXY_CHECKS,
    "ipvs-scheduler-unknown": KUBE_PROXY_CHECKS,
}


@pytest.fixture
def rendered(cli, tmp_path: Path) -> Callable[[str], tuple[Path, str]]:
    """rendered(version) -> (the node root, a file k8snode kubeadm-config wrote for that release)."""

    def render(version: str) -> tuple[Path, str]:
        node = make_node(tmp_path / "node")
        options = ("--pod-subnet", POD_SUBNET, "--kubelet-config", "--token", TOKEN, "--proxy-mode", "ipvs")
        run = cli("kubeadm-config", "--kubernetes-version", version, "--node-name", "cp-1", *options,
                  "--out", "/base.yaml", "--root", str(node))  # fmt: skip
        assert run.exit_code == 0, run.stderr
        return node, (node / "base.yaml").read_text()

    return render


def test_k8snode_and_kubeadm_agree_on_every_mutated_file(
    truth_version: str, truth_bin: Callable[[str], Path], rendered, cli
) -> None:
    kubeadm_dir = truth_bin(truth_version)
    node, base = rendered(truth_version)
    verdicts: dict[str, tuple[int, int]] = {}
    for case, mutate in CORPUS.items():
        path = node / f"{case}.yaml"
        path.write_text(mutate(base))
        k8snode = cli("validate", f"/{case}.yaml", "--kubernetes-version", truth_version, "--root", str(node))
        assert k8snode.exit_code in (0, 1, 2), (case, k8snode.stderr)
        kubeadm = kubeadm_validate(kubeadm_dir, path)
        verdicts[case] = (k8snode.exit_code, kubeadm.returncode)
    disagreements = {case for case, (ours, theirs) in verdicts.items() if (ours == 0) != (theirs == 0)}
    rejected = sum(theirs != 0 for _, theirs in verdicts.values())
    print(f"{truth_version}: {len(CORPUS)} cases, kubeadm rejects {rejected}, {len(disagreements)} listed by design")
    assert verdicts["unchanged"] == (0, 0)
    assert {case: verdicts[case] for case in disagreements} == {case: verdicts[case] for case in BY_DESIGN}
    assert all(verdicts[case][0] != 0 for case in BY_DESIGN), "by design, k8snode is the stricter one"
