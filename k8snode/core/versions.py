"""Version numbers: the one parser for Kubernetes versions, the one for Linux kernel releases, and the facts tied
to a version that more than one part of k8snode needs.

Kubernetes versions are semantic versions with an optional "v" (k8s.io/apimachinery/pkg/util/version
ParseGeneric/ParseSemantic): MAJOR.MINOR[.PATCH][-PRE][+BUILD], ASCII digits only, no leading zeros. Pre-releases
order before their release (v1.37.2-rc.0 < v1.37.2), identifiers compared as semver 2.0.0 section 11 says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import total_ordering

from k8snode.core.errors import bad_input

NEWEST_KUBERNETES = "v1.37.2"
"""The newest Kubernetes release k8snode knows: every command's default target."""

NFTABLES_MIN_KERNEL = (5, 13)
"""kube-proxy's nftables mode needs Linux 5.13 or later (KEP-3866)."""

_NUMBER = r"(?:0|[1-9][0-9]{0,8})"  # at most 9 digits: no 5,000-digit int conversion
_IDENTIFIER = r"[0-9A-Za-z-]+"
_KUBERNETES = re.compile(
    rf"v?(?P<major>{_NUMBER})\.(?P<minor>{_NUMBER})(?:\.(?P<patch>{_NUMBER}))?"
    rf"(?:-(?P<pre>{_IDENTIFIER}(?:\.{_IDENTIFIER})*))?(?:\+{_IDENTIFIER}(?:\.{_IDENTIFIER})*)?"
)
_KERNEL = re.compile(r"([0-9]{1,9})\.([0-9]{1,9})")


@total_ordering
@dataclass(frozen=True)
class KubernetesVersion:
    """A Kubernetes release (v1.MINOR.PATCH, maybe a pre-release), ordered as semver orders it."""

    major: int
    minor: int
    patch: int
    pre: tuple[str, ...] = ()
    """Pre-release identifiers (``("rc", "0")`` for v1.37.2-rc.0); empty for a release."""
    text: str = field(default="", compare=False)
    """As given, with a leading "v"."""

    @property
    def minor_version(self) -> tuple[int, int]:
        return self.major, self.minor

    def _key(self) -> tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]:
        # A release sorts after its pre-releases; numeric identifiers before alphanumeric ones (semver 11.4).
        identifiers = tuple((0, int(i), "") if i.isdigit() else (1, 0, i) for i in self.pre)
        return self.major, self.minor, self.patch, 0 if self.pre else 1, identifiers

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, KubernetesVersion):
            return NotImplemented
        return self._key() < other._key()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KubernetesVersion):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        return self.text


def parse_kubernetes_version(text: str) -> KubernetesVersion | None:
    """The version, or None when ``text`` is not one (the caller says which option was wrong)."""
    match = _KUBERNETES.fullmatch(text)
    if match is None:
        return None
    pre = tuple(match["pre"].split(".")) if match["pre"] else ()
    if any(i.isdigit() and len(i) > 1 and i.startswith("0") for i in pre):
        return None  # semver 9: numeric identifiers have no leading zeros
    canonical = text if text.startswith("v") else f"v{text}"
    return KubernetesVersion(int(match["major"]), int(match["minor"]), int(match["patch"] or 0), pre, canonical)


def version_problem(text: str) -> str:
    """What makes ``text`` no Kubernetes version, with the version meant, when that can be told; else ""."""
    parts = text.removeprefix("v").split(".")
    if 2 <= len(parts) <= 3 and all(part.isascii() and part.isdigit() for part in parts):
        padded = [part for part in parts if len(part) > 1 and part.startswith("0")]
        if padded:
            meant = "v" + ".".join(str(int(part)) for part in parts)
            return f"{', '.join(padded)} has a leading zero, which Kubernetes versions never have; use {meant}"
    return ""


def parse_release(text: str, option: str = "--kubernetes-version") -> KubernetesVersion:
    """The version ``option`` gives; bad input (naming ``option``) when ``text`` is not one."""
    release = parse_kubernetes_version(text)
    if release is None:
        raise bad_input(f"{option} {text!r} is not a Kubernetes version; use the form {NEWEST_KUBERNETES}")
    return release


def newest_kubernetes() -> KubernetesVersion:
    newest = parse_kubernetes_version(NEWEST_KUBERNETES)
    assert newest is not None
    return newest


def kernel_version(release: str | None) -> tuple[int, int] | None:
    """MAJOR.MINOR of a kernel release such as ``6.1.0-28-amd64``; None when it does not start with one."""
    match = _KERNEL.match(release or "")
    return (int(match[1]), int(match[2])) if match else None
