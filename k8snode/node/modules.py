"""Loading kernel modules, where a host persists them for the next boot, and what in modprobe.d would stop them.

At boot systemd-modules-load loads the names in modules-load.d with KMOD_PROBE_APPLY_BLACKLIST (systemd
src/shared/module-util.c), so a ``blacklist NAME`` in modprobe.d keeps a listed module out even though a plain
``modprobe NAME`` loads it; an ``install NAME /bin/false`` (or ``/bin/true``) replaces every load of it with that
command. kmod reads modprobe.d from /etc, /run, /usr/local/lib, /usr/lib and /lib, one file per basename.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from k8snode.core.compat import StrEnum
from k8snode.core.errors import failed
from k8snode.core.files import Action
from k8snode.core.system import System
from k8snode.node.configfiles import lines, ordered, read_config
from k8snode.node.kernel import Kernel, ModuleState, module_state, read_kernel

MODULES_LOAD_DIRS = ("/etc/modules-load.d", "/usr/lib/modules-load.d")
BOOT_MODULES_LOAD_DIRS = (
    "/etc/modules-load.d",
    "/run/modules-load.d",
    "/usr/local/lib/modules-load.d",
    "/usr/lib/modules-load.d",
    "/lib/modules-load.d",
)
SYSCONFIG_DIR = "/etc/sysconfig/modules"
MODPROBE_DIRS = (
    "/etc/modprobe.d",
    "/run/modprobe.d",
    "/usr/local/lib/modprobe.d",
    "/usr/lib/modprobe.d",
    "/lib/modprobe.d",
)
_DISABLING = ("false", "true")


class Persist(StrEnum):
    AUTO = "auto"
    SYSCONFIG = "sysconfig"
    MODULES_LOAD = "modules-load"
    BOTH = "both"
    NONE = "none"


@dataclass
class ModulePlan:
    """One kernel module: where it is (loaded, built in, shipped, missing) and what a run did to it."""

    name: str
    state: ModuleState
    source: str
    action: Action = Action.NONE

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "state": str(self.state), "source": self.source, "action": self.action}


def assess(system: System, kernel: Kernel, names: list[str]) -> list[ModulePlan]:
    return [ModulePlan(name, *module_state(system, kernel, name)) for name in names]


def targets(system: System, persist: Persist) -> tuple[bool, bool]:
    """(write the sysconfig script, write a modules-load.d file). auto: what the host uses; modules-load.d where
    systemd reads it, the sysconfig script where /etc/sysconfig exists (the RHEL and SUSE families, EL7's rc.sysinit
    runs it), or where nothing else would load the modules at boot."""
    uses_modules_load = any(system.path(d).is_dir() for d in MODULES_LOAD_DIRS)
    uses_sysconfig = system.path("/etc/sysconfig").is_dir() or not uses_modules_load
    sysconfig = persist in (Persist.SYSCONFIG, Persist.BOTH) or (persist == Persist.AUTO and uses_sysconfig)
    modules_load = persist in (Persist.MODULES_LOAD, Persist.BOTH) or (persist == Persist.AUTO and uses_modules_load)
    return sysconfig, modules_load


def load(system: System, release: str, to_load: list[ModulePlan]) -> None:
    """One modprobe per module, so a failure names its module; then verify against /proc/modules."""
    for plan in to_load:
        completed = system.run(["modprobe", "--", plan.name])
        if completed.returncode != 0:
            plan.action = Action.FAILED
            done = [m.name for m in to_load if m.action == Action.LOADED]
            raise failed(
                f"modprobe refused {plan.name} on kernel {release}: "
                f"{completed.stderr.strip() or f'exit {completed.returncode}'}"
                + (f" (already loaded by this run: {' '.join(done)})" if done else "")
            )
        plan.action = Action.LOADED
    kernel = read_kernel(system)
    for plan in to_load:
        state, plan.source = module_state(system, kernel, plan.name)
        if not state.present:
            plan.action = Action.FAILED
            raise failed(
                f"modprobe -- {plan.name} succeeded but {plan.name} is not in /proc/modules; "
                "no persistence file was written"
            )
        plan.state = state


def blocked_at_boot(system: System, names: list[str]) -> list[str]:
    """modprobe.d lines that would keep one of ``names`` from loading at boot, each naming its file and line."""
    wanted = set(names)
    problems = []
    for file in ordered(system, MODPROBE_DIRS, {}):
        if file.problem:
            problems.append(file.problem)
        for number, line in lines(file.data or b""):
            words = line.split("#", 1)[0].split()
            if len(words) < 2 or words[1].replace("-", "_") not in wanted:
                continue
            module = words[1].replace("-", "_")
            if words[0] == "blacklist":
                problems.append(
                    f"{file.path}:{number} blacklists {module}: systemd-modules-load will not load it at boot"
                )
            elif words[0] == "install" and len(words) > 2 and PurePosixPath(words[2]).name in _DISABLING:
                problems.append(f"{file.path}:{number} replaces loading {module} with {' '.join(words[2:])}")
    return problems


def listed_for_boot(system: System) -> set[str]:
    """Modules a boot loads by name: modules-load.d (systemd) and the /etc/sysconfig/modules scripts (EL7)."""
    names = set()
    for file in ordered(system, BOOT_MODULES_LOAD_DIRS, {}):
        names |= {line.split("#", 1)[0].strip() for _, line in lines(file.data or b"") if not line.startswith(";")}
    for name in system.listdir(SYSCONFIG_DIR):
        if name.endswith(".modules"):
            file = read_config(system, PurePosixPath(SYSCONFIG_DIR) / name)
            for _, line in lines(file.data or b""):
                words = line.split("#", 1)[0].split()
                if words and PurePosixPath(words[0]).name == "modprobe":
                    names |= {w for w in words[1:] if not w.startswith("-")}
    return {name.replace("-", "_") for name in names if name}
