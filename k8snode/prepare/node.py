"""`k8snode node check | prepare | reset`: modules, sysctls and swap of a kubeadm node, persisted and audited.

The IPVS slice is `ipvs enable`'s own plan, run in the same process under the same lock; so is the container
runtime's (k8snode/runtime: containerd's config.toml). Sources: kubeadm's preflight (kubernetes/kubernetes
cmd/kubeadm/app/preflight/checks_linux.go: ip_forward, swap) and the kubeadm install guide's prerequisites (overlay,
br_netfilter, the bridge-nf-call and forwarding sysctls).
"""

from __future__ import annotations

import shlex
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from string import Template

from k8snode.core.errors import K8snodeError, failed
from k8snode.core.files import Action, FilePlan, apply, header, owned, pending_action, plan_remove, plan_write
from k8snode.core.resources import template_text
from k8snode.core.system import System
from k8snode.node import modules as kmod
from k8snode.node import requirements, swap, sysctl
from k8snode.node.kernel import Kernel, ModuleState, read_kernel
from k8snode.node.modules import ModulePlan, Persist
from k8snode.node.requirements import IpFamily as IpFamily  # re-exported: commands/node.py declares --ip-family
from k8snode.node.swap import SwapMode
from k8snode.proxy import ipvs, nftables
from k8snode.proxy.modes import ProxyMode
from k8snode.runtime import detect
from k8snode.runtime import wanted as runtime_wanted
from k8snode.runtime.model import RuntimeChoice, RuntimePlan, Status
from k8snode.runtime.wanted import Sources

MODULES_LOAD_FILE = PurePosixPath("/etc/modules-load.d/k8snode.conf")
SYSCONFIG_FILE = PurePosixPath("/etc/sysconfig/modules/k8snode.modules")
SYSCTL_FILE = PurePosixPath("/etc/sysctl.d/k8snode.conf")
MASK_RECORD = PurePosixPath("/etc/k8snode/masked-swap-units")
FSTAB_RECORD = PurePosixPath("/etc/k8snode/swap-off-fstab-lines")
RECORDS = (MASK_RECORD, FSTAB_RECORD)
"""What `prepare` is about to change and `reset` undoes: written before the change (intent first), removed last."""
OWNED_FILES = (MODULES_LOAD_FILE, SYSCONFIG_FILE, SYSCTL_FILE, swap.ZRAM_CONF, *RECORDS)
SYSTEMD_READS = (swap.FSTAB, swap.ZRAM_CONF)
"""Files whose change alters the units systemd's generators make (systemd-fstab-generator, zram-generator): with
the masks, what `systemctl daemon-reload` makes the running systemd see."""
RESTART_TIMEOUT = 120.0


@dataclass(frozen=True)
class Options:
    """The choices of ``node check | prepare | reset`` (their command-line options)."""

    proxy_mode: ProxyMode = ProxyMode.IPVS
    scheduler: str = "rr"
    ip_family: IpFamily = IpFamily.IPV4
    swap: SwapMode = SwapMode.OFF
    persist: Persist = Persist.AUTO
    force: bool = False
    runtime: RuntimeChoice = RuntimeChoice.AUTO
    sources: Sources = field(default_factory=Sources)
    """What the runtime must agree with: --kubernetes-version, --kubelet-config, --kubeadm-config."""
    restart_runtime: bool = False

    def command(self, verb: str) -> str:
        """The canonical command line written into each file's header."""
        words = [f"k8snode node {verb}"]
        for flag, value, default in (
            ("--proxy-mode", self.proxy_mode, ProxyMode.IPVS),
            ("--scheduler", self.scheduler, "rr"),
            ("--ip-family", self.ip_family, IpFamily.IPV4),
            ("--swap", self.swap, SwapMode.OFF),
            ("--persist", self.persist, Persist.AUTO),
        ):
            if value != default:
                words.append(f"{flag} {value}")
        return " ".join(words)

    def runtime_command(self, verb: str) -> str:
        """The command line in the header of the runtime's files: with the options that decide their content (the
        kernel's files leave them out, so that a check with another --runtime does not see them as changed)."""
        words = [self.command(verb)]
        for flag, value in (
            ("--runtime", None if self.runtime == RuntimeChoice.AUTO else str(self.runtime)),
            ("--kubernetes-version", self.sources.kubernetes_version),
            ("--kubelet-config", self.sources.kubelet_config),
            ("--kubeadm-config", self.sources.kubeadm_config),
        ):
            if value is not None:
                words.append(f"{flag} {shlex.quote(value)}")
        return " ".join(words)


@dataclass
class SysctlPlan:
    """One sysctl the node needs: its running value, its value after a reboot, and the action."""

    key: str
    wanted: str
    running: str | None
    boot: sysctl.Setting | None
    action: Action = Action.NONE

    def as_dict(self) -> dict[str, str | None]:
        return {
            "key": self.key,
            "wanted": self.wanted,
            "running": self.running,
            "boot": None if self.boot is None else self.boot.value,
            "boot_source": None if self.boot is None else self.boot.where,
            "action": self.action,
        }


@dataclass
class SwapPlan:
    """Swap now, in fstab, in swap units and in zram-generator, and what turns it off for good."""

    mode: SwapMode
    active: list[str] | None
    fstab: swap.Fstab
    units: list[str]
    """Swap units to mask."""
    zram_generator: bool
    swapoff: dict[str, Action] = field(default_factory=dict)
    masks: dict[str, Action] = field(default_factory=dict)
    daemon_reload: Action | None = None
    """``systemctl daemon-reload`` after the change: ran, would-run, failed, or None (not run)."""

    def as_dict(self) -> dict[str, object]:
        return {
            "mode": str(self.mode),
            "active": self.active,
            "swapoff": [{"device": d, "action": a} for d, a in self.swapoff.items()],
            "fstab_entries": self.fstab.entries,
            "units": [{"unit": u, "action": a} for u, a in self.masks.items()],
            "zram_generator": self.zram_generator,
            "daemon_reload": self.daemon_reload,
        }


@dataclass
class Plan:
    """Everything ``node prepare`` would change on this host, and what it cannot."""

    options: Options
    kernel: Kernel
    modules: list[ModulePlan]
    sysctls: list[SysctlPlan]
    swap: SwapPlan
    files: list[FilePlan]
    missing: list[str]
    """Modules the kernel does not have: nothing can be prepared."""
    problems: list[str]
    """What the next boot would undo, each naming the file and line responsible; and what the container runtime
    needs that prepare cannot do."""
    warnings: list[str]
    runtime: RuntimePlan | None = None

    @property
    def diffs(self) -> dict[str, str]:
        return {str(f.path): f.diff() for f in self.files if f.action != Action.UNCHANGED}


@dataclass
class Checked:
    """What `node check` found: the plan with the action a run would take on each thing, IPVS's own check, and
    nftables mode's readiness."""

    plan: Plan
    ipvs: ipvs.Check | None
    nftables: list[nftables.Requirement] | None
    drift: list[str]
    warnings: list[str]

    @property
    def summary(self) -> str:
        return "; ".join(self.drift) if self.drift else "the node is prepared, now and after a reboot"


@dataclass
class Prepared:
    """What `node prepare` did (or, in a dry run, would do); ``plan.problems`` are what the next boot would undo."""

    plan: Plan
    ipvs: ipvs.Enabled | None
    changed: bool
    dry_run: bool
    runtime_restart: Action | None = None
    """``systemctl restart`` of the runtime (--restart-runtime): ran, would-run, failed, or None (not run)."""

    @property
    def warnings(self) -> list[str]:
        return self.plan.warnings + ([] if self.ipvs is None else self.ipvs.assessment.warnings)

    @property
    def summary(self) -> str:
        if self.plan.problems:
            return "; ".join(self.plan.problems)
        if not self.changed:
            return "the node is prepared; nothing to change"
        return (
            ("would prepare" if self.dry_run else "prepared")
            + " the node: modules, sysctls"
            + (", swap off" if self.plan.options.swap == SwapMode.OFF else " (swap kept)")
            + self._runtime_part
        )

    @property
    def _runtime_part(self) -> str:
        runtime = self.plan.runtime
        return f", {runtime.runtime}'s configuration" if runtime and runtime.restart_needed else ""


@dataclass
class Undone:
    """What `node reset` undid (or, in a dry run, would undo)."""

    files: list[FilePlan]
    fstab_entries: list[str]
    masks: dict[str, Action]
    daemon_reload: Action | None
    ipvs: ipvs.Disabled | None
    warnings: list[str]
    dry_run: bool
    runtime_files: list[FilePlan] = field(default_factory=list)
    """The container runtime's files put back (config.toml restored or removed) and its records removed."""

    @property
    def changed(self) -> bool:
        return bool(self.files or self.runtime_files or self.masks or (self.ipvs and self.ipvs.changed))

    @property
    def summary(self) -> str:
        """Counts every file the reset undoes, `ipvs disable`'s included, as the table of files shows them."""
        files = self.files + self.runtime_files + ([] if self.ipvs is None else self.ipvs.files)
        restored = sum(1 for f in files if f.restore)
        removing, restoring = ("to remove", "to restore") if self.dry_run else ("removed", "restored")
        return (
            f"{'would undo' if self.dry_run else 'undid'} {len(files)} file(s) ({len(files) - restored} {removing}, "
            f"{restored} {restoring}) and {len(self.masks)} swap unit mask(s); running sysctl values, loaded modules "
            "and swap stay as they are until the next boot"
        )


def assess(system: System, options: Options, *, force: bool) -> Plan:
    """Everything `check` reports and `prepare` acts on, including what the next boot would apply; reads only."""
    ipvs.validate_scheduler(options.scheduler)
    kernel = read_kernel(system)
    names = requirements.node_modules(options.proxy_mode)
    modules = kmod.assess(system, kernel, names)
    missing = [
        f"{m.name} is missing from kernel {kernel.release} ({m.source})"
        for m in modules
        if m.state == ModuleState.MISSING
    ]
    problems: list[str] = []
    wanted = requirements.sysctls(options.ip_family)
    swap_plan = _swap_plan(system, options)
    contents = _owned_contents(system, options, names, wanted, swap_plan)
    files = [
        plan_write(system, path, mode, data, force=force or options.force) for path, (mode, data) in contents.items()
    ]
    files += _fstab_files(system, swap_plan)
    problems += _unmaskable(system, swap_plan)
    boot = sysctl.boot_view(system, {SYSCTL_FILE: contents[SYSCTL_FILE][1]})
    problems += boot.problems
    sysctls = []
    for key, value in wanted.items():
        plan = SysctlPlan(key, value, sysctl.running(system, key), boot.settings.get(key))
        if plan.boot is not None and plan.boot.value != value:
            problems.append(
                f"{key} = {plan.boot.value} after a reboot: {plan.boot.where} overrides {SYSCTL_FILE}; "
                f"remove that line or set it to {value}"
            )
        sysctls.append(plan)
    problems += kmod.blocked_at_boot(system, requirements.boot_modules(options.proxy_mode, options.scheduler, kernel))
    warnings = []
    if options.swap == SwapMode.KEEP:
        warnings.append(swap.KEEP_ADVICE)
    runtime = _runtime_plan(system, options, problems, warnings)
    if runtime is not None:
        files += runtime.files
    return Plan(options, kernel, modules, sysctls, swap_plan, files, missing, problems, warnings, runtime)


def _runtime_plan(system: System, options: Options, problems: list[str], warnings: list[str]) -> RuntimePlan | None:
    """The container runtime's plan; what prepare cannot fix goes into ``problems``."""
    if options.runtime == RuntimeChoice.NONE:
        return None
    targets = runtime_wanted.read(system, options.sources)  # bad input in the options, runtime or none
    name, version = detect.find(system, options.runtime)
    if name is None:
        sockets = " or ".join(str(path) for path in detect.SOCKETS.values())
        if options.runtime == RuntimeChoice.AUTO:
            warnings.append(f"no container runtime found (no {sockets}, no containerd or crio on PATH)")
        else:
            socket, binary = detect.SOCKETS[options.runtime], detect.BINARIES[options.runtime]
            problems.append(f"--runtime {options.runtime}: no {socket} and no {binary} on PATH; install it")
        return None
    wanted, said = targets.wanted()  # the pause image, looked up only where there is a runtime to compare it with
    warnings += said
    plan = detect.plan(system, name, version, wanted, options.runtime_command("prepare"))
    problems += [f"{plan.runtime}: {f.detail}" for f in plan.findings if f.status == Status.PROBLEM]
    warnings += [f"{plan.runtime}: {f.detail}" for f in plan.findings if f.status == Status.UNKNOWN]
    return plan


def check(system: System, options: Options) -> Checked:
    plan = assess(system, options, force=True)
    for module in plan.modules:
        module.action = requirements.check_action(module.state)
    now = sysctl.boot_view(system, {})  # a check reports what a reboot applies now, not what a prepare would write
    for item in plan.sysctls:
        item.boot = now.settings.get(item.key)
        item.action = Action.NONE if item.running == item.wanted else Action.WOULD_SET
    _swap_actions(plan.swap, dry_run=True)
    for file in plan.files:
        file.action = pending_action(file)
    ipvs_check = ipvs.check(system, options.scheduler, plan.kernel) if options.proxy_mode == ProxyMode.IPVS else None
    drift = _drift(plan)
    if plan.runtime is not None:
        drift += [f"{plan.runtime.runtime}: {f.detail}" for f in plan.runtime.findings if f.status == Status.DRIFT]
    warnings = list(plan.warnings)
    if ipvs_check is not None and not ipvs_check.ok:
        drift.append(f"IPVS: {ipvs_check.summary}")
    readiness = None
    if options.proxy_mode == ProxyMode.NFTABLES:
        # nf_tables missing is already in the plan's problems (its modules); the kernel release and nft are not.
        readiness = nftables.readiness(system, plan.kernel)
        for requirement in readiness:
            text = requirement.detail + (f"; {requirement.hint}" if requirement.hint else "")
            if requirement.met is False and requirement.id != "nf_tables":
                drift.append(text)
            elif requirement.met is None:
                warnings.append(text)
    if ipvs_check is not None:
        warnings += ipvs_check.assessment.warnings
    return Checked(plan, ipvs_check, readiness, drift, warnings)


def prepare(system: System, options: Options, *, dry_run: bool = False) -> Prepared:
    """Load, set, persist and turn swap off; the plan is read under the lock. Audit problems exit 1 after the work."""
    with system.lock_unless(dry_run):
        plan = assess(system, options, force=False)
        if plan.missing:
            raise failed("; ".join(plan.missing))
        for file in plan.files:  # a path no write can reach is refused before the first change, not after it
            if file.needs_write and file.wanted is not None:
                system.check_creatable(file.path)
        enabled = None
        if options.proxy_mode == ProxyMode.IPVS:
            enabled = ipvs.enable_locked(
                system, options.scheduler, options.persist, dry_run=dry_run, force=options.force
            )
        changed = _apply(system, plan, dry_run=dry_run) or bool(enabled and enabled.changed)
        restart = None
        if options.restart_runtime:
            restart, said = restart_runtime(system, plan.runtime, dry_run=dry_run)
            plan.warnings += said
    return Prepared(plan, enabled, changed, dry_run, restart)


def restart_runtime(system: System, runtime: RuntimePlan | None, *, dry_run: bool) -> tuple[Action | None, list[str]]:
    """``systemctl restart`` of the runtime whose files changed, where systemd runs this root (``--root /``, as
    ``swap.reload_units``): the action (ran, would-run, failed, or None: not run) and warnings. A failed restart
    is a warning: the files are written either way."""
    if runtime is None or not runtime.restart_needed:
        return None, []
    if system.root != Path("/") or not system.exists(swap.RUNNING_SYSTEMD):
        return None, [f"{runtime.runtime} not restarted: systemd does not run --root {system.root}"]
    if dry_run:
        return Action.WOULD_RUN, []
    try:
        completed = system.run(["systemctl", "restart", runtime.runtime], timeout=RESTART_TIMEOUT)
    except K8snodeError as error:
        return Action.FAILED, [f"systemctl restart {runtime.runtime}: {error}"]
    if completed.returncode != 0:
        detail = completed.stderr.strip() or f"exit {completed.returncode}"
        return Action.FAILED, [f"systemctl restart {runtime.runtime} failed ({detail}); restart it by hand"]
    return Action.RAN, []


def reset(system: System, options: Options, *, dry_run: bool = False) -> Undone:
    """Undo what `prepare` wrote: its files, its masks, its fstab comments. Running values stay until reboot."""
    with system.lock_unless(dry_run):
        return _reset(system, options, dry_run=dry_run)


def _reset(system: System, options: Options, *, dry_run: bool) -> Undone:
    warnings: list[str] = []
    fstab = swap.restore_fstab(swap.read_fstab(system), _restorable_lines(system))
    files: list[FilePlan] = []
    record = system.read_bytes(MASK_RECORD)
    units = [u for u in _listed_units(record) if swap.masked(system, u)] if record and owned(record) else []
    if fstab.entries:
        files.append(_fstab_plan(system, swap.FSTAB, fstab.wanted, fstab.current, restore=True))
    backup = system.read_bytes(swap.FSTAB_BACKUP)
    restored = fstab.wanted if fstab.entries else fstab.current
    if backup is not None and restored == backup:
        files.append(FilePlan(swap.FSTAB_BACKUP, _mode(system, swap.FSTAB_BACKUP), None, backup))
    elif backup is not None:
        warnings.append(f"{swap.FSTAB} differs from {swap.FSTAB_BACKUP} after restoring; the copy stays for review")
    for path in sorted(OWNED_FILES, key=lambda path: path in RECORDS):  # the records go last
        file = plan_remove(system, path)
        if file is None or file.current is None:  # nothing there, or a symlink: prepare writes files
            continue
        if owned(file.current) or options.force:
            files.append(file)
        else:
            warnings.append(f"{path} was not written by k8snode and stays (pass --force to remove it)")
    masks = {u: Action.WOULD_UNMASK for u in units}
    runtime_files, runtime_warnings = detect.undo(system, options.runtime, force=options.force)
    warnings += runtime_warnings
    disabled = (
        ipvs.disable_locked(system, unload=False, force=options.force, dry_run=dry_run)
        if options.proxy_mode == ProxyMode.IPVS
        else None
    )
    if not dry_run:
        for unit in units:
            system.remove(swap.MASK_DIR / unit)
            masks[unit] = Action.UNMASKED
    apply(system, runtime_files, dry_run=dry_run)  # the file first, then its records
    apply(system, files, dry_run=dry_run)
    if not dry_run:
        system.remove_empty_directory(MASK_RECORD.parent)  # prepare made it for the record
    daemon_reload = None
    if units or any(f.path in SYSTEMD_READS for f in files):
        daemon_reload, reload_warnings = swap.reload_units(system, dry_run=dry_run)
        warnings += reload_warnings
    return Undone(files, fstab.entries, masks, daemon_reload, disabled, warnings, dry_run, runtime_files)


def _swap_plan(system: System, options: Options) -> SwapPlan:
    if options.swap == SwapMode.KEEP:
        return SwapPlan(options.swap, swap.active(system), swap.Fstab(None, None, []), [], False)
    active = swap.active(system) or []
    fstab = swap.swap_off_fstab(swap.read_fstab(system))
    units = sorted({swap.unit_name(device) for device in active} | set(swap.swap_units(system)))
    to_mask = [u for u in units if not swap.masked(system, u)]
    return SwapPlan(options.swap, active, fstab, to_mask, swap.zram_generator_installed(system))


def _owned_contents(
    system: System, options: Options, names: list[str], wanted: dict[str, str], swap_plan: SwapPlan
) -> dict[PurePosixPath, tuple[int, bytes]]:
    first_line = f"{header(options.command('prepare'))}. Remove with: k8snode node reset"
    contents: dict[PurePosixPath, tuple[int, bytes]] = {}
    sysconfig, modules_load = kmod.targets(system, options.persist)
    if sysconfig:
        text = Template(template_text("node-modules.sh.tmpl")).substitute(
            header=first_line, modprobe_lines="\n".join(f"modprobe -- {name}" for name in names)
        )
        contents[SYSCONFIG_FILE] = (0o755, text.encode())
    if modules_load:
        text = Template(template_text("node-modules.conf.tmpl")).substitute(
            header=first_line, module_lines="\n".join(names)
        )
        contents[MODULES_LOAD_FILE] = (0o644, text.encode())
    settings = "\n".join(f"{key} = {value}" for key, value in wanted.items())
    text = Template(template_text("node-sysctl.conf.tmpl")).substitute(header=first_line, settings=settings)
    contents[SYSCTL_FILE] = (0o644, text.encode())
    if swap_plan.zram_generator:
        text = Template(template_text("zram-generator.conf.tmpl")).substitute(header=first_line)
        contents[swap.ZRAM_CONF] = (0o644, text.encode())
    recorded = _listed_units(system.read_bytes(MASK_RECORD))
    units = sorted({*swap_plan.units, *(u for u in recorded if swap.masked(system, u))})
    if units:
        text = Template(template_text("masked-swap-units.tmpl")).substitute(header=first_line, units="\n".join(units))
        contents[MASK_RECORD] = (0o644, text.encode())
    recorded_lines = swap.fstab_lines(_record_body(system.read_bytes(FSTAB_RECORD)))
    fstab_lines = _still_commented(swap_plan.fstab.current, recorded_lines) + swap_plan.fstab.lines
    if fstab_lines:
        text = Template(template_text("fstab-swap-off.tmpl")).substitute(
            header=first_line, lines="\n".join(line.decode() for line in fstab_lines)
        )
        contents[FSTAB_RECORD] = (0o644, text.encode())
    return contents


def _fstab_files(system: System, swap_plan: SwapPlan) -> list[FilePlan]:
    """The fstab edit, preceded by a copy of the original beside it (kept once: the first original wins)."""
    fstab = swap_plan.fstab
    if not fstab.entries or fstab.current is None or fstab.wanted is None:
        return []
    plans = []
    if system.read_bytes(swap.FSTAB_BACKUP) is None:
        plans.append(_fstab_plan(system, swap.FSTAB_BACKUP, fstab.current, None))
    plans.append(_fstab_plan(system, swap.FSTAB, fstab.wanted, fstab.current))
    return plans


def _fstab_plan(
    system: System, path: PurePosixPath, wanted: bytes | None, current: bytes | None, *, restore: bool = False
) -> FilePlan:
    """A write of /etc/fstab or its copy with fstab's own mode and owner (a 0000 fstab stays 0000)."""
    mode = _mode(system, swap.FSTAB)
    current_mode = None if current is None else _mode(system, path)
    return FilePlan(path, mode, wanted, current, current_mode, restore=restore, owner=system.ownership(swap.FSTAB))


def _mode(system: System, path: PurePosixPath) -> int:
    mode = system.mode(path)
    return 0o644 if mode is None else mode


def _record_body(record: bytes | None) -> bytes:
    """A record's lines after its comment lines; nothing when k8snode did not write it."""
    if record is None or not owned(record):
        return b""
    return b"".join(line for line in record.splitlines(keepends=True) if not line.startswith(b"#"))


def _still_commented(fstab: bytes | None, recorded: list[bytes]) -> list[bytes]:
    """The recorded lines that fstab still holds behind the MARK (each as often as it does)."""
    marked = Counter(line[len(swap.MARK) :] for line in swap.fstab_lines(fstab) if line.startswith(swap.MARK))
    kept = []
    for line in recorded:
        if marked[line] > 0:
            marked[line] -= 1
            kept.append(line)
    return kept


def _restorable_lines(system: System) -> list[bytes]:
    """The fstab lines this host's `prepare` commented out: its record; on a host prepared before the record
    existed, the lines its copy of the original holds uncommented."""
    record = system.read_bytes(FSTAB_RECORD)
    if record is not None:
        return swap.fstab_lines(_record_body(record))
    return [line for line in swap.fstab_lines(system.read_bytes(swap.FSTAB_BACKUP)) if not line.startswith(swap.MARK)]


def _unmaskable(system: System, swap_plan: SwapPlan) -> list[str]:
    """A unit file in /etc/systemd/system cannot be masked without deleting it (systemctl mask refuses too)."""
    problems = []
    for unit in list(swap_plan.units):
        path = swap.MASK_DIR / unit
        link = system.readlink(path)
        if link is not None:  # not /dev/null: the plan masks only units not masked yet
            swap_plan.units.remove(unit)
            problems.append(
                f"{path} is a link to {link} (systemctl link) that turns swap on at boot; "
                "remove it or disable it by hand"
            )
        elif system.exists(path):
            swap_plan.units.remove(unit)
            problems.append(f"{path} is a unit file that turns swap on at boot; remove it or disable it by hand")
    if swap_plan.zram_generator:
        problems += [
            f"{path} defines a zram device that zram-generator would still create at boot"
            for path in swap.zram_dropins(system)
        ]
    return problems


def _swap_actions(plan: SwapPlan, *, dry_run: bool) -> None:
    if plan.mode == SwapMode.OFF:
        plan.swapoff = {device: Action.WOULD_SWAPOFF if dry_run else Action.SWAPOFF for device in plan.active or []}
        plan.masks = {unit: Action.WOULD_MASK if dry_run else Action.MASK for unit in plan.units}


def _apply(system: System, plan: Plan, *, dry_run: bool) -> bool:
    """Modules first (the bridge keys exist only once br_netfilter is loaded), then sysctls, files, swap."""
    to_load = [m for m in plan.modules if not m.state.present]
    to_set = []
    for item in plan.sysctls:
        if item.running != item.wanted:
            to_set.append(item)
            item.action = Action.WOULD_SET if dry_run else Action.SET
    _swap_actions(plan.swap, dry_run=dry_run)
    records = [f for f in plan.files if f.path in RECORDS]
    apply(system, records, dry_run=dry_run)  # intent first: every mask and fstab edit is recorded before it is made
    if dry_run:
        for module in to_load:
            module.action = Action.WOULD_LOAD
    else:
        kmod.load(system, plan.kernel.release, to_load)
        for item in to_set:
            sysctl.set_running(system, item.key, item.wanted)
            item.running = item.wanted
        for device in plan.swap.swapoff:
            completed = system.run(["swapoff", "--", device])
            if completed.returncode != 0:
                raise failed(f"swapoff {device} failed: {completed.stderr.strip() or completed.returncode}")
        for unit in plan.swap.units:
            system.symlink_atomic(swap.MASK_DIR / unit, "/dev/null")
    apply(system, [f for f in plan.files if f.path not in RECORDS], dry_run=dry_run)
    if plan.swap.units or any(f.path in SYSTEMD_READS and f.needs_write for f in plan.files):
        plan.swap.daemon_reload, reload_warnings = swap.reload_units(system, dry_run=dry_run)
        plan.warnings += reload_warnings
    return bool(to_load or to_set or plan.swap.swapoff or plan.swap.units or any(f.needs_write for f in plan.files))


def _drift(plan: Plan) -> list[str]:
    drift = []
    absent = [m.name for m in plan.modules if not m.state.present]
    if absent:
        drift.append(f"not loaded: {' '.join(absent)}")
    wrong = [f"{s.key}={s.running}" for s in plan.sysctls if s.running is not None and s.running != s.wanted]
    if wrong:
        drift.append(f"running: {' '.join(wrong)}")
    keyless = [s.key for s in plan.sysctls if s.running is None]
    if keyless:  # /proc/sys has a key only while the module that owns it is loaded (br_netfilter: net.bridge.*)
        drift.append(f"not in /proc/sys until their module is loaded: {' '.join(keyless)}")
    pending = [f"{f.path} ({f.action})" for f in plan.files if f.action != Action.UNCHANGED]
    if pending:
        drift.append(f"files: {', '.join(pending)}")
    if plan.swap.swapoff:
        drift.append(f"swap on: {' '.join(plan.swap.swapoff)}")
    if plan.swap.masks:
        drift.append(f"unmasked swap units: {' '.join(plan.swap.masks)}")
    return drift + plan.missing + plan.problems


def _listed_units(record: bytes | None) -> list[str]:
    return [
        line.strip()
        for line in (record or b"").decode(errors="replace").splitlines()
        if line.strip().endswith(".swap") and not line.startswith("#") and "/" not in line
    ]
