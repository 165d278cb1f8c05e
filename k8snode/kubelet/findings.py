"""What `kubelet-flags lint` finds, typed: each finding, and a linted set of command lines.

lint (kubelet/lint.py) makes them, fix (kubelet/fix.py) rewrites files from them, doctor reads them, and
commands/kubelet_flags.py turns them into the JSON envelope. Neither lint nor fix imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from k8snode.core.compat import StrEnum
from k8snode.kubelet.flagdefs import FlagDef, show
from k8snode.kubelet.flagsets import Target
from k8snode.kubelet.sources import CommandLine, Origin, Word


class Severity(StrEnum):
    ERROR = "error"
    """The kubelet will not start."""
    WARNING = "warning"


class Kind(StrEnum):
    REMOVED = "removed"
    NOT_YET = "not-yet"
    UNKNOWN = "unknown"
    BAD_VALUE = "bad-value"
    NEEDS_VALUE = "needs-value"
    BAD_SYNTAX = "bad-syntax"
    POSITIONAL = "positional"
    UNREADABLE = "unreadable"
    DEPRECATED = "deprecated"
    REPEATED = "repeated"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    kind: Kind
    origin: Origin
    flag: str | None
    message: str
    config_field: str | None = None
    """For a deprecated config-backed flag: its KubeletConfiguration field."""
    words: tuple[Word, ...] = field(default=(), compare=False)
    """The words of the flag (and of its value, when separate): what --fix removes."""
    value: str | None = field(default=None, compare=False)
    flag_def: FlagDef | None = field(default=None, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "severity": str(self.severity),
            "kind": str(self.kind),
            "path": self.origin.path,
            "line": self.origin.line,
            "flag": self.flag,
            "message": self.message,
            "field": self.config_field,
        }

    def __str__(self) -> str:
        return f"{self.origin}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class Linted:
    """The command lines lint read for a kubelet release, each with its findings in the order of its words."""

    kubernetes_version: str
    """As asked (the newest k8snode knows when not asked)."""
    target: Target
    per_line: list[tuple[CommandLine, list[Finding]]]
    warnings: list[str]

    @property
    def lines(self) -> list[CommandLine]:
        return [line for line, _ in self.per_line]

    @property
    def findings(self) -> list[Finding]:
        return [finding for _, found in self.per_line for finding in found]

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == Severity.ERROR]

    @property
    def summary(self) -> str:
        errors = len(self.errors)
        count = f"{errors} error(s), {len(self.findings) - errors} warning(s)"
        return f"kubelet {show(self.target.asked)}: {count} in {len(self.per_line)} command line(s)"
