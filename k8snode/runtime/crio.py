"""CRI-O's configuration as the kubelet needs it: read the way CRI-O reads it, fixed by one drop-in k8snode owns.

CRI-O reads /etc/crio/crio.conf (``--config``), then every file under /etc/crio/crio.conf.d (``--config-dir``),
walked in lexical order, each decoded over the result of those before it: a later file wins, key by key (cri-o
internal/criocli/criocli.go ``mergeConfig``; pkg/config/config.go ``UpdateFromFile``, ``UpdateFromPath``, which uses
filepath.Walk; docs/crio.conf.d.5.md). Flags and CONTAINER_* variables given to crio win over every file; k8snode
reads the files only. A table
``[crio.runtime.runtimes.NAME]`` replaces the whole runtime NAME, since BurntSushi/toml decodes each map entry into a
fresh value (decode.go ``unifyMap``). Defaults (config.go ``DefaultConfig``, config_linux.go, config_unix.go,
internal/config/cgmgr/cgmgr_linux.go): cgroup_manager systemd, default_runtime crun, listen /var/run/crio/crio.sock.
conmon's cgroup (``conmon_cgroup``, else the runtime's ``monitor_cgroup``; system.slice when empty under systemd)
must be "pod" or a systemd slice with the systemd manager, and "pod" or empty with cgroupfs, or CRI-O does not start
(config.go ``TranslateMonitorFieldsForHandler``). A runtime's empty ``runtime_path`` is looked up on PATH by its name
(``ValidateRuntimePath``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from k8snode.core.errors import K8snodeError
from k8snode.core.files import FilePlan, header, owned, plan_remove
from k8snode.core.system import System
from k8snode.runtime import support
from k8snode.runtime.model import CONFIG_LIMIT, Finding, RuntimePlan, Status, Wanted, unknown_pause

CONFIG = PurePosixPath("/etc/crio/crio.conf")
DROP_IN_DIR = PurePosixPath("/etc/crio/crio.conf.d")
DROP_IN = DROP_IN_DIR / "99-k8snode.conf"
DEFAULT_LISTEN = "/var/run/crio/crio.sock"
DEFAULT_RUNTIME = "crun"
DEFAULT_MANAGER = "systemd"
DEFAULT_MONITOR_CGROUP = "system.slice"
"""The most k8snode reads of one CRI-O configuration file."""
SEARCH_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
"""Where CRI-O finds a runtime with no runtime_path: crio.service's PATH (systemd's default), under the root."""
STRINGS = (
    ("runtime", "cgroup_manager"),
    ("runtime", "conmon_cgroup"),
    ("runtime", "default_runtime"),
    ("image", "pause_image"),
    ("api", "listen"),
)
"""The settings k8snode reads, each a string in CRI-O's Config (a value of another type stops CRI-O)."""
RUNTIME_STRINGS = ("runtime_path", "runtime_type", "monitor_cgroup")
EMPTY = '""'
PREPARE_HINT = "k8snode node prepare writes it into " + str(DROP_IN)


@dataclass
class _Runtime:
    table: dict[str, str]
    source: str


@dataclass
class _Config:
    """The merged view of some files: each setting with the file that gave it last."""

    settings: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    runtimes: dict[str, _Runtime] = field(default_factory=dict)

    def get(self, key: tuple[str, str], default: str) -> tuple[str, str]:
        """The value and where it comes from ("FILE: [crio.SECTION] KEY", or CRI-O's default)."""
        return self.settings.get(key, (default, f"CRI-O's default {key[1]}"))

    def merged(self, other: _Config) -> _Config:
        return _Config({**self.settings, **other.settings}, {**self.runtimes, **other.runtimes})


@dataclass
class _Read:
    """Every file CRI-O reads, in its order, parsed; or the problems that stop reading them."""

    files: list[tuple[PurePosixPath, _Config]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    drop_in: bytes | None = None
    """The current content of 99-k8snode.conf."""

    def merge(self, *, without: PurePosixPath | None = None) -> _Config:
        result = _Config()
        for path, config in self.files:
            if path != without:
                result = result.merged(config)
        return result


def assess(system: System, wanted: Wanted, *, version: str | None, command: str) -> RuntimePlan:
    """CRI-O's state against ``wanted`` and the drop-in that fixes its drift; reads only. ``command`` is the
    canonical command line written into the drop-in's header."""
    release = wanted.kubernetes_version
    findings = [support.assess_version(support.CRIO, version, release)]
    read = _read(system)
    config = CONFIG if system.exists(CONFIG) or system.is_symlink(CONFIG) else None
    names = ", ".join(str(path) for path, _ in read.files)
    if read.problems:
        detail = "; ".join(read.problems)
        findings.append(Finding("config", Status.PROBLEM, names or None, None, detail))
        reason = "unknown until the configuration reads: see the config finding"
        for finding_id in ("cgroup_driver", "conmon_cgroup", "sandbox_image", "socket", "runtime_binary"):
            findings.append(Finding(finding_id, Status.UNKNOWN, None, None, reason))
        return RuntimePlan(support.CRIO, version, config, findings)
    detail = f"read in this order: {names}" if names else "no configuration file: CRI-O's built-in defaults"
    findings.append(Finding("config", Status.OK, names or None, None, detail))
    rule = support.cgroup_driver_rule(support.CRIO, version, release)
    on_systemd = support.systemd_host(system)
    driver, _ = support.runtime_driver(rule, wanted, on_systemd)
    base = read.merge(without=DROP_IN)
    settings = _fixes(base, driver, wanted)
    content = _drop_in(settings, command)
    now = read.merge()
    after = _with_drop_in(read, content, settings)
    found, where = now.get(("runtime", "cgroup_manager"), DEFAULT_MANAGER)
    current = support.cgroup_driver_finding(rule, wanted, on_systemd, found, where)
    findings.append(_settled(current, after.get(("runtime", "cgroup_manager"), DEFAULT_MANAGER), driver))
    findings.append(_conmon(now, after))
    found, where = now.get(("image", "pause_image"), "")
    pause = Finding("sandbox_image", Status.OK, found or None, wanted.pause_image, f"{where} is {found}", "ImagePull")
    if found != wanted.pause_image:
        pause.status = Status.DRIFT
        pause.detail = (
            f"{where} is {found}, not the pause image of kubeadm {release}"
            if found
            else f"no file sets pause_image, and CRI-O's built-in default depends on its version; {PREPARE_HINT}"
        )
    if wanted.pause_image is None:
        findings.append(unknown_pause(found or None, wanted))
    else:
        findings.append(_settled(pause, after.get(("image", "pause_image"), ""), wanted.pause_image))
    findings.append(_socket(now, wanted))
    findings.append(_runtime_binary(system, now))
    if read.drop_in is not None and not owned(read.drop_in):  # not k8snode's to replace, even with --force
        findings[1].status = Status.PROBLEM
        findings[1].detail += f"; {DROP_IN} was not written by k8snode: move it aside so that prepare can write it"
        return RuntimePlan(support.CRIO, version, config, findings)
    return RuntimePlan(support.CRIO, version, config, findings, _files(system, read, content))


def undo(system: System, *, force: bool) -> tuple[list[FilePlan], list[str]]:
    """What `reset` removes: the drop-in, when k8snode wrote it (or ``force``); and warnings for what stays."""
    plan = plan_remove(system, DROP_IN)
    if plan is None:
        return [], []
    if plan.current is None:
        return [], [f"{DROP_IN} is a symlink, which k8snode never writes; it stays"]
    if owned(plan.current) or force:
        return [plan], []
    return [], [f"{DROP_IN} was not written by k8snode and stays (pass --force to remove it)"]


def _read(system: System) -> _Read:
    read = _Read()
    for path in [CONFIG, *_drop_ins(system, DROP_IN_DIR)]:
        if path == CONFIG and not (system.exists(CONFIG) or system.is_symlink(CONFIG)):
            continue
        if system.is_symlink(path):
            read.problems.append(f"{path} is a symlink: k8snode does not follow links in CRI-O's configuration")
            continue
        data = system.read_bytes(path, CONFIG_LIMIT)  # a FIFO, a device or a file over 1 MiB is bad input
        if data is None:
            continue
        if path == DROP_IN:
            read.drop_in = data
        parsed = _parse(path, data, read.problems)
        if parsed is not None:
            read.files.append((path, parsed))
    return read


def _drop_ins(system: System, directory: PurePosixPath) -> list[PurePosixPath]:
    """The files under ``directory`` in filepath.Walk's order: names sorted, each directory walked where it sorts."""
    found: list[PurePosixPath] = []
    for name in system.listdir(directory):
        path = directory / name
        if not system.is_symlink(path) and system.path(path).is_dir():
            found += _drop_ins(system, path)
        else:
            found.append(path)
    return found


def _parse(path: PurePosixPath, data: bytes, problems: list[str]) -> _Config | None:
    """The settings of one file, or None (and a problem) when it is not TOML or a setting has the wrong type."""
    import tomlkit
    from tomlkit.exceptions import ParseError

    try:
        document: dict[str, Any] = tomlkit.parse(data.decode("utf-8")).unwrap()
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - data.rfind(b"\n", 0, error.start)
        problems.append(f"{path} is not UTF-8 (line {line} col {column}), so not TOML: CRI-O would not start")
        return None
    except ParseError as error:
        problems.append(f"{path} is not TOML: {error}: CRI-O would not start")
        return None
    config = _Config()
    crio = document.get("crio", {})
    if not isinstance(crio, dict):
        problems.append(f"{path}: crio is {_kind(crio)}, not a table: CRI-O would not start")
        return None
    wrong = []
    for section in sorted({section for section, _ in STRINGS}):
        if not isinstance(crio.get(section, {}), dict):
            wrong.append(f"[crio] {section} is {_kind(crio[section])}, not a table")
    for section, key in STRINGS:
        table = crio.get(section, {})
        if isinstance(table, dict) and key in table:
            if isinstance(table[key], str):
                config.settings[(section, key)] = (table[key], f"{path}: [crio.{section}] {key}")
            else:
                wrong.append(f"[crio.{section}] {key} is {_kind(table[key])}, not a string")
    runtime = crio.get("runtime", {})
    runtimes = runtime.get("runtimes", {}) if isinstance(runtime, dict) else {}
    if not isinstance(runtimes, dict):
        wrong.append(f"[crio.runtime] runtimes is {_kind(runtimes)}, not a table")
        runtimes = {}
    for name, table in runtimes.items():
        if not isinstance(table, dict):
            wrong.append(f"[crio.runtime.runtimes] {name} is {_kind(table)}, not a table")
            continue
        for key in RUNTIME_STRINGS:
            if key in table and not isinstance(table[key], str):
                wrong.append(f"[crio.runtime.runtimes.{name}] {key} is {_kind(table[key])}, not a string")
        strings = {key: value for key, value in table.items() if isinstance(value, str)}
        config.runtimes[name] = _Runtime(strings, f"{path}: [crio.runtime.runtimes.{name}]")
    if wrong:
        problems.append(f"{path}: {'; '.join(wrong)}: CRI-O would not start")
        return None
    return config


def _kind(value: object) -> str:
    """A TOML value's type, with its article."""
    kinds = {bool: "a boolean", int: "an integer", float: "a float", str: "a string", list: "an array", dict: "a table"}
    return kinds.get(type(value), "a date or time")


def _conmon_cgroups(config: _Config, manager: str) -> list[tuple[str, str]]:
    """conmon's cgroup for each OCI runtime CRI-O would keep, with where it comes from, as CRI-O validates it:
    empty means system.slice under systemd, and system.slice means empty under cgroupfs."""
    conmon, where = config.get(("runtime", "conmon_cgroup"), "")
    default = _Runtime({"monitor_cgroup": DEFAULT_MONITOR_CGROUP}, "CRI-O's default crun runtime:")
    found = []
    for runtime in {DEFAULT_RUNTIME: default, **config.runtimes}.values():
        if runtime.table.get("runtime_type", "oci") not in ("", "oci"):
            continue
        if conmon:
            found.append((conmon, where))
            break
        found.append((runtime.table.get("monitor_cgroup", ""), f"{runtime.source} monitor_cgroup"))
    cgroups = []
    for cgroup, source in found:
        if manager == "systemd" and not cgroup:
            cgroup = DEFAULT_MONITOR_CGROUP
        elif manager != "systemd" and cgroup == DEFAULT_MONITOR_CGROUP:
            cgroup = ""
        cgroups.append((cgroup, source))
    return cgroups


def _conmon_valid(cgroup: str, manager: str) -> bool:
    if manager == "systemd":
        return cgroup == "pod" or cgroup.endswith(".slice")
    return cgroup in ("pod", "")


def _fixes(base: _Config, driver: str, wanted: Wanted) -> dict[tuple[str, str], str]:
    """The settings the drop-in holds: those the other files leave different from what the kubelet needs."""
    fixes = {}
    if base.get(("runtime", "cgroup_manager"), DEFAULT_MANAGER)[0] != driver:
        fixes[("runtime", "cgroup_manager")] = driver
    if not all(_conmon_valid(cgroup, driver) for cgroup, _ in _conmon_cgroups(base, driver)):
        fixes[("runtime", "conmon_cgroup")] = "pod"  # valid with either manager
    if wanted.pause_image is not None and base.get(("image", "pause_image"), "")[0] != wanted.pause_image:
        fixes[("image", "pause_image")] = wanted.pause_image
    return fixes


def _drop_in(settings: dict[tuple[str, str], str], command: str) -> bytes | None:
    """The drop-in's TOML; None when nothing needs setting."""
    if not settings:
        return None
    import tomlkit

    document = tomlkit.document()
    first_line = f"{header(command)}. Remove with: k8snode node reset"
    document.add(tomlkit.comment(first_line.removeprefix("# ")))  # tomlkit writes the "# " itself
    document.add(tomlkit.comment("What the kubelet needs and the files before this one do not set."))
    crio = tomlkit.table(is_super_table=True)
    for (section, key), value in settings.items():
        if section not in crio:
            crio[section] = tomlkit.table()
        crio[section][key] = value
    document["crio"] = crio
    return tomlkit.dumps(document).encode()


def _with_drop_in(read: _Read, content: bytes | None, settings: dict[tuple[str, str], str]) -> _Config:
    """The merged view once the drop-in holds ``content``: the files after it still win."""
    result = _Config()
    ours = _Config({key: (value, f"{DROP_IN}: [crio.{key[0]}] {key[1]}") for key, value in settings.items()})
    placed = content is None
    for path, config in read.files:
        if path == DROP_IN:
            continue
        if not placed and str(path) > str(DROP_IN):
            result, placed = result.merged(ours), True
        result = result.merged(config)
    return result if placed else result.merged(ours)


def _settled(finding: Finding, after: tuple[str, str], wanted: str) -> Finding:
    """A drifting finding the drop-in cannot fix, because a later file sets it again, is a problem."""
    value, where = after
    if finding.status == Status.DRIFT and value != wanted:
        finding.status = Status.PROBLEM
        finding.detail += f"; {where} sets {value} after {DROP_IN}: change that file"
    elif finding.status == Status.DRIFT:
        finding.detail += f"; {PREPARE_HINT}"
    return finding


def _conmon(now: _Config, after: _Config) -> Finding:
    """conmon's cgroup as CRI-O validates it at start, against the cgroup manager in effect."""
    manager = now.get(("runtime", "cgroup_manager"), DEFAULT_MANAGER)[0]
    cgroups = _conmon_cgroups(now, manager)
    found = ", ".join(dict.fromkeys(cgroup or EMPTY for cgroup, _ in cgroups))
    rule = '"pod" or a systemd slice' if manager == "systemd" else '"pod" or empty'
    wrong = [(cgroup, where) for cgroup, where in cgroups if not _conmon_valid(cgroup, manager)]
    if not wrong:
        return Finding("conmon_cgroup", Status.OK, found, rule, f"conmon's cgroup is {found}, valid with {manager}")
    shown = "; ".join(f"{where} is {cgroup or EMPTY}" for cgroup, where in wrong)
    detail = f"{shown}: with cgroup_manager {manager} conmon's cgroup must be {rule}, or CRI-O does not start"
    finding = Finding("conmon_cgroup", Status.DRIFT, found, rule, detail)
    manager = after.get(("runtime", "cgroup_manager"), DEFAULT_MANAGER)[0]
    still = [(cgroup, where) for cgroup, where in _conmon_cgroups(after, manager) if not _conmon_valid(cgroup, manager)]
    if still:
        finding.status = Status.PROBLEM
        finding.detail += f"; {still[0][1]} still sets {still[0][0] or EMPTY} after {DROP_IN}: change that file"
    else:
        finding.detail += f"; valid with {manager} once k8snode node prepare writes {DROP_IN}"
    return finding


def _socket(now: _Config, wanted: Wanted) -> Finding:
    """[crio.api] listen against nodeRegistration.criSocket; kubeadm finds CRI-O by itself only at its default."""
    listen, where = now.get(("api", "listen"), DEFAULT_LISTEN)
    endpoint = f"unix://{listen}"
    if wanted.cri_socket is None:
        if _same_socket(listen, DEFAULT_LISTEN):
            return Finding("socket", Status.OK, endpoint, None, f"{where} is {listen}, where kubeadm looks", "CRI")
        detail = (
            f"{where} is {listen}: kubeadm finds CRI-O only at unix://{DEFAULT_LISTEN}; set "
            f"nodeRegistration.criSocket: {endpoint} in the kubeadm configuration"
        )
        return Finding("socket", Status.PROBLEM, endpoint, f"unix://{DEFAULT_LISTEN}", detail, "CRI")
    given = wanted.cri_socket.removeprefix("unix://")
    if _same_socket(listen, given):
        return Finding("socket", Status.OK, endpoint, wanted.cri_socket, f"{where} is {listen}, the criSocket", "CRI")
    detail = (
        f"{where} is {listen} but nodeRegistration.criSocket is {wanted.cri_socket}: change one of them "
        "(k8snode changes neither)"
    )
    return Finding("socket", Status.PROBLEM, endpoint, wanted.cri_socket, detail, "CRI")


def _same_socket(one: str, other: str) -> bool:
    """/var/run is a link to /run on every systemd distribution: the two name one socket."""

    def canonical(path: str) -> str:
        return "/run/" + path.removeprefix("/var/run/") if path.startswith("/var/run/") else path

    return canonical(one) == canonical(other)


def _runtime_binary(system: System, now: _Config) -> Finding:
    name, where = now.get(("runtime", "default_runtime"), DEFAULT_RUNTIME)
    runtimes = {DEFAULT_RUNTIME: _Runtime({}, "CRI-O's default crun runtime"), **now.runtimes}
    runtime = runtimes.get(name)
    if runtime is None:
        detail = f"{where} is {name}, but no file has [crio.runtime.runtimes.{name}]: CRI-O would not start"
        return Finding("runtime_binary", Status.PROBLEM, None, name, detail)
    path = runtime.table.get("runtime_path", "")
    if not path:
        for directory in SEARCH_PATH:
            if _present(system, f"{directory}/{name}"):
                found = f"{directory}/{name}"
                return Finding("runtime_binary", Status.OK, found, name, f"{runtime.source}: {name} is {found}")
        detail = f"{runtime.source} names no runtime_path and {name} is not in {':'.join(SEARCH_PATH)}: install {name}"
        return Finding("runtime_binary", Status.PROBLEM, None, name, detail)
    if _present(system, path):
        return Finding("runtime_binary", Status.OK, path, path, f"{runtime.source} runtime_path {path} exists")
    detail = f"{runtime.source} runtime_path {path} does not exist: CRI-O would not start; install {name} there"
    return Finding("runtime_binary", Status.PROBLEM, path, path, detail)


def _present(system: System, path: str) -> bool:
    """A file (or link) at ``path`` under the root; False for a path that is not absolute or has '..' in it."""
    try:
        return system.exists(path) or system.is_symlink(path)
    except K8snodeError:
        return False


def _files(system: System, read: _Read, content: bytes | None) -> list[FilePlan]:
    """The drop-in to write (mode 0644), or to remove when nothing needs it any more; nothing when it is right."""
    if content is None:
        removal = plan_remove(system, DROP_IN) if read.drop_in is not None else None
        return [] if removal is None else [removal]
    return [FilePlan(DROP_IN, 0o644, content, read.drop_in, system.mode(DROP_IN))]
