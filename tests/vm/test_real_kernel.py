"""k8snode inside Debian's real kernel (issue 9): real modules.dep, real modprobe, real /proc/modules.

Two boots serve all cases. The first runs check, enable, disable and enable --scheduler mh one after another, each
step leaving its output and exit code in the results share, with /proc/modules copied between steps. The second
boot is the reboot: it starts from the files the first one wrote and lets the system's own loaders run them, then
sets up real IPVS state for `ipvs status` and `doctor`.
"""

from __future__ import annotations

import re
import sys
import tarfile
from pathlib import Path
from typing import Any

import harness
import pytest
from fakes import UNLOAD_WITH_CONNTRACK_HELD

pytestmark = pytest.mark.vm

REQUIRED = {"ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh", "nf_conntrack"}  # nf_conntrack is the 6.1 name
SYSCONFIG = "/etc/sysconfig/modules/ipvs.modules"
MODULES_LOAD = "/etc/modules-load.d/ipvs.conf"
SYSTEMD_MODULES_LOAD = Path("/lib/systemd/systemd-modules-load")
FAKE_KUBE_PROXY = Path(__file__).with_name("fake_kube_proxy.py")

# Shell helpers for the guest: `step NAME CMD...` keeps CMD's stdout, stderr and exit code as NAME.out, NAME.err and
# NAME.rc in the results share; `snapshot NAME` keeps the kernel's /proc/modules as NAME.modules.
HELPERS = """cd /results
step() { local name=$1; shift; "$@" >"$name.out" 2>"$name.err"; echo $? >"$name.rc"; }
snapshot() { cp /proc/modules "$1.modules"; }
"""

FIRST_BOOT = f"""{HELPERS}
step uname uname -r
snapshot fresh
step check_fresh k8snode ipvs check --json
step enable k8snode ipvs enable --persist both --json
snapshot enabled
step check_enabled k8snode ipvs check --json
step carry tar -cf carried.tar {SYSCONFIG} {MODULES_LOAD}
step hold modprobe xt_conntrack
step disable k8snode ipvs disable --unload --json
snapshot disabled
step remove_absent modprobe -r ip_vs_mh ip_vs_lc ip_vs
step remove_absent_first_time modprobe -r --first-time ip_vs
step leftover find /etc/sysconfig/modules /etc/modules-load.d -name 'ipvs*'
step enable_mh k8snode ipvs enable --scheduler mh --persist both --json
snapshot enabled_mh
"""

# The reboot. Each loader must bring the modules back on its own, so they are unloaded again between the two.
# A virtual server with two real servers and a KUBE-CLUSTER-IP set are then made with the real tools. The VM has no
# network device: the documentation addresses (192.0.2.0/24) are never reached, only written into the kernel.
if SYSTEMD_MODULES_LOAD.exists():
    MODULES_LOAD_RUN = f"{SYSTEMD_MODULES_LOAD} {MODULES_LOAD}"
else:
    MODULES_LOAD_RUN = f"""sh -c "grep -v '^[[:space:]]*#' {MODULES_LOAD} | xargs modprobe -a" """
SECOND_BOOT = f"""{HELPERS}
snapshot fresh
tar -xpf carried.tar -C /
step sysconfig bash {SYSCONFIG}
snapshot sysconfig
step check_sysconfig k8snode ipvs check --json
snapshot check_sysconfig
step unload modprobe -r -a ip_vs_rr ip_vs_wrr ip_vs_sh ip_vs nf_conntrack
snapshot unloaded
step modules_load {MODULES_LOAD_RUN}
snapshot modules_load
step check_modules_load k8snode ipvs check --json
snapshot check_modules_load

# Without an address on any interface the kernel has no local routing table, and IPVS then refuses every real
# server ("address not unicast"). A booted node has its loopback up.
ip link set lo up
step ipvs_setup sh -ec '
    ipvsadm -A -t 192.0.2.10:80 -s rr
    ipvsadm -a -t 192.0.2.10:80 -r 192.0.2.11:8080 -m -w 1
    ipvsadm -a -t 192.0.2.10:80 -r 192.0.2.12:8080 -m -w 2
    ipset create KUBE-CLUSTER-IP hash:ip,port'
step ipvsadm ipvsadm -Ln
step ipsets ipset list -n
step status k8snode ipvs status --json
{sys.executable} {FAKE_KUBE_PROXY} >kube_proxy.log 2>&1 &
for _ in $(seq 100); do grep -q ready kube_proxy.log && break; sleep 0.1; done
step doctor k8snode doctor --json
kill %1
"""


def rc(boot: harness.Boot, step: str) -> int:
    return boot.rc(step)


def envelope(boot: harness.Boot, step: str) -> Any:
    return boot.envelope(step)


def loaded(boot: harness.Boot, snapshot: str) -> set[str]:
    return boot.loaded(snapshot)


def states(boot: harness.Boot, step: str) -> dict[str, str]:
    return {m["name"]: m["state"] for m in envelope(boot, step)["data"]["modules"]}


def show(boot: harness.Boot, step: str) -> str:
    return boot.show(step)


@pytest.fixture(scope="module")
def first(boot_vm: harness.Booter) -> harness.Boot:
    return boot_vm("first-boot", FIRST_BOOT)


@pytest.fixture(scope="module")
def second(boot_vm: harness.Booter, first: harness.Boot) -> harness.Boot:
    """The reboot: only the files that the first boot's `enable` wrote come along (through the results share)."""
    assert rc(first, "carry") == 0, show(first, "carry")
    return boot_vm("second-boot", SECOND_BOOT, first.results / "carried.tar")


def test_fresh_boot_check_reports_modules_available(first: harness.Boot, kernel: harness.Kernel) -> None:
    assert first.text("uname.out").strip() == kernel.release
    assert not REQUIRED & loaded(first, "fresh")
    assert rc(first, "check_fresh") == 1, show(first, "check_fresh")
    report = envelope(first, "check_fresh")
    assert report["ok"] is False
    assert {name: states(first, "check_fresh")[name] for name in REQUIRED} == dict.fromkeys(REQUIRED, "available")
    # Read from the guest's real module index, which also decides the conntrack module's name.
    index = f"/lib/modules/{kernel.release}/modules.dep"
    assert report["data"]["kernel"]["module_index"] == index
    assert report["data"]["conntrack_rule"]["module"] == "nf_conntrack"
    assert report["data"]["conntrack_rule"]["rule"] == "module-index"


def test_enable_loads_the_modules_into_the_real_kernel(first: harness.Boot) -> None:
    assert rc(first, "enable") == 0, show(first, "enable")
    assert envelope(first, "enable")["ok"] is True
    assert loaded(first, "enabled") >= REQUIRED
    assert "ip_vs_mh" not in loaded(first, "enabled")
    assert rc(first, "check_enabled") == 0, show(first, "check_enabled")
    assert {name: states(first, "check_enabled")[name] for name in REQUIRED} == dict.fromkeys(REQUIRED, "loaded")


def test_enable_writes_the_persistence_files(first: harness.Boot) -> None:
    with tarfile.open(first.results / "carried.tar") as carried:
        assert carried.getmember(SYSCONFIG.lstrip("/")).mode == 0o755
        assert carried.getmember(MODULES_LOAD.lstrip("/")).mode == 0o644
        conf = carried.extractfile(MODULES_LOAD.lstrip("/"))
        assert conf is not None
        lines = [line.strip() for line in conf.read().decode().splitlines()]
    assert {line for line in lines if line and not line.startswith("#")} == REQUIRED


def test_enable_with_scheduler_mh_loads_ip_vs_mh(first: harness.Boot) -> None:
    assert rc(first, "enable_mh") == 0, show(first, "enable_mh")
    assert REQUIRED | {"ip_vs_mh"} <= loaded(first, "enabled_mh")


def test_disable_unload_removes_files_and_modules(first: harness.Boot) -> None:
    """xt_conntrack holds nf_conntrack, as iptables' conntrack match does on a node: it stays, the rest goes."""
    assert rc(first, "hold") == 0, show(first, "hold")
    assert rc(first, "disable") == 0, show(first, "disable")
    report = envelope(first, "disable")
    assert {m["name"]: m["action"] for m in report["data"]["modules"]} == UNLOAD_WITH_CONNTRACK_HELD
    assert report["warnings"] == ["nf_conntrack is in use and stays loaded"]
    assert first.text("leftover.out") == ""
    assert not (REQUIRED - {"nf_conntrack"}) & loaded(first, "disabled")
    assert {"nf_conntrack", "xt_conntrack"} <= loaded(first, "disabled")


def test_modprobe_r_of_modules_that_are_not_loaded(first: harness.Boot) -> None:
    """kmod's rules that tests/fake_modprobe.py follows: several names, absent ones are fine unless --first-time."""
    assert (rc(first, "remove_absent"), first.text("remove_absent.err")) == (0, "")
    assert rc(first, "remove_absent_first_time") == 1
    assert first.text("remove_absent_first_time.err") == "modprobe: FATAL: Module ip_vs is not in kernel.\n"


def test_sysconfig_script_loads_the_modules_after_reboot(second: harness.Boot) -> None:
    assert not REQUIRED & loaded(second, "fresh")
    assert rc(second, "sysconfig") == 0, show(second, "sysconfig")
    assert loaded(second, "sysconfig") >= REQUIRED
    assert rc(second, "check_sysconfig") == 0, show(second, "check_sysconfig")
    assert loaded(second, "check_sysconfig") == loaded(second, "sysconfig"), "check must not load anything"


def test_modules_load_d_loads_the_modules_after_reboot(second: harness.Boot) -> None:
    assert not REQUIRED & loaded(second, "unloaded")
    assert rc(second, "modules_load") == 0, show(second, "modules_load")
    assert loaded(second, "modules_load") >= REQUIRED
    assert rc(second, "check_modules_load") == 0, show(second, "check_modules_load")
    assert loaded(second, "check_modules_load") == loaded(second, "modules_load"), "check must not load anything"


def test_real_ipvs_state_is_set_up(second: harness.Boot) -> None:
    """The precondition of the status and doctor cases, made with the real ipvsadm and ipset."""
    assert rc(second, "ipvs_setup") == 0, show(second, "ipvs_setup")
    table = second.text("ipvsadm.out")
    assert re.search(r"TCP\s+192\.0\.2\.10:80 rr", table), table
    assert re.search(r"192\.0\.2\.11:8080\s+Masq\s+1\b", table), table
    assert re.search(r"192\.0\.2\.12:8080\s+Masq\s+2\b", table), table
    assert second.text("ipsets.out").split() == ["KUBE-CLUSTER-IP"]


def test_ipvs_status_reports_the_real_state(second: harness.Boot) -> None:
    assert rc(second, "status") == 0, show(second, "status")
    data = envelope(second, "status")["data"]
    assert data["virtual_servers"] == [
        {
            "protocol": "TCP",
            "address": "192.0.2.10",
            "port": 80,
            "scheduler": "rr",
            "real_servers": [
                {"address": "192.0.2.11", "port": 8080, "weight": 1},
                {"address": "192.0.2.12", "port": 8080, "weight": 2},
            ],
        }
    ]
    assert data["ipsets"] == [
        {"name": "KUBE-CLUSTER-IP", "entries": 0, "purpose": "cluster IP and port of every service (masquerade)"}
    ]


def test_doctor_reports_the_real_state(second: harness.Boot) -> None:
    checks = {c["id"]: c for c in envelope(second, "doctor")["data"]["checks"]}
    state = checks["ipvs-state"]
    assert state["detail"].startswith("1 virtual server(s); 1/8 KUBE-* ipsets; absent: "), state
    assert "KUBE-CLUSTER-IP" not in state["detail"] and "KUBE-NODE-PORT-TCP" in state["detail"]
    assert state["status"] == "warn"  # kube-proxy answers, yet seven of its sets are absent
    assert checks["modules"]["status"] == "ok"
