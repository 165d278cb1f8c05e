"""Subnets as kubeadm and kube-proxy take them: one CIDR, or an IPv4 and an IPv6 one separated by a comma."""

from __future__ import annotations

import ipaddress


def cidr_problem(text: str, *, dual_stack: bool = True) -> str | None:
    """Why ``text`` (one CIDR, or an IPv4 and an IPv6 one separated by a comma) is not a valid subnet list."""
    parts = [part.strip() for part in text.split(",")]
    for part in parts:
        try:
            ipaddress.ip_network(part, strict=True)
        except ValueError as error:
            return f"{part!r} is not a CIDR ({error})"
    if len(parts) > 1 and not dual_stack:
        return "takes a single CIDR"
    if len(parts) > 2 or (
        len(parts) == 2 and ipaddress.ip_network(parts[0]).version == ipaddress.ip_network(parts[1]).version
    ):
        return f"{text!r}: dual stack takes one IPv4 and one IPv6 CIDR"
    return None


def parse_networks(text: str) -> set[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The networks in a comma-separated list, host bits allowed; empty when one of them is not a network."""
    try:
        return {ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",")}
    except ValueError:
        return set()
