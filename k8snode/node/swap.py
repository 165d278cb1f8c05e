"""Swap: what is on now (/proc/swaps), what would turn it on at boot (/etc/fstab, systemd .swap units,
zram-generator), and the edits that turn it off for good.

/etc/fstab is the one file k8snode edits without owning it: a swap entry is commented out with MARK in front of
its bytes, every other byte is kept, and ``reset`` removes exactly that prefix. systemd turns fstab swap entries
into ``<escaped path>.swap`` units (systemd-fstab-generator), and zram-generator makes ``dev-zramN.swap`` from
zram-generator.conf; a unit linked to /dev/null in /etc/systemd/system is masked and never starts.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from k8snode.core.compat import StrEnum
from k8snode.core.errors import K8snodeError, bad_input
from k8snode.core.files import Action
from k8snode.core.system import System
from k8snode.node.configfiles import MAX_CONFIG_BYTES, lines

FSTAB = PurePosixPath("/etc/fstab")
FSTAB_BACKUP = PurePosixPath("/etc/fstab.k8snode-orig")
MARK = b"#k8snode-swap-off# "
MASK_DIR = PurePosixPath("/etc/systemd/system")
RUNNING_SYSTEMD = PurePosixPath("/run/systemd/system")
"""Exists while systemd is the running init: the test of systemd's sd_booted(3)."""
RELOAD_TIMEOUT = 120.0
UNIT_DIRS = (
    "/etc/systemd/system",
    "/run/systemd/system",
    "/run/systemd/generator",
    "/run/systemd/generator.early",
    "/run/systemd/generator.late",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
)
ZRAM_GENERATORS = (
    "/usr/lib/systemd/system-generators/zram-generator",
    "/lib/systemd/system-generators/zram-generator",
)
ZRAM_CONF = PurePosixPath("/etc/systemd/zram-generator.conf")
ZRAM_VENDOR = ("/usr/local/lib/systemd/zram-generator.conf", "/usr/lib/systemd/zram-generator.conf")
ZRAM_DROPIN_DIRS = (
    "/etc/systemd/zram-generator.conf.d",
    "/run/systemd/zram-generator.conf.d",
    "/usr/local/lib/systemd/zram-generator.conf.d",
    "/usr/lib/systemd/zram-generator.conf.d",
)


class SwapMode(StrEnum):
    """off: swap off now and at boot (kubeadm's preflight and the kubelet's default); keep: leave it on on purpose."""

    OFF = "off"
    KEEP = "keep"


FAIL_SWAP_ON_SINCE = (1, 8)
"""kubernetes/kubernetes PR #47181 (1.8): the kubelet refuses to start with swap on unless --fail-swap-on=false;
before, it started anyway (its --experimental-fail-swap-on was off by default). failSwapOn is a
KubeletConfiguration field from 1.10."""
SWAP_BEHAVIOR_SINCE = (1, 30)
"""kubernetes/kubernetes pkg/features/kube_features.go, NodeSwap: alpha in 1.22 and beta in 1.28, both off by
default; beta and on by default from 1.30, GA in 1.34. Only with the gate on does the kubelet read
memorySwap.swapBehavior; NoSwap (pods get no swap, the node keeps it) is a value from 1.30."""


_OCTAL = re.compile(r"\\([0-7]{3})")
_UNIT_SAFE = re.compile(r"[A-Za-z0-9:_.]")


def active(system: System) -> list[str] | None:
    """The swap devices and files in use, from /proc/swaps (its ``\\040`` escapes undone); None without it. A name
    no path can hold (a NUL) is bad input, refused while `prepare` is still reading, before anything changes."""
    text = system.read_text("/proc/swaps")
    if text is None:
        return None
    names = [_OCTAL.sub(lambda m: chr(int(m[1], 8)), line.split()[0]) for line in text.splitlines()[1:] if line.split()]
    for name in names:
        if "\0" in name:
            raise bad_input(f"/proc/swaps names a swap device with a NUL byte ({name!r}), which no path holds")
    return names


def unit_name(path: str) -> str:
    """systemd's unit name for a swap path (``systemd-escape --path --suffix=swap``)."""
    trimmed = "/".join(part for part in path.split("/") if part) or "/"
    if trimmed == "/":
        return "-.swap"
    out = []
    for index, char in enumerate(trimmed):
        if char == "/":
            out.append("-")
        elif _UNIT_SAFE.fullmatch(char) and not (index == 0 and char == "."):
            out.append(char)
        else:
            out.extend(f"\\x{byte:02x}" for byte in char.encode())
    return "".join(out) + ".swap"


@dataclass
class Fstab:
    """/etc/fstab now and with its swap entries commented out."""

    current: bytes | None
    wanted: bytes | None
    entries: list[str]
    """The swap entries that would be (or were) commented out, as their source text."""
    lines: list[bytes] = field(default_factory=list)
    """Those entries' bytes, without the line end: what `prepare` records so that `reset` restores only them."""


def read_fstab(system: System) -> bytes | None:
    """/etc/fstab's bytes; text k8snode cannot safely edit is bad input, refused before anything changes."""
    size = system.size(FSTAB)
    if size is not None and size > MAX_CONFIG_BYTES:
        raise bad_input(f"{FSTAB} is {size} bytes; k8snode edits an fstab of at most {MAX_CONFIG_BYTES} bytes")
    data = system.read_bytes(FSTAB)
    if data is None:
        return None
    if b"\0" in data:
        raise bad_input(f"{FSTAB} holds NUL bytes, so it is not an fstab; repair it before k8snode edits it")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise bad_input(f"{FSTAB} is not valid UTF-8 (byte {error.start}); repair it before k8snode edits it") from None
    return data


def swap_off_fstab(data: bytes | None) -> Fstab:
    """Comment out the swap entries that ``swapon -a`` would turn on (type swap, no ``noauto``)."""
    if data is None:
        return Fstab(None, None, [])
    out, entries, lines_off = [], [], []
    for line in data.splitlines(keepends=True):
        fields = line.split()
        if len(fields) >= 3 and not fields[0].startswith(b"#") and fields[2] == b"swap":
            options = fields[3].split(b",") if len(fields) > 3 else []
            if b"noauto" not in options:
                out.append(MARK + line)
                entries.append(line.decode().rstrip("\r\n"))
                lines_off.append(line.rstrip(b"\r\n"))
                continue
        out.append(line)
    return Fstab(data, b"".join(out), entries, lines_off)


def restore_fstab(data: bytes | None, recorded: list[bytes]) -> Fstab:
    """Remove the MARK that ``swap_off_fstab`` put in front of the ``recorded`` lines (each as often as recorded);
    a line that bore the MARK before, such as on a host cloned from a prepared image, stays. Nothing else changes."""
    if data is None:
        return Fstab(None, None, [])
    left = Counter(recorded)
    out, entries = [], []
    for line in data.splitlines(keepends=True):
        bare = line[len(MARK) :]
        if line.startswith(MARK) and left[bare.rstrip(b"\r\n")] > 0:
            left[bare.rstrip(b"\r\n")] -= 1
            line = bare
            entries.append(line.decode(errors="replace").rstrip("\r\n"))
        out.append(line)
    return Fstab(data, b"".join(out), entries)


def fstab_lines(data: bytes | None) -> list[bytes]:
    """The lines of an fstab (or of k8snode's record of them) without their line ends."""
    return [line.rstrip(b"\r\n") for line in (data or b"").splitlines(keepends=True)]


def swap_units(system: System) -> list[str]:
    """Every ``.swap`` unit a unit directory holds, masked or not."""
    return sorted({name for d in UNIT_DIRS for name in system.listdir(d) if name.endswith(".swap")})


def masked(system: System, unit: str) -> bool:
    return system.readlink(MASK_DIR / unit) == "/dev/null"


def reload_units(system: System, *, dry_run: bool) -> tuple[Action | None, list[str]]:
    """After masking or unmasking: ``systemctl daemon-reload``, so the running systemd sees the change now (a unit
    it generated at boot stays loaded until then). Only when that systemd manages this root: ``--root /`` and
    /run/systemd/system present; under another root the masks take effect when that system boots. Returns the
    action for ``data`` (ran, would-run, failed, or None when nothing was run) and warnings: the masks are on disk
    either way, so a failed reload is a warning naming the command, not a failed prepare."""
    if system.root != Path("/") or not system.exists(RUNNING_SYSTEMD):
        return None, []
    if dry_run:
        return Action.WOULD_RUN, []
    try:
        completed = system.run(["systemctl", "daemon-reload"], timeout=RELOAD_TIMEOUT)
    except K8snodeError as error:  # not on PATH, or no answer within the timeout
        return Action.FAILED, [f"systemctl daemon-reload: {error}; systemd sees the change at the next boot"]
    if completed.returncode != 0:
        detail = completed.stderr.strip() or f"exit {completed.returncode}"
        return Action.FAILED, [f"systemctl daemon-reload failed ({detail}); systemd sees the change at the next boot"]
    return Action.RAN, []


def zram_generator_installed(system: System) -> bool:
    return any(system.exists(path) for path in ZRAM_GENERATORS)


def zram_dropins(system: System) -> list[str]:
    """Drop-ins that would still define zram devices after the main file is replaced, each named by its path (and,
    for a link, where it leads).

    zram-generator reads a linked drop-in through its link, as systemd reads drop-ins (systemd.unit(5)): so does
    k8snode, inside the root, and a link to /dev/null masks the name. A link k8snode cannot read inside the root
    counts as one that defines a device (it could), and says why."""
    found = []
    for directory in ZRAM_DROPIN_DIRS:
        for name in system.listdir(directory):
            path = PurePosixPath(directory) / name
            if not name.endswith(".conf"):
                continue
            shown, target = str(path), path
            if system.is_symlink(path):
                try:
                    target = system.resolve_link(path)
                except K8snodeError as error:
                    found.append(f"{path} (a link k8snode cannot follow: {error.message})")
                    continue
                if target == PurePosixPath("/dev/null"):
                    continue
                shown = f"{path} (a link to {target})"
            try:
                size = system.size(target) or 0
                data = system.read_bytes(target) if size <= MAX_CONFIG_BYTES else b"[zram"
            except K8snodeError as error:
                found.append(f"{shown} (unreadable: {error.message})")
                continue
            if any(line.strip().startswith("[zram") for _, line in lines(data or b"")):
                found.append(shown)
    return found


def at_boot(system: System) -> list[str]:
    """What would turn swap on at the next boot: fstab entries, unmasked swap units, zram-generator devices."""
    found = [f"{FSTAB}: {entry}" for entry in swap_off_fstab(read_fstab(system)).entries]
    found += [f"unit {unit}" for unit in swap_units(system) if not masked(system, unit)]
    if zram_generator_installed(system):
        override = system.read_bytes(ZRAM_CONF)
        config = override if override is not None else b"".join(system.read_bytes(p) or b"" for p in ZRAM_VENDOR)
        if any(line.strip().startswith("[zram") for _, line in lines(config)):
            found.append("zram-generator.conf defines a zram device")
        found += [f"{path} defines a zram device" for path in zram_dropins(system)]
    return found


KEEP_ADVICE = (
    "swap stays on: the kubelet then needs failSwapOn: false (--fail-swap-on=false, from kubelet "
    f"{FAIL_SWAP_ON_SINCE[0]}.{FAIL_SWAP_ON_SINCE[1]}) and, from {SWAP_BEHAVIOR_SINCE[0]}.{SWAP_BEHAVIOR_SINCE[1]}, "
    "memorySwap.swapBehavior NoSwap; `k8snode kubelet-flags --swap keep` and `k8snode kubeadm-config "
    "--kubelet-config --swap keep` write them"
)


def kubelet_keep_swap(version: tuple[int, int]) -> tuple[dict[str, object], list[str]]:
    """The KubeletConfiguration fields a kubelet of ``version`` needs on a node that keeps swap on, and a note
    for each field left out. ``node prepare --swap keep``, ``kubelet-flags`` and ``kubeadm-config`` all use it."""
    if version < FAIL_SWAP_ON_SINCE:
        return {}, [f"kubelet {version[0]}.{version[1]} starts with swap on (failSwapOn came in 1.8): nothing to set"]
    fields: dict[str, object] = {"failSwapOn": False}
    if version < SWAP_BEHAVIOR_SINCE:
        note = (
            f"kubelet {version[0]}.{version[1]}: memorySwap.swapBehavior is left out (it needs the NodeSwap feature "
            "gate, which came in 1.22 and is off by default before 1.30); only failSwapOn: false is set"
        )
        return fields, [note]
    fields["memorySwap"] = {"swapBehavior": "NoSwap"}  # said outright: pods do not swap; LimitedSwap would let them
    return fields, []
