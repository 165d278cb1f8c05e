"""Boot Debian's real kernel under qemu and run a shell script inside it.

The guest has no disk of its own. The host's root filesystem is shared read-only over virtio-9p and a RAM overlay
sits on top of it, so the guest runs the host's bash, python, venv, modprobe and /lib/modules/<release>, and
anything it writes is lost at power-off. A second, writable 9p share (a host directory) carries the script in and
the results out. A tiny busybox initramfs loads the virtio/9p/overlay modules, mounts all that, chroots into the
overlay, runs the script and powers off.

Build products (the uncompressed kernel and the initramfs) are cached under ~/.cache/k8snode-vm/<release>/.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import os
import re
import shutil
import stat
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

QEMU = "qemu-system-x86_64"
BUSYBOX = Path("/bin/busybox")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "k8snode-vm"
# Seconds. A boot with a few k8snode calls takes about 20 s under TCG on an idle machine, and was seen at 73 s with
# the two cores shared with other work (load average 15). The limit is for a hung or paused qemu, not a slow one.
BOOT_TIMEOUT = 300
MEMORY_MIB = 1024
GUEST_MODULES = ("virtio_pci", "9pnet_virtio", "9p", "overlay")
GUEST_RESULTS = "/results"  # where the writable share is mounted inside the guest

# PID 1 of the initramfs. Mounts the host root read-only with a tmpfs overlay, switches to it and runs /results/run.sh.
# The script's exit code goes to /results/exit; without that file the boot failed before or during the script.
INIT = """#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /host /rw /newroot
mount -t proc proc /proc
mount -t devtmpfs dev /dev
{insmods}
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000 hostroot /host
mount -t tmpfs -o size=512M rw /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work root /newroot
# The host's /proc, /sys, /dev and /run come through the share as they are on the host: cover them (a host /run
# would say that systemd is running). /tmp stays visible: a checkout or venv may live there.
mount -t proc proc /newroot/proc
mount -t sysfs sys /newroot/sys
mount -t devtmpfs dev /newroot/dev
mount -t tmpfs run /newroot/run
# devtmpfs has no /dev/fd; bash process substitution and many tools need it.
ln -s /proc/self/fd /newroot/dev/fd
ln -s /proc/self/fd/0 /newroot/dev/stdin
ln -s /proc/self/fd/1 /newroot/dev/stdout
ln -s /proc/self/fd/2 /newroot/dev/stderr
mkdir -p /newroot{results}
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results /newroot{results}
echo "k8snode-vm: running script"
# switch_root, not chroot: the kernel's own module autoloading runs /sbin/modprobe from the real root, as on a
# booted system. After it the initramfs is gone, so the rest runs under the host's identical static busybox.
exec switch_root /newroot /bin/busybox sh -c '
    /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \\
        /bin/bash {results}/run.sh </dev/null >{results}/run.log 2>&1
    echo $? >{results}/exit
    umount {results}
    echo "k8snode-vm: done"
    /bin/busybox poweroff -f
'
"""


class VMError(RuntimeError):
    """The VM did not boot, did not finish its script in time, or did not power off."""


@dataclass(frozen=True)
class Kernel:
    release: str
    vmlinuz: Path


def find_kernel() -> Kernel | None:
    """The newest /boot/vmlinuz-* that also has its modules installed (the guest loads real .ko files)."""
    found = [
        Kernel(p.name.removeprefix("vmlinuz-"), p)
        for p in Path("/boot").glob("vmlinuz-*")
        if (Path("/lib/modules") / p.name.removeprefix("vmlinuz-") / "modules.dep").exists()
    ]
    return max(found, key=lambda k: k.vmlinuz.stat().st_mtime, default=None)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_bytes(data)
    tmp.replace(path)


def vmlinux(kernel: Kernel, cache: Path) -> Path:
    """Uncompressed ELF kernel from vmlinuz, which qemu boots directly (PVH): about 3.5 s faster than vmlinuz.

    vmlinuz is a boot stub followed by the compressed kernel. As the kernel tree's scripts/extract-vmlinux does,
    look for the compressed stream's magic and decompress from there; Debian compresses with xz.
    """
    image = kernel.vmlinuz.read_bytes()
    out = cache / f"vmlinux-{hashlib.sha256(image).hexdigest()[:12]}"
    if not out.exists():
        start = image.find(b"\xfd7zXZ\x00")
        if start < 0:
            raise VMError(f"{kernel.vmlinuz}: no xz stream found")
        elf = lzma.LZMADecompressor().decompress(image[start:])
        if not elf.startswith(b"\x7fELF"):
            raise VMError(f"{kernel.vmlinuz}: the xz stream is not an ELF kernel")
        _write_atomic(out, elf)
    return out


def module_load_order(kernel: Kernel) -> list[Path]:
    """The .ko files the initramfs needs, dependencies first, as the host's modprobe resolves them."""
    shown = subprocess.run(
        ["modprobe", "-S", kernel.release, "--show-depends", "-a", *GUEST_MODULES],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    order: list[Path] = []
    for line in shown.splitlines():
        match = re.match(r"insmod (\S+)", line)  # "builtin NAME" lines need nothing
        if match and Path(match[1]) not in order:
            order.append(Path(match[1]))
    return order


def _cpio(entries: list[tuple[str, int, bytes, int]]) -> bytes:
    """A 'newc' cpio archive, the format the kernel unpacks as initramfs. Entries: (name, mode, data, rdev)."""
    out = bytearray()
    for ino, (name, mode, data, rdev) in enumerate([*entries, ("TRAILER!!!", 0, b"", 0)], start=1):
        encoded = name.encode() + b"\0"
        fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, os.major(rdev), os.minor(rdev), len(encoded), 0)
        out += b"070701" + b"".join(b"%08X" % f for f in fields) + encoded
        out += b"\0" * (-len(out) % 4) + data
        out += b"\0" * (-len(out) % 4)
    return bytes(out)


def initramfs(kernel: Kernel, cache: Path) -> Path:
    modules = module_load_order(kernel)
    init = INIT.format(insmods="\n".join(f"insmod {m}" for m in modules), results=GUEST_RESULTS).encode()
    digest = hashlib.sha256(init + b"".join(m.read_bytes() for m in modules) + BUSYBOX.read_bytes())
    out = cache / f"initramfs-{digest.hexdigest()[:12]}.cpio"
    if not out.exists():
        dirs = {"bin", "dev", *(str(p).lstrip("/") for m in modules for p in m.parents if p != Path("/"))}
        entries = [(d, stat.S_IFDIR | 0o755, b"", 0) for d in sorted(dirs)]
        entries += [
            # The kernel opens /dev/console for init's stdio before any devtmpfs is mounted.
            ("dev/console", stat.S_IFCHR | 0o600, b"", os.makedev(5, 1)),
            ("bin/busybox", stat.S_IFREG | 0o755, BUSYBOX.read_bytes(), 0),
            ("init", stat.S_IFREG | 0o755, init, 0),
        ]
        entries += [(str(m).lstrip("/"), stat.S_IFREG | 0o644, m.read_bytes(), 0) for m in modules]
        _write_atomic(out, _cpio(entries))
    return out


@dataclass
class Boot:
    """What one boot left behind: the results directory (with run.log and serial.log) and how long it took."""

    results: Path
    seconds: float

    def text(self, name: str) -> str:
        return (self.results / name).read_text()

    # What the guest scripts' `step NAME CMD...` and `snapshot NAME` helpers left in the results share.

    def rc(self, step: str) -> int:
        return int(self.text(f"{step}.rc"))

    def envelope(self, step: str) -> Any:
        return json.loads(self.text(f"{step}.out"))

    def loaded(self, snapshot: str) -> set[str]:
        """Module names in a copy of the guest's /proc/modules."""
        return {line.split()[0] for line in self.text(f"{snapshot}.modules").splitlines()}

    def seconds_between(self, first: str, then: str) -> float:
        """Host-clock seconds between two `mark NAME` files: the guest's own clock drifts under TCG."""
        return (self.results / f"{then}.mark").stat().st_mtime - (self.results / f"{first}.mark").stat().st_mtime

    def show(self, step: str) -> str:
        """For assertion messages: what a step printed."""
        return f"{step}: rc={self.text(step + '.rc').strip()}\n{self.text(step + '.out')}\n{self.text(step + '.err')}"


# The boot_vm fixture: (name, script[, carry]) -> Boot.
Booter = Callable[..., Boot]


def boot(
    kernel: Kernel, script: str, results: Path, timeout: float = BOOT_TIMEOUT, memory_mib: int = MEMORY_MIB
) -> Boot:
    """Boot the kernel, run `script` (bash) inside it with `results` mounted at /results, and power off."""
    cache = CACHE / kernel.release
    cache.mkdir(parents=True, exist_ok=True)
    results.mkdir(parents=True, exist_ok=True)
    (results / "run.sh").write_text(script)
    serial = results / "serial.log"
    command = [
        QEMU,
        # /dev/kvm on these machines is a paravirtual KVM that cannot boot a normal kernel: emulate (TCG).
        *("-accel", "tcg", "-cpu", "max", "-M", "pc", "-m", f"{memory_mib}M", "-smp", "1"),
        *("-nodefaults", "-display", "none", "-no-reboot", "-serial", f"file:{serial}"),
        *("-kernel", str(vmlinux(kernel, cache)), "-initrd", str(initramfs(kernel, cache))),
        *("-append", "console=ttyS0 quiet panic=-1 rdinit=/init"),
        *("-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"),
        *("-virtfs", f"local,path={results},mount_tag=results,security_model=none"),
    ]
    started = time.monotonic()
    try:
        # After some failures qemu pauses instead of exiting, so every boot has a deadline.
        subprocess.run(command, check=True, timeout=timeout, stdin=subprocess.DEVNULL, capture_output=True)
    except (subprocess.TimeoutExpired, subprocess.CalledProcessError) as error:
        qemu_said = (error.stderr or b"").decode(errors="replace")
        raise VMError(f"{error}\n{qemu_said}--- serial ---\n{_read_serial(serial)[-4000:]}") from error
    seconds = time.monotonic() - started
    if not (results / "exit").exists():
        raise VMError(f"the guest script did not finish\n--- serial ---\n{_read_serial(serial)[-4000:]}")
    return Boot(results, seconds)


def _read_serial(path: Path) -> str:
    return path.read_text(errors="replace").replace("\r\n", "\n") if path.exists() else ""


def qemu_available() -> bool:
    return shutil.which(QEMU) is not None and BUSYBOX.exists()
