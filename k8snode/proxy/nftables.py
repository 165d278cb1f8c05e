"""What kube-proxy's nftables mode needs from a node: Linux 5.13 or later, nf_tables, and nft 1.0.1 or later.

Sources: kubernetes/kubernetes PR #124152 (kube-proxy requires nft 1.0.1 through knftables, and refuses a kernel
older than 5.13 because it cannot see the host's nft: every distribution with 5.13 or later ships nft 1.0.1 or later)
and issue #122743 (why: an nft older than 1.0.1 parses the whole ruleset on `nft -f`, and older nft can crash on
rules a newer one wrote, so an old nft on the host breaks, or is broken by, kube-proxy; RHEL 9 ships nft 1.0.4,
Debian 12 1.0.6, Ubuntu 22.04 1.0.2, while Debian 11 has 0.9.8 and RHEL 8 0.9.3, later 1.0.4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from k8snode.core.errors import K8snodeError
from k8snode.core.system import System
from k8snode.core.versions import NFTABLES_MIN_KERNEL
from k8snode.node import distro
from k8snode.node.kernel import Kernel, ModuleState, config_evidence, module_state

NFT_MIN_VERSION = (1, 0, 1)
NFT_VERSION = re.compile(r"^nftables v(\d{1,4})\.(\d{1,4})(?:\.(\d{1,4}))?\b")
"""The first line of `nft --version`: ``nftables v1.0.6 (Lester Gooch #5)``, ``nftables v0.9.8 (E.D.S.)``."""
NFT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Requirement:
    """One prerequisite of nftables mode and what the node has; ``met`` is None when it cannot be told."""

    id: str
    met: bool | None
    detail: str
    hint: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "met": self.met, "detail": self.detail, "hint": self.hint}


def readiness(system: System, kernel: Kernel) -> list[Requirement]:
    return [kernel_release(kernel), nf_tables(system, kernel), nft(system)]


def kernel_release(kernel: Kernel) -> Requirement:
    need = ".".join(map(str, NFTABLES_MIN_KERNEL))
    if kernel.version is None:
        return Requirement("nftables-kernel", None, f"cannot read a version from {kernel.release!r}")
    if kernel.version < NFTABLES_MIN_KERNEL:
        hint = f"nftables mode needs kernel {need} or later; upgrade the kernel or use --proxy-mode iptables"
        return Requirement("nftables-kernel", False, f"kernel {kernel.release} is older than {need}", hint)
    return Requirement("nftables-kernel", True, f"kernel {kernel.release} is {need} or later")


def nf_tables(system: System, kernel: Kernel) -> Requirement:
    state, source = module_state(system, kernel, "nf_tables")
    if state.present:
        how = "built in" if state == ModuleState.BUILTIN else state
        return Requirement("nf_tables", True, f"nf_tables is {how} ({source})")
    if state == ModuleState.AVAILABLE:
        detail = f"nf_tables is loadable ({source})"
        return Requirement(
            "nf_tables", True, detail, "k8snode node prepare --proxy-mode nftables loads and persists it"
        )
    if state == ModuleState.UNKNOWN:
        return Requirement("nf_tables", None, f"nf_tables: {source}", "check that the kernel has CONFIG_NF_TABLES")
    evidence = config_evidence(system, kernel, "CONFIG_NF_TABLES")
    because = f" ({evidence})" if evidence else ""
    hint = "use a kernel built with CONFIG_NF_TABLES (every distribution kernel of 5.13 or later has it)"
    return Requirement("nf_tables", False, f"nf_tables is missing from kernel {kernel.release}{because}", hint)


def nft(system: System) -> Requirement:
    """The host's nft: kube-proxy's rules and the host's own users of nftables share one ruleset."""
    need = ".".join(map(str, NFT_MIN_VERSION))
    if system.which("nft") is None:
        return Requirement(
            "nft", False, "nft is not on PATH", f"install nftables ({distro.install_command(system, 'nftables')})"
        )
    try:
        done = system.run(["nft", "--version"], timeout=NFT_TIMEOUT, output_limit=4096)
    except K8snodeError as error:
        return Requirement("nft", None, f"nft --version: {error.message}")
    first = done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""
    match = NFT_VERSION.match(first)
    if done.returncode != 0 or match is None:
        return Requirement("nft", None, f"nft --version printed {first[:80]!r} (exit {done.returncode}); no version")
    version = tuple(int(part or 0) for part in match.groups())
    shown = ".".join(map(str, version))
    if version < NFT_MIN_VERSION:
        hint = (
            f"upgrade nftables to {need} or later ({distro.install_command(system, 'nftables')}); Debian 12, "
            "Ubuntu 22.04 and RHEL 9 ship it. An older nft breaks, and is broken by, kube-proxy's rules (k/k #122743)"
        )
        return Requirement("nft", False, f"nft {shown} is older than {need}", hint)
    return Requirement("nft", True, f"nft {shown} is {need} or later")
