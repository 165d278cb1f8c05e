"""What every library operation returns, and the versioned JSON envelope it becomes at the edge."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from k8snode.core.errors import ExitCode

SCHEMA_VERSION = 1


@dataclass
class Result:
    """What a command did: the data its --json envelope carries, its warnings and its exit code."""

    command: str
    data: dict[str, Any] = field(default_factory=dict)
    changed: bool = False
    warnings: list[str] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.OK
    error: str | None = None
    summary: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == ExitCode.OK

    def envelope(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "command": self.command,
            "ok": self.ok,
            "changed": self.changed,
            "data": self.data,
            "warnings": self.warnings,
            "error": None if self.error is None else {"message": self.error, "exit_code": int(self.exit_code)},
        }
