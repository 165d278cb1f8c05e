"""`k8snode kubelet-flags`: version rules, every format, value checks, --out, and the KubeletConfiguration schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import clitree
import pytest
from fakes import held_lock, write
from ruamel.yaml import YAML
from where import REPO

from k8snode import __version__
from k8snode.kubelet.flags import VALIDATORS, catalog

SCHEMA = REPO / "k8snode/core/schemas/kubelet.config.k8s.io_v1beta1_KubeletConfiguration.json"
VERSIONS = ("v1.3.10", "v1.9.11", "v1.10.13", "v1.23.17", "v1.31.14", "v1.37.2")
NODE_SET = [
    "--register-node=true",
    "--kubeconfig=/etc/kubernetes/kubelet.conf",
    "--node-status-update-frequency=10s",
    "--pod-manifest-path=/etc/kubernetes/manifests",
    "--file-check-frequency=20s",
]
CONFIG_ADVICE = "in the KubeletConfiguration file (--config) instead; --format config writes it"


def flags(cli, *args):
    run = cli("kubelet-flags", "--format", "flags", *args, "--json")
    assert run.exit_code == 0, run.stdout
    return run.envelope()["data"]


def deprecation(flag, since, use):
    return {"flag": flag, "since": since, "use": use}


# The node-management set across versions


FROM_1_10 = ["--node-status-update-frequency", "--pod-manifest-path", "--file-check-frequency"]


@pytest.mark.parametrize(
    ("version", "static_pod_flag", "deprecated"),
    [
        ("v1.3.10", "--config", []),
        ("v1.9.11", "--pod-manifest-path", []),
        ("v1.10.13", "--pod-manifest-path", FROM_1_10),
        ("v1.23.17", "--pod-manifest-path", ["--register-node", *FROM_1_10]),
        ("v1.31.14", "--pod-manifest-path", ["--register-node", *FROM_1_10]),
        ("v1.37.2", "--pod-manifest-path", ["--register-node", *FROM_1_10]),
    ],
)
def test_node_management_set_by_version(cli, version, static_pod_flag, deprecated):
    data = flags(cli, "--kubernetes-version", version)
    assert data["flags"] == [f.replace("--pod-manifest-path", static_pod_flag) for f in NODE_SET]
    assert [d["flag"] for d in data["deprecations"]] == deprecated
    assert data["config"] is None and data["kubernetes_version"] == version


def test_default_version_is_the_newest_release_k8snode_knows(cli):
    data = flags(cli)
    assert data["kubernetes_version"] == "v1.37.2"
    assert data["deprecations"] == [
        deprecation("--register-node", "1.23", "registerNode"),
        deprecation("--node-status-update-frequency", "1.10", "nodeStatusUpdateFrequency"),
        deprecation("--pod-manifest-path", "1.10", "staticPodPath"),
        deprecation("--file-check-frequency", "1.10", "fileCheckFrequency"),
    ]


# The same settings across versions: allowed, deprecated, or refused

ALLOWED, DEPRECATED = "allowed", "deprecated"
SETTINGS_BY_VERSION = {
    # setting options: outcome for 1.3, 1.9, 1.10, 1.23, 1.31, 1.37 (a string is the exit-2 message)
    ("--api-servers", "https://x:6443"): (
        ALLOWED,
        *["--api-servers (--api-server) was removed in kubelet 1.8 (deprecated since 1.4); use --kubeconfig"] * 5,
    ),
    ("--register-node",): (ALLOWED, ALLOWED, ALLOWED, DEPRECATED, DEPRECATED, DEPRECATED),
    ("--no-register-node",): (ALLOWED, ALLOWED, ALLOWED, DEPRECATED, DEPRECATED, DEPRECATED),
    ("--kubeconfig", "/etc/kubernetes/kubelet.conf"): (ALLOWED,) * 6,
    ("--bootstrap-kubeconfig", "/etc/kubernetes/bootstrap-kubelet.conf"): (
        "--bootstrap-kubeconfig is not a kubelet 1.3 setting: the kubelet has --experimental-bootstrap-kubeconfig "
        "from 1.4",
        *[ALLOWED] * 5,
    ),
    ("--cloud-provider", "external"): (ALLOWED,) * 6,
    ("--cloud-provider", "aws"): (
        *[ALLOWED] * 4,
        "--cloud-provider: kubelet 1.31 accepts only '' or 'external', not 'aws'; the in-tree cloud providers "
        "were removed in 1.31",
        "--cloud-provider: kubelet 1.37 accepts only '' or 'external', not 'aws'",
    ),
    ("--node-status-update-frequency", "1m"): (ALLOWED, ALLOWED, *[DEPRECATED] * 4),
    ("--static-pod-path", "/etc/kubernetes/manifests"): (ALLOWED, ALLOWED, *[DEPRECATED] * 4),
    ("--file-check-frequency", "30s"): (ALLOWED, ALLOWED, *[DEPRECATED] * 4),
    ("--manifest-url", "https://cfg.example/pods"): (ALLOWED, ALLOWED, *[DEPRECATED] * 4),
    ("--manifest-url-header", "X-Node:a"): (ALLOWED, ALLOWED, *[DEPRECATED] * 4),
    ("--http-check-frequency", "1m30s"): (ALLOWED, ALLOWED, *[DEPRECATED] * 4),
    ("--node-ip", "192.0.2.10"): (ALLOWED,) * 6,
    ("--node-labels", "node-role=worker"): (ALLOWED,) * 6,
    ("--register-with-taints", "dedicated=infra:NoSchedule"): (
        "--register-with-taints is not a kubelet 1.3 setting: the kubelet has --register-with-taints from 1.6",
        ALLOWED,
        ALLOWED,
        *[DEPRECATED] * 3,
    ),
    ("--config", "/var/lib/kubelet/config.yaml"): (
        "--config is not a kubelet 1.3 setting: the kubelet has --config from 1.10; before 1.4 the kubelet's "
        "--config was the static pod directory (k8snode --static-pod-path)",
        "--config is not a kubelet 1.9 setting: the kubelet has --config from 1.10",
        *[ALLOWED] * 4,
    ),
}


@pytest.mark.parametrize(
    ("options", "version", "outcome"),
    [
        (options, version, outcome)
        for options, outcomes in SETTINGS_BY_VERSION.items()
        for version, outcome in zip(VERSIONS, outcomes, strict=True)
    ],
)
def test_each_setting_across_versions(cli, options, version, outcome):
    run = cli("kubelet-flags", "--format", "flags", *options, "--kubernetes-version", version, "--json")
    if outcome in (ALLOWED, DEPRECATED):
        assert run.exit_code == 0, run.stdout
        data = run.envelope()["data"]
        assert len(data["flags"]) == 1
        expected = [data["flags"][0].split("=")[0]] if outcome == DEPRECATED else []
        assert [d["flag"] for d in data["deprecations"]] == expected
    else:
        assert run.exit_code == 2
        assert outcome in run.envelope()["error"]["message"]


def test_static_pod_path_prints_as_config_for_a_1_3_kubelet_and_as_pod_manifest_path_from_1_4(cli):
    options = ["--static-pod-path", "/srv/pods"]
    assert flags(cli, *options, "--kubernetes-version", "v1.3.10")["flags"] == ["--config=/srv/pods"]
    assert flags(cli, *options, "--kubernetes-version", "v1.4.0")["flags"] == ["--pod-manifest-path=/srv/pods"]
    assert flags(cli, "--pod-manifest-path", "/srv/pods", "--kubernetes-version", "1.4")["flags"] == [
        "--pod-manifest-path=/srv/pods"
    ]


def test_api_servers_before_removal_is_printed_with_a_warning_naming_the_replacement(cli):
    run = cli(
        "kubelet-flags",
        "--format",
        "flags",
        "--api-server",
        "https://a:6443,https://b:6443",
        "--kubernetes-version",
        "v1.5.8",
    )
    assert (run.exit_code, run.stdout) == (0, "--api-servers=https://a:6443,https://b:6443\n")
    assert run.stderr == (
        "k8snode: warning: --api-servers is deprecated since kubelet 1.4 and removed in 1.8: use --kubeconfig instead\n"
    )


def test_manifest_url_header_takes_one_header_before_1_9(cli):
    two = ["--manifest-url-header", "X-Node:a,X-Zone:b"]
    run = cli("kubelet-flags", "--format", "flags", *two, "--kubernetes-version", "v1.8.15")
    assert run.exit_code == 2
    assert run.stderr == (
        "k8snode: error: --manifest-url-header: kubelet 1.8 takes one value here (a comma-separated list from 1.9), "
        "not 'X-Node:a,X-Zone:b'\n"
    )
    assert flags(cli, *two, "--kubernetes-version", "v1.9.0")["flags"] == ["--manifest-url-header=X-Node:a,X-Zone:b"]
    one = flags(cli, "--manifest-url-header", "X-Node:a", "--kubernetes-version", "v1.3.10")
    assert one["flags"] == ["--manifest-url-header=X-Node:a"]


def test_node_ip_takes_a_dual_stack_pair_from_1_20(cli):
    pair = ["--node-ip", "192.0.2.10,2001:db8::10"]
    run = cli("kubelet-flags", "--format", "flags", *pair, "--kubernetes-version", "v1.19.16")
    assert run.exit_code == 2
    assert "--node-ip: kubelet 1.19 takes one value here (a comma-separated list from 1.20)" in run.stderr
    assert flags(cli, *pair, "--kubernetes-version", "v1.20.0")["flags"] == ["--node-ip=192.0.2.10,2001:db8::10"]


@pytest.mark.parametrize(
    ("labels", "refused"),
    [
        ("node-role.kubernetes.io/worker=", "node-role.kubernetes.io/worker"),
        ("kubernetes.io/role=node,example.com/a=b", "kubernetes.io/role"),
        ("k8s.io/x=1", "k8s.io/x"),
    ],
)
def test_node_labels_in_the_kubernetes_namespaces_are_refused_from_1_16(cli, labels, refused):
    run = cli("kubelet-flags", "--format", "flags", "--node-labels", labels, "--kubernetes-version", "v1.16.15")
    assert run.exit_code == 2
    assert run.stderr == (
        f"k8snode: error: --node-labels: kubelet 1.16 refuses {refused}: in the kubernetes.io and k8s.io namespaces "
        "it sets only kubelet.kubernetes.io, node.kubernetes.io labels and a fixed set; add other labels "
        "(node-role.kubernetes.io/*) with kubectl label after joining\n"
    )
    assert flags(cli, "--node-labels", labels, "--kubernetes-version", "v1.15.12")["flags"] == [
        f"--node-labels={labels}"
    ]


def test_node_labels_the_kubelet_may_set_itself_pass(cli):
    labels = (
        "node.kubernetes.io/pool=a,x.kubelet.kubernetes.io/y=z,kubernetes.io/os=linux,topology.kubernetes.io/zone=z1"
    )
    assert flags(cli, "--node-labels", labels)["flags"] == [f"--node-labels={labels}"]


def test_bootstrap_kubeconfig_uses_the_experimental_flag_before_1_7(cli):
    options = ["--bootstrap-kubeconfig", "/etc/kubernetes/bootstrap-kubelet.conf"]
    assert flags(cli, *options, "--kubernetes-version", "v1.6.13")["flags"] == [
        "--experimental-bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf"
    ]
    assert flags(cli, *options, "--kubernetes-version", "v1.7.0")["flags"] == [
        "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf"
    ]


# The "done when"


def test_register_node_and_status_frequency_print_with_deprecation_warnings_for_1_37(cli):
    run = cli("kubelet-flags", "--format", "flags", "--register-node", "--node-status-update-frequency", "10s")
    assert run.exit_code == 0
    assert run.stdout == "--register-node=true\n--node-status-update-frequency=10s\n"
    assert run.stderr == (
        f"k8snode: warning: --register-node is deprecated since kubelet 1.23: set registerNode {CONFIG_ADVICE}\n"
        "k8snode: warning: --node-status-update-frequency is deprecated since kubelet 1.10: "
        f"set nodeStatusUpdateFrequency {CONFIG_ADVICE}\n"
    )


def test_format_config_prints_the_equivalent_kubelet_configuration(cli):
    run = cli("kubelet-flags", "--register-node", "--node-status-update-frequency", "10s", "--format", "config")
    assert run.exit_code == 0
    assert run.stdout == (
        "apiVersion: kubelet.config.k8s.io/v1beta1\n"
        "kind: KubeletConfiguration\n"
        "registerNode: true\n"
        "nodeStatusUpdateFrequency: 10s\n"
    )
    assert run.stderr == "k8snode: warning: the kubelet needs --config PATH naming this file: pass --config or --out\n"


def test_api_server_for_1_37_fails_naming_1_8_and_kubeconfig(cli, tmp_path):
    run = cli("kubelet-flags", "--format", "flags", "--api-server", "https://x:6443", "--kubernetes-version", "v1.37.1")
    assert run.exit_code == 2
    assert run.stdout == ""
    assert run.stderr == (
        "k8snode: error: --api-servers (--api-server) was removed in kubelet 1.8 (deprecated since 1.4); "
        "use --kubeconfig instead (target kubelet 1.37)\n"
    )


# Every format, exactly

EVERYTHING = [
    "--register-node",
    "--kubeconfig",
    "/etc/kubernetes/kubelet.conf",
    "--bootstrap-kubeconfig",
    "/etc/kubernetes/bootstrap-kubelet.conf",
    "--cloud-provider",
    "external",
    "--node-status-update-frequency",
    "10s",
    "--static-pod-path",
    "/etc/kubernetes/manifests",
    "--file-check-frequency",
    "20s",
    "--manifest-url",
    "https://cfg.example/pods?node=$n",
    "--manifest-url-header",
    "X-Node:a,X-Node:b",
    "--manifest-url-header",
    'X-Quote:"q"',
    "--http-check-frequency",
    "1m30s",
    "--node-ip",
    "192.0.2.10,2001:db8::10",
    "--node-labels",
    "node-role=worker,example.com/rack=r1",
    "--register-with-taints",
    "dedicated=infra:NoSchedule,gpu:NoExecute",
    "--config",
    "/var/lib/kubelet/config.yaml",
]
WORDS = [
    "--register-node=true",
    "--kubeconfig=/etc/kubernetes/kubelet.conf",
    "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
    "--cloud-provider=external",
    "--node-status-update-frequency=10s",
    "--pod-manifest-path=/etc/kubernetes/manifests",
    "--file-check-frequency=20s",
    "--manifest-url=https://cfg.example/pods?node=$n",
    '--manifest-url-header=X-Node:a,X-Node:b,X-Quote:"q"',
    "--http-check-frequency=1m30s",
    "--node-ip=192.0.2.10,2001:db8::10",
    "--node-labels=node-role=worker,example.com/rack=r1",
    "--register-with-taints=dedicated=infra:NoSchedule,gpu:NoExecute",
    "--config=/var/lib/kubelet/config.yaml",
]


def test_format_flags(cli):
    run = cli("kubelet-flags", "--format", "flags", *EVERYTHING)
    assert run.exit_code == 0
    assert run.stdout == "".join(f"{word}\n" for word in WORDS)
    assert run.stderr.count("is deprecated since kubelet") == 8


def test_format_args_is_one_shell_line(cli):
    run = cli("kubelet-flags", *EVERYTHING, "--format", "args")
    assert run.stdout == (
        "--register-node=true --kubeconfig=/etc/kubernetes/kubelet.conf "
        "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --cloud-provider=external "
        "--node-status-update-frequency=10s --pod-manifest-path=/etc/kubernetes/manifests --file-check-frequency=20s "
        "'--manifest-url=https://cfg.example/pods?node=$n' '--manifest-url-header=X-Node:a,X-Node:b,X-Quote:\"q\"' "
        "--http-check-frequency=1m30s --node-ip=192.0.2.10,2001:db8::10 "
        "--node-labels=node-role=worker,example.com/rack=r1 "
        "--register-with-taints=dedicated=infra:NoSchedule,gpu:NoExecute --config=/var/lib/kubelet/config.yaml\n"
    )
    bash = subprocess.run(["bash", "-c", f"printf '%s\\n' {run.stdout}"], capture_output=True, text=True, check=True)
    assert bash.stdout.splitlines() == WORDS


def test_format_env_escapes_for_systemd_environment_files(cli):
    run = cli("kubelet-flags", *EVERYTHING, "--format", "env")
    assert run.stdout == (
        'KUBELET_EXTRA_ARGS="--register-node=true --kubeconfig=/etc/kubernetes/kubelet.conf '
        "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --cloud-provider=external "
        "--node-status-update-frequency=10s --pod-manifest-path=/etc/kubernetes/manifests --file-check-frequency=20s "
        '--manifest-url=https://cfg.example/pods?node=\\$n --manifest-url-header=X-Node:a,X-Node:b,X-Quote:\\"q\\" '
        "--http-check-frequency=1m30s --node-ip=192.0.2.10,2001:db8::10 "
        "--node-labels=node-role=worker,example.com/rack=r1 "
        '--register-with-taints=dedicated=infra:NoSchedule,gpu:NoExecute --config=/var/lib/kubelet/config.yaml"\n'
    )
    # /etc/sysconfig/kubelet is also sourced by shells: the value must come back unchanged.
    shell = subprocess.run(
        ["sh", "-c", f'{run.stdout}printf "%s\\n" $KUBELET_EXTRA_ARGS'], capture_output=True, text=True, check=True
    )
    assert shell.stdout.splitlines() == WORDS


def test_format_dropin(cli):
    run = cli(
        "kubelet-flags",
        "--node-ip",
        "192.0.2.10",
        "--manifest-url",
        'https://c.example/p%41?q="x"',
        "--format",
        "dropin",
        "--kubernetes-version",
        "v1.31.14",
    )
    assert run.stdout == (
        "[Service]\n"
        'Environment="KUBELET_EXTRA_ARGS=--manifest-url=https://c.example/p%%41?q=\\"x\\" --node-ip=192.0.2.10"\n'
    )


def test_format_config_puts_config_backed_settings_in_the_file_and_the_rest_in_kubelet_extra_args(cli):
    run = cli("kubelet-flags", *EVERYTHING, "--format", "config")
    assert run.exit_code == 0 and run.stderr == ""
    assert run.stdout == (
        "apiVersion: kubelet.config.k8s.io/v1beta1\n"
        "kind: KubeletConfiguration\n"
        "registerNode: true\n"
        "nodeStatusUpdateFrequency: 10s\n"
        "staticPodPath: /etc/kubernetes/manifests\n"
        "fileCheckFrequency: 20s\n"
        "staticPodURL: https://cfg.example/pods?node=$n\n"
        "staticPodURLHeader:\n"
        "  X-Node:\n"
        "  - a\n"
        "  - b\n"
        "  X-Quote:\n"
        "  - '\"q\"'\n"
        "httpCheckFrequency: 1m30s\n"
        "registerWithTaints:\n"
        "- key: dedicated\n"
        "  value: infra\n"
        "  effect: NoSchedule\n"
        "- key: gpu\n"
        "  effect: NoExecute\n"
        "# Flag-only settings, for /etc/default/kubelet or /etc/sysconfig/kubelet:\n"
        'KUBELET_EXTRA_ARGS="--kubeconfig=/etc/kubernetes/kubelet.conf '
        "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --cloud-provider=external "
        "--node-ip=192.0.2.10,2001:db8::10 --node-labels=node-role=worker,example.com/rack=r1 "
        '--config=/var/lib/kubelet/config.yaml"\n'
    )


def test_format_config_for_1_22_keeps_register_flags_which_have_no_field_yet(cli):
    data = flags(
        cli,
        "--register-node",
        "--register-with-taints",
        "a=b:NoSchedule",
        "--static-pod-path",
        "/p",
        "--format",
        "config",
        "--kubernetes-version",
        "v1.22.17",
    )
    assert data["config"] == {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "staticPodPath": "/p",
    }
    assert data["flags"] == ["--register-node=true", "--register-with-taints=a=b:NoSchedule"]
    assert data["deprecations"] == []


@pytest.mark.parametrize("version", ["v1.3.10", "v1.9.11"])
def test_format_config_before_1_10_is_refused(cli, version):
    run = cli("kubelet-flags", "--format", "config", "--kubernetes-version", version)
    assert run.exit_code == 2
    minor = version[1:].rsplit(".", 1)[0]
    assert run.stderr == (
        f"k8snode: error: --format config: kubelet {minor} cannot read a KubeletConfiguration file (--config names one "
        "from 1.10); use --format flags, args, env or dropin\n"
    )


def test_json_envelope_holds_flags_config_and_deprecations(cli):
    envelope = cli(
        "kubelet-flags",
        "--format",
        "flags",
        "--manifest-url",
        "https://c.example/p",
        "--node-ip",
        "192.0.2.1",
        "--json",
    ).envelope()
    assert list(envelope) == ["schema", "command", "ok", "changed", "data", "warnings", "error"]
    assert envelope["command"] == "kubelet-flags" and envelope["changed"] is False
    data = envelope["data"]
    assert data["flags"] == ["--manifest-url=https://c.example/p", "--node-ip=192.0.2.1"]
    assert data["config"] is None
    assert data["deprecations"] == [{"flag": "--manifest-url", "since": "1.10", "use": "staticPodURL"}]
    assert envelope["warnings"] == [
        f"--manifest-url is deprecated since kubelet 1.10: set staticPodURL {CONFIG_ADVICE}"
    ]
    config = cli("kubelet-flags", "--manifest-url", "https://c.example/p", "--format", "config", "--json").envelope()
    assert config["data"]["config"]["staticPodURL"] == "https://c.example/p"
    assert config["data"]["flags"] == [] and config["data"]["deprecations"] == []


# Values


@pytest.mark.parametrize("value", ["10s", "1m30s", "1.5h", ".5s", "500ms", "0", "1h2m3s4ms5us6ns", "3\u00b5s"])
def test_go_durations_are_accepted(cli, value):
    assert flags(cli, "--file-check-frequency", value)["flags"] == [f"--file-check-frequency={value}"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("10", "missing unit in duration '10'"),
        ("ten", "invalid duration 'ten'"),
        ("1d", "unknown unit 'd' in duration '1d'"),
        ("10 s", "unknown unit ' s' in duration '10 s'"),
        ("1.2.3s", "missing unit in duration '1.2.3s'"),
        ("", "invalid duration ''"),
        ("2562047h47m16.854775808s", "invalid duration"),
    ],
)
def test_go_duration_rejects_are_bad_input(cli, value, reason):
    run = cli("kubelet-flags", "--format", "flags", "--http-check-frequency", value)
    assert run.exit_code == 2 and run.stdout == ""
    assert run.stderr.startswith(f"k8snode: error: --http-check-frequency: {reason}")
    assert run.stderr.endswith("; use Go duration syntax such as 10s, 1m30s or 500ms\n")


BAD_VALUES = [
    (["--node-status-update-frequency", "-10s"], "--node-status-update-frequency: '-10s' is negative; use a positive"),
    (["--manifest-url", "ftp://cfg.example/pods"], "--manifest-url: 'ftp://cfg.example/pods' is not an http or https"),
    (["--manifest-url", "cfg.example/pods"], "--manifest-url: 'cfg.example/pods' is not an http or https URL"),
    (["--manifest-url", "https://"], "--manifest-url: 'https://' is not an http or https URL"),
    (["--manifest-url", "https://h:99999/"], "--manifest-url: 'https://h:99999/' is not an http or https URL"),
    (["--api-servers", "https://a:6443,", "--kubernetes-version", "1.5"], "--api-servers: 'https://a:6443,' has an"),
    (["--kubeconfig", "etc/kubernetes/kubelet.conf"], "--kubeconfig: 'etc/kubernetes/kubelet.conf' is not an absolute"),
    (["--static-pod-path", "manifests"], "--static-pod-path: 'manifests' is not an absolute path"),
    (["--manifest-url-header", "Authorization"], "--manifest-url-header: 'Authorization' is not a Key:Value header"),
    (["--manifest-url-header", ":value"], "--manifest-url-header: ':value' is not a Key:Value header"),
    (["--manifest-url-header", "Bad Key:v"], "--manifest-url-header: 'Bad Key:v' is not a Key:Value header"),
    (["--node-labels", "worker"], "--node-labels: 'worker' is not a label; use key=value"),
    (["--node-labels", "-bad=x"], "--node-labels: '-bad=x': key name '-bad' must be 1-63 letters"),
    (["--node-labels", "a=" + "v" * 64], "value '" + "v" * 64 + "' must be empty or 1-63 letters"),
    (["--node-labels", "Bad_Prefix/a=b"], "--node-labels: 'Bad_Prefix/a=b': key prefix 'Bad_Prefix' is not a DNS"),
    (
        ["--register-with-taints", "dedicated=infra"],
        "--register-with-taints: 'dedicated=infra' is not a taint; use "
        "key=value:Effect with Effect one of NoSchedule, PreferNoSchedule, NoExecute",
    ),
    (["--register-with-taints", "a=b:Sometimes"], "--register-with-taints: 'a=b:Sometimes' has effect 'Sometimes'"),
    (["--register-with-taints", "a=b=c:NoSchedule"], "value 'b=c' must be empty or 1-63 letters"),
    (["--node-ip", "192.0.2.300"], "--node-ip: '192.0.2.300' is not an IP address; give one such as 192.0.2.10"),
    (["--node-ip", "192.0.2.1,192.0.2.2"], "--node-ip: give one IP address, or one IPv4 and one IPv6 address"),
    (["--kubeconfig", "/etc/a\nb"], "--kubeconfig: the value contains a control character"),
    (["--format", "env", "--kubeconfig", "/etc/my kube.conf"], "--kubeconfig: '/etc/my kube.conf' contains whitesp"),
    (["--format", "dropin", "--manifest-url-header", "A:b c"], "--manifest-url-header: 'A:b c' contains whitespace"),
    (["--kubernetes-version", "latest"], "--kubernetes-version 'latest' is not a Kubernetes version; use one such"),
    (["--kubernetes-version", "v1.2.0"], "--kubernetes-version v1.2.0: k8snode knows kubelet 1.3 to 1.37"),
    (["--kubernetes-version", "v2.0.0"], "--kubernetes-version v2.0.0: k8snode knows kubelet 1.3 to 1.37"),
    (["--format", "yaml"], "Invalid value for '--format': 'yaml' is not one of 'flags', 'args', 'env', 'dropin'"),
]


@pytest.mark.parametrize(("options", "message"), BAD_VALUES)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(cli, tmp_path, options, message):
    run = cli("kubelet-flags", *options, "--out", "/etc/default/kubelet", "--root", str(tmp_path))
    assert run.exit_code == 2
    assert run.stdout == ""
    assert run.stderr.startswith("k8snode: error: ") and run.stderr.count("\n") == 1
    assert message in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_version_newer_than_the_catalog_follows_it_with_a_warning(cli):
    run = cli(
        "kubelet-flags", "--format", "flags", "--kubernetes-version", "v1.38.0-alpha.1", "--kubeconfig", "/k", "--json"
    )
    assert run.envelope()["data"]["flags"] == ["--kubeconfig=/k"]
    assert run.envelope()["warnings"] == ["k8snode's catalog ends at kubelet 1.37; flags for 1.38 follow it"]


# --out


def test_out_writes_atomically_with_a_header_and_is_idempotent(cli, tmp_path):
    options = ["kubelet-flags", "--format", "env", "--node-ip", "192.0.2.10", "--out", "/etc/default/kubelet"]
    first = cli(*options, "--root", str(tmp_path), "--json").envelope()
    target = tmp_path / "etc/default/kubelet"
    assert first["changed"] is True
    assert first["data"]["files"] == [{"path": "/etc/default/kubelet", "action": "created", "mode": "0644"}]
    assert target.read_text() == (
        f"# Written by k8snode {__version__} (k8snode kubelet-flags --kubernetes-version v1.37.2 --format env "
        "--node-ip 192.0.2.10)\n"
        'KUBELET_EXTRA_ARGS="--node-ip=192.0.2.10"\n'
    )
    assert target.stat().st_mode & 0o7777 == 0o644
    mtime = target.stat().st_mtime_ns
    again = cli(*options, "--root", str(tmp_path))
    assert again.exit_code == 0 and again.stdout == "/etc/default/kubelet: unchanged\n"
    assert target.stat().st_mtime_ns == mtime
    assert [p.name for p in target.parent.iterdir()] == ["kubelet"]


def test_out_refuses_a_hand_written_file_unless_forced(cli, tmp_path):
    target = tmp_path / "etc/default/kubelet"
    target.parent.mkdir(parents=True)
    target.write_text('KUBELET_EXTRA_ARGS="--node-ip=192.0.2.9 --v=4"\n')
    options = ["kubelet-flags", "--format", "env", "--out", "/etc/default/kubelet", "--root", str(tmp_path)]
    run = cli(*options)
    assert run.exit_code == 3
    assert "/etc/default/kubelet exists and was not written by k8snode; pass --force to replace it" in run.stderr
    assert "--v=4" in target.read_text()
    assert cli(*options, "--force").exit_code == 0
    assert "--v=4" not in target.read_text()


def test_out_dry_run_shows_the_diff_and_touches_nothing(cli, tmp_path):
    target = tmp_path / "etc/default/kubelet"
    target.parent.mkdir(parents=True)
    target.write_text("KUBELET_EXTRA_ARGS=\n")  # what the kubelet package ships
    target.chmod(0o600)
    before = (target.read_bytes(), target.stat().st_mtime_ns, target.stat().st_mode)
    options = ["kubelet-flags", "--format", "env", "--node-ip", "192.0.2.10", "--out", "/etc/default/kubelet"]
    run = cli(*options, "--dry-run", "--root", str(tmp_path), "--json")
    envelope = run.envelope()
    assert envelope["changed"] is True
    assert envelope["data"]["files"][0]["action"] == "would-update"
    assert envelope["data"]["diffs"]["/etc/default/kubelet"].splitlines()[2:] == [
        "@@ -1 +1,2 @@",
        "-KUBELET_EXTRA_ARGS=",
        f"+# Written by k8snode {__version__} (k8snode kubelet-flags --kubernetes-version v1.37.2 --format env "
        "--node-ip 192.0.2.10)",
        '+KUBELET_EXTRA_ARGS="--node-ip=192.0.2.10"',
    ]
    assert (target.read_bytes(), target.stat().st_mtime_ns, target.stat().st_mode) == before
    human = cli(*options, "--dry-run", "--root", str(tmp_path))
    assert human.stdout.startswith("diff for /etc/default/kubelet:\n--- a/etc/default/kubelet\n")
    assert human.stdout.endswith("/etc/default/kubelet: would update\n")
    real = cli(*options, "--root", str(tmp_path), "--json").envelope()
    assert real["data"]["files"][0] == {"path": "/etc/default/kubelet", "action": "updated", "mode": "0644"}
    assert target.stat().st_mode & 0o7777 == 0o644


def test_out_in_config_format_writes_the_yaml_and_points_kubelet_extra_args_at_it(cli, tmp_path):
    header_secret = "Authorization:Bearer-s3cret"
    run = cli(
        "kubelet-flags",
        "--format",
        "config",
        "--manifest-url",
        "https://u:pw@c.example/p",
        "--manifest-url-header",
        header_secret,
        "--kubeconfig",
        "/etc/kubernetes/kubelet.conf",
        "--out",
        "/var/lib/kubelet/config.yaml",
        "--root",
        str(tmp_path),
    )
    assert run.exit_code == 0, run.stderr
    assert run.stdout == (
        "/var/lib/kubelet/config.yaml: created\n"
        "# Flag-only settings, for /etc/default/kubelet or /etc/sysconfig/kubelet:\n"
        'KUBELET_EXTRA_ARGS="--kubeconfig=/etc/kubernetes/kubelet.conf --config=/var/lib/kubelet/config.yaml"\n'
    )
    text = (tmp_path / "var/lib/kubelet/config.yaml").read_text()
    header, _, body = text.partition("\n")
    assert header == (
        f"# Written by k8snode {__version__} (k8snode kubelet-flags --kubernetes-version v1.37.2 --format config "
        "--kubeconfig /etc/kubernetes/kubelet.conf --manifest-url https://u:REDACTED@c.example/p "
        "--manifest-url-header Authorization:REDACTED)"
    )
    assert "s3cret" not in header and "pw@" not in header
    assert YAML(typ="safe").load(body)["staticPodURLHeader"] == {"Authorization": ["Bearer-s3cret"]}


@pytest.mark.parametrize(
    ("output", "body"),
    [
        ("flags", "--kubeconfig=/k\n--node-ip=192.0.2.10\n"),
        ("args", "--kubeconfig=/k --node-ip=192.0.2.10\n"),
        ("dropin", '[Service]\nEnvironment="KUBELET_EXTRA_ARGS=--kubeconfig=/k --node-ip=192.0.2.10"\n'),
    ],
)
def test_every_written_file_starts_with_the_header_line(cli, tmp_path, output, body):
    run = cli(
        "kubelet-flags",
        "--format",
        output,
        "--kubeconfig",
        "/k",
        "--node-ip",
        "192.0.2.10",
        "--out",
        "/etc/kubelet.out",
        "--root",
        str(tmp_path),
    )
    assert run.exit_code == 0
    assert (tmp_path / "etc/kubelet.out").read_text() == (
        f"# Written by k8snode {__version__} (k8snode kubelet-flags --kubernetes-version v1.37.2 --format {output} "
        f"--kubeconfig /k --node-ip 192.0.2.10)\n{body}"
    )


def test_out_waits_for_another_run_holding_the_lock_and_dry_run_does_not(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("K8SNODE_LOCK_WAIT", "0.2")
    options = ["kubelet-flags", "--format", "env", "--out", "/etc/default/kubelet", "--root", str(tmp_path)]
    with held_lock(tmp_path):
        run = cli(*options)
        dry = cli(*options, "--dry-run")
    assert run.exit_code == 3
    assert run.stderr == ("k8snode: error: another k8snode is running: /run/k8snode.lock is still locked after 0.2 s\n")
    assert dry.exit_code == 0 and dry.stdout.endswith("/etc/default/kubelet: would create\n")
    assert not (tmp_path / "etc").exists()


def test_out_refuses_to_write_through_a_symlink(cli, tmp_path):
    secret = tmp_path / "etc/shadow"
    secret.parent.mkdir(parents=True)
    secret.write_text("root:*:19000:0:99999:7:::\n")
    (tmp_path / "etc/kubelet.env").symlink_to(secret)
    run = cli("kubelet-flags", "--format", "env", "--out", "/etc/kubelet.env", "--root", str(tmp_path))
    assert run.exit_code == 3
    assert "is a symlink; k8snode will not write through it" in run.stderr
    assert secret.read_text() == "root:*:19000:0:99999:7:::\n"


# The KubeletConfiguration against the schema


def _unknown_fields(value, schema, where):
    """Paths in ``value`` that the schema (k8s-truth's format) does not have."""
    kind = schema["type"]
    if kind == "object":
        return [
            problem
            for key, item in value.items()
            for problem in (
                _unknown_fields(item, schema["fields"][key], f"{where}.{key}")
                if key in schema["fields"]
                else [f"{where}.{key}"]
            )
        ]
    if kind == "list":
        return [p for i, item in enumerate(value) for p in _unknown_fields(item, schema["items"], f"{where}[{i}]")]
    if kind == "map":
        return [p for key, item in value.items() for p in _unknown_fields(item, schema["values"], f"{where}.{key}")]
    return []


@pytest.mark.parametrize("version", ["v1.20.15", "v1.22.17", "v1.23.17", "v1.31.14", "v1.37.2"])
def test_generated_kubelet_configuration_parses_and_every_field_is_in_the_schema(cli, version):
    run = cli("kubelet-flags", *EVERYTHING, "--format", "config", "--kubernetes-version", version, "--json")
    text = run.envelope()["data"]["text"]
    document = YAML(typ="safe").load(text)
    schema = json.loads(SCHEMA.read_text())
    assert (document["apiVersion"], document["kind"]) == (schema["apiVersion"], schema["kind"])
    assert len(document) > 2
    assert _unknown_fields(document, {"type": "object", "fields": schema["fields"]}, "") == []
    assert document == run.envelope()["data"]["config"]


def test_schema_check_finds_an_unknown_field():
    schema = json.loads(SCHEMA.read_text())
    document = {"registerNode": True, "registerWithTaints": [{"key": "a", "effect": "NoSchedule", "colour": "red"}]}
    assert _unknown_fields(document, {"type": "object", "fields": schema["fields"]}, "") == [
        ".registerWithTaints[0].colour"
    ]


# The catalog is data, and the CLI offers all of it


def test_every_catalog_setting_has_an_option_a_validator_and_a_cited_source():
    command = clitree.command("kubelet-flags")
    options = {name for param in command.params for name in [*param.opts, *param.secondary_opts]}
    for setting in catalog().settings:
        assert {setting.option, *setting.aliases} <= options
        assert setting.type == "bool" or setting.type in VALIDATORS
        assert setting.source and setting.description
        assert (setting.field is None) == (setting.field_since is None)
    assert set(catalog().node_management_set) <= {s.name for s in catalog().settings}


def test_import_of_the_cli_stays_free_of_heavy_modules():
    code = (
        "import sys, k8snode.cli; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'ruamel', 'jinja2', 'pydantic', 'rich', 'plumbum'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ)
    assert done.stdout == "[]\n"


def test_the_default_for_a_kubelet_with_a_config_file_is_the_config_form_without_warnings(cli):
    run = cli("kubelet-flags")
    assert (run.exit_code, run.stderr) == (0, "")
    assert run.stdout == (
        "apiVersion: kubelet.config.k8s.io/v1beta1\n"
        "kind: KubeletConfiguration\n"
        "registerNode: true\n"
        "nodeStatusUpdateFrequency: 10s\n"
        "staticPodPath: /etc/kubernetes/manifests\n"
        "fileCheckFrequency: 20s\n"
        "# Flag-only settings, for /etc/default/kubelet or /etc/sysconfig/kubelet; add --config=PATH naming the file "
        "above:\n"
        'KUBELET_EXTRA_ARGS="--kubeconfig=/etc/kubernetes/kubelet.conf"\n'
    )
    assert cli("kubelet-flags", "--kubernetes-version", "v1.10.0", "--json").envelope()["data"]["format"] == "config"


def test_the_default_before_1_10_and_an_explicit_format_flags_is_the_seeds_flag_set(cli):
    seed = [
        "--register-node=true",
        "--kubeconfig=/etc/kubernetes/kubelet.conf",
        "--node-status-update-frequency=10s",
        "--pod-manifest-path=/etc/kubernetes/manifests",
        "--file-check-frequency=20s",
    ]
    old = cli("kubelet-flags", "--kubernetes-version", "v1.9.11")
    assert (old.exit_code, old.stdout.splitlines(), old.stderr) == (0, seed, "")
    explicit = cli("kubelet-flags", "--format", "flags")
    assert (explicit.exit_code, explicit.stdout.splitlines()) == (0, seed)
    assert explicit.stderr.count("is deprecated since kubelet") == 4


# --swap keep: what a kubelet on a node that keeps swap on needs (node/swap.py kubelet_keep_swap)

SWAP_NOTE_1_29 = (
    "kubelet 1.29: memorySwap.swapBehavior is left out (it needs the NodeSwap feature gate, which came in 1.22 and is "
    "off by default before 1.30); only failSwapOn: false is set"
)


@pytest.mark.parametrize(
    ("version", "memory_swap", "notes"),
    [
        ("v1.37.2", {"swapBehavior": "NoSwap"}, []),
        ("v1.30.14", {"swapBehavior": "NoSwap"}, []),
        ("v1.29.15", None, [SWAP_NOTE_1_29]),
        ("v1.10.13", None, [SWAP_NOTE_1_29.replace("1.29", "1.10", 1)]),
    ],
)
def test_swap_keep_sets_fail_swap_on_false_and_memory_swap_from_1_30(cli, version, memory_swap, notes):
    run = cli("kubelet-flags", "--swap", "keep", "--format", "config", "--kubernetes-version", version, "--json")
    assert run.exit_code == 0, run.stderr
    config = run.envelope()["data"]["config"]
    assert config["failSwapOn"] is False
    assert config.get("memorySwap") == memory_swap
    assert config["staticPodPath"] == "/etc/kubernetes/manifests"  # the node-management set stays
    assert [w for w in run.envelope()["warnings"] if "swap" in w] == notes
    words = flags(cli, "--swap", "keep", "--kubernetes-version", version)
    assert words["flags"] == [*NODE_SET, "--fail-swap-on=false"]


def test_swap_keep_as_flags_from_1_30_says_memory_swap_has_no_flag(cli):
    run = cli("kubelet-flags", "--format", "flags", "--swap", "keep", "--json")
    assert run.exit_code == 0
    assert "--fail-swap-on=false" in run.envelope()["data"]["flags"]
    assert (
        f"--fail-swap-on is deprecated since kubelet 1.10: set failSwapOn {CONFIG_ADVICE}" in run.envelope()["warnings"]
    )
    assert run.envelope()["warnings"][-1] == (
        "memorySwap.swapBehavior has no kubelet flag; NoSwap is what the kubelet does without it, and --format config "
        "writes it out"
    )


def test_swap_keep_before_1_8_adds_nothing_and_says_why(cli):
    run = cli("kubelet-flags", "--swap", "keep", "--kubernetes-version", "v1.7.16", "--json")
    assert run.exit_code == 0
    assert run.envelope()["data"]["flags"] == NODE_SET
    assert run.envelope()["warnings"] == ["kubelet 1.7 starts with swap on (failSwapOn came in 1.8): nothing to set"]


def test_swap_keep_with_fail_swap_on_is_bad_input_and_off_adds_nothing(cli):
    run = cli("kubelet-flags", "--swap", "keep", "--fail-swap-on")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        "k8snode: error: --swap keep and --fail-swap-on contradict each other: the kubelet would refuse to start\n"
    )
    assert flags(cli, "--swap", "off") == flags(cli)
    run = cli("kubelet-flags", "--swap", "on")
    assert run.exit_code == 2 and "'on' is not one of 'off', 'keep'" in run.stderr


def test_swap_keep_is_in_the_written_file_header(cli, tmp_path):
    run = cli("kubelet-flags", "--swap", "keep", "--out", "/var/lib/kubelet/config.yaml", "--root", str(tmp_path))
    assert run.exit_code == 0, run.stderr
    text = (tmp_path / "var/lib/kubelet/config.yaml").read_text()
    assert text.splitlines()[0] == (
        f"# Written by k8snode {__version__} (k8snode kubelet-flags --kubernetes-version v1.37.2 --format config "
        "--swap keep)"
    )
    assert "failSwapOn: false\nmemorySwap:\n  swapBehavior: NoSwap\n" in text


# One taint parser (core/names.py) behind kubelet-flags and lint


@pytest.mark.parametrize(
    "taints",
    [
        "a=b:NoSchedule",
        "example.com/a=b:NoExecute,c:PreferNoSchedule",
        "a=:NoSchedule",
        "a:NoSchedule,a:NoSchedule",
        "a:NoSchedule,a:NoExecute",
        "a=b=c:NoSchedule",
        "a:b:NoSchedule",
        "a=b:Sometimes",
        "a",
        "-a:NoSchedule",
    ],
)
def test_kubelet_flags_prints_only_taints_that_lint_accepts(cli, taints):
    from k8snode.kubelet.flagsets import flag_sets
    from k8snode.kubelet.flagvalues import check

    run = cli("kubelet-flags", "--format", "flags", "--register-with-taints", taints)
    accepted = check(flag_sets().releases[-1].flags["register-with-taints"], taints) is None
    assert (run.exit_code, accepted) in ((0, True), (2, False)), run.stderr


def test_a_repeated_taint_is_refused_as_the_kubelet_refuses_it(cli):
    run = cli("kubelet-flags", "--register-with-taints", "a=x:NoSchedule,a=y:NoSchedule")
    assert run.exit_code == 2
    assert "'a=y:NoSchedule' repeats the taint a:NoSchedule" in run.stderr


# One kubelet catalog: the hand-written rows (kubelet_settings.json) agree with the generated one (kubelet_flags.json)

# k8snode's value type of a setting -> the pflag type of the kubelet flag that carries it
KUBELET_TYPES = {
    "bool": "bool",
    "duration": "duration",
    "path": "string",
    "url": "string",
    "enum": "string",
    "ips": "string",
    "labels": "mapStringString",
    "taints": "[]v1.Taint",
    "headers": "colonSeparatedMultimapStringString",
}


def test_the_hand_written_rows_agree_with_the_generated_catalog():
    from k8snode.kubelet.flagdefs import generated_releases

    releases = generated_releases()
    oldest = releases[0].minor
    known = catalog()
    assert known.newest == releases[-1].minor
    current_flags = {s.flags[-1].flag for s in known.settings if s.removed is None}
    checked = 0
    for setting in known.settings:
        if setting.removed is not None:  # a removal no generated release can show: hand-written, and older
            assert setting.removed <= oldest, setting.name
            assert not any(n.flag.removeprefix("--") in r.flags for n in setting.flags for r in releases)
            continue
        current = setting.flags[-1]
        assert current.until is None and (current.since is None or current.since <= oldest), setting.name
        for older in setting.flags[:-1]:  # names before the generated releases: gone from them, or another's flag
            assert older.until is not None and older.until <= oldest, setting.name
            assert older.flag in current_flags or not any(older.flag.removeprefix("--") in r.flags for r in releases)
        for release in releases:
            definition = release.flags[current.flag.removeprefix("--")]
            at = f"{setting.name} in {release.version}"
            assert definition.type == KUBELET_TYPES[setting.type], at
            has_field = setting.field_since is not None and setting.field_since <= release.minor
            assert bool(definition.field) == has_field, at
            assert "." not in definition.field, at  # kubelet-flags sets top-level fields only
            is_deprecated = setting.deprecated is not None and setting.deprecated <= release.minor
            assert bool(definition.deprecated) == is_deprecated, at
            checked += 1
    assert checked == len(current_flags) * len(releases)


PRINTED = {
    "register-node": [],
    "kubeconfig": ["/etc/kubernetes/kubelet.conf"],
    "bootstrap-kubeconfig": ["/etc/kubernetes/bootstrap-kubelet.conf"],
    "cloud-provider": ["external", ""],
    "node-status-update-frequency": ["1m30s", "0"],
    "static-pod-path": ["/etc/kubernetes/manifests"],
    "file-check-frequency": ["500ms"],
    "manifest-url": ["https://user:secret@192.0.2.10/pods"],
    "manifest-url-header": ["A:b,A:c,X-Z:"],
    "http-check-frequency": ["20s"],
    "node-ip": ["192.0.2.1,2001:db8::1"],
    "node-labels": ["a=b,example.com/c=,node.kubernetes.io/x=y"],
    "register-with-taints": ["a=b:NoSchedule,c:NoExecute,example.com/d=:PreferNoSchedule"],
    "fail-swap-on": [],
    "config": ["/var/lib/kubelet/config.yaml"],
}


@pytest.mark.parametrize("version", ["v1.23.0", "v1.30.14", "v1.33.0", "v1.37.2"])
def test_what_kubelet_flags_prints_lint_accepts(cli, tmp_path, version):
    """One value checker: each flag kubelet-flags prints for a release passes lint's value check for it."""
    assert set(PRINTED) == {s.name for s in catalog().settings if s.removed is None}
    runs = [[f"--{name}", *values[:1]] for name, values in PRINTED.items()]
    runs += [[f"--{name}", value] for name, values in PRINTED.items() for value in values[1:]]
    for index, words in enumerate(runs):
        out = f"/flags-{index}"
        written = cli(
            "kubelet-flags",
            "--format",
            "flags",
            "--kubernetes-version",
            version,
            *words,
            "--out",
            out,
            "--root",
            str(tmp_path),
        )
        assert written.exit_code == 0, (words, written.stderr)
        run = cli("kubelet-flags", "lint", out, "--kubernetes-version", version, "--root", str(tmp_path), "--json")
        findings = json.loads(run.stdout)["data"]["findings"]
        assert [f for f in findings if f["kind"] != "deprecated"] == [], words
        assert run.exit_code == 0, words


@pytest.mark.parametrize(("content", "replaced"), [("", True), ("\n  \n", True), ("# my notes\n", False)])
def test_kubelet_flags_replaces_an_empty_file_but_not_one_of_comments(cli, tmp_path, content, replaced):
    write(tmp_path / "etc/default/kubelet", content)
    run = cli("kubelet-flags", "--out", "/etc/default/kubelet", "--root", str(tmp_path))
    assert (run.exit_code == 0) is replaced, run.stderr
    if not replaced:
        assert "was not written by k8snode; pass --force" in run.stderr
        assert (tmp_path / "etc/default/kubelet").read_text() == content
