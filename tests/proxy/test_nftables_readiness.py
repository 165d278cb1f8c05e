"""`k8snode node check --proxy-mode nftables`: kernel 5.13 or later, nf_tables, and nft 1.0.1 or later.

The kernel is a fake root (tests/fakes.py); nft is a fake on PATH answering --version as the real one does.
"""

from __future__ import annotations

import gzip

import pytest
from fakes import fake_nft, write


def check(cli, root):
    run = cli("node", "check", "--proxy-mode", "nftables", "--root", str(root.path), "--json")
    envelope = run.envelope()
    return run, {item["id"]: item for item in envelope["data"]["nftables"]}, envelope


def test_a_ready_kernel_and_nft_meet_every_requirement(cli, fake_root):
    root = fake_root("deb12-6.1")
    fake_nft(root.bin, "nftables v1.0.6 (Lester Gooch #5)")
    _, found, envelope = check(cli, root)
    assert {key: item["met"] for key, item in found.items()} == {
        "nftables-kernel": True,
        "nf_tables": True,
        "nft": True,
    }
    assert found["nft"]["detail"] == "nft 1.0.6 is 1.0.1 or later"
    assert not any("nft" in problem for problem in envelope["data"]["problems"])


def test_an_old_kernel_and_an_old_nft_are_drift_with_what_to_do(cli, fake_root):
    root = fake_root("el8.3-4.18")
    fake_nft(root.bin, "nftables v0.9.3 (Topsy)")
    write(root.path / "etc/os-release", 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\n')
    run, found, envelope = check(cli, root)
    assert run.exit_code == 1
    assert found["nftables-kernel"]["met"] is False
    assert found["nftables-kernel"]["detail"] == "kernel 4.18.0-240.el8.x86_64 is older than 5.13"
    assert found["nft"]["met"] is False
    assert found["nft"]["hint"].startswith("upgrade nftables to 1.0.1 or later (dnf install nftables)")
    assert envelope["ok"] is False


def test_no_nft_says_what_to_install_for_the_family(cli, fake_root, monkeypatch):
    root = fake_root("ubuntu-5.15")
    monkeypatch.setenv("PATH", str(root.bin))  # the host's own nft does not count
    write(root.path / "etc/os-release", "ID=ubuntu\nID_LIKE=debian\n")
    run, found, _ = check(cli, root)
    assert run.exit_code == 1
    assert found["nft"] == {
        "id": "nft",
        "met": False,
        "detail": "nft is not on PATH",
        "hint": "install nftables (apt-get install nftables)",
    }


@pytest.mark.parametrize(
    ("config", "met", "detail"),
    [
        ("CONFIG_NF_TABLES=y\n", True, "nf_tables is built in (CONFIG_NF_TABLES=y in /proc/config.gz)"),
        (
            "# CONFIG_NF_TABLES is not set\n",
            False,
            "nf_tables is missing from kernel 6.18.44-fc-v657 (# CONFIG_NF_TABLES is not set in /proc/config.gz)",
        ),
    ],
)
def test_a_kernel_without_modules_is_read_from_its_config(cli, fake_root, config, met, detail):
    """This machine's kernel: no loadable modules, and a built-in nf_tables is not listed under /sys/module."""
    root = fake_root("nonmodular-6.18")
    (root.path / "proc/config.gz").write_bytes(gzip.compress(config.encode()))
    fake_nft(root.bin, "nftables v1.0.6 (Lester Gooch #5)")
    _, found, _ = check(cli, root)
    assert (found["nf_tables"]["met"], found["nf_tables"]["detail"]) == (met, detail)


def test_other_modes_have_no_nftables_report(cli, fake_root):
    root = fake_root("deb12-6.1")
    run = cli("node", "check", "--proxy-mode", "iptables", "--root", str(root.path), "--json")
    assert "nftables" not in run.envelope()["data"]
