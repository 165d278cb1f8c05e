"""The role's container-runtime step: node prepare edits containerd's config.toml in the host's root, the role reads
data.runtime.restart_needed from its JSON and notifies "K8snode restart container runtime", which never acts on a
root (the runtime there is not this host's); a second run changes nothing and notifies nothing."""

from __future__ import annotations

import shutil

import pytest
from fakes import fake_containerd
from fleet import CONSOLE_SCRIPT, PLAYBOOKS, make_fleet, run_playbook, write_inventory
from where import CONTAINERD_FIXTURES

pytestmark = pytest.mark.ansible

NOTE = "Note that the container runtime must restart to read its new configuration"
HANDLER = "RUNNING HANDLER [k8snode : K8snode restart container runtime]"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("runtime-restart")
    (host,) = make_fleet(base / "roots", {"deb12": ("deb12-6.1", 1)})
    fake_containerd(host.root.bin, "2.4.2")
    config = host.root.path / "etc/containerd/config.toml"
    config.parent.mkdir(parents=True)
    shutil.copy(CONTAINERD_FIXTURES / "docker-containerd-io.toml", config)
    common = {
        "k8snode_install": "none",
        "k8snode_bin": str(CONSOLE_SCRIPT),
        "k8snode_kubelet_flags": False,
        "k8snode_kubeadm_config": False,
        "k8snode_runtime": "containerd",
    }
    inventory = write_inventory(base / "inventory.yml", [host], common)
    first = run_playbook(PLAYBOOKS / "node-prep.yml", inventory, workdir=base)
    edited = config.read_text()
    again = run_playbook(PLAYBOOKS / "node-prep.yml", inventory, workdir=base)
    return first, again, edited


def test_a_changed_runtime_configuration_notifies_the_handler_which_skips_a_root(runs):
    first, _, edited = runs
    assert first.recap()["deb12-1"]["failed"] == 0, first.stdout[-3000:]
    assert "disabled_plugins = []" in edited and "SystemdCgroup = true" in edited
    note = first.stdout[first.stdout.index(NOTE) :]
    assert note.splitlines()[1].startswith("changed: [deb12-1]")
    handler = first.stdout[first.stdout.index(HANDLER) :]
    assert handler.splitlines()[1].startswith("skipping: [deb12-1]")


def test_an_unchanged_runtime_configuration_notifies_nothing(runs):
    _, again, _ = runs
    assert again.recap()["deb12-1"]["changed"] == 0, again.stdout[-3000:]
    assert HANDLER not in again.stdout
    note = again.stdout[again.stdout.index(NOTE) :]
    assert note.splitlines()[1].startswith("skipping: [deb12-1]")
