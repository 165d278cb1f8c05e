"""`k8snode kubelet-flags lint`: node layouts, systemd expansion, every finding kind, hostile files, versions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubelet_node import (
    KUBEADM_1_23_FLAGS,
    fixable_node,
    kubeadm_node,
    write,
)
from servers import CLOSED_PORT

from k8snode.kubelet.flagsets import flag_sets, minor
from k8snode.kubelet.flagvalues import check
from k8snode.kubelet.sources import parse_env_file, split_unit_words


def lint(cli, root: Path, *args: str):
    run = cli("kubelet-flags", "lint", "--root", str(root), *args, "--json")
    return run, (json.loads(run.stdout) if run.stdout.strip() else None)


def kinds(envelope) -> list[tuple[str, str | None]]:
    return [(f["kind"], f["flag"]) for f in envelope["data"]["findings"]]


# Node layouts


@pytest.mark.parametrize("family", ["debian", "rhel"])
def test_a_1_23_kubeadm_node_does_not_start_on_1_37(cli, tmp_path, family):
    kubeadm_node(tmp_path, family, KUBEADM_1_23_FLAGS)
    run, envelope = lint(cli, tmp_path, "--kubernetes-version", "v1.37.2")
    assert run.exit_code == 1
    found = envelope["data"]["findings"]
    errors = {f["flag"]: f for f in found if f["severity"] == "error"}
    assert set(errors) == {"--container-runtime", "--network-plugin", "--pod-infra-container-image"}
    assert all(f["path"] == "/var/lib/kubelet/kubeadm-flags.env" and f["line"] == 1 for f in found)
    assert "removed in kubelet 1.27" in errors["--container-runtime"]["message"]
    assert "removed in kubelet 1.24" in errors["--network-plugin"]["message"]
    assert "PR #106907" in errors["--network-plugin"]["message"]
    # derived from the generated flag sets: in 1.32, gone by 1.35
    assert "removed in kubelet 1.33, 1.34 or 1.35" in errors["--pod-infra-container-image"]["message"]
    deprecated = [f for f in found if f["kind"] == "deprecated"]
    assert [(f["flag"], f["field"]) for f in deprecated] == [
        ("--container-runtime-endpoint", "containerRuntimeEndpoint")
    ]
    assert envelope["data"]["sources"][0]["config"] == "/var/lib/kubelet/config.yaml"


# The layout kubespray writes: its own unit in /etc/systemd/system and /etc/kubernetes/kubelet.env
# (roles/kubernetes/node/templates/kubelet.service.j2 and kubelet.env.*.j2 in kubernetes-sigs/kubespray 2.x).
KUBESPRAY_UNIT = """\
[Unit]
Description=Kubernetes Kubelet Server
[Service]
EnvironmentFile=-/etc/kubernetes/kubelet.env
ExecStart=/usr/local/bin/kubelet \\
\t\t$KUBE_LOGTOSTDERR \\
\t\t$KUBE_LOG_LEVEL \\
\t\t$KUBELET_ADDRESS \\
\t\t$KUBELET_HOSTNAME \\
\t\t$KUBELET_ARGS \\
\t\t$KUBELET_NETWORK_PLUGIN \\
\t\t$KUBELET_CLOUDPROVIDER
Restart=always
"""
KUBESPRAY_ENV = """\
KUBE_LOGTOSTDERR="--logtostderr=true"
KUBE_LOG_LEVEL="--v=2"
KUBELET_ADDRESS="--node-ip=10.0.0.5"
KUBELET_HOSTNAME="--hostname-override=node1"
KUBELET_ARGS="--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf \\
--config=/etc/kubernetes/kubelet-config.yaml \\
--kubeconfig=/etc/kubernetes/kubelet.conf \\
--container-runtime=remote \\
--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock \\
--runtime-cgroups=/system.slice/containerd.service \\
 "
KUBELET_NETWORK_PLUGIN="--network-plugin=cni --cni-conf-dir=/etc/cni/net.d --cni-bin-dir=/opt/cni/bin"
KUBELET_CLOUDPROVIDER=""
"""


def test_a_kubespray_node_of_the_1_23_era(cli, tmp_path):
    write(tmp_path, "/etc/systemd/system/kubelet.service", KUBESPRAY_UNIT)
    write(tmp_path, "/etc/kubernetes/kubelet.env", KUBESPRAY_ENV)
    run, envelope = lint(cli, tmp_path, "--kubernetes-version", "v1.37.2")
    assert run.exit_code == 1
    errors = [(f["flag"], f["line"]) for f in envelope["data"]["findings"] if f["severity"] == "error"]
    assert errors == [
        ("--logtostderr", 1),
        ("--container-runtime", 5),
        ("--network-plugin", 12),
        ("--cni-conf-dir", 12),
        ("--cni-bin-dir", 12),
    ]
    assert envelope["data"]["sources"][0]["config"] == "/etc/kubernetes/kubelet-config.yaml"
    assert lint(cli, tmp_path, "--kubernetes-version", "v1.23.17")[0].exit_code == 0


def test_the_same_node_is_fine_on_its_own_release(cli, tmp_path):
    kubeadm_node(tmp_path, "debian", KUBEADM_1_23_FLAGS)
    run, envelope = lint(cli, tmp_path, "--kubernetes-version", "v1.23.17")
    assert run.exit_code == 0, envelope
    assert "checked against v1.30.14" in envelope["warnings"][0]


def test_a_current_kubeadm_node_passes_with_a_deprecation_warning(cli, tmp_path):
    kubeadm_node(
        tmp_path, "rhel", 'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock"\n'
    )
    run, envelope = lint(cli, tmp_path)
    assert run.exit_code == 0
    assert kinds(envelope) == [("deprecated", "--container-runtime-endpoint")]
    assert envelope["data"]["checked_against"] == "v1.37.2"


def test_an_extra_args_file_the_unit_does_not_read_is_linted_on_its_own(cli, tmp_path):
    kubeadm_node(tmp_path, "debian", "KUBELET_KUBEADM_ARGS=\n")
    write(tmp_path, "/etc/sysconfig/kubelet", 'KUBELET_EXTRA_ARGS="--network-plugin=cni"\n')
    run, envelope = lint(cli, tmp_path)
    assert run.exit_code == 1
    labels = [source["label"] for source in envelope["data"]["sources"]]
    assert labels[1] == "KUBELET_EXTRA_ARGS in /etc/sysconfig/kubelet (not read by any kubelet unit)"


def test_no_sources_is_ok_with_a_warning(cli, tmp_path):
    run, envelope = lint(cli, tmp_path)
    assert run.exit_code == 0
    assert "no kubelet flag sources found" in envelope["warnings"][0]


# systemd: drop-in order, ExecStart reset, $VAR and ${VAR}


def test_dropins_in_etc_hide_the_same_name_and_sort_by_name(cli, tmp_path):
    kubeadm_node(tmp_path, "debian", "KUBELET_KUBEADM_ARGS=--max-pods=10\n")
    write(
        tmp_path,
        "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
        "[Service]\nExecStart=\nExecStart=/usr/bin/kubelet --maxpods=3\n",
    )
    write(tmp_path, "/etc/systemd/system/kubelet.service.d/20-extra.conf", '[Service]\nEnvironment="X=--v=2"\n')
    run, envelope = lint(cli, tmp_path)
    assert run.exit_code == 1
    finding = envelope["data"]["findings"][0]
    assert (finding["kind"], finding["path"], finding["line"]) == (
        "unknown",
        "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
        3,
    )
    assert "did you mean --max-pods?" in finding["message"]


def test_braced_variables_are_one_word_and_unbraced_ones_split(cli, tmp_path):
    write(
        tmp_path,
        "/etc/systemd/system/kubelet.service",
        '[Service]\nEnvironment="A=--max-pods=1 --v=2" "B=--node-labels=a=b c"\nExecStart=/usr/bin/kubelet $A ${B}\n',
    )
    _, envelope = lint(cli, tmp_path)
    found = envelope["data"]["findings"]
    # ${B} stays one word, so the label value holds a space: a valid label set for the parser (ConfigurationMap)
    assert [f["kind"] for f in found] == ["deprecated"]
    assert found[0]["line"] == 2


def test_quotes_inside_an_environment_value_reach_the_kubelet(cli, tmp_path):
    write(tmp_path, "/etc/default/kubelet", "KUBELET_EXTRA_ARGS=\"--max-pods='20'\"\n")
    _, envelope = lint(cli, tmp_path)
    assert kinds(envelope)[0] == ("bad-value", "--max-pods")


# Each kind of finding


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("--fail-swap-on false", [("deprecated", "--fail-swap-on"), ("positional", None)]),
        # registered by component-base's JSON log format, which cmd/kubelet/kubelet.go compiles in (issue 29)
        ("--log-json-split-stream false", [("deprecated", "--log-json-split-stream"), ("positional", None)]),
        ("--log-json-info-buffer-size=1Mi", [("deprecated", "--log-json-info-buffer-size")]),
        ("--max-pods", [("needs-value", "--max-pods")]),
        ("--max-pods=abc", [("bad-value", "--max-pods"), ("deprecated", "--max-pods")]),
        ("--sync-frequency=10", [("bad-value", "--sync-frequency"), ("deprecated", "--sync-frequency")]),
        (
            "--eviction-hard=memory.available=100Mi",
            [("bad-value", "--eviction-hard"), ("deprecated", "--eviction-hard")],
        ),
        ("--eviction-hard=memory.available<100Mi", [("deprecated", "--eviction-hard")]),
        (
            "--register-with-taints=a=b:Sometimes",
            [("bad-value", "--register-with-taints"), ("deprecated", "--register-with-taints")],
        ),
        ("--address=10.0.0.300", [("bad-value", "--address"), ("deprecated", "--address")]),
        ("---v=2", [("bad-syntax", None)]),
        ("-x", [("unknown", "-x")]),
        ("-v 3 -v=4 -v5", [("repeated", "--v"), ("repeated", "--v")]),
        ("--node_ip=10.0.0.1", []),
        ("--node-ip=10.0.0.1 -- --max-pods=3", [("positional", None)]),
        ("--node-labels=a=b --node-labels=c=d", [("repeated", "--node-labels")]),
        (
            "--kubelet-cgroups=/a --kubelet-cgroups=/b",
            [
                ("deprecated", "--kubelet-cgroups"),
                ("deprecated", "--kubelet-cgroups"),
                ("repeated", "--kubelet-cgroups"),
            ],
        ),
    ],
)
def test_findings(cli, tmp_path, args, expected):
    write(tmp_path, "/etc/default/kubelet", f'KUBELET_EXTRA_ARGS="{args}"\n')
    _, envelope = lint(cli, tmp_path)
    assert kinds(envelope) == expected


def test_repeated_flags_say_which_value_wins(cli, tmp_path):
    write(tmp_path, "/etc/default/kubelet", 'KUBELET_EXTRA_ARGS="--node-ip=10.0.0.1"\n')
    write(tmp_path, "/var/lib/kubelet/kubeadm-flags.env", 'KUBELET_KUBEADM_ARGS="--node-labels=a=b"\n')
    write(
        tmp_path,
        "/etc/systemd/system/kubelet.service",
        "[Service]\nEnvironmentFile=/etc/default/kubelet\nEnvironmentFile=/var/lib/kubelet/kubeadm-flags.env\n"
        "ExecStart=/usr/bin/kubelet $KUBELET_EXTRA_ARGS --node-ip=10.0.0.2 $KUBELET_KUBEADM_ARGS --node-labels=c=d\n",
    )
    _, envelope = lint(cli, tmp_path)
    messages = [f["message"] for f in envelope["data"]["findings"]]
    assert messages == [
        "--node-ip is given again (first at /etc/default/kubelet:1): the last one wins, as pflag sets it each time",
        "--node-labels is given again (first at /var/lib/kubelet/kubeadm-flags.env:1): "
        "the kubelet adds this value to the earlier ones",
    ]


def test_human_output_names_file_and_line(cli, tmp_path):
    write(tmp_path, "/etc/default/kubelet", "# comment\n\nKUBELET_EXTRA_ARGS=--network-plugin=cni\n")
    run = cli("kubelet-flags", "lint", "--root", str(tmp_path))
    assert run.exit_code == 1
    assert "/etc/default/kubelet:3: error: --network-plugin was removed in kubelet 1.24" in run.stdout


# Files given on the command line


def test_given_files_of_each_format(cli, tmp_path):
    write(tmp_path, "/tmp/flags", "# Written by k8snode\n--max-pods=10\n--network-plugin=cni\n")
    write(tmp_path, "/tmp/env", "KUBELET_EXTRA_ARGS=--node-ip=10.0.0.1\nOTHER=--nonsense\n")
    write(tmp_path, "/tmp/dropin.conf", '[Service]\nEnvironment="KUBELET_EXTRA_ARGS=--bogus-flag"\n')
    run, envelope = lint(cli, tmp_path, "/tmp/flags", "/tmp/env", "/tmp/dropin.conf")
    assert run.exit_code == 1
    found = [(f["path"], f["line"], f["kind"]) for f in envelope["data"]["findings"]]
    assert found == [
        ("/tmp/flags", 2, "deprecated"),
        ("/tmp/flags", 3, "removed"),
        ("/tmp/dropin.conf", 2, "unknown"),
    ]


# Hostile files


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x7fELF\x00\x01binary", "is not a text file"),
        (b"KUBELET_EXTRA_ARGS=" + b"-" * (2 << 20), "at most 1 MiB"),
    ],
)
def test_binary_or_huge_files_are_bad_input(cli, tmp_path, content, message):
    write(tmp_path, "/etc/default/kubelet", content)
    run = cli("kubelet-flags", "lint", "--root", str(tmp_path))
    assert run.exit_code == 2
    assert message in run.stderr and run.stderr.count("\n") == 1


def test_crlf_files_read_like_lf_files(cli, tmp_path):
    write(tmp_path, "/etc/default/kubelet", b'# x\r\nKUBELET_EXTRA_ARGS="--network-plugin=cni"\r\n')
    _, envelope = lint(cli, tmp_path)
    assert [(f["kind"], f["line"]) for f in envelope["data"]["findings"]] == [("removed", 2)]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/etc/default/kubelet", 'KUBELET_EXTRA_ARGS="--max-pods=10\n'),
        ("/etc/systemd/system/kubelet.service", "[Service]\nExecStart=/usr/bin/kubelet '--max-pods=10\n"),
    ],
)
def test_unterminated_quotes_are_a_finding(cli, tmp_path, path, text):
    write(tmp_path, path, text)
    run, envelope = lint(cli, tmp_path)
    assert run.exit_code == 1
    first = envelope["data"]["findings"][0]
    assert (first["kind"], first["path"]) == ("unreadable", path)
    assert "unterminated" in first["message"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/etc/missing"], "/etc/missing does not exist"),
        (["relative/file"], "must be an absolute path on the target system when --root is given"),
        (["/etc"], "is a directory"),
        (["--kubernetes-version", "banana"], "is not a Kubernetes version"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, tmp_path, args, message):
    (tmp_path / "etc").mkdir()
    run = cli("kubelet-flags", "lint", "--root", str(tmp_path), *args)
    assert run.exit_code == 2
    assert message in run.stderr and run.stderr.count("\n") == 1


# Versions


def test_a_release_between_generated_ones_uses_the_older_one(cli, tmp_path):
    write(tmp_path, "/etc/default/kubelet", "KUBELET_EXTRA_ARGS=--pod-infra-container-image=pause\n")
    run, envelope = lint(cli, tmp_path, "--kubernetes-version", "v1.33.1")
    assert run.exit_code == 0
    assert envelope["data"]["checked_against"] == "v1.32.13"
    assert "nearest older one, v1.32.13" in envelope["warnings"][0]


def test_a_flag_newer_than_the_target_names_its_first_release(cli, tmp_path):
    sets = flag_sets()
    newest, oldest = sets.releases[-1], sets.releases[0]
    added = sorted(set(newest.flags) - set(oldest.flags))
    assert added, "the generated releases add flags over time"
    write(tmp_path, "/etc/default/kubelet", f"KUBELET_EXTRA_ARGS=--{added[0]}=x\n")
    _, envelope = lint(cli, tmp_path, "--kubernetes-version", oldest.version)
    assert kinds(envelope)[0] == ("not-yet", f"--{added[0]}")


# The catalog


def test_the_catalog_names_its_releases_and_derives_removals():
    sets = flag_sets()
    assert [release.version for release in sets.releases] == sorted(
        (release.version for release in sets.releases), key=minor
    )
    newest = sets.releases[-1]
    assert newest.flags["max-pods"].field == "maxPods"
    assert newest.flags["authentication-token-webhook"].field == "authentication.webhook.enabled"
    assert newest.flags["node-ip"].field == ""
    assert newest.flags["help"].shorthand == "h"


def test_history_rows_are_all_older_than_the_generated_releases_and_cited():
    sets = flag_sets()
    for name, removal in sets.history.items():
        assert minor(removal.removed) <= sets.releases[0].minor, name
        assert not any(name in release.flags for release in sets.releases), name
        assert removal.source and removal.advice.startswith("use "), name


# Values and parsing rules, directly


@pytest.mark.parametrize(
    ("flag", "value", "ok"),
    [
        ("max-pods", "0x10", True),
        ("max-pods", "1_000", True),
        ("max-pods", "_1", False),
        ("max-pods", "08", False),
        ("max-pods", "2147483648", False),
        ("fail-swap-on", "T", True),
        ("fail-swap-on", "yes", False),
        ("cluster-dns", '"a,b",c', True),
        ("cluster-dns", 'a"b', False),
        ("cluster-dns", '"a"b', False),
        ("feature-gates", "A=true,B=0", True),
        ("feature-gates", "A=yes", False),
        ("manifest-url-header", "a:b,c:d", True),
        ("manifest-url-header", "a=b", False),
        ("register-with-taints", "a=b:NoSchedule,c:NoExecute", True),
        ("register-with-taints", "a:NoSchedule,a:NoSchedule", False),
        ("register-with-taints", "a", False),
        ("reserved-memory", "0:memory=1Gi,hugepages-1Gi=2Gi;1:memory=1Gi", True),
        ("reserved-memory", "0:cpu=1", False),
        ("address", "010.0.0.1", True),
        ("healthz-bind-address", "::1", True),
        ("v", "3", True),
        ("v", "-1", False),
        ("vmodule", "foo=2,bar*=3", True),
        ("vmodule", "foo", False),
        ("sync-frequency", "1h2m", True),
    ],
)
def test_values(flag, value, ok):
    definition = flag_sets().releases[-1].flags[flag]
    assert (check(definition, value) is None) == ok, check(definition, value)


def test_env_file_rules():
    text = '# c\n; c\nA=1\nexport B = \'x y\' \nC="a\\"b" \\\n  tail\nD=a\\\nb\n'
    assignments, problems = parse_env_file(text, "/f")
    assert problems == []
    assert [(a.name, a.value, a.origin.line) for a in assignments] == [
        ("A", "1", 3),
        ("B", "x y", 4),
        ("C", 'a"b   tail', 5),
        ("D", "ab", 7),
    ]


def test_unit_word_rules():
    words, problem = split_unit_words("/usr/bin/kubelet \"--a=b c\" '--d' e\\ f $X")
    assert problem is None
    assert words == [("/usr/bin/kubelet", False), ("--a=b c", True), ("--d", True), ("e f", False), ("$X", False)]


# --fix


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under the root but the lock, which any run that may write takes."""
    files = (p for p in sorted(root.rglob("*")) if p.is_file() and p != root / "run/k8snode.lock")
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


def test_fix_moves_config_flags_drops_removed_ones_and_keeps_the_originals(cli, tmp_path):
    fixable_node(tmp_path)
    originals = snapshot(tmp_path)
    run, envelope = lint(cli, tmp_path, "--fix", "--force")
    assert run.exit_code == 0, envelope
    assert envelope["changed"] is True
    assert envelope["data"]["findings_after_fix"] == []
    flags_env = (tmp_path / "var/lib/kubelet/kubeadm-flags.env").read_text()
    assert flags_env.splitlines()[1:] == ['KUBELET_KUBEADM_ARGS=""']
    assert flags_env.startswith("# Written by k8snode ")
    extra = (tmp_path / "etc/default/kubelet").read_text().splitlines()
    assert extra[1:] == ["KUBELET_EXTRA_ARGS=--node-ip=10.0.0.5"]
    config = (tmp_path / "var/lib/kubelet/config.yaml").read_text()
    assert "cgroupDriver: systemd  # the runtime's driver" in config
    assert "# kubeadm wrote this file" in config
    assert "containerRuntimeEndpoint: unix:///run/containerd/containerd.sock" in config
    assert "maxPods: 200" in config
    assert "  anonymous:\n    enabled: true" in config
    assert "evictionHard:\n  memory.available: 5%" in config
    for path in ("var/lib/kubelet/kubeadm-flags.env", "etc/default/kubelet", "var/lib/kubelet/config.yaml"):
        assert (tmp_path / f"{path}.k8snode-orig").read_bytes() == originals[path]
    assert sorted(envelope["data"]["backups"]) == sorted(
        f"/{path}.k8snode-orig"
        for path in ("var/lib/kubelet/kubeadm-flags.env", "etc/default/kubelet", "var/lib/kubelet/config.yaml")
    )
    # the result passes the schema of the KubeletConfiguration kind
    validated = cli("validate", "/var/lib/kubelet/config.yaml", "--root", str(tmp_path))
    assert validated.exit_code == 0, validated.stdout
    # a second run finds nothing to do
    again, envelope = lint(cli, tmp_path, "--fix")
    assert (again.exit_code, envelope["changed"]) == (0, False)


def test_fix_refuses_files_k8snode_did_not_write_without_force(cli, tmp_path):
    fixable_node(tmp_path)
    before = snapshot(tmp_path)
    run = cli("kubelet-flags", "lint", "--root", str(tmp_path), "--fix")
    assert run.exit_code == 3
    assert "was not written by k8snode; pass --force" in run.stderr
    assert snapshot(tmp_path) == before


def test_a_fix_dry_run_on_files_k8snode_did_not_write_shows_the_diff_and_says_force_is_needed(cli, tmp_path):
    fixable_node(tmp_path)
    before = snapshot(tmp_path)
    run, envelope = lint(cli, tmp_path, "--fix", "--dry-run")
    assert run.exit_code == 1
    assert "+maxPods: 200" in envelope["data"]["diffs"]["/var/lib/kubelet/config.yaml"]
    assert any(
        w.startswith("without --force a real run is refused: ") and "pass --force to replace it" in w
        for w in envelope["warnings"]
    )
    assert snapshot(tmp_path) == before


def test_a_relative_file_is_the_operators_own_from_the_working_directory(cli, tmp_path, monkeypatch):
    write(tmp_path, "/work/kubelet.env", "KUBELET_EXTRA_ARGS=--network-plugin=cni\n")
    monkeypatch.chdir(tmp_path / "work")
    run = cli("kubelet-flags", "lint", "kubelet.env", "--json")
    assert run.exit_code == 1, run.stderr
    found = [(f["path"], f["line"], f["kind"]) for f in run.envelope()["data"]["findings"]]
    assert found == [(str(tmp_path / "work/kubelet.env"), 1, "removed")]
    elsewhere = cli("kubelet-flags", "lint", "kubelet.env", "--root", str(tmp_path))
    assert (elsewhere.exit_code, elsewhere.stderr) == (
        2,
        "k8snode: error: FILE kubelet.env must be an absolute path on the target system when --root is given\n",
    )


def test_fix_dry_run_shows_every_diff_and_touches_nothing(cli, tmp_path):
    fixable_node(tmp_path)
    before = snapshot(tmp_path)
    run, envelope = lint(cli, tmp_path, "--fix", "--force", "--dry-run")
    assert run.exit_code == 1  # nothing was fixed yet
    assert set(envelope["data"]["diffs"]) == {
        "/var/lib/kubelet/kubeadm-flags.env",
        "/etc/default/kubelet",
        "/var/lib/kubelet/config.yaml",
    }
    assert "+maxPods: 200" in envelope["data"]["diffs"]["/var/lib/kubelet/config.yaml"]
    assert snapshot(tmp_path) == before
    assert cli("kubelet-flags", "lint", "--root", str(tmp_path), "--dry-run").exit_code == 2


def test_fix_leaves_unit_files_alone_and_says_so(cli, tmp_path):
    write(
        tmp_path,
        "/etc/systemd/system/kubelet.service",
        "[Service]\nExecStart=/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml --network-plugin=cni\n",
    )
    before = snapshot(tmp_path)
    run, envelope = lint(cli, tmp_path, "--fix", "--force")
    assert run.exit_code == 1
    assert envelope["data"]["not_fixed"] == [
        "/etc/systemd/system/kubelet.service:2: --network-plugin: in a unit file; edit it by hand"
    ]
    assert snapshot(tmp_path) == before


def test_printing_flags_does_not_load_the_lint_catalog():
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "k8snode", "kubelet-flags", "--json"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    modules = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "k8snode.kubelet.flags" in modules
    assert {"k8snode.kubelet.lint", "k8snode.kubelet.flagsets"} & modules == set()


# doctor's kubelet-flags check

CLOSED = f"http://127.0.0.1:{CLOSED_PORT}/healthz"  # nothing listens, so the endpoint checks skip


def doctor_check(cli, root: Path, *options: str) -> dict[str, str]:
    endpoints = ["--kubelet-healthz", CLOSED, "--kube-proxy-healthz", CLOSED, "--kube-proxy-metrics", CLOSED]
    run = cli("doctor", "--root", str(root), "--proxy-mode", "iptables", *endpoints, *options, "--json")
    return next(c for c in run.envelope()["data"]["checks"] if c["id"] == "kubelet-flags")


@pytest.fixture
def installed_kubelet(tmp_path, monkeypatch):
    """A `kubelet` on PATH that reports the release it is given."""

    def install(version: str) -> None:
        tools = tmp_path / "tools"
        write(tools, "/kubelet", f"#!/bin/sh\necho 'Kubernetes {version}'\n").chmod(0o755)
        monkeypatch.setenv("PATH", f"{tools}:{os.environ['PATH']}")

    return install


def test_doctor_lints_for_the_installed_kubelet_and_for_the_next_upgrade(cli, tmp_path, installed_kubelet):
    root = tmp_path / "root"
    kubeadm_node(root, "debian", KUBEADM_1_23_FLAGS)
    installed_kubelet("v1.23.17")
    now = doctor_check(cli, root)
    assert now["status"] == "warn"
    assert now["detail"].startswith("kubelet v1.23.17 (from kubelet --version): ")
    upgrade = doctor_check(cli, root, "--target-version", "v1.37.2")
    assert upgrade["status"] == "fail"
    assert "3 flag error(s); /var/lib/kubelet/kubeadm-flags.env:1: --container-runtime was removed" in upgrade["detail"]
    assert upgrade["hint"] == "run: k8snode kubelet-flags lint --kubernetes-version v1.37.2 (and --fix)"


def test_doctor_without_a_kubelet_uses_the_given_version_and_skips_without_sources(cli, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    assert doctor_check(cli, root)["status"] == "skip"
    write(root, "/etc/default/kubelet", "KUBELET_EXTRA_ARGS=--node-ip=10.0.0.1\n")
    assert doctor_check(cli, root, "--kubernetes-version", "v1.30.14") == {
        "id": "kubelet-flags",
        "area": "components",
        "status": "ok",
        "detail": "kubelet v1.30.14: every flag is accepted",
        "hint": "",
        "preflight": None,  # kubeadm's preflight has no kubelet flag check
    }


def test_symlinks_are_followed_under_the_root_and_a_masked_unit_is_empty(cli, tmp_path):
    kubeadm_node(tmp_path, "rhel", 'KUBELET_KUBEADM_ARGS="--network-plugin=cni"\n')
    moved = tmp_path / "opt/flags/kubeadm-flags.env"
    moved.parent.mkdir(parents=True)
    (tmp_path / "var/lib/kubelet/kubeadm-flags.env").rename(moved)
    (tmp_path / "var/lib/kubelet/kubeadm-flags.env").symlink_to("/opt/flags/kubeadm-flags.env")  # under the root
    _, envelope = lint(cli, tmp_path)
    assert kinds(envelope) == [("removed", "--network-plugin")]
    (tmp_path / "etc/systemd/system").mkdir(parents=True)
    (tmp_path / "etc/systemd/system/kubelet.service").symlink_to("/dev/null")  # systemctl mask
    (tmp_path / "etc/systemd/system/kubelet.service.d").mkdir()
    run, envelope = lint(cli, tmp_path)  # the drop-ins still apply to a masked unit's name
    assert (run.exit_code, kinds(envelope)) == (1, [("removed", "--network-plugin")])


@pytest.mark.parametrize(
    "path", ["/etc/default/kubelet", "/etc/systemd/system/kubelet.service", "/var/lib/kubelet/kubeadm-flags.env"]
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from(list("KUBELET_EXTRA_ARGS=[Service]ExecStart$'\"\\{}-- \t\r\n#;x0"))))
def test_any_file_content_is_a_finding_or_bad_input_never_a_crash(cli, tmp_path, path, text):
    write(tmp_path, path, text)
    run = cli("kubelet-flags", "lint", "--root", str(tmp_path), "--fix", "--force", "--dry-run")
    assert run.exit_code in (0, 1, 2), run.stderr
    assert "internal error" not in run.stderr


@pytest.mark.parametrize(
    ("parent", "exit_code"),
    [("authentication:\n", 0), ("authentication: null\n", 0), ("authentication: 3\n", 2), ("authentication: [a]\n", 2)],
)
def test_fix_sets_a_nested_field_under_a_null_parent_and_refuses_a_parent_that_is_not_a_mapping(
    cli, tmp_path, parent, exit_code
):
    flags = 'KUBELET_EXTRA_ARGS="--config=/var/lib/kubelet/config.yaml --authentication-token-webhook=true"\n'
    config = f"apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n{parent}"
    write(tmp_path, "/etc/default/kubelet", flags)
    write(tmp_path, "/var/lib/kubelet/config.yaml", config)
    run = cli("kubelet-flags", "lint", "/etc/default/kubelet", "--root", str(tmp_path), "--fix", "--force")
    assert run.exit_code == exit_code, run.stderr
    written = (tmp_path / "var/lib/kubelet/config.yaml").read_text()
    if exit_code == 0:
        assert written.endswith("authentication:\n  webhook:\n    enabled: true\n")
    else:
        assert run.stderr == (
            "k8snode: error: /var/lib/kubelet/config.yaml: authentication is not a mapping, so --fix cannot set "
            "authentication.webhook.enabled in it; correct the file\n"
        )
        assert written == config
        assert (tmp_path / "etc/default/kubelet").read_text() == flags


# --fix never leaves a change half made (issue 27)

ANONYMOUS_OFF = 'KUBELET_EXTRA_ARGS="--config={config} --anonymous-auth=false --max-pods=200"\n'


@pytest.mark.parametrize(
    ("config", "exit_code", "message"),
    [
        # a directory on the way that is a file: the configuration cannot be written (as root too)
        ("/etc/kubernetes/kubelet/config.yaml", 3, "/etc/kubernetes/kubelet is not a directory"),
        # a directory k8snode does not create: exit 2 promises that nothing was written
        ("/srv/kubelet/config.yaml", 2, "directory /srv does not exist"),
    ],
    ids=["config-unwritable", "config-outside-owned-directories"],
)
def test_fix_writes_nothing_when_the_configuration_cannot_be_written(cli, tmp_path, config, exit_code, message):
    write(tmp_path, "/etc/default/kubelet", ANONYMOUS_OFF.format(config=config))
    write(tmp_path, "/etc/kubernetes/kubelet", "a file where a directory should be\n")
    before = snapshot(tmp_path)
    run = cli("kubelet-flags", "lint", "/etc/default/kubelet", "--root", str(tmp_path), "--fix", "--force")
    assert run.exit_code == exit_code, run.stderr
    assert message in run.stderr and run.stderr.count("\n") == 1
    assert snapshot(tmp_path) == before  # --anonymous-auth=false is still where the kubelet reads it


@pytest.fixture
def immutable(request):  # type: ignore[no-untyped-def]
    """Makes a file immutable (chattr +i: not even root may replace it) until the test ends; skips where the
    filesystem or the user cannot."""
    import shutil

    def make(path: Path) -> None:
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True) if shutil.which("chattr") else None
        if done is None or done.returncode != 0:
            pytest.skip(f"chattr +i is not available here: {done.stderr.decode().strip() if done else 'no chattr'}")
        request.addfinalizer(lambda: subprocess.run(["chattr", "-i", str(path)], check=True))

    return make


def test_fix_leaves_every_file_as_it_was_when_the_configuration_is_immutable(cli, tmp_path, immutable):
    fixable_node(tmp_path)
    immutable(tmp_path / "var/lib/kubelet/config.yaml")
    before = snapshot(tmp_path)
    run = cli("kubelet-flags", "lint", "--root", str(tmp_path), "--fix", "--force")
    assert run.exit_code == 3, run.stderr
    assert run.stderr == "k8snode: error: cannot write /var/lib/kubelet/config.yaml: Operation not permitted\n"
    assert snapshot(tmp_path) == before  # the flags are still where the kubelet reads them; no copy is left


def test_fix_puts_every_file_back_when_a_later_write_fails(cli, tmp_path, monkeypatch):
    """The configuration is written first; when a flag file's write fails after it, the configuration and the
    originals kept beside the files are undone, so no flag is lost and none moved half way."""
    import k8snode.core.system
    from k8snode.core.errors import failed

    fixable_node(tmp_path)
    before = snapshot(tmp_path)
    real = k8snode.core.system.System.write_atomic
    written: list[str] = []

    def write_atomic(self, target, content, mode, **kwargs):  # type: ignore[no-untyped-def]
        if str(target) == "/etc/default/kubelet":
            raise failed("cannot write /etc/default/kubelet: Operation not permitted")
        written.append(str(target))
        return real(self, target, content, mode, **kwargs)

    monkeypatch.setattr(k8snode.core.system.System, "write_atomic", write_atomic)
    run = cli("kubelet-flags", "lint", "--root", str(tmp_path), "--fix", "--force")
    assert run.exit_code == 3, run.stderr
    assert run.stderr == "k8snode: error: cannot write /etc/default/kubelet: Operation not permitted\n"
    assert "/var/lib/kubelet/config.yaml" in written  # the fault landed after the configuration was written
    assert snapshot(tmp_path) == before


def test_a_lone_cr_splits_lines_the_same_way_for_lint_and_fix(cli, tmp_path):
    """systemd ends an EnvironmentFile= line at CR as at LF: the parser did, the rewriter did not, so --fix
    dropped NO_PROXY's line and left the removed flag in place."""
    proxies = "HTTP_PROXY=http://proxy:3128\rNO_PROXY=10.0.0.0/8\n"
    text = proxies + "KUBELET_EXTRA_ARGS=--network-plugin=cni --node-ip=10.0.0.5\n"
    write(tmp_path, "/etc/default/kubelet", text)
    run, envelope = lint(cli, tmp_path, "/etc/default/kubelet", "--fix", "--force")
    assert run.exit_code == 0, run.stdout + run.stderr
    written = (tmp_path / "etc/default/kubelet").read_bytes().decode()
    assert written.split("\n", 1)[1] == proxies + "KUBELET_EXTRA_ARGS=--node-ip=10.0.0.5\n"
    again, envelope = lint(cli, tmp_path, "/etc/default/kubelet")
    assert again.exit_code == 0 and envelope["data"]["findings"] == []
