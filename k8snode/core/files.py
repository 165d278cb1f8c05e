"""Files k8snode writes on the target system: who owns them, what a write would change, and doing it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from k8snode import __version__
from k8snode.core.errors import failed
from k8snode.core.system import System
from k8snode.core.text import printable

OWNER_MARK = b"# Written by k8snode"


def header(command: str) -> str:
    """The first comment line of every file k8snode writes; ``command`` is canonical, shell-quoted, with secrets
    redacted. Every character that is not printable (a newline, a control character, U+0085, U+2028, U+2029, which
    YAML and other readers take as line breaks) is written as an escape, so a value cannot end the comment line."""
    return f"{OWNER_MARK.decode()} {__version__} ({printable(command)})"


def owned(content: bytes) -> bool:
    return any(line.startswith(OWNER_MARK) for line in content.splitlines()[:3])


@dataclass
class FilePlan:
    path: PurePosixPath
    mode: int
    wanted: bytes | None
    """The content k8snode would write; None when the file is to be removed."""
    current: bytes | None
    current_mode: int | None = None
    action: str = "unchanged"

    @property
    def needs_write(self) -> bool:
        return self.current != self.wanted or self.current_mode != self.mode

    def as_dict(self) -> dict[str, str]:
        return {"path": str(self.path), "action": self.action, "mode": f"{self.mode:04o}"}

    def diff(self, redact: Callable[[str], str] = str) -> str:
        import difflib

        old = (self.current or b"").decode("utf-8", errors="replace").splitlines(keepends=True)
        new = (self.wanted or b"").decode("utf-8", errors="replace").splitlines(keepends=True)
        return redact("".join(difflib.unified_diff(old, new, f"a{self.path}", f"b{self.path}")))


def plan_write(
    system: System,
    path: PurePosixPath,
    mode: int,
    wanted: bytes,
    *,
    force: bool = False,
    adoptable: Callable[[bytes], bool] = lambda _: False,
) -> FilePlan:
    """What writing ``wanted`` to ``path`` would change. A symlink there, or a file k8snode did not write, is
    refused unless ``force``, or unless ``adoptable`` says that foreign content may be replaced (a package's empty
    placeholder, or the file the operator asked to patch in place)."""
    if system.is_symlink(path):
        if not force:
            raise failed(
                f"{path} is a symlink; k8snode will not write through it. Pass --force to replace the link with a file"
            )
        return FilePlan(path, mode, wanted, None)
    current = system.read_bytes(path)
    if current is not None and not owned(current) and not force and not adoptable(current):
        raise failed(f"{path} exists and was not written by k8snode; pass --force to replace it")
    return FilePlan(path, mode, wanted, current, system.mode(path))


def pending_action(plan: FilePlan) -> str:
    """The action a dry run or a check reports."""
    if not plan.needs_write:
        return "unchanged"
    return "would-create" if plan.current is None else "would-update"


def apply(system: System, plans: list[FilePlan], *, dry_run: bool) -> bool:
    """Write every plan that changes something (atomically, with its mode); True when anything changed."""
    for plan in plans:
        if dry_run:
            plan.action = pending_action(plan)
        elif plan.needs_write and plan.wanted is not None:
            plan.action = "created" if plan.current is None else "updated"
            system.write_atomic(plan.path, plan.wanted, plan.mode)
    return any(plan.needs_write for plan in plans)
