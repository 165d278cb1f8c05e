"""The host's primary IPv4 address: the local address on the interface that holds the default route.

/proc/net/route names the default route's interface and that interface's connected subnets (addresses in host
byte order, hex); /proc/net/fib_trie lists the local addresses ("/32 host LOCAL") without interface names. The
primary address is the local address inside a subnet of the default interface.
"""

from __future__ import annotations

import ipaddress
import sys
from dataclasses import dataclass

from k8snode.core.system import System

_RTF_UP = 0x1


@dataclass(frozen=True)
class _Route:
    interface: str
    destination: ipaddress.IPv4Address
    gateway: ipaddress.IPv4Address
    mask: ipaddress.IPv4Address
    flags: int
    metric: int


def primary_ipv4(system: System) -> str | None:
    """The address, or None when the route table or fib_trie does not tell."""
    routes = _routes(system.read_text("/proc/net/route") or "")
    defaults = sorted(
        (r for r in routes if int(r.destination) == 0 and int(r.mask) == 0 and r.flags & _RTF_UP),
        key=lambda r: r.metric,
    )
    if not defaults:
        return None
    interface = defaults[0].interface
    subnets = [
        subnet
        for r in routes
        if r.interface == interface and int(r.mask) != 0 and int(r.gateway) == 0
        for subnet in _network(r)
    ]
    local = _local_addresses(system.read_text("/proc/net/fib_trie") or "")
    for subnet in subnets:
        for address in local:
            if address in subnet:
                return str(address)
    return None


def _routes(text: str) -> list[_Route]:
    routes = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8:
            continue
        try:
            routes.append(
                _Route(
                    fields[0],
                    _hex_address(fields[1]),
                    _hex_address(fields[2]),
                    _hex_address(fields[7]),
                    int(fields[3], 16),
                    int(fields[6]),
                )
            )
        except (ValueError, OverflowError):  # not hex, or wider than 32 bits: not a route the kernel prints
            continue
    return routes


def _network(route: _Route) -> list[ipaddress.IPv4Network]:
    """The route's subnet; none when the mask is not contiguous or the destination has host bits set, which the
    kernel never prints (the line is ignored, as one that cannot be read)."""
    try:
        return [ipaddress.IPv4Network(f"{route.destination}/{route.mask}")]
    except ValueError:
        return []


def _hex_address(text: str) -> ipaddress.IPv4Address:
    """/proc/net/route prints each address as the hex of its in-memory (host byte order) 32-bit value."""
    return ipaddress.IPv4Address(int(text, 16).to_bytes(4, sys.byteorder))


def _local_addresses(text: str) -> list[ipaddress.IPv4Address]:
    """Addresses followed by a "/32 host LOCAL" line, loopback excluded, in file order without repeats."""
    found: dict[ipaddress.IPv4Address, None] = {}
    candidate: str | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("|-- "):
            candidate = stripped[4:]
        elif stripped == "/32 host LOCAL" and candidate is not None:
            try:
                address = ipaddress.IPv4Address(candidate)
            except ValueError:
                continue
            if not address.is_loopback:
                found[address] = None
    return list(found)
