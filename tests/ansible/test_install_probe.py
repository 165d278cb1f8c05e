"""The role's host probe (files/k8snode_probe.sh running files/k8snode_probe.py), run as the install step runs it:
``sh -c LAUNCHER k8snode-probe SOURCE ...`` on a PATH that holds only the candidates and on a k8snode_dir of
our own."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fleet import ROLE, python_39

pytestmark = pytest.mark.ansible

LAUNCHER = ROLE / "files/k8snode_probe.sh"
PROBE = ROLE / "files/k8snode_probe.py"
NEW = "python3.99"  # a name no real interpreter has: it is this test's Python 3.10+, linked into hostbin
OLD = "python3"  # a Python 3.9 under that name, as on a host whose python3 is too old
TAG = f"cp{sys.version_info[0]}{sys.version_info[1]}"  # NEW's tag


@pytest.fixture
def host(tmp_path: Path) -> Path:
    """hostbin (the PATH) with an old python3 and a new one, and an empty k8snode_dir."""
    hostbin = tmp_path / "hostbin"
    hostbin.mkdir()
    (hostbin / NEW).symlink_to(os.path.realpath(sys.executable))
    (tmp_path / "opt/k8snode/bin").mkdir(parents=True)
    return tmp_path


def offer(**archives: str) -> str:
    """The archives offered to the probe, as the role passes them: tag -> name and sha1 (and more it ignores)."""
    return json.dumps(
        {tag: {"name": f"k8snode-{tag}.pyz", "sha1": sha1, "path": "/c"} for tag, sha1 in archives.items()}
    )


def probe(host: Path, *candidates: str, wanted: str = "", link: str = "", stderr: str = "") -> dict:
    k8snode_dir = host / "opt/k8snode"
    argv = [LAUNCHER.read_text(), "k8snode-probe", PROBE.read_text(), str(k8snode_dir), link, wanted]
    done = subprocess.run(
        ["/bin/sh", "-c", *argv, str(k8snode_dir / "bin/k8snode"), *candidates],
        capture_output=True,
        text=True,
        env={"PATH": str(host / "hostbin")},
        check=True,
        timeout=60,
    )
    assert done.stderr == stderr
    return json.loads(done.stdout)


def install(host: Path, wrapper: str, name: str = f"k8snode-{TAG}.pyz") -> tuple[str, str]:
    """An archive ``name`` and a bin/k8snode (``wrapper``, a shell script) in k8snode_dir: the sha1 of each."""
    pyz = host / "opt/k8snode" / name
    pyz.write_bytes(b"PK not really a pyz")
    pyz.chmod(0o644)
    script = host / "opt/k8snode/bin/k8snode"
    script.write_text(wrapper)
    script.chmod(0o755)
    return hashlib.sha1(pyz.read_bytes()).hexdigest(), hashlib.sha1(script.read_bytes()).hexdigest()


def test_the_first_candidate_that_is_python_310_or_later_runs_the_probe(host):
    (host / "hostbin" / OLD).symlink_to(python_39())
    found = probe(host, "python-missing", OLD, NEW, wanted=offer(cp39="0" * 40, **{TAG: "1" * 40}))
    assert found == {
        "python": str(host / "hostbin" / NEW),
        "tag": TAG,
        "archive": TAG,
        "installed": {"pyz": "", "wrapper": "", "link": ""},
        "version": "",
    }


def test_a_host_without_python_310_or_later_gets_an_empty_python(host):
    (host / "hostbin" / OLD).symlink_to(python_39())
    assert probe(host, "python-missing", OLD) == {"python": ""}


def test_the_installed_files_their_modes_the_link_and_the_installed_version(host):
    pyz, wrapper = install(host, '#!/bin/sh\necho \'{"data": {"version": "0.0.9"}}\'\n')
    link = host / "usr/local/bin/k8snode"
    link.parent.mkdir(parents=True)
    link.symlink_to(host / "opt/k8snode/bin/k8snode")
    found = probe(host, NEW, link=str(link), wanted=offer(**{TAG: "1" * 40}))
    assert found["installed"] == {
        "pyz": f"{pyz}:644",
        "wrapper": f"{wrapper}:755",
        "link": str(host / "opt/k8snode/bin/k8snode"),
    }
    assert found["version"] == "0.0.9"


def test_a_k8snode_from_before_json_is_read_from_its_version_line(host):
    install(host, "#!/bin/sh\necho 'k8snode 0.0.5'\n")
    assert probe(host, NEW)["version"] == "0.0.5"


def test_the_version_is_not_asked_when_the_installed_pyz_is_the_one_this_run_installs(host):
    asked = host / "asked"
    pyz, _ = install(host, f"#!/bin/sh\n: > {asked}\necho 'k8snode 0.0.5'\n")
    assert probe(host, NEW, wanted=offer(**{TAG: pyz}))["version"] == ""
    assert not asked.exists()
    assert probe(host, NEW, wanted=offer(**{TAG: "0" * 40}))["version"] == "0.0.5"
    assert asked.exists()


def test_without_an_archive_for_its_interpreter_the_host_gets_the_sources_archive_or_none(host):
    """The archive of the host's own interpreter first, else k8snode.pyz ("any"), else none: the role then fails
    and names what to build."""
    pyz, _ = install(host, "#!/bin/sh\n", name="k8snode-any.pyz")
    chosen = probe(host, NEW, wanted=offer(cp39="0" * 40, any=pyz))
    assert (chosen["archive"], chosen["installed"]["pyz"]) == ("any", f"{pyz}:644")
    assert probe(host, NEW, wanted=offer(cp39="0" * 40))["archive"] == ""
    assert probe(host, NEW)["archive"] == ""


def test_a_candidate_that_does_not_run_is_passed_over(host):
    """A pyenv shim of an installed version that is not selected exits 127: the next candidate is tried."""
    shim = host / "hostbin/python3.98"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.98: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    found = probe(host, "python3.98", NEW, stderr="pyenv: python3.98: command not found\n")
    assert found["python"] == str(host / "hostbin" / NEW)


def test_a_probe_that_fails_on_a_new_python_fails_instead_of_trying_the_next_candidate(host):
    """Only a probe that ran on Python 3.10+ and failed (exit 4, its traceback on stderr) stops the search: a broken
    probe is not "no Python"."""
    done = subprocess.run(
        ["/bin/sh", "-c", LAUNCHER.read_text(), "k8snode-probe", "raise RuntimeError('broken')", "d", "", "", "b", NEW],
        capture_output=True,
        text=True,
        env={"PATH": str(host / "hostbin")},
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (4, "")
    assert done.stderr.rstrip().endswith("RuntimeError: broken")
