"""The role's k8snode_run action on its own, in a playbook of this test's making: check mode adds --dry-run to a
call that declares it writes, and bad arguments fail the task with a one-line message."""

from __future__ import annotations

import importlib.util
import json

import pytest
from fleet import CONSOLE_SCRIPT, ROLE, PlaybookRun, make_fleet, run_playbook, write_inventory

pytestmark = pytest.mark.ansible

_spec = importlib.util.spec_from_file_location("k8snode_run", ROLE / "action_plugins/k8snode_run.py")
assert _spec is not None and _spec.loader is not None
k8snode_run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(k8snode_run)

FLAGS_FILE = "etc/default/kubelet"
WRITE_FLAGS = [str(CONSOLE_SCRIPT), "kubelet-flags", "--kubernetes-version=v1.31.2", "--format=env"]
WRITE_FLAGS += [f"--out=/{FLAGS_FILE}", "--root={{ k8snode_root }}", "--json"]
# A task that writes and does not say --dry-run itself: check mode must still write nothing.
PLAYBOOK = [
    {
        "name": "k8snode_run on its own",
        "hosts": "all",
        "gather_facts": False,
        "tasks": [
            {
                "name": "Write the kubelet flags file",
                "k8snode_run": {"argv": WRITE_FLAGS, "writes": True},
            },
            {"name": "No argv", "k8snode_run": {"writes": True}, "ignore_errors": True},
            {"name": "No writes", "k8snode_run": {"argv": [str(CONSOLE_SCRIPT), "--version"]}, "ignore_errors": True},
            {"name": "Empty argv", "k8snode_run": {"argv": [], "writes": False}, "ignore_errors": True},
        ],
    }
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("k8snode-run")
    (host,) = make_fleet(base / "roots", {"deb12": ("deb12-6.1", 1)})
    inventory = write_inventory(base / "inventory.yml", [host], {})
    playbook = base / "playbook.yml"
    playbook.write_text(json.dumps(PLAYBOOK))
    env = {"ANSIBLE_ACTION_PLUGINS": str(ROLE / "action_plugins")}
    pristine = host.root.snapshot()
    check = run_playbook(playbook, inventory, "--check", workdir=base, env=env)
    after_check = host.root.snapshot()
    real = run_playbook(playbook, inventory, workdir=base, env=env)
    return host, pristine, check, after_check, real


def messages(run: PlaybookRun) -> list[str]:
    return [str(result["msg"]) for results in run.failures().values() for result in results]


def test_check_mode_adds_dry_run_to_a_call_that_writes_and_writes_nothing(runs):
    host, pristine, check, after_check, real = runs
    assert check.recap()["deb12-1"]["changed"] == 1, check.stdout[-3000:]
    assert after_check == pristine
    assert real.recap()["deb12-1"]["changed"] == 1, real.stdout[-3000:]
    assert (host.root.path / FLAGS_FILE).read_text().startswith("# Written by k8snode")


def test_a_playbook_run_prints_no_python_deprecation_warning(runs):
    """ansible-core 2.19 imports cryptography's DSA classes on every run; cryptography 51 deprecates them, and every
    run printed a CryptographyDeprecationWarning (pyproject.toml keeps cryptography below 51)."""
    _, _, check, _, real = runs
    assert "DeprecationWarning" not in check.stdout + check.stderr + real.stdout + real.stderr


def test_missing_or_empty_arguments_fail_the_task_with_one_line(runs):
    _, _, check, _, real = runs
    expected = [
        "missing required arguments: argv",
        "missing required arguments: writes",
        "argv is empty: give the k8snode command line to run",
    ]
    assert messages(check) == messages(real) == expected
    assert "Traceback" not in real.stdout + real.stderr
    assert real.recap()["deb12-1"]["ignored"] == 3


def test_dry_run_goes_among_the_options_before_a_double_dash():
    assert k8snode_run.with_dry_run(["k8snode", "ipvs", "enable", "--json"]) == [
        "k8snode", "ipvs", "enable", "--json", "--dry-run",
    ]  # fmt: skip
    assert k8snode_run.with_dry_run(["k8snode", "probe", "exec", "--json", "--", "true"]) == [
        "k8snode", "probe", "exec", "--json", "--dry-run", "--", "true",
    ]  # fmt: skip
    assert k8snode_run.with_dry_run(["k8snode", "--dry-run"]) == ["k8snode", "--dry-run"]
