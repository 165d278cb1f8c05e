"""k8snode.runtime.support against the facts as its sources state them (the expected values are copied from the
sources, not from support.py's tables): containerd RELEASES.md v2.4.2, cri-o README, kubernetes v1.37.2."""

from __future__ import annotations

from datetime import date

import pytest

from k8snode.core.versions import parse_kubernetes_version
from k8snode.runtime import support
from k8snode.runtime.model import Status, Wanted

TODAY = date(2026, 12, 7)


def release(text: str):
    parsed = parse_kubernetes_version(text)
    assert parsed is not None
    return parsed


@pytest.mark.parametrize(
    ("kubernetes", "version", "status"),
    [
        # RELEASES.md v2.4.2, Kubernetes Support: "| 1.37 | 2.4.0+, 2.3.0+ | v1 |"
        ("v1.37.2", "2.4.2", Status.OK),
        ("v1.37.2", "v2.4.0", Status.OK),
        ("v1.37.0", "2.3.0", Status.OK),
        ("v1.37.2", "2.2.5", Status.PROBLEM),
        ("v1.37.2", "1.7.28", Status.PROBLEM),
        ("v1.37.2", "1.6.20~ds1", Status.PROBLEM),  # Debian 12's containerd
        # "| 1.34 | 2.1.3+, 2.0.6+, 1.7.28+, 1.6.39+ | v1 |"
        ("v1.34.1", "1.6.39", Status.OK),
        ("v1.34.1", "1.6.38", Status.PROBLEM),
        ("v1.34.1", "2.1.2", Status.PROBLEM),
        ("v1.34.1", "2.0.6", Status.OK),
        # "| 1.35 | 2.2.0+, 2.1.5+, 1.7.28+ | v1 |": 1.6 is gone from the row
        ("v1.35.0", "1.6.39", Status.PROBLEM),
        ("v1.35.0", "1.7.28", Status.OK),
        # the table starts at 1.32 and ends at 1.37
        ("v1.31.9", "1.7.20", Status.UNKNOWN),
        ("v1.38.0", "2.4.2", Status.UNKNOWN),
    ],
)
def test_containerd_versions_per_kubernetes_release(kubernetes, version, status):
    finding = support.assess_version("containerd", version, release(kubernetes), today=TODAY)
    assert (finding.id, finding.status, finding.preflight) == ("version", status, "ContainerRuntimeVersion")


def test_the_1_37_row_and_the_end_of_life_of_containerd_1_6():
    finding = support.assess_version("containerd", "1.6.20", release("v1.37.2"), today=TODAY)
    assert finding.wanted == "2.4.0+, 2.3.0+"
    assert finding.detail.endswith("containerd 1.6 reached its end of life on 2025-08-23")
    before = support.assess_version("containerd", "1.6.20", release("v1.37.2"), today=date(2025, 8, 22))
    assert "end of life" not in before.detail
    # 1.7's extended support runs through September 2026 (a month, no day)
    assert "2026-09" in support.assess_version("containerd", "1.7.28", release("v1.37.2"), today=TODAY).detail
    assert "end of life" not in support.assess_version("containerd", "2.4.2", release("v1.37.2"), today=TODAY).detail


@pytest.mark.parametrize(
    ("version", "status"),
    [("1.37.0", Status.OK), ("v1.37.3", Status.OK), ("1.36.4", Status.PROBLEM), ("1.38.0", Status.PROBLEM)],
)
def test_crio_minor_follows_the_kubernetes_minor(version, status):
    """cri-o README: CRI-O `release-1.x` (v1.x.y) goes with Kubernetes `release-1.x` (v1.x.z)."""
    finding = support.assess_version("crio", version, release("v1.37.2"))
    assert (finding.status, finding.wanted) == (status, "1.37.x")


@pytest.mark.parametrize("version", [None, "", "unknown", "crio"])
def test_a_version_that_cannot_be_read_is_unknown(version):
    assert support.assess_version("crio", version, release("v1.37.2")).status == Status.UNKNOWN


@pytest.mark.parametrize(
    ("runtime", "version", "kubernetes", "from_runtime"),
    [
        # the gate: alpha and off in 1.28-1.30, on from 1.31 (beta), GA 1.34 (kube_features.go)
        ("containerd", "2.4.2", "v1.30.14", False),
        ("containerd", "2.0.0", "v1.31.0", True),
        ("containerd", "2.4.2", "v1.37.2", True),
        # RuntimeConfig: containerd from v2.0.0 (containerd#8722), CRI-O from v1.28.0
        ("containerd", "1.7.28", "v1.37.2", False),
        ("crio", "1.28.0", "v1.31.0", True),
        ("crio", "1.27.4", "v1.31.0", False),
        ("crio", None, "v1.37.2", None),
    ],
)
def test_whose_cgroup_driver_the_kubelet_uses(runtime, version, kubernetes, from_runtime):
    assert support.cgroup_driver_rule(runtime, version, release(kubernetes)).from_runtime is from_runtime


def test_the_fallback_to_the_kubelets_own_driver_ends_in_1_38():
    """server.go counts CRILosingSupport for "1.38.0"; kubernetes/enhancements#6087 moved the end from 1.37 to 1.38."""
    rule = support.cgroup_driver_rule("containerd", "1.7.28", release("v1.37.2"))
    assert "falls back to its own cgroupDriver, a fallback that ends in 1.38" in rule.detail
    later = support.cgroup_driver_rule("containerd", "1.7.28", release("v1.38.0"))
    assert "does not start" in later.detail


@pytest.mark.parametrize(
    ("version", "kubelet", "on_systemd", "found", "status", "wanted"),
    [
        # the kubelet follows a runtime that reports its driver: the runtime's must suit the host
        ("2.4.2", "cgroupfs", True, "systemd", Status.OK, "systemd"),
        ("2.4.2", "systemd", True, "cgroupfs", Status.DRIFT, "systemd"),
        ("2.4.2", "systemd", False, "cgroupfs", Status.OK, "cgroupfs"),
        # a runtime without RuntimeConfig: the two settings must agree
        ("1.7.28", "cgroupfs", True, "cgroupfs", Status.OK, "cgroupfs"),
        ("1.7.28", "systemd", True, "cgroupfs", Status.DRIFT, "systemd"),
    ],
)
def test_the_cgroup_driver_check_follows_the_rule(version, kubelet, on_systemd, found, status, wanted):
    rule = support.cgroup_driver_rule("containerd", version, release("v1.37.2"))
    wants = Wanted(release("v1.37.2"), kubelet, "--kubelet-config k.yaml: cgroupDriver", "registry.k8s.io/pause:3.10.2")
    finding = support.cgroup_driver_finding(rule, wants, on_systemd, found, "SystemdCgroup")
    assert (finding.id, finding.status, finding.wanted) == ("cgroup_driver", status, wanted)
    if status == Status.OK and kubelet != found:
        ignored = f"the kubelet's cgroupDriver {kubelet} (--kubelet-config k.yaml: cgroupDriver) is ignored"
        assert finding.detail.endswith(ignored)


def test_the_kubelet_refuses_cgroup_v1_from_1_35():
    """failCgroupV1 defaults to true from 1.35 (kubernetes/kubernetes#134298, KEP-5573)."""
    assert support.refuses_cgroup_v1(release("v1.35.0"))
    assert support.refuses_cgroup_v1(release("v1.37.2"))
    assert not support.refuses_cgroup_v1(release("v1.34.3"))
