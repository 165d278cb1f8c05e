"""kubeadm's feature gates: the shipped lists are what the truth build generates, and k8snode's verdict on a gate
name is the real `kubeadm config validate`'s, for each built release."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from fakes import make_node

pytestmark = pytest.mark.truth

REPO = Path(__file__).resolve().parents[2]
GATES = REPO / "k8snode" / "kubeadm" / "data" / "feature_gates.json"
# The names of issue 29, which releases disagree on, and one no release has.
NAMES = ("WaitForAllControlPlaneComponents", "EtcdLearnerMode", "ControlPlaneKubeletLocalMode", "NoSuchGate")


def test_the_shipped_gates_are_the_generated_ones(shipped_and_generated) -> None:
    shipped, generated = shipped_and_generated("gen_kubeadm_gates.py", "kubeadm-gates", GATES)
    assert shipped == generated, "run tools/k8s-truth/gen_kubeadm_gates.py"


def test_k8snode_refuses_the_gate_names_the_real_kubeadm_refuses(
    truth_version: str, truth_command: Callable[[str, str], Path], cli, tmp_path: Path
) -> None:
    k8s_truth = truth_command(truth_version, "kubeadm-gates")
    real = {gate["name"]: gate for gate in json.loads(_run([str(k8s_truth), "kubeadm-gates"]).stdout)["gates"]}
    node = make_node(tmp_path / "node")
    base = cli("kubeadm-config", "--kubernetes-version", truth_version, "--root", str(node))
    assert base.exit_code == 0, base.stderr
    verdicts = {}
    for name in sorted(set(NAMES) | set(real)):
        value = str(real[name]["default"]).lower() if name in real else "true"
        config = tmp_path / f"{name}.yaml"
        config.write_text(_with_gate(base.stdout, name, value))
        kubeadm = _run([str(k8s_truth.parent / "kubeadm"), "config", "validate", "--config", str(config)])
        checked = cli("validate", str(config), "--kubernetes-version", truth_version, "--json")
        written = cli(
            "kubeadm-config", "--kubernetes-version", truth_version, "--root", str(node),
            "--set", f"ClusterConfiguration.featureGates.{name}={value}",
        )  # fmt: skip
        assert (kubeadm.returncode == 0) == (name in real), (name, kubeadm.stderr)
        if kubeadm.returncode != 0:
            assert f"{name} is not a valid feature name" in kubeadm.stderr
        assert (checked.exit_code, written.exit_code) == ((0, 0) if name in real else (1, 2)), (name, checked.stdout)
        verdicts[name] = "accepted" if name in real else "refused"
    print(truth_version, verdicts)


def _with_gate(text: str, name: str, value: str) -> str:
    """``text`` with featureGates {name: value} in its ClusterConfiguration."""
    marker = "kind: ClusterConfiguration\n"
    assert marker in text and "featureGates" not in text.partition(marker)[2].partition("---")[0]
    return text.replace(marker, f"{marker}featureGates:\n  {name}: {value}\n", 1)


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=120)
