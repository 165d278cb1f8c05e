"""k8snode.pyz (tools/build_pyz.py): reproducible, pure Python, the smoke commands on each interpreter 3.10-3.13."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from pythons import interpreter, interpreters
from where import REPO

pytestmark = pytest.mark.heavy  # builds archives with four interpreters: seconds each

BUILD = REPO / "tools" / "build_pyz.py"


def build(out: Path, *extra: str) -> dict[str, object]:
    run = subprocess.run(
        [sys.executable, str(BUILD), "--out", str(out), *extra], capture_output=True, text=True, check=True
    )
    report: dict[str, object] = json.loads(run.stdout)
    return report


def test_same_inputs_give_the_same_bytes(pyz, tmp_path):
    again = tmp_path / "again.pyz"
    build(again)
    assert again.read_bytes() == pyz.read_bytes()


def test_archive_holds_no_c_extension_and_byte_code_per_interpreter(pyz):
    names = zipfile.ZipFile(pyz).namelist()
    assert not [n for n in names if n.endswith((".so", ".pyd"))]
    assert "markupsafe/_native.py" in names  # the pure-Python fallback markupsafe imports without _speedups
    assert "k8snode/kubeadm/data/skeletons/v1beta4.yaml" in names
    assert "k8snode/core/schemas/kubeadm.k8s.io_v1beta4_InitConfiguration.json" in names
    for minor in interpreters():
        tag = "cp" + minor.replace(".", "")
        assert f"pyc/{tag}/k8snode/cli.pyc" in names
        assert f"pyc/{tag}/k8snode/templates/ipvs.modules.tmpl" in names
        assert not [n for n in names if n.startswith(f"pyc/{tag}/") and n.endswith(".py")]


def test_the_libraries_run_on_their_pure_python_fallbacks(pyz):
    """Imported from the archive as __main__.py imports them, markupsafe escapes with its _native module."""
    probe = (
        "import sys, k8snode.core.yamldoc, ruamel.yaml, markupsafe; "
        "print(markupsafe._escape_inner.__module__, markupsafe.escape('<a>'), "
        "sorted(m for m in sys.modules if m.endswith(('_speedups', 'clib', 'clibz', '_ruamel_yaml'))))"
    )
    tag = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    run = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",  # no site-packages: this venv may hold ruamel.yaml.clib, a host running the pyz need not
            "-c",
            f"import sys; sys.path[:0] = [{str(pyz)!r} + '/pyc/{tag}', {str(pyz)!r}]; {probe}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout == "markupsafe._native &lt;a&gt; []\n"


@pytest.mark.parametrize("minor", ["3.10", "3.11", "3.12", "3.13"])
def test_smoke_on_each_interpreter(pyz, minor, fake_root, tmp_path):
    """--version, ipvs check --root, kubeadm-config and validate, with HOME and the working directory empty and
    no network needed; afterwards both are still empty and the archive is untouched (nothing extracted)."""
    python = interpreter(minor)
    root = fake_root("deb12-6.1")
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    before = pyz.stat()
    env = {**root.env(), "HOME": str(home), "PYTHONDONTWRITEBYTECODE": ""}
    env.pop("PYTHONDONTWRITEBYTECODE")

    def k8snode(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([python, str(pyz), *argv], capture_output=True, text=True, env=env, cwd=work)

    version = k8snode("--version", "--json")
    assert version.returncode == 0, version.stderr
    data = json.loads(version.stdout)["data"]
    assert data["python"].startswith(f"{minor}.")
    assert (data["from_pyz"], data["pyz"]) == (True, str(pyz))

    check = k8snode("ipvs", "check", "--root", str(root.path), "--json")
    assert check.returncode == 1, check.stderr  # a fresh root: modules not loaded yet
    assert json.loads(check.stdout)["data"]["kernel"]["release"] == "6.1.0-28-amd64"

    out = root.path / "etc/kubernetes/init-config.yaml"
    rendered = k8snode("kubeadm-config", "--advertise-address", "192.0.2.10", "--root", str(root.path))
    assert rendered.returncode == 0, rendered.stderr
    assert "kind: KubeProxyConfiguration\nmode: ipvs\n" in rendered.stdout
    out.parent.mkdir(parents=True)
    out.write_text(rendered.stdout)

    valid = k8snode("validate", str(out))
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert list(home.iterdir()) == [] and list(work.iterdir()) == []
    assert (pyz.stat().st_mtime_ns, pyz.stat().st_size) == (before.st_mtime_ns, before.st_size)


def test_runs_from_the_sources_on_an_interpreter_without_byte_code(tmp_path, fake_root):
    """An interpreter with no pyc/ tree (here: an archive built --sources-only) compiles the sources at the root."""
    out = tmp_path / "sources.pyz"
    build(out, "--sources-only")
    assert not [n for n in zipfile.ZipFile(out).namelist() if n.startswith("pyc/")]
    root = fake_root("deb12-6.1")
    run = subprocess.run(
        [sys.executable, str(out), "ipvs", "check", "--root", str(root.path), "--json"],
        capture_output=True,
        text=True,
        env=root.env(),
    )
    assert run.returncode == 1, run.stderr
    assert json.loads(run.stdout)["data"]["kernel"]["release"] == "6.1.0-28-amd64"


def test_the_grpc_hint_of_the_pyz_installs_grpcio_for_the_interpreter_that_runs_it(tmp_path):
    """`pip install 'k8snode[grpc]'` cannot reach into the archive (issue 26). The hint names the interpreter, and
    installing there works: this venv has grpcio (the test extra brings it), and the same pyz probes with it once
    site-packages is on the path."""
    out = tmp_path / "k8snode.pyz"
    build(out, "--sources-only")
    probe = ["probe", "grpc", "127.0.0.1:1", "--failure-threshold", "1", "--timeout", "0.2s", "--json"]
    without = subprocess.run([sys.executable, "-S", str(out), *probe], capture_output=True, text=True)
    assert without.returncode == 2
    message = json.loads(without.stdout)["error"]["message"]
    assert message == (
        "k8snode probe grpc needs the grpc extra (grpcio, grpcio-health-checking): "
        f"{out} cannot carry grpcio; install it for the Python that runs the pyz, which imports it from there: "
        f"{sys.executable} -m pip install grpcio grpcio-health-checking"
    )
    installed = subprocess.run([sys.executable, str(out), *probe], capture_output=True, text=True)
    assert installed.returncode == 1, installed.stderr  # the probe ran, and nothing serves at port 1
    assert json.loads(installed.stdout)["data"]["attempts"][0]["result"] == "failure"
