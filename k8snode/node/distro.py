"""Which distribution family the target system belongs to, from /etc/os-release (ID and ID_LIKE)."""

from __future__ import annotations

from k8snode.core.system import System

INSTALLERS = (
    ({"ubuntu", "debian"}, "apt-get install"),
    ({"rhel", "fedora", "centos"}, "dnf install"),
    ({"suse", "opensuse", "sles"}, "zypper install"),
    ({"alpine"}, "apk add"),
    ({"arch"}, "pacman -S"),
)
"""Each family's package installer, in the order a family that is like several (ID_LIKE) is matched."""


def family(system: System) -> frozenset[str]:
    """ID and every ID_LIKE word of /etc/os-release; empty when the file is absent."""
    text = system.read_text("/etc/os-release", 64 << 10) or ""
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    words = {fields.get("ID", "").strip("\"'"), *fields.get("ID_LIKE", "").strip("\"'").split()}
    return frozenset(word for word in words if word)


def install_command(system: System, package: str) -> str:
    """How to install ``package`` on the target's family, e.g. ``dnf install nftables``; the package name alone
    when the family is not known."""
    words = family(system)
    for members, installer in INSTALLERS:
        if words & members:
            return f"{installer} {package}"
    return f"the {package} package"
