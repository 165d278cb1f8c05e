"""Fake roots: the files a kernel shows under /proc, /sys and /lib/modules, plus a fake modprobe that updates them.

The kernel is the one boundary the tests cannot cross on this machine, so it is faked here, and the fake behaves
like the real thing (see fake_modprobe.py). Everything else the tests run is real.

The fake tools written in Python (fake_modprobe.py, fake_swapoff.py, fake_netfilter.py) are programs on PATH, each a
two-line ``wrapper`` that execs the fake. k8snode run in a subprocess (the console script, Ansible) starts them as
processes; k8snode run in the test's own process runs the same fake function in that process (``execute``, which
the tests put behind ``System.run``), which saves a Python start-up per call and gives the same outcome.
"""

from __future__ import annotations

import fcntl
import gzip
import os
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import fake_modprobe
import fake_netfilter
import fake_swapoff
from fake_tool import Outcome

import k8snode.core.system
from k8snode.core.system import Completed

IPVS = ["ip_vs"] + [
    f"ip_vs_{s}"
    for s in ["rr", "wrr", "lc", "wlc", "fo", "ovf", "lblc", "lblcr", "dh", "sh", "mh", "sed", "nq", "twos"]
]
FAKE_MODPROBE = Path(fake_modprobe.__file__)
FAKE_SWAPOFF = Path(fake_swapoff.__file__)
FAKE_NETFILTER = Path(fake_netfilter.__file__)
NETFILTER_TOOLS = ("ipvsadm", "ipset", "ip", "iptables-save", "ip6tables-save", "iptables-restore", "ip6tables-restore")
"""The programs fake_netfilter.py stands for."""
PYTHON = os.path.realpath(sys.executable)
IN_PROCESS: dict[str, Callable[[list[str], str], Outcome]] = {
    str(FAKE_MODPROBE): fake_modprobe.run,
    str(FAKE_SWAPOFF): fake_swapoff.run,
    str(FAKE_NETFILTER): fake_netfilter.run,
}
"""Each fake script, and the function that is the whole of it."""
START_PROCESS = k8snode.core.system.execute
# procps' sysctl for the plain-Ansible benchmark: -w KEY=VALUE and -p FILE write under ROOT/proc/sys.
FAKE_SYSCTL = """#!/bin/sh
set_key() {
    key=$(printf %s "${1%%=*}" | tr -d ' ' | tr . /); value=$(printf %s "${1#*=}" | tr -d ' ')
    [ -e "ROOT/proc/sys/$key" ] || { echo "sysctl: cannot stat /proc/sys/$key" >&2; exit 255; }
    printf '%s\\n' "$value" >"ROOT/proc/sys/$key"
}
case "$1" in
    -w) set_key "$2" ;;
    -p) grep -v '^[#;]' "$2" | grep = | while read -r line; do set_key "$line"; done ;;
    *) echo "sysctl: fake supports -w and -p only" >&2; exit 1 ;;
esac
"""

# `ipvs disable --unload` after `ipvs enable` (scheduler rr) while xt_conntrack holds nf_conntrack: each module's
# action. tests/vm/test_real_kernel.py asserts it in Debian's kernel with kmod's modprobe, test_ipvs.py with the fake:
# the last scheduler's `modprobe -r` already takes ip_vs with it, and the later `modprobe -r ip_vs` still succeeds.
UNLOAD_WITH_CONNTRACK_HELD = {
    "ip_vs_rr": "unloaded",
    "ip_vs_sh": "unloaded",
    "ip_vs_wrr": "unloaded",
    "ip_vs": "unloaded",
    "nf_conntrack": "in-use",
}


@dataclass(frozen=True)
class KernelSpec:
    release: str
    shipped: tuple[str, ...] = ()  # modules in modules.dep
    builtin: tuple[str, ...] = ()  # modules in modules.builtin
    modular: bool = True  # False: no /proc/modules (no loadable-module support)
    indexed: bool = True  # False: no modules.dep / modules.builtin
    sys_module: tuple[str, ...] = ()  # /sys/module/<name> entries (built-in code of a non-modular kernel)
    config: str | None = None  # /proc/config.gz content
    deps: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _ipvs_deps(conntrack: str) -> dict[str, tuple[str, ...]]:
    deps = {name: ("ip_vs",) for name in IPVS[1:]}
    deps["ip_vs"] = (conntrack, "nf_defrag_ipv6", "libcrc32c")
    if conntrack == "nf_conntrack_ipv4":
        deps["nf_conntrack_ipv4"] = ("nf_conntrack", "nf_defrag_ipv4")
    deps["nf_conntrack"] = ("nf_defrag_ipv4", "nf_defrag_ipv6", "libcrc32c")
    return deps


_BASE = ("nf_conntrack", "nf_defrag_ipv4", "nf_defrag_ipv6", "libcrc32c", "br_netfilter", "overlay", "nf_tables")

KERNELS = {
    "el7-3.10": KernelSpec(
        "3.10.0-1160.el7.x86_64", (*IPVS, *_BASE, "nf_conntrack_ipv4"), deps=_ipvs_deps("nf_conntrack_ipv4")
    ),
    "el8.2-4.18": KernelSpec(
        "4.18.0-193.el8.x86_64", (*IPVS, *_BASE, "nf_conntrack_ipv4"), deps=_ipvs_deps("nf_conntrack_ipv4")
    ),
    "el8.3-4.18": KernelSpec("4.18.0-240.el8.x86_64", (*IPVS, *_BASE), deps=_ipvs_deps("nf_conntrack")),
    "deb10-4.19": KernelSpec("4.19.0-26-amd64", (*IPVS, *_BASE), deps=_ipvs_deps("nf_conntrack")),
    "ubuntu-5.15": KernelSpec("5.15.0-125-generic", (*IPVS, *_BASE), deps=_ipvs_deps("nf_conntrack")),
    "deb12-6.1": KernelSpec("6.1.0-28-amd64", (*IPVS, *_BASE), deps=_ipvs_deps("nf_conntrack")),
    "no-mh-6.1": KernelSpec(
        "6.1.0-28-amd64", tuple(m for m in (*IPVS, *_BASE) if m != "ip_vs_mh"), deps=_ipvs_deps("nf_conntrack")
    ),
    "builtin-ipvs-6.8": KernelSpec(
        "6.8.0-48-generic", (*IPVS[1:], *_BASE), builtin=("ip_vs",), deps=_ipvs_deps("nf_conntrack")
    ),
    "no-index-4.14": KernelSpec("4.14.0-custom", indexed=False),
    "no-ipvs-6.1-kvm": KernelSpec("6.1.0-28-cloud-amd64", _BASE, deps=_ipvs_deps("nf_conntrack")),
    "nonmodular-6.18": KernelSpec(
        "6.18.44-fc-v657",
        modular=False,
        indexed=False,
        sys_module=("nf_conntrack",),
        config="CONFIG_NETFILTER=y\nCONFIG_NF_CONNTRACK=y\n# CONFIG_IP_VS is not set\n",
    ),
    # Kernels that build the node's modules in (CONFIG_BRIDGE_NETFILTER=y, CONFIG_NF_TABLES=y, CONFIG_OVERLAY_FS=y)
    # while no module index lists them: one modular (its modules.builtin leaves them out), and one without loadable
    # modules at all, as the machine these tests run on (no /proc/modules; /sys/module lists only some built-ins).
    "builtin-netfilter-6.1": KernelSpec(
        "6.1.0-28-amd64",
        tuple(m for m in (*IPVS, *_BASE) if m not in ("br_netfilter", "nf_tables", "overlay")),
        deps=_ipvs_deps("nf_conntrack"),
        config="CONFIG_BRIDGE_NETFILTER=y\nCONFIG_NF_TABLES=y\nCONFIG_OVERLAY_FS=y\n",
    ),
    "nonmodular-netfilter-6.18": KernelSpec(
        "6.18.44-fc-v1300",
        modular=False,
        indexed=False,
        sys_module=("bridge", "nf_conntrack"),
        config="CONFIG_BRIDGE=y\nCONFIG_BRIDGE_NETFILTER=y\nCONFIG_NF_TABLES=y\nCONFIG_OVERLAY_FS=y\n",
    ),
}


@dataclass
class FakeRoot:
    path: Path
    bin: Path
    kernel: KernelSpec

    def proc_modules(self) -> list[str]:
        text = (self.path / "proc/modules").read_text()
        return [line.split()[0] for line in text.splitlines() if line.strip()]

    def systemctl_calls(self) -> list[str]:
        calls = self.path / "fake/systemctl.calls"
        return calls.read_text().splitlines() if calls.exists() else []

    def modprobe_calls(self) -> list[str]:
        calls = self.path / "fake/modprobe.calls"
        return calls.read_text().splitlines() if calls.exists() else []

    def refuse(self, *modules: str) -> None:
        (self.path / "fake").mkdir(exist_ok=True)
        (self.path / "fake/refuse").write_text("\n".join(modules) + "\n")

    def vanish(self, *modules: str) -> None:
        """modprobe of these modules exits 0 and loads nothing."""
        (self.path / "fake").mkdir(exist_ok=True)
        (self.path / "fake/vanish").write_text("\n".join(modules) + "\n")

    def env(self) -> dict[str, str]:
        """Environment for a subprocess that should find the fake modprobe first on PATH."""
        return {**os.environ, "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}"}

    def snapshot(self) -> dict[str, tuple[int, int, bytes]]:
        return snapshot(self.path)


def snapshot(root: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file and link under ``root`` with its mtime, mode and content: to prove nothing changed.

    /run is left out: it is runtime state (a tmpfs on a real host) that holds only k8snode's lock file.
    """
    state = {}
    for item in sorted(root.rglob("*")):
        if item.relative_to(root).parts[0] == "run":
            continue
        stat = item.lstat()
        content = os.readlink(item).encode() if item.is_symlink() else item.read_bytes() if item.is_file() else b""
        state[str(item.relative_to(root))] = (stat.st_mtime_ns, stat.st_mode, content)
    return state


# systemctl: appends its arguments to ROOT/fake/systemctl.calls and exits with ROOT/fake/systemctl.rc (default 0).
FAKE_SYSTEMCTL = """#!/bin/sh
mkdir -p "ROOT/fake" && echo "$*" >>"ROOT/fake/systemctl.calls"
[ -f "ROOT/fake/systemctl.rc" ] && { echo "Failed to reload daemon: fake" >&2; exit "$(cat "ROOT/fake/systemctl.rc")"; }
exit 0
"""


def make_root(path: Path, kernel: KernelSpec | str, *, systemd: bool = True, sysconfig: bool = True) -> FakeRoot:
    """Build a fake root at ``path`` for ``kernel``, with a fake modprobe in ``path/fakebin``; ``systemd`` adds
    /etc/modules-load.d, ``sysconfig`` /etc/sysconfig (the RHEL and SUSE families; Debian has none)."""
    spec = KERNELS[kernel] if isinstance(kernel, str) else kernel
    write(path / "proc/sys/kernel/osrelease", spec.release + "\n")
    if spec.modular:
        write(path / "proc/modules", "")
    for name in spec.sys_module:
        (path / "sys/module" / name).mkdir(parents=True, exist_ok=True)
    if spec.config is not None:
        (path / "proc/config.gz").write_bytes(gzip.compress(spec.config.encode()))
    if spec.indexed:
        moddir = path / "lib/modules" / spec.release
        dep_lines = [
            f"{_ko(name)}: {' '.join(_ko(d) for d in spec.deps.get(name, ()))}".rstrip() for name in spec.shipped
        ]
        write(moddir / "modules.dep", "\n".join(dep_lines) + "\n")
        write(moddir / "modules.builtin", "".join(f"{_ko(name, xz=False)}\n" for name in spec.builtin))
    if systemd:
        (path / "etc/modules-load.d").mkdir(parents=True, exist_ok=True)
    if sysconfig:
        (path / "etc/sysconfig").mkdir(parents=True, exist_ok=True)
    (path / "run").mkdir(exist_ok=True)
    fakebin = path / "fakebin"
    fakebin.mkdir(exist_ok=True)
    write(fakebin / "modprobe", wrapper(FAKE_MODPROBE, str(path)), mode=0o755)
    write(fakebin / "swapoff", wrapper(FAKE_SWAPOFF, str(path)), mode=0o755)
    write(fakebin / "sysctl", FAKE_SYSCTL.replace("ROOT", str(path)), mode=0o755)
    write(fakebin / "systemctl", FAKE_SYSTEMCTL.replace("ROOT", str(path)), mode=0o755)
    return FakeRoot(path, fakebin, spec)


def wrapper(fake: Path, *arguments: str) -> str:
    """The program that runs the Python ``fake`` with ``arguments`` before the caller's own (a fake root first)."""
    words = " ".join(shlex.quote(word) for word in (PYTHON, str(fake), *arguments))
    return f'#!/bin/sh\nexec {words} "$@"\n'


def add_netfilter_tools(root: Path) -> None:
    """ROOT/fakebin/ipvsadm, ipset, ip and the iptables tools: fake_netfilter.py over ROOT's state."""
    for tool in NETFILTER_TOOLS:
        write(root / "fakebin" / tool, wrapper(FAKE_NETFILTER, str(root), tool), mode=0o755)


def in_process(program: str) -> Callable[[list[str], str], Outcome] | None:
    """The fake function ``program`` runs, with the arguments its ``wrapper`` adds already given, or None when
    ``program`` is not such a wrapper (a real tool, or a script a test wrote in its place)."""
    try:
        with open(program, "rb") as file:
            text = file.read(4096).decode()
        words = shlex.split(text.split("\n")[1]) if text.startswith("#!/bin/sh\nexec ") else []
    except (OSError, UnicodeDecodeError, ValueError):  # unreadable, a binary, or shell that is not a wrapper's
        return None
    if len(words) < 4 or words[2] not in IN_PROCESS or text != wrapper(Path(words[2]), *words[3:-1]):
        return None
    fake, arguments = IN_PROCESS[words[2]], words[3:-1]
    return lambda argv, stdin: fake([*arguments, *argv], stdin)


def execute(
    program: str, argv: list[str], timeout: float | None, output_limit: int | None, stdin: str | None
) -> Completed:
    """``k8snode.core.system.execute`` for the tests that run k8snode in their own process: a fake written in Python
    runs here, as a function (its outcome is the program's); anything else starts as a process. Output capped at a
    limit merges stdout and stderr in the order written, which only a process shows, so it too starts one."""
    fake = in_process(program)
    if fake is None or output_limit is not None:
        return START_PROCESS(program, argv, timeout, output_limit, stdin)
    outcome = fake(argv[1:], stdin or "")
    return Completed(tuple(argv), outcome.returncode, outcome.stdout, outcome.stderr)


def _ko(name: str, *, xz: bool = True) -> str:
    folder = "net/netfilter/ipvs" if name.startswith("ip_vs") else "net/netfilter"
    return f"kernel/{folder}/{name}.ko" + (".xz" if xz else "")


def write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def add_network(
    root: Path, address: str = "192.0.2.10", prefix: int = 24, gateway: str = "192.0.2.1", interface: str = "eth0"
) -> None:
    """/proc/net/route (default route via ``gateway``) and /proc/net/fib_trie as Linux prints them for one NIC."""
    import ipaddress

    network = ipaddress.IPv4Network(f"{address}/{prefix}", strict=False)

    def hexed(ip: ipaddress.IPv4Address) -> str:
        return f"{int.from_bytes(ip.packed, sys.byteorder):08X}"

    zero = ipaddress.IPv4Address(0)
    header = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT"
    rows = [
        (interface, hexed(zero), hexed(ipaddress.IPv4Address(gateway)), "0003", hexed(zero)),
        (interface, hexed(network.network_address), hexed(zero), "0001", hexed(network.netmask)),
    ]
    route = [header] + [f"{i}\t{d}\t{g}\t{f}\t0\t0\t0\t{m}\t0\t0\t0" for i, d, g, f, m in rows]
    write(root / "proc/net/route", "\n".join(route) + "\n")
    trie = [
        "Main:",
        "  +-- 0.0.0.0/0 3 0 5",
        "     |-- 0.0.0.0",
        "        /0 universe UNICAST",
        "     +-- 127.0.0.0/8 2 0 2",
        "        |-- 127.0.0.1",
        "           /32 host LOCAL",
        f"     +-- {network} 2 0 2",
        f"        |-- {network.network_address}",
        f"           /{prefix} link UNICAST",
        f"        |-- {address}",
        "           /32 host LOCAL",
        f"        |-- {network.broadcast_address}",
        "           /32 link BROADCAST",
    ]
    write(root / "proc/net/fib_trie", "\n".join(trie) + "\n")


def make_node(path: Path, address: str = "192.0.2.10", kernel_release: str = "6.1.0-28-amd64") -> Path:
    """A root for kubeadm-config: primary IPv4 ``address`` (default route via eth0) and a kernel release."""
    add_network(path, address)
    write(path / "proc/sys/kernel/osrelease", kernel_release + "\n")
    return path


SWAPS_HEADER = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
DEBIAN_SYSCTL_CONF = """#
# /etc/sysctl.conf - Configuration file for setting system variables
# See /etc/sysctl.d/ for additional system variables.
# See sysctl.conf (5) for information.
#

# Uncomment the next line to enable packet forwarding for IPv4
#net.ipv4.ip_forward=1
"""
SYSTEMD_50_DEFAULT = """# Shipped by systemd (abridged)
kernel.sysrq = 16
net.ipv4.conf.default.rp_filter = 2
-net.ipv4.conf.all.rp_filter = 2
net.ipv4.conf.*.promote_secondaries = 1
"""
FSTAB_HEAD = "# /etc/fstab: static file system information.\nUUID=1111-root / ext4 errors=remount-ro 0 1\n"
LAYOUTS = {
    # name: (kernel, fstab swap lines, active swaps, extra files)
    "debian": (
        "deb12-6.1",
        ["UUID=2222-swap none            swap    sw              0       0\n"],
        ["/dev/sda2"],
        {},
    ),
    "ubuntu": (
        "ubuntu-5.15",
        ["/swap.img\tnone\tswap\tsw\t0\t0\n"],
        ["/swap.img"],
        {"usr/lib/sysctl.d/10-network-security.conf": "net.ipv4.conf.default.rp_filter=2\n"},
    ),
    "rhel": (
        "el8.3-4.18",
        ["/dev/mapper/rhel-swap   none                    swap    defaults        0 0\n"],
        ["/dev/dm-1"],
        {"etc/sysconfig/modules/.keep": ""},
    ),
    "fedora-zram": (
        "deb12-6.1",
        [],
        ["/dev/zram0"],
        {
            "usr/lib/systemd/system-generators/zram-generator": "",
            "usr/lib/systemd/zram-generator.conf": "[zram0]\nzram-size = min(ram, 8192)\n",
            "run/systemd/generator/dev-zram0.swap": "[Swap]\nWhat=/dev/zram0\n",
        },
    ),
}


def make_host(path: Path, layout: str) -> FakeRoot:
    """A fake root dressed as a fresh install of ``layout`` (LAYOUTS): sysctl files, fstab, active swap."""
    kernel, fstab_swap, active, extra = LAYOUTS[layout]
    root = make_root(path, kernel)
    add_node_state(path, active)
    write(path / "etc/sysctl.conf", DEBIAN_SYSCTL_CONF)
    (path / "etc/sysctl.d").mkdir(parents=True, exist_ok=True)
    (path / "etc/sysctl.d/99-sysctl.conf").symlink_to("../sysctl.conf")
    write(path / "usr/lib/sysctl.d/50-default.conf", SYSTEMD_50_DEFAULT)
    write(path / "etc/fstab", FSTAB_HEAD + "".join(fstab_swap))
    for name, text in extra.items():
        write(path / name, text)
    return root


def add_node_state(path: Path, swaps: tuple[str, ...] | list[str] = ()) -> None:
    """The /proc a booted node shows before anyone prepared it: forwarding off, ``swaps`` active; and systemd's
    unit directory and binary, which every systemd host has (k8snode.runtime.support.systemd_host reads the binary:
    a fake root is not booted, so it has no /run/systemd/system)."""
    (path / "etc/systemd/system").mkdir(parents=True, exist_ok=True)
    write(path / "usr/lib/systemd/systemd", "", mode=0o755)
    write(path / "proc/sys/net/ipv4/ip_forward", "0\n")
    write(path / "proc/sys/net/ipv6/conf/all/forwarding", "0\n")
    write(path / "proc/swaps", SWAPS_HEADER + "".join(f"{d}\tpartition\t1048572\t0\t-2\n" for d in swaps))


def fake_nft(folder, version_line: str) -> None:
    """An nft that answers --version as the real one does (one line: the version and its release's codename)."""
    write(folder / "nft", f'#!/bin/sh\n[ "$1" = --version ] && echo "{version_line}" && exit 0\nexit 1\n', mode=0o755)


@contextmanager
def held_lock(root: Path) -> Iterator[None]:
    """Hold ``root``'s /run/k8snode.lock as another k8snode run does: a 0600 file of the caller's, locked."""
    (root / "run").mkdir(exist_ok=True)
    fd = os.open(root / "run/k8snode.lock", os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


CONTAINERD_VERSION_LINES = {
    # containerd --version, as each release prints it (cmd/containerd/command: "%s %s %s %s": the binary's name, its
    # Go package, version and commit); Debian's package gives its own version string and no commit of upstream's.
    "2.4.2": "containerd github.com/containerd/containerd/v2 v2.4.2 0a9d0b7e8d0ae7c5bd6e8c0e6c3e1f8c4b9d2a11",
    "2.2.1": "containerd github.com/containerd/containerd/v2 v2.2.1 dea7da592f5d1d2b7755e3a161be07f43fad8f75",
    "1.7.27": "containerd github.com/containerd/containerd v1.7.27 05044ec0a9a75232cad458027ca83437aae3f4da",
    "1.6.20~ds1": "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u1",
}
CRIO_VERSION = """crio version 1.34.1
Version:        1.34.1
GitCommit:      9f2a1b5c3e0d4c7b8a6f5e4d3c2b1a0f9e8d7c6b
GitCommitDate:  2025-10-02T14:09:51Z
GitTreeState:   clean
BuildDate:      1970-01-01T00:00:00Z
GoVersion:      go1.24.6
Compiler:       gc
Platform:       linux/amd64
Linkmode:       static
BuildTags:
  static
  netgo
  osusergo
  exclude_graphdriver_btrfs
  seccomp
  apparmor
  selinux
  exclude_graphdriver_devicemapper
LDFlags:          unknown
SeccompEnabled:   true
AppArmorEnabled:  false
"""


def fake_containerd(folder: Path, version: str = "2.4.2", *, runc: bool = True) -> None:
    """containerd on PATH that answers --version as the real one does (one line; CONTAINERD_VERSION_LINES), and a
    runc beside it (the runtime the CRI starts containers with)."""
    line = CONTAINERD_VERSION_LINES[version]
    write(folder / "containerd", f'#!/bin/sh\n[ "$1" = --version ] && echo "{line}" && exit 0\nexit 1\n', mode=0o755)
    if runc:
        write(folder / "runc", "#!/bin/sh\nexit 0\n", mode=0o755)


def fake_crio(folder: Path) -> None:
    """crio on PATH that answers --version as CRI-O 1.34 does: its version line, then its build's details."""
    write(folder / "crio", f'#!/bin/sh\n[ "$1" = --version ] && cat <<"EOF"\n{CRIO_VERSION}EOF\n', mode=0o755)
