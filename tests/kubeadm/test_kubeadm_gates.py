"""ClusterConfiguration.featureGates against kubeadm's gates of the target release (k8snode/kubeadm/data/
feature_gates.json, generated from the truth build); tests/truth/test_kubeadm_gates_truth.py asks the real kubeadm."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import make_node, snapshot, write

# The verdicts issue 29 found with the real kubeadm of each release.
VERDICTS = [
    ("v1.37.2", "WaitForAllControlPlaneComponents", False),
    ("v1.36.3", "WaitForAllControlPlaneComponents", False),
    ("v1.35.4", "WaitForAllControlPlaneComponents", False),
    ("v1.32.13", "WaitForAllControlPlaneComponents", True),
    ("v1.30.14", "WaitForAllControlPlaneComponents", True),
    ("v1.37.2", "EtcdLearnerMode", False),
    ("v1.32.13", "EtcdLearnerMode", True),
    ("v1.30.14", "ControlPlaneKubeletLocalMode", False),
    ("v1.35.4", "ControlPlaneKubeletLocalMode", True),
    ("v1.37.2", "NoSuchGate", False),
]
CLUSTER = """\
apiVersion: kubeadm.k8s.io/{api}
kind: ClusterConfiguration
kubernetesVersion: {version}
featureGates:
  {gate}: {value}
"""


@pytest.fixture
def node(tmp_path: Path) -> Path:
    return make_node(tmp_path / "node")


def _set(cli, node: Path, version: str, gate: str, value: str = "false"):
    return cli(
        "kubeadm-config", "--kubernetes-version", version, "--out", "/init.yaml", "--root", str(node),
        "--set", f"ClusterConfiguration.featureGates.{gate}={value}",
    )  # fmt: skip


@pytest.mark.parametrize(("version", "gate", "known"), VERDICTS)
def test_set_refuses_a_gate_the_release_does_not_have(cli, node, version, gate, known):
    before = snapshot(node)
    run = _set(cli, node, version, gate)
    if known:
        assert run.exit_code == 0, run.stderr
        return
    minor = version.rsplit(".", 1)[0].removeprefix("v")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr.count("\n") == 1
    assert f"ClusterConfiguration.featureGates.{gate}: kubeadm {minor} has no feature gate {gate!r}" in run.stderr
    assert snapshot(node) == before


@pytest.mark.parametrize(("version", "gate", "known"), VERDICTS)
def test_validate_flags_a_gate_the_release_does_not_have(cli, tmp_path, version, gate, known):
    api = "v1beta3" if version == "v1.30.14" else "v1beta4"
    write(tmp_path / "cfg.yaml", CLUSTER.format(api=api, version=version, gate=gate, value="false"))
    run = cli("validate", "/cfg.yaml", "--root", str(tmp_path), "--json")
    assert run.exit_code == (0 if known else 1), run.stdout
    problems = run.envelope()["data"]["problems"]
    assert [p for p in problems if "feature gate" in p] == ([] if known else problems)


def test_an_unknown_gate_gets_a_did_you_mean(cli, node):
    run = _set(cli, node, "v1.37.2", "RootlesControlPlane")
    assert run.exit_code == 2
    assert run.stderr.endswith("its gates: RootlessControlPlane; did you mean RootlessControlPlane?\n")


def test_a_deprecated_gate_is_written_with_a_warning(cli, node):
    run = _set(cli, node, "v1.37.2", "RootlessControlPlane")
    assert run.exit_code == 0, run.stderr
    assert (
        "k8snode: warning: ClusterConfiguration.featureGates.RootlessControlPlane is deprecated in kubeadm 1.37: "
        "Deprecated in favor of the core kubelet feature UserNamespacesSupport"
    ) in run.stderr


@pytest.mark.parametrize(
    ("version", "gate", "default"),
    [("v1.32.13", "EtcdLearnerMode", "true"), ("v1.35.4", "ControlPlaneKubeletLocalMode", "true")],
)
def test_a_gate_locked_to_its_default_is_written_with_a_warning(cli, node, version, gate, default):
    run = _set(cli, node, version, gate, default)
    assert run.exit_code == 0, run.stderr
    minor = version.rsplit(".", 1)[0].removeprefix("v")
    assert (
        f"k8snode: warning: ClusterConfiguration.featureGates.{gate} is locked to its default ({default}) in kubeadm "
        f"{minor}: the gate is on its way out, and a kubeadm that no longer has it refuses the file; drop it"
    ) in run.stderr


def test_an_alpha_gate_is_written_without_a_warning(cli, node):
    run = _set(cli, node, "v1.32.13", "WaitForAllControlPlaneComponents", "true")
    assert run.exit_code == 0, run.stderr
    assert "featureGates" not in run.stderr


def test_a_release_without_a_gate_list_is_not_checked_and_says_so(cli, tmp_path):
    write(tmp_path / "cfg.yaml", CLUSTER.format(api="v1beta4", version="v1.33.4", gate="NoSuchGate", value="true"))
    run = cli("validate", "/cfg.yaml", "--root", str(tmp_path), "--json")
    assert run.exit_code == 0, run.stdout
    assert run.envelope()["warnings"] == [
        "ClusterConfiguration.featureGates are not checked: k8snode has kubeadm's feature gates of "
        "1.30, 1.32, 1.35, 1.36, 1.37, not of 1.33"
    ]
