"""Which container runtime a node runs, its version, and the dispatch to that runtime's checks and undo.

auto looks for each runtime's socket under the root (containerd: /run/containerd/containerd.sock; CRI-O:
/var/run/crio/crio.sock, both the defaults kubeadm knows: cmd/kubeadm/app/constants) and for its binary on this
host's PATH (``System.which``); the version is what ``containerd --version`` or ``crio --version`` prints.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from k8snode.core.errors import K8snodeError
from k8snode.core.files import FilePlan
from k8snode.core.system import System
from k8snode.runtime.model import RuntimeChoice, RuntimePlan, Wanted

SOCKETS = {
    RuntimeChoice.CONTAINERD: PurePosixPath("/run/containerd/containerd.sock"),
    RuntimeChoice.CRIO: PurePosixPath("/var/run/crio/crio.sock"),
}
BINARIES = {RuntimeChoice.CONTAINERD: "containerd", RuntimeChoice.CRIO: "crio"}
VERSION_TIMEOUT = 10.0


def find(system: System, choice: RuntimeChoice) -> tuple[str | None, str | None]:
    """The runtime's name and version (each None when not found); auto takes the first with a socket, else the
    first with a binary, containerd before CRI-O."""
    if choice == RuntimeChoice.NONE:
        return None, None
    candidates = [choice] if choice != RuntimeChoice.AUTO else [RuntimeChoice.CONTAINERD, RuntimeChoice.CRIO]
    present = [c for c in candidates if system.exists(SOCKETS[c]) or system.is_symlink(SOCKETS[c])]
    present += [c for c in candidates if c not in present and system.which(BINARIES[c])]
    if not present:
        return None, None
    return str(present[0]), version(system, present[0])


def version(system: System, runtime: RuntimeChoice) -> str | None:
    """``containerd --version`` (``containerd github.com/containerd/containerd/v2 v2.4.2 <commit>``) or
    ``crio --version`` (``crio version 1.34.1`` then ``Version:  1.34.1`` and more lines); None when the binary
    is not on this host or says nothing that reads as a version."""
    binary = BINARIES[runtime]
    if system.which(binary) is None:
        return None
    try:
        done = system.run([binary, "--version"], timeout=VERSION_TIMEOUT)
    except K8snodeError:
        return None
    if done.returncode != 0:
        return None
    if runtime == RuntimeChoice.CONTAINERD:
        words = done.stdout.split()
        match = re.fullmatch(r"v?([0-9]+\.[0-9]+\.[0-9]+\S*)", words[2]) if len(words) >= 3 else None
    else:
        match = re.search(r"^Version:\s*v?([0-9]+\.[0-9]+\.[0-9]+\S*)", done.stdout, re.MULTILINE) or re.search(
            r"^crio version v?([0-9]+\.[0-9]+\.[0-9]+\S*)", done.stdout, re.MULTILINE
        )
    return match[1] if match else None


def assess(system: System, choice: RuntimeChoice, wanted: Wanted, command: str) -> RuntimePlan | None:
    """The plan of the runtime ``choice`` names or auto finds; None when there is none."""
    name, found_version = find(system, choice)
    return None if name is None else plan(system, name, found_version, wanted, command)


def plan(system: System, name: str, found_version: str | None, wanted: Wanted, command: str) -> RuntimePlan:
    """The plan of the runtime ``find`` found."""
    if name == RuntimeChoice.CONTAINERD:
        from k8snode.runtime import containerd  # lazy: tomlkit's editor and hashlib, only on a containerd node

        return containerd.assess(system, wanted, version=found_version, command=command)
    from k8snode.runtime import crio  # lazy: only a CRI-O node reads its drop-ins

    return crio.assess(system, wanted, version=found_version, command=command)


def undo(system: System, choice: RuntimeChoice, *, force: bool) -> tuple[list[FilePlan], list[str]]:
    """What `reset` undoes of the runtime's files: auto looks at every runtime's records, so a runtime removed
    since prepare still gets its files back."""
    from k8snode.runtime import containerd, crio

    files: list[FilePlan] = []
    warnings: list[str] = []
    for runtime, wanted in ((containerd, RuntimeChoice.CONTAINERD), (crio, RuntimeChoice.CRIO)):
        if choice in (RuntimeChoice.AUTO, wanted):
            undone, said = runtime.undo(system, force=force)
            files += undone
            warnings += said
    return files, warnings
