"""`k8snode ipvs cleanup` on a node as kube-proxy's IPVS mode leaves it, with a keepalived-style virtual server.

ipvsadm, ipset, ip, iptables-save and iptables-restore are fakes over one state file (tests/fake_netfilter.py, run in
the test's process, see tests/fakes.py); the
rules are the ones kube-proxy's IPVS proxier writes (pkg/proxy/ipvs/proxier.go writeIptablesRules) for a cluster
with the kubernetes and kube-dns Services and one NodePort Service. The lead's VM test runs the same command
against the real kernel and the real kube-proxy.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fake_netfilter import save_state
from fakes import FAKE_NETFILTER, PYTHON, add_netfilter_tools, write
from ipvs_node import (
    EMPTY_SETS,
    KUBE_PROXY_SERVERS,
    ipvs_node_state,
    server,
)
from servers import CLOSED_PORT, Answer, serve


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


def cleanup_answered(cli, node: Node, mode: str | Answer, *options: str):
    """ipvs cleanup with kube-proxy's /proxyMode answering ``mode`` (a 200), or as ``Answer`` says."""
    server, httpd = serve(routes={"/proxyMode": mode if isinstance(mode, Answer) else (200, mode)})
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


@pytest.mark.parametrize(
    ("answer", "options", "seen"),
    [
        (Answer(200, "ipvs", delay=1.3), (), "timeout after 1s"),
        (Answer(200, "ipvs", delay=0.5), ("--timeout", "200ms"), "timeout after 0.2s"),
        (Answer(500, "ipvs"), (), "HTTP probe failed with statuscode: 500"),
        (Answer(302, "ipvs", location="http://127.0.0.2:1/proxyMode"), (), "redirect to another host"),
        (Answer(200, "ipvs", trickle=0.05), ("--timeout", "300ms"), "timeout after 0.3s"),
        (Answer(200, "maybe ipvs"), (), "HTTP 200 with 'maybe ipvs', not one of iptables, ipvs, nftables"),
    ],
    ids=["late", "late-for-the-option", "500", "redirect", "trickling-headers", "not-a-mode"],
)
def test_cleanup_refuses_when_something_listens_but_gives_no_clean_answer(cli, node, answer, options, seen) -> None:
    run = cleanup_answered(cli, node, answer, *options)
    assert run.exit_code == 3
    message = run.envelope()["error"]["message"]
    assert message.startswith("something listens where kube-proxy answers /proxyMode but gives no clean answer")
    assert seen in message
    assert node.calls() == []


def test_a_long_enough_timeout_hears_a_late_ipvs_and_refuses_for_it(cli, node) -> None:
    run = cleanup_answered(cli, node, Answer(200, "ipvs", delay=0.3), "--timeout", "5s")
    assert run.exit_code == 3
    assert "kube-proxy on this node runs in ipvs mode" in run.envelope()["error"]["message"]


def test_a_zero_timeout_is_bad_input(cli, node) -> None:
    run = cleanup(cli, node, "--timeout", "0s")
    assert run.exit_code == 2
    assert run.envelope()["error"]["message"] == "--timeout must be more than zero, not 0s"


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


def test_all_keeps_a_service_whose_protocol_ipvsadm_cannot_name(cli, node) -> None:
    """The kernel prints ICMP, ICMPv6, IP and IP_<n> too (ip_vs_proto_name); ipvsadm -D addresses only TCP, UDP,
    SCTP and firewall marks, and kube-proxy makes no other: those stay, even with --all, and nothing is run for them."""
    state = ipvs_node_state()
    state["virtual_servers"] += [
        server("ICMP", "192.168.50.7", 0),
        server("IP_47", "192.168.50.8", 0),
        server("ICMPv6", "fd00::7", 0),
        server("SCTP", "192.168.50.9", 3868),
    ]
    node.write_state(state)
    run = cleanup(cli, node, "--all")
    assert run.exit_code == 0, run.stdout
    kept = {i["name"]: i["reason"] for i in run.envelope()["data"]["kept"]}
    assert set(kept) == {"ICMP 192.168.50.7:0", "IP_47 192.168.50.8:0", "ICMPv6 [fd00::7]:0"}
    assert kept["IP_47 192.168.50.8:0"].startswith("ipvsadm names only TCP, UDP and SCTP services and firewall marks")
    assert "ipvsadm -D --sctp-service 192.168.50.9:3868" in node.calls()
    assert not [call for call in node.calls() if "192.168.50.7" in call or "192.168.50.8" in call]
    left = [(s["protocol"], s["address"]) for s in node.state["virtual_servers"]]
    assert left == [("ICMP", "192.168.50.7"), ("IP_47", "192.168.50.8"), ("ICMPv6", "fd00::7")]


@pytest.mark.parametrize(
    "endpoint", ["0A600001:0x1B", "0x600001:01BB", "0A600001:1_BB", "0a600001:01bb", "0A60_001:01BB"]
)
def test_hex_the_kernel_does_not_print_is_an_unreadable_line_not_another_server(cli, node, endpoint) -> None:
    """int(_, 16) takes 0x1B as 27: the kernel prints %08X:%04X, so anything else is skipped and said, and nothing
    is removed in its name."""
    proc = node.root / "proc/net/ip_vs"
    proc.write_text(proc.read_text() + f"TCP  {endpoint} rr\n")
    run = cleanup(cli, node, "--all")
    assert run.exit_code == 0, run.stdout
    warnings = run.envelope()["warnings"]
    assert [w for w in warnings if w.startswith("/proc/net/ip_vs line 16 cannot be read")], warnings
    assert not [call for call in node.calls() if call.startswith("ipvsadm") and ":27" in call]
    assert len([c for c in node.calls() if c.startswith("ipvsadm -D")]) == 7  # the node's seven services


def test_an_address_ip_cannot_print_is_skipped_with_a_warning(cli, node) -> None:
    state = ipvs_node_state()
    state["links"]["kube-ipvs0"]["addresses"].insert(0, "garbage")
    node.write_state(state)
    run = cleanup(cli, node)
    assert run.exit_code == 0, run.stdout
    envelope = run.envelope()
    assert "ip -o addr show dev kube-ipvs0 printed inet garbage: no address; skipped" in envelope["warnings"]
    servers = [(i["name"], i["reason"]) for i in envelope["data"]["removed"] if i["kind"] == "virtual-server"]
    assert servers == KUBE_PROXY_SERVERS
