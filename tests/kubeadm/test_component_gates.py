"""KubeletConfiguration and KubeProxyConfiguration featureGates against the gates the kubelet and kube-proxy of the
target release know (k8snode/kubeadm/data/component_gates.json, generated from the truth build);
tests/truth/test_component_gates_truth.py asks the real feature gate of each release."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import make_node, snapshot, write

COMPONENTS = [("KubeletConfiguration", "kubelet"), ("KubeProxyConfiguration", "kube-proxy")]
DOCUMENT = """\
apiVersion: {api}
kind: {kind}
featureGates:
  {gate}: {value}
"""
APIS = {
    "KubeletConfiguration": "kubelet.config.k8s.io/v1beta1",
    "KubeProxyConfiguration": "kubeproxy.config.k8s.io/v1alpha1",
}
# Deprecated in 1.37, not locked.
DEPRECATED_1_37 = "KubeletRegistrationGetOnExistsOnly"


@pytest.fixture
def node(tmp_path: Path) -> Path:
    return make_node(tmp_path / "node")


def _set(cli, node: Path, version: str, kind: str, gate: str, value: str, *more: str):
    return cli(
        "kubeadm-config", "--kubernetes-version", version, "--out", "/init.yaml", "--root", str(node),
        "--kubelet-config", "--set", f"{kind}.featureGates.{gate}={value}", *more,
    )  # fmt: skip


def _validate(cli, tmp_path: Path, version: str, kind: str, gate: str, value: str):
    write(tmp_path / "cfg.yaml", DOCUMENT.format(api=APIS[kind], kind=kind, gate=gate, value=value))
    return cli("validate", "/cfg.yaml", "--root", str(tmp_path), "--kubernetes-version", version, "--json")


@pytest.mark.parametrize(("kind", "component"), COMPONENTS)
def test_set_refuses_a_gate_the_component_does_not_have(cli, node, kind, component):
    before = snapshot(node)
    run = _set(cli, node, "v1.37.2", kind, "NoSuchGate", "true")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr.count("\n") == 1
    assert f"{kind}.featureGates.NoSuchGate: the {component} of 1.37 has no feature gate 'NoSuchGate'" in run.stderr
    assert snapshot(node) == before


@pytest.mark.parametrize(("kind", "component"), COMPONENTS)
def test_validate_flags_a_gate_the_component_does_not_have(cli, tmp_path, kind, component):
    run = _validate(cli, tmp_path, "v1.37.2", kind, "NoSuchGate", "true")
    assert run.exit_code == 1, run.stdout
    assert run.envelope()["data"]["problems"] == [
        f"line 4: {kind}.featureGates.NoSuchGate: the {component} of 1.37 has no feature gate 'NoSuchGate' "
        "(it refuses it: unrecognized feature gate)"
    ]


@pytest.mark.parametrize(("kind", "component"), COMPONENTS)
def test_an_unknown_gate_gets_a_did_you_mean(cli, node, kind, component):
    run = _set(cli, node, "v1.37.2", kind, "InPlacePodVerticalScalin", "true")
    assert run.exit_code == 2
    assert run.stderr.endswith("did you mean InPlacePodVerticalScaling?\n"), run.stderr


@pytest.mark.parametrize(("kind", "component"), COMPONENTS)
def test_a_known_gate_is_written_without_a_warning(cli, node, kind, component):
    run = _set(cli, node, "v1.37.2", kind, "AllAlpha", "false")
    assert run.exit_code == 0, run.stderr
    assert "featureGates" not in run.stderr
    assert "AllAlpha: false" in (node / "init.yaml").read_text()


@pytest.mark.parametrize(("kind", "component"), COMPONENTS)
def test_a_locked_gate_set_against_its_default_is_refused(cli, node, tmp_path, kind, component):
    run = _set(cli, node, "v1.37.2", kind, "NFTablesProxyMode", "false")
    assert (run.exit_code, run.stdout) == (2, "")
    assert (
        f"{kind}.featureGates.NFTablesProxyMode: is locked to true in the {component} of 1.37 (it refuses false: "
        "feature is locked to true); drop it"
    ) in run.stderr
    assert _validate(cli, tmp_path, "v1.37.2", kind, "NFTablesProxyMode", "false").exit_code == 1


@pytest.mark.parametrize(("kind", "component"), COMPONENTS)
def test_a_gate_locked_to_its_default_is_written_with_a_warning(cli, node, kind, component):
    run = _set(cli, node, "v1.37.2", kind, "NFTablesProxyMode", "true")
    assert run.exit_code == 0, run.stderr
    assert (
        f"k8snode: warning: {kind}.featureGates.NFTablesProxyMode is locked to its default (true) in the {component} "
        f"of 1.37: the gate is on its way out, and a {component} that no longer has it refuses the file; drop it"
    ) in run.stderr


def test_a_deprecated_gate_is_written_with_a_warning(cli, node):
    run = _set(cli, node, "v1.37.2", "KubeletConfiguration", DEPRECATED_1_37, "false")
    assert run.exit_code == 0, run.stderr
    assert (
        f"k8snode: warning: KubeletConfiguration.featureGates.{DEPRECATED_1_37} is deprecated in the kubelet of 1.37: "
        "it will be removed in a future release"
    ) in run.stderr


@pytest.mark.parametrize(
    ("version", "warning"),
    [
        ("v1.30.14", None),
        (
            "v1.29.15",
            "KubeProxyConfiguration.featureGates are not checked: k8snode has the kube-proxy feature gates of "
            "1.30, 1.32, 1.35, 1.36, 1.37, not of 1.29",
        ),
    ],
)
def test_the_nftables_gate_k8snode_writes_for_kube_proxy_stays_valid(cli, node, version, warning):
    run = cli(
        "kubeadm-config", "--kubernetes-version", version, "--proxy-mode", "nftables", "--root", str(node),
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert "featureGates:\n  NFTablesProxyMode: true\n" in run.stdout
    gate_lines = [line for line in run.stderr.splitlines() if "featureGates" in line]
    assert gate_lines == ([] if warning is None else [f"k8snode: warning: {warning}"])


def test_a_release_without_a_gate_list_is_not_checked_and_says_so(cli, tmp_path):
    run = _validate(cli, tmp_path, "v1.33.4", "KubeletConfiguration", "NoSuchGate", "true")
    assert run.exit_code == 0, run.stdout
    assert run.envelope()["warnings"] == [
        "KubeletConfiguration.featureGates are not checked: k8snode has the kubelet feature gates of "
        "1.30, 1.32, 1.35, 1.36, 1.37, not of 1.33"
    ]
