"""A fleet of local sandbox hosts for the Ansible role: fake roots, an inventory, and ansible-playbook runs.

Every host is ``ansible_connection: local`` with its own fake root (tests/fakes.py) and finds that root's fake
modprobe first on PATH through the role's ``k8snode_environment``. Shared by tests/ansible and bench/.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fakes import FSTAB_HEAD, FakeRoot, add_node_state, make_root, write
from servers import CLOSED_PORT
from where import REPO

ANSIBLE_DIR = REPO / "ansible"
PLAYBOOKS = ANSIBLE_DIR / "playbooks"
VENV_BIN = Path(sys.executable).parent
CONSOLE_SCRIPT = VENV_BIN / "k8snode"
# pip's index in every run: a port where nothing listens, so that a run needing an index fails.
UNREACHABLE_INDEX = f"http://127.0.0.1:{CLOSED_PORT}/simple"
ROLE = ANSIBLE_DIR / "roles/k8snode"
RECAP_LINE = re.compile(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$")
FATAL_LINE = re.compile(r"^fatal: \[([^\]]+)\]: FAILED! => (\{.*\})$")


@dataclass
class Host:
    name: str
    group: str
    root: FakeRoot
    vars: dict[str, Any] = field(default_factory=dict)


def make_fleet(base: Path, groups: dict[str, tuple[str, int]], swaps: tuple[str, ...] = ()) -> list[Host]:
    """``groups`` maps a group name to (kernel from fakes.KERNELS, number of hosts); each host gets a fake root,
    booted with forwarding off and ``swaps`` on (each in /etc/fstab too)."""
    hosts = []
    for group, (kernel, count) in groups.items():
        for index in range(1, count + 1):
            name = f"{group}-{index}"
            root = make_root(base / name, kernel)
            add_node_state(root.path, swaps)
            if swaps:
                write(root.path / "etc/fstab", FSTAB_HEAD + "".join(f"{d} none swap sw 0 0\n" for d in swaps))
            (root.path / "usr/local/bin").mkdir(parents=True, exist_ok=True)
            host_vars = {
                "k8snode_root": str(root.path),
                "k8snode_environment": {"PATH": f"{root.bin}{os.pathsep}{os.environ['PATH']}"},
            }
            hosts.append(Host(name, group, root, host_vars))
    return hosts


def write_inventory(
    path: Path,
    hosts: list[Host],
    common: dict[str, Any],
    *,
    group_vars: dict[str, dict[str, Any]] | None = None,
    control_plane: Sequence[str] = (),
    connection: dict[str, Any] | None = None,
) -> Path:
    """A YAML inventory (written as JSON, which YAML reads): one group per kernel, all under k8s_cluster.
    ``connection``: the variables every host reaches its host with (default: local, with this Python); {} when each
    host's vars carry them (tests/sshfleet.py)."""
    children: dict[str, Any] = {}
    for host in hosts:
        group = children.setdefault(host.group, {"hosts": {}, "vars": dict((group_vars or {}).get(host.group, {}))})
        group["hosts"][host.name] = host.vars
    children["kube_control_plane"] = {"hosts": {name: {} for name in control_plane}}
    if connection is None:
        connection = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory = {"all": {"vars": {**connection, **common}, "children": {"k8s_cluster": {"children": children}}}}
    path.write_text(json.dumps(inventory, indent=1))
    return path


@dataclass
class PlaybookRun:
    returncode: int
    stdout: str
    stderr: str

    def recap(self) -> dict[str, dict[str, int]]:
        """The PLAY RECAP: host -> {ok, changed, unreachable, failed, skipped, rescued, ignored}."""
        text = self.stdout.rsplit("PLAY RECAP", 1)[-1]
        rows = {}
        for line in text.splitlines():
            match = RECAP_LINE.match(line.strip())
            if match:
                rows[match[1]] = {k: int(v) for k, v in (pair.split("=") for pair in match[2].split())}
        return rows

    def failures(self) -> dict[str, list[dict[str, Any]]]:
        """host -> the results of its failed tasks, in order."""
        found: dict[str, list[dict[str, Any]]] = {}
        for line in self.stdout.splitlines():
            match = FATAL_LINE.match(line)
            if match:
                found.setdefault(match[1], []).append(json.loads(match[2]))
        return found


def ansible_env(workdir: Path) -> dict[str, str]:
    """The environment of an ansible-playbook run: this repo's role, plain output, temp dirs under ``workdir``,
    and no package index (pip's points at a closed port)."""
    inherited = {k: v for k, v in os.environ.items() if k not in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL")}
    return {
        **inherited,
        "PIP_INDEX_URL": UNREACHABLE_INDEX,
        "ANSIBLE_ROLES_PATH": str(ANSIBLE_DIR / "roles"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_HOST_KEY_CHECKING": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCAL_TEMP": str(workdir / "ansible-local"),
        "ANSIBLE_REMOTE_TMP": str(workdir / "ansible-remote"),
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
    }


def run_playbook(
    playbook: Path,
    inventory: Path,
    *args: str,
    workdir: Path,
    timeout: float = 600,
    env: dict[str, str] | None = None,
) -> PlaybookRun:
    """ansible-playbook with ansible_env(workdir), and ``env`` over it."""
    done = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(playbook), *args],
        capture_output=True,
        text=True,
        env={**ansible_env(workdir), **(env or {})},
        cwd=workdir,
        timeout=timeout,
    )
    return PlaybookRun(done.returncode, done.stdout, done.stderr)


def python_39() -> str:
    """A Python 3.9 from pyenv, to stand for a host whose Python is too old for k8snode; a skip when there is none."""
    candidates = sorted((Path.home() / ".pyenv/versions").glob("3.9.*/bin/python3.9"))
    if not candidates:
        pytest.skip("no Python 3.9 under pyenv to stand for a host without Python 3.10+")
    return str(candidates[-1])
