"""`k8snode kubelet-flags --node-monitor-grace-period`: the warning when kube-controller-manager's grace period is
too short for the kubelet's heartbeats (k8snode/core/heartbeat.py)."""

from __future__ import annotations

from fakes import snapshot

PREFIX = "k8snode: warning: kube-controller-manager --node-monitor-grace-period"


def warnings(cli, *options: str) -> list[str]:
    run = cli("kubelet-flags", *options, "--json")
    assert run.exit_code == 0, run.stderr
    return run.envelope()["warnings"]


def test_a_grace_period_of_30s_is_too_short_and_the_warning_names_both_values_n_h_and_the_fix(cli):
    assert warnings(cli, "--node-monitor-grace-period", "30s") == [
        "kube-controller-manager --node-monitor-grace-period 30s (given) is too short for the kubelet: fewer than "
        "nodeStatusUpdateRetry 5 kubelet heartbeats fit in it: the heartbeat interval is 10s (the Lease renewed every "
        "10s: nodeLeaseDurationSeconds 40 (default) x 0.25; the status posted every 10s: nodeStatusUpdateFrequency "
        "10s (set), nodeStatusReportFrequency 10s (follows nodeStatusUpdateFrequency)), so it must be at least "
        "5 x 10s = 50s; and kube-controller-manager 1.37 asks for more than HTTP2_PING_TIMEOUT_SECONDS + "
        "HTTP2_READ_IDLE_TIMEOUT_SECONDS = 45s; the node turns NotReady after that long without a heartbeat; set "
        "--node-monitor-grace-period to at least 50s"
    ]
    run = cli("kubelet-flags", "--node-monitor-grace-period", "30s")
    assert run.exit_code == 0
    assert run.stderr.startswith(f"{PREFIX} 30s (given) is too short")
    assert "nodeStatusUpdateFrequency: 10s" in run.stdout


def test_the_default_grace_period_fits_the_default_heartbeats(cli):
    assert warnings(cli) == []
    assert warnings(cli, "--node-monitor-grace-period", "50s") == []  # exactly 5 x 10s, and more than 45s
    # A slower status post alone is fine: the Lease is still renewed every 10s, and H is the shorter of the two.
    assert warnings(cli, "--node-status-update-frequency", "20s") == []


def test_a_grace_period_below_n_heartbeats_names_the_kubelet_settings_that_would_fit(cli):
    (warning,) = warnings(cli, "--node-monitor-grace-period", "48s")
    assert warning.startswith("kube-controller-manager --node-monitor-grace-period 48s (given) is too short")
    assert "HTTP2" not in warning
    assert warning.endswith(
        "set --node-monitor-grace-period to at least 50s or nodeLeaseDurationSeconds to at most 38, or "
        "nodeStatusUpdateFrequency to at most 9s, in the KubeletConfiguration"
    )


def test_an_old_release_has_the_40s_default_and_1_32_the_50s_one(cli):
    (old,) = warnings(cli, "--kubernetes-version", "v1.31.14")
    assert old.startswith("kube-controller-manager --node-monitor-grace-period 40s (the default of 1.31) is too short")
    assert "must be at least 5 x 10s = 50s" in old
    assert warnings(cli, "--kubernetes-version", "v1.32.13") == []
    assert warnings(cli, "--kubernetes-version", "v1.30.14", "--node-monitor-grace-period", "50s") == []


def test_the_http2_bound_of_45s_applies_from_1_32(cli):
    fast = ["--node-status-update-frequency", "5s", "--node-monitor-grace-period", "45s"]  # 45s >= 5 x 5s
    (warning,) = warnings(cli, "--kubernetes-version", "v1.32.13", *fast)
    assert "fewer than" not in warning
    assert "kube-controller-manager 1.32 asks for more than HTTP2_PING_TIMEOUT_SECONDS" in warning
    assert warning.endswith("set --node-monitor-grace-period to at least 46s")
    assert warnings(cli, "--kubernetes-version", "v1.31.14", *fast) == []
    assert warnings(cli, "--kubernetes-version", "v1.32.13", *fast[:2], "--node-monitor-grace-period", "46s") == []


def test_releases_before_the_checked_ones_are_not_checked(cli):
    assert warnings(cli, "--kubernetes-version", "v1.29.0", "--node-monitor-grace-period", "10s") == []


def test_a_bad_grace_period_is_exit_2_in_one_line_and_changes_nothing(cli, tmp_path):
    before = snapshot(tmp_path)
    for bad, why in (("50", "missing unit in duration '50'"), ("0s", "must be more than zero, not 0s")):
        options = ["--node-monitor-grace-period", bad, "--out", "/etc/kubernetes/kubelet.yaml"]
        run = cli("kubelet-flags", *options, "--root", str(tmp_path))
        assert run.exit_code == 2
        assert len(run.stderr.splitlines()) == 1
        assert why in run.stderr
        assert run.stderr.startswith("k8snode: error: --node-monitor-grace-period")
    assert snapshot(tmp_path) == before
    # The same command line with a good grace period writes the file: the snapshot would have seen a write.
    good = cli(
        "kubelet-flags",
        "--node-monitor-grace-period",
        "50s",
        "--out",
        "/etc/kubernetes/kubelet.yaml",
        "--root",
        str(tmp_path),
    )
    assert good.exit_code == 0
    assert "etc/kubernetes/kubelet.yaml" in snapshot(tmp_path)
