"""`k8snode ipvs cleanup` in Debian's real kernel, with the real ipvsadm, ipset, ip and iptables (issue 15).

One boot. With the real tools the guest builds what kube-proxy's IPVS proxier leaves on a node (the virtual
servers of tests/ipvs_node.py on `kube-ipvs0`, a NodePort one, its ipsets and its iptables rules and
chains) beside a virtual server made by hand and a firewall-mark one, runs `ipvs cleanup --dry-run`, then
`ipvs cleanup`, then a second `ipvs cleanup`, and keeps what `ipvsadm -Ln`, `ip link`, `ipset list -n` and
`iptables-save` show afterwards. kube-proxy itself is not involved: that is the ground-truth end-to-end VM test.
"""

from __future__ import annotations

import re
import shlex

import harness
import pytest
from ipvs_node import KUBE_PROXY_SERVERS, ipvs_node_state, restore_input

pytestmark = pytest.mark.vm

# What the kernel autoloads on a node; the guest loads them by name so that a missing one shows in its step.
MODULES = (
    "ip_vs ip_vs_rr ip_vs_wlc ip_vs_sh dummy ip_set ip_set_hash_ip ip_set_hash_ipport ip_set_hash_ipportip "
    "ip_set_bitmap_port nf_tables nft_compat nft_chain_nat xt_comment xt_set xt_addrtype xt_mark xt_conntrack "
    "xt_MASQUERADE xt_tcpudp nf_reject_ipv4 ipt_REJECT"
)


def guest_script() -> str:
    state = ipvs_node_state()
    lines = ["cd /results", 'step() { local name=$1; shift; "$@" >"$name.out" 2>"$name.err"; echo $? >"$name.rc"; }']
    lines.append("ip link set lo up")
    lines.append(f"for module in {MODULES}; do modprobe $module || echo $module >>modprobe-failed; done")
    setup = [f"ip link add {shlex.quote('kube-ipvs0')} type dummy"]
    setup += [f"ip addr add {address} dev kube-ipvs0" for address in state["links"]["kube-ipvs0"]["addresses"]]
    for server in state["virtual_servers"]:
        if server["protocol"] == "FWM":
            setup.append(f"ipvsadm -A -f {server['address']} -s {server['scheduler']}")
        else:
            flag = {"TCP": "-t", "UDP": "-u"}[server["protocol"]]
            setup.append(f"ipvsadm -A {flag} {server['address']}:{server['port']} -s {server['scheduler']}")
    for name, spec in state["ipsets"].items():
        extra = " range 0-65535" if spec["type"] == "bitmap:port" else ""
        setup.append(f"ipset create {name} {spec['type']}{extra}")
        setup += [f"ipset add {name} {member}" for member in spec["members"]]
    lines.append("step setup sh -ec " + shlex.quote("\n".join(setup)))
    lines.append("cat >rules.txt <<'RULES'\n" + restore_input() + "RULES")
    lines.append("step rules iptables-restore --noflush rules.txt")
    metrics = "--kube-proxy-metrics http://127.0.0.1:9"  # nothing listens: no kube-proxy in this guest
    lines.append("step before ipvsadm -Ln")
    lines.append(f"step dry k8snode ipvs cleanup --dry-run {metrics} --json")
    lines.append(f"step cleanup k8snode ipvs cleanup {metrics} --json")
    lines.append(f"step again k8snode ipvs cleanup {metrics} --json")
    lines += ["step after_ipvs ipvsadm -Ln", "step after_links ip -o link show", "step after_sets ipset list -n"]
    lines.append("step after_rules iptables-save")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def booted(boot_vm: harness.Booter) -> harness.Boot:
    return boot_vm("ipvs-cleanup", guest_script())


def test_the_guest_has_kube_proxys_ipvs_state(booted: harness.Boot) -> None:
    assert booted.rc("setup") == 0, booted.show("setup")
    assert booted.rc("rules") == 0, booted.show("rules")
    table = booted.text("before.out")
    assert re.search(r"TCP\s+10\.96\.0\.1:443 rr", table) and re.search(r"TCP\s+192\.168\.50\.100:80 wlc", table)


def test_cleanup_removes_kube_proxys_objects_and_keeps_the_others(booted: harness.Boot) -> None:
    assert booted.rc("cleanup") == 0, booted.show("cleanup")
    envelope = booted.envelope("cleanup")
    removed = envelope["data"]["removed"]
    servers = [(item["name"], item["reason"]) for item in removed if item["kind"] == "virtual-server"]
    assert sorted(servers) == sorted(KUBE_PROXY_SERVERS)  # the kernel lists them in its hash order
    assert ("interface", "kube-ipvs0") in {(item["kind"], item["name"]) for item in removed}
    kept = {item["name"] for item in envelope["data"]["kept"]}
    assert kept == {"TCP 192.168.50.100:80", "FWM fwmark 16"}
    after = booted.text("after_ipvs.out")
    assert "192.168.50.100:80" in after and "FWM  16" in after
    assert "10.96." not in after and "30080" not in after
    assert "kube-ipvs0" not in booted.text("after_links.out")
    assert booted.text("after_sets.out").split() == ["KUBE-SRC-KUBEROUTER"]
    rules = booted.text("after_rules.out")
    assert "KUBE-SERVICES" not in rules and "KUBE-IPVS-FILTER" not in rules and "-A INPUT -j KUBE-FIREWALL" in rules
    print("".join(f"\n{i['kind']}: {i['name']} ({i['reason']})" for i in removed))  # for the closing note


def test_the_dry_run_listed_the_same_objects(booted: harness.Boot) -> None:
    dry, real = booted.envelope("dry"), booted.envelope("cleanup")
    assert [(i["kind"], i["name"]) for i in dry["data"]["removed"]] == [
        (i["kind"], i["name"]) for i in real["data"]["removed"]
    ]


def test_a_second_cleanup_finds_nothing_to_remove(booted: harness.Boot) -> None:
    again = booted.envelope("again")
    assert (booted.rc("again"), again["changed"], again["data"]["removed"]) == (0, False, [])
