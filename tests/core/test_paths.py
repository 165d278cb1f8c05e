"""Paths and bounded reads, input files and --out: where k8snode reads and writes, and what."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import CONSOLE_SCRIPT
from fakes import make_node, snapshot, write

OUT = "/etc/kubernetes/init-config.yaml"
SYSCONFIG = "etc/sysconfig/modules/ipvs.modules"


@pytest.fixture
def node(tmp_path: Path) -> Path:
    return make_node(tmp_path / "node")


def test_a_symlinked_parent_leading_out_of_the_root_is_refused_for_writes(cli, fake_root, tmp_path):
    root = fake_root("deb12-6.1")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(root.path / "etc/sysconfig", ignore_errors=True)
    (root.path / "etc/sysconfig").symlink_to(elsewhere)
    run = cli("ipvs", "enable", "--persist", "sysconfig", "--root", str(root.path))
    assert run.exit_code == 3, run.stderr
    assert "/etc/sysconfig leads outside --root" in run.stderr and run.stderr.count("\n") == 1
    assert list(elsewhere.iterdir()) == []


def test_a_symlinked_parent_leading_out_of_the_root_is_refused_for_removals(cli, fake_root, tmp_path):
    root = fake_root("deb12-6.1")
    assert cli("ipvs", "enable", "--persist", "sysconfig", "--root", str(root.path)).exit_code == 0
    elsewhere = tmp_path / "elsewhere"
    (root.path / "etc/sysconfig").rename(elsewhere)
    (root.path / "etc/sysconfig").symlink_to(elsewhere)
    run = cli("ipvs", "disable", "--root", str(root.path))
    assert run.exit_code == 3 and "/etc/sysconfig leads outside --root" in run.stderr
    assert (elsewhere / "modules/ipvs.modules").exists()


def test_kubeadm_config_out_does_not_escape_through_a_linked_directory(cli, node, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (node / "etc").mkdir(exist_ok=True)
    (node / "etc/kubernetes").symlink_to(elsewhere)
    run = cli("kubeadm-config", "--out", OUT, "--root", str(node))
    assert run.exit_code == 3 and "/etc/kubernetes leads outside --root" in run.stderr
    assert list(elsewhere.iterdir()) == []


def test_a_link_that_stays_inside_the_root_is_followed(cli, fake_root):
    root = fake_root("deb12-6.1")
    (root.path / "usr/etc-sysconfig").mkdir(parents=True)
    shutil.rmtree(root.path / "etc/sysconfig", ignore_errors=True)
    (root.path / "etc/sysconfig").symlink_to("../usr/etc-sysconfig")
    assert cli("ipvs", "enable", "--persist", "sysconfig", "--root", str(root.path)).exit_code == 0
    assert (root.path / "usr/etc-sysconfig/modules/ipvs.modules").exists()


def test_an_empty_k8snode_root_is_refused_like_an_empty_root_option(cli, monkeypatch):
    monkeypatch.setenv("K8SNODE_ROOT", "")
    run = cli("ipvs", "check")
    assert run.exit_code == 2 and "K8SNODE_ROOT is set but empty" in run.stderr and run.stderr.count("\n") == 1
    assert cli("ipvs", "check", "--root", "").exit_code == 2


def test_force_replaces_a_symlinked_out(cli, node, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    (node / "etc/kubernetes").mkdir(parents=True)
    (node / OUT.lstrip("/")).symlink_to(victim)
    refused = cli("kubeadm-config", "--out", OUT, "--root", str(node))
    assert refused.exit_code == 3 and "is a symlink" in refused.stderr
    run = cli("kubeadm-config", "--out", OUT, "--force", "--root", str(node))
    assert run.exit_code == 0, run.stderr
    assert not (node / OUT.lstrip("/")).is_symlink() and victim.read_text() == "keep me\n"


def test_validate_reads_a_relative_file_outside_the_root_and_a_symlinked_one(cli, node, tmp_path, monkeypatch):
    assert cli("kubeadm-config", "--out", OUT, "--root", str(node)).exit_code == 0
    rendered = (node / OUT.lstrip("/")).read_bytes()
    (tmp_path / "x.yaml").write_bytes(rendered)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    run = cli("validate", "../x.yaml")
    assert run.exit_code == 0, run.stderr
    assert run.stdout.startswith(f"{tmp_path}/x.yaml is valid")
    assert cli("validate", "../x.yaml", "--root", str(node)).exit_code == 0  # an input is no path under the root
    (node / "etc/kubernetes/link.yaml").symlink_to("init-config.yaml")
    assert cli("validate", "/etc/kubernetes/link.yaml", "--root", str(node)).exit_code == 0
    patched = cli("kubeadm-config", "--patch", "/etc/kubernetes/link.yaml", "--root", str(node))
    assert patched.exit_code == 0, patched.stderr


def test_validate_exits_2_for_an_unreadable_file(cli, node):
    write(node / "etc/kubernetes/file", "x\n")
    run = cli("validate", "/etc/kubernetes/file/cfg.yaml", "--root", str(node))
    assert run.exit_code == 2 and "cannot read it: Not a directory" in run.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", "/fifo"],
        ["kubeadm-config", "--patch", "/fifo"],
        ["kubeadm-config", "--out", "/fifo"],
        ["kubelet-flags", "--out", "/fifo"],
        ["kubelet-flags", "--out", "/fifo", "--dry-run"],
    ],
)
def test_a_fifo_is_refused_at_once_not_read(cli, node, argv):
    os.mkfifo(node / "fifo")
    run = cli(*argv, "--root", str(node))
    assert run.exit_code == 2, run.stderr
    assert "is not a regular file" in run.stderr and run.stderr.count("\n") == 1
    assert stat.S_ISFIFO((node / "fifo").lstat().st_mode)


def test_a_device_is_refused_without_reading_it(cli):
    run = cli("validate", "/dev/zero")
    assert run.exit_code == 2 and "/dev/zero is not a regular file" in run.stderr


def test_relative_out_follows_one_rule_for_both_commands(cli, tmp_path, monkeypatch):
    make_node(tmp_path)
    monkeypatch.chdir(tmp_path)
    flags = cli("kubelet-flags", "--out", "flags.txt", "--dry-run", "--json")
    config = cli("kubeadm-config", "--out", "init.yaml", "--advertise-address", "192.0.2.10", "--dry-run", "--json")
    assert flags.exit_code == 0 and config.exit_code == 0, flags.stderr + config.stderr
    assert flags.envelope()["data"]["files"][0]["path"] == f"{tmp_path}/flags.txt"
    assert config.envelope()["data"]["path"] == f"{tmp_path}/init.yaml"
    for argv in (["kubelet-flags", "--out", "flags.txt"], ["kubeadm-config", "--out", "init.yaml"]):
        run = cli(*argv, "--root", str(tmp_path))
        assert run.exit_code == 2 and "must be an absolute path on the target system when --root is given" in run.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["kubeadm-config", "--out", "/etc/kubernets/init.yaml"],
        ["kubelet-flags", "--out", "/etc/kubernets/flags"],
    ],
)
def test_out_creates_no_directory_outside_the_conventional_ones(cli, node, argv):
    (node / "etc").mkdir()
    before = snapshot(node)
    run = cli(*argv, "--root", str(node))
    assert run.exit_code == 2
    assert "directory /etc/kubernets does not exist" in run.stderr and run.stderr.count("\n") == 1
    assert snapshot(node) == before


def test_internal_errors_under_debug_do_not_ask_for_debug(cli, node, monkeypatch):
    import k8snode.kubeadm.render

    def boom(*_args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(k8snode.kubeadm.render, "_check", boom)
    plain = cli("kubeadm-config", "--root", str(node))
    debug = cli("kubeadm-config", "--root", str(node), "--debug")
    assert "rerun with --debug" in plain.stderr
    assert debug.exit_code == 3 and "internal error: RuntimeError: boom" in debug.stderr
    assert "rerun with --debug" not in debug.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to another user needs root (CI runs as root)")
def test_a_non_root_user_writes_into_their_own_directory_without_an_internal_error(k8snode):
    home = Path(tempfile.mkdtemp(prefix="k8snode-nobody-"))  # under /tmp: pytest's tmp_path is private to root
    home.chmod(0o755)
    os.chown(home, 65534, 65534)
    try:
        env = {key: value for key, value in os.environ.items() if key != "XDG_RUNTIME_DIR"}
        as_nobody = ["--reuid", "65534", "--regid", "65534", "--clear-groups", "--"]
        usable = subprocess.run(["setpriv", *as_nobody, sys.executable, "-c", "pass"], capture_output=True, text=True)
        if usable.returncode != 0:  # pyenv's shared-library builds keep libpython under /root, which is 0700
            pytest.skip(f"uid 65534 cannot start {sys.executable} here: {usable.stderr.strip()}")
        for argv, name in (
            (["kubelet-flags", "--out", str(home / "flags")], "flags"),
            (["kubeadm-config", "--advertise-address", "192.0.2.10", "--out", str(home / "init.yaml")], "init.yaml"),
        ):
            done = subprocess.run(
                ["setpriv", *as_nobody, str(CONSOLE_SCRIPT), *argv],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
            )
            assert done.returncode == 0, done.stderr
            assert "internal error" not in done.stderr
            assert (home / name).stat().st_uid == 65534
    finally:
        shutil.rmtree(home)


@pytest.mark.parametrize(
    ("linked", "act"),
    [
        ("etc/systemd", lambda system: system.symlink_atomic("/etc/systemd/system/dev-sda2.swap", "/dev/null")),
        ("proc/sys", lambda system: system.write_in_place("/proc/sys/net/ipv4/ip_forward", b"1\n")),
        ("etc/k8snode", lambda system: system.remove_empty_directory("/etc/k8snode/empty")),
    ],
)
def test_masks_proc_sys_writes_and_directory_removal_stay_inside_the_root(tmp_path, linked, act):
    from k8snode.core.errors import K8snodeError
    from k8snode.core.system import System

    root, elsewhere = tmp_path / "root", tmp_path / "elsewhere"
    for directory in ("systemd/system", "net/ipv4", "empty"):
        (elsewhere / directory).mkdir(parents=True)
    (elsewhere / "net/ipv4/ip_forward").write_text("0\n")
    (root / linked).parent.mkdir(parents=True)
    (root / linked).symlink_to(elsewhere)
    before = snapshot(elsewhere)
    with pytest.raises(K8snodeError, match="leads outside --root") as raised:
        act(System(root))
    assert raised.value.code == 3
    assert snapshot(elsewhere) == before
    assert (elsewhere / "empty").is_dir()
