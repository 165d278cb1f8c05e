"""The flag sets ``kubelet-flags lint`` checks against: the generated catalog (kubelet/flagdefs.py) and what
happened to older flags.

``data/kubelet_flag_history.json`` holds hand-written removals from before the oldest generated release, with a
source per row. A removal between two generated releases is derived here, not typed. Only ``kubelet-flags lint``
loads the history, so the other commands do not pay for it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

from k8snode.core.resources import package_text
from k8snode.kubelet.flagdefs import FlagDef, Minor, ReleaseFlags, generated_releases, minor, show, standing_for

HISTORY_FILE = "kubelet_flag_history.json"  # in k8snode/kubelet/data/


@dataclass(frozen=True)
class Removal:
    flag: str
    removed: str
    """Where it went: "1.35", or "1.33, 1.34 or 1.35" when the generated releases leave a gap."""
    advice: str
    """What to do instead: "use ..." from the recorded history, or what the last kubelet that had it said."""
    source: str


@dataclass(frozen=True)
class Target:
    """The flag set ``kubelet-flags lint`` checks against, for the asked-for kubelet version."""

    asked: Minor
    release: ReleaseFlags
    """The generated release whose flag set stands for ``asked``."""
    note: str | None
    """Why ``release`` is not exactly ``asked``, when it is not."""

    @property
    def flags(self) -> dict[str, FlagDef]:
        return self.release.flags


@dataclass(frozen=True)
class FlagSets:
    releases: tuple[ReleaseFlags, ...]
    """Oldest first."""
    history: dict[str, Removal]

    def target(self, asked: Minor) -> Target:
        release = standing_for(asked)
        if release.minor == asked:
            return Target(asked, release, None)
        if asked > self.releases[-1].minor:
            note = f"k8snode's flag sets end at kubelet {release.version}; kubelet {show(asked)} is checked against it"
        elif asked < release.minor:
            note = (
                f"k8snode generates flag sets from kubelet {release.version} on; kubelet {show(asked)} is checked "
                f"against {release.version} and the removals recorded before it"
            )
        else:
            note = (
                f"no flag set is generated for kubelet {show(asked)}; the nearest older one, {release.version}, is used"
            )
        return Target(asked, release, note)

    def removal(self, name: str, target: Target) -> Removal | None:
        """Why ``name`` is not a flag of ``target``'s kubelet, when an older kubelet had it."""
        older = [r for r in self.releases if r.minor < target.release.minor and name in r.flags]
        if older:
            last = older[-1]
            after = next(r for r in self.releases if r.minor > last.minor)
            gap = [show((last.minor[0], minor_)) for minor_ in range(last.minor[1] + 1, after.minor[1] + 1)]
            removed = gap[0] if len(gap) == 1 else f"{', '.join(gap[:-1])} or {gap[-1]}"
            message = last.flags[name].deprecated
            advice = f'kubelet {last.version} said: "{message}"' if message else "no replacement was announced"
            source = f"derived: in kubelet {last.version}, not in {after.version}"
            return Removal(name, removed, advice, source)
        recorded = self.history.get(name)
        if recorded is not None and minor(recorded.removed) <= target.asked:
            return recorded
        return None

    def predates(self, name: str, target: Target) -> bool:
        """Whether a recorded removal says ``name`` still existed in the (older than generated) target kubelet."""
        recorded = self.history.get(name)
        return recorded is not None and target.asked < minor(recorded.removed)

    def added_in(self, name: str, target: Target) -> ReleaseFlags | None:
        """The first generated release newer than ``target`` that has ``name``."""
        return next((r for r in self.releases if r.minor > target.release.minor and name in r.flags), None)


@cache
def flag_sets() -> FlagSets:
    history_rows = json.loads(package_text("kubelet", "data", HISTORY_FILE))["removed"]
    history = {
        row["flag"]: Removal(row["flag"], row["removed"], f"use {row['use']}", row["source"]) for row in history_rows
    }
    return FlagSets(generated_releases(), history)
