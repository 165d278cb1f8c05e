"""What the runtime must agree with: the kubelet's cgroup driver, kubeadm's criSocket and its release's pause image.

The cgroup driver comes from the first of: ``--kubelet-config`` (a KubeletConfiguration), the KubeletConfiguration
document of ``--kubeadm-config``, the node's /var/lib/kubelet/config.yaml (kubeadm writes it at init and join), and
kubeadm's default, systemd (since kubeadm 1.22: cmd/kubeadm/app/componentconfigs/kubelet.go). The release is
``--kubernetes-version``, else the kubeadm config's ClusterConfiguration ``kubernetesVersion``, else the newest k8snode
knows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from k8snode.core.errors import bad_input
from k8snode.core.system import System
from k8snode.core.versions import KubernetesVersion, newest_kubernetes, parse_release
from k8snode.runtime import images
from k8snode.runtime.model import CONFIG_LIMIT, Wanted

NODE_KUBELET_CONFIG = PurePosixPath("/var/lib/kubelet/config.yaml")
DEFAULT_DRIVER = "systemd"
DRIVERS = ("systemd", "cgroupfs")


@dataclass(frozen=True)
class Sources:
    """The options that say what the runtime must agree with; None: not given."""

    kubernetes_version: str | None = None
    kubelet_config: str | None = None
    kubeadm_config: str | None = None


@dataclass(frozen=True)
class Targets:
    """What the options and files say the runtime must agree with, read and checked before the runtime is found."""

    release: KubernetesVersion
    cgroup_driver: str
    cgroup_driver_source: str
    cri_socket: str | None

    def wanted(self) -> tuple[Wanted, list[str]]:
        """With the release's pause image (None for an older release whose images k8snode does not know), and
        warnings (a release newer than the image data)."""
        warnings = [w for w in [images.newer_than_known(self.release)] if w]
        pause = images.pause_image(self.release)
        return Wanted(self.release, self.cgroup_driver, self.cgroup_driver_source, pause, self.cri_socket), warnings


def wanted(system: System, sources: Sources) -> tuple[Wanted, list[str]]:
    """What the runtime must agree with, and warnings (a release newer than the image data)."""
    return read(system, sources).wanted()


def read(system: System, sources: Sources) -> Targets:
    """The options' files read and checked: bad input names the file and value that is wrong."""
    kubelet = (
        _documents(system, sources.kubelet_config, "--kubelet-config ", "a KubeletConfiguration file")
        if sources.kubelet_config
        else []
    )
    kubeadm = (
        _documents(system, sources.kubeadm_config, "--kubeadm-config ", "a kubeadm configuration file")
        if sources.kubeadm_config
        else []
    )
    driver, driver_source = _driver(system, sources, kubelet, kubeadm)
    release_text = sources.kubernetes_version
    option = "--kubernetes-version"
    if release_text is None:
        cluster = _kind(kubeadm, "ClusterConfiguration")
        value = cluster.get("kubernetesVersion") if cluster else None
        if value is not None:
            release_text, option = str(value), f"--kubeadm-config {sources.kubeadm_config}: kubernetesVersion"
    release = newest_kubernetes() if release_text is None else parse_release(release_text, option)
    socket = None
    for kind in ("InitConfiguration", "JoinConfiguration"):
        registration = (_kind(kubeadm, kind) or {}).get("nodeRegistration")
        if isinstance(registration, Mapping) and registration.get("criSocket"):
            socket = str(registration["criSocket"])
            break
    return Targets(release, driver, driver_source, socket)


def _driver(system: System, sources: Sources, kubelet: list[Any], kubeadm: list[Any]) -> tuple[str, str]:
    candidates = [
        (kubelet, f"--kubelet-config {sources.kubelet_config}"),
        (kubeadm, f"--kubeadm-config {sources.kubeadm_config}"),
    ]
    if not sources.kubelet_config and not sources.kubeadm_config:
        data = system.read_bytes(NODE_KUBELET_CONFIG, CONFIG_LIMIT)
        if data is not None:
            source = str(NODE_KUBELET_CONFIG)
            candidates.append((_load(data, source), source))
    for documents, source in candidates:
        config = _kind(documents, "KubeletConfiguration")
        value = None if config is None else config.get("cgroupDriver")
        if value is None:
            continue
        if value not in DRIVERS:
            raise bad_input(f"{source}: cgroupDriver {value!r} is not one the kubelet takes; use systemd or cgroupfs")
        return str(value), f"{source}: cgroupDriver"
    return DEFAULT_DRIVER, "kubeadm's default"


def _documents(system: System, name: str, label: str, expected: str) -> list[Any]:
    shown, data = system.read_input(name, label, CONFIG_LIMIT, expected)
    return _load(data, f"{label}{shown}")


def _load(data: bytes, source: str) -> list[Any]:
    from k8snode.core.yamldoc import decode_text, load_documents  # lazy: only a node with a file to read

    return load_documents(decode_text(data, source), source)


def _kind(documents: list[Any], kind: str) -> Mapping[str, Any] | None:
    for document in documents:
        if isinstance(document, Mapping) and document.get("kind") == kind:
            return document
    return None
