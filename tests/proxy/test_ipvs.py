"""`k8snode ipvs check | enable | disable` against fake roots, through the real CLI."""

from __future__ import annotations

import stat

import pytest
from fakes import UNLOAD_WITH_CONNTRACK_HELD, FakeRoot

SCHEDULERS = ["rr", "wrr", "lc", "wlc", "fo", "ovf", "lblc", "lblcr", "dh", "sh", "mh", "sed", "nq", "twos"]
BASE = ["ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh"]
SYSCONFIG = "etc/sysconfig/modules/ipvs.modules"
MODULES_LOAD = "etc/modules-load.d/ipvs.conf"


@pytest.mark.parametrize(
    ("kernel", "conntrack", "rule"),
    [
        ("el7-3.10", "nf_conntrack_ipv4", "module-index"),
        ("el8.2-4.18", "nf_conntrack_ipv4", "module-index"),
        ("el8.3-4.18", "nf_conntrack", "module-index"),  # 4.18, yet merged: the index decides, not the release
        ("deb10-4.19", "nf_conntrack", "module-index"),
        ("deb12-6.1", "nf_conntrack", "module-index"),
        ("no-index-4.14", "nf_conntrack_ipv4", "kernel-release"),
        ("nonmodular-6.18", "nf_conntrack", "kernel-release"),
    ],
)
def test_conntrack_module_follows_what_the_kernel_ships(fake_root, cli, kernel, conntrack, rule):
    root = fake_root(kernel)
    data = cli("ipvs", "check", "--root", str(root.path), "--json").envelope()["data"]
    assert data["conntrack_rule"]["module"] == conntrack
    assert data["conntrack_rule"]["rule"] == rule
    assert [m["name"] for m in data["modules"]] == [*BASE, conntrack]


def test_check_on_a_fresh_node_reports_available_modules_and_exits_1(fake_root, cli):
    root = fake_root("deb12-6.1")
    run = cli("ipvs", "check", "--root", str(root.path), "--json")
    assert run.exit_code == 1
    envelope = run.envelope()
    assert envelope["ok"] is False and envelope["error"] is None
    assert {(m["state"], m["action"]) for m in envelope["data"]["modules"]} == {("available", "would-load")}
    assert {f["path"]: f["action"] for f in envelope["data"]["files"]} == {
        "/etc/sysconfig/modules/ipvs.modules": "would-create",
        "/etc/modules-load.d/ipvs.conf": "would-create",
    }
    assert root.modprobe_calls() == []


def test_enable_loads_one_module_per_modprobe_call_persists_and_check_passes(fake_root, cli):
    root = fake_root("el7-3.10")
    run = cli("ipvs", "enable", "--root", str(root.path), "--json")
    assert run.exit_code == 0, run.stderr
    envelope = run.envelope()
    assert envelope["changed"] is True
    wanted = [*BASE, "nf_conntrack_ipv4"]
    assert root.modprobe_calls() == [f"modprobe -- {name}" for name in wanted]
    assert set(wanted) <= set(root.proc_modules())
    assert [(m["name"], m["state"], m["action"]) for m in envelope["data"]["modules"]] == [
        (name, "loaded", "loaded") for name in wanted
    ]
    script = root.path / SYSCONFIG
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    lines = script.read_text().splitlines()
    assert lines[0] == "#!/bin/bash"
    assert lines[1].startswith("# Written by k8snode 0.1.0 (k8snode ipvs enable)")
    assert [line for line in lines if line.startswith("modprobe")] == [
        f'modprobe -- {name} || failed="$failed {name}"' for name in wanted
    ]
    conf = root.path / MODULES_LOAD
    assert stat.S_IMODE(conf.stat().st_mode) == 0o644
    assert [line for line in conf.read_text().splitlines() if not line.startswith("#")] == wanted
    assert cli("ipvs", "check", "--root", str(root.path)).exit_code == 0


def test_check_is_drift_when_the_modules_are_loaded_but_not_persisted_or_persisted_stale(fake_root, cli):
    root = fake_root("deb12-6.1")
    assert cli("ipvs", "enable", "--persist", "none", "--root", str(root.path)).exit_code == 0
    missing = cli("ipvs", "check", "--root", str(root.path), "--json")
    assert missing.exit_code == 1
    assert missing.envelope()["error"] is None
    assert {(m["state"], m["action"]) for m in missing.envelope()["data"]["modules"]} == {("loaded", "none")}
    assert cli("ipvs", "check", "--root", str(root.path)).stdout.splitlines()[-1] == (
        "all IPVS modules are present; persistence files not current: "
        "/etc/sysconfig/modules/ipvs.modules (would-create), /etc/modules-load.d/ipvs.conf (would-create)"
    )
    assert cli("ipvs", "enable", "--root", str(root.path)).exit_code == 0
    current = cli("ipvs", "check", "--root", str(root.path))
    assert (current.exit_code, current.stdout.splitlines()[-1]) == (
        0,
        "all IPVS modules are present; persistence files current",
    )
    assert cli("ipvs", "enable", "--scheduler", "wrr", "--persist", "none", "--root", str(root.path)).exit_code == 0
    stale = cli("ipvs", "check", "--scheduler", "wrr", "--root", str(root.path), "--json")
    assert stale.exit_code == 1
    assert {f["action"] for f in stale.envelope()["data"]["files"]} == {"would-update"}


def test_enable_twice_changes_nothing_the_second_time(fake_root, cli):
    root = fake_root("deb12-6.1")
    assert cli("ipvs", "enable", "--root", str(root.path)).exit_code == 0
    before = root.snapshot()
    calls = len(root.modprobe_calls())
    run = cli("ipvs", "enable", "--root", str(root.path), "--json")
    assert run.exit_code == 0
    assert run.envelope()["changed"] is False
    assert {f["action"] for f in run.envelope()["data"]["files"]} == {"unchanged"}
    assert len(root.modprobe_calls()) == calls
    assert root.snapshot() == before  # same bytes, same modes, same mtimes


def test_enable_rewrites_a_file_whose_mode_drifted(fake_root, cli):
    root = fake_root("deb12-6.1")
    cli("ipvs", "enable", "--root", str(root.path))
    (root.path / SYSCONFIG).chmod(0o644)
    run = cli("ipvs", "enable", "--root", str(root.path), "--json")
    assert {f["path"]: f["action"] for f in run.envelope()["data"]["files"]}[f"/{SYSCONFIG}"] == "updated"
    assert stat.S_IMODE((root.path / SYSCONFIG).stat().st_mode) == 0o755


def test_dry_run_prints_the_plan_and_diff_and_touches_nothing(fake_root, cli):
    root = fake_root("deb12-6.1")
    before = root.snapshot()
    run = cli("ipvs", "enable", "--dry-run", "--root", str(root.path), "--json")
    assert run.exit_code == 0
    envelope = run.envelope()
    assert envelope["changed"] is True
    assert {m["action"] for m in envelope["data"]["modules"]} == {"would-load"}
    assert {f["action"] for f in envelope["data"]["files"]} == {"would-create"}
    assert "+modprobe -- ip_vs_sh" in envelope["data"]["diffs"]["/etc/sysconfig/modules/ipvs.modules"]
    assert root.snapshot() == before
    assert root.modprobe_calls() == []
    human = cli("ipvs", "enable", "--dry-run", "--root", str(root.path))
    assert "+modprobe -- nf_conntrack" in human.stdout
    assert root.snapshot() == before


def test_dry_run_after_a_scheduler_change_shows_an_update_diff(fake_root, cli):
    root = fake_root("deb12-6.1")
    cli("ipvs", "enable", "--root", str(root.path))
    run = cli("ipvs", "enable", "--scheduler", "lc", "--dry-run", "--root", str(root.path), "--json")
    data = run.envelope()["data"]
    assert {f["action"] for f in data["files"]} == {"would-update"}
    assert "+modprobe -- ip_vs_lc" in data["diffs"]["/etc/sysconfig/modules/ipvs.modules"]


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_every_scheduler_adds_its_module(fake_root, cli, scheduler):
    root = fake_root("deb12-6.1")
    run = cli("ipvs", "enable", "--scheduler", scheduler, "--root", str(root.path), "--json")
    assert run.exit_code == 0, run.stderr
    names = [m["name"] for m in run.envelope()["data"]["modules"]]
    assert names[-1] == "nf_conntrack"
    assert f"ip_vs_{scheduler}" in names and len(names) == len(set(names))
    assert f"ip_vs_{scheduler}" in root.proc_modules()
    header = (root.path / SYSCONFIG).read_text().splitlines()[1]
    assert ("--scheduler" in header) == (scheduler != "rr")


def test_builtin_ip_vs_is_not_modprobed(fake_root, cli):
    root = fake_root("builtin-ipvs-6.8")
    run = cli("ipvs", "enable", "--root", str(root.path), "--json")
    assert run.exit_code == 0
    states = {m["name"]: m["state"] for m in run.envelope()["data"]["modules"]}
    assert states["ip_vs"] == "builtin"
    assert "modprobe -- ip_vs" not in root.modprobe_calls()


def test_missing_scheduler_module_fails_with_a_hint_and_writes_nothing(fake_root, cli):
    root = fake_root("no-mh-6.1")
    before = root.snapshot()
    run = cli("ipvs", "enable", "--scheduler", "mh", "--root", str(root.path))
    assert run.exit_code == 3
    assert run.stderr.count("\n") == 1
    assert "ip_vs_mh missing from kernel 6.1.0-28-amd64" in run.stderr
    assert "linux-modules-extra-6.1.0-28-amd64" in run.stderr
    assert root.snapshot() == before
    check = cli("ipvs", "check", "--scheduler", "mh", "--root", str(root.path), "--json")
    assert check.exit_code == 1
    assert {m["name"]: m["state"] for m in check.envelope()["data"]["modules"]}["ip_vs_mh"] == "missing"


def test_kernel_without_ip_vs_fails_before_loading_anything(fake_root, cli):
    root = fake_root("no-ipvs-6.1-kvm")
    run = cli("ipvs", "enable", "--root", str(root.path), "--json")
    assert run.exit_code == 3
    assert run.envelope()["error"]["exit_code"] == 3
    assert "ip_vs, ip_vs_rr, ip_vs_wrr, ip_vs_sh missing" in run.envelope()["error"]["message"]
    assert root.modprobe_calls() == []


def test_kernel_without_module_support_is_explained_by_check(fake_root, cli):
    root = fake_root("nonmodular-6.18")
    run = cli("ipvs", "check", "--root", str(root.path), "--json")
    assert run.exit_code == 1
    envelope = run.envelope()
    assert envelope["error"] is None
    assert envelope["data"]["problems"] == [
        "kernel 6.18.44-fc-v657 has no loadable-module support and ip_vs, ip_vs_rr, ip_vs_wrr, ip_vs_sh are not "
        "built in (# CONFIG_IP_VS is not set in /proc/config.gz)"
    ]
    states = {m["name"]: (m["state"], m["source"]) for m in envelope["data"]["modules"]}
    assert states["nf_conntrack"] == ("builtin", "/sys/module/nf_conntrack")
    assert states["ip_vs"][0] == "missing"
    assert cli("ipvs", "enable", "--root", str(root.path)).exit_code == 3


def test_kernel_without_an_index_tries_modprobe_and_reports_its_refusal(fake_root, cli):
    root = fake_root("no-index-4.14")
    check = cli("ipvs", "check", "--root", str(root.path), "--json").envelope()
    assert {m["state"] for m in check["data"]["modules"]} == {"unknown"}
    run = cli("ipvs", "enable", "--root", str(root.path))
    assert run.exit_code == 3
    assert "modprobe refused ip_vs on kernel 4.14.0-custom: modprobe: FATAL: Module ip_vs not found" in run.stderr
    assert not (root.path / SYSCONFIG).exists()


def test_a_module_modprobe_refuses_fails_with_its_stderr_and_no_persistence(fake_root, cli):
    root = fake_root("deb12-6.1")
    root.refuse("ip_vs_sh")
    run = cli("ipvs", "enable", "--root", str(root.path))
    assert run.exit_code == 3
    assert "modprobe refused ip_vs_sh" in run.stderr
    assert "could not insert 'ip_vs_sh': Operation not permitted" in run.stderr
    assert "already loaded by this run: ip_vs ip_vs_rr ip_vs_wrr" in run.stderr
    assert not (root.path / SYSCONFIG).exists()
    assert not (root.path / MODULES_LOAD).exists()


def test_a_module_modprobe_claims_to_load_but_does_not_fails_the_verification(fake_root, cli):
    root = fake_root("deb12-6.1")
    root.vanish("ip_vs_wrr")
    run = cli("ipvs", "enable", "--root", str(root.path), "--json")
    assert run.exit_code == 3
    assert run.envelope()["error"]["message"] == (
        "modprobe -- ip_vs_wrr succeeded but ip_vs_wrr is not in /proc/modules; no persistence file was written"
    )
    assert "modprobe -- ip_vs_wrr" in root.modprobe_calls()
    assert "ip_vs_wrr" not in root.proc_modules() and "ip_vs_rr" in root.proc_modules()
    assert not (root.path / SYSCONFIG).exists()
    assert not (root.path / MODULES_LOAD).exists()


def test_persist_none_says_nothing_is_persisted(fake_root, cli):
    root = fake_root("deb12-6.1")
    run = cli("ipvs", "enable", "--persist", "none", "--root", str(root.path))
    assert run.exit_code == 0, run.stderr
    assert run.stdout.splitlines()[-1] == (
        "loaded ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh nf_conntrack; nothing persisted (--persist none): the modules are "
        "not loaded at the next boot"
    )


@pytest.mark.parametrize(
    ("persist", "systemd", "files"),
    [
        ("auto", True, {SYSCONFIG, MODULES_LOAD}),
        ("auto", False, {SYSCONFIG}),
        ("sysconfig", True, {SYSCONFIG}),
        ("modules-load", False, {MODULES_LOAD}),
        ("both", False, {SYSCONFIG, MODULES_LOAD}),
        ("none", True, set()),
    ],
)
def test_persist_choice(fake_root, cli, persist, systemd, files):
    root = fake_root("deb12-6.1", systemd=systemd)
    assert cli("ipvs", "enable", "--persist", persist, "--root", str(root.path)).exit_code == 0
    assert {f for f in (SYSCONFIG, MODULES_LOAD) if (root.path / f).exists()} == files


def test_persist_auto_on_a_debian_host_writes_only_modules_load_d(fake_root, cli):
    root = fake_root("deb12-6.1", sysconfig=False)
    run = cli("ipvs", "enable", "--root", str(root.path), "--json")
    assert run.exit_code == 0, run.stderr
    assert [f["path"] for f in run.envelope()["data"]["files"]] == [f"/{MODULES_LOAD}"]
    assert not (root.path / "etc/sysconfig").exists()
    assert cli("ipvs", "check", "--root", str(root.path)).exit_code == 0


def test_usr_lib_modules_load_d_also_means_systemd(fake_root, cli):
    root = fake_root("deb12-6.1", systemd=False)
    (root.path / "usr/lib/modules-load.d").mkdir(parents=True)
    cli("ipvs", "enable", "--root", str(root.path))
    assert (root.path / MODULES_LOAD).exists()


def test_enable_refuses_to_replace_a_hand_written_file_without_force(fake_root, cli):
    root = fake_root("deb12-6.1")
    script = root.path / SYSCONFIG
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/bash\nmodprobe -- ip_vs\nmodprobe -- nf_conntrack_ipv4\n")
    run = cli("ipvs", "enable", "--root", str(root.path))
    assert run.exit_code == 3
    assert "was not written by k8snode; pass --force" in run.stderr
    assert "nf_conntrack_ipv4" in script.read_text()
    assert root.modprobe_calls() == []
    assert cli("ipvs", "enable", "--force", "--root", str(root.path)).exit_code == 0
    assert "nf_conntrack_ipv4" not in script.read_text()


def test_a_symlink_at_the_target_is_never_followed(fake_root, cli):
    root = fake_root("deb12-6.1")
    secret = root.path / "etc/shadow"
    secret.write_text("root:*:19000:0:99999:7:::\n")
    link = root.path / SYSCONFIG
    link.parent.mkdir(parents=True)
    link.symlink_to(secret)
    run = cli("ipvs", "enable", "--root", str(root.path))
    assert run.exit_code == 3
    assert "is a symlink" in run.stderr
    assert cli("ipvs", "enable", "--force", "--root", str(root.path)).exit_code == 0
    assert not link.is_symlink() and link.read_text().startswith("#!/bin/bash")
    assert secret.read_text() == "root:*:19000:0:99999:7:::\n"


def test_disable_removes_only_what_k8snode_wrote(fake_root, cli):
    root = fake_root("deb12-6.1")
    cli("ipvs", "enable", "--root", str(root.path))
    run = cli("ipvs", "disable", "--root", str(root.path), "--json")
    assert run.exit_code == 0
    assert {f["action"] for f in run.envelope()["data"]["files"]} == {"removed"}
    assert not (root.path / SYSCONFIG).exists() and not (root.path / MODULES_LOAD).exists()
    assert "ip_vs" in root.proc_modules()  # without --unload the modules stay
    again = cli("ipvs", "disable", "--root", str(root.path), "--json")
    assert again.exit_code == 0 and again.envelope()["changed"] is False


def test_disable_removes_its_own_file_warns_about_a_foreign_one_and_succeeds(fake_root, cli):
    """A reset on a host whose ipvs.conf someone else wrote: k8snode's ipvs.modules goes, ipvs.conf stays."""
    root = fake_root("deb12-6.1")
    assert cli("ipvs", "enable", "--persist", "sysconfig", "--root", str(root.path)).exit_code == 0
    conf = root.path / MODULES_LOAD
    conf.write_text("ip_vs\n")
    run = cli("ipvs", "disable", "--unload", "--root", str(root.path), "--json")
    assert run.exit_code == 0, run.stderr
    envelope = run.envelope()
    assert envelope["changed"] is True
    assert [(f["path"], f["action"]) for f in envelope["data"]["files"]] == [(f"/{SYSCONFIG}", "removed")]
    assert envelope["warnings"][0] == (
        "left /etc/modules-load.d/ipvs.conf: k8snode did not write it (no '# Written by k8snode' header); "
        "pass --force to remove it too"
    )
    assert not (root.path / SYSCONFIG).exists() and conf.read_text() == "ip_vs\n"
    again = cli("ipvs", "disable", "--root", str(root.path), "--json")
    assert again.exit_code == 0 and again.envelope()["changed"] is False
    assert again.envelope()["warnings"] == envelope["warnings"][:1]
    assert (
        "k8snode: warning: left /etc/modules-load.d/ipvs.conf"
        in cli("ipvs", "disable", "--root", str(root.path)).stderr
    )
    assert cli("ipvs", "disable", "--force", "--root", str(root.path)).exit_code == 0
    assert not conf.exists()


def test_disable_unload_unloads_and_reports_modules_in_use(fake_root, cli):
    root = fake_root("deb12-6.1")
    cli("ipvs", "enable", "--scheduler", "lc", "--root", str(root.path))
    # Something else (iptables' conntrack match, say) holds nf_conntrack.
    modules = root.path / "proc/modules"
    lines = modules.read_text().splitlines()
    held = [line.replace("nf_conntrack 16384 1 ip_vs,", "nf_conntrack 16384 2 ip_vs,xt_conntrack,") for line in lines]
    modules.write_text("\n".join(held) + "\n")
    dry = cli("ipvs", "disable", "--unload", "--dry-run", "--root", str(root.path), "--json")
    assert {m["action"] for m in dry.envelope()["data"]["modules"]} == {"would-unload"}
    assert (root.path / SYSCONFIG).exists()
    run = cli("ipvs", "disable", "--unload", "--root", str(root.path), "--json")
    assert run.exit_code == 0, run.stderr
    actions = {m["name"]: m["action"] for m in run.envelope()["data"]["modules"]}
    assert actions == {
        "ip_vs_lc": "unloaded",
        "ip_vs_rr": "unloaded",
        "ip_vs_sh": "unloaded",
        "ip_vs_wrr": "unloaded",
        "ip_vs": "unloaded",
        "nf_conntrack": "in-use",
    }
    assert run.envelope()["warnings"] == ["nf_conntrack is in use and stays loaded"]
    assert not any(name.startswith("ip_vs") for name in root.proc_modules())
    states = {m["name"]: m["state"] for m in run.envelope()["data"]["modules"]}
    assert states == {**{name: "available" for name in actions if name != "nf_conntrack"}, "nf_conntrack": "loaded"}


def test_disable_unload_with_conntrack_held_gives_the_real_kernels_results(fake_root, cli):
    """The same steps and per-module results as tests/vm/test_real_kernel.py asserts in Debian's kernel."""
    root = fake_root("deb12-6.1")
    assert cli("ipvs", "enable", "--root", str(root.path)).exit_code == 0
    hold_conntrack(root)
    run = cli("ipvs", "disable", "--unload", "--root", str(root.path), "--json")
    assert run.exit_code == 0, run.stderr
    assert {m["name"]: m["action"] for m in run.envelope()["data"]["modules"]} == UNLOAD_WITH_CONNTRACK_HELD
    assert run.envelope()["warnings"] == ["nf_conntrack is in use and stays loaded"]
    assert not {"ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh"} & set(root.proc_modules())
    assert {"nf_conntrack", "xt_conntrack"} <= set(root.proc_modules())


def hold_conntrack(root: FakeRoot) -> None:
    """What `modprobe xt_conntrack` does to /proc/modules: one more user of nf_conntrack."""
    modules = root.path / "proc/modules"
    lines = modules.read_text().splitlines()
    held = [line.replace("nf_conntrack 16384 1 ip_vs,", "nf_conntrack 16384 2 ip_vs,xt_conntrack,") for line in lines]
    modules.write_text("\n".join([*held, "xt_conntrack 16384 0 - Live 0x0000000000000000"]) + "\n")


def test_junk_lines_in_proc_modules_and_modules_dep_are_ignored(fake_root, cli):
    root = fake_root("deb12-6.1")
    (root.path / "proc/modules").write_text("\n\x00junk\nIP_VS 1 2\n  \nip_vs 16384 0 - Live 0x0\n;rm -rf /\n")
    dep = root.path / "lib/modules/6.1.0-28-amd64/modules.dep"
    dep.write_text(dep.read_text() + "garbage without colon\n: \nkernel/x/$(reboot).ko:\n")
    run = cli("ipvs", "check", "--root", str(root.path), "--json")
    states = {m["name"]: m["state"] for m in run.envelope()["data"]["modules"]}
    assert states["ip_vs"] == "loaded" and states["ip_vs_rr"] == "available"


def test_json_envelope_shape_is_pinned(fake_root, cli):
    root = fake_root("deb12-6.1")
    envelope = cli("ipvs", "enable", "--root", str(root.path), "--json").envelope()
    assert list(envelope) == ["schema", "command", "ok", "changed", "data", "warnings", "error"]
    assert envelope["schema"] == 1 and envelope["command"] == "ipvs enable"
    assert {"kernel", "proxy_mode", "conntrack_rule", "modules", "files"} <= set(envelope["data"])
    assert set(envelope["data"]["modules"][0]) == {"name", "state", "source", "action"}
    assert set(envelope["data"]["files"][0]) == {"path", "action", "mode"}
    assert envelope["data"]["proxy_mode"] == "ipvs"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ipvs", "check", "--scheduler", "fifo"], "'fifo' is not one of 'rr', 'wrr'"),
        (["ipvs", "enable", "--persist", "everywhere"], "'everywhere' is not one of 'auto'"),
        (["ipvs", "enable", "--frobnicate"], "No such option: --frobnicate"),
        (["ipvs", "check", "--root", "/does/not/exist"], "--root /does/not/exist is not a directory"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(fake_root, cli, args, message):
    root = fake_root("deb12-6.1")
    before = root.snapshot()
    full = [*args, "--root", str(root.path)] if "--root" not in args else args
    run = cli(*full)
    assert run.exit_code == 2
    assert run.stderr.startswith("k8snode: error: ") and run.stderr.count("\n") == 1
    assert message in run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert root.snapshot() == before


def test_bad_input_with_json_still_prints_the_envelope(fake_root, cli):
    root = fake_root("deb12-6.1")
    run = cli("ipvs", "enable", "--scheduler", "fifo", "--json", "--root", str(root.path))
    assert run.exit_code == 2
    assert run.envelope()["error"]["exit_code"] == 2


def test_debug_shows_the_traceback_and_the_commands_run(fake_root, cli):
    root = fake_root("no-ipvs-6.1-kvm")
    quiet = cli("ipvs", "enable", "--root", str(root.path))
    assert "Traceback" not in quiet.stderr
    loud = cli("ipvs", "enable", "--debug", "--root", str(root.path))
    assert loud.exit_code == 3 and "Traceback" in loud.stderr
    ok = fake_root("deb12-6.1", name="other")
    assert "k8snode: run: modprobe -- ip_vs" in cli("ipvs", "enable", "--debug", "--root", str(ok.path)).stderr


def test_root_comes_from_the_environment(fake_root, cli, monkeypatch):
    root = fake_root("el8.3-4.18")
    monkeypatch.setenv("K8SNODE_ROOT", str(root.path))
    data = cli("ipvs", "check", "--json").envelope()["data"]
    assert data["kernel"]["release"] == "4.18.0-240.el8.x86_64"


def test_human_output_has_no_colour_codes_when_not_a_terminal(fake_root, k8snode):
    root = fake_root("deb12-6.1")
    run = k8snode("ipvs", "check", "--root", str(root.path), env=root.env())
    assert run.exit_code == 1
    assert "\x1b[" not in run.stdout
    assert "ip_vs_wrr" in run.stdout and "available" in run.stdout


def test_installed_console_script_and_python_dash_m(fake_root, k8snode):
    import subprocess
    import sys

    root = fake_root("deb12-6.1")
    assert k8snode("--version").stdout == "k8snode 0.1.0\n"
    run = k8snode("ipvs", "enable", "--root", str(root.path), "--json", env=root.env())
    assert run.exit_code == 0 and run.envelope()["ok"] is True
    module = subprocess.run([sys.executable, "-m", "k8snode", "--version"], capture_output=True, text=True)
    assert module.stdout == "k8snode 0.1.0\n"
