"""Crash safety and concurrency of k8snode's writes: faults at each step, SIGKILL mid-run, racing processes."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CONSOLE_SCRIPT
from fakes import held_lock
from required import unavailable

import k8snode.core.system

SYSCONFIG = "etc/sysconfig/modules/ipvs.modules"
MODULES_LOAD = "etc/modules-load.d/ipvs.conf"
TARGETS = (SYSCONFIG, MODULES_LOAD)


def temps(root: Path) -> list[Path]:
    return [p for t in TARGETS for p in (root / t).parent.glob(".*.k8snode-*.tmp")]


def contents(root: Path) -> tuple[bytes | None, ...]:
    return tuple((root / t).read_bytes() if (root / t).exists() else None for t in TARGETS)


def _fail(*_args: object, **_kwargs: object) -> None:
    raise OSError(28, "No space left on device")


class _FailingWrites:
    """Stands in for the temp file's handle: writing to it fails as on a full disk."""

    def __init__(self, handle: object) -> None:
        self.handle = handle

    def __enter__(self) -> _FailingWrites:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()  # type: ignore[attr-defined]

    def write(self, _data: bytes) -> int:
        raise OSError(28, "No space left on device")


def _fail_temp_creation(monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = os.open

    def open_(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        if flags & os.O_EXCL:
            raise OSError(13, "Permission denied")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(k8snode.core.system.os, "open", open_)


def _fail_write(monkeypatch: pytest.MonkeyPatch) -> None:
    real_fdopen = os.fdopen

    def fdopen(fd: int, mode: str) -> object:
        handle = real_fdopen(fd, mode)
        return _FailingWrites(handle) if "w" in mode else handle

    monkeypatch.setattr(k8snode.core.system.os, "fdopen", fdopen)


def _fail_file_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(k8snode.core.system.os, "fsync", _fail)


def _fail_rename(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(k8snode.core.system.os, "replace", _fail)


def _fail_directory_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(k8snode.core.system, "_fsync_directory", _fail)


FAULTS = {
    "temp creation": _fail_temp_creation,
    "write": _fail_write,
    "fsync": _fail_file_fsync,
    "rename": _fail_rename,
    "directory fsync": _fail_directory_fsync,
}


@pytest.mark.parametrize("step", list(FAULTS))
@pytest.mark.parametrize("existing", [False, True], ids=["new-files", "old-files"])
def test_a_fault_at_any_step_leaves_old_or_new_content_and_no_temp(fake_root, cli, monkeypatch, step, existing):
    root = fake_root("deb12-6.1")
    if existing:
        assert cli("ipvs", "enable", "--scheduler", "lc", "--root", str(root.path)).exit_code == 0
    old = contents(root.path)
    assert cli("ipvs", "enable", "--dry-run", "--root", str(root.path)).exit_code == 0
    FAULTS[step](monkeypatch)
    run = cli("ipvs", "enable", "--root", str(root.path))
    monkeypatch.undo()
    assert run.exit_code == 3
    assert run.stderr.startswith("k8snode: error: cannot write /etc/") and run.stderr.count("\n") == 1
    assert temps(root.path) == []
    fresh = fake_root("deb12-6.1", name="reference")
    cli("ipvs", "enable", "--root", str(fresh.path))
    new = contents(fresh.path)
    for before, after, now in zip(old, new, contents(root.path), strict=True):
        assert now in (before, after)


@pytest.fixture
def tiny_tmpfs(tmp_path: Path):
    """A 64 KiB tmpfs mounted in tmp_path (needs root); skipped with the reason otherwise, failed under CI."""
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    if os.geteuid() != 0:
        unavailable("K8SNODE_REQUIRE_ROOT", "mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        unavailable("K8SNODE_REQUIRE_ROOT", f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def _mount_at(tmpfs: Path, directory: Path, request: pytest.FixtureRequest) -> None:
    """Bind-mount the tmpfs at ``directory`` (inside the root: a symlink to it would lead out of the root)."""
    directory.mkdir()
    subprocess.run(["mount", "--bind", str(tmpfs), str(directory)], check=True)
    request.addfinalizer(lambda: subprocess.run(["umount", "-l", str(directory)], check=True))


def test_a_full_filesystem_fails_cleanly(fake_root, cli, tiny_tmpfs, request):
    root = fake_root("deb12-6.1")
    cli("ipvs", "enable", "--scheduler", "lc", "--root", str(root.path))
    # Put /etc on the tiny filesystem, with the files from the last run, and fill it up.
    etc = root.path / "etc"
    subprocess.run(["cp", "-a", f"{etc}/.", str(tiny_tmpfs)], check=True)
    subprocess.run(["rm", "-rf", str(etc)], check=True)
    _mount_at(tiny_tmpfs, etc, request)
    old = contents(root.path)
    filler = os.open(tiny_tmpfs / "filler", os.O_WRONLY | os.O_CREAT)
    with pytest.raises(OSError, match="No space left"):
        while True:
            os.write(filler, b"\0" * 4096)
    os.close(filler)
    run = cli("ipvs", "enable", "--root", str(root.path))
    assert run.exit_code == 3
    assert "No space left on device" in run.stderr
    assert contents(root.path) == old
    assert temps(root.path) == []


def test_a_read_only_filesystem_fails_cleanly(fake_root, cli, tiny_tmpfs, request):
    root = fake_root("deb12-6.1")
    etc = root.path / "etc"
    subprocess.run(["rm", "-rf", str(etc)], check=True)
    _mount_at(tiny_tmpfs, etc, request)
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_tmpfs)], check=True)
    run = cli("ipvs", "enable", "--root", str(root.path))
    assert run.exit_code == 3
    assert "Read-only file system" in run.stderr
    assert contents(root.path) == (None, None)


def test_another_run_holding_the_lock_is_reported_after_a_bounded_wait(fake_root, cli, monkeypatch):
    root = fake_root("deb12-6.1")
    monkeypatch.setenv("K8SNODE_LOCK_WAIT", "0.3")
    with held_lock(root.path):
        run = cli("ipvs", "enable", "--root", str(root.path))
    assert run.exit_code == 3
    assert "another k8snode is running: /run/k8snode.lock is still locked after 0.3 s" in run.stderr
    assert contents(root.path) == (None, None)
    assert cli("ipvs", "enable", "--root", str(root.path)).exit_code == 0


def test_a_bad_lock_wait_is_bad_input(fake_root, cli, monkeypatch):
    root = fake_root("deb12-6.1")
    monkeypatch.setenv("K8SNODE_LOCK_WAIT", "forever")
    run = cli("ipvs", "enable", "--root", str(root.path))
    assert run.exit_code == 2 and "K8SNODE_LOCK_WAIT='forever'" in run.stderr


# k8snode run as `python -m k8snode` with its fsyncs (os.fsync) of paths containing ONLY counted: at the Nth it
# writes what was synced (the temp file of a write in progress, or the directory a rename, a link or a removal just
# landed in) to MARKER and waits to be killed. Argv: MARKER N ONLY k8snode-arguments...
PAUSE_AT_FSYNC = """
import os, runpy, sys, time
marker, nth, only, synced = sys.argv[1], int(sys.argv[2]), sys.argv[3], []
fsync = os.fsync
def counted(fd):
    fsync(fd)
    path = os.readlink(f"/proc/self/fd/{fd}")
    if only not in path:
        return
    synced.append(path)
    if len(synced) == nth:
        with open(marker + ".part", "w") as out:
            out.write(path)
        os.rename(marker + ".part", marker)
        time.sleep(600)
os.fsync = counted
sys.argv = ["k8snode", *sys.argv[4:]]
runpy.run_module("k8snode", run_name="__main__", alter_sys=True)
"""


def killed_at_fsync(argv: list[str], nth: int, marker: Path, env: dict[str, str], only: str = "") -> Path | None:
    """Run k8snode with ``argv`` and SIGKILL it right after its ``nth`` fsync of a path containing ``only``: the
    path that fsync synced, or None when the run ended (successfully) with fewer such fsyncs."""
    argv = [sys.executable, "-c", PAUSE_AT_FSYNC, str(marker), str(nth), only, *argv]
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not marker.exists():
        if process.poll() is not None:
            assert process.returncode == 0, process.stderr.read() if process.stderr else b""
            return None
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    if process.stderr:
        process.stderr.close()
    return Path(marker.read_text())


@pytest.mark.slow
def test_sigkill_in_the_middle_of_runs_never_leaves_a_torn_file(fake_root, tmp_path):
    root = fake_root("deb12-6.1")
    env = root.env()
    enable = ["ipvs", "enable", "--root", str(root.path), "--scheduler"]

    def start(scheduler: str) -> subprocess.Popen[bytes]:
        argv = [str(CONSOLE_SCRIPT), *enable, scheduler]
        return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def untorn() -> None:
        for index, now in enumerate(contents(root.path)):
            assert now in (versions["lc"][index], versions["wlc"][index])

    versions: dict[str, tuple[bytes | None, ...]] = {}
    for scheduler in ("lc", "wlc"):  # load both scheduler modules once, and learn both versions of the files
        began = time.monotonic()
        assert start(scheduler).wait() == 0
        versions[scheduler] = contents(root.path)
    runtime = time.monotonic() - began
    assert versions["lc"][0] != versions["wlc"][0] and versions["lc"][1] != versions["wlc"][1]

    # Kills that surely land inside a write: at each fsync of a run that rewrites both files (each file's temp file,
    # then its directory after the rename), from the other scheduler's files.
    written_when_killed: set[str] = set()
    for nth in range(1, 2 * len(TARGETS) + 1):
        for scheduler, other in (("lc", "wlc"), ("wlc", "lc")):
            assert start(other).wait() == 0
            synced = killed_at_fsync([*enable, scheduler], nth, tmp_path / f"paused-{nth}-{scheduler}", env)
            assert synced is not None, f"the run ended before its fsync {nth}"
            untorn()
            if k8snode.core.system.TEMP_MARK in synced.name:  # killed between the temp file's fsync and its rename
                assert temps(root.path) == [synced]
                written_when_killed.add(str(synced.parent / synced.name.split(k8snode.core.system.TEMP_MARK)[0][1:]))
            else:
                assert temps(root.path) == []
    assert written_when_killed == {str(root.path / target) for target in TARGETS}

    # Kills at any moment.
    rng = random.Random(20261126)
    for iteration in range(200):
        process = start("lc" if iteration % 2 else "wlc")
        time.sleep(rng.uniform(0.0, runtime * 1.2))
        process.send_signal(signal.SIGKILL)
        process.wait()
        untorn()
    assert start("lc").wait() == 0  # the next run sweeps what a killed one left
    assert contents(root.path) == versions["lc"]
    assert temps(root.path) == []


@pytest.mark.slow
@pytest.mark.parametrize("processes", [2, 4, 8])
def test_concurrent_enables_agree_and_exactly_one_writes_each_file(fake_root, processes):
    for attempt in range(2):
        root = fake_root("el8.3-4.18", name=f"root-{processes}-{attempt}")
        argv = [str(CONSOLE_SCRIPT), "ipvs", "enable", "--json", "--root", str(root.path)]
        runs = [
            subprocess.Popen(argv, env=root.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(processes)
        ]
        outputs = [(run.wait(timeout=120), *run.communicate()) for run in runs]
        assert [code for code, _, _ in outputs] == [0] * processes, [err for _, _, err in outputs]
        envelopes = [json.loads(out) for _, out, _ in outputs]
        for path in ("/etc/sysconfig/modules/ipvs.modules", "/etc/modules-load.d/ipvs.conf"):
            actions = sorted(f["action"] for e in envelopes for f in e["data"]["files"] if f["path"] == path)
            assert actions == ["created"] + ["unchanged"] * (processes - 1)
        assert sum(e["changed"] for e in envelopes) == 1
        loaded = root.proc_modules()
        assert len(loaded) == len(set(loaded))
        assert {"ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh", "nf_conntrack"} <= set(loaded)
        assert temps(root.path) == []


# SIGKILL at each write of `node prepare`, `node reset` and `kubelet-flags lint --fix` (issue 27): a rerun completes
# the change, and `reset` then gives the host back byte for byte.


def etc_state(root: Path) -> dict[str, tuple[int, bytes]]:
    """/etc as the next boot reads it: each file's and link's type and mode, and its bytes (a link: where it
    points). Directories are left out: `reset` keeps an empty one that `prepare` made (/etc/sysconfig/modules)."""
    state = {}
    for item in sorted((root / "etc").rglob("*")):
        if item.is_symlink() or item.is_file():
            data = os.readlink(item).encode() if item.is_symlink() else item.read_bytes()
            state[str(item.relative_to(root))] = (item.lstat().st_mode, data)
    return state


def files_state(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] != "run"
    }


def landed_in(synced: Path, root: Path) -> str:
    """The file whose write a kill interrupted (its temp file was synced), or the directory an entry just landed
    in (a rename, a link, a removal), relative to the root; a path outside the root fails the test."""
    if k8snode.core.system.TEMP_MARK in synced.name:
        synced = synced.parent / synced.name.rsplit(k8snode.core.system.TEMP_MARK, 1)[0][1:]
    return str(synced.relative_to(root))


def k8snode_run(argv: list[str], env: dict[str, str]) -> int:
    return subprocess.run([str(CONSOLE_SCRIPT), *argv], env=env, capture_output=True).returncode


def test_a_mask_is_recorded_before_it_is_made_so_reset_undoes_a_killed_prepare(host, tmp_path):
    """Killed right after it masked dev-sda2.swap, `prepare` has recorded the mask already: `reset` unmasks it."""
    root = host("debian")
    env, original = root.env(), etc_state(root.path)
    prepare = ["node", "prepare", "--root", str(root.path)]
    synced = killed_at_fsync(prepare, 1, tmp_path / "paused", env, only="/etc/systemd/system")
    assert synced == root.path / "etc/systemd/system"  # the kill landed inside prepare, once the mask was made
    assert (root.path / "etc/systemd/system/dev-sda2.swap").readlink().as_posix() == "/dev/null"
    assert k8snode_run(["node", "reset", "--root", str(root.path)], env) == 0
    assert etc_state(root.path) == original


def test_fix_killed_after_the_configuration_leaves_each_flag_in_one_place_at_least(tmp_path):
    """--fix writes the KubeletConfiguration before the files that stop naming the flags; a rerun completes it."""
    from kubelet_node import fixable_node

    node = tmp_path / "node"
    fixable_node(node)
    fix = ["kubelet-flags", "lint", "--root", str(node), "--fix", "--force"]
    flags_env = (node / "var/lib/kubelet/kubeadm-flags.env").read_bytes()
    # the 2nd fsync of a temp file for kubeadm-flags.env: its own, after the one of its original's copy
    synced = killed_at_fsync(fix, 2, tmp_path / "paused", dict(os.environ), only="/var/lib/kubelet/.kubeadm-flags")
    assert synced is not None and landed_in(synced, node) == "var/lib/kubelet/kubeadm-flags.env"
    assert (
        b"containerRuntimeEndpoint: unix:///run/containerd/containerd.sock"
        in (node / "var/lib/kubelet/config.yaml").read_bytes()
    )
    assert (node / "var/lib/kubelet/kubeadm-flags.env").read_bytes() == flags_env  # not renamed over yet
    assert k8snode_run(fix, dict(os.environ)) == 0
    assert b"--container-runtime-endpoint" not in (node / "var/lib/kubelet/kubeadm-flags.env").read_bytes()


def debian_node(host):  # type: ignore[no-untyped-def]
    """A Debian host with swap on, its fake tools' environment, and the argv of `node prepare` and `node reset`."""
    root = host("debian")
    prepare, reset = (["node", verb, "--root", str(root.path)] for verb in ("prepare", "reset"))
    return root, root.env(), prepare, reset


@pytest.mark.slow
def test_sigkill_at_each_write_of_prepare_then_a_rerun_completes_and_reset_restores_the_host(host, tmp_path):
    root, env, prepare, reset = debian_node(host)
    swaps, original = (root.path / "proc/swaps").read_bytes(), etc_state(root.path)
    assert k8snode_run(prepare, env) == 0
    prepared = etc_state(root.path)
    assert k8snode_run(reset, env) == 0 and etc_state(root.path) == original
    killed_in: set[str] = set()
    for nth in range(1, 100):
        (root.path / "proc/swaps").write_bytes(swaps)  # each run finds swap on, as the first did
        synced = killed_at_fsync(prepare, nth, tmp_path / f"prepare-{nth}", env)
        if synced is None:
            break
        killed_in.add(landed_in(synced, root.path))
        assert k8snode_run(prepare, env) == 0, nth
        assert etc_state(root.path) == prepared, nth
        assert k8snode_run(reset, env) == 0, nth
        assert etc_state(root.path) == original, nth
    changed = {path for path in prepared.keys() | original.keys() if prepared.get(path) != original.get(path)}
    masks = {path for path in changed if path in prepared and stat.S_ISLNK(prepared[path][0])}
    assert masks and changed - masks and changed - masks <= killed_in  # a kill landed inside each file's write
    assert {str(Path(path).parent) for path in masks} <= killed_in  # and after each mask was made


@pytest.mark.slow
def test_sigkill_at_each_write_of_reset_then_a_rerun_restores_the_host(host, tmp_path):
    root, env, prepare, reset = debian_node(host)
    swaps, original = (root.path / "proc/swaps").read_bytes(), etc_state(root.path)
    killed_in: set[str] = set()
    for nth in range(1, 100):
        (root.path / "proc/swaps").write_bytes(swaps)
        assert k8snode_run(prepare, env) == 0
        prepared = etc_state(root.path)
        synced = killed_at_fsync(reset, nth, tmp_path / f"reset-{nth}", env)
        if synced is None:
            assert etc_state(root.path) == original
            break
        killed_in.add(landed_in(synced, root.path))
        assert k8snode_run(reset, env) == 0, nth
        assert etc_state(root.path) == original, nth
    undone = {path for path in prepared if prepared.get(path) != original.get(path)}
    assert {str(Path(path).parent) for path in undone} - {"etc"} <= killed_in  # a kill landed after each removal
    assert "etc/fstab" in killed_in  # and inside fstab's restoring write


@pytest.mark.slow
def test_sigkill_at_each_write_of_lint_fix_then_a_rerun_completes_it(tmp_path):
    from kubelet_node import fixable_node

    reference, node = tmp_path / "reference", tmp_path / "node"
    fixable_node(reference)
    env = dict(os.environ)
    assert k8snode_run(["kubelet-flags", "lint", "--root", str(reference), "--fix", "--force"], env) == 0
    fixed = files_state(reference)
    fix = ["kubelet-flags", "lint", "--root", str(node), "--fix", "--force"]
    killed_in: set[str] = set()
    for nth in range(1, 100):
        if node.exists():
            subprocess.run(["rm", "-rf", str(node)], check=True)
        fixable_node(node)
        synced = killed_at_fsync(fix, nth, tmp_path / f"fix-{nth}", env)
        if synced is None:
            break
        killed_in.add(landed_in(synced, node))
        assert k8snode_run(fix, env) == 0, nth
        assert files_state(node) == fixed, nth
    written = {"var/lib/kubelet/config.yaml", "var/lib/kubelet/kubeadm-flags.env", "etc/default/kubelet"}
    assert written | {f"{path}.k8snode-orig" for path in written} <= killed_in
