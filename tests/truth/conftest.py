"""Fixtures for tests that compare k8snode with real Kubernetes binaries.

tools/k8s-truth/build.sh builds them. Without them these tests skip and say
why; with K8SNODE_REQUIRE_TRUTH=1 a missing build fails the test instead.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest
from required import truth_cache, unavailable

TOOLS = Path(__file__).resolve().parents[2] / "tools" / "k8s-truth"


def _listed_versions(name: str = "versions.txt") -> list[str]:
    lines = (TOOLS / name).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _missing(reason: str) -> NoReturn:
    unavailable("K8SNODE_REQUIRE_TRUTH", reason)


@pytest.fixture
def truth_bin() -> Callable[[str], Path]:
    """truth_bin(version) -> the directory holding that version's kubeadm and k8s-truth."""

    def locate(version: str) -> Path:
        directory = truth_cache() / version
        if not ((directory / "kubeadm").is_file() and (directory / "k8s-truth").is_file()):
            if shutil.which("go") is None:
                _missing(f"Go is not installed, so tools/k8s-truth/build.sh {version} cannot run")
            _missing(f"{directory} has no kubeadm and k8s-truth: run tools/k8s-truth/build.sh {version}")
        return directory

    return locate


@pytest.fixture
def truth_command(truth_bin: Callable[[str], Path]) -> Callable[[str, str], Path]:
    """truth_command(version, command) -> that version's k8s-truth, when it has ``command``; a build from older
    tools/k8s-truth sources skips the test (or fails it, with K8SNODE_REQUIRE_TRUTH=1)."""
    import subprocess

    def locate(version: str, command: str) -> Path:
        k8s_truth = truth_bin(version) / "k8s-truth"
        usage = subprocess.run([str(k8s_truth)], capture_output=True, text=True, timeout=60).stderr
        if f"  {command} " not in usage:
            _missing(f"{k8s_truth} predates `k8s-truth {command}`: rerun tools/k8s-truth/build.sh {version}")
        return k8s_truth

    return locate


@pytest.fixture
def containerd_bin() -> Callable[[str], Path]:
    """containerd_bin(series) -> the real containerd of that series: "2.4" built from its Go module, "1.6" Debian 12's
    package, where tools/k8s-truth/build-containerd.sh puts them (SERIES/containerd in the truth cache)."""
    import subprocess

    def locate(series: str) -> Path:
        binary = truth_cache() / "containerd" / series / "containerd"
        if not binary.is_file():
            if series != "1.6" and shutil.which("go") is None:
                _missing(
                    f"Go is not installed, so tools/k8s-truth/build-containerd.sh cannot build containerd {series}"
                )
            _missing(f"{binary} is missing: run tools/k8s-truth/build-containerd.sh")
        words = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60).stdout.split()
        # "containerd PACKAGE VERSION [REVISION]": v2.4.2 from the module, 1.6.20~ds1 from Debian
        if len(words) < 3 or not words[2].lstrip("v").startswith(f"{series}."):
            _missing(f"{binary} is {' '.join(words)!r}, not containerd {series}: rerun build-containerd.sh")
        return binary

    return locate


@pytest.fixture
def truth_versions() -> list[str]:
    """The versions in tools/k8s-truth/versions.txt, newest first."""
    return _listed_versions()


@pytest.fixture(params=_listed_versions())
def truth_version(request: pytest.FixtureRequest) -> str:
    """Runs a test once for each version in tools/k8s-truth/versions.txt."""
    version: str = request.param
    return version


@pytest.fixture(params=_listed_versions("e2e-versions.txt"))
def e2e_version(request: pytest.FixtureRequest) -> str:
    """Runs a test once for each version in tools/k8s-truth/e2e-versions.txt (those with real component binaries)."""
    version: str = request.param
    return version


@pytest.fixture
def shipped_and_generated(
    truth_versions: list[str],
    truth_bin: Callable[[str], Path],
    truth_command: Callable[[str, str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[str, str | None, Path], tuple[str, str]]:
    """shipped_and_generated(script, command, shipped) -> (the text of ``shipped``, the text tools/k8s-truth/SCRIPT's
    ``generated`` writes from every listed build, which must have the k8s-truth ``command``, or only kubeadm when
    ``command`` is None). Prints the counts it returns."""
    import importlib.util

    def compare(script: str, command: str | None, shipped: Path) -> tuple[str, str]:
        caches = {
            truth_bin(version).parent if command is None else truth_command(version, command).parent.parent
            for version in truth_versions
        }
        assert len(caches) == 1
        monkeypatch.syspath_prepend(str(TOOLS))  # a generator imports its neighbours
        spec = importlib.util.spec_from_file_location(Path(script).stem, TOOLS / script)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        text, counts = module.generated(truth_versions, caches.pop())
        print(counts)
        return shipped.read_text(), text

    return compare
