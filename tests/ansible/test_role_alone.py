"""The role installed on its own, as Galaxy or a requirements file would place it: copied into a directory with no
k8snode repository around it. With k8snode_pyz set it installs that pyz and prepares the node; without it, it
cannot build one and fails with one line that says which variable to set."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from fleet import ROLE, make_fleet, run_playbook, write_inventory

pytestmark = pytest.mark.ansible

INSTALLED = "opt/k8snode"
MISSING_PYZ = (
    "set k8snode_pyz to the directory of k8snode archives to install (python tools/build_pyz.py in a k8snode "
    "checkout writes dist/k8snode-cpXY.pyz): this role is not inside the k8snode repository, so it cannot build them"
)


@pytest.fixture(scope="module")
def alone(tmp_path_factory: pytest.TempPathFactory, pyz: Path):
    base = tmp_path_factory.mktemp("alone")
    roles = base / "galaxy/roles"
    shutil.copytree(ROLE, roles / "k8snode", ignore=shutil.ignore_patterns("__pycache__"))
    hosts = make_fleet(base / "roots", {"given": ("deb12-6.1", 1), "missing": ("deb12-6.1", 1)})
    for host in hosts:
        host.vars["k8snode_os_family"] = "Debian"
    common = {
        "k8snode_install": "pyz",
        "k8snode_python": os.path.realpath(sys.executable),
        "k8snode_dir": "{{ k8snode_root }}/" + INSTALLED,
        "k8snode_link": "",
        "k8snode_kubernetes_version": "v1.31.2",
    }
    # k8snode_pyz is read once per play, on its first host: "given"; "missing" fails its own check.
    inventory = write_inventory(base / "inventory.yml", hosts, common, group_vars={"given": {"k8snode_pyz": str(pyz)}})
    playbook = base / "site.yml"
    playbook.write_text(json.dumps([{"hosts": "all", "gather_facts": False, "roles": ["k8snode"]}]))
    pristine = {host.group: host.root.snapshot() for host in hosts}
    run = run_playbook(playbook, inventory, workdir=base, env={"ANSIBLE_ROLES_PATH": str(roles)})
    return {host.group: host for host in hosts}, pristine, run, roles / "k8snode"


def test_the_copied_role_has_no_repository_around_it(alone):
    _, _, _, copied = alone
    assert (copied / "tasks/main.yml").is_file()
    assert not any((parent / "tools/build_pyz.py").exists() for parent in copied.parents)


def test_with_k8snode_pyz_the_role_alone_installs_it_and_prepares_the_node(alone, pyz):
    hosts, _, run, _ = alone
    assert run.recap()["given-1"]["failed"] == 0, run.stdout[-3000:]
    root = hosts["given"].root.path
    name = f"k8snode-cp{sys.version_info[0]}{sys.version_info[1]}.pyz"  # k8snode_python: this interpreter
    assert (root / INSTALLED / name).read_bytes() == (pyz / name).read_bytes()
    assert (root / "etc/sysctl.d/k8snode.conf").exists()
    assert (root / "etc/default/kubelet").exists()


def test_without_k8snode_pyz_the_role_alone_fails_with_the_variable_to_set(alone):
    hosts, pristine, run, _ = alone
    assert run.recap()["missing-1"]["failed"] == 1
    # the check's own failure, said once (a rescue that failed again repeated it)
    assert [failure["msg"] for failure in run.failures()["missing-1"]] == [MISSING_PYZ]
    assert run.recap()["missing-1"]["rescued"] == 0
    assert hosts["missing"].root.snapshot() == pristine["missing"]
