"""What `node check | prepare | reset` and `doctor` know about a container runtime: the findings and the plan.

containerd.py and crio.py each return a `RuntimePlan`; detect.py picks the runtime and dispatches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath

from k8snode.core.compat import StrEnum
from k8snode.core.files import FilePlan
from k8snode.core.versions import KubernetesVersion
from k8snode.runtime import images

CONFIG_LIMIT = 1 << 20
"""The most k8snode reads of one runtime or kubelet configuration file (1 MiB): larger is bad input."""


class RuntimeChoice(StrEnum):
    """``--runtime``: auto finds the runtime by its socket and binary; none leaves the runtime out."""

    AUTO = "auto"
    CONTAINERD = "containerd"
    CRIO = "crio"
    NONE = "none"


class Status(StrEnum):
    """A finding's verdict: ok; drift (prepare fixes it); problem (prepare cannot: the operator must);
    unknown (cannot tell on this host, with the reason in the detail)."""

    OK = "ok"
    DRIFT = "drift"
    PROBLEM = "problem"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Wanted:
    """What the kubelet and kubeadm of the target release need from the runtime."""

    kubernetes_version: KubernetesVersion
    cgroup_driver: str
    """systemd or cgroupfs: the KubeletConfiguration's cgroupDriver (kubeadm's default: systemd)."""
    cgroup_driver_source: str
    """Where cgroup_driver came from: a file and its field, or the default it is."""
    pause_image: str | None
    """The pause image that kubeadm of kubernetes_version lists (`kubeadm config images list`); None for a release
    whose images k8snode does not know (the sandbox image is then reported, not checked or changed)."""
    cri_socket: str | None = None
    """nodeRegistration.criSocket of a given kubeadm config, as written (unix:///...); None: not given."""


@dataclass
class Finding:
    """One check of the container runtime: what was found, what is wanted, and why."""

    id: str
    """version, config, schema, cri_plugin, cgroup_driver, sandbox_image, socket, runtime_binary, conmon_cgroup."""
    status: Status
    found: str | None
    wanted: str | None
    detail: str
    """One line, naming the file and setting responsible, and what would be right."""
    preflight: str | None = None
    """The name of kubeadm's preflight check that fails or warns on the same thing, where there is one."""

    def as_dict(self) -> dict[str, str | None]:
        return {
            "id": self.id,
            "status": str(self.status),
            "found": self.found,
            "wanted": self.wanted,
            "detail": self.detail,
            "preflight": self.preflight,
        }


@dataclass
class RuntimePlan:
    """One runtime's state against `Wanted`, and the files `prepare` would write to fix its drift."""

    runtime: str
    version: str | None
    config: PurePosixPath | None
    """The configuration file read (containerd's config.toml; CRI-O's crio.conf); None when there is none."""
    findings: list[Finding]
    files: list[FilePlan] = field(default_factory=list)

    @property
    def restart_needed(self) -> bool:
        """The running runtime reads its configuration at start only."""
        return any(f.needs_write for f in self.files)

    @property
    def drift(self) -> list[Finding]:
        return [f for f in self.findings if f.status in (Status.DRIFT, Status.PROBLEM)]

    def as_dict(self) -> dict[str, object]:
        return {
            "runtime": self.runtime,
            "version": self.version,
            "config": None if self.config is None else str(self.config),
            "findings": [f.as_dict() for f in self.findings],
            "files": [f.as_dict() for f in self.files],
            "restart_needed": self.restart_needed,
        }


def unknown_pause(found: str | None, wanted: Wanted) -> Finding:
    """The sandbox image of a release whose pause image k8snode does not know: reported, neither checked nor set."""
    return Finding(
        "sandbox_image",
        Status.UNKNOWN,
        found,
        None,
        f"k8snode does not know the pause image of kubeadm {wanted.kubernetes_version} (it knows "
        f"{images.known_releases()}); compare {found or 'the runtime default'} with `kubeadm config images list`",
        "ImagePull",
    )
