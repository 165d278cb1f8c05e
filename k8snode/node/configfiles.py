"""Drop-in configuration directories read the way systemd, procps and kmod read them.

systemd's conf_files_list (sysctl.d, modules-load.d) and kmod (modprobe.d) list ``*.conf`` from several
directories, keep one file per basename (the first directory listed wins: /etc over /run over /usr/lib), and apply
the survivors sorted by basename, so a later file overrides an earlier one. A link to /dev/null masks a basename.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from k8snode.core.errors import K8snodeError
from k8snode.core.system import System

MAX_CONFIG_BYTES = 1 << 20
"""Configuration files larger than this are not read (a real one is a few KiB); the audit names them instead."""
_MAX_LINKS = 8


@dataclass(frozen=True)
class ConfigFile:
    """One file of a systemd-style configuration directory, as a reader at boot sees it."""

    path: PurePosixPath
    """Where the file is listed (the name that counts for ordering)."""
    data: bytes | None
    """Its content after following links; None when it is masked (a link to /dev/null) or unreadable."""
    problem: str | None = None


def ordered(
    system: System, directories: tuple[str, ...], planned: dict[PurePosixPath, bytes | None]
) -> list[ConfigFile]:
    """The files a reader of ``directories`` applies, in order. ``planned`` stands in for files a run would write
    (None: the run removes it), so the result describes the next boot after that run."""
    chosen: dict[str, PurePosixPath] = {}
    for directory in directories:
        names = set(system.listdir(directory))
        names |= {p.name for p in planned if str(p.parent) == directory and planned[p] is not None}
        for name in names:
            path = PurePosixPath(directory) / name
            if name.endswith(".conf") and name not in chosen and not (path in planned and planned[path] is None):
                chosen[name] = path
    return [
        ConfigFile(path, planned[path]) if path in planned else read_config(system, path)
        for _, path in sorted(chosen.items())
    ]


def read_config(system: System, path: PurePosixPath) -> ConfigFile:
    """Read ``path``, following symlinks (resolved under the root) as the reading daemon would."""
    current = path
    for _ in range(_MAX_LINKS):
        link = system.readlink(current)
        if link is None:
            break
        if link == "/dev/null":
            return ConfigFile(path, None)
        current = PurePosixPath(posixpath.normpath(posixpath.join(str(current.parent), link)))
    else:
        return ConfigFile(path, None, f"{path}: too many levels of symbolic links")
    size = system.size(current)
    if size is None:
        return ConfigFile(path, None)
    if size > MAX_CONFIG_BYTES:
        return ConfigFile(path, None, f"{path} is {size} bytes, too large to audit (limit {MAX_CONFIG_BYTES})")
    try:
        return ConfigFile(path, system.read_bytes(current))
    except K8snodeError as error:  # a directory, a permission error: this file cannot be audited, the rest can
        return ConfigFile(path, None, f"{path}: cannot be read ({error.message})")


def lines(data: bytes) -> Iterator[tuple[int, str]]:
    """(line number, text) with CRLF and CR endings accepted and undecodable bytes replaced."""
    text = data.decode("utf-8", errors="replace")
    yield from enumerate(text.splitlines(), start=1)
