"""The README's Ansible quick start runs as written, from the repository, against the example inventory.

It names the set-up's ``.venv``; the test runs it with the environment running the tests, wherever that is."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from fleet import REPO, VENV_BIN, PlaybookRun, ansible_env

pytestmark = pytest.mark.ansible


def quick_start() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Ansible", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1, "the Ansible section has one command block, the quick start"
    return blocks[0]


def test_the_readme_quick_start_runs_as_written_in_a_sandbox_of_the_users_own(tmp_path):
    """The example inventory's sandbox root is under the user's HOME (here one of the test's), not a shared /tmp
    path that another user could have made first."""
    command = re.sub(r"(?:\.\./)*\.venv/bin/", f"{VENV_BIN}/", quick_start())  # the set-up's venv: this one
    assert "inventory/example.ini" in command and "--check" in command
    home = tmp_path / "home"
    home.mkdir()
    pyenv = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))  # tools/build_pyz.py finds interpreters there
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=REPO,
        env={
            **ansible_env(tmp_path),
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(home),
            "PYENV_ROOT": pyenv,
        },
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    recap = PlaybookRun(done.returncode, done.stdout, done.stderr).recap()
    assert recap["localhost"]["failed"] == recap["localhost"]["unreachable"] == 0
    assert (home / ".cache/k8snode-sandbox/proc/sys/kernel/osrelease").is_file()


def test_the_sandbox_holds_what_tells_built_in_modules_and_node_check_finds_them(tmp_path):
    """On a kernel without loadable modules (this machine: no /proc/modules), k8snode tells built-in modules from
    /proc/config.gz and /sys/module: the sandbox must hold both, or node check calls br_netfilter missing."""
    home = tmp_path / "home"
    home.mkdir()
    done = subprocess.run(
        [f"{VENV_BIN}/ansible-playbook", "-i", "inventory/example.ini", "playbooks/sandbox.yml"],
        cwd=REPO / "ansible",
        env={**ansible_env(tmp_path), "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    sandbox = home / ".cache/k8snode-sandbox"
    assert sorted(p.name for p in (sandbox / "sys/module").iterdir()) == sorted(os.listdir("/sys/module"))
    if Path("/proc/config.gz").exists():
        assert (sandbox / "proc/config.gz").read_bytes() == Path("/proc/config.gz").read_bytes()
    check = subprocess.run(
        [f"{VENV_BIN}/k8snode", "node", "check", "--proxy-mode", "nftables", "--root", str(sandbox), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    modules = {m["name"]: m["state"] for m in json.loads(check.stdout)["data"]["modules"]}
    assert "missing" not in modules.values(), modules
