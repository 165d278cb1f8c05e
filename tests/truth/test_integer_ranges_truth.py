"""k8snode validate and the real kubeadm config validate agree at the bounds of each Go integer type the schemas use:
the lowest and highest value are taken, one below and one above are refused; and on the same numbers written as
floats, which Go's YAML-to-JSON step hands to the integer field as digits.

kubeadm decodes the component configs strictly and does not check these values further, so the bounds are the Go
type's alone. kubeadm's own integer fields (bindPort) are not sampled: both refuse a port over 65535 long before
the int32 bound.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fakes import make_node
from test_kubeadm_config_truth import kubeadm_validate

pytestmark = pytest.mark.truth

BOUNDS = {"int32": (-(2**31), 2**31 - 1), "uint32": (0, 2**32 - 1), "int64": (-(2**63), 2**63 - 1)}
# (kind, the lines set under its "kind:" line with {} for the value, Go type): fields every release in versions.txt has.
SAMPLES = [
    ("KubeProxyConfiguration", "oomScoreAdj: {}", "int32"),
    ("KubeProxyConfiguration", "conntrack:\n  min: {}", "int32"),
    ("KubeletConfiguration", "maxPods: {}", "int32"),
    ("KubeProxyConfiguration", "logging:\n  verbosity: {}", "uint32"),
    ("KubeletConfiguration", "logging:\n  verbosity: {}", "uint32"),
    ("KubeletConfiguration", "maxOpenFiles: {}", "int64"),
    ("KubeletConfiguration", "podPidsLimit: {}", "int64"),
    ("KubeletConfiguration", "logging:\n  flushFrequency: {}", "int64"),  # a duration string or integer nanoseconds
]


def test_k8snode_and_kubeadm_agree_at_the_bounds_of_each_integer_type(
    truth_version: str, truth_bin: Callable[[str], Path], cli, tmp_path: Path
) -> None:
    kubeadm_dir = truth_bin(truth_version)
    node = make_node(tmp_path / "node")
    run = cli("kubeadm-config", "--kubernetes-version", truth_version, "--node-name", "cp-1", "--kubelet-config",
              "--out", "/base.yaml", "--root", str(node))  # fmt: skip
    assert run.exit_code == 0, run.stderr
    base = (node / "base.yaml").read_text()
    verdicts: dict[str, tuple[bool, bool]] = {}
    expected: dict[str, bool] = {}
    for kind, lines, go_type in SAMPLES:
        low, high = BOUNDS[go_type]
        integers = {str(low): True, str(high): True, str(low - 1): False, str(high + 1): False}
        # Floats reach the integer field as the shortest digits Go writes for them (see schema.go_integer): 2**63 - 1
        # as a float64 is 2**63, -2**63 is written -9223372036854776000; both beyond int64.
        floats = {f"{n}.0": None for n in (low, high, low - 1, high + 1)} | {"1e3": True, "5.5": False}
        for text, valid in (integers | floats).items():
            setting = lines.format(text)
            assert base.count(f"kind: {kind}\n") == 1
            path = node / "case.yaml"
            path.write_text(base.replace(f"kind: {kind}\n", f"kind: {kind}\n{setting}\n"))
            ours = cli("validate", "/case.yaml", "--kubernetes-version", truth_version, "--root", str(node))
            assert ours.exit_code in (0, 1), ours.stderr
            theirs = kubeadm_validate(kubeadm_dir, path)
            case = f"{kind} {setting!r}"
            verdicts[case] = (ours.exit_code == 0, theirs.returncode == 0)
            if valid is not None:
                expected[case] = valid
            if text in integers and not valid:
                assert "is out of range for" in ours.stdout, ours.stdout
                assert "cannot unmarshal number" in theirs.stderr, theirs.stderr
    assert {case: verdict for case, verdict in verdicts.items() if verdict[0] != verdict[1]} == {}
    assert {case: verdicts[case][1] for case in expected} == expected
