"""`k8snode ipvs cleanup`: remove what kube-proxy's IPVS proxier built, and nothing else.

What the proxier creates, and the order kube-proxy's own cleanup removes it in (kubernetes/kubernetes
pkg/proxy/ipvs/cleanup.go, cleanupLeftovers; the lists are pkg/proxy/ipvs/proxier.go iptablesJumpChain,
iptablesCleanupChains and defaultDummyDevice, and pkg/proxy/ipvs/ipset.go ipsetInfo):

1. IPVS virtual servers. kube-proxy flushes them all (``ipvs.Flush()``), keepalived's and any other LVS setup's
   with them; k8snode removes only those that are kube-proxy's: an address on ``kube-ipvs0`` or in its ipsets
   (ClusterIPs, external and load-balancer addresses), a NodePort (protocol and port in ``KUBE-NODE-PORT-*``), and
   the probe server ``TCP 198.51.100.0:20000`` CanUseIPVSProxier adds and deletes. ``--all`` removes the others too.
2. The ``kube-ipvs0`` dummy interface (kube-proxy deletes it only when it is a dummy; so does k8snode).
3. The iptables jump rules from the built-in chains (``-m comment --comment C -j KUBE-...``), then the chains
   themselves, flushed before they are deleted, for IPv4 and IPv6. The rules in those chains refer to the ipsets,
   so this comes before the ipsets ("we can NOT delete ip set which is still referenced by iptables"). A chain that
   a rule k8snode does not remove still jumps to stays, and is reported, with the ipsets its rules use.
4. The ipsets of ``ipsetInfo``, and their IPv6 twins (``KUBE-6-...``, cut to 31 characters: ipset.go NewIPSet). Other
   ``KUBE-*`` sets (kube-router's ``KUBE-SRC-...``, for one) are not kube-proxy's and stay.

State is read through the tools kube-proxy's own code drives (``/proc/net/ip_vs``, ``ip``, ``ipset save``,
``iptables-save``) and changed with ``ipvsadm -D``, ``ip link delete``, ``iptables-restore --noflush`` (one
transaction per table) and ``ipset destroy``.
"""

from __future__ import annotations

import ipaddress
import shlex
from dataclasses import dataclass, field

from k8snode.core.errors import failed
from k8snode.core.files import Action
from k8snode.core.system import Completed, System
from k8snode.proxy import ipvs_state
from k8snode.proxy.ipvs_state import VirtualServer

DUMMY_DEVICE = "kube-ipvs0"
PROBE_SERVER = ("TCP", "198.51.100.0", 20000)
"""The virtual server CanUseIPVSProxier (pkg/proxy/ipvs/proxier.go) adds to test the scheduler, then deletes."""
JUMP_RULES = (
    ("nat", "OUTPUT", "KUBE-SERVICES", "kubernetes service portals"),
    ("nat", "PREROUTING", "KUBE-SERVICES", "kubernetes service portals"),
    ("nat", "POSTROUTING", "KUBE-POSTROUTING", "kubernetes postrouting rules"),
    ("filter", "FORWARD", "KUBE-FORWARD", "kubernetes forwarding rules"),
    ("filter", "INPUT", "KUBE-NODE-PORT", "kubernetes health check rules"),
    ("filter", "INPUT", "KUBE-PROXY-FIREWALL", "kube-proxy firewall rules"),
    ("filter", "FORWARD", "KUBE-PROXY-FIREWALL", "kube-proxy firewall rules"),
    ("filter", "INPUT", "KUBE-IPVS-FILTER", "kubernetes ipvs access filter"),
    ("filter", "OUTPUT", "KUBE-IPVS-OUT-FILTER", "kubernetes ipvs access filter"),
)
"""iptablesJumpChain: (table, built-in chain, kube-proxy's chain, the rule's comment)."""
CHAINS = {
    "nat": ("KUBE-SERVICES", "KUBE-POSTROUTING", "KUBE-NODE-PORT", "KUBE-LOAD-BALANCER", "KUBE-MARK-MASQ"),
    "filter": (
        "KUBE-FORWARD",
        "KUBE-NODE-PORT",
        "KUBE-PROXY-FIREWALL",
        "KUBE-SOURCE-RANGES-FIREWALL",
        "KUBE-IPVS-FILTER",
        "KUBE-IPVS-OUT-FILTER",
    ),
}
"""iptablesCleanupChains, by table."""
KUBE_PROXY_IPSETS = frozenset(ipvs_state.SET_PURPOSES) | {ipvs_state.ipv6_twin(n) for n in ipvs_state.SET_PURPOSES}
"""ipsetInfo's sets (their names in ipvs_state.SET_PURPOSES) and their IPv6 twins."""
NODE_PORT_SETS = {
    protocol: (name, ipvs_state.ipv6_twin(name))
    for protocol, name in (("tcp", "KUBE-NODE-PORT-TCP"), ("udp", "KUBE-NODE-PORT-UDP"))
}
"""bitmap:port sets whose members are NodePorts: a virtual server on any node address with that port is one."""
FAMILIES = {"ipv4": ("iptables-save", "iptables-restore"), "ipv6": ("ip6tables-save", "ip6tables-restore")}
TIMEOUT = 30.0
IPVSADM_PROTOCOL = {"TCP": "-t", "UDP": "-u", "SCTP": "--sctp-service"}


@dataclass
class Removal:
    """One object and what happens to it: would-remove, removed, or kept (with the reason)."""

    kind: str
    """virtual-server, interface, iptables-rule, iptables-chain or ipset."""
    name: str
    action: Action
    reason: str = ""
    detail: dict[str, str] = field(default_factory=dict)
    server: VirtualServer | None = None
    """The virtual server a virtual-server removal names."""

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "action": self.action, "reason": self.reason, **self.detail}


@dataclass
class _Tables:
    """One family's iptables-save output of the nat and filter tables: chains and their rules, as saved."""

    chains: dict[str, set[str]] = field(default_factory=dict)
    rules: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """table -> [(chain, rule text after "-A CHAIN ")]."""


@dataclass
class _State:
    servers: list[VirtualServer]
    dummy: list[str] | None
    """Addresses on kube-ipvs0; None when there is no kube-ipvs0 dummy device."""
    ipsets: dict[str, list[str]] | None
    """kube-proxy's sets and their members; None when ipset is not on PATH."""
    tables: dict[str, _Tables]
    warnings: list[str]


@dataclass
class Cleanup:
    """What `ipvs cleanup` removed (or, in a dry run, would remove) and what it kept, with why."""

    removed: list[Removal]
    kept: list[Removal]
    dry_run: bool
    warnings: list[str]

    @property
    def summary(self) -> str:
        verb = "would remove" if self.dry_run else "removed"
        return f"{verb} {len(self.removed)} object(s) of kube-proxy's IPVS mode; kept {len(self.kept)}"


def cleanup(
    system: System,
    *,
    running_mode: str | None,
    unclear: str | None = None,
    remove_all: bool = False,
    dry_run: bool = False,
) -> Cleanup:
    """Plan from what the node has now, then remove in kube-proxy's order; under the lock unless a dry run.

    ``running_mode`` is what kube-proxy's /proxyMode answers on this node (None: no clean answer). In ipvs mode it
    would rebuild all of this at its next sync, and in iptables mode it uses KUBE-SERVICES and the other shared
    chains itself: a real run is refused before anything is read or removed; a dry run says so and shows the plan.
    ``unclear`` says what was seen when something listens there but gives no clean answer: that may be kube-proxy in
    ipvs mode, late or behind something, so it is refused the same way (fail closed)."""
    refusal = None
    if running_mode in ("ipvs", "iptables"):
        refusal = (
            f"kube-proxy on this node runs in {running_mode} mode (its /proxyMode says so): move it to nftables "
            "first (k8snode kubeadm-config --patch CONFIGMAP --proxy-mode nftables, then restart it), then clean up"
        )
    elif unclear is not None:
        refusal = (
            f"something listens where kube-proxy answers /proxyMode but gives no clean answer ({unclear}): it may "
            "be kube-proxy in ipvs mode; stop kube-proxy, or give --kube-proxy-metrics or a longer --timeout, then "
            "clean up"
        )
    if refusal is not None:
        if not dry_run:
            raise failed(refusal)
        result = _cleanup(system, remove_all=remove_all, dry_run=True)
        result.warnings.insert(0, f"a real run would be refused now: {refusal}")
        return result
    if dry_run:
        return _cleanup(system, remove_all=remove_all, dry_run=True)
    with system.lock():
        return _cleanup(system, remove_all=remove_all, dry_run=False)


def _cleanup(system: System, *, remove_all: bool, dry_run: bool) -> Cleanup:
    state = _read(system)
    pending = Action.WOULD_REMOVE if dry_run else Action.REMOVED
    plan: list[Removal] = []
    kept: list[Removal] = []
    for server in state.servers:
        reason = _kube_proxy_reason(server, state)
        item = Removal(
            "virtual-server", _server_name(server), pending, reason or "", {"scheduler": server.scheduler}, server
        )
        if server.fwmark is None and server.protocol not in IPVSADM_PROTOCOL:
            item.action, item.reason = (
                Action.KEPT,
                f"ipvsadm names only TCP, UDP and SCTP services and firewall marks, not {server.protocol}; "
                "kube-proxy makes none of this protocol",
            )
            kept.append(item)
        elif reason or remove_all:
            item.reason = reason or "--all"
            plan.append(item)
        else:
            item.action, item.reason = (
                Action.KEPT,
                "not kube-proxy's: its address is not on kube-ipvs0 nor in its ipsets",
            )
            kept.append(item)
    if state.dummy is not None:
        plan.append(Removal("interface", DUMMY_DEVICE, pending, "kube-proxy's dummy device"))
    table_plans, kept_chains, busy_sets = _iptables_plan(state.tables, pending)
    kept += kept_chains
    for family_plan in table_plans.values():
        plan += [item for table in family_plan.values() for item in table]
    for name in sorted(state.ipsets or {}):
        if name in busy_sets:
            kept.append(Removal("ipset", name, Action.KEPT, f"still used by {busy_sets[name]}"))
        else:
            plan.append(Removal("ipset", name, pending, "kube-proxy's ipset"))
    if not dry_run:
        _apply(system, plan, table_plans)
    return Cleanup(plan, kept, dry_run, state.warnings)


def _read(system: System) -> _State:
    warnings: list[str] = []
    text = system.read_text(ipvs_state.PROC_IP_VS)
    servers = [] if text is None else ipvs_state.parse(text, warnings)
    dummy = _dummy_addresses(system, warnings)
    ipsets = _ipsets(system, warnings)
    tables = {family: _saved_tables(system, family, warnings) for family in FAMILIES}
    return _State(servers, dummy, ipsets, tables, warnings)


def _dummy_addresses(system: System, warnings: list[str]) -> list[str] | None:
    if system.which("ip") is None:
        warnings.append(f"ip is not on PATH: {DUMMY_DEVICE} was not looked at")
        return None
    link = system.run(["ip", "-d", "-o", "link", "show", "dev", DUMMY_DEVICE], timeout=TIMEOUT)
    if link.returncode != 0:
        return None
    if "dummy" not in link.stdout.split():
        warnings.append(f"{DUMMY_DEVICE} is not a dummy device, so it is not kube-proxy's; it stays")
        return None
    addresses = system.run(["ip", "-o", "addr", "show", "dev", DUMMY_DEVICE], timeout=TIMEOUT)
    found = []
    for line in addresses.stdout.splitlines():
        words = line.split()
        for index, word in enumerate(words[:-1]):
            if word in ("inet", "inet6"):
                try:
                    found.append(str(ipaddress.ip_interface(words[index + 1]).ip))
                except ValueError:  # a server on it is then not known as kube-proxy's by it, and stays
                    shown = words[index + 1][:100]
                    warnings.append(f"ip -o addr show dev {DUMMY_DEVICE} printed {word} {shown}: no address; skipped")
    return found


def _ipsets(system: System, warnings: list[str]) -> dict[str, list[str]] | None:
    if system.which("ipset") is None:
        warnings.append("ipset is not on PATH: kube-proxy's ipsets were not looked at")
        return None
    saved = system.run(["ipset", "save"], timeout=TIMEOUT)
    if saved.returncode != 0:  # a kernel without ip_set loaded has no sets to remove
        why = saved.stderr.strip() or f"exit {saved.returncode}"
        warnings.append(f"ipset save failed ({why}): kube-proxy's ipsets were not looked at")
        return None
    sets: dict[str, list[str]] = {}
    for line in saved.stdout.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "create" and words[1] in KUBE_PROXY_IPSETS:
            sets[words[1]] = []
        elif len(words) >= 3 and words[0] == "add" and words[1] in sets:
            sets[words[1]].append(words[2])
    return sets


def _saved_tables(system: System, family: str, warnings: list[str]) -> _Tables:
    save = FAMILIES[family][0]
    tables = _Tables()
    if system.which(save) is None:
        warnings.append(f"{save} is not on PATH: the {family} iptables rules were not looked at")
        return tables
    for table in CHAINS:
        saved = system.run([save, "-t", table], timeout=TIMEOUT)
        if saved.returncode != 0:  # no such table in this kernel: nothing of kube-proxy's there either
            why = saved.stderr.strip() or f"exit {saved.returncode}"
            warnings.append(f"{save} -t {table} failed ({why}): its rules were not looked at")
            continue
        chains, rules = tables.chains.setdefault(table, set()), tables.rules.setdefault(table, [])
        for line in saved.stdout.splitlines():
            if line.startswith(":"):
                chains.add(line[1:].split()[0])
            elif line.startswith("-A "):
                chain, _, rule = line[3:].partition(" ")
                rules.append((chain, rule))
    return tables


def _kube_proxy_reason(server: VirtualServer, state: _State) -> str | None:
    """Why the virtual server is kube-proxy's, or None when nothing says it is."""
    protocol = server.protocol.lower()
    if (server.protocol, server.address, server.port) == PROBE_SERVER:
        return "kube-proxy's IPVS probe server"
    if server.port is None:  # a firewall-mark service: kube-proxy makes none
        return None
    if state.dummy is not None and server.address in state.dummy:
        return f"address on {DUMMY_DEVICE}"
    for name, members in (state.ipsets or {}).items():
        for member in members:
            if _member_matches(member, server, protocol, name):
                return f"in ipset {name}"
    return None


def _member_matches(member: str, server: VirtualServer, protocol: str, name: str) -> bool:
    """An ipset member names the virtual server: ``ip``, ``ip,proto:port[,...]`` or, in a NodePort set, ``port``."""
    fields = member.split(",")
    if name in NODE_PORT_SETS.get(protocol, ()):
        return fields[0] == str(server.port)
    try:
        address = str(ipaddress.ip_address(fields[0]))
    except ValueError:
        return False
    if address != server.address:
        return False
    return len(fields) == 1 or fields[1] == f"{protocol}:{server.port}"


def _iptables_plan(
    tables: dict[str, _Tables], pending: Action
) -> tuple[dict[str, dict[str, list[Removal]]], list[Removal], dict[str, str]]:
    """Per family and table: the jump rules and chains to remove; the chains kept, and the ipsets they still use."""
    plans: dict[str, dict[str, list[Removal]]] = {}
    kept: list[Removal] = []
    busy: dict[str, str] = {}
    for family, saved in tables.items():
        plans[family] = {}
        for table, ours in CHAINS.items():
            present = [chain for chain in ours if chain in saved.chains.get(table, set())]
            rules = saved.rules.get(table, [])
            jumps = [
                (chain, rule)
                for chain, rule in rules
                if any(
                    (table, chain) == (t, built_in) and _is_jump(rule, to, comment)
                    for t, built_in, to, comment in JUMP_RULES
                )
            ]
            removable = set(present)
            changed = True
            while changed:  # a chain another rule (not removed with it) jumps to stays, and what it jumps to too
                changed = False
                for chain, rule in rules:
                    if chain in removable or (chain, rule) in jumps:
                        continue
                    for target in list(removable):
                        if _targets(rule, target):
                            removable.discard(target)
                            kept.append(
                                Removal(
                                    "iptables-chain",
                                    target,
                                    Action.KEPT,
                                    f"{chain} still jumps to it: -A {chain} {rule}",
                                    {"family": family, "table": table},
                                )
                            )
                            changed = True
            for chain, rule in rules:
                if chain not in removable and (chain, rule) not in jumps:
                    for name in _sets_used(rule):
                        busy.setdefault(name, f"{family} {table} -A {chain} {rule}")
            items = [
                Removal("iptables-rule", f"-A {chain} {rule}", pending, "kube-proxy's jump rule", _where(family, table))
                for chain, rule in jumps
            ]
            items += [
                Removal("iptables-chain", chain, pending, "kube-proxy's chain", _where(family, table))
                for chain in present
                if chain in removable
            ]
            if items:
                plans[family][table] = items
    return plans, kept, busy


def _where(family: str, table: str) -> dict[str, str]:
    return {"family": family, "table": table}


def _is_jump(rule: str, target: str, comment: str) -> bool:
    words = _words(rule)
    return _targets(rule, target) and any(words[i : i + 2] == ["--comment", comment] for i in range(len(words) - 1))


def _targets(rule: str, chain: str) -> bool:
    words = _words(rule)
    return any(words[i] in ("-j", "-g", "--jump", "--goto") and words[i + 1] == chain for i in range(len(words) - 1))


def _sets_used(rule: str) -> list[str]:
    words = _words(rule)
    return [words[i + 1] for i in range(len(words) - 1) if words[i] == "--match-set"]


def _words(rule: str) -> list[str]:
    try:
        return shlex.split(rule)
    except ValueError:  # an unbalanced quote in a comment: compare plain words
        return rule.split()


def _server_name(server: VirtualServer) -> str:
    return f"{server.protocol} {server.address if server.port is None else _endpoint(server)}"


def _endpoint(server: VirtualServer) -> str:
    host = f"[{server.address}]" if ":" in server.address else server.address
    return f"{host}:{server.port}"


def _apply(system: System, plan: list[Removal], tables: dict[str, dict[str, list[Removal]]]) -> None:
    """Remove in kube-proxy's order; the first failure stops the run (exit 3) and says what was already removed."""
    done: list[str] = []

    def fail(what: str, completed: Completed) -> None:
        why = (completed.stderr or completed.stdout).strip() or f"exit {completed.returncode}"
        before = f" (already removed: {', '.join(done)})" if done else ""
        raise failed(f"{what} failed: {why}{before}")

    for name, server in [(i.name, i.server) for i in plan if i.server is not None]:
        completed = system.run(["ipvsadm", "-D", *_service_arguments(server)], timeout=TIMEOUT)
        if completed.returncode != 0:
            fail(f"removing the virtual server {name}", completed)
        done.append(name)
    if any(i.kind == "interface" for i in plan):
        completed = system.run(["ip", "link", "delete", DUMMY_DEVICE], timeout=TIMEOUT)
        if completed.returncode != 0:
            fail(f"ip link delete {DUMMY_DEVICE}", completed)
        done.append(DUMMY_DEVICE)
    for family, by_table in tables.items():
        for table, items in by_table.items():
            script = _restore_script(table, items)
            completed = system.run([FAMILIES[family][1], "--noflush"], timeout=TIMEOUT, stdin=script)
            if completed.returncode != 0:
                fail(f"{FAMILIES[family][1]} --noflush (table {table})", completed)
            done.append(f"{family} {table} rules and chains")
    for item in (i for i in plan if i.kind == "ipset"):
        completed = system.run(["ipset", "destroy", item.name], timeout=TIMEOUT)
        if completed.returncode != 0:
            fail(f"ipset destroy {item.name}", completed)
        done.append(item.name)


def _service_arguments(server: VirtualServer) -> list[str]:
    """ipvsadm's words for the service: ``-t 10.96.0.1:443``, ``-t [fd00::a]:80``, or ``-f 16`` for a firewall mark."""
    if server.fwmark is not None:
        return ["-f", str(server.fwmark)]
    return [IPVSADM_PROTOCOL[server.protocol], _endpoint(server)]


def _restore_script(table: str, items: list[Removal]) -> str:
    """One transaction: delete the jump rules, flush every chain, then delete them (flushing first also removes the
    jumps between them, as kube-proxy's cleanupIptablesLeftovers does)."""
    lines = [f"*{table}"]
    lines += [f"-D {item.name.removeprefix('-A ')}" for item in items if item.kind == "iptables-rule"]
    chains = [item.name for item in items if item.kind == "iptables-chain"]
    lines += [f"-F {chain}" for chain in chains]
    lines += [f"-X {chain}" for chain in chains]
    return "\n".join([*lines, "COMMIT", ""])
