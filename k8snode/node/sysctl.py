"""Kernel parameters: what runs now (/proc/sys), setting them, and what the next boot would apply.

Boot order: systemd-sysctl reads sysctl.d from /etc, /run, /usr/local/lib, /usr/lib (and /lib on split-usr systems),
one file per basename, sorted by basename, later wins (systemd src/sysctl/sysctl.c, CONF_PATHS("sysctl.d"));
``sysctl --system`` (procps) reads the same directories and then /etc/sysctl.conf last, which is how
/etc/sysctl.conf silently overrides sysctl.d on distributions that run it at boot. A key is written with '.' or
'/' as separator; when the first separator is '/', the two swap roles (sysctl.d(5)). An explicit key beats a
glob in systemd whatever the order, so globs never override the keys set here and are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from k8snode.core.errors import K8snodeError, failed
from k8snode.core.system import System
from k8snode.node.configfiles import ConfigFile, lines, ordered, read_config

SYSCTL_DIRS = ("/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d")
SYSCTL_CONF = PurePosixPath("/etc/sysctl.conf")


@dataclass(frozen=True)
class Setting:
    """One sysctl key's value and the line that sets it."""

    key: str
    value: str
    where: str
    """``file:line`` that set it."""


def normalize(key: str) -> str:
    """The dotted form of a sysctl key (``net/ipv4/ip_forward`` -> ``net.ipv4.ip_forward``)."""
    key = key.strip()
    slash, dot = key.find("/"), key.find(".")
    if slash != -1 and (dot == -1 or slash < dot):
        key = key.translate(str.maketrans("./", "/."))
    return key


def proc_path(key: str) -> PurePosixPath:
    return PurePosixPath("/proc/sys") / normalize(key).replace(".", "/")


def running(system: System, key: str) -> str | None:
    """The value the kernel has now, or None when the key does not exist (its module is not loaded)."""
    try:
        text = system.read_text(proc_path(key))
    except K8snodeError:
        return None
    return None if text is None else " ".join(text.split())


def set_running(system: System, key: str, value: str) -> None:
    """Write ``value`` to /proc/sys and read it back: the kernel may refuse or clamp a value."""
    path = proc_path(key)
    if not system.exists(path):
        raise failed(f"{path} does not exist, so {key} cannot be set (is its module loaded?)")
    system.write_in_place(path, f"{value}\n".encode())
    now = running(system, key)
    if now != value:
        raise failed(f"wrote {value} to {path} but the kernel reports {now}")


def parse(file: ConfigFile) -> list[Setting]:
    """The assignments in a sysctl.d file; lines that are not ``key = value`` are skipped, as systemd does."""
    settings = []
    for number, line in lines(file.data or b""):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;" or "=" not in stripped:
            continue
        key, _, value = stripped.partition("=")
        key = normalize(key.lstrip("-"))
        if not key or "*" in key or "?" in key or "\0" in key or "\ufffd" in key:
            continue
        settings.append(Setting(key, " ".join(value.split()), f"{file.path}:{number}"))
    return settings


@dataclass(frozen=True)
class BootView:
    """The sysctls a reboot would apply, in systemd-sysctl's order."""

    settings: dict[str, Setting]
    """The value each key gets at boot and the line it comes from."""
    problems: list[str]
    """Files that could not be audited."""


def boot_view(system: System, planned: dict[PurePosixPath, bytes | None]) -> BootView:
    """What a reboot would apply after a run that writes ``planned``: sysctl.d in order, then /etc/sysctl.conf."""
    files = ordered(system, SYSCTL_DIRS, planned)
    files.append(read_config(system, SYSCTL_CONF))
    settings: dict[str, Setting] = {}
    problems = []
    for file in files:
        if file.problem:
            problems.append(file.problem)
        for setting in parse(file):
            settings[setting.key] = setting
    return BootView(settings, problems)
