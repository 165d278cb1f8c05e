"""The SSH fleet itself (tests/sshfleet.py): each host is its own network namespace behind a real sshd that Ansible
reaches over SSH with host keys checked, its sshd log counts the sessions, and `down` leaves nothing of a run behind,
even one whose `up` was killed midway."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sshfleet
from fleet import PlaybookRun, run_playbook
from where import TESTS

pytestmark = pytest.mark.ansible

CLI = [sys.executable, str(TESTS / "sshfleet.py")]
WHO = """\
- name: Each host says where it is
  hosts: all
  gather_facts: false
  tasks:
    - name: Its addresses and its network namespace
      ansible.builtin.command:
        argv: [sh, -c, 'ip -4 -o addr show dev eth0; readlink /proc/self/ns/net; echo "$PIP_INDEX_URL"']
      changed_when: false
      register: who

    - name: Say it
      ansible.builtin.debug:
        msg: "{{ who.stdout_lines | to_json }}"
"""
SAID = re.compile(r'^ok: \[(h\d+)\] => \{\s*"msg": (".*")\s*\}', re.MULTILINE)
ENV = {"PIP_INDEX_URL": "http://127.0.0.1:9/simple"}


def nothing_of(directory: Path) -> None:
    """Neither `ip netns list`, nor pgrep, nor the mount table shows anything of the run of ``directory``."""
    run = sshfleet.run_name(directory)
    assert f"k8sn-{run}-" not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    pgrep = subprocess.run(["pgrep", "-af", str(directory.resolve())], capture_output=True, text=True)
    assert [line for line in pgrep.stdout.splitlines() if "pgrep" not in line] == []
    assert f"k8sn-{run}-" not in Path("/proc/self/mountinfo").read_text()
    assert f"k8sn{run}" not in subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert sshfleet.leftovers(directory) == []


@pytest.fixture(scope="module")
def pair(request: pytest.FixtureRequest) -> sshfleet.SshFleet:
    return sshfleet.fixture(request, 2, env=ENV)


@pytest.fixture
def folder() -> Iterator[Path]:
    """A short folder for a fleet the test starts with the CLI; removed afterwards."""
    sshfleet.require()
    made = sshfleet.short_folder()
    yield made
    shutil.rmtree(made)


def play(fleet: sshfleet.SshFleet, workdir: Path, text: str) -> PlaybookRun:
    """The playbook ``text`` on hosts h1, h2, ... of ``fleet``."""
    playbook = workdir / "play.yml"
    playbook.write_text(text)
    hosts = {f"h{host.index}": fleet.connection(host) for host in fleet.hosts}
    inventory = workdir / "inventory.yml"
    inventory.write_text(json.dumps({"all": {"hosts": hosts}}))
    return run_playbook(playbook, inventory, workdir=workdir, env=fleet.env())


def test_each_host_is_its_own_namespace_behind_sshd_with_its_address(pair, tmp_path):
    before = pair.sessions()
    run = play(pair, tmp_path, WHO)
    assert run.returncode == 0, run.stdout + run.stderr
    said = {name: json.loads(json.loads(msg)) for name, msg in SAID.findall(run.stdout)}
    assert set(said) == {"h1", "h2"}
    own = os.readlink("/proc/self/ns/net")
    for host in pair.hosts:
        addresses, namespace, index_url = said[f"h{host.index}"]
        assert f"inet {host.address}/16" in addresses
        assert namespace != own
        assert index_url == ENV["PIP_INDEX_URL"]  # the session environment the fleet was asked for
    assert said["h1"][1] != said["h2"][1]
    for host, old in zip(pair.hosts, before, strict=True):
        new = host.sessions()
        assert new["connections"] - old["connections"] == 1  # ControlPersist: one login for the whole play
        assert new["command"] - old["command"] >= 1  # pipelining: the module runs in the command's session
        assert host.bytes_sent() > 0
    assert list((pair.directory / "cm").iterdir())  # the ControlMasters' sockets


def test_host_keys_are_checked(pair, tmp_path):
    known = pair.directory / "known_hosts"
    kept = known.read_text()
    other = (pair.directory / "hosts/1/ssh_host_ed25519_key.pub").read_text().split()[:2]
    lines = kept.splitlines()
    lines[1] = f"{pair.hosts[1].address} {' '.join(other)}"  # host 2 listed with host 1's key
    pair.close_masters()  # a master already up would not check the key again
    try:
        known.write_text("\n".join(lines) + "\n")
        run = play(pair, tmp_path, WHO)
    finally:
        known.write_text(kept)
    assert run.recap()["h2"]["unreachable"] == 1
    assert "Host key verification failed" in run.stdout
    assert run.recap()["h1"]["unreachable"] == 0


def test_down_after_up_was_killed_midway_leaves_nothing(folder):
    directory = folder / "killed"
    run = sshfleet.run_name(directory)
    started = subprocess.Popen([*CLI, "up", "30", str(directory)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    # midway: once some hosts have their sshd, and before `up` has written the fleet's state
    while time.monotonic() < deadline and started.poll() is None:
        logs = list(directory.glob("hosts/*/sshd.log"))
        if logs and sshfleet.namespaces(run):
            break
        time.sleep(0.01)
    assert started.poll() is None, f"up finished before it could be killed: {started.communicate()}"
    started.send_signal(signal.SIGKILL)
    started.wait()
    assert sshfleet.namespaces(run)  # it was killed with hosts up
    assert sshfleet.leftovers(directory)
    down = subprocess.run([*CLI, "down", str(directory)], capture_output=True, text=True)
    assert down.returncode == 0, down.stderr
    nothing_of(directory)


def test_down_stops_the_control_masters_a_failed_run_left(folder, tmp_path):
    directory = folder / "failed"
    up = subprocess.run([*CLI, "up", "2", str(directory)], capture_output=True, text=True)
    assert up.returncode == 0, up.stderr
    fleet = sshfleet.load(directory)
    run = play(
        fleet, tmp_path, "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.command: 'false'\n"
    )
    assert run.returncode == 2 and run.recap()["h1"]["failed"] == 1
    assert sshfleet.processes(directory.resolve())  # ControlPersist: the masters outlive the failed run
    down = subprocess.run([*CLI, "down", str(directory)], capture_output=True, text=True)
    assert down.returncode == 0, down.stderr
    nothing_of(directory)


def test_down_of_a_folder_that_never_was_up_is_quiet(tmp_path):
    sshfleet.require()
    down = subprocess.run([*CLI, "down", str(tmp_path / "never")], capture_output=True, text=True)
    assert (down.returncode, down.stderr) == (0, "")


def test_up_refuses_a_fleet_of_no_hosts_and_starts_nothing(tmp_path):
    done = subprocess.run([*CLI, "up", "0", str(tmp_path / "none")], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].endswith("N: a number of hosts of at least 1, not 0")
    assert not (tmp_path / "none").exists()
