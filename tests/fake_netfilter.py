"""Fakes of ipvsadm, ipset, ip, iptables-save/ip6tables-save and iptables-restore/ip6tables-restore over one state.

Usage: fake_netfilter.py ROOT PROGRAM [arguments] (or ``run``, in-process, see fake_tool.py). The state is
ROOT/fake/netfilter.json (virtual servers, links, ipsets, and the nat and filter tables per family); ipvsadm
rewrites ROOT/proc/net/ip_vs from it as the kernel's ip_vs_info_seq_show prints it, so k8snode reads the fake the
way it reads a real node. Every call is appended to ROOT/fake/netfilter.calls (with iptables-restore's input after
it).

Each one does what the real tool does for the arguments k8snode uses, with its messages and exit codes:
- ``ipvsadm -D -t|-u|--sctp-service ADDR:PORT`` and ``-D -f MARK``: "Service not defined" (exit 1) when absent.
- ``ipset save``, ``ipset list -n``, ``ipset destroy NAME``: destroying a set an iptables rule still matches
  (``--match-set NAME``) fails as the kernel refuses it: "Set cannot be destroyed: it is in use by a kernel
  component"; an unknown set: "The set with the given name does not exist".
- ``ip -d -o link show dev NAME``, ``ip -o addr show dev NAME``, ``ip link delete NAME``: one-line output with
  ``\\`` for line breaks, as ``-o`` prints; an unknown device: 'Device "NAME" does not exist.' / 'Cannot find
  device "NAME"' (exit 1).
- ``iptables-save -t TABLE``: the table's chains (``:NAME POLICY [0:0]``, ``-`` for user chains) and rules.
- ``iptables-restore --noflush``: one transaction from standard input: ``*table``, ``-A``, ``-D`` (the exact rule
  text), ``-N``, ``-F``, ``-X``, ``COMMIT``. ``-X`` fails on a chain that is not empty or that a rule still jumps
  to, ``-D`` on a rule that is not there; any failure leaves every table as it was ("line N failed", exit 1).
"""

from __future__ import annotations

import copy
import json
import shlex
import sys
from pathlib import Path

from fake_tool import Outcome, failure, lines, main, record

BUILT_IN = {"nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"), "filter": ("INPUT", "FORWARD", "OUTPUT")}
IPVS_HEADER = (
    "IP Virtual Server version 1.2.1 (size=4096)\n"
    "Prot LocalAddress:Port Scheduler Flags\n"
    "  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n"
)


def empty_state() -> dict:
    tables = {
        table: {chain: {"policy": "ACCEPT", "rules": []} for chain in chains} for table, chains in BUILT_IN.items()
    }
    return {
        "virtual_servers": [],
        "links": {},
        "ipsets": {},
        "iptables": {"ipv4": copy.deepcopy(tables), "ipv6": copy.deepcopy(tables)},
    }


class Fake:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / "fake" / "netfilter.json"
        self.state = json.loads(self.path.read_text()) if self.path.exists() else empty_state()

    def save(self) -> None:
        save_state(self.root, self.state)


def save_state(root: Path, state: dict) -> None:
    """``state`` as the node's state: the fake's file, and /proc/net/ip_vs as the kernel shows those servers."""
    path = root / "fake" / "netfilter.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=1))
    proc = root / "proc/net/ip_vs"
    proc.parent.mkdir(parents=True, exist_ok=True)
    proc.write_text(IPVS_HEADER + "".join(proc_lines(server) for server in state["virtual_servers"]))


def proc_lines(server: dict) -> str:
    """One service as /proc/net/ip_vs shows it: hex addresses and ports."""
    if server["protocol"] == "FWM":
        line = f"FWM  {int(server['address']):08X} {server['scheduler']}\n"
    else:
        line = f"{server['protocol']}  {hex_endpoint(server['address'], server['port'])} {server['scheduler']}\n"
    for address, port, weight in server.get("reals", []):
        line += f"  -> {hex_endpoint(address, port)}      Masq    {weight}      0          0\n"
    return line


def hex_endpoint(address: str, port: int) -> str:
    import ipaddress

    parsed = ipaddress.ip_address(address)
    if parsed.version == 6:
        groups = parsed.exploded.split(":")
        return f"[{':'.join(groups)}]:{port:04X}"
    return f"{int(parsed):08X}:{port:04X}"


def ipvsadm(fake: Fake, args: list[str]) -> Outcome:
    if len(args) != 3 or args[0] != "-D":
        return failure("fake ipvsadm: supports -D -t|-u|--sctp-service|-f only", 2)
    kind, target = args[1], args[2]
    protocol = {"-t": "TCP", "-u": "UDP", "--sctp-service": "SCTP", "-f": "FWM"}.get(kind)
    if protocol is None:
        return failure(f"ipvsadm: invalid option -- '{kind}'", 2)
    if protocol == "FWM":
        address, port = target, None
    else:
        host, _, port_text = target.rpartition(":")
        address, port = host.strip("[]"), int(port_text)
    import ipaddress

    if protocol != "FWM":
        address = str(ipaddress.ip_address(address))
    servers = fake.state["virtual_servers"]
    for server in servers:
        if server["protocol"] == protocol and server["address"] == address and server.get("port") == port:
            servers.remove(server)
            fake.save()
            return Outcome(0)
    return failure("Service not defined")


def ipset(fake: Fake, args: list[str]) -> Outcome:
    sets = fake.state["ipsets"]
    if args == ["save"]:
        saved = []
        for name, spec in sets.items():
            family = "inet6" if "-6-" in name else "inet"
            saved.append(f"create {name} {spec['type']} family {family} hashsize 1024 maxelem 65536")
            saved += [f"add {name} {member}" for member in spec["members"]]
        return Outcome(0, lines(*saved))
    if args == ["list", "-n"]:
        return Outcome(0, lines(*sets))
    if len(args) == 2 and args[0] == "destroy":
        name = args[1]
        if name not in sets:
            return failure("ipset v7.17: The set with the given name does not exist")
        for family in fake.state["iptables"].values():
            for chains in family.values():
                for chain in chains.values():
                    if any(name in shlex.split(rule) for rule in chain["rules"]):
                        return failure("ipset v7.17: Set cannot be destroyed: it is in use by a kernel component")
        del sets[name]
        fake.save()
        return Outcome(0)
    return failure("fake ipset: supports save, list -n and destroy NAME only", 2)


def ip(fake: Fake, args: list[str]) -> Outcome:
    links = fake.state["links"]
    if args[:2] == ["link", "delete"] and len(args) == 3:
        if args[2] not in links:
            return failure(f'Cannot find device "{args[2]}"')
        del links[args[2]]
        fake.save()
        return Outcome(0)
    if len(args) == 6 and args[:2] == ["-d", "-o"] and args[2:5] == ["link", "show", "dev"]:
        name = args[5]
        if name not in links:
            return failure(f'Device "{name}" does not exist.')
        link = links[name]
        return Outcome(
            0,
            lines(
                f"{link['index']}: {name}: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN mode DEFAULT group "
                f"default qlen 1000\\    link/ether 2a:1c:5b:0e:44:01 brd ff:ff:ff:ff:ff:ff promiscuity 0 allmulti 0 "
                f"minmtu 0 maxmtu 0 \\    {link['type']} addrgenmode eui64 numtxqueues 1 numrxqueues 1 "
                "gso_max_size 65536"
            ),
        )
    if len(args) == 5 and args[:4] == ["-o", "addr", "show", "dev"]:
        name = args[4]
        if name not in links:
            return failure(f'Device "{name}" does not exist.')
        link = links[name]
        return Outcome(
            0,
            lines(
                *(
                    f"{link['index']}: {name}    {'inet6' if ':' in address else 'inet'} {address} scope global "
                    f"{name}\\       valid_lft forever preferred_lft forever"
                    for address in link["addresses"]
                )
            ),
        )
    return failure("fake ip: supports link delete, -d -o link show dev, -o addr show dev only", 2)


def iptables_save(fake: Fake, family: str, args: list[str]) -> Outcome:
    if len(args) != 2 or args[0] != "-t" or args[1] not in BUILT_IN:
        return failure("fake iptables-save: supports -t nat|filter only", 2)
    table = fake.state["iptables"][family][args[1]]
    name = "iptables-save" if family == "ipv4" else "ip6tables-save"
    return Outcome(
        0,
        lines(
            f"# Generated by {name} v1.8.9 (nf_tables) on Sun Nov 29 16:00:00 2026",
            f"*{args[1]}",
            *(f":{chain} {spec['policy']} [0:0]" for chain, spec in table.items()),
            *(f"-A {chain} {rule}" for chain, spec in table.items() for rule in spec["rules"]),
            "COMMIT",
            "# Completed on Sun Nov 29 16:00:00 2026",
        ),
    )


def iptables_restore(fake: Fake, family: str, args: list[str], text: str) -> Outcome:
    name = "iptables-restore" if family == "ipv4" else "ip6tables-restore"
    if args != ["--noflush"]:
        return failure(f"fake {name}: supports --noflush only", 2)
    tables = copy.deepcopy(fake.state["iptables"][family])
    table = None
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#") or line == "COMMIT":
            continue
        if line.startswith("*"):
            table = tables.get(line[1:])
            if table is None:
                return failure(f"{name}: line {number} failed: table '{line[1:]}' does not exist")
            continue
        verb, _, rest = line.partition(" ")
        chain, _, rule = rest.partition(" ")
        problem = apply_line(table, verb, chain, rule) if table is not None else "no table"
        if problem:
            return failure(f"{name}: line {number} failed: {problem}")
    fake.state["iptables"][family] = tables
    fake.save()
    return Outcome(0)


def apply_line(table: dict, verb: str, chain: str, rule: str) -> str | None:
    if verb == "-N":
        if chain in table:
            return "Chain already exists"
        table[chain] = {"policy": "-", "rules": []}
        return None
    if chain not in table:
        return f"Chain '{chain}' does not exist"
    rules = table[chain]["rules"]
    if verb == "-A":
        rules.append(rule)
    elif verb == "-D":
        if rule not in rules:
            return "Bad rule (does a matching rule exist in that chain?)"
        rules.remove(rule)
    elif verb == "-F":
        rules.clear()
    elif verb == "-X":
        if rules:
            return "CHAIN_USER_DEL failed (Device or resource busy)"
        for other in table.values():
            for text in other["rules"]:
                words = shlex.split(text)
                if any(words[i] in ("-j", "-g") and words[i + 1] == chain for i in range(len(words) - 1)):
                    return "CHAIN_USER_DEL failed (Too many links)"
        del table[chain]
    else:
        return f"fake: unsupported {verb}"
    return None


def run(argv: list[str], text: str) -> Outcome:
    """ROOT PROGRAM [arguments], with ``text`` on standard input (iptables-restore reads it)."""
    root, program, args = Path(argv[0]), argv[1], argv[2:]
    fake = Fake(root)
    record(root, "netfilter", " ".join([program, *args]) + "\n" + text)
    if program == "ipvsadm":
        return ipvsadm(fake, args)
    if program == "ipset":
        return ipset(fake, args)
    if program == "ip":
        return ip(fake, args)
    family = "ipv6" if program.startswith("ip6") else "ipv4"
    if program.endswith("-save"):
        return iptables_save(fake, family, args)
    return iptables_restore(fake, family, args, text)


if __name__ == "__main__":
    sys.exit(main(run, reads_stdin=sys.argv[2].endswith("-restore")))
