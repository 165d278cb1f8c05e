"""The README's Ansible quick start runs as written, from the repository, against the example inventory.

It names the set-up's ``.venv``; the test runs it with the environment running the tests, wherever that is."""

from __future__ import annotations

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
