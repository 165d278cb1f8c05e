"""The interpreters 3.10 to 3.13 on this machine (tools/build_pyz.py finds them), for tests that run each one."""

from __future__ import annotations

import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from build_pyz import default_interpreters

REQUIRED = os.environ.get("K8SNODE_REQUIRE_PYTHONS") == "1"  # set by .ci/run: a missing interpreter fails


@cache
def interpreters() -> dict[str, str]:
    """ "3.10" -> the path of that interpreter, for each one found."""
    found = {}
    for python in default_interpreters():
        minor = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:2], sep='.')"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        found[minor] = python
    return found


def interpreter(minor: str) -> str:
    """That interpreter's path; a skip when it is missing, a failure under K8SNODE_REQUIRE_PYTHONS=1."""
    if minor not in interpreters():
        if REQUIRED:
            pytest.fail(f"Python {minor} not found (K8SNODE_REQUIRE_PYTHONS=1)")
        pytest.skip(f"Python {minor} not found on PATH or under pyenv")
    return interpreters()[minor]
