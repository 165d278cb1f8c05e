"""Secrets: the bootstrap token never shown, directories and the lock file no other user can abuse."""

from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path

import pytest
from fakes import make_node, write

from k8snode.core.system import System

OUT = "/etc/kubernetes/init-config.yaml"
OLD = "aaaaaa.1111111111111111"
NEW = "bbbbbb.2222222222222222"


@pytest.fixture
def node(tmp_path: Path) -> Path:
    return make_node(tmp_path / "node")


def shown(run) -> str:  # type: ignore[no-untyped-def]
    return run.stdout + run.stderr


def test_rotating_the_token_shows_neither_token_in_the_dry_run_diff(cli, node):
    assert cli("kubeadm-config", "--out", OUT, "--token", OLD, "--root", str(node)).exit_code == 0
    for extra in ([], ["--json"]):
        run = cli("kubeadm-config", "--out", OUT, "--token", NEW, "--dry-run", "--root", str(node), *extra)
        assert run.exit_code == 0, run.stderr
        assert "<redacted>" in shown(run)
        assert OLD not in shown(run) and NEW not in shown(run)
        assert "1111111111111111" not in shown(run) and "2222222222222222" not in shown(run)


def test_the_token_of_a_patch_source_is_not_in_the_diff(cli, node):
    source = node / "root/init.yaml"
    write(
        source,
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n"
        f"- token: {OLD}\nlocalAPIEndpoint:\n  advertiseAddress: 192.0.2.10\n---\n"
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.37.2\n",
    )
    run = cli("kubeadm-config", "--patch", "/root/init.yaml", "--out", OUT, "--dry-run", "--json", "--root", str(node))
    assert run.exit_code == 0, run.stderr
    assert "token: <redacted>" in run.envelope()["data"]["diff"]
    assert OLD not in shown(run)


def test_a_token_with_a_trailing_newline_is_refused(cli, node):
    run = cli("kubeadm-config", "--token", OLD + "\n", "--root", str(node))
    assert run.exit_code == 2 and "--token" in run.stderr
    assert OLD not in run.stderr


def test_a_token_set_through_set_stays_out_of_the_header(cli, node):
    run = cli(
        "kubeadm-config",
        "--kubernetes-version",
        "v1.10.13",
        "--set",
        f"MasterConfiguration.token={OLD}",
        "--out",
        OUT,
        "--root",
        str(node),
    )
    assert run.exit_code == 0, run.stderr
    header, body = (node / OUT.lstrip("/")).read_text().split("\n", 1)
    assert OLD not in header and "MasterConfiguration.token=<redacted>" in header
    assert f"token: {OLD}" in body  # the file itself holds it: kubeadm needs it
    assert OLD not in shown(run)


def test_every_message_is_redacted_at_the_edge(cli, node):
    # A token-shaped value in a refused --set path reaches an error message: it is redacted there too.
    run = cli("kubeadm-config", "--set", f"ClusterConfiguration.{OLD}=x", "--root", str(node))
    assert run.exit_code == 2 and OLD not in run.stderr and "<redacted>" in run.stderr


@pytest.mark.parametrize(
    ("argv", "created"),
    [
        (["ipvs", "enable", "--persist", "both"], ["etc/sysconfig", "etc/sysconfig/modules", "etc/modules-load.d"]),
        (["kubeadm-config", "--out", OUT], ["etc/kubernetes"]),
    ],
)
def test_directories_are_0755_whatever_the_umask(cli, fake_root, argv, created):
    root = fake_root("deb12-6.1")
    make_node(root.path)
    old = os.umask(0)
    try:
        run = cli(*argv, "--root", str(root.path))
    finally:
        os.umask(old)
    assert run.exit_code == 0, run.stderr
    for directory in created:
        assert stat.S_IMODE((root.path / directory).stat().st_mode) == 0o755, directory


def test_a_token_is_reused_only_from_a_private_file_of_the_caller(cli, node):
    assert cli("kubeadm-config", "--out", OUT, "--token", OLD, "--root", str(node)).exit_code == 0
    target = node / OUT.lstrip("/")
    assert cli("kubeadm-config", "--out", OUT, "--root", str(node)).exit_code == 0
    assert OLD in target.read_text()  # 0600 and ours: reused, so a re-run changes nothing
    target.chmod(0o640)
    run = cli("kubeadm-config", "--out", OUT, "--root", str(node))
    assert run.exit_code == 0 and "not reusing the bootstrap token" in run.stderr
    assert OLD not in target.read_text() and stat.S_IMODE(target.stat().st_mode) == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_a_token_planted_by_another_user_is_not_reused(cli, node):
    target = node / OUT.lstrip("/")
    assert cli("kubeadm-config", "--out", OUT, "--token", OLD, "--root", str(node)).exit_code == 0
    os.chown(target, 65534, 65534)
    run = cli("kubeadm-config", "--out", OUT, "--force", "--root", str(node))
    assert run.exit_code == 0 and "owned by uid 65534" in run.stderr
    assert OLD not in target.read_text()


def test_the_lock_file_is_0600_whatever_the_umask_and_names_its_holder(cli, node):
    old = os.umask(0)
    try:
        assert cli("kubeadm-config", "--out", OUT, "--root", str(node)).exit_code == 0
    finally:
        os.umask(old)
    lock = node / "run/k8snode.lock"
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600
    assert lock.read_text().startswith(f"pid {os.getpid()} (k8snode kubeadm-config) since ")


def test_a_lock_file_open_to_others_and_held_by_one_of_them_is_replaced(cli, node, monkeypatch):
    """Left 0644 by an older k8snode or by hand: any user may have opened it and hold it; root replaces it."""
    monkeypatch.setenv("K8SNODE_LOCK_WAIT", "0.5")
    lock = node / "run/k8snode.lock"
    write(lock, "", mode=0o644)
    with lock.open("r") as held:  # what any user can do with a 0644 file
        fcntl.flock(held, fcntl.LOCK_EX)
        run = cli("kubeadm-config", "--out", OUT, "--root", str(node))
        assert run.exit_code == 0, run.stderr
        assert os.fstat(held.fileno()).st_ino != lock.stat().st_ino
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600
    assert lock.read_text().startswith(f"pid {os.getpid()} (k8snode kubeadm-config) since ")
    assert sorted(p.name for p in lock.parent.iterdir()) == ["k8snode.lock"]


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_a_lock_file_owned_by_someone_else_is_replaced(cli, node, monkeypatch):
    monkeypatch.setenv("K8SNODE_LOCK_WAIT", "0.5")
    lock = node / "run/k8snode.lock"
    write(lock, "", mode=0o600)
    os.chown(lock, 65534, 65534)
    with lock.open("r") as held:  # its owner holds it
        fcntl.flock(held, fcntl.LOCK_EX)
        run = cli("kubeadm-config", "--out", OUT, "--root", str(node))
    assert run.exit_code == 0, run.stderr
    assert (lock.stat().st_uid, stat.S_IMODE(lock.stat().st_mode)) == (0, 0o600)
    assert (node / OUT.lstrip("/")).exists()


def test_a_waiting_run_names_the_holder(cli, node, monkeypatch):
    monkeypatch.setenv("K8SNODE_LOCK_WAIT", "1.5")
    write(node / "run/k8snode.lock", "pid 4242 (k8snode ipvs enable) since 2026-11-29 12:00:00 UTC\n", mode=0o600)
    with (node / "run/k8snode.lock").open("r") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        run = cli("kubeadm-config", "--out", OUT, "--root", str(node))
    assert run.exit_code == 3
    assert "k8snode: waiting up to 1.5 s for /run/k8snode.lock, held by pid 4242 (k8snode ipvs enable)" in run.stderr
    assert "(held by pid 4242 (k8snode ipvs enable) since 2026-11-29 12:00:00 UTC)" in run.stderr


def test_a_user_who_cannot_write_run_locks_in_their_runtime_directory(tmp_path, monkeypatch):
    root = tmp_path / "root"
    (root / "run").mkdir(parents=True)
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda path, mode: False if str(path).startswith(str(root)) else real_access(path, mode)
    )
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    system = System(root)
    assert str(system.lock_path()) == f"{tmp_path}/k8snode.lock"
    with system.lock():
        assert (tmp_path / "k8snode.lock").read_text().startswith("pid ")
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert system.lock_path() is None
    with system.lock():  # no place to lock: the run goes on, and never ends in an internal error
        pass
