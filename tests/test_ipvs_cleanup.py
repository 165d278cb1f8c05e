"""`k8snode ipvs cleanup` on a node as kube-proxy's IPVS mode leaves it, with a keepalived-style virtual server.

ipvsadm, ipset, ip, iptables-save and iptables-restore are fakes over one state file (tests/fake_netfilter.py, run in
the test's process, see tests/fakes.py); the
rules are the ones kube-proxy's IPVS proxier writes (pkg/proxy/ipvs/proxier.go writeIptablesRules) for a cluster
with the kubernetes and kube-dns Services and one NodePort Service. The lead's VM test runs the same command
against the real kernel and the real kube-proxy.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest
from fake_netfilter import save_state
from fakes import FAKE_NETFILTER, PYTHON, add_netfilter_tools, write
from servers import CLOSED_PORT

KEEPALIVED = {"protocol": "TCP", "address": "192.168.50.100", "port": 80, "scheduler": "wlc", "reals": []}
FIREWALL_MARK = {"protocol": "FWM", "address": "16", "port": None, "scheduler": "sh", "reals": []}


def server(protocol: str, address: str, port: int, *reals: tuple[str, int, int]) -> dict:
    return {"protocol": protocol, "address": address, "port": port, "scheduler": "rr", "reals": list(reals)}


def chains(built_in: dict[str, list[str]], **users: list[str]) -> dict:
    table = {name: {"policy": "ACCEPT", "rules": rules} for name, rules in built_in.items()}
    table.update({name.replace("_", "-"): {"policy": "-", "rules": rules} for name, rules in users.items()})
    return table


NAT = chains(
    {
        "PREROUTING": ['-m comment --comment "kubernetes service portals" -j KUBE-SERVICES'],
        "INPUT": [],
        "OUTPUT": ['-m comment --comment "kubernetes service portals" -j KUBE-SERVICES'],
        "POSTROUTING": ['-m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING'],
    },
    KUBE_KUBELET_CANARY=[],
    KUBE_SERVICES=[
        '! -s 10.244.0.0/16 -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" '
        "-m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ",
        "-m addrtype --dst-type LOCAL -j KUBE-NODE-PORT",
        "-m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT",
    ],
    KUBE_POSTROUTING=[
        '-m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" '
        "-m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE",
        "-m mark ! --mark 0x4000/0x4000 -j RETURN",
        "-j MARK --set-xmark 0x4000/0x0",
        '-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    ],
    KUBE_NODE_PORT=[
        '-p tcp -m comment --comment "Kubernetes nodeport TCP port for masquerade purpose" '
        "-m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ"
    ],
    KUBE_LOAD_BALANCER=["-j KUBE-MARK-MASQ"],
    KUBE_MARK_MASQ=["-j MARK --set-xmark 0x4000/0x4000"],
)
FILTER = chains(
    {
        "INPUT": [
            '-m comment --comment "kubernetes health check rules" -j KUBE-NODE-PORT',
            '-m comment --comment "kube-proxy firewall rules" -j KUBE-PROXY-FIREWALL',
            '-m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER',
            "-j KUBE-FIREWALL",
            "-p tcp -m tcp --dport 22 -j ACCEPT",
        ],
        "FORWARD": [
            '-m comment --comment "kube-proxy firewall rules" -j KUBE-PROXY-FIREWALL',
            '-m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
        ],
        "OUTPUT": [
            '-m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-OUT-FILTER',
            "-j KUBE-FIREWALL",
        ],
    },
    KUBE_FIREWALL=[
        '! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" '
        "-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP"
    ],
    KUBE_FORWARD=[
        '-m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
        '-m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED '
        "-j ACCEPT",
    ],
    KUBE_NODE_PORT=[
        '-m comment --comment "Kubernetes health check node port" '
        "-m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j ACCEPT"
    ],
    KUBE_PROXY_FIREWALL=[],
    KUBE_SOURCE_RANGES_FIREWALL=["-j DROP"],
    KUBE_IPVS_FILTER=[
        "-m set --match-set KUBE-LOAD-BALANCER dst,dst -j RETURN",
        "-m set --match-set KUBE-CLUSTER-IP dst,dst -j RETURN",
        "-m set --match-set KUBE-EXTERNAL-IP dst,dst -j RETURN",
        "-m set --match-set KUBE-EXTERNAL-IP-LOCAL dst,dst -j RETURN",
        "-m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j RETURN",
        "-m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT --reject-with icmp-port-unreachable",
    ],
    KUBE_IPVS_OUT_FILTER=[],
)
EMPTY_SETS = ("KUBE-LOAD-BALANCER", "KUBE-EXTERNAL-IP", "KUBE-EXTERNAL-IP-LOCAL", "KUBE-LOAD-BALANCER-FW")


def ipvs_node_state() -> dict:
    empty = {
        "nat": chains({c: [] for c in ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING")}),
        "filter": chains({c: [] for c in ("INPUT", "FORWARD", "OUTPUT")}),
    }
    sets = {
        "KUBE-CLUSTER-IP": {
            "type": "hash:ip,port",
            "members": ["10.96.0.1,tcp:443", "10.96.0.10,tcp:53", "10.96.0.10,udp:53", "10.96.100.1,tcp:80"],
        },
        "KUBE-IPVS-IPS": {"type": "hash:ip", "members": ["10.96.0.1", "10.96.0.10", "10.96.100.1"]},
        "KUBE-NODE-PORT-TCP": {"type": "bitmap:port", "members": ["30080"]},
        "KUBE-LOOP-BACK": {"type": "hash:ip,port,ip", "members": ["10.244.1.5,tcp:80,10.244.1.5"]},
        "KUBE-HEALTH-CHECK-NODE-PORT": {"type": "bitmap:port", "members": []},
        **{name: {"type": "hash:ip,port", "members": []} for name in EMPTY_SETS},
        "KUBE-SRC-KUBEROUTER": {"type": "hash:ip", "members": ["10.244.1.5"]},  # another tool's KUBE-* set
    }
    return {
        "virtual_servers": [
            server("TCP", "10.96.0.1", 443, ("10.0.0.10", 6443, 1)),
            server("TCP", "10.96.0.10", 53, ("10.244.0.2", 53, 1)),
            server("UDP", "10.96.0.10", 53, ("10.244.0.2", 53, 1)),
            server("TCP", "10.96.100.1", 80, ("10.244.1.5", 80, 1)),
            server("TCP", "10.0.0.10", 30080, ("10.244.1.5", 80, 1)),
            KEEPALIVED,
            FIREWALL_MARK,
        ],
        "links": {
            "kube-ipvs0": {
                "index": 5,
                "type": "dummy",
                "addresses": ["10.96.0.1/32", "10.96.0.10/32", "10.96.100.1/32"],
            }
        },
        "ipsets": sets,
        "iptables": {"ipv4": copy.deepcopy({"nat": NAT, "filter": FILTER}), "ipv6": empty},
    }


class Node:
    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def state(self) -> dict:
        return json.loads((self.root / "fake/netfilter.json").read_text())

    def write_state(self, state: dict) -> None:
        save_state(self.root, state)

    def calls(self) -> list[str]:
        path = self.root / "fake/netfilter.calls"
        return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Node:
    root = tmp_path / "node"
    add_netfilter_tools(root)
    write(root / "proc/sys/kernel/osrelease", "6.1.0-28-amd64\n")
    (root / "run").mkdir(parents=True)
    monkeypatch.setenv("PATH", f"{root / 'fakebin'}{os.pathsep}{os.environ['PATH']}")
    made = Node(root)
    made.write_state(ipvs_node_state())
    return made


def cleanup(cli, node: Node, *options: str):
    """ipvs cleanup where kube-proxy's /proxyMode does not answer (not running)."""
    return cli(
        "ipvs", "cleanup", "--root", str(node.root), "--kube-proxy-metrics", f"http://127.0.0.1:{CLOSED_PORT}",
        *options, "--json",
    )  # fmt: skip


KUBE_PROXY_SERVERS = [
    ("TCP 10.96.0.1:443", "address on kube-ipvs0"),
    ("TCP 10.96.0.10:53", "address on kube-ipvs0"),
    ("UDP 10.96.0.10:53", "address on kube-ipvs0"),
    ("TCP 10.96.100.1:80", "address on kube-ipvs0"),
    ("TCP 10.0.0.10:30080", "in ipset KUBE-NODE-PORT-TCP"),
]


def test_cleanup_removes_kube_proxys_objects_in_order_and_keeps_the_others(cli, node) -> None:
    run = cleanup(cli, node)
    assert run.exit_code == 0, run.stdout
    envelope = run.envelope()
    assert envelope["changed"] is True
    removed = envelope["data"]["removed"]
    servers = [(item["name"], item["reason"]) for item in removed if item["kind"] == "virtual-server"]
    assert servers == KUBE_PROXY_SERVERS
    assert [i["name"] for i in removed if i["kind"] == "interface"] == ["kube-ipvs0"]
    assert {i["action"] for i in removed} == {"removed"}
    kept = {(item["kind"], item["name"]) for item in envelope["data"]["kept"]}
    assert kept == {("virtual-server", "TCP 192.168.50.100:80"), ("virtual-server", "FWM fwmark 16")}

    state = node.state
    left = [(s["protocol"], s["address"], s["port"]) for s in state["virtual_servers"]]
    assert left == [("TCP", "192.168.50.100", 80), ("FWM", "16", None)]
    assert state["links"] == {}
    assert list(state["ipsets"]) == ["KUBE-SRC-KUBEROUTER"]
    nat, filter_ = state["iptables"]["ipv4"]["nat"], state["iptables"]["ipv4"]["filter"]
    assert set(nat) == {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING", "KUBE-KUBELET-CANARY"}
    assert all(not nat[chain]["rules"] for chain in ("PREROUTING", "OUTPUT", "POSTROUTING"))
    assert set(filter_) == {"INPUT", "FORWARD", "OUTPUT", "KUBE-FIREWALL"}
    assert filter_["INPUT"]["rules"] == ["-j KUBE-FIREWALL", "-p tcp -m tcp --dport 22 -j ACCEPT"]
    assert filter_["OUTPUT"]["rules"] == ["-j KUBE-FIREWALL"]
    assert filter_["FORWARD"]["rules"] == []
    assert (node.root / "proc/net/ip_vs").read_text().count("\n") == 3 + 2  # the header and the two kept


def test_the_commands_run_in_kube_proxys_order(cli, node) -> None:
    """Virtual servers, then kube-ipvs0, then the rules and chains (which use the sets), then the sets."""
    cleanup(cli, node)
    changes = [c for c in node.calls() if c.split()[0] in ("ipvsadm", "iptables-restore", "ipset") or "delete" in c]
    changes = [c for c in changes if c not in ("ipset save",)]
    assert changes[:5] == [
        "ipvsadm -D -t 10.96.0.1:443",
        "ipvsadm -D -t 10.96.0.10:53",
        "ipvsadm -D -u 10.96.0.10:53",
        "ipvsadm -D -t 10.96.100.1:80",
        "ipvsadm -D -t 10.0.0.10:30080",
    ]
    assert changes[5] == "ip link delete kube-ipvs0"
    assert changes[6:8] == ["iptables-restore --noflush", "iptables-restore --noflush"]
    assert sorted(changes[8:]) == sorted(
        f"ipset destroy {name}"
        for name in ("KUBE-CLUSTER-IP", "KUBE-IPVS-IPS", "KUBE-NODE-PORT-TCP", "KUBE-LOOP-BACK",
                     "KUBE-HEALTH-CHECK-NODE-PORT", *EMPTY_SETS)
    )  # fmt: skip
    calls = node.calls()
    nat = calls[calls.index("iptables-restore --noflush") + 1 :]
    assert nat[: nat.index("COMMIT")] == [
        "*nat",
        '-D PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-D OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-D POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
        "-F KUBE-SERVICES",
        "-F KUBE-POSTROUTING",
        "-F KUBE-NODE-PORT",
        "-F KUBE-LOAD-BALANCER",
        "-F KUBE-MARK-MASQ",
        "-X KUBE-SERVICES",
        "-X KUBE-POSTROUTING",
        "-X KUBE-NODE-PORT",
        "-X KUBE-LOAD-BALANCER",
        "-X KUBE-MARK-MASQ",
    ]


def test_dry_run_lists_the_same_objects_and_changes_nothing(cli, node) -> None:
    before = node.state
    dry = cleanup(cli, node, "--dry-run").envelope()
    assert node.state == before
    assert not [c for c in node.calls() if c.startswith(("ipvsadm", "ipset destroy", "iptables-restore", "ip link"))]
    assert {i["action"] for i in dry["data"]["removed"]} == {"would-remove"}
    real = cleanup(cli, node).envelope()
    strip = [{k: v for k, v in i.items() if k != "action"} for i in dry["data"]["removed"]]
    assert strip == [{k: v for k, v in i.items() if k != "action"} for i in real["data"]["removed"]]


def test_ipv6_sets_and_servers_are_kube_proxys_too(cli, node) -> None:
    """Dual stack: the IPv6 proxier's sets are KUBE-6-..., cut to ipset's 31 characters (ipset.go NewIPSet)."""
    state = ipvs_node_state()
    state["ipsets"]["KUBE-6-CLUSTER-IP"] = {"type": "hash:ip,port", "members": ["fd00:10:96::a,tcp:53"]}
    state["ipsets"]["KUBE-6-LOAD-BALANCER-SOURCE-CID"] = {"type": "hash:ip,port,net", "members": []}
    state["virtual_servers"].append(server("TCP", "fd00:10:96::a", 53))
    node.write_state(state)
    run = cleanup(cli, node)
    assert run.exit_code == 0, run.stdout
    reasons = {i["name"]: i["reason"] for i in run.envelope()["data"]["removed"]}
    assert reasons["TCP [fd00:10:96::a]:53"] == "in ipset KUBE-6-CLUSTER-IP"
    assert "KUBE-6-LOAD-BALANCER-SOURCE-CID" in reasons
    assert "ipvsadm -D -t [fd00:10:96::a]:53" in node.calls()
    assert list(node.state["ipsets"]) == ["KUBE-SRC-KUBEROUTER"]


def test_all_removes_the_other_virtual_servers_too(cli, node) -> None:
    run = cleanup(cli, node, "--all")
    removed = [i["name"] for i in run.envelope()["data"]["removed"] if i["kind"] == "virtual-server"]
    assert removed[-2:] == ["TCP 192.168.50.100:80", "FWM fwmark 16"]
    assert node.state["virtual_servers"] == []
    assert "ipvsadm -D -f 16" in node.calls()


def test_a_second_run_has_nothing_to_remove(cli, node) -> None:
    cleanup(cli, node)
    again = cleanup(cli, node).envelope()
    assert again["changed"] is False
    assert again["data"]["removed"] == []
    assert len(again["data"]["kept"]) == 2


def test_a_chain_another_rule_still_jumps_to_stays_with_the_sets_it_uses(cli, node) -> None:
    state = ipvs_node_state()
    state["iptables"]["ipv4"]["nat"]["CNI-HOSTPORT-MASQ"] = {"policy": "-", "rules": ["-j KUBE-POSTROUTING"]}
    node.write_state(state)
    run = cleanup(cli, node)
    assert run.exit_code == 0, run.stdout
    kept = {(i["kind"], i["name"]): i["reason"] for i in run.envelope()["data"]["kept"]}
    assert (
        kept[("iptables-chain", "KUBE-POSTROUTING")]
        == "CNI-HOSTPORT-MASQ still jumps to it: -A CNI-HOSTPORT-MASQ -j KUBE-POSTROUTING"
    )
    assert kept[("ipset", "KUBE-LOOP-BACK")].startswith("still used by ipv4 nat -A KUBE-POSTROUTING")
    nat = node.state["iptables"]["ipv4"]["nat"]
    assert "KUBE-POSTROUTING" in nat and len(nat["KUBE-POSTROUTING"]["rules"]) == 4
    assert "KUBE-SERVICES" not in nat and "KUBE-LOOP-BACK" in node.state["ipsets"]


def test_a_failing_removal_is_exit_3_naming_what_was_done(cli, node) -> None:
    refuse_delete = "[ \"$1\" = link ] && { echo 'RTNETLINK answers: Operation not permitted' >&2; exit 2; }\n"
    script = f'#!/bin/sh\n{refuse_delete}exec "{PYTHON}" "{FAKE_NETFILTER}" "{node.root}" ip "$@"\n'
    write(node.root / "fakebin/ip", script, 0o755)  # not a wrapper (fakes.in_process): a process of its own
    run = cleanup(cli, node)
    assert run.exit_code == 3
    error = run.envelope()["error"]["message"]
    assert error.startswith("ip link delete kube-ipvs0 failed: RTNETLINK answers: Operation not permitted")
    assert "(already removed: TCP 10.96.0.1:443," in error


def test_a_kube_ipvs0_that_is_not_a_dummy_is_not_touched(cli, node) -> None:
    state = ipvs_node_state()
    state["links"]["kube-ipvs0"]["type"] = "bridge"
    node.write_state(state)
    run = cleanup(cli, node)
    envelope = run.envelope()
    assert "kube-ipvs0 is not a dummy device, so it is not kube-proxy's; it stays" in envelope["warnings"]
    assert "kube-ipvs0" in node.state["links"]
    # its addresses then say nothing; the ClusterIPs are still kube-proxy's by its ipsets
    reasons = {i["name"]: i["reason"] for i in envelope["data"]["removed"] if i["kind"] == "virtual-server"}
    assert reasons["TCP 10.96.0.1:443"] == "in ipset KUBE-CLUSTER-IP"


def cleanup_answered(cli, node: Node, mode: str, *options: str):
    """ipvs cleanup with kube-proxy's /proxyMode answering ``mode``."""
    from servers import serve

    server, httpd = serve(routes={"/proxyMode": (200, mode)})
    try:
        url = server.url("")
        return cli("ipvs", "cleanup", "--root", str(node.root), "--kube-proxy-metrics", url, *options, "--json")
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("mode", ["ipvs", "iptables"])
def test_cleanup_refuses_while_kube_proxy_runs_ipvs_or_iptables(cli, node, mode) -> None:
    run = cleanup_answered(cli, node, mode)
    assert run.exit_code == 3
    assert f"kube-proxy on this node runs in {mode} mode" in run.envelope()["error"]["message"]
    assert node.calls() == []


def test_a_dry_run_while_kube_proxy_runs_ipvs_shows_the_plan_and_says_it_would_be_refused(cli, node) -> None:
    run = cleanup_answered(cli, node, "ipvs", "--dry-run")
    assert run.exit_code == 0
    envelope = run.envelope()
    assert envelope["warnings"][0].startswith("a real run would be refused now: kube-proxy on this node runs in ipvs")
    assert len(envelope["data"]["removed"]) == 35


def test_cleanup_runs_when_kube_proxy_answers_nftables(cli, node) -> None:
    run = cleanup_answered(cli, node, "nftables")
    assert run.exit_code == 0
    assert run.envelope()["changed"] is True


def test_the_human_report_lists_each_object(cli, node) -> None:
    run = cli(
        "ipvs",
        "cleanup",
        "--dry-run",
        "--root",
        str(node.root),
        "--kube-proxy-metrics",
        f"http://127.0.0.1:{CLOSED_PORT}",
    )
    assert run.exit_code == 0
    assert "TCP 192.168.50.100:80" in run.stdout and "kept" in run.stdout
    assert run.stdout.rstrip().endswith("would remove 35 object(s) of kube-proxy's IPVS mode; kept 2")
