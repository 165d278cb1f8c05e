"""The images kubeadm pulls for a release, and its pause image: what `kubeadm config images list` gives.

The data (data/kubeadm_images.json) is the real kubeadm's output for each release tools/k8s-truth builds; a release
is looked up by its minor, whose images differ only in the control plane's own tag.
"""

from __future__ import annotations

import json
from functools import cache

from k8snode.core.resources import package_text
from k8snode.core.versions import KubernetesVersion, parse_kubernetes_version

PAUSE = "registry.k8s.io/pause:"


@cache
def _known() -> dict[tuple[int, int], tuple[KubernetesVersion, list[str]]]:
    """Each minor's release in the data, with its list: the newest patch when the data holds several."""
    data = json.loads(package_text("runtime", "data", "kubeadm_images.json"))
    known: dict[tuple[int, int], tuple[KubernetesVersion, list[str]]] = {}
    for text, listed in data["releases"].items():
        release = parse_kubernetes_version(text)
        assert release is not None, text
        if release.minor_version not in known or known[release.minor_version][0] < release:
            known[release.minor_version] = (release, listed)
    return known


def _lookup(release: KubernetesVersion) -> tuple[KubernetesVersion, list[str]] | None:
    """The data of ``release``'s minor; of the newest known for a newer minor; None for an older minor not in it."""
    known = _known()
    if release.minor_version in known:
        return known[release.minor_version]
    newest = max(known)
    return known[newest] if release.minor_version > newest else None


def known_releases() -> str:
    return ", ".join(str(release) for release, _ in sorted(_known().values()))


def listed(release: KubernetesVersion) -> list[str] | None:
    """What `kubeadm config images list --kubernetes-version RELEASE` gives, from the same minor's data; a minor
    newer than any known gets the newest known's (``newer_than_known`` says so); None for an older minor that
    tools/k8s-truth does not build."""
    found = _lookup(release)
    return None if found is None else list(found[1])


def pause_image(release: KubernetesVersion) -> str | None:
    """The pause image kubeadm of ``release`` lists (registry.k8s.io/pause:3.10.2 for 1.37); None when unknown."""
    images = listed(release)
    if images is None:
        return None
    [pause] = [image for image in images if image.startswith(PAUSE)]
    return pause


def newer_than_known(release: KubernetesVersion) -> str | None:
    """A warning when ``release``'s minor is newer than any k8snode knows, naming the release whose images stand in."""
    found = _lookup(release)
    if found is None or found[0].minor_version == release.minor_version:
        return None
    used = found[0]
    return f"k8snode does not know kubeadm {release}'s images yet; it takes those of {used}, the newest it knows"
