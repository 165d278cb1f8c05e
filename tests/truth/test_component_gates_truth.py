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
from required import truth_cache, unavailable

pytestmark = pytest.mark.truth

REPO = Path(__file__).resolve().parents[2]
GATES = REPO / "k8snode" / "kubeadm" / "data" / "component_gates.json"
KINDS = {
    "KubeletConfiguration": "kubelet.config.k8s.io/v1beta1",
    "KubeProxyConfiguration": "kubeproxy.config.k8s.io/v1alpha1",
}
# The releases build-e2e.sh builds a kube-proxy binary for.
E2E_VERSIONS = [
    line.strip()
    for line in (REPO / "tools" / "k8s-truth" / "e2e-versions.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]


def test_the_shipped_gates_are_the_generated_ones(shipped_and_generated) -> None:
    shipped, generated = shipped_and_generated("gen_component_gates.py", "component-gates", GATES)
    assert shipped == generated, "run tools/k8s-truth/gen_component_gates.py"


def test_the_listed_gates_are_the_ones_the_kubelet_help_lists(
    truth_version: str, truth_command: Callable[[str, str], Path]
) -> None:
    """`kubelet --help` lists the alpha and beta gates of its feature gate (KnownFeatures hides GA and deprecated
    ones): the same names as the shipped list of the release."""
    helped = _help_gates(_run([str(truth_command(truth_version, "kubelet-help")), "kubelet-help"]).stdout)
    assert helped == _alpha_and_beta(truth_version)
    print(truth_version, len(helped), "alpha and beta gates in kubelet --help")


@pytest.mark.parametrize("version", E2E_VERSIONS)
def test_the_listed_gates_are_the_ones_the_real_kube_proxy_help_lists(version: str) -> None:
    """The real kube-proxy binary (built by build-e2e.sh) registers the same gates as the kubelet: its `--help`
    lists the alpha and beta names of the shipped list."""
    kube_proxy = truth_cache() / version / "e2e" / "kube-proxy"
    if not kube_proxy.is_file():
        unavailable("K8SNODE_REQUIRE_TRUTH", f"{kube_proxy} is missing: run tools/k8s-truth/build-e2e.sh {version}")
    helped = _help_gates(_run([str(kube_proxy), "--help"]).stdout)
    assert helped == _alpha_and_beta(version)
    print(version, len(helped), "alpha and beta gates in kube-proxy --help")


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
