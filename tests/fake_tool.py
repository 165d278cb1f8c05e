"""What the fake tools written in Python share (fake_modprobe.py, fake_swapoff.py, fake_netfilter.py).

Each fake is one function, ``run(argv, stdin) -> Outcome``, with the arguments its wrapper on PATH passes (the fake
root first, see ``fakes.wrapper``). The tests that run k8snode in their own process call that function directly
(``fakes.execute``); as a program, for the console script and Ansible, ``main`` runs the same function and prints
what it gave. Kept small: every subprocess call of a fake imports it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple


class Outcome(NamedTuple):
    """What a run of a tool gives back: its exit code and what it wrote to stdout and stderr."""

    returncode: int
    stdout: str = ""
    stderr: str = ""


def failure(message: str, code: int = 1) -> Outcome:
    """A tool that prints one line of error and exits ``code``."""
    return Outcome(code, "", message + "\n")


def lines(*texts: str) -> str:
    """Lines as a tool prints them, each ending in a newline."""
    return "".join(text + "\n" for text in texts)


def record(root: Path, tool: str, text: str) -> None:
    """Append ``text`` (the call, and any input) to ROOT/fake/TOOL.calls, where a test reads what was run."""
    calls = root / "fake" / f"{tool}.calls"
    calls.parent.mkdir(parents=True, exist_ok=True)
    with calls.open("a") as log:
        log.write(text)


def main(run: Callable[[list[str], str], Outcome], *, reads_stdin: bool = False) -> int:
    """The fake as a program: ``run`` on this process's arguments (and standard input, for a tool that reads it)."""
    outcome = run(sys.argv[1:], sys.stdin.read() if reads_stdin else "")
    sys.stdout.write(outcome.stdout)
    sys.stderr.write(outcome.stderr)
    return outcome.returncode
