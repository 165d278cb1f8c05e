"""The k8snode role through the real ansible-playbook over SSH, on a fleet of sandbox hosts (tests/sshfleet.py: each
host a network namespace with its own sshd, reached with pipelining, ControlPersist and host keys checked), each
with its own fake root.

Each playbook run is slow on two shared cores, so the runs are module-scoped fixtures shared by the assertions:
a first run, a second run, a check run on the converged fleet and a reset on one fleet; a check run on another,
fresh fleet. Three groups install k8snode for real: el7 and deb12 the role's default, the archive of their Python
(built once per session), on a host whose only Python is 3.10 (el7) or 3.13 (deb12); el8 with pip, from this project
directory and a wheelhouse. The others run the console script of this checkout. pip's index (in the controller's
environment and, through sshd, in every session on the hosts) points at an address where nothing listens, so a run
that needed an index would fail. One host per group: the SSH fleet is small in CI.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import sshfleet
from fakes import add_node_state
from fleet import (
    CONSOLE_SCRIPT,
    PLAYBOOKS,
    REPO,
    UNREACHABLE_INDEX,
    Host,
    PlaybookRun,
    ansible_env,
    make_fleet,
    run_playbook,
    write_inventory,
)
from pythons import interpreter

pytestmark = pytest.mark.ansible

GROUPS = {
    "el7": ("el7-3.10", 1),
    "el8": ("el8.3-4.18", 1),
    "ubuntu": ("ubuntu-5.15", 1),
    "deb12": ("deb12-6.1", 1),
    "noipvs": ("no-ipvs-6.1-kvm", 1),
}
CONNTRACK = {"el7": "nf_conntrack_ipv4", "el8": "nf_conntrack", "ubuntu": "nf_conntrack", "deb12": "nf_conntrack"}
OS_FAMILY = {"el7": "RedHat", "el8": "RedHat", "ubuntu": "Debian", "deb12": "Debian", "noipvs": "Debian"}
KUBELET_FLAGS_FILE = {"RedHat": "etc/sysconfig/kubelet", "Debian": "etc/default/kubelet"}
KUBELET_CONFIG_FILE = "etc/kubernetes/kubelet-config.yaml"
KUBELET_EXTRA_ARGS = f'KUBELET_EXTRA_ARGS="--kubeconfig=/etc/kubernetes/kubelet.conf --config=/{KUBELET_CONFIG_FILE}"'
KUBEADM_CONFIG_FILE = "etc/kubernetes/init-config.yaml"
CONTROL_PLANE = ["el8-1", "deb12-1"]
IPVS_FILES = {"etc/sysconfig/modules/ipvs.modules": 0o755, "etc/modules-load.d/ipvs.conf": 0o644}
KERNEL_STATE = ("proc/", "fake/", "var/log/dmesg")  # the fake kernel's state and tool logs, not k8snode's files
SWAP = "/dev/sda2"  # active on every host, and in its /etc/fstab
NODE_FILES = {
    "etc/sysconfig/modules/k8snode.modules": 0o755,
    "etc/modules-load.d/k8snode.conf": 0o644,
    "etc/sysctl.d/k8snode.conf": 0o644,
    "etc/k8snode/masked-swap-units": 0o644,
}
INSTALLED = "opt/k8snode"
KUBERNETES_VERSION = "v1.31.2"
ADVERTISE_ADDRESS = "10.0.0.11"
# A file at a path the role may write, that k8snode did not write: reset must leave it.
FOREIGN = ("deb12-1", "etc/sysconfig/kubelet", "# kept by hand, not by k8snode\nKUBELET_EXTRA_ARGS=--v=2\n")


PYZ_GROUPS = {"el7": "3.10", "deb12": "3.13"}  # group -> the only Python on its hosts' PATH
PIP_GROUP = "el8"


@dataclass
class Fleet:
    hosts: list[Host]
    inventory: Path
    workdir: Path
    pristine: dict[str, dict[str, tuple[int, int, bytes]]]
    env: dict[str, str]  # the SSH fleet's ansible.cfg

    def good(self) -> list[Host]:
        return [host for host in self.hosts if host.group != "noipvs"]

    def host(self, name: str) -> Host:
        return next(host for host in self.hosts if host.name == name)

    def snapshots(self) -> dict[str, dict[str, tuple[int, int, bytes]]]:
        """Every root's files, without the installed virtual environment (Python writes caches there)."""
        return {
            host.name: {path: state for path, state in host.root.snapshot().items() if not path.startswith(INSTALLED)}
            for host in self.hosts
        }

    def run(self, playbook: str, *args: str) -> PlaybookRun:
        return run_playbook(PLAYBOOKS / playbook, self.inventory, *args, workdir=self.workdir, env=self.env)


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """k8snode's dependencies and its build backend as wheels, built once, so that the role's pip install of this
    project directory runs offline."""
    folder = tmp_path_factory.mktemp("wheelhouse")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--wheel-dir", str(folder), str(REPO), "hatchling"],
        check=True,
        capture_output=True,
    )
    return folder


@pytest.fixture(scope="module")
def ssh(request: pytest.FixtureRequest) -> sshfleet.SshFleet:
    """One SSH host per inventory host; the fresh fleet's roots are reached through the same hosts."""
    return sshfleet.fixture(
        request, sum(count for _, count in GROUPS.values()), env={"PIP_INDEX_URL": UNREACHABLE_INDEX}
    )


def build_fleet(base: Path, wheelhouse: Path, pyz: Path, ssh: sshfleet.SshFleet) -> Fleet:
    hosts = make_fleet(base / "roots", GROUPS, swaps=(SWAP,))
    for host, endpoint in zip(hosts, ssh.hosts, strict=True):
        host.vars.update(ssh.connection(endpoint))
        host.vars["k8snode_os_family"] = OS_FAMILY[host.group]
        if host.name in CONTROL_PLANE:  # a fake root has no /proc/net/route to find the address in
            host.vars["k8snode_advertise_address"] = ADVERTISE_ADDRESS
        if host.name == FOREIGN[0]:
            (host.root.path / FOREIGN[1]).parent.mkdir(parents=True, exist_ok=True)  # fake roots have /etc/sysconfig
            (host.root.path / FOREIGN[1]).write_text(FOREIGN[2])
        if host.group in PYZ_GROUPS:  # PATH: the fake modprobe, and one Python
            hostbin = host.root.path / "hostbin"
            hostbin.mkdir()
            minor = PYZ_GROUPS[host.group]
            (hostbin / f"python{minor}").symlink_to(interpreter(minor))
            host.vars["k8snode_environment"] = {"PATH": f"{host.root.bin}{os.pathsep}{hostbin}"}
    placed = {
        "k8snode_dir": "{{ k8snode_root }}/" + INSTALLED,
        "k8snode_bin": "{{ k8snode_dir }}/bin/k8snode",
        "k8snode_link": "{{ k8snode_root }}/usr/local/bin/k8snode",
    }
    pip = {  # a project directory: the source that pip rebuilt, and the role reported changed, on every run
        "k8snode_install": "pip",
        "k8snode_source": str(REPO),
        "k8snode_pip_args": f"--no-index --find-links {wheelhouse}",
        "k8snode_python": os.path.realpath(sys.executable),
        **placed,
    }
    common = {
        "k8snode_install": "none",
        "k8snode_bin": str(CONSOLE_SCRIPT),
        "k8snode_pyz": str(pyz),
        "k8snode_kubernetes_version": KUBERNETES_VERSION,
        "k8snode_reset_unload": True,
        "k8snode_kubelet_flags_format": "config",  # the env default is covered by test_kubelet_restart.py
    }
    group_vars = {PIP_GROUP: pip, **{group: {"k8snode_install": "pyz", **placed} for group in PYZ_GROUPS}}
    inventory = write_inventory(
        base / "inventory.yml", hosts, common, group_vars=group_vars, control_plane=CONTROL_PLANE, connection={}
    )
    return Fleet(hosts, inventory, base, {host.name: host.root.snapshot() for host in hosts}, ssh.env())


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path, pyz: Path, ssh: sshfleet.SshFleet) -> Fleet:
    return build_fleet(tmp_path_factory.mktemp("fleet"), wheelhouse, pyz, ssh)


@pytest.fixture(scope="module")
def first_run(fleet: Fleet) -> PlaybookRun:
    return fleet.run("node-prep.yml")


@pytest.fixture(scope="module")
def second_run(fleet: Fleet, first_run: PlaybookRun) -> tuple[PlaybookRun, dict, dict]:
    before = fleet.snapshots()
    run = fleet.run("node-prep.yml")
    return run, before, fleet.snapshots()


@pytest.fixture(scope="module")
def converged_check_run(fleet: Fleet, second_run: tuple) -> tuple[PlaybookRun, dict, dict]:
    before = fleet.snapshots()
    run = fleet.run("node-prep.yml", "--check")
    return run, before, fleet.snapshots()


@pytest.fixture(scope="module")
def repair_run(fleet: Fleet, converged_check_run: tuple) -> tuple[PlaybookRun, Host]:
    """A converged fleet where one pyz host's bin/k8snode lost its mode: the probe sees it and the install runs."""
    host = next(host for host in fleet.hosts if host.group in PYZ_GROUPS)
    (host.root.path / INSTALLED / "bin/k8snode").chmod(0o700)
    return fleet.run("node-prep.yml"), host


@pytest.fixture(scope="module")
def reset_run(fleet: Fleet, repair_run: tuple) -> PlaybookRun:
    return fleet.run("reset.yml")


@pytest.fixture(scope="module")
def fresh_check_run(
    tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path, pyz: Path, ssh: sshfleet.SshFleet
) -> tuple[Fleet, PlaybookRun]:
    fresh = build_fleet(tmp_path_factory.mktemp("fresh"), wheelhouse, pyz, ssh)
    return fresh, fresh.run("node-prep.yml", "--check", "--diff")


@pytest.fixture
def no_ipvs_message(fake_root, cli) -> str:
    """What k8snode itself says about the kernel without ip_vs."""
    root = fake_root(GROUPS["noipvs"][0])
    add_node_state(root.path)
    return cli("node", "prepare", "--root", str(root.path), "--json").envelope()["error"]["message"]


def test_first_run_changes_every_host_that_can_do_ipvs(fleet, first_run):
    recap = first_run.recap()
    assert set(recap) == {host.name for host in fleet.hosts}
    for host in fleet.good():
        assert recap[host.name]["changed"] >= 1, host.name
        assert recap[host.name]["failed"] == recap[host.name]["unreachable"] == 0, host.name


def test_first_run_leaves_the_files_and_modules_k8snode_wants_for_each_kernel(fleet, first_run, fake_root, cli):
    for group, conntrack in CONNTRACK.items():
        reference = fake_root(GROUPS[group][0], name=f"reference-{group}")
        add_node_state(reference.path)
        assert cli("node", "prepare", "--root", str(reference.path)).exit_code == 0
        for host in (host for host in fleet.hosts if host.group == group):
            for path, mode in {**IPVS_FILES, **NODE_FILES}.items():
                if path == "etc/k8snode/masked-swap-units":  # the reference has no swap to mask
                    continue
                written = host.root.path / path
                assert written.read_bytes() == (reference.path / path).read_bytes(), (host.name, path)
                assert stat.S_IMODE(written.stat().st_mode) == mode, (host.name, path)
            assert f"modprobe -- {conntrack}" in (host.root.path / "etc/sysconfig/modules/ipvs.modules").read_text()
            assert conntrack in host.root.proc_modules(), host.name
            assert host.root.modprobe_calls() == reference.modprobe_calls(), host.name
            assert (host.root.path / "proc/sys/net/ipv4/ip_forward").read_text() == "1\n", host.name
            assert (host.root.path / "proc/swaps").read_text().count("\n") == 1, host.name  # the header only
            assert f"#k8snode-swap-off# {SWAP} none swap sw 0 0\n" in (host.root.path / "etc/fstab").read_text()
            assert os.readlink(host.root.path / "etc/systemd/system/dev-sda2.swap") == "/dev/null"


def test_first_run_installs_the_pyz_with_the_hosts_python_and_links_it(fleet, first_run, pyz):
    for host in (host for host in fleet.hosts if host.group in PYZ_GROUPS):
        installed = host.root.path / INSTALLED
        name = f"k8snode-cp{PYZ_GROUPS[host.group].replace('.', '')}.pyz"  # the archive of the host's Python
        assert (installed / name).read_bytes() == (pyz / name).read_bytes(), host.name
        wrapper = (installed / "bin/k8snode").read_text()
        assert f"/hostbin/python{PYZ_GROUPS[host.group]} " in wrapper, host.name
        link = host.root.path / "usr/local/bin/k8snode"
        assert os.readlink(link) == str(installed / "bin/k8snode")
        version = subprocess.run([str(link), "--version", "--json"], capture_output=True, text=True, check=True)
        data = json.loads(version.stdout)["data"]
        assert (data["version"], data["from_pyz"]) == ("0.1.0", True), host.name
        assert data["python"].startswith(PYZ_GROUPS[host.group] + "."), host.name


def test_first_run_installs_with_pip_into_a_venv_when_asked(fleet, first_run):
    for host in (host for host in fleet.hosts if host.group == PIP_GROUP):
        venv_script = host.root.path / INSTALLED / "bin/k8snode"
        link = host.root.path / "usr/local/bin/k8snode"
        assert os.readlink(link) == str(venv_script)
        version = subprocess.run([str(link), "--version", "--json"], capture_output=True, text=True, check=True)
        assert json.loads(version.stdout)["data"]["from_pyz"] is False


def test_runs_have_no_package_index_to_use(fleet, tmp_path):
    """Every run above had pip's index at an address where nothing listens and no find-links of the machine's:
    the pyz hosts need no index, and the pip hosts installed from the wheelhouse given with --no-index."""
    env = ansible_env(tmp_path)
    assert env["PIP_INDEX_URL"] == UNREACHABLE_INDEX
    assert "PIP_FIND_LINKS" not in env and "PIP_EXTRA_INDEX_URL" not in env


def test_a_kernel_without_ip_vs_fails_with_k8snodes_message_and_the_others_complete(fleet, first_run, no_ipvs_message):
    failures = first_run.failures()
    assert set(failures) == {"noipvs-1"}
    assert [failure["msg"] for failure in failures["noipvs-1"]] == [no_ipvs_message]  # said once
    assert first_run.recap()["noipvs-1"]["failed"] == 1
    host = fleet.host("noipvs-1")
    assert host.root.snapshot() == fleet.pristine["noipvs-1"]
    assert all((other.root.path / path).is_file() for other in fleet.good() for path in IPVS_FILES)


def recap_without_ok(run: PlaybookRun) -> dict[str, dict[str, int]]:
    return {host: {k: v for k, v in row.items() if k not in ("ok", "skipped")} for host, row in run.recap().items()}


def converged_recap(fleet: Fleet) -> dict[str, dict[str, int]]:
    """changed=0 everywhere, failed=0 except the host whose kernel has no ip_vs (its task fails with k8snode's
    message, once: no rescue repeats it)."""
    quiet = {"changed": 0, "unreachable": 0, "ignored": 0, "rescued": 0}
    return {host.name: {**quiet, "failed": int(host.group == "noipvs")} for host in fleet.hosts}


def test_second_run_changes_nothing(fleet, second_run):
    run, before, after = second_run
    assert recap_without_ok(run) == converged_recap(fleet)
    assert all(row["ok"] >= 1 for row in run.recap().values())
    assert after == before  # not one file touched, not one modprobe run
    assert "RUNNING HANDLER" not in run.stdout


def test_a_converged_run_skips_the_pyz_install_where_the_probe_finds_it_in_place(first_run, second_run):
    copy = "TASK [k8snode : Copy the k8snode archive for the host's Python]"
    assert copy in first_run.stdout
    assert copy not in second_run[0].stdout


def test_a_changed_install_is_put_back_on_its_host_only(fleet, repair_run):
    run, repaired = repair_run
    recap = run.recap()
    assert recap[repaired.name]["changed"] == 1
    assert stat.S_IMODE((repaired.root.path / INSTALLED / "bin/k8snode").stat().st_mode) == 0o755
    assert all(row["changed"] == 0 for name, row in recap.items() if name != repaired.name)


def test_check_on_the_converged_fleet_reports_no_change_and_touches_nothing(fleet, converged_check_run):
    run, before, after = converged_check_run
    assert recap_without_ok(run) == converged_recap(fleet)
    assert all(row["ok"] >= 1 for row in run.recap().values())
    assert after == before


def test_check_on_a_fresh_fleet_reports_changes_and_writes_nothing(fresh_check_run):
    fresh, run = fresh_check_run
    recap = run.recap()
    for host in fresh.good():
        assert recap[host.name]["changed"] >= 1, host.name
        assert recap[host.name]["failed"] == 0, host.name
    assert recap["noipvs-1"]["failed"] == 1
    assert {host.name: host.root.snapshot() for host in fresh.hosts} == fresh.pristine
    would_load = [line for line in run.stdout.splitlines() if line.startswith("changed: [")]
    assert len(would_load) >= len(fresh.good())


CHECK_SKIP = re.compile(r'ok: \[([^\]]+)\] => \{\s*"msg": "check mode: k8snode is not on this host yet')


def test_check_on_a_fresh_fleet_says_once_per_installing_host_why_its_k8snode_steps_are_skipped(
    fresh_check_run, converged_check_run
):
    fresh, run = fresh_check_run
    installing = sorted(host.name for host in fresh.hosts if host.group in (*PYZ_GROUPS, PIP_GROUP))
    assert sorted(CHECK_SKIP.findall(run.stdout)) == installing
    assert "TASK [k8snode : Prepare the node (k8snode node prepare)]" in run.stdout  # the hosts that have k8snode
    assert CHECK_SKIP.findall(converged_check_run[0].stdout) == []


def test_check_diff_shows_k8snodes_dry_run_diff_as_the_tasks_diff(fresh_check_run):
    """The hosts that already have k8snode (the checkout's console script) show what each file would hold."""
    _, run = fresh_check_run
    diffs = run.stdout.split("\n+++ b/")[1:]
    assert diffs and all(d.split("\n", 2)[1].startswith("@@ ") for d in diffs)
    assert any(d.startswith("etc/") and "\n+# Written by k8snode" in d for d in diffs)


def test_first_run_writes_the_kubelet_settings_of_each_family_and_notifies_the_handler(
    fleet, first_run, fake_root, cli
):
    """The form kubelet-flags chooses itself: the KubeletConfiguration file, and the family's flags file naming it
    with --config beside the one flag-only setting of the node-management set."""
    reference = fake_root("deb12-6.1", name="kubelet-config")
    written = cli(
        "kubelet-flags", "--kubernetes-version", KUBERNETES_VERSION, "--format", "config",
        "--out", f"/{KUBELET_CONFIG_FILE}", "--root", str(reference.path),
    )  # fmt: skip
    assert written.exit_code == 0, written.stderr
    for family, path in KUBELET_FLAGS_FILE.items():
        for host in (host for host in fleet.good() if OS_FAMILY[host.group] == family):
            config = host.root.path / KUBELET_CONFIG_FILE
            assert config.read_bytes() == (reference.path / KUBELET_CONFIG_FILE).read_bytes(), host.name
            flags = host.root.path / path
            assert flags.read_text().splitlines()[1:] == [KUBELET_EXTRA_ARGS], host.name
            assert stat.S_IMODE(flags.stat().st_mode) == stat.S_IMODE(config.stat().st_mode) == 0o644, host.name
            other = next(other for other in KUBELET_FLAGS_FILE.values() if other != path)
            assert (host.root.path / other).exists() == (other in fleet.pristine[host.name]), host.name
    # notified on every host whose file changed; with k8snode_root set it never restarts a real kubelet
    assert "RUNNING HANDLER [k8snode : Look for the kubelet unit]" in first_run.stdout
    assert "RUNNING HANDLER [k8snode : Restart the kubelet]" in first_run.stdout
    assert "changed: [" not in first_run.stdout.split("RUNNING HANDLER", 1)[1].split("PLAY RECAP")[0]


def test_kubelet_flags_lint_finds_no_deprecated_flag_in_what_the_role_wrote(fleet, second_run, cli):
    """With k8snode_kubelet_flags_format: config, the role writes no deprecated flag (the env form, the default for
    kubeadm nodes, makes lint warn four times per host)."""
    for family, path in KUBELET_FLAGS_FILE.items():
        host = next(host for host in fleet.good() if OS_FAMILY[host.group] == family)
        lint = cli(
            "kubelet-flags", "lint", "--kubernetes-version", KUBERNETES_VERSION, "--root", str(host.root.path),
            f"/{path}", "--json",
        )  # fmt: skip
        assert lint.exit_code == 0, lint.stdout + lint.stderr
        findings = lint.envelope()["data"]["findings"]
        assert [finding for finding in findings if finding["kind"] == "deprecated"] == [], host.name
        assert lint.envelope()["data"]["sources"][0]["files"] == [f"/{path}"]


def test_kubeadm_config_is_rendered_on_the_first_control_plane_host_only(fleet, second_run, cli, tmp_path):
    rendered = {host.name for host in fleet.hosts if (host.root.path / KUBEADM_CONFIG_FILE).exists()}
    assert rendered == {CONTROL_PLANE[0]}
    written = fleet.host(CONTROL_PLANE[0]).root.path / KUBEADM_CONFIG_FILE
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    # The same command line on a copy of the file changes nothing: the role passed exactly these options.
    copy = tmp_path / KUBEADM_CONFIG_FILE
    copy.parent.mkdir(parents=True)
    copy.write_bytes(written.read_bytes())
    copy.chmod(0o600)
    again = cli(
        "kubeadm-config", "--kubernetes-version", KUBERNETES_VERSION, "--proxy-mode", "ipvs", "--ipvs-scheduler", "rr",
        "--advertise-address", ADVERTISE_ADDRESS, "--out", f"/{KUBEADM_CONFIG_FILE}", "--root", str(tmp_path), "--json",
    )  # fmt: skip
    assert again.exit_code == 0, again.stderr
    assert again.envelope()["changed"] is False
    assert copy.read_bytes() == written.read_bytes()


def test_control_plane_playbook_rerenders_nothing_on_a_converged_fleet(fleet, second_run):
    run = fleet.run("control-plane-config.yml")
    assert run.recap() == {CONTROL_PLANE[0]: run.recap()[CONTROL_PLANE[0]]}
    assert run.recap()[CONTROL_PLANE[0]]["changed"] == 0


def test_reset_leaves_no_k8snode_file_behind(fleet, reset_run):
    recap = reset_run.recap()
    assert all(row["failed"] == 0 for row in recap.values()), reset_run.stdout
    for host in fleet.hosts:
        kept = {
            path: state[2]
            for path, state in host.root.snapshot().items()
            if not path.startswith(KERNEL_STATE) and stat.S_ISREG(state[1]) | stat.S_ISLNK(state[1])
        }
        pristine = {
            path: state[2]
            for path, state in fleet.pristine[host.name].items()
            if not path.startswith(KERNEL_STATE) and stat.S_ISREG(state[1]) | stat.S_ISLNK(state[1])
        }
        assert kept == pristine, host.name
    assert (fleet.host(FOREIGN[0]).root.path / FOREIGN[1]).read_text() == FOREIGN[2]
    for host in fleet.good():
        assert recap[host.name]["changed"] >= 1, host.name
        assert not (host.root.path / INSTALLED).exists()
