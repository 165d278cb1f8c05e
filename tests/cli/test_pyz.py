"""k8snode's single-file archives (tools/build_pyz.py): one per interpreter 3.10-3.13 holding its byte code only,
reproducible, cached by the hash of their inputs, pure Python, without what rich needs for output k8snode never
prints; the smoke commands on each interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from build_pyz import EXCLUDED, Target, cache_key, entries, identify, prune
from clitree import leaves
from pythons import interpreter, interpreters
from where import REPO

pytestmark = pytest.mark.heavy  # builds archives with four interpreters: seconds each

BUILD = REPO / "tools" / "build_pyz.py"
THIS = f"cp{sys.version_info[0]}{sys.version_info[1]}"
RICH_EXTRAS = ("pygments", "markdown_it", "mdurl")  # the modules of EXCLUDED's distributions


def build(out: Path, *extra: str, env: dict[str, str] | None = None) -> dict[str, object]:
    run = subprocess.run(
        [sys.executable, str(BUILD), "--out-dir", str(out), *extra],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    report: dict[str, object] = json.loads(run.stdout)
    return report


def archive(pyz: Path, minor: str) -> Path:
    return pyz / f"k8snode-cp{minor.replace('.', '')}.pyz"


def test_same_inputs_give_the_same_bytes(pyz, tmp_path):
    """A build without the cache gives, file for file, the bytes of the session's build (cached or not)."""
    report = build(tmp_path / "again", "--no-cache")
    again = {Path(str(item["path"])).name: Path(str(item["path"])).read_bytes() for item in report["archives"]}
    assert sorted(again) == sorted(path.name for path in pyz.iterdir())
    assert all(content == (pyz / name).read_bytes() for name, content in again.items())


def test_each_archive_holds_its_interpreters_byte_code_only(pyz):
    assert sorted(path.name for path in pyz.iterdir()) == sorted(
        f"k8snode-cp{m.replace('.', '')}.pyz" for m in interpreters()
    )
    for minor in interpreters():
        with zipfile.ZipFile(archive(pyz, minor)) as opened:
            names = opened.namelist()
            assert json.loads(opened.comment) == {"python": f"cp{minor.replace('.', '')}", "version": "0.1.0"}
        assert [n for n in names if n.endswith(".py")] == ["__main__.py"]
        assert not [n for n in names if n.endswith((".so", ".pyd"))]
        assert not [n for n in names if n.split("/")[0] in RICH_EXTRAS]
        assert "k8snode/cli.pyc" in names
        assert "markupsafe/_native.pyc" in names  # the pure-Python fallback markupsafe imports without _speedups
        assert "k8snode/templates/ipvs.modules.tmpl" in names
        assert "k8snode/kubeadm/data/skeletons/v1beta4.yaml" in names
        assert "k8snode/core/schemas/kubeadm.k8s.io_v1beta4_InitConfiguration.json" in names
        assert [n for n in names if n.endswith("/")] == ["ruamel/"]  # the namespace package zipimport must see
        assert len(names) < 500  # the four-interpreter archive had ~2,400: zipimport reads them all at each start


def test_the_cache_is_keyed_by_every_input(tmp_path):
    """A second build with nothing changed copies the archive from the cache; the key moves with a source file,
    a dependency's metadata (its version) and the interpreter's magic number."""
    env = {**os.environ, "K8SNODE_PYZ_CACHE": str(tmp_path / "cache")}
    first = build(tmp_path / "one", "--python", sys.executable, env=env)
    second = build(tmp_path / "two", "--python", sys.executable, env=env)
    assert [item["cache"] for item in first["archives"]] == ["miss"]
    assert [item["cache"] for item in second["archives"]] == ["hit"]
    name = f"k8snode-{THIS}.pyz"
    assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    [kept] = (tmp_path / "cache").glob(f"*/{name}")
    sources = entries()
    identity = {"tag": THIS, "cache_tag": "cpython-3x", "minor": "3.x", "version": "3.x.0", "magic": "0a0d0d0a"}
    target = Target(name, sys.executable, identity)
    key = cache_key(sources, target)
    metadata = next(n for n in sources if n.startswith("jinja2-") and n.endswith(".dist-info/METADATA"))
    assert key != cache_key({**sources, "k8snode/cli.py": sources["k8snode/cli.py"] + b"\n"}, target)
    assert key != cache_key({**sources, metadata: sources[metadata].replace(b"Version: ", b"Version: 9")}, target)
    assert key != cache_key(sources, Target(name, sys.executable, {**identity, "magic": "0b0d0d0a"}))
    assert kept.parent.name == cache_key(sources, Target(name, sys.executable, identify(sys.executable)))


def test_the_cache_keeps_the_archives_used_last(tmp_path):
    for age in range(6):
        kept = tmp_path / f"key{age}"
        kept.mkdir()
        (kept / "k8snode-cp311.pyz").write_bytes(b"PK")
        os.utime(kept, (1_000_000 - age, 1_000_000 - age))
    prune(tmp_path, 4)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["key0", "key1", "key2", "key3"]


def test_the_libraries_run_on_their_pure_python_fallbacks(pyz):
    """Imported from the archive as __main__.py imports them, markupsafe escapes with its _native module."""
    probe = (
        "import sys, k8snode.core.yamldoc, ruamel.yaml, markupsafe; "
        "print(markupsafe._escape_inner.__module__, markupsafe.escape('<a>'), "
        "sorted(m for m in sys.modules if m.endswith(('_speedups', 'clib', 'clibz', '_ruamel_yaml'))))"
    )
    this = pyz / f"k8snode-{THIS}.pyz"
    run = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",  # no site-packages: this venv may hold ruamel.yaml.clib, a host running the pyz need not
            "-c",
            f"import sys; sys.path[:0] = [{str(this)!r}]; {probe}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout == "markupsafe._native &lt;a&gt; []\n"


# Run from the archive alone (-I -S: no site-packages), with a finder that notes every attempt to import one of the
# left-out packages (an attempt caught by an `except ImportError` would leave no trace in sys.modules).
WATCHED = """
import atexit, json, sys
class Watch:
    seen = []
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {extras!r}:
            self.seen.append(name)
atexit.register(lambda: print("watched:" + json.dumps(Watch.seen), file=sys.stderr))
sys.meta_path.insert(0, Watch())
sys.path[:0] = [{archive!r}]
sys.argv = ["k8snode", *{argv!r}]
from k8snode.cli import main
main()
"""


def test_no_command_imports_what_the_archives_leave_out(pyz, fake_root):
    """Every command's and group's --help, and `node check --json` and `ipvs check --json` on a fake root, from this
    interpreter's archive: none tries to import pygments, markdown-it or mdurl, and each ends as it should."""
    assert {"pygments", "markdown-it-py", "mdurl"} == EXCLUDED
    root = fake_root("deb12-6.1")
    names = [name for name, _ in leaves()]
    groups = sorted({name.rsplit(" ", 1)[0] for name in names if " " in name})
    runs = [[*name.split(), "--help"] for name in ["", *groups, *names]]
    runs += [[*command, "check", "--json", "--root", str(root.path)] for command in (["node"], ["ipvs"])]
    for argv in runs:
        code = WATCHED.format(extras=RICH_EXTRAS, archive=str(pyz / f"k8snode-{THIS}.pyz"), argv=argv)
        done = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, env=root.env())
        assert done.returncode == (1 if "check" in argv and "--help" not in argv else 0), (argv, done.stderr)
        assert done.stderr.splitlines()[-1] == "watched:[]", argv
        if "--json" in argv:
            assert json.loads(done.stdout)["command"] in ("node check", "ipvs check")


# The archive's entries that the run loaded, printed at exit.
LOADED = """
import atexit, json, sys
atexit.register(lambda: print("loaded:" + json.dumps(sorted(
    m.__spec__.origin.removeprefix({archive!r} + "/") for m in list(sys.modules.values())
    if getattr(m, "__spec__", None) and (m.__spec__.origin or "").startswith({archive!r} + "/")
)), file=sys.stderr))
sys.path[:0] = [{archive!r}]
sys.argv = ["k8snode", *{argv!r}]
from k8snode.cli import main
main()
"""


def test_the_commands_every_host_runs_load_only_byte_code_stored_uncompressed(pyz, fake_root):
    """zipimport inflates every deflated module it loads, at every start: the byte code that `ipvs check`,
    `node check`, `kubeadm-config` and `--version` load is stored as it is (build_pyz.STORED), the rest deflated."""
    root = fake_root("deb12-6.1")
    this = pyz / f"k8snode-{THIS}.pyz"
    with zipfile.ZipFile(this) as opened:
        stored = {info.filename for info in opened.infolist() if info.compress_type == zipfile.ZIP_STORED}
        deflated = {info.filename for info in opened.infolist() if info.compress_type == zipfile.ZIP_DEFLATED}
    assert "rich/console.pyc" in deflated and "k8snode/cli.pyc" in stored
    commands = [
        ["ipvs", "check", "--json", "--root", str(root.path)],
        ["node", "check", "--json", "--root", str(root.path)],
        ["kubeadm-config", "--advertise-address", "192.0.2.10"],
        ["--version"],
    ]
    for argv in commands:
        code = LOADED.format(archive=str(this), argv=argv)
        done = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, env=root.env())
        assert done.returncode in (0, 1), (argv, done.stderr)
        loaded = json.loads(done.stderr.splitlines()[-1].removeprefix("loaded:"))
        assert "k8snode/cli.pyc" in loaded, argv
        assert set(loaded) <= stored, (argv, sorted(set(loaded) - stored))


@pytest.mark.parametrize("minor", ["3.10", "3.11", "3.12", "3.13"])
def test_smoke_on_each_interpreter(pyz, minor, fake_root, tmp_path):
    """--version, ipvs check --root, kubeadm-config and validate, with HOME and the working directory empty and
    no network needed; afterwards both are still empty and the archive is untouched (nothing extracted)."""
    python = interpreter(minor)
    this = archive(pyz, minor)
    root = fake_root("deb12-6.1")
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    before = this.stat()
    env = {**root.env(), "HOME": str(home), "PYTHONDONTWRITEBYTECODE": ""}
    env.pop("PYTHONDONTWRITEBYTECODE")

    def k8snode(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([python, str(this), *argv], capture_output=True, text=True, env=env, cwd=work)

    version = k8snode("--version", "--json")
    assert version.returncode == 0, version.stderr
    data = json.loads(version.stdout)["data"]
    assert data["python"].startswith(f"{minor}.")
    assert (data["from_pyz"], data["pyz"]) == (True, str(this))

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
    assert (this.stat().st_mtime_ns, this.stat().st_size) == (before.st_mtime_ns, before.st_size)


def test_an_archive_refuses_another_interpreter_and_names_the_one_to_use(pyz):
    """Byte code of one interpreter cannot run on another: one line says which Python the archive is for."""
    others = [minor for minor in interpreters() if minor != f"{sys.version_info[0]}.{sys.version_info[1]}"]
    if not others:
        pytest.skip("one interpreter only")
    other = archive(pyz, others[0])
    run = subprocess.run([sys.executable, str(other), "--version"], capture_output=True, text=True)
    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr == (
        f"{other} holds byte code for Python {others[0]} (CPython) only and {sys.executable} is "
        f"cpython {sys.version.split()[0]}: run it with python{others[0]}, or use the archive built for this "
        f"interpreter (tools/build_pyz.py --python {sys.executable})\n"
    )


def test_the_universal_archive_runs_from_the_sources_on_any_interpreter(tmp_path, fake_root):
    """k8snode.pyz (--sources-only; --universal adds it beside the others) has no byte code: any Python 3.10+
    compiles its sources."""
    report = build(tmp_path, "--sources-only")
    [item] = report["archives"]
    out = Path(str(item["path"]))
    assert (out.name, item["python"]) == ("k8snode.pyz", "any")
    assert not [n for n in zipfile.ZipFile(out).namelist() if n.endswith(".pyc")]
    root = fake_root("deb12-6.1")
    run = subprocess.run(
        [sys.executable, str(out), "ipvs", "check", "--root", str(root.path), "--json"],
        capture_output=True,
        text=True,
        env=root.env(),
    )
    assert run.returncode == 1, run.stderr
    assert json.loads(run.stdout)["data"]["kernel"]["release"] == "6.1.0-28-amd64"


def test_the_grpc_hint_of_the_pyz_installs_grpcio_for_the_interpreter_that_runs_it(pyz):
    """`pip install 'k8snode[grpc]'` cannot reach into the archive (issue 26). The hint names the interpreter, and
    installing there works: this venv has grpcio (the test extra brings it), and the same pyz probes with it once
    site-packages is on the path."""
    out = pyz / f"k8snode-{THIS}.pyz"
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
