"""`k8snode node prepare | check | reset` inside Debian's real kernel (issue 13), and two simulated reboots.

Three boots. The first turns a zram swap device on (the guest's overlay cannot hold a swap file), lists it in
/etc/fstab, runs `node prepare`, `node check` and `node reset`, and carries out the files each left. A reboot is
simulated by the next boots: a fresh kernel, the carried files, then only the system's own loaders
(systemd-modules-load, then systemd-sysctl, as systemd orders them) and `swapon -a`, which is what a boot applies.
The second boot starts from what `prepare` wrote, the third from what `reset` left.
"""

from __future__ import annotations

from pathlib import Path

import harness
import pytest

pytestmark = pytest.mark.vm

MODULES_LOAD = Path("/lib/systemd/systemd-modules-load")
SYSCTL = Path("/lib/systemd/systemd-sysctl")
# systemd's own loaders, in systemd's order (systemd-sysctl.service runs after systemd-modules-load.service); on a
# host without systemd, what a sysvinit boot runs: the modules-load.d names through modprobe, then sysctl --system.
if MODULES_LOAD.exists() and SYSCTL.exists():
    BOOT_LOADERS = f"{MODULES_LOAD}; {SYSCTL}"
else:
    BOOT_LOADERS = "cat /etc/modules-load.d/*.conf | grep -v '^#' | xargs -r modprobe -a; sysctl --system >/dev/null"
KEYS = ("net/ipv4/ip_forward", "net/bridge/bridge-nf-call-iptables", "net/bridge/bridge-nf-call-ip6tables")
WANTED = dict.fromkeys(KEYS, "1")
FSTAB = "# written by the test\n/dev/zram0 none swap sw 0 0\n"
PREPARED = (
    "/etc/fstab /etc/fstab.k8snode-orig /etc/sysctl.d/k8snode.conf /etc/modules-load.d /etc/sysconfig/modules "
    "/etc/systemd/system/dev-zram0.swap /etc/k8snode"
)

HELPERS = f"""cd /results
step() {{ local name=$1; shift; "$@" >"$name.out" 2>"$name.err"; echo $? >"$name.rc"; }}
snapshot() {{ cp /proc/modules "$1.modules"; cp /proc/swaps "$1.swaps"; sysctls >"$1.sysctls"; }}
sysctls() {{ for key in {" ".join(KEYS)}; do echo "$key=$(cat /proc/sys/$key 2>/dev/null || echo absent)"; done; }}
zram() {{ modprobe zram && echo 64M >/sys/block/zram0/disksize && mkswap /dev/zram0 >/dev/null; }}
boot_loaders() {{ {BOOT_LOADERS}; swapon -a; }}
"""

FIRST_BOOT = f"""{HELPERS}
step loaders boot_loaders
snapshot booted
zram && swapon /dev/zram0
printf '{FSTAB}' >/etc/fstab
snapshot swap_on
mkdir -p /run/systemd/system  # as on a host systemd booted (sd_booted), with a systemctl that records its calls
printf '#!/bin/sh\necho "$*" >>/results/systemctl.calls\n' >/usr/local/sbin/systemctl
chmod 755 /usr/local/sbin/systemctl
step prepare k8snode node prepare --json
cp systemctl.calls prepared.systemctl 2>/dev/null || : >prepared.systemctl
snapshot prepared
step check k8snode node check --json
step carry_prepared sh -c 'tar -cpf prepared.tar $(ls -d {PREPARED} 2>/dev/null)'  # no sysconfig dir on Debian
step reset k8snode node reset --json
step leftover sh -c 'find /etc -name "*k8snode*" -o -name "ipvs.*" -o -name "dev-zram0.swap"'
step carry_reset tar -cpf reset.tar /etc/fstab
"""

REBOOT = f"""{HELPERS}
tar -xpf carried.tar -C /
zram
step loaders boot_loaders
snapshot rebooted
step check k8snode node check --json
"""


def swaps(boot: harness.Boot, snapshot: str) -> list[str]:
    return [line.split()[0] for line in boot.text(f"{snapshot}.swaps").splitlines()[1:]]


def sysctls(boot: harness.Boot, snapshot: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in boot.text(f"{snapshot}.sysctls").splitlines())


@pytest.fixture(scope="module")
def first(boot_vm: harness.Booter) -> harness.Boot:
    return boot_vm("node-first-boot", FIRST_BOOT)


@pytest.fixture(scope="module")
def after_prepare(
    boot_vm: harness.Booter, first: harness.Boot, tmp_path_factory: pytest.TempPathFactory
) -> harness.Boot:
    assert first.rc("carry_prepared") == 0, first.show("carry_prepared")
    carried = tmp_path_factory.mktemp("carry-prepared") / "carried.tar"
    carried.write_bytes((first.results / "prepared.tar").read_bytes())
    return boot_vm("node-reboot-prepared", REBOOT, carried)


@pytest.fixture(scope="module")
def after_reset(boot_vm: harness.Booter, first: harness.Boot, tmp_path_factory: pytest.TempPathFactory) -> harness.Boot:
    assert first.rc("carry_reset") == 0, first.show("carry_reset")
    carried = tmp_path_factory.mktemp("carry-reset") / "carried.tar"
    carried.write_bytes((first.results / "reset.tar").read_bytes())
    return boot_vm("node-reboot-reset", REBOOT, carried)


def test_prepare_loads_br_netfilter_sets_the_sysctls_and_turns_swap_off(first: harness.Boot) -> None:
    assert "br_netfilter" not in first.loaded("booted")
    assert swaps(first, "swap_on") == ["/dev/zram0"]
    assert first.rc("prepare") == 0, first.show("prepare")
    report = first.envelope("prepare")
    assert report["changed"] is True and report["data"]["problems"] == []
    assert {"br_netfilter", "overlay", "ip_vs", "nf_conntrack"} <= first.loaded("prepared")
    assert sysctls(first, "prepared") == WANTED  # the bridge keys exist only once br_netfilter is in
    assert swaps(first, "prepared") == []
    assert report["data"]["swap"]["swapoff"] == [{"device": "/dev/zram0", "action": "swapoff"}]
    # --root / on a host systemd runs: after masking dev-zram0.swap, systemd is told (the recording systemctl)
    assert report["data"]["swap"]["units"] == [{"unit": "dev-zram0.swap", "action": "mask"}]
    assert report["data"]["swap"]["daemon_reload"] == "ran"
    assert first.text("prepared.systemctl") == "daemon-reload\n"
    assert first.rc("check") == 0, first.show("check")


def test_after_a_reboot_the_persisted_files_alone_give_the_same_state(after_prepare: harness.Boot) -> None:
    assert after_prepare.rc("loaders") == 0, after_prepare.show("loaders")
    assert {"br_netfilter", "ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh", "nf_conntrack"} <= after_prepare.loaded(
        "rebooted"
    )
    assert sysctls(after_prepare, "rebooted") == WANTED
    assert swaps(after_prepare, "rebooted") == []  # swapon -a finds the fstab entry commented out
    assert after_prepare.rc("check") == 0, after_prepare.show("check")


def test_reset_restores_fstab_and_the_next_boot_has_the_previous_values(
    first: harness.Boot, after_reset: harness.Boot
) -> None:
    assert first.rc("reset") == 0, first.show("reset")
    assert first.envelope("reset")["data"]["daemon_reload"] == "ran"  # after unmasking, too
    assert first.text("systemctl.calls") == "daemon-reload\ndaemon-reload\n"
    assert first.text("leftover.out") == ""
    assert swaps(after_reset, "rebooted") == ["/dev/zram0"]  # the restored fstab line turns it on again
    assert "br_netfilter" not in after_reset.loaded("rebooted")
    assert sysctls(after_reset, "rebooted") == sysctls(first, "booted")
    assert after_reset.rc("check") == 1  # the node is no longer prepared
