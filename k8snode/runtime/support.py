"""Which runtime versions a kubelet release supports, and whose cgroup driver the kubelet uses: the cited facts.

Sources, each read again before it went in:

- containerd RELEASES.md at v2.4.2 (github.com/containerd/containerd), "Kubernetes Support": the containerd
  versions recommended for each Kubernetes release (``CONTAINERD_FOR_KUBERNETES``), and "Current State of containerd
  Releases": the end of life of each minor (``CONTAINERD_END_OF_LIFE``).
- cri-o README.md, "Compatibility matrix: CRI-O ⬄ Kubernetes": CRI-O's minor follows the Kubernetes minor
  (``release-1.x`` branch, v1.x.y, for Kubernetes ``release-1.x``).
- kubernetes v1.37 pkg/features/kube_features.go: ``KubeletCgroupDriverFromCRI`` alpha (off) in 1.28, beta (on) in
  1.31, GA and locked on in 1.34. cmd/kubelet/app/server.go ``getCgroupDriverFromCRI``: the kubelet asks the runtime
  (the ``RuntimeConfig`` CRI call) and uses its driver; a runtime answering Unimplemented makes it fall back to its
  own ``cgroupDriver`` and count ``CRILosingSupport`` for "1.38.0". kubernetes/enhancements#6087 (KEP-4033) moved the
  end of that fallback from 1.37 to 1.38; kubernetes/kubernetes#136731 (open) removes it. kubeadm's
  ``ContainerRuntimeVersion`` preflight check warns about such a runtime (kubernetes/kubernetes#139122).
- The runtimes that answer ``RuntimeConfig``: containerd from v2.0.0 (containerd/containerd#8722; its backport to 1.7,
  containerd/containerd#11346, was closed unmerged), CRI-O from v1.28.0 (kubernetes/website
  content/en/blog/_posts/2024-08-21-cgroup-driver-from-cri.md).
- The kubelet refuses cgroup v1 by default from 1.35: ``failCgroupV1`` defaults to true
  (kubernetes/kubernetes#134298, KEP-5573; pkg/kubelet/apis/config/v1beta1/defaults.go at v1.37).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from k8snode.core.system import System
from k8snode.core.versions import KubernetesVersion
from k8snode.runtime.model import Finding, Status, Wanted

CONTAINERD = "containerd"
CRIO = "crio"

CONTAINERD_FOR_KUBERNETES: dict[tuple[int, int], tuple[tuple[int, int, int], ...]] = {
    # containerd RELEASES.md v2.4.2, "Kubernetes Support": each entry is "MAJOR.MINOR.PATCH+" of one containerd minor.
    (1, 32): ((2, 1, 0), (2, 0, 1), (1, 7, 24), (1, 6, 36)),
    (1, 33): ((2, 1, 0), (2, 0, 4), (1, 7, 24), (1, 6, 36)),
    (1, 34): ((2, 1, 3), (2, 0, 6), (1, 7, 28), (1, 6, 39)),
    (1, 35): ((2, 2, 0), (2, 1, 5), (1, 7, 28)),
    (1, 36): ((2, 3, 0), (2, 2, 0)),
    (1, 37): ((2, 4, 0), (2, 3, 0)),
}
CONTAINERD_END_OF_LIFE: dict[tuple[int, int], str] = {
    # containerd RELEASES.md v2.4.2, "Current State of containerd Releases" (ISO; a month where it names no day).
    (1, 5): "2023-02-28",
    (1, 6): "2025-08-23",
    (1, 7): "2026-09",  # extended support by two maintainers, for GKE's 1.30-1.32; the committers' ended 2026-03-10
    (2, 0): "2027-03",  # extended support by two maintainers, for GKE's 1.33; the committers' ended 2025-11-07
    (2, 1): "2026-07-03",
    (2, 2): "2026-11-06",
    (2, 3): "2028-04-30",
    (2, 4): "2027-05-16",
}
CONTAINERD_TABLE = "containerd RELEASES.md (v2.4.2), Kubernetes Support"
RUNTIME_CONFIG_SINCE = {CONTAINERD: (2, 0, 0), CRIO: (1, 28, 0)}
"""The first version of each runtime that answers the RuntimeConfig CRI call with its cgroup driver."""
DRIVER_FROM_CRI_SINCE = (1, 31)
"""KubeletCgroupDriverFromCRI on by default (beta 1.31, GA 1.34); alpha and off in 1.28-1.30."""
FALLBACK_ENDS = (1, 38)
"""The release planned to drop the kubelet's fallback to its own cgroupDriver (kubernetes/enhancements#6087)."""
FAIL_CGROUP_V1_SINCE = (1, 35)
"""failCgroupV1 defaults to true from this release (kubernetes/kubernetes#134298, KEP-5573)."""
SYSTEMD_BOOTED = "/run/systemd/system"
SYSTEMD_BINARIES = ("/usr/lib/systemd/systemd", "/lib/systemd/systemd")

_VERSION = re.compile(r"v?([0-9]{1,9})\.([0-9]{1,9})(?:\.([0-9]{1,9}))?")


def parse_runtime_version(text: str | None) -> tuple[int, int, int] | None:
    """MAJOR.MINOR.PATCH at the start of ``text`` ("2.4.2", "v2.4.2", "1.6.20~ds1", CRI-O's "1.37.0"); None when
    it does not start with one."""
    match = _VERSION.match((text or "").strip())
    if match is None:
        return None
    return int(match[1]), int(match[2]), int(match[3] or 0)


def assess_version(runtime: str, version: str | None, release: KubernetesVersion, today: date | None = None) -> Finding:
    """The ``version`` finding: does ``runtime`` at ``version`` suit the kubelet of ``release``?"""
    minor = release.minor_version
    parsed = parse_runtime_version(version)
    if parsed is None:
        detail = f"cannot tell the {runtime} version" + (f" from {version!r}" if version else ": it did not say one")
        return Finding("version", Status.UNKNOWN, version, None, detail, "ContainerRuntimeVersion")
    shown = ".".join(map(str, parsed))
    if runtime == CRIO:
        wanted = f"{minor[0]}.{minor[1]}.x"
        if parsed[:2] == minor:
            detail = f"CRI-O {shown} is the CRI-O of Kubernetes {minor[0]}.{minor[1]} (cri-o README)"
            return Finding("version", Status.OK, shown, wanted, detail, "ContainerRuntimeVersion")
        detail = (
            f"CRI-O {shown} is the CRI-O of Kubernetes {parsed[0]}.{parsed[1]}, not of the kubelet {release}: install "
            f"CRI-O {minor[0]}.{minor[1]} (its minor follows Kubernetes's; cri-o README: Compatibility matrix)"
        )
        return Finding("version", Status.PROBLEM, shown, wanted, detail, "ContainerRuntimeVersion")
    supported = CONTAINERD_FOR_KUBERNETES.get(minor)
    if supported is None:
        known = ", ".join(f"{a}.{b}" for a, b in CONTAINERD_FOR_KUBERNETES)
        detail = f"{CONTAINERD_TABLE} has no row for Kubernetes {minor[0]}.{minor[1]} (it has {known})"
        return Finding("version", Status.UNKNOWN, shown, None, detail, "ContainerRuntimeVersion")
    wanted = ", ".join(f"{a}.{b}.{c}+" for a, b, c in supported)
    eol = _end_of_life(parsed, today or date.today())
    for floor in supported:
        if parsed[:2] == floor[:2] and parsed >= floor:
            detail = f"containerd {shown} is supported with Kubernetes {minor[0]}.{minor[1]} ({CONTAINERD_TABLE})"
            return Finding("version", Status.OK, shown, wanted, detail + eol, "ContainerRuntimeVersion")
    detail = (
        f"containerd {shown} is not among the versions for Kubernetes {minor[0]}.{minor[1]} ({wanted}; "
        f"{CONTAINERD_TABLE}): upgrade containerd"
    )
    return Finding("version", Status.PROBLEM, shown, wanted, detail + eol, "ContainerRuntimeVersion")


def _end_of_life(version: tuple[int, int, int], today: date) -> str:
    ends = CONTAINERD_END_OF_LIFE.get(version[:2])
    if ends is None or ends > today.isoformat()[: len(ends)]:
        return ""
    return f"; containerd {version[0]}.{version[1]} reached its end of life on {ends}"


@dataclass(frozen=True)
class DriverRule:
    """Whose cgroup driver the kubelet of a release uses with a runtime at a version."""

    from_runtime: bool | None
    """True: the kubelet takes the runtime's driver (RuntimeConfig) and ignores its own cgroupDriver; False: it uses
    its own cgroupDriver, which must then equal the runtime's; None: the runtime's version is unknown."""
    detail: str


def cgroup_driver_rule(runtime: str, version: str | None, release: KubernetesVersion) -> DriverRule:
    """Whether the kubelet of ``release`` takes the cgroup driver from ``runtime`` at ``version`` (see the module's
    sources: KubeletCgroupDriverFromCRI, getCgroupDriverFromCRI)."""
    minor = release.minor_version
    if minor < DRIVER_FROM_CRI_SINCE:
        return DriverRule(False, f"kubelet {release} uses its own cgroupDriver (KubeletCgroupDriverFromCRI is off)")
    parsed = parse_runtime_version(version)
    if parsed is None:
        return DriverRule(None, f"the {runtime} version is unknown: whether the kubelet takes its driver is too")
    since = RUNTIME_CONFIG_SINCE[runtime]
    if parsed >= since:
        shown = ".".join(map(str, parsed))
        detail = f"kubelet {release} takes the cgroup driver from {runtime} {shown} (its RuntimeConfig CRI call)"
        return DriverRule(True, detail)
    first = ".".join(map(str, since))
    if minor >= FALLBACK_ENDS:
        detail = (
            f"{runtime} before {first} lacks the RuntimeConfig CRI call, without which kubelet {release} does not "
            "start (KEP-4033): upgrade the runtime"
        )
        return DriverRule(False, detail)
    detail = (
        f"{runtime} before {first} lacks the RuntimeConfig CRI call: kubelet {release} falls back to its own "
        f"cgroupDriver, a fallback that ends in {FALLBACK_ENDS[0]}.{FALLBACK_ENDS[1]} (kubernetes/enhancements#6087)"
    )
    return DriverRule(False, detail)


def refuses_cgroup_v1(release: KubernetesVersion) -> bool:
    """The kubelet of ``release`` does not start on a cgroup v1 host unless failCgroupV1: false."""
    return release.minor_version >= FAIL_CGROUP_V1_SINCE


def systemd_host(system: System) -> bool:
    """The host runs systemd (sd_booted(3): /run/systemd/system), or will at boot (an image or chroot with systemd)."""
    booted = system.path(SYSTEMD_BOOTED).is_dir()
    return booted or any(system.exists(binary) for binary in SYSTEMD_BINARIES)


def runtime_driver(rule: DriverRule, wanted: Wanted, on_systemd: bool) -> tuple[str, str]:
    """The cgroup driver the runtime must use, and why. A kubelet that follows the runtime ignores its own setting,
    so the runtime's driver must suit the host: systemd on a systemd host (the cgroup single-writer rule), cgroupfs
    elsewhere. Otherwise the runtime's must equal the kubelet's cgroupDriver."""
    if rule.from_runtime:
        driver = "systemd" if on_systemd else "cgroupfs"
        return driver, "a host that runs systemd" if on_systemd else "a host without systemd"
    return wanted.cgroup_driver, f"the kubelet's cgroupDriver ({wanted.cgroup_driver_source})"


def cgroup_driver_finding(rule: DriverRule, wanted: Wanted, on_systemd: bool, found: str, where: str) -> Finding:
    """The ``cgroup_driver`` finding for a runtime whose configuration sets ``found`` (``where``: the file and
    setting, or the runtime's default). DRIFT when it differs from ``runtime_driver``; a kubelet setting that
    disagrees with a runtime the kubelet follows is only named, since the kubelet ignores it."""
    driver, why = runtime_driver(rule, wanted, on_systemd)
    if found != driver:
        detail = f"{where} is {found}; {why} needs {driver}. {rule.detail}"
        return Finding("cgroup_driver", Status.DRIFT, found, driver, detail)
    detail = f"{where} is {driver}, as {why} needs. {rule.detail}"
    if rule.from_runtime and wanted.cgroup_driver != driver:
        detail += f"; the kubelet's cgroupDriver {wanted.cgroup_driver} ({wanted.cgroup_driver_source}) is ignored"
    return Finding("cgroup_driver", Status.OK, found, driver, detail)
