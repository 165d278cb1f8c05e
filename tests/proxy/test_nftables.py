"""nftables mode follows kube-proxy's NFTablesProxyMode gate: none before 1.29, the gate on in 1.29-1.30."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import make_node, snapshot, write
from kubeadm_documents import documents

GATE_REFUSAL = (
    "k8snode: error: --proxy-mode nftables needs Kubernetes 1.29 or later (kube-proxy's NFTablesProxyMode gate: "
    "alpha in 1.29, beta in 1.31, GA in 1.33); kube-proxy {version} has ipvs and iptables\n"
)

V1BETA3_NFTABLES = """\
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
kubernetesVersion: {version}
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
"""


@pytest.fixture
def node(tmp_path: Path) -> Path:
    return make_node(tmp_path / "node")


@pytest.mark.parametrize("version", ["v1.10.0", "v1.22.0", "v1.28.15"])
def test_nftables_before_1_29_is_refused_and_nothing_written(cli, node, version):
    before = snapshot(node)
    run = cli(
        "kubeadm-config", "--kubernetes-version", version, "--proxy-mode", "nftables", "--out", "/init.yaml",
        "--root", str(node),
    )  # fmt: skip
    assert (run.exit_code, run.stdout, run.stderr) == (2, "", GATE_REFUSAL.format(version=version))
    assert snapshot(node) == before


@pytest.mark.parametrize("version", ["v1.29.0", "v1.30.14"])
def test_nftables_in_1_29_and_1_30_renders_the_alpha_gate(cli, node, version):
    run = cli("kubeadm-config", "--kubernetes-version", version, "--proxy-mode", "nftables", "--root", str(node))
    assert run.exit_code == 0, run.stderr
    proxy = documents(run.stdout)[-1]
    assert (proxy["mode"], proxy["featureGates"]) == ("nftables", {"NFTablesProxyMode": True})


@pytest.mark.parametrize("version", ["v1.31.0", "v1.33.0", "v1.37.2"])
def test_nftables_from_1_31_needs_no_gate(cli, node, version):
    run = cli("kubeadm-config", "--kubernetes-version", version, "--proxy-mode", "nftables", "--root", str(node))
    assert run.exit_code == 0, run.stderr
    assert "featureGates" not in documents(run.stdout)[-1]


def test_patching_a_1_30_file_to_nftables_adds_the_gate_to_its_own_kube_proxy_document(cli, node):
    write(node / "init.yaml", V1BETA3_NFTABLES.format(version="v1.30.14").replace("nftables", "iptables"))
    run = cli("kubeadm-config", "--patch", "/init.yaml", "--proxy-mode", "nftables", "--root", str(node))
    assert run.exit_code == 0, run.stderr
    proxies = [d for d in documents(run.stdout) if d["kind"] == "KubeProxyConfiguration"]
    assert [(p["mode"], p["featureGates"]) for p in proxies] == [("nftables", {"NFTablesProxyMode": True})]


def test_patching_a_1_28_file_to_nftables_is_refused(cli, node):
    write(node / "init.yaml", V1BETA3_NFTABLES.format(version="v1.28.15").replace("nftables", "iptables"))
    run = cli("kubeadm-config", "--patch", "/init.yaml", "--proxy-mode", "nftables", "--root", str(node))
    assert (run.exit_code, run.stderr) == (2, GATE_REFUSAL.format(version="v1.28.15"))


@pytest.mark.parametrize(
    ("version", "gates", "problem"),
    [
        (
            "v1.28.15",
            "",
            "line 7: KubeProxyConfiguration.mode: nftables mode needs kube-proxy 1.29 or later; "
            "kube-proxy v1.28.15 has ipvs and iptables",
        ),
        (
            "v1.30.14",
            "",
            "KubeProxyConfiguration.featureGates: nftables mode in kube-proxy v1.30.14 needs the alpha feature gate "
            "on: featureGates: {NFTablesProxyMode: true}",
        ),
        (
            "v1.29.0",
            "featureGates:\n  NFTablesProxyMode: false\n",
            "line 8: KubeProxyConfiguration.featureGates: nftables mode in kube-proxy v1.29.0 needs the alpha feature "
            "gate on: featureGates: {NFTablesProxyMode: true}",
        ),
        (
            "v1.31.0",
            "featureGates:\n  NFTablesProxyMode: false\n",
            "line 9: KubeProxyConfiguration.featureGates.NFTablesProxyMode: nftables mode needs the feature gate "
            "NFTablesProxyMode, which is set to false",
        ),
    ],
)
def test_validate_checks_the_gate_for_the_release(cli, tmp_path, version, gates, problem):
    write(tmp_path / "cfg.yaml", V1BETA3_NFTABLES.format(version=version) + gates)
    run = cli("validate", "/cfg.yaml", "--root", str(tmp_path), "--json")
    assert run.exit_code == 1, run.stdout
    assert run.envelope()["data"]["problems"] == [problem]


@pytest.mark.parametrize("version", ["v1.30.14", "v1.31.0"])
def test_validate_accepts_nftables_with_the_gate_on(cli, tmp_path, version):
    gate_on = "featureGates:\n  NFTablesProxyMode: true\n"
    write(tmp_path / "cfg.yaml", V1BETA3_NFTABLES.format(version=version) + gate_on)
    run = cli("validate", "/cfg.yaml", "--root", str(tmp_path), "--json")
    assert run.exit_code == 0, run.stdout
