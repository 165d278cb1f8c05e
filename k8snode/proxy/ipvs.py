"""IPVS kernel modules: which ones kube-proxy needs, whether the kernel has them, loading and persisting them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from string import Template

from k8snode.core.compat import StrEnum
from k8snode.core.errors import bad_input, failed
from k8snode.core.files import Action, FilePlan, apply, header, owned, pending_action, plan_remove, plan_write
from k8snode.core.resources import template_text
from k8snode.core.system import System
from k8snode.node import distro
from k8snode.node.kernel import (
    MODULE_NAME,
    Kernel,
    ModuleState,
    config_evidence,
    config_option,
    module_state,
    read_kernel,
)
from k8snode.node.modules import ModulePlan, Persist, load, targets
from k8snode.node.requirements import MODE_BINARIES, Conntrack, ProxyMode, check_action, choose_conntrack, ipvs_modules


class Scheduler(StrEnum):
    """The IPVS schedulers kube-proxy accepts; each has a kernel module ip_vs_<name>."""

    RR = "rr"
    WRR = "wrr"
    LC = "lc"
    WLC = "wlc"
    FO = "fo"
    OVF = "ovf"
    LBLC = "lblc"
    LBLCR = "lblcr"
    DH = "dh"
    SH = "sh"
    MH = "mh"
    SED = "sed"
    NQ = "nq"
    TWOS = "twos"


SCHEDULERS = tuple(str(s) for s in Scheduler)
SYSCONFIG_FILE = PurePosixPath("/etc/sysconfig/modules/ipvs.modules")
MODULES_LOAD_FILE = PurePosixPath("/etc/modules-load.d/ipvs.conf")
EXTRA_MODULES_HINT = "install linux-modules-extra-{release} (Debian/Ubuntu) or kernel-modules-extra (RHEL/Fedora)"


def validate_scheduler(scheduler: str) -> str:
    if scheduler not in SCHEDULERS:
        raise bad_input(f"unknown IPVS scheduler {scheduler!r}; use one of {' '.join(SCHEDULERS)}")
    return scheduler


@dataclass
class Assessment:
    """The IPVS modules and their boot-time files on this host, before anything is changed."""

    kernel: Kernel
    conntrack: Conntrack
    scheduler: str
    modules: list[ModulePlan]
    files: list[FilePlan]
    problems: list[str]
    warnings: list[str]

    @property
    def absent(self) -> list[str]:
        """The modules not in the running kernel."""
        return [m.name for m in self.modules if not m.state.present]


@dataclass
class Check:
    """What `ipvs check` found: the assessment, each module and file with the action a run would take."""

    assessment: Assessment

    @property
    def stale(self) -> list[FilePlan]:
        return [f for f in self.assessment.files if f.action != Action.UNCHANGED]

    @property
    def ok(self) -> bool:
        return not self.assessment.absent and not self.stale

    @property
    def summary(self) -> str:
        absent, stale = self.assessment.absent, [f"{f.path} ({f.action})" for f in self.stale]
        modules = f"not present: {' '.join(absent)}" if absent else "all IPVS modules are present"
        files = f"persistence files not current: {', '.join(stale)}" if stale else "persistence files current"
        return f"{modules}; {files}"


@dataclass
class Enabled:
    """What `ipvs enable` loaded and wrote (or, in a dry run, would)."""

    assessment: Assessment
    to_load: list[ModulePlan]
    to_write: list[FilePlan]
    dry_run: bool

    @property
    def changed(self) -> bool:
        return bool(self.to_load or self.to_write)

    @property
    def summary(self) -> str:
        verb = "would load" if self.dry_run else "loaded"
        loaded = f"{verb} {' '.join(m.name for m in self.to_load)}" if self.to_load else "all modules already present"
        if not self.assessment.files:
            return f"{loaded}; nothing persisted (--persist none): the modules are not loaded at the next boot"
        written = (
            f"{'would write' if self.dry_run else 'wrote'} {', '.join(str(f.path) for f in self.to_write)}"
            if self.to_write
            else "files current"
        )
        return f"{loaded}; {written}"


@dataclass
class Disabled:
    """What `ipvs disable` removed and unloaded (or, in a dry run, would)."""

    kernel: Kernel
    files: list[FilePlan]
    modules: list[ModulePlan]
    warnings: list[str]
    dry_run: bool

    @property
    def changed(self) -> bool:
        return bool(self.files) or any(m.action in (Action.UNLOADED, Action.WOULD_UNLOAD) for m in self.modules)

    @property
    def summary(self) -> str:
        return f"{'would remove' if self.dry_run else 'removed'} {len(self.files)} file(s)"


def assess(
    system: System,
    scheduler: str,
    persist: Persist = Persist.AUTO,
    *,
    force: bool = False,
    kernel: Kernel | None = None,
) -> Assessment:
    """Everything ``check`` reports and ``enable`` acts on; reads only. ``kernel``: already read by the caller
    (modules.dep is read and parsed once per command)."""
    validate_scheduler(scheduler)
    if kernel is None:
        kernel = read_kernel(system)
    conntrack = choose_conntrack(kernel)
    modules = []
    for name in ipvs_modules(scheduler, conntrack.module):
        state, source = module_state(system, kernel, name)
        modules.append(ModulePlan(name, state, source))
    names = [m.name for m in modules]
    files = [
        plan_write(system, path, mode, content, force=force)
        for path, mode, content in _persistence(system, persist, scheduler, names)
    ]
    tools = [
        f"{tool} is not on PATH; kube-proxy in IPVS mode needs it"
        for tool in MODE_BINARIES[ProxyMode.IPVS]
        if not system.which(tool)
    ]
    return Assessment(kernel, conntrack, scheduler, modules, files, _problems(system, kernel, modules), tools)


def check(system: System, scheduler: str = "rr", kernel: Kernel | None = None) -> Check:
    assessment = assess(system, scheduler, force=True, kernel=kernel)
    for plan in assessment.modules:
        plan.action = check_action(plan.state)
    for file in assessment.files:
        file.action = pending_action(file)
    return Check(assessment)


def enable(
    system: System,
    scheduler: str = "rr",
    persist: Persist = Persist.AUTO,
    *,
    dry_run: bool = False,
    force: bool = False,
) -> Enabled:
    """Load what is missing, verify it in /proc/modules, then persist; the plan is re-read under the lock."""
    with system.lock_unless(dry_run):
        return enable_locked(system, scheduler, persist, dry_run=dry_run, force=force)


def enable_locked(system: System, scheduler: str, persist: Persist, *, dry_run: bool, force: bool) -> Enabled:
    """``enable`` for a caller that already holds the lock (or runs dry): `node prepare` runs this same plan."""
    assessment = assess(system, scheduler, persist, force=force)
    if assessment.problems:
        raise failed("; ".join(assessment.problems))
    to_load = [m for m in assessment.modules if not m.state.present]
    to_write = [f for f in assessment.files if f.needs_write]
    if dry_run:
        for plan in to_load:
            plan.action = Action.WOULD_LOAD
    else:
        load(system, assessment.kernel.release, to_load)
    apply(system, assessment.files, dry_run=dry_run)
    return Enabled(assessment, to_load, to_write, dry_run)


def disable(
    system: System, *, unload: bool = False, force: bool = False, dry_run: bool = False, every: bool = False
) -> Disabled:
    """Remove the files k8snode wrote and, with ``unload``, unload the modules they listed that no one uses (with
    ``every``, every loaded IPVS module)."""
    with system.lock_unless(dry_run):
        return disable_locked(system, unload=unload, force=force, dry_run=dry_run, every=every)


def disable_locked(system: System, *, unload: bool, force: bool, dry_run: bool, every: bool = False) -> Disabled:
    """``disable`` for a caller that already holds the lock (or runs dry), as `node reset` does."""
    kernel = read_kernel(system)
    files = []
    warnings: list[str] = []
    for path in (SYSCONFIG_FILE, MODULES_LOAD_FILE):
        file = plan_remove(system, path)
        if file is None:
            continue
        if not force and (file.current is None or not owned(file.current)):
            # Someone else's file: leave it and say so, and still remove what is k8snode's (a reset goes on).
            warnings.append(
                f"left {path}: k8snode did not write it (no '# Written by k8snode' header); "
                "pass --force to remove it too"
            )
            continue
        files.append(file)
    listed = [name for f in files for name in _modules_in(f.current)]
    modules = (
        [ModulePlan(name, *module_state(system, kernel, name)) for name in _unload_order(listed, kernel, every=every)]
        if unload
        else []
    )
    apply(system, files, dry_run=dry_run)
    failures = _unload(system, modules, warnings, dry_run=dry_run)
    if any(plan.action == Action.UNLOADED for plan in modules):  # report the state after the unload, not before it
        after = read_kernel(system)
        for plan in modules:
            plan.state, plan.source = module_state(system, after, plan.name)
    if failures:
        raise failed("modprobe -r failed: " + "; ".join(failures))
    return Disabled(kernel, files, modules, warnings, dry_run)


def _unload(system: System, modules: list[ModulePlan], warnings: list[str], *, dry_run: bool) -> list[str]:
    failures = []
    for plan in modules:
        if plan.state != ModuleState.LOADED:
            continue
        if dry_run:
            plan.action = Action.WOULD_UNLOAD
            continue
        completed = system.run(["modprobe", "-r", "--", plan.name])
        if completed.returncode == 0:
            plan.action = Action.UNLOADED
        elif "in use" in completed.stderr:
            plan.action = Action.IN_USE
            warnings.append(f"{plan.name} is in use and stays loaded")
        else:
            plan.action = Action.FAILED
            failures.append(f"{plan.name}: {completed.stderr.strip() or f'exit {completed.returncode}'}")
    return failures


def _unload_order(listed: list[str], kernel: Kernel, *, every: bool = False) -> list[str]:
    """The modules to unload: those the removed files listed, or with ``every`` also every loaded ip_vs_* module
    and ip_vs. Schedulers before ip_vs, ip_vs before conntrack: dependents first, as modprobe -r needs."""
    loaded_ipvs = sorted(name for name in kernel.loaded or () if name.startswith("ip_vs_")) if every else []
    names = dict.fromkeys(
        [
            *loaded_ipvs,
            *(n for n in listed if n.startswith("ip_vs_")),
            *(["ip_vs"] if every or "ip_vs" in listed else []),
            *(n for n in listed if n.startswith("nf_conntrack")),
        ]
    )
    return list(names)


def _problems(system: System, kernel: Kernel, modules: list[ModulePlan]) -> list[str]:
    missing = [m.name for m in modules if m.state == ModuleState.MISSING]
    if not missing:
        return []
    evidence = [config_evidence(system, kernel, config_option(name)) for name in missing]
    because = "; ".join(e for e in evidence if e and "absent" not in e)
    because = f" ({because})" if because else ""
    if not kernel.modular:
        return [
            f"kernel {kernel.release} has no loadable-module support and {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not built in{because}"
        ]
    if evidence and all(e and "is not set" in e for e in evidence):
        return [f"kernel {kernel.release} was built without {', '.join(missing)}{because}; no package adds it"]
    return [
        f"{', '.join(missing)} missing from kernel {kernel.release}{because}; " + _extra_modules_hint(system, kernel)
    ]


def _extra_modules_hint(system: System, kernel: Kernel) -> str:
    """Where the distribution ships more modules in a separate package (Ubuntu, the RHEL family), that package;
    Debian has none; with no /etc/os-release, both."""
    family = distro.family(system)
    if "ubuntu" in family:
        return f"install linux-modules-extra-{kernel.release}"
    if family & {"rhel", "fedora", "centos"}:
        return "install kernel-modules-extra"
    if "debian" in family:
        return "Debian ships no extra-modules package: use a kernel that builds it"
    return EXTRA_MODULES_HINT.format(release=kernel.release)


def _persistence(
    system: System, persist: Persist, scheduler: str, modules: list[str]
) -> list[tuple[PurePosixPath, int, bytes]]:
    sysconfig, modules_load = targets(system, persist)
    command = "k8snode ipvs enable" + (f" --scheduler {scheduler}" if scheduler != "rr" else "")
    first_line = f"{header(command)}. Remove with: k8snode ipvs disable"
    files = []
    if sysconfig:
        lines = "\n".join(f'modprobe -- {name} || failed="$failed {name}"' for name in modules)
        text = Template(template_text("ipvs.modules.tmpl")).substitute(header=first_line, modprobe_lines=lines)
        files.append((SYSCONFIG_FILE, 0o755, text.encode()))
    if modules_load:
        text = Template(template_text("ipvs.conf.tmpl")).substitute(header=first_line, module_lines="\n".join(modules))
        files.append((MODULES_LOAD_FILE, 0o644, text.encode()))
    return files


def _modules_in(content: bytes | None) -> list[str]:
    """The modules a persistence file lists: ``modprobe -- NAME ...`` lines of ipvs.modules, NAME lines of
    ipvs.conf."""
    names = []
    for line in (content or b"").decode(errors="replace").splitlines():
        words = line.split()
        if words[:2] == ["modprobe", "--"] and len(words) > 2:
            names.append(words[2])
        elif len(words) == 1:
            names.append(words[0])
    return [name for name in names if MODULE_NAME.match(name)]
