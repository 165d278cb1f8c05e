"""`k8snode node check | prepare | reset` on containerd's config.toml: real files on fake roots, the real CLI.

containerd itself is faked only where it answers (`containerd --version`, tests/fakes.py); what the real containerd
reads of each file k8snode writes is tests/truth's business (`containerd config dump`).
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import stat
import subprocess
import sys

import pytest
import tomlkit
from fakes import fake_containerd, fake_crio, write
from required import unavailable
from where import CONTAINERD_FIXTURES

CONFIG = "etc/containerd/config.toml"
ORIGINAL = "etc/k8snode/containerd-config.toml.orig"
RECORD = "etc/k8snode/containerd-config.toml.record"
PAUSE = "registry.k8s.io/pause:3.10.2"


@pytest.fixture
def node(host):
    """A Debian host with systemd installed (/usr/lib/systemd/systemd), containerd 2.4.2 and runc on PATH."""

    def make(version: str = "2.4.2", config: str | bytes | None = None, *, mode: int = 0o644, name: str = "root"):
        """``config``: a fixture's name, or the bytes of the file."""
        root = host("debian", name=name)
        fake_containerd(root.bin, version)
        if config is not None:
            data = (CONTAINERD_FIXTURES / config).read_bytes() if isinstance(config, str) else config
            path = root.path / CONFIG
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            path.chmod(mode)
        return root

    return make


def runtime_of(run) -> dict:
    assert "Traceback" not in run.stdout + run.stderr
    return run.envelope()["data"]["runtime"]


def statuses(runtime: dict) -> dict[str, str]:
    return {f["id"]: f["status"] for f in runtime["findings"] if f["id"] != "version"}


def changed_lines(before: bytes, after: bytes) -> tuple[list[str], list[str]]:
    """The lines a diff takes away and adds."""
    diff = list(difflib.unified_diff(before.decode().splitlines(), after.decode().splitlines(), lineterm="", n=0))
    removed = [line[1:] for line in diff if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in diff if line.startswith("+") and not line.startswith("+++")]
    return removed, added


CASES = {
    # fixture, containerd: (drift ids, lines the edit takes away, lines it adds)
    "v2": (
        "v2.toml",
        "1.7.27",
        {"cgroup_driver", "sandbox_image"},
        ['    sandbox_image = "registry.k8s.io/pause:3.8"', "            SystemdCgroup = false"],
        [f'    sandbox_image = "{PAUSE}"', "            SystemdCgroup = true"],
    ),
    "v3": (
        "v3.toml",
        "2.4.2",
        {"cgroup_driver", "sandbox_image"},
        ["      sandbox = 'registry.k8s.io/pause:3.10'", "            SystemdCgroup = false"],
        [f"      sandbox = '{PAUSE}'", "            SystemdCgroup = true"],  # tomlkit keeps the quotes
    ),
    "v4": (
        "v4.toml",
        "2.4.2",
        {"cgroup_driver", "sandbox_image"},
        ["      sandbox = 'registry.k8s.io/pause:3.10'", "            SystemdCgroup = false"],
        [f"      sandbox = '{PAUSE}'", "            SystemdCgroup = true"],
    ),
    "operator": (
        "operator-commented.toml",
        "2.4.2",
        {"cri_plugin", "cgroup_driver", "sandbox_image"},
        [
            '  "io.containerd.grpc.v1.cri",            # turned off while we ran Docker only',
            '  sandbox_image = "mirror.example.org/pause:3.6" # old pin',
            "        SystemdCgroup = false   # flip when the kubelet goes systemd",
        ],
        [
            f'  sandbox_image = "{PAUSE}" # old pin',
            "        SystemdCgroup = true   # flip when the kubelet goes systemd",
        ],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_prepare_edits_only_the_keys_then_check_passes_and_reset_restores_the_bytes(node, cli, case):
    fixture, version, drift, removed, added = CASES[case]
    code = 1 if version.startswith("1.") else 0  # containerd 1.x is no containerd for kubelet 1.37: a problem
    root = node(version, fixture, mode=0o640)
    before = (root.path / CONFIG).read_bytes()
    check = cli("node", "check", "--root", str(root.path), "--json")
    assert check.exit_code == 1
    runtime = runtime_of(check)
    assert runtime["runtime"] == "containerd" and runtime["version"] == version
    assert {i for i, s in statuses(runtime).items() if s != "ok"} == drift
    assert (root.path / CONFIG).read_bytes() == before

    run = cli("node", "prepare", "--root", str(root.path), "--json")
    assert run.exit_code == code, run.stdout + run.stderr
    assert [p.split(" is not among")[0] for p in run.envelope()["data"]["problems"]] == (
        [f"containerd: containerd {version}"] if code else []
    )
    runtime = runtime_of(run)
    assert runtime["restart_needed"] is True and runtime["restart"] is None
    after = (root.path / CONFIG).read_bytes()
    assert changed_lines(before, after) == (removed, added)
    assert stat.S_IMODE((root.path / CONFIG).stat().st_mode) == 0o640  # the operator's mode stays
    assert (root.path / ORIGINAL).read_bytes() == before

    again = cli("node", "prepare", "--root", str(root.path), "--json")
    assert again.exit_code == code
    assert runtime_of(again)["restart_needed"] is False
    snapshot = root.snapshot()
    assert cli("node", "prepare", "--root", str(root.path)).exit_code == code
    assert root.snapshot() == snapshot  # idempotent: not one byte, mode or mtime

    check = cli("node", "check", "--root", str(root.path), "--json")
    assert check.exit_code == code, check.stdout
    assert set(statuses(runtime_of(check)).values()) == {"ok"}

    reset = cli("node", "reset", "--root", str(root.path), "--json")
    assert reset.exit_code == 0, reset.stderr
    assert {f["path"]: f["action"] for f in reset.envelope()["data"]["runtime_files"]} == {
        f"/{CONFIG}": "restored",
        f"/{ORIGINAL}": "removed",
        f"/{RECORD}": "removed",
    }
    assert (root.path / CONFIG).read_bytes() == before
    assert stat.S_IMODE((root.path / CONFIG).stat().st_mode) == 0o640
    assert not (root.path / "etc/k8snode").exists()


def test_dockers_file_gets_the_cri_back_and_keeps_its_comments(node, cli):
    """Docker's containerd.io package ships disabled_plugins = ["cri"] and nothing else but comments: a version 1
    file, edited as one (containerd 2.x migrates it at each start)."""
    root = node("2.4.2", "docker-containerd-io.toml")
    before = (root.path / CONFIG).read_text()
    check = cli("node", "check", "--root", str(root.path), "--json")
    [cri] = [f for f in runtime_of(check)["findings"] if f["id"] == "cri_plugin"]
    assert (cri["status"], cri["preflight"]) == ("drift", "CRI")
    assert cli("node", "prepare", "--root", str(root.path)).exit_code == 0
    after = (root.path / CONFIG).read_text()
    head, _, appended = after.partition("\n[plugins.cri]\n")
    assert head == before.replace('disabled_plugins = ["cri"]', "disabled_plugins = []")
    # no version key: with one, a "cri" entry would stop containerd (it wants a URI from version 2 on)
    assert "version" not in tomlkit.parse(after)
    assert appended.split("\n\n") == [
        f'sandbox_image = "{PAUSE}"',
        '[plugins.cri.containerd.runtimes.runc]\nruntime_type = "io.containerd.runc.v2"',
        "[plugins.cri.containerd.runtimes.runc.options]\nSystemdCgroup = true\n",
    ]
    assert cli("node", "reset", "--root", str(root.path)).exit_code == 0
    assert (root.path / CONFIG).read_text() == before


def test_a_versioned_file_that_disables_cri_by_its_v1_name_gets_it_out(node, cli):
    """1.6 and 2.4 refuse a version 2 or later file whose disabled_plugins holds "cri" (measured: "invalid disabled
    plugin URI"); prepare removes it all the same."""
    root = node("2.4.2", b'version = 3\ndisabled_plugins = ["cri", "io.containerd.snapshotter.v1.zfs"]\n')
    check = cli("node", "check", "--root", str(root.path), "--json")
    [cri] = [f for f in runtime_of(check)["findings"] if f["id"] == "cri_plugin"]
    assert cri["status"] == "drift" and "which stops containerd" in cri["detail"]
    assert cli("node", "prepare", "--root", str(root.path)).exit_code == 0
    document = tomlkit.parse((root.path / CONFIG).read_text())
    assert (document["version"], document["disabled_plugins"]) == (3, ["io.containerd.snapshotter.v1.zfs"])


LEFTOVER = b"""version = 3
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "old/pause:1"  # from the version 2 days
[plugins."io.containerd.cri.v1.images".pinned_images]
  sandbox = "registry.k8s.io/pause:3.10.2"
"""


@pytest.mark.parametrize(("containerd", "found"), [("2.4.2", "old/pause:1"), ("2.2.1", PAUSE)])
def test_a_leftover_v2_sandbox_image_in_a_v3_file_is_read_as_containerd_reads_it_and_set(node, cli, containerd, found):
    """containerd 2.3 and later migrate every file below version 4, copying a sandbox_image under the version 2 name
    over pinned_images.sandbox (plugins/cri/images/plugin.go; tests/truth measures it); 2.0 to 2.2 do not migrate a
    version 3 file. Either way prepare sets the leftover to the wanted image too, keeping its line's comment."""
    root = node(containerd, LEFTOVER)
    check = cli("node", "check", "--root", str(root.path), "--json")
    [sandbox] = [f for f in runtime_of(check)["findings"] if f["id"] == "sandbox_image"]
    assert (sandbox["status"], sandbox["found"]) == ("drift", found)
    assert 'plugins."io.containerd.grpc.v1.cri".sandbox_image' in sandbox["detail"]
    cli("node", "prepare", "--root", str(root.path))
    text = (root.path / CONFIG).read_text()
    assert f'  sandbox_image = "{PAUSE}"  # from the version 2 days\n' in text
    document = tomlkit.parse(text)
    assert document["plugins"]["io.containerd.cri.v1.images"]["pinned_images"]["sandbox"] == PAUSE
    check = cli("node", "check", "--root", str(root.path), "--json")
    assert statuses(runtime_of(check))["sandbox_image"] == "ok"


MIXED = b"""version = 2
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = true
[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
  SystemdCgroup = false
"""


@pytest.mark.parametrize(("containerd", "status"), [("2.4.2", "problem"), ("1.6.20~ds1", "ok")])
def test_a_version_2_file_with_version_3_runtimes_is_a_problem_where_containerd_2_reads_it(
    node, cli, containerd, status
):
    """containerd 2.x keeps the version 3 runtimes and drops the migrated version 2 ones (plugins/cri/runtime/
    plugin.go; tests/truth: the v3 SystemdCgroup wins in a v2 file); 1.x ignores the version 3 names."""
    root = node(containerd, MIXED)
    run = cli("node", "check", "--root", str(root.path), "--json")
    [driver] = [f for f in runtime_of(run)["findings"] if f["id"] == "cgroup_driver"]
    assert driver["status"] == status
    if status == "problem":
        assert 'also has plugins."io.containerd.cri.v1.runtime".containerd.runtimes' in driver["detail"]


def test_a_v2_runc_table_without_runtime_type_gets_one(node, cli):
    """containerd 1.6 replaces a runtime's whole entry with the file's, leaving runtime_type empty (tests/truth:
    test_1_6_loses_the_runtime_type_of_a_runtime_given_only_its_options)."""
    content = (
        b'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\nSystemdCgroup = true\n'
    )
    root = node("1.6.20~ds1", content)
    check = cli("node", "check", "--root", str(root.path), "--json")
    driver = driver_of(check)
    assert (driver["status"], driver["found"]) == ("drift", "systemd")
    assert "has no runtime_type" in driver["detail"]
    cli("node", "prepare", "--root", str(root.path))
    document = tomlkit.parse((root.path / CONFIG).read_text())
    runc = document["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"]["runc"]
    assert (runc["runtime_type"], runc["options"]["SystemdCgroup"]) == ("io.containerd.runc.v2", True)
    assert driver_of(cli("node", "check", "--root", str(root.path), "--json"))["status"] == "ok"


def test_unknown_plugin_sections_are_kept_byte_for_byte(node, cli):
    root = node("2.4.2", "operator-commented.toml")
    before = (root.path / CONFIG).read_text()
    vendor = before[before.index("# The GPU shim") : before.index('[plugins."io.containerd.grpc.v1.cri"]')]
    metrics = before[before.index("# Metrics") :]
    assert cli("node", "prepare", "--root", str(root.path)).exit_code == 0
    after = (root.path / CONFIG).read_text()
    assert vendor in after and metrics in after
    assert after.startswith(before[: before.index("disabled_plugins")])


@pytest.mark.parametrize(("version", "schema"), [("2.4.2", 4), ("2.2.1", 3), ("1.7.27", 2), (None, 2)])
def test_no_file_gets_a_minimal_one_of_the_schema_containerd_reads_and_reset_removes_it(node, cli, version, schema):
    code = 0 if version in ("2.4.2", None) else 1  # the version is a problem for kubelet 1.37, not the file
    root = node(version or "2.4.2")
    if version is None:  # no containerd on PATH, only its socket: the version is unknown
        (root.bin / "containerd").unlink()
        write(root.path / "run/containerd/containerd.sock", "")
    check = cli("node", "check", "--root", str(root.path), "--json")
    runtime = runtime_of(check)
    assert runtime["config"] is None and runtime["version"] == version
    assert statuses(runtime)["config"] == "drift"
    run = cli("node", "prepare", "--root", str(root.path), "--json")
    assert run.exit_code == code, run.stdout + run.stderr
    path = root.path / CONFIG
    text = path.read_text()
    assert text.startswith("# Written by k8snode 0.1.0 (k8snode node prepare). Remove with: k8snode node reset\n")
    assert f"\nversion = {schema}\n" in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o755
    assert not (root.path / ORIGINAL).exists()
    assert "created yes" in (root.path / RECORD).read_text()
    assert "\nSystemdCgroup = true\n" in text and '\nruntime_type = "io.containerd.runc.v2"\n' in text
    assert cli("node", "check", "--root", str(root.path)).exit_code == code
    reset = cli("node", "reset", "--root", str(root.path), "--json")
    assert reset.exit_code == 0
    assert not path.exists() and not (root.path / RECORD).exists()


KUBELET_CGROUPFS = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: cgroupfs\n"


def driver_of(run) -> dict:
    [driver] = [f for f in runtime_of(run)["findings"] if f["id"] == "cgroup_driver"]
    return driver


def test_containerd_1_uses_the_kubelets_cgroupfs(node, cli):
    """containerd 1.x lacks the RuntimeConfig CRI call: kubelet 1.37 falls back to its own cgroupDriver, so the two
    must agree (support.cgroup_driver_rule)."""
    root = node("1.6.20~ds1", "v2.toml")
    kubelet = "/etc/kubernetes/kubelet.yaml"  # a path on the target system: under the root
    write(root.path / kubelet[1:], KUBELET_CGROUPFS)
    before = (root.path / CONFIG).read_bytes()
    run = cli("node", "prepare", "--root", str(root.path), "--kubelet-config", kubelet, "--json")
    driver = driver_of(run)
    assert (driver["status"], driver["found"], driver["wanted"]) == ("ok", "cgroupfs", "cgroupfs")
    assert f"the kubelet's cgroupDriver (--kubelet-config {kubelet}: cgroupDriver)" in driver["detail"]
    assert "falls back to its own cgroupDriver" in driver["detail"]
    after = (root.path / CONFIG).read_bytes()
    assert b"SystemdCgroup = false" in after and b"SystemdCgroup = true" not in after
    assert changed_lines(before, after)[0] == ['    sandbox_image = "registry.k8s.io/pause:3.8"']
    [version] = [f for f in runtime_of(run)["findings"] if f["id"] == "version"]
    assert version["status"] == "problem" and run.exit_code == 1  # 1.6 is no containerd for kubelet 1.37

    default = cli("node", "check", "--root", str(root.path), "--json")  # kubeadm's default driver: systemd
    assert (driver_of(default)["status"], driver_of(default)["wanted"]) == ("drift", "systemd")


def test_containerd_2_on_a_systemd_host_uses_systemd_whatever_the_kubelet_says(node, cli):
    """kubelet 1.37 takes the driver from containerd 2.x (RuntimeConfig) and ignores its own cgroupDriver: the
    runtime's driver must suit the host, and the kubelet's cgroupfs is no drift."""
    root = node("2.4.2", "v3.toml")
    kubelet = "/etc/kubernetes/kubelet.yaml"
    write(root.path / kubelet[1:], KUBELET_CGROUPFS)
    check = cli("node", "check", "--root", str(root.path), "--kubelet-config", kubelet, "--json")
    driver = driver_of(check)
    assert (driver["status"], driver["found"], driver["wanted"]) == ("drift", "cgroupfs", "systemd")
    assert "a host that runs systemd needs systemd" in driver["detail"]
    run = cli("node", "prepare", "--root", str(root.path), "--kubelet-config", kubelet, "--json")
    assert run.exit_code == 0, run.stdout
    assert b"SystemdCgroup = true" in (root.path / CONFIG).read_bytes()
    check = cli("node", "check", "--root", str(root.path), "--kubelet-config", kubelet, "--json")
    assert check.exit_code == 0
    driver = driver_of(check)
    assert (driver["status"], driver["found"], driver["wanted"]) == ("ok", "systemd", "systemd")
    assert (
        f"the kubelet's cgroupDriver cgroupfs (--kubelet-config {kubelet}: cgroupDriver) is ignored"
        in (driver["detail"])
    )


def test_containerd_2_on_a_host_without_systemd_uses_cgroupfs(host, cli):
    root = host("debian")
    (root.path / "usr/lib/systemd/systemd").unlink()  # a container image, say: no init system of its own
    fake_containerd(root.bin, "2.4.2")
    write(root.path / CONFIG, (CONTAINERD_FIXTURES / "v3.toml").read_text())
    run = cli("node", "check", "--root", str(root.path), "--json")
    driver = driver_of(run)
    assert (driver["status"], driver["found"], driver["wanted"]) == ("ok", "cgroupfs", "cgroupfs")
    assert "a host without systemd" in driver["detail"]


def test_a_kubeadm_configs_release_and_socket_are_followed(node, cli):
    root = node("2.4.2", "v3.toml")
    kubeadm = "/etc/kubernetes/kubeadm.yaml"
    write(
        root.path / kubeadm[1:],
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nnodeRegistration:\n"
        "  criSocket: unix:///var/run/crio/crio.sock\n---\n"
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.39.0\n",
    )
    before = root.snapshot()
    run = cli("node", "prepare", "--root", str(root.path), "--kubeadm-config", kubeadm, "--json")
    assert run.exit_code == 1  # the socket is the operator's to move
    envelope = run.envelope()
    [socket] = [f for f in runtime_of(run)["findings"] if f["id"] == "socket"]
    assert (socket["status"], socket["wanted"]) == ("problem", "/var/run/crio/crio.sock")
    assert f"containerd: {socket['detail']}" in envelope["data"]["problems"]
    assert any("v1.39.0's images" in w for w in envelope["warnings"])
    assert root.snapshot() != before  # the rest is prepared all the same


def test_kubeadms_default_socket_under_var_run_is_containerds(node, cli):
    root = node("2.4.2", "v3.toml")
    kubeadm = "/etc/kubernetes/kubeadm.yaml"
    write(
        root.path / kubeadm[1:],
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\nnodeRegistration:\n"
        "  criSocket: unix:///var/run/containerd/containerd.sock\n",
    )
    run = cli("node", "check", "--root", str(root.path), "--kubeadm-config", kubeadm, "--json")
    assert statuses(runtime_of(run))["socket"] == "ok"


def test_the_nodes_kubelet_config_gives_the_driver_when_no_option_does(node, cli):
    root = node("1.6.20~ds1", "v2.toml")
    write(root.path / "var/lib/kubelet/config.yaml", "kind: KubeletConfiguration\ncgroupDriver: cgroupfs\n")
    run = cli("node", "check", "--root", str(root.path), "--json")
    [driver] = [f for f in runtime_of(run)["findings"] if f["id"] == "cgroup_driver"]
    assert (driver["status"], driver["wanted"]) == ("ok", "cgroupfs")


def test_a_missing_runc_is_a_problem_prepare_cannot_fix(node, cli):
    root = node("2.4.2", "v3.toml")
    (root.bin / "runc").unlink()
    if any(os.access(os.path.join(d, "runc"), os.X_OK) for d in os.environ["PATH"].split(os.pathsep)):
        pytest.skip("this host has runc on PATH")
    run = cli("node", "prepare", "--root", str(root.path), "--json")
    assert run.exit_code == 1
    [binary] = [f for f in runtime_of(run)["findings"] if f["id"] == "runtime_binary"]
    assert binary["status"] == "problem" and "runc on PATH is missing" in binary["detail"]


def test_reset_keeps_a_file_the_operator_changed_since(node, cli):
    root = node("2.4.2", "v2.toml")
    before = (root.path / CONFIG).read_bytes()
    assert cli("node", "prepare", "--root", str(root.path)).exit_code == 0
    with (root.path / CONFIG).open("a") as config:
        config.write("# tuned by hand afterwards\n")
    edited = (root.path / CONFIG).read_bytes()
    run = cli("node", "reset", "--root", str(root.path), "--json")
    assert run.exit_code == 0
    assert (root.path / CONFIG).read_bytes() == edited
    assert (root.path / ORIGINAL).read_bytes() == before
    assert any("changed since k8snode wrote it and stays" in w for w in run.envelope()["warnings"])
    forced = cli("node", "reset", "--force", "--root", str(root.path))
    assert forced.exit_code == 0
    assert (root.path / CONFIG).read_bytes() == before


def test_a_second_prepare_for_another_driver_keeps_the_first_original(node, cli):
    root = node("1.6.20~ds1", "v2.toml")  # containerd 1.x follows the kubelet's driver (exit 1: its version)
    before = (root.path / CONFIG).read_bytes()
    assert cli("node", "prepare", "--root", str(root.path)).exit_code == 1
    assert b"SystemdCgroup = true" in (root.path / CONFIG).read_bytes()
    write(root.path / "etc/kubelet.yaml", "kind: KubeletConfiguration\ncgroupDriver: cgroupfs\n")
    assert cli("node", "prepare", "--root", str(root.path), "--kubelet-config", "/etc/kubelet.yaml").exit_code == 1
    assert b"SystemdCgroup = false" in (root.path / CONFIG).read_bytes()
    assert (root.path / ORIGINAL).read_bytes() == before
    assert cli("node", "reset", "--root", str(root.path)).exit_code == 0
    assert (root.path / CONFIG).read_bytes() == before


BAD_FILES = {
    "not TOML": (b"version = 2\n[plugins\n", "/etc/containerd/config.toml is not TOML: "),
    "version 7": (b"version = 7\n", "version = 7 is not a containerd config version k8snode knows"),
    "SystemdCgroup a string": (
        b'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\nSystemdCgroup = "yes"\n',
        'plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options.SystemdCgroup must be true or false',
    ),
    "plugins an array": (b"version = 3\nplugins = [1]\n", "plugins must be a table"),
    "over 1 MiB": (b"version = 2\n" + b"# padding\n" * 110_000, "is larger than 1 MiB"),
    "not UTF-8": (b"version = 2\n# \xff\xfe\n", "is not UTF-8"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_is_exit_2_with_one_line_and_nothing_changes(node, cli, case):
    content, message = BAD_FILES[case]
    root = node("2.4.2", content)
    for verb in ("check", "prepare"):
        before = root.snapshot()
        run = cli("node", verb, "--root", str(root.path))
        assert run.exit_code == 2, (verb, run.stdout, run.stderr)
        assert run.stderr.startswith("k8snode: error: ") and message in run.stderr, run.stderr
        assert run.stderr.count("\n") == 1
        assert root.snapshot() == before
    assert root.modprobe_calls() == []


def test_not_toml_names_the_line_and_column(node, cli):
    root = node("2.4.2", b'version = 2\ndisabled_plugins = ["cri"\nroot = "/x"\n')
    run = cli("node", "check", "--root", str(root.path))
    assert run.exit_code == 2
    assert "(line 3, column" in run.stderr


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_a_fifo_or_a_directory_at_the_path_is_exit_2(node, cli, kind):
    root = node("2.4.2")
    path = root.path / CONFIG
    path.parent.mkdir(parents=True)
    os.mkfifo(path) if kind == "fifo" else path.mkdir()
    before = root.snapshot()
    run = cli("node", "prepare", "--root", str(root.path))
    assert run.exit_code == 2, run.stderr
    assert run.stderr.startswith(f"k8snode: error: /{CONFIG} is ") and run.stderr.count("\n") == 1
    assert root.snapshot() == before


def test_a_symlink_is_a_problem_and_stays(node, cli, tmp_path):
    root = node("2.4.2")
    (root.path / CONFIG).parent.mkdir(parents=True)
    (root.path / CONFIG).symlink_to("/usr/share/containerd/config.toml")
    run = cli("node", "prepare", "--root", str(root.path), "--json")
    assert run.exit_code == 1
    runtime = runtime_of(run)
    assert statuses(runtime)["config"] == "problem" and runtime["files"] == []
    assert (root.path / CONFIG).readlink().as_posix() == "/usr/share/containerd/config.toml"


IMPORTS = b"""version = 3
imports = ['/etc/containerd/conf.d/*.toml', 'local/*.toml']
disabled_plugins = []
"""


def test_imports_that_bring_files_are_a_problem_and_the_file_is_not_edited(node, cli):
    """containerd merges each imported file over this one (config.go LoadConfigWithPlugins, resolveImports: a
    relative entry is taken from config.toml's directory, an entry with '*' is globbed)."""
    root = node("2.4.2", IMPORTS)
    write(root.path / "etc/containerd/conf.d/README", "not a match\n")
    write(root.path / "etc/containerd/local/10-gpu.toml", "version = 3\n")
    write(root.path / "etc/containerd/conf.d/50-mirror.toml", "version = 3\n")
    run = cli("node", "prepare", "--root", str(root.path), "--json")
    assert run.exit_code == 1
    [problem] = [f for f in runtime_of(run)["findings"] if f["status"] == "problem"]
    assert problem["id"] == "config"
    assert problem["found"] == "/etc/containerd/conf.d/50-mirror.toml, /etc/containerd/local/10-gpu.toml"
    assert (root.path / CONFIG).read_bytes() == IMPORTS
    assert not (root.path / RECORD).exists()


def test_imports_that_match_no_file_leave_the_file_editable(node, cli):
    """containerd 2.x's `config default` writes imports = ['/etc/containerd/conf.d/*.toml']: with no drop-in there,
    the file is the whole configuration."""
    root = node("2.4.2", IMPORTS)
    (root.path / "etc/containerd/conf.d").mkdir()
    write(root.path / "etc/containerd/conf.d/notes.txt", "no .toml here\n")
    run = cli("node", "prepare", "--root", str(root.path), "--json")
    assert run.exit_code == 0, run.stdout
    [config] = [f for f in runtime_of(run)["findings"] if f["id"] == "config"]
    assert config["status"] == "ok"
    assert "its imports (/etc/containerd/conf.d/*.toml, local/*.toml) match no file" in config["detail"]
    text = (root.path / CONFIG).read_text()
    assert text.startswith(IMPORTS.decode()) and "SystemdCgroup = true" in text


def test_an_import_that_names_a_missing_file_is_a_problem(node, cli):
    """An entry without '*' is opened as is: a missing file stops containerd (config.go loadConfigFile)."""
    root = node("2.4.2", b"version = 3\nimports = ['extra.toml']\n")
    run = cli("node", "check", "--root", str(root.path), "--json")
    assert run.exit_code == 1
    [config] = [f for f in runtime_of(run)["findings"] if f["id"] == "config"]
    assert (config["status"], config["found"]) == ("problem", "/etc/containerd/extra.toml")
    assert "containerd does not start" in config["detail"]


def test_a_version_3_file_on_containerd_1_is_a_problem(node, cli):
    root = node("1.6.20~ds1", "v3.toml")
    run = cli("node", "prepare", "--root", str(root.path), "--json")
    assert run.exit_code == 1
    runtime = runtime_of(run)
    assert runtime["version"] == "1.6.20~ds1"
    [schema] = [f for f in runtime["findings"] if f["id"] == "schema"]
    assert schema["status"] == "problem"
    assert "it ignores its plugin sections without a word and runs on its defaults" in schema["detail"]  # measured
    assert (root.path / CONFIG).read_bytes() == (CONTAINERD_FIXTURES / "v3.toml").read_bytes()


def test_no_runtime_found_is_a_warning_under_auto_and_drift_when_named(host, cli):
    root = host("debian")
    if any(os.access(os.path.join(d, "containerd"), os.X_OK) for d in os.environ["PATH"].split(os.pathsep)):
        pytest.skip("this host has containerd on PATH")
    assert cli("node", "prepare", "--root", str(root.path)).exit_code == 0
    auto = cli("node", "check", "--root", str(root.path), "--json")
    assert auto.exit_code == 0
    assert auto.envelope()["data"]["runtime"] is None
    assert any(w.startswith("no container runtime found") for w in auto.envelope()["warnings"])
    named = cli("node", "check", "--runtime", "containerd", "--root", str(root.path), "--json")
    assert named.exit_code == 1
    assert named.envelope()["data"]["problems"] == [
        "--runtime containerd: no /run/containerd/containerd.sock and no containerd on PATH; install it"
    ]
    none = cli("node", "check", "--runtime", "none", "--root", str(root.path), "--json")
    assert none.exit_code == 0 and none.envelope()["warnings"] == []


def test_crio_is_found_with_its_version(host, cli):
    root = host("debian")
    fake_crio(root.bin)
    write(root.path / "var/run/crio/crio.sock", "")
    run = cli("node", "check", "--runtime", "crio", "--root", str(root.path), "--json")
    runtime = runtime_of(run)
    assert (runtime["runtime"], runtime["version"]) == ("crio", "1.34.1")


def test_restart_is_said_never_done_unless_asked_and_only_where_systemd_runs_the_root(node, cli):
    root = node("2.4.2", "v2.toml")
    run = cli("node", "prepare", "--restart-runtime", "--root", str(root.path), "--json")
    assert run.exit_code == 0
    assert runtime_of(run)["restart"] is None
    assert any("containerd not restarted: systemd does not run --root" in w for w in run.envelope()["warnings"])
    assert root.systemctl_calls() == []


@pytest.mark.parametrize(
    ("release", "code", "said"),
    [
        ("v1.31.0", None, "k8snode does not know the pause image of kubeadm v1.31.0 (it knows v1.30.14, v1.32.13"),
        ("stable-1", 2, "is not a Kubernetes version"),
        ("v1.37.0", 0, None),
    ],
)
def test_the_target_release_picks_the_pause_image(node, cli, release, code, said):
    root = node("2.4.2", "v3.toml")
    run = cli("node", "check", "--kubernetes-version", release, "--root", str(root.path), "--json")
    if code == 2:
        assert run.exit_code == 2 and run.stderr.count("\n") == 1
        assert said is None or said in run.stderr
        return
    [sandbox] = [f for f in runtime_of(run)["findings"] if f["id"] == "sandbox_image"]
    if said is None:
        assert sandbox["wanted"] == PAUSE
    else:  # a release whose images k8snode does not know: the sandbox image is reported, not checked or changed
        assert (sandbox["status"], sandbox["wanted"]) == ("unknown", None) and said in sandbox["detail"]
        before = (root.path / CONFIG).read_bytes()
        cli("node", "prepare", "--kubernetes-version", release, "--root", str(root.path))
        assert "pause:3.10'" in (root.path / CONFIG).read_text() and b"pause:3.10'" in before


def test_the_json_names_every_finding_and_the_files(node, cli):
    root = node("2.4.2", "v3.toml")
    data = json.loads(cli("node", "prepare", "--dry-run", "--root", str(root.path), "--json").stdout)["data"]
    runtime = data["runtime"]
    assert [f["id"] for f in runtime["findings"]] == [
        "version",
        "config",
        "schema",
        "cri_plugin",
        "cgroup_driver",
        "sandbox_image",
        "socket",
        "runtime_binary",
    ]
    assert [(f["path"], f["action"]) for f in runtime["files"]] == [
        (f"/{ORIGINAL}", "would-create"),
        (f"/{RECORD}", "would-create"),
        (f"/{CONFIG}", "would-update"),
    ]
    assert "+            SystemdCgroup = true" in data["diffs"][f"/{CONFIG}"]


def test_a_config_path_no_write_can_reach_is_refused_before_anything_changes(node, cli):
    root = node("2.4.2")
    write(root.path / "etc/containerd", "a file where containerd's directory belongs\n")
    before = root.snapshot()
    run = cli("node", "prepare", "--root", str(root.path))
    assert run.exit_code == 3, run.stderr
    assert run.stderr == f"k8snode: error: cannot write /{CONFIG}: /etc/containerd is not a directory\n"
    assert root.snapshot() == before
    assert root.modprobe_calls() == []


RESTART = """
import json, sys
from pathlib import PurePosixPath
from k8snode.core.files import FilePlan
from k8snode.core.system import System
from k8snode.prepare.node import restart_runtime
from k8snode.runtime.model import RuntimePlan

config = PurePosixPath("/etc/containerd/config.toml")
written = [FilePlan(config, 0o644, b"version = 3\\n", None)] if sys.argv[1] == "changed" else []
plan = RuntimePlan("containerd", "2.4.2", config, [], written)
print(json.dumps(restart_runtime(System(), plan, dry_run=sys.argv[2] == "dry")))
"""


def restart_in_a_namespace(root, *args: str) -> list:
    """``restart_runtime`` with the root /, in a private mount namespace whose /run is a tmpfs holding
    /run/systemd/system, as on a host systemd booted; the fake systemctl first on PATH. Needs root. (node prepare
    itself cannot run there: its root / is this machine's kernel.)"""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        unavailable("K8SNODE_REQUIRE_ROOT", "a private mount namespace needs root and util-linux's unshare")
    script = 'mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/system && "$@"'
    argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"]
    done = subprocess.run(
        [*argv, sys.executable, "-c", RESTART, *args], capture_output=True, text=True, env=root.env(), timeout=60
    )
    if "unshare: " in done.stderr or "mount: " in done.stderr:
        unavailable("K8SNODE_REQUIRE_ROOT", f"cannot make the mount namespace here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_restart_runs_only_when_a_file_changed_and_says_what_it_did(node):
    root = node("2.4.2")
    assert restart_in_a_namespace(root, "unchanged", "real") == [None, []]
    assert restart_in_a_namespace(root, "changed", "dry") == ["would-run", []]
    assert root.systemctl_calls() == []
    assert restart_in_a_namespace(root, "changed", "real") == ["ran", []]
    assert root.systemctl_calls() == ["restart containerd"]
    write(root.path / "fake/systemctl.rc", "1\n")
    action, [warning] = restart_in_a_namespace(root, "changed", "real")
    assert action == "failed" and warning.startswith("systemctl restart containerd failed (")


KATA = b"""version = 2
[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "kata"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kata]
  runtime_type = "io.containerd.kata.v2"
"""


def test_a_default_runtime_that_is_not_runc_is_left_to_the_operator(node, cli):
    root = node("2.4.2", KATA)
    run = cli("node", "prepare", "--root", str(root.path), "--json")
    assert run.exit_code == 0, run.stdout
    envelope = run.envelope()
    runtime = runtime_of(run)
    assert statuses(runtime)["cgroup_driver"] == statuses(runtime)["runtime_binary"] == "unknown"
    assert any("runtime_type is io.containerd.kata.v2" in w for w in envelope["warnings"])
    text = (root.path / CONFIG).read_text()
    assert "SystemdCgroup" not in text and "runtimes.runc" not in text
    assert f'sandbox_image = "{PAUSE}"' in text


def test_a_default_runtime_with_no_table_is_a_problem(node, cli):
    root = node("2.4.2", b'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd]\ndefault_runtime_name = "x"\n')
    run = cli("node", "check", "--root", str(root.path), "--json")
    assert run.exit_code == 1
    [driver] = [f for f in runtime_of(run)["findings"] if f["id"] == "cgroup_driver"]
    assert driver["status"] == "problem" and "default_runtime_name 'x' names no table" in driver["detail"]


def test_an_older_release_matters_only_where_there_is_a_runtime_and_bad_files_always(host, node, cli):
    bare = host("debian", name="bare")
    if not any(os.access(os.path.join(d, "containerd"), os.X_OK) for d in os.environ["PATH"].split(os.pathsep)):
        run = cli("node", "check", "--kubernetes-version", "v1.31.2", "--root", str(bare.path))
        assert run.exit_code == 1 and "Traceback" not in run.stdout  # the kernel's drift, no runtime to check
    missing = cli("node", "check", "--kubelet-config", "/etc/nothing.yaml", "--root", str(bare.path))
    assert missing.exit_code == 2
    assert (
        missing.stderr
        == "k8snode: error: --kubelet-config /etc/nothing.yaml does not exist; give a KubeletConfiguration file\n"
    )
    root = node("2.4.2", "v3.toml")
    write(root.path / "etc/kubelet.yaml", "kind: KubeletConfiguration\ncgroupDriver: none\n")
    wrong = cli("node", "check", "--kubelet-config", "/etc/kubelet.yaml", "--root", str(root.path))
    assert wrong.exit_code == 2
    assert "cgroupDriver 'none' is not one the kubelet takes; use systemd or cgroupfs" in wrong.stderr
    old = cli("node", "check", "--kubernetes-version", "v1.31.2", "--root", str(root.path), "--json")
    [sandbox] = [f for f in runtime_of(old)["findings"] if f["id"] == "sandbox_image"]
    assert sandbox["status"] == "unknown" and "does not know the pause image of kubeadm v1.31.2" in sandbox["detail"]


def test_reset_when_the_file_is_gone_or_its_original_is(node, cli):
    created = node("2.4.2", name="created")
    assert cli("node", "prepare", "--root", str(created.path)).exit_code == 0
    (created.path / CONFIG).unlink()  # the operator removed the file k8snode made: only the record is left
    run = cli("node", "reset", "--root", str(created.path), "--json")
    assert run.exit_code == 0 and not (created.path / RECORD).exists()
    assert not [w for w in run.envelope()["warnings"] if CONFIG in w]

    edited = node("2.4.2", "v2.toml", name="edited")
    before = (edited.path / CONFIG).read_bytes()
    assert cli("node", "prepare", "--root", str(edited.path)).exit_code == 0
    (edited.path / CONFIG).unlink()
    run = cli("node", "reset", "--root", str(edited.path), "--json")
    assert any(w.startswith(f"/{CONFIG} is gone; its original stays") for w in run.envelope()["warnings"])
    assert cli("node", "reset", "--force", "--root", str(edited.path)).exit_code == 0
    assert (edited.path / CONFIG).read_bytes() == before

    lost = node("2.4.2", "v2.toml", name="lost")
    assert cli("node", "prepare", "--root", str(lost.path)).exit_code == 0
    prepared = (lost.path / CONFIG).read_bytes()
    (lost.path / ORIGINAL).unlink()
    run = cli("node", "reset", "--force", "--root", str(lost.path), "--json")
    assert (lost.path / CONFIG).read_bytes() == prepared  # never removed: the operator's file has no copy
    assert f"/{CONFIG} stays: /{ORIGINAL}, its original, is gone" in run.envelope()["warnings"]


@pytest.mark.parametrize(("containerd", "fixture"), [("2.2.1", "v4.toml"), ("1.7.27", "v3.toml")])
def test_a_schema_newer_than_containerd_reads_is_a_problem(node, cli, containerd, fixture):
    root = node(containerd, fixture)
    run = cli("node", "prepare", "--root", str(root.path), "--json")
    assert run.exit_code == 1
    [schema] = [f for f in runtime_of(run)["findings"] if f["id"] == "schema"]
    assert schema["status"] == "problem" and f"which containerd {containerd} cannot read" in schema["detail"]
    assert (root.path / CONFIG).read_bytes() == (CONTAINERD_FIXTURES / fixture).read_bytes()


def test_a_version_4_socket_is_read_from_the_grpc_server_plugin(node, cli):
    text = (CONTAINERD_FIXTURES / "v4.toml").read_text().replace("/run/containerd/containerd.sock", "/run/c.sock")
    root = node("2.4.2", text.encode())
    run = cli("node", "check", "--root", str(root.path), "--json")
    [socket] = [f for f in runtime_of(run)["findings"] if f["id"] == "socket"]
    assert socket["found"] == "/run/c.sock"
