"""The kubelet-restart handler, on a host without k8snode_root (the only case where it acts): a fake systemctl
first on PATH records every call and answers for a kubelet unit that runs, or (status.rc 4) for none."""

from __future__ import annotations

import os

import pytest
from fakes import write
from fleet import CONSOLE_SCRIPT, PLAYBOOKS, make_fleet, run_playbook, write_inventory

pytestmark = pytest.mark.ansible

# systemctl: appends its arguments to DIR/calls; "status" exits with DIR/status.rc (default 0: the unit runs);
# "show" describes a loaded, running kubelet.service, as the systemd_service module reads it.
FAKE_SYSTEMCTL = """#!/bin/sh
echo "$*" >>"DIR/calls"
case "$1" in
    status) exit "$(cat "DIR/status.rc" 2>/dev/null || echo 0)" ;;
    show) printf 'Id=kubelet.service\\nLoadState=loaded\\nActiveState=active\\nSubState=running\\n' ;;
esac
exit 0
"""
RESTART = ["status kubelet.service", "show kubelet.service", "restart kubelet.service"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("kubelet-restart")
    (host,) = make_fleet(base / "roots", {"deb12": ("deb12-6.1", 1)})
    del host.vars["k8snode_root"]  # the host itself: the one case where the handler acts
    fake = base / "systemd"
    write(fake / "bin/systemctl", FAKE_SYSTEMCTL.replace("DIR", str(fake)), mode=0o755)
    flags_file = base / "kubelet"
    config_file = base / "kubelet-config.yaml"
    common = {
        "k8snode_install": "none",
        "k8snode_bin": str(CONSOLE_SCRIPT),
        "k8snode_kubernetes_version": "v1.31.2",
        "k8snode_node_prepare": False,
        "k8snode_ipvs": False,
        "k8snode_kubeadm_config": False,
        "k8snode_kubelet_flags_file": str(flags_file),
        "k8snode_kubelet_config_file": str(config_file),
        "k8snode_kubelet_flags_options": "{{ {'node-ip': node_ip} }}",
    }
    env = {"PATH": f"{fake / 'bin'}{os.pathsep}{os.environ['PATH']}"}

    def run(node_ip: str) -> tuple[list[str], str, int]:
        host.vars["node_ip"] = node_ip
        inventory = write_inventory(base / "inventory.yml", [host], common)
        done = run_playbook(PLAYBOOKS / "node-prep.yml", inventory, workdir=base, env=env)
        assert done.recap()["deb12-1"]["failed"] == 0, done.stdout[-3000:]
        calls = (fake / "calls").read_text().splitlines() if (fake / "calls").exists() else []
        (fake / "calls").unlink(missing_ok=True)
        return calls, flags_file.read_text(), done.recap()["deb12-1"]["changed"]

    first = run("10.0.0.11")
    again = run("10.0.0.11")
    (fake / "status.rc").write_text("4\n")  # systemctl status: no such unit
    no_unit = run("10.0.0.12")
    return first, again, no_unit


def test_a_changed_flags_file_restarts_the_kubelet(runs):
    (calls, flags, changed), _, _ = runs
    assert "--node-ip=10.0.0.11" in flags
    assert calls == RESTART
    assert changed == 2  # the flags file (the env default: no KubeletConfiguration file) and the restart


def test_an_unchanged_flags_file_restarts_nothing(runs):
    _, (calls, flags, changed), _ = runs
    assert "--node-ip=10.0.0.11" in flags
    assert (calls, changed) == ([], 0)


def test_a_host_without_a_kubelet_unit_is_not_restarted(runs):
    _, _, (calls, flags, _) = runs
    assert "--node-ip=10.0.0.12" in flags
    assert calls == ["status kubelet.service"]
