"""Whether kube-controller-manager's --node-monitor-grace-period leaves room for the kubelet's heartbeats.

The rule, from the Kubernetes source (read in every release of tools/k8s-truth/versions.txt, from 1.30 to the newest;
the same in each, but for the grace period's default, GRACE_DEFAULTS):

- The node lifecycle controller refreshes a node's probe timestamp when the node's Lease has a newer RenewTime or
  its Ready condition a new lastHeartbeatTime, and marks the node Unknown (NotReady) once now > probe timestamp +
  grace period (pkg/controller/nodelifecycle/node_lifecycle_controller.go, tryUpdateNodeHealth). Its comment on
  nodeMonitorGracePeriod: the node health signal update frequency is the minimum of the two, and the grace period
  "must be N times more than the node health signal update frequency, where N means number of retries allowed for
  kubelet to post node status/lease"; it "should be greater than the sum of HTTP2_PING_TIMEOUT_SECONDS (30s) and
  HTTP2_READ_IDLE_TIMEOUT_SECONDS (15s)". The flag's help says the same
  (cmd/kube-controller-manager/app/options/nodelifecyclecontroller.go).
- N is the kubelet's nodeStatusUpdateRetry = 5 (pkg/kubelet/kubelet.go).
- The Lease is renewed every nodeLeaseDurationSeconds x nodeLeaseRenewIntervalFraction 0.25 (pkg/kubelet/kubelet.go).
- The kubelet syncs its status every nodeStatusUpdateFrequency, and posts it when it changed or when
  nodeStatusReportFrequency has passed since the last post (pkg/kubelet/kubelet.go, JitterUntil of syncNodeStatus;
  pkg/kubelet/kubelet_node_status.go, tryUpdateNodeStatus and isUpdateStatusPeriodExpired): an unchanged status is
  posted every max(nodeStatusUpdateFrequency, nodeStatusReportFrequency).
- Kubelet defaults (pkg/kubelet/apis/config/v1beta1/defaults.go): nodeStatusUpdateFrequency 10s,
  nodeLeaseDurationSeconds 40; nodeStatusReportFrequency 5m, or nodeStatusUpdateFrequency when only that is set.

So the heartbeat interval H = min(Lease renew interval, status post interval), and the check warns when
grace < N x H (fewer than N heartbeats fit in the grace period) and, where the release's flag help asks for it,
when grace <= 45s. It warns only when the configuration sets one of the values: a release's own defaults are
upstream's choice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from k8snode.core.durations import parse_duration
from k8snode.core.versions import KubernetesVersion

NODE_STATUS_UPDATE_RETRY = 5
"""N: pkg/kubelet/kubelet.go nodeStatusUpdateRetry."""
LEASE_RENEW_FRACTION = 0.25
"""pkg/kubelet/kubelet.go nodeLeaseRenewIntervalFraction."""
KUBELET_UPDATE_FREQUENCY = 10.0
KUBELET_REPORT_FREQUENCY = 300.0
KUBELET_LEASE_SECONDS = 40
"""The kubelet's defaults, in seconds (pkg/kubelet/apis/config/v1beta1/defaults.go)."""
HTTP2_TIMEOUTS = 45.0
"""HTTP2_PING_TIMEOUT_SECONDS 30 + HTTP2_READ_IDLE_TIMEOUT_SECONDS 15 (pkg/controller/nodelifecycle/config/
v1alpha1/defaults.go)."""
CHECKED_FROM = (1, 30)
"""The oldest release whose heartbeat model this module holds: the oldest that tools/k8s-truth builds."""


@dataclass(frozen=True)
class GraceDefault:
    """kube-controller-manager's --node-monitor-grace-period default from ``first`` on, and whether its help asks
    for more than the HTTP/2 timeouts (45s)."""

    first: tuple[int, int]
    seconds: float
    http2: bool


GRACE_DEFAULTS = (
    # pkg/controller/nodelifecycle/config/v1alpha1/defaults.go and the flag's help in
    # cmd/kube-controller-manager/app/options/nodelifecyclecontroller.go: 50s and the HTTP/2 sentence in v1.32.13 and
    # every later release built; 40s and no such sentence in v1.30.14. Both came with kubernetes/kubernetes#126287,
    # first in v1.32.0-alpha.2 (CHANGELOG-1.32.md), so 1.31 has 40s.
    GraceDefault((1, 32), 50.0, True),
    GraceDefault((1, 0), 40.0, False),
)


def grace_default(release: KubernetesVersion) -> GraceDefault:
    return next(row for row in GRACE_DEFAULTS if release.minor_version >= row.first)


@dataclass(frozen=True)
class Kubelet:
    """The kubelet's heartbeat settings a configuration gives (None: not set)."""

    update_frequency: str | None = None
    report_frequency: str | None = None
    lease_duration: int | None = None


def check_heartbeats(
    release: KubernetesVersion, kubelet: Kubelet, grace: str | None = None, grace_from: str = ""
) -> str | None:
    """The warning, or None: when the grace period (``grace`` as ``grace_from`` names it, else the release's
    default) is too short for the kubelet's heartbeats. None, too, when nothing is set, the release is older than
    CHECKED_FROM, or a value is not one (its own check reports that)."""
    if release.minor_version < CHECKED_FROM:
        return None
    if grace is None and kubelet == Kubelet():
        return None
    try:
        update = _seconds(kubelet.update_frequency, KUBELET_UPDATE_FREQUENCY)
        report_default = update if kubelet.update_frequency is not None else KUBELET_REPORT_FREQUENCY
        report = _seconds(kubelet.report_frequency, report_default)
        period = _seconds(grace, grace_default(release).seconds)
    except ValueError:
        return None
    lease = kubelet.lease_duration if kubelet.lease_duration is not None else KUBELET_LEASE_SECONDS
    if min(update, report, period) <= 0 or lease <= 0:
        return None
    renew = lease * LEASE_RENEW_FRACTION
    status = max(update, report)
    heartbeat = min(renew, status)
    needed = NODE_STATUS_UPDATE_RETRY * heartbeat
    http2 = grace_default(release).http2
    short = period < needed
    below_http2 = http2 and period <= HTTP2_TIMEOUTS
    if not short and not below_http2:
        return None
    minor = f"{release.major}.{release.minor}"
    grace_text = f"{grace} ({grace_from})" if grace is not None else f"{_show(period)} (the default of {minor})"
    problems = []
    if short:
        problems.append(
            f"fewer than nodeStatusUpdateRetry {NODE_STATUS_UPDATE_RETRY} kubelet heartbeats fit in it: the heartbeat "
            f"interval is {_show(heartbeat)} ({_heartbeat_words(kubelet, renew, status, lease, update, report)}), "
            f"so it must be at least {NODE_STATUS_UPDATE_RETRY} x {_show(heartbeat)} = {_show(needed)}"
        )
    if below_http2:
        problems.append(
            f"kube-controller-manager {minor} asks for more than HTTP2_PING_TIMEOUT_SECONDS + "
            f"HTTP2_READ_IDLE_TIMEOUT_SECONDS = {_show(HTTP2_TIMEOUTS)}"
        )
    minimum = max(needed, HTTP2_TIMEOUTS + 1) if below_http2 else needed
    advice = f"set --node-monitor-grace-period to at least {_show(math.ceil(minimum))}"
    if not below_http2 and period >= NODE_STATUS_UPDATE_RETRY:
        advice += f" or {_kubelet_advice(kubelet, period / NODE_STATUS_UPDATE_RETRY)}"
    return (
        f"kube-controller-manager --node-monitor-grace-period {grace_text} is too short for the kubelet: "
        f"{'; and '.join(problems)}; the node turns NotReady after that long without a heartbeat; {advice}"
    )


def _seconds(text: str | None, default: float) -> float:
    return default if text is None else parse_duration(text) / 1e9


def _show(seconds: float) -> str:
    return f"{seconds:g}s"


def _origin(value: object) -> str:
    return "set" if value is not None else "default"


def _heartbeat_words(kubelet: Kubelet, renew: float, status: float, lease: int, update: float, report: float) -> str:
    lease_words = f"nodeLeaseDurationSeconds {lease} ({_origin(kubelet.lease_duration)}) x {LEASE_RENEW_FRACTION:g}"
    if kubelet.report_frequency is None and kubelet.update_frequency is not None:
        report_words = "follows nodeStatusUpdateFrequency"
    else:
        report_words = _origin(kubelet.report_frequency)
    status_words = (
        f"nodeStatusUpdateFrequency {_show(update)} ({_origin(kubelet.update_frequency)}), "
        f"nodeStatusReportFrequency {_show(report)} ({report_words})"
    )
    lease_part = f"the Lease renewed every {_show(renew)}: {lease_words}"
    return f"{lease_part}; the status posted every {_show(status)}: {status_words}"


def _kubelet_advice(kubelet: Kubelet, limit: float) -> str:
    """The kubelet settings that bring the heartbeat interval down to ``limit`` seconds."""
    lease = math.floor(limit / LEASE_RENEW_FRACTION)
    status_fields = "nodeStatusUpdateFrequency"
    if kubelet.report_frequency is not None:
        status_fields += " and nodeStatusReportFrequency"
    return (
        f"nodeLeaseDurationSeconds to at most {lease}, or {status_fields} to at most {_show(math.floor(limit))}, "
        "in the KubeletConfiguration"
    )
