"""Kubernetes versions k8snode knows, and which kubeadm configuration API each one reads.

Source: kubernetes/kubernetes cmd/kubeadm/app/util/config/common.go and the release notes of kubeadm 1.37:
v1alpha1 up to 1.10, v1beta3 from 1.22 (removed in kubeadm 1.37, PR #136016), v1beta4 from 1.31.
"""

from __future__ import annotations

from dataclasses import dataclass

from k8snode.core.errors import bad_input
from k8snode.core.versions import KubernetesVersion, newest_kubernetes, parse_release

__all__ = ["KUBEADM_APIS", "KubeadmApi", "Release", "choose_api", "kubeadm_api", "newest_known", "parse_release"]

Release = KubernetesVersion
"""A Kubernetes release, in kubeadm's terms."""


@dataclass(frozen=True)
class KubeadmApi:
    name: str
    first: tuple[int, int]
    last: tuple[int, int] | None
    """The last minor release whose kubeadm reads this API; None while it is current."""
    removed_because: str = ""

    @property
    def api_version(self) -> str:
        return f"kubeadm.k8s.io/{self.name}"

    def serves(self, release: Release) -> bool:
        return self.first <= release.minor_version and (self.last is None or release.minor_version <= self.last)


KUBEADM_APIS = (
    KubeadmApi("v1beta4", (1, 31), None),
    KubeadmApi("v1beta3", (1, 22), (1, 36), "v1beta3 was removed in kubeadm 1.37 (PR #136016)"),
    KubeadmApi("v1alpha1", (1, 8), (1, 10), "v1alpha1 is read only by kubeadm 1.10 and older"),
)


def newest_known() -> Release:
    return newest_kubernetes()


def kubeadm_api(name: str) -> KubeadmApi:
    for api in KUBEADM_APIS:
        if name in (api.name, api.api_version):
            return api
    raise bad_input(f"unknown kubeadm API {name!r}; use one of {', '.join(api.name for api in KUBEADM_APIS)}")


def choose_api(release: Release, requested: str = "auto") -> KubeadmApi:
    """The kubeadm API for ``release``: the newest that serves it, or ``requested`` when kubeadm accepts it."""
    if requested != "auto":
        api = kubeadm_api(requested)
        if not api.serves(release):
            raise bad_input(
                f"--api-version {api.name} does not work with Kubernetes {release}: {_reason(api, release)}"
            )
        return api
    if release.minor_version < (1, 8):
        raise bad_input(f"Kubernetes {release} is older than 1.8, which k8snode does not support; use v1.8 or later")
    for api in KUBEADM_APIS:
        if api.serves(release):
            return api
    raise bad_input(
        f"Kubernetes {release} (1.11 to 1.21: kubeadm APIs v1alpha2 to v1beta2) is out of k8snode's scope; "
        "use v1.22 or later, or v1.8 to v1.10"
    )


def _reason(api: KubeadmApi, release: Release) -> str:
    if api.last is not None and release.minor_version > api.last:
        return api.removed_because
    first = ".".join(map(str, api.first))
    return f"kubeadm reads {api.name} from {first} on"
