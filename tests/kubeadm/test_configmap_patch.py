"""`k8snode kubeadm-config --patch CONFIGMAP --proxy-mode nftables` on the ConfigMaps the real kubeadm writes.

The fixtures tests/fixtures/kubeadm/configmap-*-VERSION.yaml are what `kubeadm init --dry-run` of each release in
tools/k8s-truth/versions.txt creates (tools/k8s-truth/gen_configmaps.py); the API server adds metadata when it stores
them, which `kubectl get -o yaml` prints, so the tests also run on that form.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from fakes import make_node, snapshot
from ruamel.yaml import YAML
from where import FIXTURES

VERSIONS = sorted(
    re.match(r"configmap-kube-proxy-(v[\d.]+)\.yaml", p.name)[1]  # type: ignore[index]
    for p in FIXTURES.glob("configmap-kube-proxy-*.yaml")
)
STORED = (
    '  creationTimestamp: "2026-11-29T15:00:00Z"\n'
    '  resourceVersion: "289"\n'
    "  uid: 3f0c6f53-0d1e-4a3c-9c51-1b5a8b7e2a10\n"
)


def fixture(name: str, version: str) -> str:
    """The ConfigMap as kubeadm printed it, without the line naming its origin."""
    return (FIXTURES / f"configmap-{name}-{version}.yaml").read_text().split("\n", 1)[1]


def as_kubectl_prints(text: str) -> str:
    """What `kubectl -n kube-system get configmap NAME -o yaml` prints once the API server stored it."""
    text = text.replace("  creationTimestamp: null\n", "")
    head, metadata = text.split("metadata:\n", 1)
    lines = sorted([*metadata.splitlines(keepends=True), *STORED.splitlines(keepends=True)], key=_metadata_key)
    return head + "metadata:\n" + "".join(lines)


def _metadata_key(line: str) -> str:
    return line.strip().split(":")[0] if not line.startswith("    ") else "labels"


def patch(cli, node, text: str, *options: str):
    """`k8snode kubeadm-config --patch - OPTIONS` on TEXT, with the node as --root."""
    return cli("kubeadm-config", "--patch", "-", *options, "--root", str(node), stdin=text)


def load(text: str) -> dict:
    return YAML(typ="safe", pure=True).load(io.StringIO(text))


def proxy_config(configmap_text: str) -> dict:
    return load(load(configmap_text)["data"]["config.conf"])


def outside(text: str, key: str) -> str:
    """The ConfigMap with the value of data.KEY cut out (its first line and the lines indented under it)."""
    lines = text.split("\n")
    first = next(index for index, line in enumerate(lines) if line.startswith(f"  {key}: "))
    last = first + 1
    while last < len(lines) and lines[last].startswith("    "):
        last += 1
    return "\n".join([*lines[:first], f"  {key}:", *lines[last:]])


@pytest.fixture
def node(tmp_path: Path) -> Path:
    return make_node(tmp_path / "node")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("printed_by", ["kubeadm", "kubectl"])
def test_kube_proxy_configmap_moves_to_nftables_and_keeps_every_other_byte(cli, node, version, printed_by) -> None:
    original = fixture("kube-proxy", version)
    if printed_by == "kubectl":
        original = as_kubectl_prints(original)
    run = patch(cli, node, original, "--proxy-mode", "nftables", "--kubernetes-version", version)
    assert run.exit_code == 0, run.stderr
    patched = run.stdout
    assert outside(patched, "config.conf") == outside(original, "config.conf")
    before, after = proxy_config(original), proxy_config(patched)
    assert after["mode"] == "nftables"
    assert "strictARP" not in after["ipvs"] and "scheduler" not in after["ipvs"] and "syncPeriod" not in after["ipvs"]
    gates = {"NFTablesProxyMode": True} if version < "v1.31" else None
    assert after.get("featureGates") == gates
    # Every other field of the embedded document is kept, value for value.
    for key in ("mode", "ipvs", "featureGates"):
        before.pop(key, None), after.pop(key, None)
    assert after == before
    warnings = run.stderr
    for dropped in ("ipvs.scheduler (rr)", "ipvs.strictARP (true)", "ipvs.syncPeriod (30s)"):
        assert f"dropped KubeProxyConfiguration.{dropped}" in warnings
    assert "--set KubeProxyConfiguration.nftables.syncPeriod=30s" in warnings


@pytest.mark.parametrize("version", VERSIONS)
def test_the_embedded_document_keeps_its_lines(cli, node, version) -> None:
    """Only the lines of the fields that change differ: the round trip re-indents and re-quotes nothing."""
    original = fixture("kube-proxy", version)
    run = patch(cli, node, original, "--proxy-mode", "nftables")
    old = load(original)["data"]["config.conf"].splitlines()
    new = load(run.stdout)["data"]["config.conf"].splitlines()
    removed = [line for line in old if line not in new]
    added = [line for line in new if line not in old]
    assert removed == ["  scheduler: rr", "  strictARP: true", "  syncPeriod: 30s", "mode: ipvs"]
    assert added == ["mode: nftables"]


def test_dry_run_shows_the_diff_of_the_embedded_document(cli, node) -> None:
    original = fixture("kube-proxy", VERSIONS[-1])
    run = patch(cli, node, original, "--proxy-mode", "nftables", "--dry-run", "--json")
    assert run.exit_code == 0, run.stderr
    envelope = run.envelope()
    assert envelope["changed"] is True
    data = envelope["data"]
    assert data["configmap"] == "kube-system/kube-proxy" and data["key"] == "config.conf"
    assert data["changed_fields"] == ["ipvs.scheduler", "ipvs.strictARP", "ipvs.syncPeriod", "mode"]
    diff = data["diff"]
    assert diff.startswith("--- a/data/config.conf\n+++ b/data/config.conf\n")
    assert "-mode: ipvs\n+mode: nftables\n" in diff
    assert "-  strictARP: true\n" in diff
    assert [w for w in envelope["warnings"] if w.startswith("dropped")] == [
        "dropped KubeProxyConfiguration.ipvs.scheduler (rr): nftables mode has no scheduler",
        "dropped KubeProxyConfiguration.ipvs.strictARP (true): only IPVS mode needs it (kube-ipvs0 holds every "
        "Service address); MetalLB and kube-vip in L2 mode do not need it under nftables",
        "dropped KubeProxyConfiguration.ipvs.syncPeriod (30s): set nftables.syncPeriod to keep it "
        "(--set KubeProxyConfiguration.nftables.syncPeriod=30s)",
    ]


def test_the_diff_shows_only_the_lines_that_change(cli, node) -> None:
    """1.30 gets the alpha gate appended after the last line, which has no line break in a |- block."""
    original = fixture("kube-proxy", "v1.30.14")
    options = ("--proxy-mode", "nftables", "--kubernetes-version", "v1.30.14", "--dry-run", "--json")
    run = patch(cli, node, original, *options)
    diff = run.envelope()["data"]["diff"]
    changed = [line for line in diff.splitlines()[2:] if line[:1] in "+-"]
    assert changed == [
        "-  scheduler: rr", "-  strictARP: true", "-  syncPeriod: 30s", "-mode: ipvs", "+mode: nftables",
        "+featureGates:", "+  NFTablesProxyMode: true",
    ]  # fmt: skip


def test_a_patched_configmap_is_unchanged_by_a_second_run(cli, node) -> None:
    first = patch(cli, node, fixture("kube-proxy", VERSIONS[-1]), "--proxy-mode", "nftables")
    second = patch(cli, node, first.stdout, "--proxy-mode", "nftables", "--json")
    assert second.exit_code == 0, second.stderr
    assert second.envelope()["changed"] is False
    assert second.envelope()["data"]["changed_fields"] == []
    assert not [w for w in second.envelope()["warnings"] if w.startswith("dropped")]


def test_a_double_quoted_value_is_written_back_double_quoted(cli, node) -> None:
    """kubectl prints a value with a line that ends in a space as a double-quoted string."""
    original = fixture("kube-proxy", VERSIONS[-1])
    embedded = load(original)["data"]["config.conf"].replace('hostnameOverride: ""', 'hostnameOverride: "" ')
    start = original.index("  config.conf: ") + len("  config.conf: ")
    end = original.index("  kubeconfig.conf: ")
    quoted = original[:start] + json.dumps(embedded) + "\n" + original[end:]
    run = patch(cli, node, quoted, "--proxy-mode", "nftables")
    assert run.exit_code == 0, run.stderr
    line = run.stdout.splitlines()[run.stdout[:start].count("\n")]
    assert line.startswith('  config.conf: "apiVersion: kubeproxy.config.k8s.io/v1alpha1\\n')
    assert outside(run.stdout, "config.conf") == outside(quoted, "config.conf")
    assert proxy_config(run.stdout)["mode"] == "nftables"


def test_out_writes_the_configmap_and_names_the_next_command(cli, node, tmp_path) -> None:
    source = tmp_path / "kube-proxy.yaml"
    source.write_text(fixture("kube-proxy", VERSIONS[-1]))
    run = cli(
        "kubeadm-config",
        "--patch",
        str(source),
        "--proxy-mode",
        "nftables",
        "--out",
        str(source),
        "--json",
    )
    assert run.exit_code == 0, run.stderr
    data = run.envelope()["data"]
    assert data["action"] == "updated" and data["next"] == f"kubectl replace -f {source}"
    written = source.read_text()
    assert written.startswith("# Written by k8snode ") and "--proxy-mode nftables" in written.splitlines()[0]
    assert (
        written.split("\n", 1)[1]
        == cli(
            "kubeadm-config", "--patch", "-", "--proxy-mode", "nftables", stdin=fixture("kube-proxy", VERSIONS[-1])
        ).stdout
    )  # the header, then the same bytes as on standard output
    assert proxy_config(written)["mode"] == "nftables"
    assert (source.stat().st_mode & 0o777) == 0o644


def test_out_elsewhere_is_rewritten_by_the_next_run(cli, node, tmp_path) -> None:
    """The written file carries k8snode's header, so a run on a newer kubectl copy replaces it."""
    source = tmp_path / "kube-proxy.yaml"
    source.write_text(fixture("kube-proxy", VERSIONS[-1]))
    out = tmp_path / "kube-proxy-nftables.yaml"
    first = cli("kubeadm-config", "--patch", str(source), "--proxy-mode", "nftables", "--out", str(out), "--json")
    source.write_text(as_kubectl_prints(fixture("kube-proxy", VERSIONS[-1])))  # the ConfigMap read again later
    second = cli("kubeadm-config", "--patch", str(source), "--proxy-mode", "nftables", "--out", str(out), "--json")
    assert (first.exit_code, second.exit_code) == (0, 0), second.stdout
    assert second.envelope()["data"]["action"] == "updated"
    assert 'resourceVersion: "289"' in out.read_text()
    in_place = ["kubeadm-config", "--patch", str(out), "--proxy-mode", "nftables", "--out", str(out), "--json"]
    cli(*in_place)  # the header now names this command
    assert cli(*in_place).envelope()["changed"] is False  # its own output again: nothing left to change


@pytest.mark.parametrize("version", VERSIONS)
def test_the_kubeadm_config_configmap_holds_no_proxy_setting(cli, node, version) -> None:
    original = fixture("kubeadm-config", version)
    before = snapshot(node)
    run = patch(cli, node, original, "--proxy-mode", "nftables", "--json")
    assert run.exit_code == 0, run.stderr
    envelope = run.envelope()
    assert envelope["changed"] is False
    assert envelope["data"]["configmap"] == "kube-system/kubeadm-config"
    assert envelope["data"]["kubernetes_version"].startswith(version.rsplit(".", 1)[0])
    assert any("holds no kube-proxy setting" in w and "kube-proxy ConfigMap" in w for w in envelope["warnings"])
    assert snapshot(node) == before


def test_a_disabled_kube_proxy_is_said(cli, node) -> None:
    original = fixture("kubeadm-config", VERSIONS[-1]).replace("    proxy: {}\n", "    proxy:\n      disabled: true\n")
    run = patch(cli, node, original, "--proxy-mode", "nftables")
    assert run.exit_code == 0
    assert "proxy.disabled is true: kubeadm does not install kube-proxy" in run.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "say the mode it moves to with --proxy-mode"),
        (
            ["--proxy-mode", "nftables", "--advertise-address", "10.0.0.1"],
            "--advertise-address does not apply to the kube-proxy ConfigMap",
        ),
        (["--proxy-mode", "nftables", "--kubelet-config"], "--kubelet-config does not apply"),
        (["--proxy-mode", "nftables", "--kubernetes-version", "v1.28.0"], "needs Kubernetes 1.29 or later"),
        (["--proxy-mode", "nftables", "--ipvs-scheduler", "lc"], "need --proxy-mode ipvs"),
        (["--proxy-mode", "nftables", "--set", "KubeProxyConfiguration.nftables.syncPeriod=soon"], "syncPeriod"),
        (["--proxy-mode", "nftables", "--node-kernel", "5.10.0"], "kernel 5.13 or later"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, node, args, message) -> None:
    run = patch(cli, node, fixture("kube-proxy", VERSIONS[-1]), *args)
    assert run.exit_code == 2, (run.stdout, run.stderr)
    assert message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert run.stdout == ""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace("  name: kube-proxy\n", "  name: coredns\n"), "is the ConfigMap 'coredns'"),
        (lambda t: t.replace("  config.conf: |-", "  other.conf: |-"), "has no data.config.conf string"),
        (
            lambda t: t.replace("    kind: KubeProxyConfiguration\n", "    kind: KubeletConfiguration\n"),
            "must be one KubeProxyConfiguration",
        ),
        (lambda t: t + "---\n" + t, "holds 2 documents"),
    ],
)
def test_a_configmap_k8snode_cannot_edit_is_bad_input(cli, node, change, message) -> None:
    text = change(fixture("kube-proxy", VERSIONS[-1]))
    run = patch(cli, node, text, "--proxy-mode", "nftables")
    assert run.exit_code == 2, (run.stdout, run.stderr)
    assert message in run.stderr


def test_back_to_ipvs_keeps_the_ipvs_block(cli, node) -> None:
    """The rollback: the patched ConfigMap back to ipvs, with the settings given again."""
    forward = patch(cli, node, fixture("kube-proxy", VERSIONS[-1]), "--proxy-mode", "nftables")
    back = patch(
        cli,
        node,
        forward.stdout,
        "--proxy-mode",
        "ipvs",
        "--ipvs-scheduler",
        "rr",
        "--lb",
        "metallb",
        "--ipvs-sync-period",
        "30s",
    )
    assert back.exit_code == 0, back.stderr
    config = proxy_config(back.stdout)
    assert config["mode"] == "ipvs"
    assert config["ipvs"]["scheduler"] == "rr" and config["ipvs"]["strictARP"] is True
    assert config["ipvs"]["syncPeriod"] == "30s"


def test_an_ipvs_block_the_drops_leave_empty_goes(cli, node) -> None:
    """k8snode's own render sets only non-zero ipvs fields; once they are dropped, no `ipvs: {}` stays behind."""
    config = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nipvs:\n"
    config += "  scheduler: lc\n  strictARP: true\n  excludeCIDRs:\n  - 203.0.113.0/24\nhostnameOverride: node0\n"
    block = "".join(f"    {line}\n" for line in config.splitlines())
    configmap = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\ndata:\n  config.conf: |-\n{block}"
    run = patch(cli, node, configmap, "--proxy-mode", "nftables")
    assert run.exit_code == 0, run.stderr
    assert proxy_config(run.stdout) == {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "nftables",
        "hostnameOverride": "node0",
    }
    assert run.stderr.count("dropped KubeProxyConfiguration.ipvs.") == 3
