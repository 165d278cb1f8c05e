"""The IPVS modules as a real kernel showed them: the boot script's status, the hints for a kernel built without a
module, and which modules --unload touches."""

from __future__ import annotations

import gzip
import subprocess

import pytest
from fakes import write

SYSCONFIG = "etc/sysconfig/modules/ipvs.modules"


def test_the_boot_script_tries_every_module_and_fails_naming_the_ones_that_did_not_load(fake_root, cli):
    root = fake_root("deb12-6.1")
    assert cli("ipvs", "enable", "--persist", "sysconfig", "--root", str(root.path)).exit_code == 0
    (root.path / "proc/modules").write_text("")  # a fresh boot: nothing loaded
    (root.path / "fake").mkdir(exist_ok=True)
    (root.path / "fake/modprobe.calls").unlink(missing_ok=True)
    root.refuse("ip_vs_rr")
    env = root.env()
    done = subprocess.run(["bash", str(root.path / SYSCONFIG)], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().endswith("ipvs.modules: could not load: ip_vs_rr")
    calls = root.modprobe_calls()
    assert any("ip_vs_sh" in call for call in calls) and any("nf_conntrack" in call for call in calls)
    root.refuse()
    (root.path / "proc/modules").write_text("")
    ok = subprocess.run(["bash", str(root.path / SYSCONFIG)], capture_output=True, text=True, env=env, timeout=60)
    assert ok.returncode == 0, ok.stderr


def _config(root, text: str) -> None:  # type: ignore[no-untyped-def]
    (root.path / "proc/config.gz").write_bytes(gzip.compress(text.encode()))


def test_a_kernel_built_without_the_scheduler_says_so_and_names_no_package(fake_root, cli):
    root = fake_root("no-mh-6.1")
    _config(root, "CONFIG_IP_VS=m\n# CONFIG_IP_VS_MH is not set\n")
    write(root.path / "etc/os-release", "ID=debian\n")
    run = cli("ipvs", "enable", "--scheduler", "mh", "--root", str(root.path))
    assert run.exit_code == 3
    assert "was built without ip_vs_mh (# CONFIG_IP_VS_MH is not set in /proc/config.gz)" in run.stderr
    assert "install" not in run.stderr


@pytest.mark.parametrize(
    ("os_release", "hint"),
    [
        ("ID=ubuntu\nID_LIKE=debian\n", "install linux-modules-extra-6.1.0-28-amd64"),
        ('ID="rocky"\nID_LIKE="rhel centos fedora"\n', "install kernel-modules-extra"),
        ("ID=debian\n", "Debian ships no extra-modules package"),
    ],
)
def test_the_extra_modules_hint_names_a_package_only_where_the_family_has_one(fake_root, cli, os_release, hint):
    root = fake_root("no-mh-6.1")
    write(root.path / "etc/os-release", os_release)
    run = cli("ipvs", "enable", "--scheduler", "mh", "--root", str(root.path))
    assert run.exit_code == 3 and hint in run.stderr
    if "debian" in os_release and "ubuntu" not in os_release:
        assert "linux-modules-extra" not in run.stderr


def test_unload_touches_only_the_modules_the_removed_files_listed_unless_all(fake_root, cli):
    root = fake_root("deb12-6.1")
    assert cli("ipvs", "enable", "--root", str(root.path)).exit_code == 0
    modules = root.path / "proc/modules"
    modules.write_text(modules.read_text() + "ip_vs_lc 16384 0 - Live 0x0\n")  # loaded by someone else
    dry = cli("ipvs", "disable", "--unload", "--dry-run", "--root", str(root.path), "--json")
    assert "ip_vs_lc" not in {m["name"] for m in dry.envelope()["data"]["modules"]}
    every = cli("ipvs", "disable", "--unload", "--all", "--dry-run", "--root", str(root.path), "--json")
    assert "ip_vs_lc" in {m["name"] for m in every.envelope()["data"]["modules"]}
    run = cli("ipvs", "disable", "--unload", "--root", str(root.path), "--json")
    assert run.exit_code == 0, run.stderr
    assert "ip_vs_lc" in root.proc_modules() and "ip_vs_rr" not in root.proc_modules()
