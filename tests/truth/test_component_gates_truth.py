"""The kubelet's and kube-proxy's feature gates: the shipped lists are what the truth build generates, and k8snode's
verdict on a featureGates map is the real feature gate's: `k8s-truth component-gates-set` applies it with SetFromMap
to a fresh copy of utilfeature.DefaultMutableFeatureGate, as the kubelet and kube-proxy apply theirs."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from required import e2e_binary

pytestmark = pytest.mark.truth

REPO = Path(__file__).resolve().parents[2]
GATES = REPO / "k8snode" / "kubeadm" / "data" / "component_gates.json"
KINDS = {
    "KubeletConfiguration": "kubelet.config.k8s.io/v1beta1",
    "KubeProxyConfiguration": "kubeproxy.config.k8s.io/v1alpha1",
}


def test_the_shipped_gates_are_the_generated_ones(shipped_and_generated) -> None:
    shipped, generated = shipped_and_generated("gen_component_gates.py", "component-gates", GATES)
    assert shipped == generated, "run tools/k8s-truth/gen_component_gates.py"


@pytest.mark.parametrize("component", ["kubelet", "kube-proxy"])
def test_the_listed_gates_are_the_ones_the_real_components_help_lists(component: str, e2e_version: str) -> None:
    """The real kubelet and kube-proxy (built by build-e2e.sh) list the alpha and beta gates of their feature gate in
    `--help` (KnownFeatures hides GA and deprecated ones): the same names as the shipped list of the release."""
    helped = _help_gates(_run([str(e2e_binary(e2e_version, component)), "--help"]).stdout)
    assert helped == _alpha_and_beta(e2e_version)
    print(e2e_version, len(helped), f"alpha and beta gates in {component} --help")


def test_k8snode_refuses_the_gate_maps_the_real_feature_gate_refuses(
    truth_version: str, truth_command: Callable[[str, str], Path], cli, tmp_path: Path
) -> None:
    k8s_truth = truth_command(truth_version, "component-gates-set")
    real = {gate["name"]: gate for gate in json.loads(_run([str(k8s_truth), "component-gates"]).stdout)["gates"]}
    cases = _cases(real)
    lines = "".join(json.dumps(gates) + "\n" for gates in cases)
    answers = [json.loads(line) for line in _run([str(k8s_truth), "component-gates-set"], lines).stdout.splitlines()]
    assert [answer["gates"] for answer in answers] == cases
    verdicts = []
    for index, (gates, answer) in enumerate(zip(cases, answers, strict=True)):
        for kind, api in KINDS.items():
            config = tmp_path / f"{index}-{kind}.yaml"
            config.write_text(
                f"apiVersion: {api}\nkind: {kind}\nfeatureGates:\n"
                + "".join(f"  {name}: {str(value).lower()}\n" for name, value in gates.items())
            )
            checked = cli("validate", str(config), "--kubernetes-version", truth_version, "--json")
            assert checked.exit_code == (0 if answer["error"] == "" else 1), (gates, answer, checked.stdout)
        verdicts.append((sorted(gates) if len(gates) < 3 else f"{len(gates)} gates", answer["error"] or "accepted"))
    print(truth_version, verdicts)


def _cases(real: dict[str, dict]) -> list[dict[str, bool]]:
    """Every gate at its default (one map), a made-up name, a misspelt one, kubeadm's gate that no component has,
    NFTablesProxyMode on (k8snode writes it for kube-proxy 1.29-1.30) and off, and for each stage and lock the first
    gate at its default, and a locked one set to the other value."""
    cases: list[dict[str, bool]] = [{name: gate["default"] for name, gate in real.items()}]
    cases += [{"NoSuchGate": True}, {"NFTablesProxyModes": True}, {"WaitForAllControlPlaneComponents": True}]
    cases += [{"NFTablesProxyMode": True}, {"NFTablesProxyMode": False}]
    seen: set[tuple[str, bool]] = set()
    for name, gate in sorted(real.items()):
        if (gate["stage"], gate["locked"]) not in seen:
            seen.add((gate["stage"], gate["locked"]))
            cases.append({name: gate["default"]})
            if gate["locked"]:
                cases.append({name: not gate["default"]})
    return cases


def _help_gates(help_text: str) -> set[str]:
    """The gate names the --feature-gates entry of a component's --help lists, one "NAME=true|false (...)" a line."""
    entry = help_text.partition("--feature-gates ")[2]
    names = []
    for line in entry.splitlines()[1:]:
        found = re.fullmatch(r"\s+([A-Za-z0-9]+)=true\|false \(.*", line)
        if found is None:
            break
        names.append(found.group(1))
    return set(names)


def _alpha_and_beta(version: str) -> set[str]:
    minor = ".".join(version.removeprefix("v").split(".")[:2])
    gates = json.loads(GATES.read_text())["releases"][minor]["gates"]
    return {name for name, gate in gates.items() if gate["stage"] in ("ALPHA", "BETA")}


def _run(command: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done
