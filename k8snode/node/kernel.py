"""What the running kernel ships and has loaded, read through the system seam."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from k8snode.core.compat import StrEnum
from k8snode.core.errors import bad_input, failed
from k8snode.core.system import System
from k8snode.core.versions import kernel_version

MODULE_NAME = re.compile(r"^[a-z0-9_]+$")
_RELEASE = re.compile(r"[!-.0-~]{1,64}")
"""A kernel release (utsname.release, 65 bytes with its NUL): printable ASCII without space or '/'."""


CONFIG_OPTIONS = {"br_netfilter": "CONFIG_BRIDGE_NETFILTER", "overlay": "CONFIG_OVERLAY_FS"}
"""Modules whose config option is not CONFIG_ and the name in capitals (net/bridge/Makefile, fs/overlayfs/Makefile)."""


class ModuleState(StrEnum):
    LOADED = "loaded"
    BUILTIN = "builtin"
    AVAILABLE = "available"
    MISSING = "missing"
    UNKNOWN = "unknown"

    @property
    def present(self) -> bool:
        """The module's code is in the running kernel."""
        return self in (ModuleState.LOADED, ModuleState.BUILTIN)


@dataclass(frozen=True)
class Kernel:
    """What the kernel of the host reports about its modules."""

    release: str
    loaded: frozenset[str] | None
    """Names in /proc/modules; None when the kernel has no loadable-module support."""
    shipped: frozenset[str] | None
    """Names in modules.dep; None when there is no modules.dep."""
    builtin: frozenset[str] | None
    """Names in modules.builtin; None when there is no modules.builtin."""

    @property
    def version(self) -> tuple[int, int] | None:
        return kernel_version(self.release)

    @property
    def modular(self) -> bool:
        return self.loaded is not None

    @property
    def indexed(self) -> bool:
        return self.shipped is not None or self.builtin is not None

    @property
    def module_dir(self) -> str:
        return f"/lib/modules/{self.release}"

    def as_dict(self) -> dict[str, object]:
        return {
            "release": self.release,
            "modular": self.modular,
            "module_index": f"{self.module_dir}/modules.dep" if self.shipped is not None else None,
        }


def read_kernel(system: System) -> Kernel:
    release_text = system.read_text("/proc/sys/kernel/osrelease")
    if release_text is None or not release_text.strip():
        if system.root != Path("/"):
            raise bad_input(f"--root {system.root} has no /proc/sys/kernel/osrelease; give the root of a Linux system")
        raise failed("cannot read the kernel release from /proc/sys/kernel/osrelease")
    release = release_text.strip().splitlines()[0]
    if not _RELEASE.fullmatch(release) or release in (".", ".."):
        raise bad_input(f"/proc/sys/kernel/osrelease holds {release[:80]!r}, which is not a kernel release")
    loaded_text = system.read_text("/proc/modules")
    dep_text = system.read_text(f"/lib/modules/{release}/modules.dep")
    builtin_text = system.read_text(f"/lib/modules/{release}/modules.builtin")
    return Kernel(
        release=release,
        loaded=None if loaded_text is None else _names(line.split(" ", 1)[0] for line in loaded_text.splitlines()),
        shipped=None
        if dep_text is None
        else _names(_module_of(line.split(":", 1)[0]) for line in dep_text.splitlines()),
        builtin=None if builtin_text is None else _names(_module_of(line) for line in builtin_text.splitlines()),
    )


def module_state(system: System, kernel: Kernel, name: str) -> tuple[ModuleState, str]:
    """The module's state and the place that told us."""
    if kernel.loaded is not None and name in kernel.loaded:
        return ModuleState.LOADED, "/proc/modules"
    if kernel.builtin is not None and name in kernel.builtin:
        return ModuleState.BUILTIN, f"{kernel.module_dir}/modules.builtin"
    if system.exists(f"/sys/module/{name}") and not kernel.modular:
        return ModuleState.BUILTIN, f"/sys/module/{name}"
    if kernel.shipped is not None and name in kernel.shipped:
        return ModuleState.AVAILABLE, f"{kernel.module_dir}/modules.dep"
    option = config_option(name)
    evidence = config_evidence(system, kernel, option)
    if evidence is not None and evidence.startswith(f"{option}=y "):  # built in, though no index lists it
        return ModuleState.BUILTIN, evidence
    if not kernel.modular:
        return ModuleState.MISSING, "no loadable-module support (/proc/modules absent)"
    if kernel.indexed:
        return ModuleState.MISSING, f"not in {kernel.module_dir}/modules.dep or modules.builtin"
    return ModuleState.UNKNOWN, f"no module index under {kernel.module_dir}"


def config_option(module: str) -> str:
    """The config option that builds ``module``: ip_vs -> CONFIG_IP_VS, br_netfilter -> CONFIG_BRIDGE_NETFILTER."""
    return CONFIG_OPTIONS.get(module, "CONFIG_" + module.upper())


def config_evidence(system: System, kernel: Kernel, option: str) -> str | None:
    """The kernel config line for ``option`` and the file it came from, when a config file is readable."""
    import gzip

    pattern = re.compile(rf"^(?:{option}=.*|# {option} is not set)$", re.MULTILINE)
    for source in ("/proc/config.gz", f"/boot/config-{kernel.release}"):
        raw = system.read_bytes(source)
        if raw is None:
            continue
        try:
            text = (gzip.decompress(raw) if source.endswith(".gz") else raw).decode("utf-8", errors="replace")
        except (OSError, EOFError):
            continue
        match = pattern.search(text)
        return f"{match[0] if match else f'{option} absent'} in {source}"
    return None


def _module_of(path: str) -> str:
    """``kernel/net/netfilter/ipvs/ip_vs-rr.ko.xz`` -> ``ip_vs_rr``; '' when the path names no module."""
    base = path.strip().rsplit("/", 1)[-1]
    return base.split(".ko", 1)[0].replace("-", "_") if ".ko" in base else ""


def _names(candidates: Iterable[str]) -> frozenset[str]:
    return frozenset(name for name in candidates if MODULE_NAME.match(name))
