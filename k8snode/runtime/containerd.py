"""containerd's /etc/containerd/config.toml: read it, check it against what the kubelet and kubeadm need, and plan
the edit of only the keys that differ, keeping every other byte (tomlkit keeps comments, order and formatting).

The schema, from containerd's sources (containerd/containerd):
- ``version``: no key is version 1; 2 from containerd 1.3, 3 from 2.0 (RELEASES.md, "Daemon Configuration"). 2.x
  reads 1 and 2 by migrating them at each start (cmd/containerd/server/config/config.go ``MigrateConfig``:
  ``v1Migrate`` turns short plugin names such as ``cri`` into ``io.containerd.grpc.v1.cri``); 1.x cannot read 3.
- version 1: the CRI plugin's table is ``plugins.cri``; version 2: ``plugins."io.containerd.grpc.v1.cri"``, with
  ``sandbox_image`` and ``containerd.runtimes.<name>.options.SystemdCgroup`` (docs/cri/config.md).
- version 3: ``plugins."io.containerd.cri.v1.runtime"`` holds ``containerd.runtimes.<name>.options.SystemdCgroup``
  and ``plugins."io.containerd.cri.v1.images"`` holds ``pinned_images.sandbox`` (docs/cri/config.md, PLUGINS.md).
- ``containerd.default_runtime_name`` names the runtime the CRI uses ("runc" by default); its ``options`` are the
  runc shim's: ``SystemdCgroup`` (false by default: cgroupfs) and ``BinaryName`` (runc on PATH by default).
- ``disabled_plugins`` holds plugin ids; Docker's containerd.io package ships ``disabled_plugins = ["cri"]``
  (docker/containerd-packaging common/containerd.toml), which turns the CRI off: kubeadm's preflight check "CRI"
  then fails (kubernetes/kubernetes cmd/kubeadm/app/preflight/checks.go, ``CRICheck``).
- ``imports`` merges other files over this one (config.go ``LoadConfigWithPlugins``): k8snode does not edit a file
  whose settings another file may override.
- ``[grpc] address`` is the socket (/run/containerd/containerd.sock by default).

A file k8snode has to create gets the schema of the containerd found: 3 for 2.x, 2 for 1.x, and 2 when the version
is unknown, since every containerd from 1.3 on reads it (2.x migrates it at start).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from k8snode.core.errors import bad_input
from k8snode.core.files import FilePlan, header, owned
from k8snode.core.system import System
from k8snode.runtime.model import Finding, RuntimePlan, Status, Wanted

if TYPE_CHECKING:
    from tomlkit import TOMLDocument

CONFIG = PurePosixPath("/etc/containerd/config.toml")
ORIGINAL = PurePosixPath("/etc/k8snode/containerd-config.toml.orig")
"""The operator's config.toml as it was before k8snode's edit, byte for byte, with its mode and owner."""
RECORD = PurePosixPath("/etc/k8snode/containerd-config.toml.record")
"""What k8snode last wrote to config.toml (its sha256) and whether it created the file: written before the edit
(intent first), so that `reset` restores or removes the file only while it still holds what k8snode wrote."""
READ_LIMIT = 1 << 20
DEFAULT_SOCKET = "/run/containerd/containerd.sock"
DEFAULT_RUNTIME = "runc"
RUNC_SHIM = "io.containerd.runc.v2"
CRI_PREFLIGHT = "CRI"
SANDBOX_PREFLIGHT = "ImagePull"
"""kubeadm's ImagePullCheck warns when the runtime's sandbox image is not the pause image kubeadm uses."""
SCHEMA_VERSIONS = (1, 2, 3)

Path = tuple[str, ...]


@dataclass(frozen=True)
class Schema:
    version: int
    runtime: Path
    """The table of the CRI plugin that holds ``containerd.default_runtime_name`` and ``containerd.runtimes``."""
    images: Path
    """The table of the CRI plugin that holds the sandbox image."""
    sandbox: Path
    """The sandbox image's key in ``images``."""
    disabling: frozenset[str]
    """The ``disabled_plugins`` entries that turn the CRI off."""


_CRI_V2 = ("plugins", "io.containerd.grpc.v1.cri")
SCHEMAS = {
    1: Schema(1, ("plugins", "cri"), ("plugins", "cri"), ("sandbox_image",), frozenset({"cri", _CRI_V2[1]})),
    2: Schema(2, _CRI_V2, _CRI_V2, ("sandbox_image",), frozenset({"cri", _CRI_V2[1]})),
    3: Schema(
        3,
        ("plugins", "io.containerd.cri.v1.runtime"),
        ("plugins", "io.containerd.cri.v1.images"),
        ("pinned_images", "sandbox"),
        frozenset({"cri", _CRI_V2[1], "io.containerd.cri.v1.runtime", "io.containerd.cri.v1.images"}),
    ),
}


@dataclass
class Settings:
    """What a config.toml sets, as containerd reads it (None: containerd's default)."""

    schema: Schema
    disabled: list[str]
    runtime_name: str
    systemd_cgroup: bool | None
    binary_name: str | None
    sandbox: str | None
    address: str | None


def major(version: str | None) -> int | None:
    """containerd's major version from ``containerd --version``'s (2.4.2, v1.7.27, 1.6.20~ds1); None if unknown."""
    match = re.match(r"v?([0-9]+)\.", version or "")
    return int(match[1]) if match else None


def assess(system: System, wanted: Wanted, *, version: str | None, command: str) -> RuntimePlan:
    """containerd's findings against ``wanted``, and the writes that fix its drift; reads only."""
    findings = [_version_finding(version)]
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
    current = system.read_bytes(CONFIG, READ_LIMIT)
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
        findings.append(Finding("config", Status.OK, str(CONFIG), str(CONFIG), f"{CONFIG} is read"))
    imports = _imports(document)
    if imports:
        findings.append(
            Finding(
                "config",
                Status.PROBLEM,
                ", ".join(imports),
                None,
                f"{CONFIG} imports {', '.join(imports)}, whose settings override its own; k8snode does not edit it: "
                "set the runtime's settings by hand or remove the imports",
            )
        )
        return plan
    settings = read_settings(document, _new_schema(version))
    findings.append(_schema_finding(document, settings.schema, version))
    findings += _setting_findings(system, settings, wanted)
    if any(f.status == Status.PROBLEM and f.id in ("config", "schema") for f in findings):
        return plan
    edited = _edited(document, settings, wanted, command)
    plan.files = _files(system, current, edited, command)
    return plan


def undo(system: System, *, force: bool) -> tuple[list[FilePlan], list[str]]:
    """What `reset` does to config.toml: the original back, byte for byte with its mode and owner (or the file
    removed when k8snode created it), while it still holds what k8snode wrote; then the records go."""
    record = system.read_bytes(RECORD)
    if record is None or not owned(record):
        current = None if system.is_symlink(CONFIG) else system.read_bytes(CONFIG, READ_LIMIT)
        if current is not None and owned(current):
            if force:
                return [_removal(system, CONFIG, current)], []
            return [], [f"{CONFIG} was written by k8snode but {RECORD} is gone; pass --force to remove it"]
        return [], []
    written, created = _read_record(record)
    current = None if system.is_symlink(CONFIG) else system.read_bytes(CONFIG, READ_LIMIT)
    original = system.read_bytes(ORIGINAL)
    records = [_removal(system, path, data) for path, data in ((ORIGINAL, original), (RECORD, record)) if data]
    if current is None or (_digest(current) != written and not force):
        kept = f"; its original stays in {ORIGINAL} for review" if original is not None else ""
        state = "is gone" if current is None else "changed since k8snode wrote it and stays"
        return [], [f"{CONFIG} {state}{kept} (pass --force to restore it anyway)"]
    if created or original is None:
        return [_removal(system, CONFIG, current), *records], []
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
        return Settings(new_schema, [], DEFAULT_RUNTIME, None, None, None, None)
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
        _get(document, (*options, "SystemdCgroup"), bool),
        _get(document, (*options, "BinaryName"), str) or None,
        _get(document, (*schema.images, *schema.sandbox), str),
        _get(document, ("grpc", "address"), str) or None,
    )


def _version_finding(version: str | None) -> Finding:
    if version is None:
        return Finding("version", Status.UNKNOWN, None, None, "containerd --version gave no version on this host")
    return Finding("version", Status.OK, version, None, f"containerd {version}")


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


def _imports(document: TOMLDocument | None) -> list[str]:
    imports = _get(document, ("imports",), list) if document is not None else None
    if imports and not all(isinstance(entry, str) for entry in imports):
        raise _wrong_type(("imports",), "an array of file paths (strings)")
    return [str(entry) for entry in imports or []]


def _schema_version(document: TOMLDocument) -> int:
    value = document.get("version", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value not in SCHEMA_VERSIONS:
        raise bad_input(
            f"{CONFIG}: version = {_shown(value)} is not a containerd config version k8snode knows; use 2 "
            "(containerd 1.x) or 3 (containerd 2.x)"
        )
    return int(value)


def _new_schema(version: str | None) -> Schema:
    return SCHEMAS[3 if major(version) == 2 else 2]


def _schema_finding(document: TOMLDocument | None, schema: Schema, version: str | None) -> Finding:
    found = None if document is None else str(schema.version)
    best = _new_schema(version).version
    if document is None:
        return Finding("schema", Status.DRIFT, None, str(best), f"prepare writes a version {best} file")
    if schema.version == 3 and major(version) == 1:
        return Finding(
            "schema",
            Status.PROBLEM,
            found,
            "2",
            f"{CONFIG} is version 3, which containerd {version} cannot read (3 is containerd 2.x's); "
            "write it as version 2 or upgrade containerd",
        )
    if major(version) == 2 and schema.version < 3:
        detail = f"{CONFIG} is version {schema.version}: containerd {version} migrates it to 3 at each start"
    else:
        detail = f"{CONFIG} is version {schema.version}"
    return Finding("schema", Status.OK, found, str(best), detail)


def _setting_findings(system: System, settings: Settings, wanted: Wanted) -> list[Finding]:
    schema = settings.schema
    table = _dotted(schema.runtime)
    findings = []
    off = [entry for entry in settings.disabled if entry in schema.disabling]
    findings.append(
        Finding(
            "cri_plugin",
            Status.DRIFT if off else Status.OK,
            "disabled" if off else "enabled",
            "enabled",
            f"{CONFIG} disabled_plugins holds {', '.join(repr(e) for e in off)}, which turns the CRI off; "
            "prepare removes it"
            if off
            else "the CRI plugin is enabled",
            CRI_PREFLIGHT,
        )
    )
    driver = "systemd" if settings.systemd_cgroup else "cgroupfs"
    key = f"{table}.containerd.runtimes.{settings.runtime_name}.options.SystemdCgroup"
    findings.append(
        Finding(
            "cgroup_driver",
            Status.OK if driver == wanted.cgroup_driver else Status.DRIFT,
            driver,
            wanted.cgroup_driver,
            f"{key} is {_shown(settings.systemd_cgroup) if settings.systemd_cgroup is not None else 'unset (false)'}; "
            f"the kubelet uses {wanted.cgroup_driver} ({wanted.cgroup_driver_source})",
        )
    )
    sandbox_key = f"{_dotted(schema.images)}.{'.'.join(schema.sandbox)}"
    findings.append(
        Finding(
            "sandbox_image",
            Status.OK if settings.sandbox == wanted.pause_image else Status.DRIFT,
            settings.sandbox,
            wanted.pause_image,
            f"{sandbox_key} is {settings.sandbox or 'unset (containerd release default)'}; kubeadm "
            f"{wanted.kubernetes_version} uses {wanted.pause_image}",
            SANDBOX_PREFLIGHT,
        )
    )
    address = settings.address or DEFAULT_SOCKET
    want_socket = None if wanted.cri_socket is None else wanted.cri_socket.removeprefix("unix://")
    same = want_socket is None or _same_socket(address, want_socket)
    findings.append(
        Finding(
            "socket",
            Status.OK if same else Status.PROBLEM,
            address,
            want_socket,
            f"grpc.address is {address}"
            + ("" if same else f" but criSocket is {wanted.cri_socket}: make them one (prepare moves no socket)"),
        )
    )
    findings.append(_binary_finding(system, settings))
    return findings


def _same_socket(one: str, other: str) -> bool:
    """/var/run is a link to /run on every systemd host: kubeadm's default criSocket names /var/run."""
    return one.replace("/var/run/", "/run/", 1) == other.replace("/var/run/", "/run/", 1)


def _binary_finding(system: System, settings: Settings) -> Finding:
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


def _edited(document: TOMLDocument | None, settings: Settings, wanted: Wanted, command: str) -> bytes:
    """The file with only k8snode's keys set: the CRI out of disabled_plugins, SystemdCgroup, the sandbox image."""
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
    if _get(document, options[:-1], MutableMapping) is None and settings.runtime_name == DEFAULT_RUNTIME:
        _set(document, (*options[:-1], "runtime_type"), RUNC_SHIM)
    systemd = wanted.cgroup_driver == "systemd"
    if settings.systemd_cgroup is not None or systemd:
        _set(document, (*options, "SystemdCgroup"), systemd)
    _set(document, (*schema.images, *schema.sandbox), wanted.pause_image)
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


def _options(schema: Schema, runtime_name: str) -> Path:
    return (*schema.runtime, "containerd", "runtimes", runtime_name, "options")


def _get(document: MutableMapping[str, Any], path: Path, kind: type) -> Any:
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


def _set(document: MutableMapping[str, Any], path: Path, value: object) -> None:
    """Set ``path``, making the tables on the way; a new table's parents are super tables (no header of their own)."""
    import tomlkit

    node: Any = document
    for depth, key in enumerate(path[:-1]):
        if key not in node:
            node[key] = tomlkit.table(is_super_table=depth < len(path) - 2)
        node = node[key]
    node[path[-1]] = value


def _wrong_type(path: Path, wanted: str) -> Exception:
    return bad_input(f"{CONFIG}: {_dotted(path)} must be {wanted}; fix the file and run again")


def _dotted(path: Path) -> str:
    return ".".join(f'"{key}"' if "." in key else key for key in path)


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)
