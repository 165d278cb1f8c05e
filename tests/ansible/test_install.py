"""The role's install and foreign-file decisions, one sandbox host per case, in one node-prep run and one reset.

- old: an installed k8snode older than the pyz is refused; upgrade: the same with k8snode_upgrade replaces it.
- py39: a host whose only Python is 3.9 fails with the package that provides a newer one for its family.
- foreign, takeover: a persistence file k8snode did not write fails enable by default, and is replaced with
  k8snode_ipvs_foreign_files=take-over; a reset on the foreign host succeeds and leaves that file with a warning.

And what the install costs each host, counted by tests/callbacks/k8snode_module_runs.py (a module run is a task
that ran on the host, not on the controller): on hosts with Python 3.10, 3.13 and 3.12 (k8snode_pyz offers no
archive for it), a check run, a real run, a converged run and a converged check run, with --tags install.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from fleet import PLAYBOOKS, PlaybookRun, make_fleet, python_39, run_playbook, write_inventory
from pythons import interpreter
from where import REPO

pytestmark = pytest.mark.ansible

KERNEL = "deb12-6.1"
CASES = ("old", "upgrade", "py39", "foreign", "takeover")
INSTALLED = "opt/k8snode"
FOREIGN_CONF = "etc/modules-load.d/ipvs.conf"
OLD_K8SNODE = '#!/bin/sh\necho \'{"data": {"version": "0.0.9"}}\'\n'
CALLBACKS = REPO / "tests/callbacks"
COST_CASES = {"py310": "3.10", "py313": "3.13", "py312": "3.12"}  # host group -> its only Python
OFFERED = ("3.10", "3.13")  # k8snode_pyz: a list of these two archives
RUNS = (("fresh check", ["--check"]), ("fresh", []), ("converged", []), ("converged check", ["--check"]))


@dataclass
class Cost:
    run: PlaybookRun
    lines: list[dict]  # tests/callbacks/k8snode_module_runs.py's, one per task result
    before: dict
    after: dict


@pytest.fixture(scope="module")
def costs(tmp_path_factory: pytest.TempPathFactory, pyz: Path) -> tuple[dict, dict[str, Cost]]:
    """The hosts, and each run (check on the fresh hosts, the install, again, check again) with its callback lines
    and the hosts' files before and after it."""
    base = tmp_path_factory.mktemp("costs")
    hosts = make_fleet(base / "roots", {case: (KERNEL, 1) for case in COST_CASES})
    for host in hosts:
        hostbin = host.root.path / "hostbin"
        hostbin.mkdir()
        minor = COST_CASES[host.group]
        (hostbin / f"python{minor}").symlink_to(interpreter(minor))
        host.vars["k8snode_environment"] = {"PATH": f"{host.root.bin}{os.pathsep}{hostbin}"}
    common = {
        "k8snode_install": "pyz",
        "k8snode_pyz": [str(pyz / f"k8snode-cp{minor.replace('.', '')}.pyz") for minor in OFFERED],
        "k8snode_dir": "{{ k8snode_root }}/" + INSTALLED,
        "k8snode_link": "{{ k8snode_root }}/usr/local/bin/k8snode",
    }
    inventory = write_inventory(base / "inventory.yml", hosts, common)
    runs = {}
    for name, extra in (
        ("fresh check", ["--check"]),
        ("fresh", []),
        ("converged", []),
        ("converged check", ["--check"]),
    ):
        log = base / f"{name}.jsonl"
        log.touch()
        env = {
            "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
            "ANSIBLE_CALLBACKS_ENABLED": "k8snode_module_runs",
            "K8SNODE_MODULE_RUNS": str(log),
        }
        before = {host.name: host.root.snapshot() for host in hosts}
        run = run_playbook(PLAYBOOKS / "node-prep.yml", inventory, "--tags", "install", *extra, workdir=base, env=env)
        assert run.recap(), run.stdout[-3000:] + run.stderr[-3000:]
        lines = [json.loads(line) for line in log.read_text().splitlines()]
        runs[name] = Cost(run, lines, before, {host.name: host.root.snapshot() for host in hosts})
    return {host.group: host for host in hosts}, runs


def on_host(lines: list[dict], host: str) -> list[str]:
    return [line["task"] for line in lines if line["host"] == host and line["on_host"]]


PROBE = "k8snode : Find Python 3.10 or later and the installed k8snode"
COPY = "k8snode : Copy the k8snode archive for the host's Python"
WRAPPER = "k8snode : Write bin/k8snode, which runs the archive with the Python found, and link it"


def test_a_fresh_host_costs_two_module_runs_beyond_the_probe_and_a_converged_one_none(costs):
    _, runs = costs
    for host in ("py310-1", "py313-1"):
        assert on_host(runs["fresh"].lines, host) == [PROBE, COPY, WRAPPER], host
        assert on_host(runs["converged"].lines, host) == [PROBE], host
        assert on_host(runs["converged check"].lines, host) == [PROBE], host
    changed = {line["task"] for line in runs["fresh"].lines if line["status"] == "changed"}
    assert changed == {COPY, WRAPPER}
    for name in ("converged", "converged check"):
        assert not [line for line in runs[name].lines if line["status"] == "changed"], name
        assert runs[name].after == runs[name].before, name


def test_each_host_runs_the_archive_of_its_own_python(costs):
    hosts, _ = costs
    for group in ("py310", "py313"):
        tag = "cp" + COST_CASES[group].replace(".", "")
        installed = hosts[group].root.path / INSTALLED
        assert sorted(p.name for p in installed.iterdir()) == ["bin", f"k8snode-{tag}.pyz"]
        link = hosts[group].root.path / "usr/local/bin/k8snode"
        done = subprocess.run([str(link), "--version", "--json"], capture_output=True, text=True, check=True)
        data = json.loads(done.stdout)["data"]
        assert data["python"].startswith(COST_CASES[group] + ".")
        assert data["pyz"] == str(installed / f"k8snode-{tag}.pyz")


def test_check_mode_says_what_the_install_would_change_and_writes_nothing(costs):
    _, runs = costs
    check = runs["fresh check"]
    changed = {(line["host"], line["task"]) for line in check.lines if line["status"] == "changed"}
    assert changed == {(host, task) for host in ("py310-1", "py313-1") for task in (COPY, WRAPPER)}
    assert check.after == check.before


def test_a_host_whose_python_has_no_archive_fails_and_is_told_what_to_build(costs):
    hosts, runs = costs
    [failed] = [line["task"] for line in runs["fresh"].lines if line["status"] == "failed"]
    assert failed == "k8snode : Say that no archive fits the host's Python"
    message = str(runs["fresh"].run.failures()["py312-1"][-1]["msg"])
    python = hosts["py312"].root.path / "hostbin/python3.12"
    assert message == (
        f"no k8snode archive for {python} (cp312) among cp310, cp313: build one on the controller with "
        "tools/build_pyz.py --python python3.12, or add k8snode.pyz (tools/build_pyz.py --universal), which any "
        "Python 3.10 or later runs"
    )
    assert not (hosts["py312"].root.path / INSTALLED).exists()


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
