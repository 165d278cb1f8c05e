"""`k8snode validate`: kube-controller-manager's node-monitor-grace-period (the ClusterConfiguration's
controllerManager extraArgs, else the release default) against the KubeletConfiguration's heartbeats
(k8snode/core/heartbeat.py)."""

from __future__ import annotations

import pytest
from fakes import write

V1BETA4_GRACE = """\
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: {version}
controllerManager:
  extraArgs:
  - name: bind-address
    value: 0.0.0.0
{arguments}"""
V1BETA3_GRACE = """\
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
kubernetesVersion: v1.36.3
controllerManager:
  extraArgs:
    bind-address: 0.0.0.0
    node-monitor-grace-period: {grace}
"""
KUBELET = """\
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
"""


def grace_args(*values: str) -> str:
    return "".join(f"  - name: node-monitor-grace-period\n    value: {value}\n" for value in values)


@pytest.fixture
def heartbeat_warnings(cli, tmp_path):
    """heartbeat_warnings(text) -> the warnings of `k8snode validate --json` about the grace period."""
    root = tmp_path / "root"
    root.mkdir()

    def run(text: str) -> list[str]:
        write(root / "cfg.yaml", text)
        done = cli("validate", "/cfg.yaml", "--root", str(root), "--json")
        assert done.exit_code == 0, done.stdout
        return [w for w in done.envelope()["warnings"] if "node-monitor-grace-period" in w]

    return run


def test_a_v1beta4_list_grace_of_30s_is_too_short(heartbeat_warnings):
    assert heartbeat_warnings(V1BETA4_GRACE.format(version="v1.37.2", arguments=grace_args("30s"))) == [
        "kube-controller-manager --node-monitor-grace-period 30s (ClusterConfiguration.controllerManager.extraArgs) "
        "is too short for the kubelet: fewer than nodeStatusUpdateRetry 5 kubelet heartbeats fit in it: the "
        "heartbeat interval is 10s (the Lease renewed every 10s: nodeLeaseDurationSeconds 40 (default) x 0.25; the "
        "status posted every 300s: nodeStatusUpdateFrequency 10s (default), nodeStatusReportFrequency 300s "
        "(default)), so it must be at least 5 x 10s = 50s; and kube-controller-manager 1.37 asks for more than "
        "HTTP2_PING_TIMEOUT_SECONDS + HTTP2_READ_IDLE_TIMEOUT_SECONDS = 45s; the node turns NotReady after that long "
        "without a heartbeat; set --node-monitor-grace-period to at least 50s"
    ]


def test_the_last_of_repeated_v1beta4_arguments_wins(heartbeat_warnings):
    assert heartbeat_warnings(V1BETA4_GRACE.format(version="v1.37.2", arguments=grace_args("30s", "60s"))) == []
    assert len(heartbeat_warnings(V1BETA4_GRACE.format(version="v1.37.2", arguments=grace_args("60s", "30s")))) == 1


def test_a_v1beta3_map_grace_is_read_too(heartbeat_warnings):
    (warning,) = heartbeat_warnings(V1BETA3_GRACE.format(grace="30s"))
    assert warning.startswith("kube-controller-manager --node-monitor-grace-period 30s (ClusterConfiguration.")
    assert "kube-controller-manager 1.36 asks for more than" in warning
    assert heartbeat_warnings(V1BETA3_GRACE.format(grace="1m")) == []


def test_slower_heartbeats_with_the_default_grace_warn_with_what_would_be_enough(heartbeat_warnings):
    kubelet = KUBELET + "nodeStatusUpdateFrequency: 20s\nnodeLeaseDurationSeconds: 80\n"
    (warning,) = heartbeat_warnings(V1BETA4_GRACE.format(version="v1.37.2", arguments="") + kubelet)
    assert warning == (
        "kube-controller-manager --node-monitor-grace-period 50s (the default of 1.37) is too short for the kubelet: "
        "fewer than nodeStatusUpdateRetry 5 kubelet heartbeats fit in it: the heartbeat interval is 20s (the Lease "
        "renewed every 20s: nodeLeaseDurationSeconds 80 (set) x 0.25; the status posted every 20s: "
        "nodeStatusUpdateFrequency 20s (set), nodeStatusReportFrequency 20s (follows nodeStatusUpdateFrequency)), so "
        "it must be at least 5 x 20s = 100s; the node turns NotReady after that long without a heartbeat; set "
        "--node-monitor-grace-period to at least 100s or nodeLeaseDurationSeconds to at most 40, or "
        "nodeStatusUpdateFrequency to at most 10s, in the KubeletConfiguration"
    )
    grace = grace_args("100s")
    assert heartbeat_warnings(V1BETA4_GRACE.format(version="v1.37.2", arguments=grace) + kubelet) == []
    # 80.0 is the kubelet's 80 too (sigs.k8s.io/yaml goes through JSON: core/schema.go_integer), not an unset field.
    as_float = kubelet.replace("nodeLeaseDurationSeconds: 80", "nodeLeaseDurationSeconds: 80.0")
    assert heartbeat_warnings(V1BETA4_GRACE.format(version="v1.37.2", arguments="") + as_float) == [warning]


def test_a_slower_status_alone_does_not_warn_while_the_lease_renews_every_10s(heartbeat_warnings):
    kubelet = KUBELET + "nodeStatusUpdateFrequency: 20s\nnodeStatusReportFrequency: 1m\n"
    assert heartbeat_warnings(V1BETA4_GRACE.format(version="v1.37.2", arguments="") + kubelet) == []


def test_an_old_release_has_the_40s_default_and_1_32_the_50s_one(heartbeat_warnings):
    kubelet = KUBELET + "nodeStatusUpdateFrequency: 10s\n"
    (old,) = heartbeat_warnings(V1BETA4_GRACE.format(version="v1.31.14", arguments="") + kubelet)
    assert old.startswith("kube-controller-manager --node-monitor-grace-period 40s (the default of 1.31) is too short")
    assert heartbeat_warnings(V1BETA4_GRACE.format(version="v1.32.13", arguments="") + kubelet) == []


def test_nothing_set_is_upstreams_choice_and_not_warned(heartbeat_warnings):
    assert heartbeat_warnings(V1BETA4_GRACE.format(version="v1.31.14", arguments="")) == []
    assert (
        heartbeat_warnings(V1BETA4_GRACE.format(version="v1.31.14", arguments="") + KUBELET + "registerNode: true\n")
        == []
    )


def test_the_status_is_posted_no_more_often_than_the_kubelet_syncs_it(heartbeat_warnings):
    # The kubelet syncs its status every nodeStatusUpdateFrequency (1m) and posts it then, so a shorter
    # nodeStatusReportFrequency (10s) does not make the status a 10s heartbeat; the Lease is renewed every 60s.
    kubelet = KUBELET + "nodeStatusUpdateFrequency: 1m\nnodeStatusReportFrequency: 10s\nnodeLeaseDurationSeconds: 240\n"
    (warning,) = heartbeat_warnings(V1BETA4_GRACE.format(version="v1.37.2", arguments="") + kubelet)
    assert "the status posted every 60s: nodeStatusUpdateFrequency 60s (set), nodeStatusReportFrequency 10s (set)" in (
        warning
    )
    assert "so it must be at least 5 x 60s = 300s" in warning
    assert "nodeStatusUpdateFrequency and nodeStatusReportFrequency to at most 10s" in warning
