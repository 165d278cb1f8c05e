"""Shared by the role tests: one k8snode.pyz per session, built as the role's default install builds it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fleet import REPO


@pytest.fixture(scope="session")
def pyz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pyz") / "k8snode.pyz"
    build = [sys.executable, str(REPO / "tools/build_pyz.py"), "--out", str(out)]
    subprocess.run(build, check=True, capture_output=True)
    return out
