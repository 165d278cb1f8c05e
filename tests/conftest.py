"""Shared fixtures: fake roots with a fake modprobe, the CLI in-process, and the installed console script; and the
fake tools written in Python run in the test's process (fakes.execute)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fakes
import pytest
from fakes import FakeRoot, KernelSpec, make_host, make_root
from typer.testing import CliRunner

from k8snode.cli import app
from k8snode.core import system

CONSOLE_SCRIPT = Path(sys.executable).parent / "k8snode"

if os.environ.get("PYTEST_XDIST_WORKER"):
    # pytest-xdist hands each worker COLUMNS=80 and LINES=24 (its controller's terminal, or that default): k8snode's
    # output follows COLUMNS (core/console.py), so a worker would fold tables that one process prints whole.
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)
NOT_QUICK = {"vm", "truth", "ansible", "slow", "heavy"}


@pytest.hookimpl(tryfirst=True)  # before the mark plugin selects with -m
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``pytest -m quick``, the developer's loop: every test that needs no VM, no truth build, no Ansible, no time."""
    for item in items:
        if not NOT_QUICK & {mark.name for mark in item.iter_markers()}:
            item.add_marker(pytest.mark.quick)


_VM_REPORT = pytest.StashKey[dict[str, list[Any]]]()


def _vm_report(config: pytest.Config) -> dict[str, list[Any]]:
    return config.stash.setdefault(_VM_REPORT, {"measured": [], "boots": []})


@pytest.fixture(scope="session")
def vm_report(pytestconfig: pytest.Config) -> dict[str, list[Any]]:
    """What the VM tests measured ("measured": lines) and each boot ("boots": name, seconds), for the summary.

    Under pytest-xdist each worker hands its own to the controller when it ends (pytest_testnodedown), so the one
    summary holds every worker's."""
    return _vm_report(pytestconfig)


def pytest_sessionfinish(session: pytest.Session) -> None:
    output = getattr(session.config, "workeroutput", None)  # set on an xdist worker only
    if output is not None:
        output["vm_report"] = _vm_report(session.config)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    gathered = _vm_report(node.config)
    for key, items in getattr(node, "workeroutput", {}).get("vm_report", {}).items():
        gathered[key] += items


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    report = _vm_report(terminalreporter.config)
    for line in report["measured"]:
        terminalreporter.write_line(f"vm measured: {line}")
    if report["boots"]:
        total = sum(seconds for _, seconds in report["boots"])
        terminalreporter.write_sep("-", f"vm: {len(report['boots'])} boots, {total:.1f} s of VM time")
        for name, seconds in report["boots"]:
            terminalreporter.write_line(f"{name}: {seconds:.1f} s")


@pytest.fixture(autouse=True)
def python_fakes_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """k8snode in this process runs the fake tools written in Python as functions (fakes.execute), not processes."""
    monkeypatch.setattr(system, "execute", fakes.execute)


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def envelope(self) -> dict[str, Any]:
        return json.loads(self.stdout)


@pytest.fixture
def fake_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeRoot]:
    """Factory: a fake root for a kernel from fakes.KERNELS, with its fake modprobe first on PATH."""

    def make(
        kernel: KernelSpec | str = "deb12-6.1", *, systemd: bool = True, sysconfig: bool = True, name: str = "root"
    ) -> FakeRoot:
        root = make_root(tmp_path / name, kernel, systemd=systemd, sysconfig=sysconfig)
        monkeypatch.setenv("PATH", f"{root.bin}{os.pathsep}{os.environ['PATH']}")
        return root

    return make


@pytest.fixture
def cli() -> Callable[..., Run]:
    """Run k8snode in-process through Typer's CliRunner (the same edge as the console script)."""
    runner = CliRunner()

    def run(*args: str, stdin: str | bytes | None = None) -> Run:
        result = runner.invoke(app, list(args), input=stdin, catch_exceptions=False)
        return Run(result.exit_code, result.stdout, result.stderr)

    return run


@pytest.fixture
def k8snode() -> Callable[..., Run]:
    """Run the installed console script in a subprocess."""

    def run(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Run:
        done = subprocess.run(
            [str(CONSOLE_SCRIPT), *args], input=stdin, capture_output=True, text=True, env=env, timeout=60
        )
        return Run(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeRoot]:
    """Factory: a fake root laid out as a distribution's fresh install (fakes.LAYOUTS), fake tools first on PATH."""

    def make(layout: str = "debian", *, name: str = "root") -> FakeRoot:
        root = make_host(tmp_path / name, layout)
        monkeypatch.setenv("PATH", f"{root.bin}{os.pathsep}{os.environ['PATH']}")
        return root

    return make


@pytest.fixture(scope="session")
def pyz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory of k8snode-cpXY.pyz, one archive per interpreter found, built once per session as the role
    builds them (tools/build_pyz.py, through its cache: unchanged sources reuse the archives .ci/run built)."""
    out = tmp_path_factory.mktemp("pyz")
    build = [sys.executable, str(Path(__file__).resolve().parent.parent / "tools/build_pyz.py"), "--out-dir", str(out)]
    subprocess.run(build, check=True, capture_output=True)
    return out
