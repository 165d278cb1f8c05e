"""`k8snode node check | prepare | reset` on fake hosts laid out as each distribution installs them."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from fakes import FSTAB_HEAD, snapshot, write
from required import unavailable

SYSCTL_FILE = "etc/sysctl.d/k8snode.conf"
MODULES_LOAD = "etc/modules-load.d/k8snode.conf"
SYSCONFIG = "etc/sysconfig/modules/k8snode.modules"
MASK_RECORD = "etc/k8snode/masked-swap-units"
WANTED = {
    "net.ipv4.ip_forward": "1",
    "net.bridge.bridge-nf-call-iptables": "1",
    "net.bridge.bridge-nf-call-ip6tables": "1",
}
IPVS = ["ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh"]


def proc(root, key: str) -> str:
    return (root.path / "proc/sys" / key.replace(".", "/")).read_text().strip()


def active_swaps(root) -> list[str]:
    return [line.split()[0] for line in (root.path / "proc/swaps").read_text().splitlines()[1:]]


@pytest.mark.parametrize(
    ("layout", "swap_unit"),
    [
        ("debian", "dev-sda2.swap"),
        ("ubuntu", "swap.img.swap"),
        ("rhel", "dev-dm\\x2d1.swap"),
        ("fedora-zram", "dev-zram0.swap"),
    ],
)
def test_prepare_on_each_layout_then_check_passes_and_reset_restores(host, cli, layout, swap_unit):
    root = host(layout)
    fstab_before = (root.path / "etc/fstab").read_bytes()
    assert cli("node", "check", "--root", str(root.path)).exit_code == 1

    run = cli("node", "prepare", "--root", str(root.path), "--json")
    assert run.exit_code == 0, run.stdout + run.stderr
    envelope = run.envelope()
    assert envelope["ok"] and envelope["changed"]
    data = envelope["data"]
    # br_netfilter is loaded before its keys are set: they exist only then
    assert set(root.proc_modules()) >= {"br_netfilter", "overlay", *IPVS, "nf_conntrack"}
    assert {key: proc(root, key) for key in WANTED} == WANTED
    assert [s["boot_source"] for s in data["sysctls"]] == [f"/{SYSCTL_FILE}:{n}" for n in (5, 6, 7)]
    assert data["ipvs"]["modules"][0]["name"] == "ip_vs"  # the `ipvs enable` plan, in the same run
    assert active_swaps(root) == []
    assert (root.path / "etc/systemd/system" / swap_unit).readlink().as_posix() == "/dev/null"
    assert swap_unit in (root.path / MASK_RECORD).read_text().splitlines()
    conf = root.path / MODULES_LOAD
    assert [line for line in conf.read_text().splitlines() if not line.startswith("#")] == ["br_netfilter", "overlay"]
    assert stat.S_IMODE(conf.stat().st_mode) == 0o644
    assert (root.path / SYSCTL_FILE).read_text().startswith("# Written by k8snode 0.1.0 (k8snode node prepare)")
    fstab = (root.path / "etc/fstab").read_bytes()
    if layout == "fedora-zram":
        assert fstab == fstab_before
        zram = (root.path / "etc/systemd/zram-generator.conf").read_text().splitlines()
        assert [line for line in zram if not line.startswith("#")] == []  # no [zramN] section: no device
    else:
        swap_line = fstab_before.splitlines(keepends=True)[-1]
        assert fstab == fstab_before.replace(swap_line, b"#k8snode-swap-off# " + swap_line)
        assert (root.path / "etc/fstab.k8snode-orig").read_bytes() == fstab_before

    check = cli("node", "check", "--root", str(root.path), "--json")
    assert check.exit_code == 0, check.stdout
    assert check.envelope()["data"]["problems"] == []

    reset = cli("node", "reset", "--root", str(root.path), "--json")
    assert reset.exit_code == 0, reset.stdout + reset.stderr
    assert (root.path / "etc/fstab").read_bytes() == fstab_before
    for path in (SYSCTL_FILE, MODULES_LOAD, SYSCONFIG, MASK_RECORD, "etc/k8snode", "etc/fstab.k8snode-orig"):
        assert not (root.path / path).exists(), path
    assert not (root.path / "etc/systemd/system" / swap_unit).is_symlink()
    assert not (root.path / "etc/systemd/zram-generator.conf").exists()
    assert not (root.path / "etc/modules-load.d/ipvs.conf").exists()


def test_rhel_layout_gets_the_sysconfig_script_that_el7_runs_at_boot(host, cli):
    root = host("rhel")
    assert cli("node", "prepare", "--root", str(root.path)).exit_code == 0
    script = root.path / SYSCONFIG
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    lines = script.read_text().splitlines()
    assert lines[0] == "#!/bin/bash"
    assert [line for line in lines if not line.startswith("#")] == ["modprobe -- br_netfilter", "modprobe -- overlay"]


def test_second_prepare_changes_nothing_and_touches_no_file(host, cli):
    root = host("debian")
    assert cli("node", "prepare", "--root", str(root.path)).exit_code == 0
    before = root.snapshot()
    calls = (root.modprobe_calls(), (root.path / "fake/swapoff.calls").read_text())
    run = cli("node", "prepare", "--root", str(root.path), "--json")
    assert run.exit_code == 0
    assert run.envelope()["changed"] is False
    assert root.snapshot() == before  # mtimes, modes and bytes
    assert (root.modprobe_calls(), (root.path / "fake/swapoff.calls").read_text()) == calls


def test_dry_run_touches_nothing_and_shows_the_diffs(host, cli):
    root = host("ubuntu")
    before = root.snapshot()
    run = cli("node", "prepare", "--dry-run", "--root", str(root.path), "--json")
    assert run.exit_code == 0, run.stdout
    data = run.envelope()["data"]
    assert root.snapshot() == before
    assert root.modprobe_calls() == []
    assert not (root.path / "fake/swapoff.calls").exists()
    assert "+#k8snode-swap-off# /swap.img" in data["diffs"]["/etc/fstab"]
    assert "+net.ipv4.ip_forward = 1" in data["diffs"][f"/{SYSCTL_FILE}"]
    assert {s["action"] for s in data["sysctls"]} == {"would-set"}
    assert data["swap"]["swapoff"] == [{"device": "/swap.img", "action": "would-swapoff"}]
    # reset's dry run after a real prepare touches nothing either
    assert cli("node", "prepare", "--root", str(root.path)).exit_code == 0
    before = root.snapshot()
    run = cli("node", "reset", "--dry-run", "--root", str(root.path), "--json")
    assert run.exit_code == 0
    assert root.snapshot() == before
    assert {f["path"]: f["action"] for f in run.envelope()["data"]["files"]}["/etc/fstab"] == "would-restore"


def test_sysctl_conf_that_turns_forwarding_off_at_boot_is_named(host, cli):
    root = host("debian")
    write(root.path / "etc/sysctl.conf", "# local\nnet.ipv4.ip_forward = 0\n")
    run = cli("node", "prepare", "--root", str(root.path), "--json")
    assert run.exit_code == 1
    envelope = run.envelope()
    assert envelope["changed"] is True and envelope["error"] is None
    assert proc(root, "net.ipv4.ip_forward") == "1"  # applied now; the reboot would undo it
    [problem] = envelope["data"]["problems"]
    assert problem.startswith("net.ipv4.ip_forward = 0 after a reboot: /etc/sysctl.conf:2 overrides")
    assert (root.path / "etc/sysctl.conf").read_text() == "# local\nnet.ipv4.ip_forward = 0\n"  # never edited
    check = cli("node", "check", "--root", str(root.path), "--json")
    assert check.exit_code == 1
    assert check.envelope()["data"]["problems"] == [problem]


def test_later_sysctl_d_file_and_slash_keys_are_followed(host, cli):
    root = host("debian")
    write(root.path / "usr/lib/sysctl.d/zz-vendor.conf", "net/bridge/bridge-nf-call-iptables=0\r\n")
    write(root.path / "etc/sysctl.d/zz-vendor.conf", "# the admin's copy masks the vendor's\n")
    assert cli("node", "prepare", "--root", str(root.path)).exit_code == 0
    (root.path / "etc/sysctl.d/zz-vendor.conf").unlink()
    run = cli("node", "check", "--root", str(root.path), "--json")
    assert run.exit_code == 1
    assert run.envelope()["data"]["problems"] == [
        "net.bridge.bridge-nf-call-iptables = 0 after a reboot: /usr/lib/sysctl.d/zz-vendor.conf:1 overrides "
        f"/{SYSCTL_FILE}; remove that line or set it to 1"
    ]


def test_blacklisted_br_netfilter_is_reported_with_its_file_and_line(host, cli):
    root = host("debian")
    write(root.path / "etc/modprobe.d/local.conf", "options foo bar=1\nblacklist br_netfilter\n")
    write(root.path / "usr/lib/modprobe.d/ipvs.conf", "install ip_vs /bin/false\n")
    run = cli("node", "prepare", "--root", str(root.path), "--json")
    assert run.exit_code == 1
    assert run.envelope()["data"]["problems"] == [  # in kmod's order: by basename
        "/usr/lib/modprobe.d/ipvs.conf:1 replaces loading ip_vs with /bin/false",
        "/etc/modprobe.d/local.conf:2 blacklists br_netfilter: systemd-modules-load will not load it at boot",
    ]


def test_swap_keep_leaves_swap_alone_and_says_what_the_kubelet_needs(host, cli):
    root = host("debian")
    before = (root.path / "etc/fstab").read_bytes()
    run = cli("node", "prepare", "--swap", "keep", "--root", str(root.path), "--json")
    assert run.exit_code == 0
    envelope = run.envelope()
    assert active_swaps(root) == ["/dev/sda2"]
    assert (root.path / "etc/fstab").read_bytes() == before
    assert not (root.path / "etc/systemd/system/dev-sda2.swap").exists()
    assert any("failSwapOn: false" in w for w in envelope["warnings"])
    assert cli("node", "check", "--swap", "keep", "--root", str(root.path)).exit_code == 0


@pytest.mark.parametrize(("family", "ipv6"), [("ipv4", False), ("ipv6", True), ("dual", True)])
def test_nftables_mode_and_ip_families(host, cli, family, ipv6):
    root = host("debian")
    run = cli("node", "prepare", "--proxy-mode", "nftables", "--ip-family", family, "--root", str(root.path), "--json")
    assert run.exit_code == 0, run.stdout
    data = run.envelope()["data"]
    assert data["ipvs"] is None
    assert "ip_vs" not in root.proc_modules() and "nf_tables" in root.proc_modules()
    assert not (root.path / "etc/modules-load.d/ipvs.conf").exists()
    keys = [s["key"] for s in data["sysctls"]]
    assert ("net.ipv6.conf.all.forwarding" in keys) is ipv6
    assert proc(root, "net.ipv6.conf.all.forwarding") == ("1" if ipv6 else "0")


def test_reset_leaves_what_k8snode_did_not_do(host, cli):
    root = host("debian")
    (root.path / "etc/systemd/system").mkdir(parents=True, exist_ok=True)
    (root.path / "etc/systemd/system/old.swap").symlink_to("/dev/null")  # the admin's own mask
    assert cli("node", "prepare", "--root", str(root.path)).exit_code == 0
    write(root.path / "etc/systemd/zram-generator.conf", "[zram0]\n")  # not k8snode's
    run = cli("node", "reset", "--root", str(root.path), "--json")
    assert run.exit_code == 0
    assert (root.path / "etc/systemd/system/old.swap").is_symlink()
    assert (root.path / "etc/systemd/zram-generator.conf").read_text() == "[zram0]\n"
    assert any("zram-generator.conf was not written by k8snode" in w for w in run.envelope()["warnings"])
    again = cli("node", "reset", "--root", str(root.path), "--json")
    assert again.exit_code == 0 and again.envelope()["changed"] is False


def test_reset_keeps_the_copy_when_fstab_was_edited_since(host, cli):
    root = host("debian")
    assert cli("node", "prepare", "--root", str(root.path)).exit_code == 0
    with (root.path / "etc/fstab").open("a") as fstab:
        fstab.write("tmpfs /scratch tmpfs defaults 0 0\n")
    run = cli("node", "reset", "--root", str(root.path), "--json")
    assert run.exit_code == 0
    restored = (root.path / "etc/fstab").read_text()
    assert restored.endswith("sw              0       0\ntmpfs /scratch tmpfs defaults 0 0\n")
    assert (root.path / "etc/fstab.k8snode-orig").exists()
    assert any("differs from /etc/fstab.k8snode-orig" in w for w in run.envelope()["warnings"])


def test_crlf_fstab_is_edited_and_restored_byte_for_byte(host, cli):
    root = host("debian")
    original = (FSTAB_HEAD + "/dev/sdb1 none swap sw,pri=5 0 0\n/dev/sdc1 none swap noauto 0 0\n").replace("\n", "\r\n")
    (root.path / "etc/fstab").write_bytes(original.encode())
    assert cli("node", "prepare", "--root", str(root.path)).exit_code == 0
    edited = (root.path / "etc/fstab").read_bytes()
    assert b"#k8snode-swap-off# /dev/sdb1 none swap sw,pri=5 0 0\r\n" in edited
    assert b"\r\n/dev/sdc1 none swap noauto 0 0\r\n" in edited  # noauto never turns on at boot
    assert cli("node", "reset", "--root", str(root.path)).exit_code == 0
    assert (root.path / "etc/fstab").read_bytes() == original.encode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"UUID=1 / ext4 defaults 0 1\n\x00\x00\x7fELF\x02\x01", "holds NUL bytes"),
        (b"UUID=1 / ext4 defaults 0 1\n\xff\xfe swap\n", "is not valid UTF-8"),
        (b"# padding\n" * 200_000, "bytes; k8snode edits an fstab of at most"),
    ],
)
def test_hostile_fstab_is_exit_2_and_nothing_changes(host, cli, content, message):
    root = host("debian")
    (root.path / "etc/fstab").write_bytes(content)
    for argv in (["node", "prepare"], ["node", "check"], ["node", "reset"]):
        before = root.snapshot()
        run = cli(*argv, "--root", str(root.path))
        assert run.exit_code == 2, (argv, run.stdout, run.stderr)
        assert run.stderr.startswith("k8snode: error: /etc/fstab ") and message in run.stderr
        assert run.stderr.count("\n") == 1
        assert root.snapshot() == before
    assert root.modprobe_calls() == []


def test_hostile_sysctl_files_are_skipped_or_named_never_a_traceback(host, cli):
    root = host("debian")
    write(root.path / "etc/sysctl.d/10-junk.conf", "")
    (root.path / "etc/sysctl.d/10-junk.conf").write_bytes(b"\x00\xff\xfe=\x01\nnet.ipv4.ip_forward\n=\n\x7fELF")
    (root.path / "etc/sysctl.d/20-huge.conf").write_bytes(b"# x\n" * 400_000)
    (root.path / "etc/sysctl.d/30-dir.conf").mkdir()
    (root.path / "etc/sysctl.d/40-loop.conf").symlink_to("40-loop.conf")
    run = cli("node", "prepare", "--root", str(root.path), "--json")
    assert run.exit_code == 1, run.stdout
    problems = run.envelope()["data"]["problems"]
    assert problems[0].startswith("/etc/sysctl.d/20-huge.conf is 1600000 bytes, too large to audit")
    assert problems[1].startswith("/etc/sysctl.d/30-dir.conf: cannot be read")
    assert problems[2] == "/etc/sysctl.d/40-loop.conf: too many levels of symbolic links"
    assert {key: proc(root, key) for key in WANTED} == WANTED
    assert "Traceback" not in run.stdout + run.stderr


def test_a_crlf_sysctl_conf_still_overrides(host, cli):
    root = host("debian")
    (root.path / "etc/sysctl.conf").write_bytes(b"net.ipv4.ip_forward=0\r\n")
    run = cli("node", "check", "--root", str(root.path), "--json")
    assert run.exit_code == 1
    assert run.envelope()["data"]["problems"][0].startswith(
        "net.ipv4.ip_forward = 0 after a reboot: /etc/sysctl.conf:1 overrides"
    )


def test_zram_dropin_that_still_defines_a_device_is_named(host, cli):
    root = host("fedora-zram")
    write(root.path / "etc/systemd/zram-generator.conf.d/size.conf", "[zram0]\nzram-size = 4096\n")
    run = cli("node", "prepare", "--root", str(root.path), "--json")
    assert run.exit_code == 1
    assert run.envelope()["data"]["problems"] == [
        "/etc/systemd/zram-generator.conf.d/size.conf defines a zram device that zram-generator would still create "
        "at boot"
    ]


def test_a_linked_zram_dropin_is_read_through_its_link_inside_the_root(host, cli):
    """zram-generator follows the link and creates the device: prepare, check and doctor must say so."""
    root = host("fedora-zram")
    dropins = root.path / "etc/systemd/zram-generator.conf.d"
    write(root.path / "srv/zram/size.conf", "[zram0]\nzram-size = 4096\n")
    dropins.mkdir(parents=True, exist_ok=True)
    (dropins / "size.conf").symlink_to("/srv/zram/size.conf")  # absolute: read under the root
    (dropins / "masked.conf").symlink_to("/dev/null")
    named = "/etc/systemd/zram-generator.conf.d/size.conf (a link to /srv/zram/size.conf)"
    run = cli("node", "prepare", "--root", str(root.path), "--json")
    assert run.exit_code == 1
    assert run.envelope()["data"]["problems"] == [
        f"{named} defines a zram device that zram-generator would still create at boot"
    ]
    check = cli("node", "check", "--root", str(root.path), "--json")
    assert check.exit_code == 1
    assert f"{named} defines a zram device" in json.dumps(check.envelope()["data"])
    doctor = cli("doctor", "--root", str(root.path), "--json")
    [swap_boot] = [c for c in doctor.envelope()["data"]["checks"] if c["id"] == "swap-boot"]
    assert swap_boot["status"] != "ok" and named in swap_boot["detail"]


def test_a_swap_unit_file_in_etc_is_named_not_deleted(host, cli):
    root = host("debian")
    write(root.path / "etc/systemd/system/swapfile.swap", "[Swap]\nWhat=/swapfile\n")
    run = cli("node", "prepare", "--root", str(root.path), "--json")
    assert run.exit_code == 1
    assert run.envelope()["data"]["problems"] == [
        "/etc/systemd/system/swapfile.swap is a unit file that turns swap on at boot; remove it or disable it by hand"
    ]
    assert (root.path / "etc/systemd/system/swapfile.swap").read_text() == "[Swap]\nWhat=/swapfile\n"


def test_missing_br_netfilter_fails_before_anything_changes(fake_root, cli):
    from fakes import KernelSpec

    root = fake_root(KernelSpec("6.1.0-28-amd64", ("overlay",)))
    write(root.path / "proc/sys/net/ipv4/ip_forward", "0\n")
    before = snapshot(root.path)
    run = cli("node", "prepare", "--proxy-mode", "iptables", "--root", str(root.path))
    assert run.exit_code == 3
    assert "br_netfilter is missing from kernel 6.1.0-28-amd64" in run.stderr
    assert snapshot(root.path) == before


@pytest.mark.parametrize("kernel", ["builtin-netfilter-6.1", "nonmodular-netfilter-6.18"])
@pytest.mark.parametrize("mode", ["nftables", "iptables"])
def test_built_in_modules_count_as_present(fake_root, cli, kernel, mode):
    """A stock Debian 12 host's first run: CONFIG_BRIDGE_NETFILTER=y and CONFIG_NF_TABLES=y, no index lists them."""
    root = fake_root(kernel)
    for key in ("net.ipv4.ip_forward", *(k for k in WANTED if k.startswith("net.bridge."))):
        write(root.path / "proc/sys" / key.replace(".", "/"), "0\n")  # built-in br_netfilter's keys are there
    write(root.path / "proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n")
    check = cli("node", "check", "--proxy-mode", mode, "--root", str(root.path), "--json")
    modules = {m["name"]: m for m in check.envelope()["data"]["modules"]}
    assert {name: m["state"] for name, m in modules.items()} == dict.fromkeys(modules, "builtin")
    assert modules["br_netfilter"]["source"] == "CONFIG_BRIDGE_NETFILTER=y in /proc/config.gz"
    assert not any("missing" in problem for problem in check.envelope()["data"]["problems"])
    run = cli("node", "prepare", "--proxy-mode", mode, "--root", str(root.path), "--json")
    assert run.exit_code == 0, run.stdout
    assert {key: proc(root, key) for key in WANTED} == WANTED
    assert run.envelope()["data"]["modules"] == check.envelope()["data"]["modules"]


def test_a_foreign_file_at_k8snodes_path_is_refused_without_force(host, cli):
    root = host("debian")
    write(root.path / SYSCTL_FILE, "vm.swappiness = 10\n")
    before = root.snapshot()
    run = cli("node", "prepare", "--root", str(root.path))
    assert run.exit_code == 3
    assert "/etc/sysctl.d/k8snode.conf exists and was not written by k8snode" in run.stderr
    assert root.snapshot() == before
    assert cli("node", "prepare", "--force", "--root", str(root.path)).exit_code == 0


# systemctl daemon-reload: only where the running systemd manages the root (--root / and /run/systemd/system)


def test_daemon_reload_is_not_run_for_another_root_nor_in_a_dry_run(host, cli):
    root = host("debian")
    (root.path / "run/systemd/system").mkdir(parents=True)  # that root's systemd is not this process's
    run = cli("node", "prepare", "--dry-run", "--root", str(root.path), "--json")
    assert run.envelope()["data"]["swap"]["daemon_reload"] is None
    run = cli("node", "prepare", "--root", str(root.path), "--json")
    assert run.exit_code == 0, run.stderr
    assert run.envelope()["data"]["swap"]["units"] == [{"unit": "dev-sda2.swap", "action": "mask"}]
    assert run.envelope()["data"]["swap"]["daemon_reload"] is None
    run = cli("node", "reset", "--root", str(root.path), "--json")
    assert run.exit_code == 0, run.stderr
    assert run.envelope()["data"]["daemon_reload"] is None
    assert root.systemctl_calls() == []


def on_the_real_root(root, *args: str) -> subprocess.CompletedProcess[str]:
    """The console script with --root / in a private mount namespace whose /etc is ``root``'s and whose /run is a
    tmpfs holding /run/systemd/system, as on a host systemd booted; the fake tools first on PATH. Needs root."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        unavailable("K8SNODE_REQUIRE_ROOT", "a private mount namespace needs root and util-linux's unshare")
    script = 'mount --bind "$1/etc" /etc && mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/system && shift && "$@"'
    argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", str(root.path)]
    console = Path(sys.executable).parent / "k8snode"
    done = subprocess.run(
        [*argv, str(console), *args, "--root", "/", "--json"],
        capture_output=True,
        text=True,
        env=root.env(),
        timeout=120,
    )
    if "unshare: " in done.stderr or "mount: " in done.stderr:
        unavailable("K8SNODE_REQUIRE_ROOT", f"cannot make the mount namespace here: {done.stderr.strip()}")
    return done


def test_daemon_reload_runs_after_unmasking_where_systemd_runs_the_root(host, cli):
    root = host("debian")
    fstab_before = (root.path / "etc/fstab").read_bytes()
    assert cli("node", "prepare", "--root", str(root.path)).exit_code == 0
    dry = on_the_real_root(root, "node", "reset", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["data"]["daemon_reload"] == "would-run"
    assert root.systemctl_calls() == []
    done = on_the_real_root(root, "node", "reset")
    assert done.returncode == 0, done.stderr
    envelope = json.loads(done.stdout)
    assert envelope["data"]["units"] == [{"unit": "dev-sda2.swap", "action": "unmasked"}]
    assert envelope["data"]["daemon_reload"] == "ran"
    assert root.systemctl_calls() == ["daemon-reload"]
    assert (root.path / "etc/fstab").read_bytes() == fstab_before  # the namespace's /etc was the fake root's
    again = on_the_real_root(root, "node", "reset")  # nothing left to unmask: systemd is not asked again
    assert json.loads(again.stdout)["data"]["daemon_reload"] is None
    assert root.systemctl_calls() == ["daemon-reload"]


def test_a_failed_daemon_reload_is_a_warning_and_the_unmasking_stands(host, cli):
    root = host("debian")
    assert cli("node", "prepare", "--root", str(root.path)).exit_code == 0
    write(root.path / "fake/systemctl.rc", "1\n")
    done = on_the_real_root(root, "node", "reset")
    assert done.returncode == 0, done.stderr
    envelope = json.loads(done.stdout)
    assert envelope["data"]["daemon_reload"] == "failed"
    assert envelope["warnings"] == [
        "systemctl daemon-reload failed (Failed to reload daemon: fake); systemd sees the change at the next boot"
    ]
    assert not (root.path / "etc/systemd/system/dev-sda2.swap").is_symlink()


def test_check_names_the_keys_that_wait_for_their_module_instead_of_printing_none(host, cli):
    """On a fresh host br_netfilter is not loaded, so /proc/sys has no net.bridge.* keys: the summary says so (it
    printed bridge-nf-call-iptables=None, issue 26)."""
    root = host("debian")
    run = cli("node", "check", "--root", str(root.path))
    assert run.exit_code == 1
    assert "=None" not in run.stdout
    assert "running: net.ipv4.ip_forward=0;" in " ".join(run.stdout.split())
    assert (
        "not in /proc/sys until their module is loaded: net.bridge.bridge-nf-call-iptables "
        "net.bridge.bridge-nf-call-ip6tables"
    ) in " ".join(run.stdout.split())


def test_checks_after_reboot_column_reads_the_files_that_exist_not_the_one_prepare_would_write(host, cli):
    root = host("debian")
    before = cli("node", "check", "--root", str(root.path), "--json").envelope()["data"]
    assert {f["path"]: f["action"] for f in before["files"]}["/etc/sysctl.d/k8snode.conf"] == "would-create"
    assert [(s["key"], s["boot"], s["boot_source"]) for s in before["sysctls"]] == [(k, None, None) for k in WANTED]
    doctor = cli("doctor", "--root", str(root.path), "--json").envelope()["data"]["checks"]
    [sysctl_boot] = [c for c in doctor if c["id"] == "sysctl-boot"]
    assert sysctl_boot["status"] != "ok"
    assert cli("node", "prepare", "--root", str(root.path)).exit_code == 0
    after = cli("node", "check", "--root", str(root.path), "--json").envelope()["data"]
    assert [(s["boot"], s["boot_source"].rsplit(":", 1)[0]) for s in after["sysctls"]] == [
        ("1", "/etc/sysctl.d/k8snode.conf")
    ] * len(WANTED)


@pytest.mark.parametrize("dry_run", [True, False])
def test_reset_counts_the_files_its_table_shows(host, cli, dry_run):
    """The Files table holds `ipvs disable`'s files too; the summary counted only the node's (undid 6 file(s) above
    8 rows, issue 26)."""
    root = host("debian")
    assert cli("node", "prepare", "--root", str(root.path)).exit_code == 0
    argv = ["node", "reset", "--root", str(root.path), *(["--dry-run"] if dry_run else [])]
    data = cli(*argv, "--json").envelope()["data"] if dry_run else None
    run = cli(*argv)
    assert run.exit_code == 0, run.stderr
    rows = [line for line in run.stdout.splitlines() if line.startswith("│ /")]
    if data is not None:
        assert len(rows) == len(data["files"]) + len(data["ipvs"]["files"])
    restored = sum(1 for row in rows if "restore" in row)
    assert (len(rows), restored) == (9, 1)  # the node's 3 files, the 2 records, fstab and its copy; ipvs's 2
    said = "would undo 9 file(s) (8 to remove, 1 to restore)" if dry_run else "undid 9 file(s) (8 removed, 1 restored)"
    assert f"{said} and 1 swap unit mask(s)" in " ".join(run.stdout.split())


# Undo that is always safe (issue 27)


def test_a_linked_swap_unit_in_etc_is_named_not_replaced_by_a_mask(host, cli, tmp_path):
    """`systemctl link` puts a symlink to a unit file elsewhere in /etc/systemd/system: a mask there would replace
    the link, and reset would then delete it."""
    root = host("debian")
    elsewhere = tmp_path / "units/dev-sda2.swap"
    write(elsewhere, "[Swap]\nWhat=/dev/sda2\n")
    link = root.path / "etc/systemd/system/dev-sda2.swap"
    link.symlink_to(elsewhere)
    run = cli("node", "prepare", "--root", str(root.path), "--json")
    assert run.exit_code == 1, run.stderr
    assert run.envelope()["data"]["problems"] == [
        f"/etc/systemd/system/dev-sda2.swap is a link to {elsewhere} (systemctl link) that turns swap on at boot; "
        "remove it or disable it by hand"
    ]
    assert run.envelope()["data"]["swap"]["units"] == []
    assert cli("node", "reset", "--root", str(root.path)).exit_code == 0
    assert link.readlink() == elsewhere


def test_reset_restores_only_the_fstab_lines_this_hosts_prepare_commented_out(host, cli):
    """A line that already began with the marker (a host cloned from a prepared image) stays commented out."""
    root = host("debian")
    cloned = "#k8snode-swap-off# /dev/sdb1 none swap sw 0 0\n"
    with (root.path / "etc/fstab").open("a") as fstab:
        fstab.write(cloned)
    before = (root.path / "etc/fstab").read_bytes()
    assert cli("node", "prepare", "--root", str(root.path)).exit_code == 0
    prepared = (root.path / "etc/fstab").read_text()
    assert "#k8snode-swap-off# UUID=2222-swap" in prepared and cloned in prepared
    run = cli("node", "reset", "--root", str(root.path), "--json")
    assert run.exit_code == 0, run.stderr
    swap_line = "UUID=2222-swap none            swap    sw              0       0"
    assert run.envelope()["data"]["fstab_entries"] == [swap_line]
    assert (root.path / "etc/fstab").read_bytes() == before
    assert not (root.path / "etc/k8snode").exists()


def test_reset_alone_never_uncomments_a_marked_line(host, cli):
    root = host("debian")
    (root.path / "etc/fstab").write_text(FSTAB_HEAD + "#k8snode-swap-off# /dev/sdb1 none swap sw 0 0\n")
    before = root.snapshot()
    run = cli("node", "reset", "--root", str(root.path), "--json")
    assert run.exit_code == 0, run.stderr
    assert run.envelope()["data"]["fstab_entries"] == []
    assert root.snapshot() == before


def test_fstab_and_its_copy_keep_their_mode_and_owner(host, cli):
    root = host("debian")
    fstab = root.path / "etc/fstab"
    before = fstab.read_bytes()
    fstab.chmod(0o000)
    owner = (4321, 4322) if os.geteuid() == 0 else (os.getuid(), os.getgid())
    if os.geteuid() == 0:
        os.chown(fstab, *owner)
    else:
        fstab.chmod(0o400)  # a user cannot read a 0000 file; the mode is still not 0644

    def kept(path: Path) -> tuple[int, int, int]:
        info = path.stat()
        return stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid

    wanted = (stat.S_IMODE(fstab.stat().st_mode), *owner)
    assert cli("node", "prepare", "--root", str(root.path)).exit_code == 0
    assert fstab.read_bytes() != before
    assert kept(fstab) == wanted
    assert kept(root.path / "etc/fstab.k8snode-orig") == wanted
    assert cli("node", "reset", "--root", str(root.path)).exit_code == 0
    assert fstab.read_bytes() == before
    assert kept(fstab) == wanted


@pytest.mark.parametrize("device", ["/dev/sd\\000a2", "/dev/sd\0a2"], ids=["escaped", "raw"])
def test_a_nul_in_a_swap_device_name_is_bad_input_before_anything_changes(host, cli, device):
    root = host("debian")
    (root.path / "proc/swaps").write_text(
        (root.path / "proc/swaps").read_text().splitlines(keepends=True)[0] + f"{device}\tpartition\t1048572\t0\t-2\n"
    )
    before = root.snapshot()
    run = cli("node", "prepare", "--root", str(root.path))
    assert run.exit_code == 2, run.stderr
    assert run.stderr.startswith("k8snode: error: /proc/swaps ") and run.stderr.count("\n") == 1
    assert root.snapshot() == before
    assert root.modprobe_calls() == []


def test_a_record_path_no_write_can_reach_is_refused_before_anything_changes(host, cli):
    root = host("debian")
    write(root.path / "etc/k8snode", "a file where prepare keeps its records\n")
    before = root.snapshot()
    run = cli("node", "prepare", "--root", str(root.path))
    assert run.exit_code == 3, run.stderr
    assert (
        run.stderr == "k8snode: error: cannot write /etc/k8snode/masked-swap-units: /etc/k8snode is not a directory\n"
    )
    assert root.snapshot() == before
    assert root.modprobe_calls() == []
