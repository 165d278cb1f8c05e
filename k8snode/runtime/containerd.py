"""containerd's /etc/containerd/config.toml: read it, check it against what the kubelet and kubeadm need, and plan
the edit of only the keys that differ, keeping every other byte (tomlkit keeps comments, order and formatting).

The schema, from containerd's sources (containerd/containerd):
- ``version``: no key is version 1; 2 from containerd 1.3, 3 from 2.0 (RELEASES.md, "Daemon Configuration"), 4 from
  2.3 (config.go's ``migrations``: ``serviceMigrate`` moves ``[grpc]`` into ``plugins."io.containerd.server.v1.grpc"``;
  the CRI's plugin names stay those of 3, gardener/gardener#14856). Each release reads the older versions by migrating
  them at each start (cmd/containerd/server/config/config.go ``MigrateConfig``: ``v1Migrate`` turns short plugin
  names such as ``cri`` into ``io.containerd.grpc.v1.cri``), never a newer one.
- version 1: the CRI plugin's table is ``plugins.cri``; version 2: ``plugins."io.containerd.grpc.v1.cri"``, with
  ``sandbox_image`` and ``containerd.runtimes.<name>.options.SystemdCgroup`` (docs/cri/config.md).
- version 3: ``plugins."io.containerd.cri.v1.runtime"`` holds ``containerd.runtimes.<name>.options.SystemdCgroup``
  and ``plugins."io.containerd.cri.v1.images"`` holds ``pinned_images.sandbox`` (docs/cri/config.md, PLUGINS.md).
- ``containerd.default_runtime_name`` names the runtime the CRI uses ("runc" by default); its ``options`` are the
  runc shim's: ``SystemdCgroup`` (false by default: cgroupfs) and ``BinaryName`` (runc on PATH by default).
- ``disabled_plugins`` holds plugin ids; Docker's containerd.io package ships ``disabled_plugins = ["cri"]``
  (docker/containerd-packaging common/containerd.toml), which turns the CRI off: kubeadm's preflight check "CRI"
  then fails (kubernetes/kubernetes cmd/kubeadm/app/preflight/checks.go, ``CRICheck``). That file has no
  ``version`` (1, where "cri" is the plugin's id); from version 2 on an entry must be a URI, and "cri" makes 1.6
  and 2.4 refuse the file ("invalid disabled plugin URI"). So k8snode takes "cri" out and never adds a ``version``.
- ``imports`` merges other files over this one (config.go ``LoadConfigWithPlugins``): k8snode does not edit a file
  whose settings another file may override. ``resolveImports`` takes a relative entry from the file's directory and
  globs an entry holding ``*`` (``filepath.Glob``), so a pattern that matches no file imports nothing; a plain entry
  naming no file stops containerd (``loadConfigFile``). containerd 2.x's ``config default`` writes
  ``imports = ['/etc/containerd/conf.d/*.toml']`` (defaults.DefaultConfigIncludePattern).
- A file below version 4 read by containerd 2.3 or later: the CRI images plugin's migration (plugins/cri/images/
  plugin.go ``configMigration``, run for each version below 4) copies a ``sandbox_image`` left under the version 2
  name ``plugins."io.containerd.grpc.v1.cri"`` over ``pinned_images.sandbox``, in a version 3 file too; 2.0 to 2.2
  (whose newest version is 3) do not migrate a version 3 file. k8snode sets such a leftover to the wanted image too,
  so that the file means one thing to every 2.x (and the operator's line, with its comment, stays).
- containerd 1.x ignores a version 3 file's plugin sections without a word (measured with 1.6.20's ``config dump``).
- ``[grpc] address`` is the socket (/run/containerd/containerd.sock by default); in version 4
  ``plugins."io.containerd.server.v1.grpc".address``.

A file k8snode has to create gets the newest schema the containerd found reads: 4 from 2.3, 3 for 2.0 to 2.2, 2 for
1.x; and 2 when the version is unknown, since every containerd from 1.3 on reads it (2.x migrates it at start).
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import MutableMapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from k8snode.core.errors import bad_input
from k8snode.core.files import FilePlan, header, owned
from k8snode.core.system import System
from k8snode.runtime import support
from k8snode.runtime.model import CONFIG_LIMIT, Finding, RuntimePlan, Status, Wanted, unknown_pause

if TYPE_CHECKING:
    from tomlkit import TOMLDocument

CONFIG = PurePosixPath("/etc/containerd/config.toml")
ORIGINAL = PurePosixPath("/etc/k8snode/containerd-config.toml.orig")
"""The operator's config.toml as it was before k8snode's edit, byte for byte, with its mode and owner."""
RECORD = PurePosixPath("/etc/k8snode/containerd-config.toml.record")
"""What k8snode last wrote to config.toml (its sha256) and whether it created the file: written before the edit
(intent first), so that `reset` restores or removes the file only while it still holds what k8snode wrote."""
DEFAULT_SOCKET = "/run/containerd/containerd.sock"
DEFAULT_RUNTIME = "runc"
RUNC_SHIM = "io.containerd.runc.v2"
CRI_PREFLIGHT = "CRI"
SANDBOX_PREFLIGHT = "ImagePull"
"""kubeadm's ImagePullCheck warns when the runtime's sandbox image is not the pause image kubeadm uses."""
SCHEMA_VERSIONS = (1, 2, 3, 4)
IMPORT_LIMIT = 64
"""The most import entries, and the most files their patterns match, that k8snode looks at."""

KeyPath = tuple[str, ...]
"""Keys from the top of the document to a value."""


@dataclass(frozen=True)
class Schema:
    version: int
    runtime: KeyPath
    """The table of the CRI plugin that holds ``containerd.default_runtime_name`` and ``containerd.runtimes``."""
    images: KeyPath
    """The table of the CRI plugin that holds the sandbox image."""
    sandbox: KeyPath
    """The sandbox image's key in ``images``."""
    disabling: frozenset[str]
    """The ``disabled_plugins`` entries that turn the CRI off."""
    sockets: tuple[KeyPath, ...] = (("grpc", "address"),)
    """Where the socket is set, the first set one winning."""


_CRI_V2 = ("plugins", "io.containerd.grpc.v1.cri")
_V3_DISABLING = frozenset({"cri", _CRI_V2[1], "io.containerd.cri.v1.runtime", "io.containerd.cri.v1.images"})
SCHEMAS = {
    1: Schema(1, ("plugins", "cri"), ("plugins", "cri"), ("sandbox_image",), frozenset({"cri", _CRI_V2[1]})),
    2: Schema(2, _CRI_V2, _CRI_V2, ("sandbox_image",), frozenset({"cri", _CRI_V2[1]})),
    3: Schema(
        3,
        ("plugins", "io.containerd.cri.v1.runtime"),
        ("plugins", "io.containerd.cri.v1.images"),
        ("pinned_images", "sandbox"),
        _V3_DISABLING,
    ),
    4: Schema(
        4,
        ("plugins", "io.containerd.cri.v1.runtime"),
        ("plugins", "io.containerd.cri.v1.images"),
        ("pinned_images", "sandbox"),
        _V3_DISABLING,
        (("plugins", "io.containerd.server.v1.grpc", "address"), ("grpc", "address")),
    ),
}


@dataclass
class Settings:
    """What a config.toml sets, as containerd reads it (None: containerd's default)."""

    schema: Schema
    disabled: list[str]
    runtime_name: str
    runtime_table: bool
    """The default runtime has a table in containerd.runtimes (containerd's own defaults have one for runc)."""
    runtime_type: str | None
    systemd_cgroup: bool | None
    binary_name: str | None
    sandbox: str | None
    address: str | None
    leftover_sandbox: str | None = None
    """A version 3 file's ``sandbox_image`` under the version 2 name, which containerd 2.3 and later let win."""
    runtimes_v3: bool = False
    """A version 2 file (or 1) that also has ``containerd.runtimes`` under the version 3 name, which containerd 2.x
    takes instead of the file's own (plugins/cri/runtime/plugin.go ``migrateConfig`` keeps each key there)."""

    @property
    def runc(self) -> bool:
        """The default runtime is runc's shim, whose options hold SystemdCgroup and BinaryName."""
        known = self.runtime_table or self.runtime_name == DEFAULT_RUNTIME
        return known and self.runtime_type in (None, RUNC_SHIM)


def release(version: str | None) -> tuple[int, int] | None:
    """containerd's major and minor from ``containerd --version``'s (2.4.2, v1.7.27, 1.6.20~ds1); None if unknown."""
    parsed = support.parse_runtime_version(version)
    return None if parsed is None else parsed[:2]


def newest_schema(version: str | None) -> int:
    """The newest config version the containerd ``version`` reads; 2 when the version is unknown."""
    found = release(version)
    if found is None or found < (2, 0):
        return 2
    return 3 if found < (2, 3) else 4


def assess(system: System, wanted: Wanted, *, version: str | None, command: str) -> RuntimePlan:
    """containerd's findings against ``wanted``, and the writes that fix its drift; reads only."""
    kubernetes = wanted.kubernetes_version
    findings = [support.assess_version(support.CONTAINERD, version, kubernetes)]
    plan = RuntimePlan("containerd", version, CONFIG, findings)
    if system.is_symlink(CONFIG):
        findings.append(
            Finding(
                "config",
                Status.PROBLEM,
                f"symlink to {system.readlink(CONFIG)}",
                "a regular file",
                f"{CONFIG} is a symlink; k8snode edits only a regular file: replace the link with the file it names",
            )
        )
        return plan
    current = system.read_bytes(CONFIG, CONFIG_LIMIT)
    document = _parse(current) if current is not None else None
    if document is None:
        plan.config = None
        findings.append(
            Finding(
                "config",
                Status.DRIFT,
                None,
                str(CONFIG),
                f"no {CONFIG}: containerd runs on its built-in defaults; prepare writes one",
            )
        )
    else:
        findings.append(_config_finding(system, document))
        if findings[-1].status == Status.PROBLEM:
            return plan
    settings = read_settings(document, _new_schema(version))
    findings.append(_schema_finding(document, settings.schema, version))
    rule = support.cgroup_driver_rule(support.CONTAINERD, version, kubernetes)
    on_systemd = support.systemd_host(system)
    driver, _ = support.runtime_driver(rule, wanted, on_systemd)
    findings += _setting_findings(
        system, settings, wanted, version, _driver_finding(settings, rule, wanted, on_systemd, version)
    )
    if any(f.status == Status.PROBLEM and f.id in ("config", "schema") for f in findings):
        return plan
    edited = _edited(document, settings, wanted, driver, command)
    plan.files = _files(system, current, edited, command)
    return plan


def undo(system: System, *, force: bool) -> tuple[list[FilePlan], list[str]]:
    """What `reset` does to config.toml: the original back, byte for byte with its mode and owner (or the file
    removed when k8snode created it), while it still holds what k8snode wrote; then the records go."""
    record = system.read_bytes(RECORD)
    if record is None or not owned(record):
        current = None if system.is_symlink(CONFIG) else system.read_bytes(CONFIG, CONFIG_LIMIT)
        if current is not None and owned(current):
            if force:
                return [_removal(system, CONFIG, current)], []
            return [], [f"{CONFIG} was written by k8snode but {RECORD} is gone; pass --force to remove it"]
        return [], []
    written, created = _read_record(record)
    current = None if system.is_symlink(CONFIG) else system.read_bytes(CONFIG, CONFIG_LIMIT)
    original = system.read_bytes(ORIGINAL)
    records = [_removal(system, path, data) for path, data in ((ORIGINAL, original), (RECORD, record)) if data]
    if not created and original is None:  # the operator's file, with nothing to give back: it stays
        return [], [f"{CONFIG} stays: {ORIGINAL}, its original, is gone"]
    if current is None and created:  # the file k8snode made is gone already
        return records, []
    if (current is None or _digest(current) != written) and not force:
        kept = f"; its original stays in {ORIGINAL} for review" if original is not None else ""
        state = "is gone" if current is None else "changed since k8snode wrote it and stays"
        return [], [f"{CONFIG} {state}{kept} (pass --force to restore it anyway)"]
    if created:
        assert current is not None
        return [_removal(system, CONFIG, current), *records], []
    assert original is not None
    restored = FilePlan(
        CONFIG,
        system.mode(ORIGINAL) or 0o644,
        original,
        current,
        system.mode(CONFIG),
        restore=True,
        owner=system.ownership(ORIGINAL),
    )
    return [restored, *records], []


def read_settings(document: TOMLDocument | None, new_schema: Schema) -> Settings:
    """The settings k8snode checks, each type checked (bad input when it is not what containerd reads)."""
    if document is None:
        return Settings(new_schema, [], DEFAULT_RUNTIME, False, None, None, None, None, None)
    schema = SCHEMAS[_schema_version(document)]
    disabled = _get(document, ("disabled_plugins",), list) or []
    if not all(isinstance(entry, str) for entry in disabled):
        raise _wrong_type(("disabled_plugins",), "an array of plugin ids (strings)")
    runtime_name = _get(document, (*schema.runtime, "containerd", "default_runtime_name"), str) or DEFAULT_RUNTIME
    options = _options(schema, runtime_name)
    return Settings(
        schema,
        [str(entry) for entry in disabled],
        runtime_name,
        _get(document, options[:-1], MutableMapping) is not None,
        _get(document, (*options[:-1], "runtime_type"), str),
        _get(document, (*options, "SystemdCgroup"), bool),
        _get(document, (*options, "BinaryName"), str) or None,
        _get(document, (*schema.images, *schema.sandbox), str),
        next((value for path in schema.sockets if (value := _get(document, path, str))), None),
        _get(document, (*_CRI_V2, "sandbox_image"), str) if schema.version == 3 else None,
        schema.version < 3
        and _get(document, (*SCHEMAS[3].runtime, "containerd", "runtimes"), MutableMapping) is not None,
    )


def _parse(data: bytes) -> TOMLDocument:
    import tomlkit
    from tomlkit.exceptions import ParseError

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise bad_input(f"{CONFIG} is not UTF-8 (byte {error.start}); containerd reads only UTF-8 TOML") from None
    try:
        return tomlkit.parse(text)
    except ParseError as error:
        raise bad_input(
            f"{CONFIG} is not TOML: {error.args[0] if error.args else error} (line {error.line}, column {error.col}); "
            "fix the file, or move it away for prepare to write one"
        ) from None


def _config_finding(system: System, document: TOMLDocument) -> Finding:
    """OK when containerd reads only this file; a problem when its ``imports`` bring files whose settings override
    its own (k8snode then edits nothing), or name a file that is not there (containerd does not start)."""
    entries = _get(document, ("imports",), list) or []
    if not all(isinstance(entry, str) for entry in entries):
        raise _wrong_type(("imports",), "an array of file paths (strings)")
    if len(entries) > IMPORT_LIMIT:
        raise bad_input(f"{CONFIG}: imports has {len(entries)} entries; k8snode reads at most {IMPORT_LIMIT}")
    imported: list[str] = []
    missing: list[str] = []
    for entry in map(str, entries):
        path = _import_path(entry)
        if "*" in path:
            imported += _glob(system, path, IMPORT_LIMIT - len(imported))
        elif system.exists(path) or system.is_symlink(path):
            imported.append(path)
        else:
            missing.append(path)
    if missing:
        detail = (
            f"{CONFIG} imports {', '.join(missing)}, which does not exist: containerd does not start (it opens each "
            "import that is not a pattern); create it or remove it from imports"
        )
        return Finding("config", Status.PROBLEM, ", ".join(missing), None, detail)
    if imported:
        detail = (
            f"{CONFIG} imports {', '.join(imported)}, whose settings override its own; k8snode does not edit it: "
            "set the runtime's settings by hand or remove the imports"
        )
        return Finding("config", Status.PROBLEM, ", ".join(imported), None, detail)
    detail = f"{CONFIG} is read"
    if entries:
        detail += f"; its imports ({', '.join(map(str, entries))}) match no file, so it is the whole configuration"
    return Finding("config", Status.OK, str(CONFIG), str(CONFIG), detail)


def _import_path(entry: str) -> str:
    """An import entry as containerd resolves it: cleaned, and a relative one taken from config.toml's directory
    (config.go ``resolveImports``)."""
    path = posixpath.normpath(posixpath.join(str(CONFIG.parent), entry))
    return "/" + path.lstrip("/")


def _glob(system: System, pattern: str, limit: int) -> list[str]:
    """The files under the root that ``pattern`` (absolute, clean) matches, component by component as Go's
    filepath.Glob does (``*`` and ``?`` stop at ``/``; no ``**``), sorted, at most ``limit``."""
    found = ["/"]
    for part in PurePosixPath(pattern).parts[1:]:
        if not any(char in part for char in "*?["):
            found = [posixpath.join(base, part) for base in found]
            continue
        found = [
            posixpath.join(base, name) for base in found for name in system.listdir(base) if fnmatchcase(name, part)
        ]
        if len(found) > limit:
            raise bad_input(f"{CONFIG}: imports {pattern} matches more than {limit} paths; k8snode reads fewer")
    return [path for path in found if system.exists(path) or system.is_symlink(path)]


def _schema_version(document: TOMLDocument) -> int:
    value = document.get("version", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value not in SCHEMA_VERSIONS:
        raise bad_input(
            f"{CONFIG}: version = {_shown(value)} is not a containerd config version k8snode knows; use 2 "
            "(containerd 1.x), 3 (2.0 to 2.2) or 4 (2.3 and later)"
        )
    return int(value)


def _new_schema(version: str | None) -> Schema:
    return SCHEMAS[newest_schema(version)]


def _schema_finding(document: TOMLDocument | None, schema: Schema, version: str | None) -> Finding:
    found = None if document is None else str(schema.version)
    best = _new_schema(version).version
    if document is None:
        return Finding("schema", Status.DRIFT, None, str(best), f"prepare writes a version {best} file")
    found_release = release(version)
    if found_release is not None and schema.version > best:
        effect = (
            "ignores its plugin sections without a word and runs on its defaults"
            if found_release < (2, 0)
            else f"does not start with it (it reads up to {best})"
        )
        detail = (
            f"{CONFIG} is version {schema.version}, which containerd {version} cannot read: it {effect}; write it as "
            f"version {best} or upgrade containerd"
        )
        return Finding("schema", Status.PROBLEM, found, str(best), detail)
    if found_release is not None and schema.version < best:
        detail = f"{CONFIG} is version {schema.version}: containerd {version} migrates it to {best} at each start"
    else:
        detail = f"{CONFIG} is version {schema.version}"
    return Finding("schema", Status.OK, found, found, detail + "; k8snode keeps its version")


def _setting_findings(
    system: System, settings: Settings, wanted: Wanted, version: str | None, driver: Finding
) -> list[Finding]:
    schema = settings.schema
    findings = []
    off = [entry for entry in settings.disabled if entry in schema.disabling]
    # from version 2 on a plugin is named by its URI: "cri" there stops containerd from loading the file at all
    effect = (
        "stops containerd (a version 2 or later file names plugins by URI)"
        if "cri" in off and schema.version > 1
        else "turns the CRI off"
    )
    findings.append(
        Finding(
            "cri_plugin",
            Status.DRIFT if off else Status.OK,
            "disabled" if off else "enabled",
            "enabled",
            f"{CONFIG} disabled_plugins holds {', '.join(repr(e) for e in off)}, which {effect}; prepare removes it"
            if off
            else "the CRI plugin is enabled",
            CRI_PREFLIGHT,
        )
    )
    findings.append(driver)
    findings.append(_sandbox_finding(settings, wanted, version))
    address = settings.address or DEFAULT_SOCKET
    want_socket = None if wanted.cri_socket is None else wanted.cri_socket.removeprefix("unix://")
    same = want_socket is None or _same_socket(address, want_socket)
    findings.append(
        Finding(
            "socket",
            Status.OK if same else Status.PROBLEM,
            address,
            want_socket,
            f"containerd listens on {address}"
            + ("" if same else f" but criSocket is {wanted.cri_socket}: make them one (prepare moves no socket)"),
        )
    )
    findings.append(_binary_finding(system, settings))
    return findings


def _sandbox_finding(settings: Settings, wanted: Wanted, version: str | None) -> Finding:
    """The sandbox image containerd runs with: a version 3 file's leftover ``sandbox_image`` under the version 2
    name wins over ``pinned_images.sandbox`` from containerd 2.3 on (and where the version is unknown)."""
    schema = settings.schema
    pinned_key = f"{_dotted(schema.images)}.{'.'.join(schema.sandbox)}"
    leftover_key = f"{_dotted(_CRI_V2)}.sandbox_image"
    found_release = release(version)
    leftover = settings.leftover_sandbox
    wins = leftover is not None and (found_release is None or found_release >= (2, 3))
    found = leftover if wins else settings.sandbox
    right = found == wanted.pause_image and leftover in (None, wanted.pause_image)
    detail = (
        f"{leftover_key if wins else pinned_key} is {found or 'unset (containerd release default)'}; kubeadm "
        f"{wanted.kubernetes_version} uses {wanted.pause_image}"
    )
    if wins:
        detail += f" ({leftover_key}, left from version 2, beats {pinned_key} below version 4 from containerd 2.3)"
    elif leftover is not None:
        detail += f"; {leftover_key} ({leftover}) would beat {pinned_key} from containerd 2.3 on"
    if wanted.pause_image is None:
        return unknown_pause(found, wanted)
    status = Status.OK if right else Status.DRIFT
    return Finding("sandbox_image", status, found, wanted.pause_image, detail, SANDBOX_PREFLIGHT)


def _driver_finding(
    settings: Settings, rule: support.DriverRule, wanted: Wanted, on_systemd: bool, version: str | None
) -> Finding:
    """The default runtime's cgroup driver against the one it must use (support.runtime_driver): the host's when
    the kubelet takes it from containerd (2.0 and later), the kubelet's cgroupDriver otherwise."""
    driver, why = support.runtime_driver(rule, wanted, on_systemd)
    runtime = f"{_dotted(settings.schema.runtime)}.containerd.runtimes.{settings.runtime_name}"
    found_release = release(version)
    if settings.runtimes_v3 and (found_release is None or found_release >= (2, 0)):
        detail = (
            f"{CONFIG} is version {settings.schema.version} but also has "
            f"{_dotted(SCHEMAS[3].runtime)}.containerd.runtimes, which containerd 2.x runs with instead of "
            f"{_dotted(settings.schema.runtime)}.containerd.runtimes (1.x ignores it): keep one of them"
        )
        return Finding("cgroup_driver", Status.PROBLEM, None, driver, detail)
    if not settings.runc:
        if settings.runtime_type is None:  # a name with no table: the CRI plugin does not start
            detail = f"default_runtime_name {settings.runtime_name!r} names no table {runtime}; add it or name runc"
            return Finding("cgroup_driver", Status.PROBLEM, None, driver, detail)
        detail = (
            f"{runtime}.runtime_type is {settings.runtime_type}: k8snode sets SystemdCgroup for runc's shim "
            f"({RUNC_SHIM}) only; set this runtime's cgroup driver to {driver} ({why}) by hand"
        )
        return Finding("cgroup_driver", Status.UNKNOWN, None, driver, detail)
    found = "systemd" if settings.systemd_cgroup else "cgroupfs"
    value = "unset (false)" if settings.systemd_cgroup is None else _shown(settings.systemd_cgroup)
    where = f"{CONFIG} {runtime}.options.SystemdCgroup {value}: the cgroup driver"
    finding = support.cgroup_driver_finding(rule, wanted, on_systemd, found, where)
    if _lacks_runtime_type(settings):
        finding.status = Status.DRIFT
        finding.detail += (
            f"; {runtime} has no runtime_type, which containerd 1.x then leaves empty (it replaces the runtime's whole "
            f"entry): prepare sets {RUNC_SHIM}"
        )
    return finding


def _lacks_runtime_type(settings: Settings) -> bool:
    """A version 1 or 2 file gives runc a table without runtime_type: containerd 1.6 runs it with none (measured)."""
    return settings.runc and settings.runtime_table and settings.runtime_type is None and settings.schema.version < 3


def _same_socket(one: str, other: str) -> bool:
    """/var/run is a link to /run on every systemd host: kubeadm's default criSocket names /var/run."""
    return one.replace("/var/run/", "/run/", 1) == other.replace("/var/run/", "/run/", 1)


def _binary_finding(system: System, settings: Settings) -> Finding:
    if not settings.runc:
        detail = f"the default runtime {settings.runtime_name!r} is not runc's shim: k8snode does not check its binary"
        return Finding("runtime_binary", Status.UNKNOWN, None, None, detail)
    name = settings.binary_name or "runc"
    if name.startswith("/"):
        found = name if system.exists(name) else None
        where = f"{name} (BinaryName)"
    else:
        found = system.which(name)
        where = f"{name} on PATH"
    return Finding(
        "runtime_binary",
        Status.OK if found else Status.PROBLEM,
        found,
        name,
        f"{where} is there" if found else f"{where} is missing: containerd cannot start a container; install it",
    )


def _edited(document: TOMLDocument | None, settings: Settings, wanted: Wanted, driver: str, command: str) -> bytes:
    """The file with only k8snode's keys set: the CRI out of disabled_plugins, SystemdCgroup for ``driver`` (with
    runc's runtime_type in a table k8snode makes, or a version 1 or 2 one that has none: 1.6 replaces a runtime's
    whole entry, leaving it empty), the
    sandbox image (and a version 3 file's leftover version 2 ``sandbox_image``, which 2.3 and later let win)."""
    import tomlkit

    if document is None:
        document = tomlkit.document()
        document.add(tomlkit.comment(f"{header(command).removeprefix('# ')}. Remove with: k8snode node reset"))
        document.add("version", settings.schema.version)
    schema = settings.schema
    if any(entry in schema.disabling for entry in settings.disabled):
        disabled = document["disabled_plugins"]
        for entry in [e for e in disabled if e in schema.disabling]:
            disabled.remove(entry)
    options = _options(schema, settings.runtime_name)
    systemd = driver == "systemd"
    writes_driver = settings.runc and (settings.systemd_cgroup is not None or systemd)
    if (writes_driver and not settings.runtime_table) or _lacks_runtime_type(settings):
        _set(document, (*options[:-1], "runtime_type"), RUNC_SHIM)
    if writes_driver:
        _set(document, (*options, "SystemdCgroup"), systemd)
    if wanted.pause_image is not None:
        _set(document, (*schema.images, *schema.sandbox), wanted.pause_image)
        if settings.leftover_sandbox is not None:
            _set(document, (*_CRI_V2, "sandbox_image"), wanted.pause_image)
    return tomlkit.dumps(document).encode()


def _files(system: System, current: bytes | None, edited: bytes, command: str) -> list[FilePlan]:
    """config.toml's write, after the records of it: the original (once per operator's version) and the record."""
    mode = system.mode(CONFIG)
    if current is not None and current == edited:
        return [FilePlan(CONFIG, mode or 0o644, edited, current, mode)]
    record = system.read_bytes(RECORD)
    created = current is None
    ours = False
    if record is not None and owned(record):
        written, was_created = _read_record(record)
        ours = current is not None and _digest(current) == written
        created = created or (ours and was_created)
    files = []
    if current is not None and not ours:  # the operator's version: the one reset gives back
        files.append(
            FilePlan(
                ORIGINAL,
                mode or 0o644,
                current,
                system.read_bytes(ORIGINAL),
                system.mode(ORIGINAL),
                owner=system.ownership(CONFIG),
            )
        )
    text = (
        f"{header(command)}. Remove with: k8snode node reset\n"
        f"# {CONFIG} as k8snode last wrote it; reset restores {ORIGINAL} (or removes a file k8snode created)\n"
        f"# only while the file still holds it.\n"
        f"sha256 {_digest(edited)}\n"
        f"created {'yes' if created else 'no'}\n"
    )
    files.append(FilePlan(RECORD, 0o644, text.encode(), record, system.mode(RECORD)))
    owner = None if current is None else system.ownership(CONFIG)
    files.append(FilePlan(CONFIG, mode or 0o644, edited, current, mode, owner=owner))
    return files


def _read_record(record: bytes) -> tuple[str, bool]:
    fields = dict(line.split(" ", 1) for line in record.decode(errors="replace").splitlines() if line and " " in line)
    return fields.get("sha256", ""), fields.get("created") == "yes"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _removal(system: System, path: PurePosixPath, current: bytes) -> FilePlan:
    return FilePlan(path, system.mode(path) or 0, None, current)


def _options(schema: Schema, runtime_name: str) -> KeyPath:
    return (*schema.runtime, "containerd", "runtimes", runtime_name, "options")


def _get(document: MutableMapping[str, Any], path: KeyPath, kind: type) -> Any:
    """The value at ``path``, or None when a table on the way or the key is absent; bad input on a wrong type."""
    node: Any = document
    for depth, key in enumerate(path):
        if not isinstance(node, MutableMapping):
            raise _wrong_type(path[:depth], "a table")
        if key not in node:
            return None
        node = node[key]
    if not isinstance(node, kind) or (kind is not bool and isinstance(node, bool)):
        names = {bool: "true or false", str: "a string", list: "an array", MutableMapping: "a table"}
        raise _wrong_type(path, names.get(kind, kind.__name__))
    return node


def _set(document: MutableMapping[str, Any], path: KeyPath, value: object) -> None:
    """Set ``path``, making the tables on the way; a new table's parents are super tables (no header of their own)."""
    import tomlkit

    node: Any = document
    for depth, key in enumerate(path[:-1]):
        if key not in node:
            node[key] = tomlkit.table(is_super_table=depth < len(path) - 2)
        node = node[key]
    node[path[-1]] = value


def _wrong_type(path: KeyPath, wanted: str) -> Exception:
    return bad_input(f"{CONFIG}: {_dotted(path)} must be {wanted}; fix the file and run again")


def _dotted(path: KeyPath) -> str:
    return ".".join(f'"{key}"' if "." in key else key for key in path)


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)
