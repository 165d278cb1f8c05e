"""Crash safety and concurrency of k8snode's writes: faults at each step, SIGKILL mid-run, racing processes."""

from __future__ import annotations

import json
import os
import random
import signal
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


# k8snode run as `python -m k8snode` with its fsyncs (os.fsync) counted: at the Nth it writes what was synced (the
# temp file of a write in progress, or the directory a rename just landed in) to MARKER and waits to be killed.
PAUSE_AT_FSYNC = """
import os, runpy, sys, time
marker, nth, synced = sys.argv[1], int(sys.argv[2]), []
fsync = os.fsync
def counted(fd):
    fsync(fd)
    synced.append(fd)
    if len(synced) == nth:
        with open(marker + ".part", "w") as out:
            out.write(os.readlink(f"/proc/self/fd/{fd}"))
        os.rename(marker + ".part", marker)
        time.sleep(600)
os.fsync = counted
sys.argv = ["k8snode", *sys.argv[3:]]
runpy.run_module("k8snode", run_name="__main__", alter_sys=True)
"""


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
            marker = tmp_path / f"paused-{nth}-{scheduler}"
            argv = [sys.executable, "-c", PAUSE_AT_FSYNC, str(marker), str(nth), *enable, scheduler]
            process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 60
            while not marker.exists():
                assert process.poll() is None, f"the run ended before its fsync {nth}"
                assert time.monotonic() < deadline
                time.sleep(0.01)
            process.send_signal(signal.SIGKILL)
            process.wait()
            untorn()
            synced = Path(marker.read_text())
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
