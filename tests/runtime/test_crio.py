"""CRI-O through `k8snode node check | prepare | reset --runtime crio` on fake roots: crio.conf and its drop-ins read
in CRI-O's order, one owned drop-in written with only what differs, removed by reset; bad files refused."""

from __future__ import annotations

import os

import pytest
import tomlkit
from fakes import CRIO_VERSION, snapshot, write

CONF = "etc/crio/crio.conf"
DIR = "etc/crio/crio.conf.d"
OURS = f"{DIR}/99-k8snode.conf"
KUBELET_CGROUPFS = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: cgroupfs\n"
PAUSE = "registry.k8s.io/pause:3.10.2"  # kubeadm v1.37.2's (cmd/kubeadm/app/constants PauseVersion = "3.10.2")


@pytest.fixture
def node(host):
    """A fresh Debian host booted with systemd (/run/systemd/system), crun in /usr/bin and crio on PATH answering
    --version as CRI-O does (printf, not cat: a test may leave PATH with only the fake tools)."""

    def make(version: str = "1.37.0"):
        root = host("debian")
        (root.path / "run/systemd/system").mkdir(parents=True)
        write(root.path / "usr/bin/crun", "#!/bin/sh\n", mode=0o755)
        said = CRIO_VERSION.replace("1.34.1", version).replace("'", "")
        write(root.bin / "crio", f"#!/bin/sh\n[ \"$1\" = --version ] && printf '%s' '{said}'\n", mode=0o755)
        return root

    return make


def runtime(cli, verb, root, *options):
    run = cli("node", verb, "--runtime", "crio", "--root", str(root.path), *options, "--json")
    assert run.exit_code in (0, 1), run.stdout
    return run, run.envelope()["data"]


def findings(data) -> dict[str, tuple[str, str | None]]:
    return {f["id"]: (f["status"], f["found"]) for f in data["runtime"]["findings"]}


def details(data) -> dict[str, str]:
    return {f["id"]: f["detail"] for f in data["runtime"]["findings"]}


def ours(root) -> dict:
    return tomlkit.parse((root.path / OURS).read_text()).unwrap()


def test_crio_conf_alone_is_fixed_by_one_drop_in_then_checks_clean_and_reset_removes_it(cli, node):
    root = node()
    conf = '# the operator\'s\n[crio.runtime]\ncgroup_manager = "cgroupfs"\n\n[crio.image]\npause_image = "x/p:3.9"\n'
    write(root.path / CONF, conf)
    run, data = runtime(cli, "check", root)
    assert run.exit_code == 1
    assert data["runtime"]["runtime"] == "crio" and data["runtime"]["version"] == "1.37.0"
    assert findings(data) == {
        "version": ("ok", "1.37.0"),
        "config": ("ok", "/etc/crio/crio.conf"),
        "cgroup_driver": ("drift", "cgroupfs"),
        "conmon_cgroup": ("ok", '""'),
        "sandbox_image": ("drift", "x/p:3.9"),
        "socket": ("ok", "unix:///var/run/crio/crio.sock"),
        "runtime_binary": ("ok", "/usr/bin/crun"),
    }
    assert details(data)["cgroup_driver"].startswith(
        "/etc/crio/crio.conf: [crio.runtime] cgroup_manager is cgroupfs; a host that runs systemd needs systemd."
    )
    assert not (root.path / OURS).exists()

    run, data = runtime(cli, "prepare", root)
    assert run.exit_code == 0, run.stdout
    assert (root.path / CONF).read_text() == conf  # the operator's file is not touched
    assert ours(root) == {"crio": {"runtime": {"cgroup_manager": "systemd"}, "image": {"pause_image": PAUSE}}}
    text = (root.path / OURS).read_text()
    assert text.startswith("# Written by k8snode ") and "(k8snode node prepare --runtime crio)" in text.splitlines()[0]
    assert oct(os.stat(root.path / OURS).st_mode & 0o777) == "0o644"
    assert data["runtime"]["restart_needed"] is True
    assert {"path": f"/{OURS}", "action": "created", "mode": "0644"} in data["runtime"]["files"]

    run, data = runtime(cli, "check", root)
    assert {f: s for f, (s, _) in findings(data).items()} == dict.fromkeys(findings(data), "ok")
    assert details(data)["cgroup_driver"].startswith(f"/{OURS}: [crio.runtime] cgroup_manager is systemd")

    before = snapshot(root.path)
    run, data = runtime(cli, "prepare", root)
    assert run.exit_code == 0 and data["runtime"]["restart_needed"] is False
    assert {k: v for k, v in snapshot(root.path).items() if k.startswith("etc/crio")} == {
        k: v for k, v in before.items() if k.startswith("etc/crio")
    }

    run, data = runtime(cli, "reset", root)
    assert run.exit_code == 0
    assert data["runtime_files"] == [{"path": f"/{OURS}", "action": "removed", "mode": "0644"}]
    assert not (root.path / OURS).exists()
    assert (root.path / CONF).read_text() == conf


def test_drop_ins_override_each_other_in_lexical_order_key_by_key(cli, node):
    root = node()
    write(root.path / CONF, '[crio.runtime]\ncgroup_manager = "cgroupfs"\n')
    write(root.path / f"{DIR}/10-crio.conf", f'[crio.image]\npause_image = "{PAUSE}"\n')
    write(root.path / f"{DIR}/20-driver.conf", '[crio.runtime]\ncgroup_manager = "systemd"\n')
    write(root.path / f"{DIR}/05-early.conf", '[crio.image]\npause_image = "registry.k8s.io/pause:3.9"\n')
    run, data = runtime(cli, "check", root)
    assert data["runtime"]["findings"][1]["found"] == ", ".join(
        f"/{path}" for path in (CONF, f"{DIR}/05-early.conf", f"{DIR}/10-crio.conf", f"{DIR}/20-driver.conf")
    )
    assert findings(data)["cgroup_driver"] == ("ok", "systemd")
    assert details(data)["cgroup_driver"].startswith(f"/{DIR}/20-driver.conf: [crio.runtime] cgroup_manager")
    assert findings(data)["sandbox_image"] == ("ok", PAUSE)
    assert details(data)["sandbox_image"].startswith(f"/{DIR}/10-crio.conf: [crio.image] pause_image")

    run, data = runtime(cli, "prepare", root)
    assert run.exit_code == 0, run.stdout
    assert not (root.path / OURS).exists()  # nothing differs: no drop-in
    assert data["runtime"]["files"] == []


def test_a_runtime_table_in_a_later_file_replaces_the_whole_runtime(cli, node):
    """BurntSushi/toml decodes each map entry afresh: the later [crio.runtime.runtimes.crun] loses runtime_path."""
    root = node()
    write(root.path / "opt/crun/bin/crun", "#!/bin/sh\n", mode=0o755)
    (root.path / "usr/bin/crun").unlink()
    write(root.path / f"{DIR}/10-crun.conf", '[crio.runtime.runtimes.crun]\nruntime_path = "/opt/crun/bin/crun"\n')
    _, data = runtime(cli, "check", root)
    assert findings(data)["runtime_binary"] == ("ok", "/opt/crun/bin/crun")
    write(root.path / f"{DIR}/20-crun.conf", "[crio.runtime.runtimes.crun]\nmonitor_env = []\n")
    _, data = runtime(cli, "check", root)
    assert findings(data)["runtime_binary"] == ("problem", None)
    assert "20-crun.conf: [crio.runtime.runtimes.crun] names no runtime_path" in details(data)["runtime_binary"]


def test_an_operator_drop_in_after_ours_that_overrides_it_is_a_problem(cli, node):
    root = node()
    write(root.path / f"{DIR}/10-crio.conf", f'[crio.image]\npause_image = "{PAUSE}"\n')
    write(root.path / f"{DIR}/99-zz-operator.conf", '[crio.runtime]\ncgroup_manager = "cgroupfs"\n')
    run, data = runtime(cli, "check", root)
    assert findings(data)["cgroup_driver"] == ("problem", "cgroupfs")
    assert details(data)["cgroup_driver"].endswith(
        f"/{DIR}/99-zz-operator.conf: [crio.runtime] cgroup_manager sets cgroupfs after /{OURS}: change that file"
    )
    run, data = runtime(cli, "prepare", root)
    assert run.exit_code == 1  # prepare cannot fix it: the operator must
    assert any("99-zz-operator.conf" in problem for problem in data["problems"])


def test_conmon_cgroup_must_suit_the_cgroup_manager(cli, node):
    """systemd: "pod" or a slice; cgroupfs: "pod" or empty (CRI-O's TranslateMonitorFieldsForHandler)."""
    root = node()
    write(root.path / CONF, f'[crio.runtime]\nconmon_cgroup = "conmon"\n[crio.image]\npause_image = "{PAUSE}"\n')
    run, data = runtime(cli, "check", root)
    assert findings(data)["conmon_cgroup"] == ("drift", "conmon")
    run, data = runtime(cli, "prepare", root)
    assert run.exit_code == 0, run.stdout
    assert ours(root) == {"crio": {"runtime": {"conmon_cgroup": "pod"}}}
    _, data = runtime(cli, "check", root)
    assert findings(data)["conmon_cgroup"] == ("ok", "pod")

    # a slice is valid only with systemd: moving cgroupfs to systemd makes it valid without touching it
    runtime(cli, "reset", root)
    write(root.path / CONF, '[crio.runtime]\ncgroup_manager = "cgroupfs"\nconmon_cgroup = "kubepods.slice"\n')
    _, data = runtime(cli, "check", root)
    assert findings(data)["conmon_cgroup"] == ("drift", "kubepods.slice")
    runtime(cli, "prepare", root)
    assert ours(root)["crio"]["runtime"] == {"cgroup_manager": "systemd"}
    _, data = runtime(cli, "check", root)
    assert findings(data)["conmon_cgroup"] == ("ok", "kubepods.slice")


def test_the_socket_is_checked_against_the_kubeadm_criSocket_and_never_changed(cli, node):
    root = node()
    write(root.path / CONF, '[crio.api]\nlisten = "/run/crio/other.sock"\n')
    _, data = runtime(cli, "check", root)
    assert findings(data)["socket"] == ("problem", "unix:///run/crio/other.sock")
    assert "set nodeRegistration.criSocket: unix:///run/crio/other.sock" in details(data)["socket"]
    write(
        root.path / "kubeadm.yaml",
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n"
        "nodeRegistration:\n  criSocket: unix:///run/crio/other.sock\n",
    )
    _, data = runtime(cli, "check", root, "--kubeadm-config", "/kubeadm.yaml")
    assert findings(data)["socket"] == ("ok", "unix:///run/crio/other.sock")
    _, data = runtime(cli, "prepare", root)
    assert "listen" not in ours(root)["crio"].get("api", {})


def test_kubelet_1_37_follows_crio_so_its_own_cgroup_driver_is_only_named(cli, node):
    root = node()
    write(root.path / CONF, f'[crio.image]\npause_image = "{PAUSE}"\n')
    write(root.path / "kubelet.yaml", KUBELET_CGROUPFS)
    _, data = runtime(cli, "check", root, "--kubelet-config", "/kubelet.yaml")
    assert findings(data)["cgroup_driver"] == ("ok", "systemd")
    assert details(data)["cgroup_driver"].endswith(
        "the kubelet's cgroupDriver cgroupfs (--kubelet-config /kubelet.yaml: cgroupDriver) is ignored"
    )


def test_an_older_crio_without_runtime_config_must_match_the_kubelets_driver(cli, node):
    """CRI-O answers RuntimeConfig from 1.28.0 (KEP-4033 blog, 2024-08-21); before, the kubelet uses its own."""
    root = node("1.27.4")
    write(root.path / CONF, f'[crio.image]\npause_image = "{PAUSE}"\n')
    write(root.path / "kubelet.yaml", KUBELET_CGROUPFS)
    _, data = runtime(cli, "check", root, "--kubelet-config", "/kubelet.yaml")
    assert findings(data)["version"] == ("problem", "1.27.4")
    assert findings(data)["cgroup_driver"] == ("drift", "systemd")
    assert "falls back to its own cgroupDriver, a fallback that ends in 1.38" in details(data)["cgroup_driver"]


def test_reset_leaves_a_drop_in_it_did_not_write_unless_forced(cli, node):
    root = node()
    write(root.path / OURS, '[crio.runtime]\ncgroup_manager = "systemd"\n')
    _, data = runtime(cli, "check", root)
    assert findings(data)["config"][0] == "problem"
    assert "99-k8snode.conf was not written by k8snode" in details(data)["config"]
    run = cli("node", "reset", "--runtime", "crio", "--root", str(root.path), "--json")
    assert run.exit_code == 0
    assert f"/{OURS} was not written by k8snode and stays (pass --force to remove it)" in run.envelope()["warnings"]
    assert (root.path / OURS).exists()
    run = cli("node", "reset", "--runtime", "crio", "--force", "--root", str(root.path), "--json")
    assert not (root.path / OURS).exists()


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ('[crio.runtime]\ncgroup_manager = "systemd\n', "is not TOML: "),
        ("[crio.runtime]\ncgroup_manager = 1\n", "[crio.runtime] cgroup_manager is an integer, not a string"),
        ('[crio]\nruntime = "systemd"\n', "[crio] runtime is a string, not a table"),
        (b'[crio.image]\npause_image = "\xff"\n', "is not UTF-8 (line 2 col 16), so not TOML"),
    ],
)
def test_a_file_crio_cannot_read_is_a_problem_and_nothing_is_written(cli, node, content, said):
    root = node()
    path = root.path / f"{DIR}/50-broken.conf"
    path.parent.mkdir(parents=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    _, data = runtime(cli, "check", root)
    assert findings(data)["config"][0] == "problem"
    assert said in details(data)["config"]
    assert details(data)["config"].startswith(f"/{DIR}/50-broken.conf")
    assert {status for status, _ in list(findings(data).values())[2:]} == {"unknown"}
    before = {k: v for k, v in snapshot(root.path).items() if k.startswith("etc/crio")}
    run, data = runtime(cli, "prepare", root)
    assert run.exit_code == 1
    assert {k: v for k, v in snapshot(root.path).items() if k.startswith("etc/crio")} == before


def test_a_file_not_toml_names_its_line_and_column(cli, node):
    root = node()
    write(root.path / CONF, '[crio.runtime]\n\ncgroup_manager = "systemd\n')
    _, data = runtime(cli, "check", root)
    assert details(data)["config"] == (
        "/etc/crio/crio.conf is not TOML: Control characters (codes less than 0x1f and 0x7f) are not allowed in "
        "strings, use \\u000a instead at line 3 col 25: CRI-O would not start"
    )


def test_a_symlinked_drop_in_is_a_problem_and_is_not_followed(cli, node):
    root = node()
    write(root.path / "srv/crio.conf", '[crio.runtime]\ncgroup_manager = "cgroupfs"\n')
    (root.path / DIR).mkdir(parents=True)
    (root.path / f"{DIR}/10-link.conf").symlink_to("/srv/crio.conf")
    _, data = runtime(cli, "check", root)
    assert details(data)["config"] == (
        f"/{DIR}/10-link.conf is a symlink: k8snode does not follow links in CRI-O's configuration"
    )


@pytest.mark.parametrize("kind", ["fifo", "large"])
def test_a_fifo_or_a_file_over_1_mib_is_bad_input_and_nothing_changes(cli, node, kind):
    root = node()
    path = root.path / f"{DIR}/10-bad.conf"
    path.parent.mkdir(parents=True)
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.write_text("# padding\n" * ((1 << 20) // 10 + 1))
    before = snapshot(root.path)
    for verb in ("check", "prepare"):
        run = cli("node", verb, "--runtime", "crio", "--root", str(root.path))
        assert run.exit_code == 2, run.stdout
        [line] = run.stderr.splitlines()
        assert f"/{DIR}/10-bad.conf" in line
        assert ("not a regular file" if kind == "fifo" else "larger than 1 MiB") in line
    assert snapshot(root.path) == before


def test_a_drop_in_no_longer_needed_is_removed_by_prepare(cli, node):
    root = node()
    write(root.path / CONF, '[crio.runtime]\ncgroup_manager = "cgroupfs"\n')
    runtime(cli, "prepare", root)
    assert ours(root) == {"crio": {"runtime": {"cgroup_manager": "systemd"}, "image": {"pause_image": PAUSE}}}
    write(root.path / CONF, f'[crio.runtime]\ncgroup_manager = "systemd"\n[crio.image]\npause_image = "{PAUSE}"\n')
    run, data = runtime(cli, "prepare", root, "--dry-run")
    assert {"path": f"/{OURS}", "action": "would-remove", "mode": "0644"} in data["runtime"]["files"]
    assert (root.path / OURS).exists()
    run, data = runtime(cli, "prepare", root)
    assert run.exit_code == 0
    assert not (root.path / OURS).exists()
    _, data = runtime(cli, "check", root)
    assert {status for status, _ in findings(data).values()} == {"ok"}


def test_a_directory_among_the_drop_ins_is_walked_where_its_name_sorts(cli, node):
    """filepath.Walk: 40-a.conf, then 50-dir/ and everything under it, then 60-c.conf."""
    root = node()
    write(root.path / f"{DIR}/40-a.conf", '[crio.runtime]\ncgroup_manager = "cgroupfs"\n')
    write(root.path / f"{DIR}/50-dir/10-b.conf", '[crio.runtime]\ncgroup_manager = "systemd"\n')
    _, data = runtime(cli, "check", root)
    assert details(data)["cgroup_driver"].startswith(f"/{DIR}/50-dir/10-b.conf: [crio.runtime] cgroup_manager is")
    write(root.path / f"{DIR}/60-c.conf", '[crio.runtime]\ncgroup_manager = "cgroupfs"\n')
    _, data = runtime(cli, "check", root)
    assert findings(data)["cgroup_driver"] == ("drift", "cgroupfs")  # 60-c.conf sorts before 99-k8snode.conf
    assert details(data)["cgroup_driver"].startswith(f"/{DIR}/60-c.conf: [crio.runtime] cgroup_manager is")


@pytest.mark.parametrize(
    "table",
    [
        '[crio.runtime]\ndefault_runtime = "runc"\n',
        '[crio.runtime]\ndefault_runtime = "../x"\n[crio.runtime.runtimes."../x"]\n',
        '[crio.runtime.runtimes.crun]\nruntime_path = "bin/crun"\n',
        '[crio.runtime.runtimes.crun]\nruntime_path = "/usr/../usr/bin/crun"\n',
    ],
)
def test_a_default_runtime_crio_cannot_find_is_a_problem(cli, node, table):
    root = node()
    write(root.path / CONF, table)
    _, data = runtime(cli, "check", root)
    assert findings(data)["runtime_binary"][0] == "problem"
