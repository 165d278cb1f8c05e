"""The role's install and foreign-file decisions, one sandbox host per case, in one node-prep run and one reset.

- old: an installed k8snode older than the pyz is refused; upgrade: the same with k8snode_upgrade replaces it.
- py39: a host whose only Python is 3.9 fails with the package that provides a newer one for its family.
- foreign, takeover: a persistence file k8snode did not write fails enable by default, and is replaced with
  k8snode_ipvs_foreign_files=take-over; a reset on the foreign host succeeds and leaves that file with a warning.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from fleet import PLAYBOOKS, PlaybookRun, make_fleet, python_39, run_playbook, write_inventory
from pythons import interpreter

pytestmark = pytest.mark.ansible

KERNEL = "deb12-6.1"
CASES = ("old", "upgrade", "py39", "foreign", "takeover")
INSTALLED = "opt/k8snode"
FOREIGN_CONF = "etc/modules-load.d/ipvs.conf"
OLD_K8SNODE = '#!/bin/sh\necho \'{"data": {"version": "0.0.9"}}\'\n'


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, pyz: Path) -> tuple[dict, PlaybookRun, PlaybookRun]:
    base = tmp_path_factory.mktemp("install")
    hosts = make_fleet(base / "roots", {case: (KERNEL, 1) for case in CASES})
    for host in hosts:
        hostbin = host.root.path / "hostbin"
        hostbin.mkdir()
        if host.group == "py39":  # its only Python: a python3 that is 3.9
            (hostbin / "python3").symlink_to(python_39())
        else:
            (hostbin / "python3.13").symlink_to(interpreter("3.13"))
        host.vars["k8snode_environment"] = {"PATH": f"{host.root.bin}{os.pathsep}{hostbin}"}
        host.vars["k8snode_os_family"] = "Debian"
        if host.group in ("old", "upgrade"):
            old = host.root.path / INSTALLED / "bin/k8snode"
            old.parent.mkdir(parents=True)
            old.write_text(OLD_K8SNODE)
            old.chmod(0o755)
        if host.group in ("foreign", "takeover"):
            (host.root.path / FOREIGN_CONF).write_text("ip_vs\n")
    common = {
        "k8snode_install": "pyz",
        "k8snode_pyz": str(pyz),
        "k8snode_dir": "{{ k8snode_root }}/" + INSTALLED,
        "k8snode_link": "",
        "k8snode_node_prepare": False,  # the ipvs step, where k8snode_ipvs_foreign_files applies
        "k8snode_kubelet_flags": False,
        "k8snode_kubeadm_config": False,
    }
    group_vars = {"upgrade": {"k8snode_upgrade": True}, "takeover": {"k8snode_ipvs_foreign_files": "take-over"}}
    inventory = write_inventory(base / "inventory.yml", hosts, common, group_vars=group_vars)
    prep = run_playbook(PLAYBOOKS / "node-prep.yml", inventory, workdir=base)
    reset = run_playbook(PLAYBOOKS / "reset.yml", inventory, "--limit", "foreign-1", workdir=base)
    return {host.group: host for host in hosts}, prep, reset


def message(run: PlaybookRun, host: str) -> str:
    return str(run.failures()[host][-1]["msg"])


def test_each_case_ends_as_decided(runs):
    _, prep, _ = runs
    recap = prep.recap()
    assert {host: row["failed"] for host, row in recap.items()} == {
        "old-1": 1,
        "upgrade-1": 0,
        "py39-1": 1,
        "foreign-1": 1,
        "takeover-1": 0,
    }
    assert all(row["unreachable"] == 0 for row in recap.values())


def test_an_older_installed_k8snode_is_refused_unless_upgrade_is_set(runs):
    hosts, prep, _ = runs
    assert "is k8snode 0.0.9 and this run installs 0.1.0; set k8snode_upgrade=true" in message(prep, "old-1")
    assert (hosts["old"].root.path / INSTALLED / "bin/k8snode").read_text() == OLD_K8SNODE
    upgraded = hosts["upgrade"].root.path / INSTALLED / "bin/k8snode"
    version = subprocess.run([str(upgraded), "--version", "--json"], capture_output=True, text=True, check=True)
    assert json.loads(version.stdout)["data"]["version"] == "0.1.0"


def test_a_host_without_python_310_is_told_which_package_provides_it(runs):
    _, prep, _ = runs
    text = message(prep, "py39-1")
    assert "no Python 3.10 or later on this host" in text
    assert "install python3 or set k8snode_python, or set k8snode_install_python=true" in text


def test_a_foreign_ipvs_conf_is_refused_by_default_and_taken_over_when_asked(runs):
    hosts, prep, _ = runs
    assert "ipvs.conf" in message(prep, "foreign-1")
    assert (hosts["foreign"].root.path / FOREIGN_CONF).read_text() == "ip_vs\n"
    taken = (hosts["takeover"].root.path / FOREIGN_CONF).read_text()
    assert taken.startswith("# Written by k8snode")


def test_reset_on_a_host_with_a_foreign_ipvs_conf_succeeds_and_says_what_it_left(runs):
    hosts, _, reset = runs
    assert reset.recap()["foreign-1"]["failed"] == 0, reset.stdout[-3000:]
    assert "left /etc/modules-load.d/ipvs.conf: k8snode did not write it" in reset.stdout
    assert (hosts["foreign"].root.path / FOREIGN_CONF).read_text() == "ip_vs\n"
