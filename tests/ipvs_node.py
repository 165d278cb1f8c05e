"""The netfilter state kube-proxy's IPVS proxier leaves on a node (its virtual servers, kube-ipvs0, iptables chains
and ipsets) beside another tool's, as the fake netfilter tools hold it: shared by the cleanup tests in the fake, in a
network namespace, in the VM and in the Ansible migration."""

from __future__ import annotations

import copy

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


KUBE_PROXY_SERVERS = [
    ("TCP 10.96.0.1:443", "address on kube-ipvs0"),
    ("TCP 10.96.0.10:53", "address on kube-ipvs0"),
    ("UDP 10.96.0.10:53", "address on kube-ipvs0"),
    ("TCP 10.96.100.1:80", "address on kube-ipvs0"),
    ("TCP 10.0.0.10:30080", "in ipset KUBE-NODE-PORT-TCP"),
]


def restore_input() -> str:
    lines = []
    for table, chains in (("nat", NAT), ("filter", FILTER)):
        lines.append(f"*{table}")
        lines += [f":{name} - [0:0]" for name, spec in chains.items() if spec["policy"] == "-"]
        lines += [f"-A {name} {rule}" for name, spec in chains.items() for rule in spec["rules"]]
        lines.append("COMMIT")
    return "\n".join(lines) + "\n"
