"""The files kubeadm-config reads and writes: the --patch input, the --out file, and the result carrying the YAML."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from k8snode.core.files import OWNER_MARK
from k8snode.core.result import Result
from k8snode.core.system import STDIO, System


@dataclass
class ConfigResult(Result):
    """A Result that also carries the rendered YAML for stdout; the YAML holds the token, so it is no data field."""

    yaml_text: str = field(default="", repr=False)


def out_file(out: str | None) -> str | None:
    """The file ``--out`` names; None for standard output (no ``--out``, or ``--out -``)."""
    return None if out in (None, "", STDIO) else out


def without_header(text: str) -> str:
    """A file k8snode wrote gets a new header instead of a second one."""
    old_header = "".join(line for line in text.splitlines(keepends=True)[:1] if line.startswith(OWNER_MARK.decode()))
    return text.removeprefix(old_header)


def patching_in_place(system: System, patch: str | None, out: PurePosixPath) -> bool:
    """Whether --out names the --patch file itself (which k8snode may then replace, whoever wrote it)."""
    return patch not in (None, STDIO) and _input_target(system, str(patch)) == out


def _input_target(system: System, patch: str) -> PurePosixPath | None:
    """The --patch file as a path on the target system, to tell whether --out names the same file."""
    if patch.startswith("/"):
        return PurePosixPath(patch)
    if system.root == Path("/"):
        return PurePosixPath(os.path.normpath(Path.cwd() / patch))
    return None


def host_kernel(system: System) -> str | None:
    release = system.read_text("/proc/sys/kernel/osrelease")
    return release.strip() or None if release else None
