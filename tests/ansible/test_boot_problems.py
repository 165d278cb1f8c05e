"""The role on a host where `k8snode node prepare` exits 1: the work is done, but a file would undo it at the next
boot (here an /etc/sysctl.conf line that turns forwarding off). The play does not fail: the task reports its real
`changed`, each problem is an Ansible warning naming the file and line, and the role's later steps still run."""

from __future__ import annotations

import pytest
from fakes import write
from fleet import CONSOLE_SCRIPT, PLAYBOOKS, make_fleet, run_playbook, write_inventory

pytestmark = pytest.mark.ansible

OVERRIDE = "net.ipv4.ip_forward = 0\n"
PROBLEM = (
    "net.ipv4.ip_forward = 0 after a reboot: /etc/sysctl.conf:1 overrides /etc/sysctl.d/k8snode.conf; "
    "remove that line or set it to 1"
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("boot-problems")
    hosts = make_fleet(base / "roots", {"deb12": ("deb12-6.1", 2)}, swaps=("/dev/sda2",))
    write(hosts[0].root.path / "etc/sysctl.conf", OVERRIDE)
    for host in hosts:
        host.vars["k8snode_os_family"] = "Debian"
    common = {"k8snode_install": "none", "k8snode_bin": str(CONSOLE_SCRIPT), "k8snode_kubernetes_version": "v1.31.2"}
    inventory = write_inventory(base / "inventory.yml", hosts, common)
    first = run_playbook(PLAYBOOKS / "node-prep.yml", inventory, workdir=base)
    second = run_playbook(PLAYBOOKS / "node-prep.yml", inventory, workdir=base)
    return hosts, first, second


def test_the_play_does_not_fail_and_the_problem_is_a_warning_naming_file_and_line(runs):
    hosts, first, _ = runs
    assert first.returncode == 0, first.stdout[-3000:]
    recap = first.recap()
    assert recap["deb12-1"]["failed"] == recap["deb12-2"]["failed"] == 0
    assert recap["deb12-1"]["changed"] >= 1  # node prepare did change the host: loaded, set, wrote, swapped off
    assert f"[WARNING]: {PROBLEM}" in " ".join((first.stdout + first.stderr).split())
    assert (first.stdout + first.stderr).count("/etc/sysctl.conf:1 overrides") == 1  # the other host has none
    root = hosts[0].root.path
    assert (root / "proc/sys/net/ipv4/ip_forward").read_text().strip() == "1"  # the work was done
    assert (root / "etc/sysctl.d/k8snode.conf").exists()
    assert (root / "etc/sysctl.conf").read_text() == OVERRIDE  # never edited
    assert (root / "etc/default/kubelet").exists()  # the role's later steps ran on this host too


def test_a_second_run_changes_nothing_and_still_warns(runs):
    _, _, second = runs
    assert second.returncode == 0, second.stdout[-3000:]
    recap = second.recap()
    assert {name: (row["changed"], row["failed"]) for name, row in recap.items()} == {
        "deb12-1": (0, 0),
        "deb12-2": (0, 0),
    }
    assert f"[WARNING]: {PROBLEM}" in " ".join((second.stdout + second.stderr).split())
