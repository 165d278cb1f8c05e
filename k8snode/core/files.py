"""Files k8snode writes on the target system: who owns them, what a write would change, and doing it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from k8snode import __version__
from k8snode.core.compat import StrEnum
from k8snode.core.errors import K8snodeError, failed
from k8snode.core.system import System
from k8snode.core.text import printable

OWNER_MARK = b"# Written by k8snode"


class Action(StrEnum):
    """What a run did, or a dry run or a check would do, to one thing: a file, a module, a sysctl, a swap device or
    unit, an object of kube-proxy's. The values are the JSON contract's words; files say ``unchanged`` where the
    other things say ``none``."""

    NONE = "none"
    UNCHANGED = "unchanged"
    WOULD_CREATE = "would-create"
    CREATED = "created"
    WOULD_UPDATE = "would-update"
    UPDATED = "updated"
    WOULD_RESTORE = "would-restore"
    RESTORED = "restored"
    WOULD_REMOVE = "would-remove"
    REMOVED = "removed"
    KEPT = "kept"
    WOULD_LOAD = "would-load"
    LOADED = "loaded"
    WOULD_UNLOAD = "would-unload"
    UNLOADED = "unloaded"
    IN_USE = "in-use"
    WOULD_SET = "would-set"
    SET = "set"
    WOULD_SWAPOFF = "would-swapoff"
    SWAPOFF = "swapoff"
    WOULD_MASK = "would-mask"
    MASK = "mask"
    WOULD_UNMASK = "would-unmask"
    UNMASKED = "unmasked"
    WOULD_RUN = "would-run"
    RAN = "ran"
    FAILED = "failed"


def header(command: str) -> str:
    """The first comment line of every file k8snode writes; ``command`` is canonical, shell-quoted, with secrets
    redacted. Every character that is not printable (a newline, a control character, U+0085, U+2028, U+2029, which
    YAML and other readers take as line breaks) is written as an escape, so a value cannot end the comment line."""
    return f"{OWNER_MARK.decode()} {__version__} ({printable(command)})"


def owned(content: bytes) -> bool:
    return any(line.startswith(OWNER_MARK) for line in content.splitlines()[:3])


@dataclass
class FilePlan:
    """One file a run would write or remove, with what is there now."""

    path: PurePosixPath
    mode: int
    wanted: bytes | None
    """The content k8snode would write; None when the file is to be removed."""
    current: bytes | None
    current_mode: int | None = None
    action: Action = Action.UNCHANGED
    restore: bool = False
    """The write puts back what was there before k8snode (reported as restored, not updated)."""
    owner: tuple[int, int] | None = None
    """The uid and gid the written file gets (a file k8snode edits but does not own keeps its owner); None: the
    caller's."""

    @property
    def needs_write(self) -> bool:
        """A removal always changes something (its plan is made only for what is there, a symlink included)."""
        return self.wanted is None or self.current != self.wanted or self.current_mode != self.mode

    def as_dict(self) -> dict[str, str]:
        return {"path": str(self.path), "action": self.action, "mode": f"{self.mode:04o}"}

    def diff(self, redact: Callable[[str], str] = str) -> str:
        old, new = ((data or b"").decode("utf-8", errors="replace") for data in (self.current, self.wanted))
        return unified_diff(old, new, f"a{self.path}", f"b{self.path}", redact)


def unified_diff(old: str, new: str, old_name: str, new_name: str, redact: Callable[[str], str] = str) -> str:
    """The unified diff of two texts, with the lines shown as ``redact`` makes them. ``redact`` gets each whole text
    (YAML can be read there, not in a diff's lines) and keeps its line breaks; the lines are compared as they are,
    so a changed secret still shows as a changed line."""
    import difflib

    sides = []
    for text in (old, new):
        raw, shown = _lines(text), _lines(redact(text))
        sides.append([_Line(line, original) for line, original in zip(shown, raw, strict=False)])
        if len(raw) != len(shown):  # a redact that joined lines: compare what is shown, never show the raw
            sides[-1] = [_Line(line, line) for line in shown]
    return "".join(difflib.unified_diff(sides[0], sides[1], old_name, new_name))


def _lines(text: str) -> list[str]:
    """``text`` split after each ``\\n`` (the line ends ``redact`` keeps), each line with its end."""
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


class _Line(str):
    """A line shown redacted and compared as it is: difflib matches by ``==`` and ``hash``, and prints ``str``."""

    raw: str

    def __new__(cls, shown: str, raw: str) -> _Line:
        line = super().__new__(cls, shown)
        line.raw = raw
        return line

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Line) and self.raw == other.raw

    def __hash__(self) -> int:
        return hash(self.raw)


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


def plan_remove(system: System, path: PurePosixPath) -> FilePlan | None:
    """Removing ``path``, a file or a symlink (its ``current`` None: the target is not read); None when nothing is
    there. Whether it is k8snode's to remove (``owned``), the caller decides."""
    link = system.is_symlink(path)
    current = None if link else system.read_bytes(path)
    if current is None and not link:
        return None
    return FilePlan(path, system.mode(path) or 0, None, current)


def pending_action(plan: FilePlan) -> Action:
    """The action a dry run or a check reports."""
    if not plan.needs_write:
        return Action.UNCHANGED
    if plan.wanted is None:
        return Action.WOULD_REMOVE
    if plan.restore:
        return Action.WOULD_RESTORE
    return Action.WOULD_CREATE if plan.current is None else Action.WOULD_UPDATE


def apply(system: System, plans: list[FilePlan], *, dry_run: bool) -> bool:
    """Write (atomically, with its mode) or remove every plan that changes something; True when anything changed."""
    for plan in plans:
        if dry_run:
            plan.action = pending_action(plan)
        elif plan.wanted is None:
            system.remove(plan.path)
            plan.action = Action.REMOVED
        elif plan.needs_write:
            system.write_atomic(plan.path, plan.wanted, plan.mode, owner=plan.owner)
            plan.action = (
                Action.RESTORED if plan.restore else Action.CREATED if plan.current is None else Action.UPDATED
            )
    return any(plan.needs_write for plan in plans)


def apply_together(system: System, plans: list[FilePlan], *, dry_run: bool) -> bool:
    """``apply``, in the order given, all or nothing: every target is checked first, and when a write fails, the
    ones made before it are undone (a file gets its old content and mode back, a new one goes) before the error
    stands. For writes that only make sense together, such as a setting moved from one file into another."""
    if not dry_run:
        for plan in plans:
            if plan.needs_write and plan.wanted is not None:
                system.check_creatable(plan.path)
    done: list[FilePlan] = []
    try:
        for plan in plans:
            apply(system, [plan], dry_run=dry_run)
            done.append(plan)
    except K8snodeError:
        for plan in reversed(done):
            if not plan.needs_write:
                continue
            if plan.current is None:
                system.remove(plan.path)
            else:
                system.write_atomic(
                    plan.path, plan.current, plan.mode if plan.current_mode is None else plan.current_mode
                )
        raise
    return any(plan.needs_write for plan in plans)
