"""What kube-proxy's IPVS proxier has built: virtual servers from /proc/net/ip_vs, KUBE-* sets from ipset.

The /proc/net/ip_vs format is the kernel's ip_vs_info_seq_show (net/netfilter/ipvs/ip_vs_ctl.c): three header
lines, then per service ``PROT  HHHHHHHH:PPPP sched [ops ][persistent T MASK]`` (IPv6: ``PROT  [addr]:PPPP``;
firewall marks: ``FWM  HHHHHHHH sched``), each followed by its real servers
``  -> HHHHHHHH:PPPP      Forward Weight ActiveConn InActConn``. Addresses and ports are hex, in host order: exactly
eight and four upper-case digits (``%08X:%04X``), an IPv6 address in full (``%pI6``: eight groups of four lower-case
digits). PROT is ip_vs_proto_name (net/netfilter/ipvs/ip_vs_core.c): TCP, UDP, SCTP, IP, ICMP, ICMPv6, or ``IP_<n>``
for any other protocol number.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from k8snode.core.errors import failed
from k8snode.core.system import System

PROC_IP_VS = "/proc/net/ip_vs"
KUBE_PROXY_SETS = (
    "KUBE-CLUSTER-IP",
    "KUBE-EXTERNAL-IP",
    "KUBE-LOAD-BALANCER",
    "KUBE-LOAD-BALANCER-LOCAL",
    "KUBE-NODE-PORT-TCP",
    "KUBE-NODE-PORT-LOCAL-TCP",
    "KUBE-NODE-PORT-UDP",
    "KUBE-NODE-PORT-LOCAL-UDP",
)
"""The ipsets kube-proxy's IPVS proxier keeps (pkg/proxy/ipvs/ipset.go) that doctor expects to find."""

SET_PURPOSES = {
    "KUBE-CLUSTER-IP": "cluster IP and port of every service (masquerade)",
    "KUBE-EXTERNAL-IP": "external IP and port of every service (masquerade, accept)",
    "KUBE-EXTERNAL-IP-LOCAL": "external IP and port, externalTrafficPolicy Local",
    "KUBE-LOAD-BALANCER": "load-balancer IP and port of every service",
    "KUBE-LOAD-BALANCER-LOCAL": "load-balancer IP and port, externalTrafficPolicy Local",
    "KUBE-LOAD-BALANCER-FW": "load-balancer IP and port with loadBalancerSourceRanges",
    "KUBE-LOAD-BALANCER-SOURCE-IP": "load-balancer IP, port and an allowed source IP",
    "KUBE-LOAD-BALANCER-SOURCE-CIDR": "load-balancer IP, port and an allowed source CIDR",
    "KUBE-NODE-PORT-TCP": "TCP node ports (masquerade)",
    "KUBE-NODE-PORT-LOCAL-TCP": "TCP node ports, externalTrafficPolicy Local",
    "KUBE-NODE-PORT-UDP": "UDP node ports (masquerade)",
    "KUBE-NODE-PORT-LOCAL-UDP": "UDP node ports, externalTrafficPolicy Local",
    "KUBE-NODE-PORT-SCTP-HASH": "SCTP node ports (masquerade)",
    "KUBE-NODE-PORT-LOCAL-SCTP-HASH": "SCTP node ports, externalTrafficPolicy Local",
    "KUBE-HEALTH-CHECK-NODE-PORT": "health-check node ports of Local load balancers (accept)",
    "KUBE-IPVS-IPS": "addresses bound to kube-ipvs0",
    "KUBE-LOOP-BACK": "endpoint and source of hairpin traffic (masquerade)",
}
"""What kube-proxy uses each KUBE-* ipset for, after the comments beside the names in k/k pkg/proxy/ipvs/ipset.go
of the newest release. These are the sets that release's real kube-proxy created in tests/vm/test_kube_proxy.py."""
IPSET_NAME_MAX = 31
_PROTOCOL = re.compile(r"TCP|UDP|SCTP|IP|ICMP|ICMPv6|IP_[0-9]{1,3}")
_HEX4 = re.compile(r"[0-9A-F]{4}")
_HEX8 = re.compile(r"[0-9A-F]{8}")
_IPV6 = re.compile(r"\[[0-9a-f]{4}(?::[0-9a-f]{4}){7}\]")
_WEIGHT = re.compile(r"-?[0-9]{1,10}")


def ipv6_twin(name: str) -> str:
    """kube-proxy's name for a set's IPv6 twin: KUBE-6-..., cut to ipset's 31 characters (NewIPSet,
    pkg/proxy/ipvs/ipset.go): KUBE-LOAD-BALANCER-SOURCE-CIDR -> KUBE-6-LOAD-BALANCER-SOURCE-CID."""
    return ("KUBE-6-" + name.removeprefix("KUBE-"))[:IPSET_NAME_MAX]


def set_purpose(name: str) -> str:
    """A few words on what kube-proxy keeps in the set NAME; "" for a name kube-proxy does not use."""
    for base, purpose in SET_PURPOSES.items():
        if name == base:
            return purpose
        if name == ipv6_twin(base):
            return f"{purpose}, IPv6"
    return ""


@dataclass(frozen=True)
class IPSet:
    name: str
    entries: int | None
    """None when ``ipset list -t`` gave no count for the set."""

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "entries": self.entries, "purpose": set_purpose(self.name)}


@dataclass(frozen=True)
class RealServer:
    address: str
    port: int
    weight: int

    def as_dict(self) -> dict[str, object]:
        return {"address": self.address, "port": self.port, "weight": self.weight}


@dataclass
class VirtualServer:
    protocol: str
    address: str
    port: int | None
    """None for a firewall-mark service, whose address is ``fwmark <n>``."""
    scheduler: str
    real_servers: list[RealServer] = field(default_factory=list)
    fwmark: int | None = None
    """The firewall mark of a firewall-mark service."""

    def as_dict(self) -> dict[str, object]:
        return {
            "protocol": self.protocol,
            "address": self.address,
            "port": self.port,
            "scheduler": self.scheduler,
            "real_servers": [r.as_dict() for r in self.real_servers],
        }


@dataclass
class State:
    virtual_servers: list[VirtualServer] | None
    """None when /proc/net/ip_vs is absent (ip_vs is not loaded)."""
    ipsets: list[IPSet] | None
    """KUBE-* sets by name; None when ipset is not on PATH or could not list them."""
    warnings: list[str]


def parse(text: str, skipped: list[str] | None = None) -> list[VirtualServer]:
    """The virtual servers of /proc/net/ip_vs; a line that cannot be read is skipped and described in ``skipped``
    (or, without that list, refused with exit 3)."""
    services: list[VirtualServer] = []
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words or (number <= 3 and _is_header(line)):
            continue
        try:
            if words[0] == "->":
                if not services:
                    raise ValueError("a real server before any virtual server")
                address, port = _endpoint(words[1])
                if not _WEIGHT.fullmatch(words[3]):
                    raise ValueError(f"{words[3]!r} is not a weight")
                services[-1].real_servers.append(RealServer(address, port, int(words[3])))
            elif words[0] == "FWM":
                if not _HEX8.fullmatch(words[1]):
                    raise ValueError(f"{words[1]!r} is not eight hex digits")
                mark = int(words[1], 16)
                services.append(VirtualServer("FWM", f"fwmark {mark}", None, words[2], fwmark=mark))
            else:
                if not _PROTOCOL.fullmatch(words[0]):
                    raise ValueError(f"{words[0]!r} is no protocol name the kernel prints")
                address, port = _endpoint(words[1])
                services.append(VirtualServer(words[0], address, port, words[2]))
        except (ValueError, IndexError) as error:
            problem = f"{PROC_IP_VS} line {number} cannot be read ({error}): {line.strip()[:200]!r}"
            if skipped is None:
                raise failed(problem) from None
            skipped.append(problem + "; skipped")
    for service in services:  # the kernel lists the newest real server first; report a stable order
        # IPv4 before IPv6: one service may have both (a legal kernel state), and the two types do not compare.
        service.real_servers.sort(key=lambda real: (_sort_key(real.address), real.port))
    return services


def read(system: System) -> State:
    warnings: list[str] = []
    text = system.read_text(PROC_IP_VS)
    servers = None if text is None else parse(text, warnings)
    if servers is None:
        warnings.append(f"{PROC_IP_VS} is absent: the ip_vs module is not loaded")
    ipsets = None
    if system.which("ipset") is None:
        warnings.append("ipset is not on PATH; the KUBE-* sets were not listed")
    else:
        completed = system.run(["ipset", "list", "-t"], timeout=10)
        if completed.returncode == 0:
            ipsets = [s for s in parse_ipset_headers(completed.stdout) if s.name.startswith("KUBE-")]
        else:
            why = completed.stderr.strip() or f"exit {completed.returncode}"
            warnings.append(f"ipset list -t failed: {why}")
    return State(servers, ipsets, warnings)


def parse_ipset_headers(text: str) -> list[IPSet]:
    """The sets of ``ipset list -t`` (a ``Name:`` line, then header lines such as ``Number of entries: N``), by name.

    A count that is not a number is left out (None) rather than refused: the listing is only reported."""
    found: dict[str, int | None] = {}
    name = None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key == "Name":
            name = value.strip()
            found[name] = None
        elif key == "Number of entries" and name is not None and value.strip().isdigit():
            found[name] = int(value.strip())
    return [IPSet(name, entries) for name, entries in sorted(found.items())]


def _sort_key(address: str) -> tuple[int, int]:
    parsed = ipaddress.ip_address(address)
    return parsed.version, int(parsed)


def _is_header(line: str) -> bool:
    return line.startswith(("IP Virtual Server", "Prot LocalAddress", "  -> RemoteAddress"))


def _endpoint(text: str) -> tuple[str, int]:
    """``0A600001:01BB`` -> ("10.96.0.1", 443); ``[fd00:0000:...:0001]:01BB`` -> ("fd00::1", 443). Only the digits
    the kernel prints: ``0x1B`` or ``1_BB`` is no port, though Python's int() would take either."""
    host, sep, port = text.rpartition(":")
    if not sep or not _HEX4.fullmatch(port):
        raise ValueError(f"{text!r} is not ADDRESS:PORT")
    if _IPV6.fullmatch(host):
        address = str(ipaddress.IPv6Address(host[1:-1]))
    elif _HEX8.fullmatch(host):
        address = str(ipaddress.IPv4Address(int(host, 16)))
    else:
        raise ValueError(f"{host!r} is not a hex IPv4 address or a bracketed IPv6 address")
    return address, int(port, 16)
