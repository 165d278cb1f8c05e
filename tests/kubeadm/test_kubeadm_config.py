"""`k8snode kubeadm-config` against a fake node root (network and kernel under /proc), through the real CLI."""

from __future__ import annotations

import difflib
import io
import os
import re
import stat
from pathlib import Path
from typing import NoReturn

import pytest
from fakes import make_node, snapshot, write
from kubeadm_documents import V1BETA3, body, documents
from ruamel.yaml import YAML
from where import FIXTURES, GOLDEN

TOKEN = "k8sn0d.e2etest012345678"
OUT = "/etc/kubernetes/init-config.yaml"
TOKEN_FORM = re.compile(r"^[a-z0-9]{6}\.[a-z0-9]{16}$")


@pytest.fixture
def node(tmp_path: Path) -> Path:
    """A node whose primary address is 192.0.2.10 (default route via eth0) and whose kernel is 6.1."""
    return make_node(tmp_path / "node")


GOLDEN_CASES = {
    "v1beta4": ["--proxy-mode", "ipvs"],
    "v1beta4-full": [
        "--pod-subnet",
        "10.244.0.0/16,fd00:10:244::/56",
        "--service-subnet",
        "10.96.0.0/12,fd00:10:96::/112",
        "--lb",
        "metallb",
        "--ipvs-scheduler",
        "wrr",
        "--exclude-cidr",
        "10.0.0.0/8",
        "--exclude-cidr",
        "172.16.0.0/12",
        "--ipvs-sync-period",
        "30s",
        "--ipvs-min-sync-period",
        "2s",
        "--ipvs-tcp-timeout",
        "900s",
        "--ipvs-tcp-fin-timeout",
        "120s",
        "--ipvs-udp-timeout",
        "300s",
        "--control-plane-endpoint",
        "cp.example.net:6443",
        "--node-name",
        "cp-1",
        "--bind-port",
        "8443",
        "--cluster-name",
        "prod",
        "--image-repository",
        "registry.example.net/k8s",
        "--kubelet-config",
        "--set",
        "ClusterConfiguration.networking.dnsDomain=prod.local",
    ],
    "v1beta3": ["--kubernetes-version", "v1.30.14", "--pod-subnet", "10.244.0.0/16"],
    "v1alpha1": ["--kubernetes-version", "v1.10.0", "--pod-subnet", "10.244.0.0/16", "--kubelet-config"],
}


def update_golden(golden: Path, text: str) -> NoReturn:
    """Update mode: write the new output and fail, showing what changed, so the mode is never left on unnoticed."""
    old = golden.read_text() if golden.exists() else ""
    golden.write_text(text)
    changes = "".join(difflib.unified_diff(old.splitlines(True), text.splitlines(True), str(golden), "new output"))
    shown = changes or "(no change)"
    pytest.fail(f"K8SNODE_UPDATE_GOLDEN=1 rewrote {golden.name}; review and commit:\n{shown}", pytrace=False)


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_output_matches_the_golden_file_of_each_api_version(cli, node, name):
    run = cli("kubeadm-config", *GOLDEN_CASES[name], "--token", TOKEN, "--root", str(node))
    assert run.exit_code == 0, run.stderr
    golden = GOLDEN / f"kubeadm-config-{name}.yaml"
    if os.environ.get("K8SNODE_UPDATE_GOLDEN") == "1":
        update_golden(golden, run.stdout)
    assert run.stdout == golden.read_text()
    assert TOKEN not in run.stdout.splitlines()[0]


def test_default_is_v1beta4_with_ipvs_a_random_token_and_the_hosts_address(cli, node):
    first = cli("kubeadm-config", "--proxy-mode", "ipvs", "--root", str(node))
    second = cli("kubeadm-config", "--proxy-mode", "ipvs", "--root", str(node))
    assert first.exit_code == 0, first.stderr
    init, cluster, proxy = documents(first.stdout)
    assert [d["kind"] for d in (init, cluster, proxy)] == [
        "InitConfiguration",
        "ClusterConfiguration",
        "KubeProxyConfiguration",
    ]
    assert init["apiVersion"] == cluster["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    assert cluster["kubernetesVersion"] == "v1.37.2"
    assert proxy["mode"] == "ipvs"
    token = init["bootstrapTokens"][0]["token"]
    assert TOKEN_FORM.match(token) and token != "abcdef.0123456789abcdef"
    assert token != documents(second.stdout)[0]["bootstrapTokens"][0]["token"]
    assert init["localAPIEndpoint"] == {"advertiseAddress": "192.0.2.10", "bindPort": 6443}
    assert first.stdout.splitlines()[0] == "# Written by k8snode 0.1.0 (k8snode kubeadm-config --proxy-mode ipvs)"
    assert first.stderr == (
        "k8snode: warning: IPVS mode is deprecated since Kubernetes 1.35 (KEP-5495) and Kubernetes v1.37.2 warns "
        "about it; consider nftables mode (k8snode kubeadm-config --proxy-mode nftables)\n"
    )


def test_legacy_v1alpha1_shape_and_warning(cli, node):
    run = cli("kubeadm-config", "--kubernetes-version", "v1.10.0", "--root", str(node))
    assert run.exit_code == 0, run.stderr
    (master,) = documents(run.stdout)
    assert master["apiVersion"] == "kubeadm.k8s.io/v1alpha1" and master["kind"] == "MasterConfiguration"
    assert master["kubeProxy"] == {
        "config": {"featureGates": {"SupportIPVSProxyMode": True}, "mode": "ipvs", "ipvs": {"scheduler": "rr"}}
    }
    assert "kubeadm API v1alpha1 (MasterConfiguration) is read only by kubeadm 1.10 and older" in run.stderr


def test_before_1_10_the_kube_proxy_feature_gates_are_a_string(cli, node):
    run = cli("kubeadm-config", "--kubernetes-version", "v1.9.11", "--root", str(node))
    assert run.exit_code == 0, run.stderr
    (master,) = documents(run.stdout)
    assert master["kubeProxy"]["config"]["featureGates"] == "SupportIPVSProxyMode=true"
    write(node / "cfg.yaml", run.stdout)
    assert cli("validate", "/cfg.yaml", "--root", str(node)).exit_code == 0


def test_a_version_newer_than_known_renders_the_newest_api_and_warns(cli, node):
    run = cli("kubeadm-config", "--kubernetes-version", "v1.39.0", "--proxy-mode", "nftables", "--root", str(node))
    assert run.exit_code == 0, run.stderr
    assert documents(run.stdout)[0]["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    assert run.stderr == (
        "k8snode: warning: Kubernetes v1.39.0 is newer than the newest release k8snode knows (v1.37.2); "
        "rendering with the newest kubeadm API\n"
    )


def test_nftables_is_checked_against_the_hosts_kernel_by_default(cli, tmp_path):
    old = make_node(tmp_path / "old", kernel_release="5.4.0-150-generic")
    run = cli("kubeadm-config", "--proxy-mode", "nftables", "--root", str(old))
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr.endswith(
        "KubeProxyConfiguration.mode: nftables mode needs kernel 5.13 or later; the node runs 5.4.0-150-generic\n"
    )
    new = make_node(tmp_path / "new", kernel_release="6.8.0-48-generic")
    assert cli("kubeadm-config", "--proxy-mode", "nftables", "--root", str(new)).exit_code == 0


def test_lb_turns_on_strict_arp_and_says_so(cli, node):
    run = cli("kubeadm-config", "--lb", "kube-vip", "--root", str(node))
    assert documents(run.stdout)[2]["ipvs"]["strictARP"] is True
    assert "k8snode: warning: strictARP is on: kube-vip in L2 mode under IPVS needs it\n" in run.stderr


def test_set_takes_typed_values_checked_against_the_schema(cli, node):
    run = cli(
        "kubeadm-config",
        "--kubelet-config",
        "--root",
        str(node),
        "--set",
        "KubeProxyConfiguration.ipvs.syncPeriod=10s",
        "--set",
        "KubeletConfiguration.maxPods=250",
        "--set",
        "KubeProxyConfiguration.iptables.masqueradeAll=true",
        "--set",
        "ClusterConfiguration.apiServer.certSANs=a.example,b.example",
    )
    assert run.exit_code == 0, run.stderr
    _, cluster, proxy, kubelet = documents(run.stdout)
    assert proxy["ipvs"]["syncPeriod"] == "10s"
    assert proxy["iptables"] == {"masqueradeAll": True}
    assert kubelet == {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "cgroupDriver": "systemd",
        "staticPodPath": "/etc/kubernetes/manifests",
        "maxPods": 250,
    }
    assert cluster["apiServer"]["certSANs"] == ["a.example", "b.example"]


def test_set_writes_a_quoted_map_key_that_holds_dots(cli, node):
    run = cli(
        "kubeadm-config",
        "--kubelet-config",
        "--root",
        str(node),
        "--set",
        'KubeletConfiguration.evictionHard."memory.available"=200Mi',
        "--set",
        'KubeletConfiguration.evictionHard."nodefs.available"=10%',
        "--set",
        'KubeletConfiguration."maxPods"=110',
    )
    assert run.exit_code == 0, run.stderr
    kubelet = documents(run.stdout)[-1]
    assert kubelet["evictionHard"] == {"memory.available": "200Mi", "nodefs.available": "10%"}
    assert kubelet["maxPods"] == 110
    assert "--set 'KubeletConfiguration.evictionHard.\"memory.available\"=200Mi'" in run.stdout.splitlines()[0]


def test_the_help_of_set_shows_how_to_quote_a_key(cli):
    run = cli("kubeadm-config", "--help")
    assert 'quoteamapkeythatholdsdots:KubeletConfiguration.evictionHard."memory.available"=200Mi' in "".join(
        run.stdout.split()
    )


def test_the_advertise_address_is_never_the_placeholder_and_must_be_known(cli, tmp_path):
    bare = tmp_path / "bare"
    write(bare / "proc/sys/kernel/osrelease", "6.1.0\n")
    run = cli("kubeadm-config", "--root", str(bare))
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        "k8snode: error: cannot determine the host's primary IPv4 address from /proc/net/route and "
        "/proc/net/fib_trie; pass --advertise-address\n"
    )
    run = cli("kubeadm-config", "--root", str(bare), "--advertise-address", "1.2.3.4")
    assert run.exit_code == 2
    assert "1.2.3.4 is kubeadm's placeholder" in run.stderr


BAD_INPUT = {
    "version": (
        ["--kubernetes-version", "v1.15.3"],
        "Kubernetes v1.15.3 (1.11 to 1.21: kubeadm APIs v1alpha2 to "
        "v1beta2) is out of k8snode's scope; use v1.22 or later, or v1.8 to v1.10",
    ),
    "version-text": (
        ["--kubernetes-version", "latest"],
        "--kubernetes-version 'latest' is not a Kubernetes version; use the form v1.37.2",
    ),
    "cidr": (["--pod-subnet", "10.244.0.0/33"], "--pod-subnet: '10.244.0.0/33' is not a CIDR"),
    "cidr-host-bits": (["--service-subnet", "10.96.0.1/12"], "--service-subnet: '10.96.0.1/12' is not a CIDR"),
    "cidr-two-ipv4": (["--pod-subnet", "10.0.0.0/16,10.1.0.0/16"], "dual stack takes one IPv4 and one IPv6 CIDR"),
    "duration": (["--ipvs-sync-period", "10"], "--ipvs-sync-period: missing unit in duration '10'"),
    "token": (
        ["--token", "ABCDEF.0123456789abcdef"],
        "--token is not a bootstrap token; use the form [a-z0-9]{6}.[a-z0-9]{16}",
    ),
    "scheduler": (["--ipvs-scheduler", "roundrobin"], "unknown IPVS scheduler 'roundrobin'"),
    "set-path": (
        ["--set", "KubeProxyConfiguration.ipvs.syncPeriood=10s"],
        "--set "
        "'KubeProxyConfiguration.ipvs.syncPeriood=10s': KubeProxyConfiguration.ipvs has no field "
        "'syncPeriood'; did you mean syncPeriod?",
    ),
    "set-syntax": (["--set", "networking.podSubnet"], "use Kind.field.path=VALUE"),
    "set-quote-open": (
        ["--kubelet-config", "--set", 'KubeletConfiguration.evictionHard."memory.available=200Mi'],
        "the quote at character 35 is not closed; quote a map key that holds dots whole: "
        'KubeletConfiguration.evictionHard."memory.available"=200Mi',
    ),
    "set-quote-inside": (
        ["--kubelet-config", "--set", 'KubeletConfiguration.evictionHard.memory".available"=200Mi'],
        "a quoted key must be a whole, non-empty part of the path",
    ),
    "set-quote-empty": (
        ["--kubelet-config", "--set", 'KubeletConfiguration.evictionHard.""=200Mi'],
        "a quoted key must be a whole, non-empty part of the path",
    ),
    "set-dotted-key-unquoted": (
        ["--kubelet-config", "--set", "KubeletConfiguration.evictionHard.memory.available=200Mi"],
        "KubeletConfiguration.evictionHard.memory is a string, it has no field 'available'; quote a map key that "
        'holds dots whole: KubeletConfiguration.evictionHard."memory.available"=200Mi',
    ),
    "set-quoted-key-type": (
        ["--kubelet-config", "--set", 'KubeletConfiguration.evictionHard."memory.available".x=1'],
        "KubeletConfiguration.evictionHard.memory.available is a string, it has no field 'x'",
    ),
    "set-kind": (["--set", "KubeletConfiguration.maxPods=10"], "no KubeletConfiguration document"),
    "v1beta3-with-1.37": (
        ["--api-version", "v1beta3", "--kubernetes-version", "v1.37.0"],
        "--api-version v1beta3 does not work with Kubernetes v1.37.0: v1beta3 was removed in kubeadm 1.37 (PR #136016)",
    ),
    "v1beta4-with-1.30": (
        ["--api-version", "v1beta4", "--kubernetes-version", "v1.30.0"],
        "kubeadm reads v1beta4 from 1.31 on",
    ),
    "nftables-old-kernel": (
        ["--proxy-mode", "nftables", "--node-kernel", "5.10.0-32-amd64"],
        "nftables mode needs kernel 5.13 or later; the node runs 5.10.0-32-amd64",
    ),
    "ipvs-option-without-ipvs": (["--proxy-mode", "iptables", "--strict-arp"], "need --proxy-mode ipvs"),
    "strict-arp-on-1.10": (
        ["--kubernetes-version", "v1.10.0", "--strict-arp"],
        "line 21: MasterConfiguration.kubeProxy.config.ipvs.strictARP: unknown field",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_is_one_line_exit_2_and_writes_nothing(cli, node, case):
    args, message = BAD_INPUT[case]
    before = snapshot(node)
    run = cli("kubeadm-config", "--token", TOKEN, "--out", OUT, "--root", str(node), *args)  # the last --token wins
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("k8snode: error: ")
    assert message in run.stderr
    assert TOKEN not in run.stderr and TOKEN.split(".")[1] not in run.stderr
    assert snapshot(node) == before


def test_out_is_0600_whatever_the_umask_and_idempotent_reusing_the_token(cli, node):
    target = node / OUT.lstrip("/")
    old_umask = os.umask(0)
    try:
        first = cli("kubeadm-config", "--out", OUT, "--root", str(node), "--json")
    finally:
        os.umask(old_umask)
    assert first.exit_code == 0, first.stderr
    assert first.envelope()["data"]["action"] == "created" and first.envelope()["changed"] is True
    assert first.envelope()["data"]["next"] == f"kubeadm init --config {OUT}"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    content, mtime = target.read_bytes(), target.stat().st_mtime_ns
    second = cli("kubeadm-config", "--out", OUT, "--root", str(node), "--json")
    assert second.envelope()["changed"] is False and second.envelope()["data"]["action"] == "unchanged"
    assert target.read_bytes() == content and target.stat().st_mtime_ns == mtime
    target.chmod(0o644)  # others could read the token: it is replaced, not reused
    third = cli("kubeadm-config", "--out", OUT, "--root", str(node))
    assert third.exit_code == 0
    assert third.stdout.splitlines()[-2:] == [f"{OUT}: updated (mode 0600)", f"next: kubeadm init --config {OUT}"]
    assert "not reusing the bootstrap token" in third.stderr and "mode 0644" in third.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 and target.read_bytes() != content


def test_out_refuses_a_file_k8snode_did_not_write_but_patching_it_in_place_is_consent(cli, node):
    source = _install_fixture(node, "init-defaults-v1.36.3.yaml")
    target = node / source.lstrip("/")
    original = target.read_bytes()
    refused = cli("kubeadm-config", "--out", source, "--root", str(node))
    assert refused.exit_code == 3
    assert f"{source} exists and was not written by k8snode; pass --force to replace it" in refused.stderr
    assert target.read_bytes() == original
    patched = cli("kubeadm-config", "--patch", source, "--out", source, "--root", str(node), "--json")
    assert patched.exit_code == 0, patched.stderr
    assert patched.envelope()["data"]["action"] == "updated"
    assert target.read_text().startswith("# Written by k8snode")
    target.write_bytes(original)
    assert cli("kubeadm-config", "--out", source, "--force", "--root", str(node)).exit_code == 0


def test_json_never_holds_the_token(cli, node):
    for extra in (["--token", TOKEN], ["--token", TOKEN, "--out", OUT], ["--out", OUT]):
        run = cli("kubeadm-config", *extra, "--root", str(node), "--json", "--debug")
        assert run.exit_code == 0, run.stderr
        envelope = run.envelope()
        assert sorted(envelope["data"]) == sorted(
            ["path", "api_version", "kubernetes_version", "proxy_mode", "documents"]
            + (["action", "next"] if "--out" in extra else [])
        )
        assert envelope["data"]["documents"] == ["InitConfiguration", "ClusterConfiguration", "KubeProxyConfiguration"]
        token = (
            documents((node / OUT.lstrip("/")).read_text())[0]["bootstrapTokens"][0]["token"]
            if ("--out" in extra)
            else TOKEN
        )
        assert token not in run.stdout + run.stderr


def test_debug_tracebacks_do_not_show_the_token(cli, node):
    run = cli(
        "kubeadm-config",
        "--token",
        TOKEN,
        "--set",
        "KubeProxyConfiguration.ipvs.strictARP=maybe",
        "--debug",
        "--root",
        str(node),
    )
    assert run.exit_code == 2
    assert "Traceback (most recent call last)" in run.stderr
    assert run.stderr.splitlines()[-1] == (
        "k8snode: error: --set 'KubeProxyConfiguration.ipvs.strictARP=maybe': 'maybe' is not a bool value"
    )
    assert TOKEN not in run.stderr and TOKEN.split(".")[1] not in run.stderr


def test_dry_run_prints_a_redacted_diff_and_touches_nothing(cli, node):
    before = snapshot(node)
    run = cli("kubeadm-config", "--token", TOKEN, "--out", OUT, "--dry-run", "--root", str(node))
    assert run.exit_code == 0, run.stderr
    assert f"+++ b{OUT}" in run.stdout and "+- token: <redacted>" in run.stdout
    assert TOKEN not in run.stdout and run.stdout.splitlines()[-1] == f"{OUT}: would-create (mode 0600)"
    assert "next:" not in run.stdout
    assert snapshot(node) == before


def _install_fixture(node: Path, name: str, target: str = "/root/init.yaml") -> str:
    write(node / target.lstrip("/"), (FIXTURES / name).read_text())
    return target


def test_patch_of_real_init_defaults_keeps_comments_order_and_documents(cli, node):
    original = (FIXTURES / "init-defaults-v1.37.2.yaml").read_text()
    source = _install_fixture(node, "init-defaults-v1.37.2.yaml")
    commented = original.replace("  bindPort: 6443\n", "  bindPort: 6443  # the API server port\n", 1)
    write(node / source.lstrip("/"), commented)
    run = cli(
        "kubeadm-config",
        "--patch",
        source,
        "--pod-subnet",
        "10.244.0.0/16",
        "--lb",
        "metallb",
        "--node-name",
        "cp-1",
        "--root",
        str(node),
    )
    assert run.exit_code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == (
        "# Written by k8snode 0.1.0 (k8snode kubeadm-config --patch /root/init.yaml --lb metallb --node-name cp-1 "
        "--pod-subnet 10.244.0.0/16)"
    )
    assert lines[1] == original.splitlines()[0]  # the fixture's origin comment
    assert "  bindPort: 6443  # the API server port" in lines
    init, cluster, proxy, kubelet = documents(run.stdout)
    assert list(init) == [k for k in documents(original)[0]]  # key order kept
    token = init["bootstrapTokens"][0]["token"]
    assert TOKEN_FORM.match(token) and token != "abcdef.0123456789abcdef"
    assert init["localAPIEndpoint"]["advertiseAddress"] == "192.0.2.10"
    assert init["nodeRegistration"]["name"] == "cp-1"
    assert cluster["networking"]["podSubnet"] == proxy["clusterCIDR"] == "10.244.0.0/16"
    assert (proxy["mode"], proxy["ipvs"]["strictARP"]) == ("ipvs", True)
    assert kubelet == documents(original)[3]
    assert run.stderr.splitlines() == [
        "k8snode: warning: strictARP is on: metallb in L2 mode under IPVS needs it",
        "k8snode: warning: replaced the placeholder bootstrap token abcdef.0123456789abcdef with a fresh one",
        "k8snode: warning: replaced the placeholder advertise address 1.2.3.4 with 192.0.2.10",
        "k8snode: warning: KubeProxyConfiguration.mode iptables becomes ipvs, k8snode's default; "
        "pass --proxy-mode iptables to keep it",
        "k8snode: warning: --patch /root/init.yaml targets Kubernetes v1.37.0 (its kubernetesVersion 1.37.0), not "
        "v1.37.2; pass --kubernetes-version to target another release",
        "k8snode: warning: IPVS mode is deprecated since Kubernetes 1.35 (KEP-5495) and Kubernetes v1.37.0 warns "
        "about it; consider nftables mode (k8snode kubeadm-config --proxy-mode nftables)",
    ]
    changed = [
        (a, b) for a, b in zip(original.splitlines(), lines[1:], strict=False) if a != b
    ]  # line-for-line until the first inserted line
    assert changed[0] == ("  token: abcdef.0123456789abcdef", f"  token: {token}")


def test_patching_twice_is_a_no_op(cli, node):
    source = _install_fixture(node, "init-defaults-v1.36.3.yaml")
    args = ["kubeadm-config", "--patch", source, "--proxy-mode", "ipvs", "--out", OUT, "--root", str(node), "--json"]
    first = cli(*args)
    assert first.envelope()["data"]["action"] == "created", first.stderr
    target = node / OUT.lstrip("/")
    content, mtime = target.read_bytes(), target.stat().st_mtime_ns
    second = cli(*args)
    assert second.envelope()["changed"] is False
    assert target.read_bytes() == content and target.stat().st_mtime_ns == mtime
    again = cli("kubeadm-config", "--patch", OUT, "--proxy-mode", "ipvs", "--root", str(node))
    assert body(again.stdout) == body(content.decode())
    assert "replaced the placeholder" not in again.stderr


def test_patch_keeps_the_files_own_indentation(cli, node):
    hand_written = """\
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
bootstrapTokens:
    - token: k8sn0d.e2etest012345678
      usages:
          - signing
          - authentication
localAPIEndpoint:
    advertiseAddress: 192.0.2.10
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
apiServer:
    certSANs:
        - cp.example.net
"""
    write(node / "root/init.yaml", hand_written)
    run = cli("kubeadm-config", "--patch", "/root/init.yaml", "--root", str(node))
    assert run.exit_code == 0, run.stderr
    assert body(run.stdout).startswith(hand_written)
    assert body(run.stdout)[len(hand_written) :] == (
        "---\napiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nipvs:\n"
        "    scheduler: rr\n    strictARP: false\n"
    )


def test_patch_inserts_a_missing_kube_proxy_document(cli, node):
    text = (FIXTURES / "init-defaults-v1.37.2.yaml").read_text().split("\n---\napiVersion: kubeproxy")[0] + "\n"
    write(node / "root/init.yaml", text)
    run = cli("kubeadm-config", "--patch", "/root/init.yaml", "--proxy-mode", "nftables", "--root", str(node))
    assert run.exit_code == 0, run.stderr
    proxy = documents(run.stdout)[-1]
    assert proxy == {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "nftables",
    }


def test_patch_with_an_unknown_field_is_bad_input(cli, node):
    text = (FIXTURES / "init-defaults-v1.37.2.yaml").read_text().replace("  dnsDomain:", "  dnsDomian:")
    write(node / "root/init.yaml", text)
    before = snapshot(node)
    run = cli("kubeadm-config", "--patch", "/root/init.yaml", "--out", OUT, "--root", str(node))
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr.startswith("k8snode: error: the configuration does not validate: line 46: ")
    assert "ClusterConfiguration.networking.dnsDomian: unknown field; did you mean dnsDomain?" in run.stderr
    assert snapshot(node) == before


def test_v1beta3_for_1_37_needs_migrate_and_converts_to_v1beta4(cli, node):
    write(node / "root/old.yaml", V1BETA3)
    refused = cli("kubeadm-config", "--patch", "/root/old.yaml", "--root", str(node))
    assert refused.exit_code == 2
    assert refused.stderr == (
        "k8snode: error: /root/old.yaml uses kubeadm.k8s.io/v1beta3, which kubeadm v1.37.0 no longer reads "
        "(v1beta3 was removed in kubeadm 1.37 (PR #136016)); add --migrate to convert it to v1beta4\n"
    )
    run = cli("kubeadm-config", "--patch", "/root/old.yaml", "--migrate", "--root", str(node))
    assert run.exit_code == 0, run.stderr
    init, cluster, proxy = documents(run.stdout)
    assert init["apiVersion"] == cluster["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    assert init["nodeRegistration"]["kubeletExtraArgs"] == [{"name": "node-labels", "value": "role=cp"}]
    assert init["timeouts"] == {"controlPlaneComponentHealthCheck": "6m0s"}
    assert cluster["apiServer"] == {
        "extraArgs": [{"name": "audit-log-maxage", "value": "30"}, {"name": "profiling", "value": "false"}]
    }
    assert cluster["etcd"]["local"]["extraArgs"] == [{"name": "quota-backend-bytes", "value": "8589934592"}]
    assert proxy["mode"] == "ipvs"
    assert run.stdout.splitlines()[1] == "# cluster config kept by hand"
    assert run.stderr.splitlines()[0] == (
        "k8snode: warning: migrated kubeadm.k8s.io/v1beta3 to v1beta4: "
        "InitConfiguration.nodeRegistration.kubeletExtraArgs: map -> list of {name, value}; "
        "ClusterConfiguration.apiServer.extraArgs: map -> list of {name, value}; "
        "ClusterConfiguration.etcd.local.extraArgs: map -> list of {name, value}; "
        "ClusterConfiguration.apiServer.timeoutForControlPlane -> "
        "InitConfiguration.timeouts.controlPlaneComponentHealthCheck"
    )
    write(node / "root/new.yaml", run.stdout)
    assert cli("validate", "/root/new.yaml", "--root", str(node)).exit_code == 0


@pytest.mark.parametrize(
    ("extra", "named_by"),
    [((), "its kubernetesVersion"), (("--kubernetes-version", "v1.30.0"), "--kubernetes-version")],
)
def test_migrate_of_a_file_for_1_30_names_its_release_and_the_version_to_give(cli, node, extra, named_by):
    write(node / "root/old.yaml", V1BETA3.replace("kubernetesVersion: v1.37.0", "kubernetesVersion: v1.30.0"))
    before = snapshot(node)
    run = cli("kubeadm-config", "--patch", "/root/old.yaml", "--migrate", *extra, "--root", str(node))
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        "k8snode: error: --migrate converts /root/old.yaml to kubeadm.k8s.io/v1beta4, which kubeadm reads from 1.31 "
        f"on, but the file is for Kubernetes v1.30.0 ({named_by}); add --kubernetes-version v1.31 or later "
        "(such as v1.37.2) to migrate it\n"
    )
    assert snapshot(node) == before
    migrated = cli("kubeadm-config", "--patch", "/root/old.yaml", "--migrate", "--kubernetes-version", "v1.31.0",
                   "--root", str(node))  # fmt: skip
    assert migrated.exit_code == 0, migrated.stderr


def test_migrate_moves_timeouts_into_init_and_join_as_kubeadm_config_migrate_does(cli, node):
    join = """\
---
apiVersion: kubeadm.k8s.io/v1beta3
kind: JoinConfiguration
discovery:
  timeout: 7m0s
  bootstrapToken:
    token: k8sn0d.e2etest012345678
    apiServerEndpoint: 192.0.2.10:6443
    unsafeSkipCAVerification: true
"""
    write(node / "root/old.yaml", V1BETA3 + join)
    run = cli("kubeadm-config", "--patch", "/root/old.yaml", "--migrate", "--root", str(node))
    assert run.exit_code == 0, run.stderr
    init, _, joined, _ = documents(run.stdout)
    assert init["timeouts"] == {"controlPlaneComponentHealthCheck": "6m0s"}
    assert joined["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    assert joined["timeouts"] == {"controlPlaneComponentHealthCheck": "6m0s", "discovery": "7m0s"}
    assert "timeout" not in joined["discovery"]


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_output_round_trips_through_ruamel_and_validate(cli, node, name):
    out = cli("kubeadm-config", *GOLDEN_CASES[name], "--out", OUT, "--root", str(node))
    assert out.exit_code == 0, out.stderr
    text = (node / OUT.lstrip("/")).read_text()
    rt = YAML()
    stream = io.StringIO()
    rt.dump_all(list(rt.load_all(text)), stream)
    assert stream.getvalue() == text
    version = GOLDEN_CASES[name][1] if GOLDEN_CASES[name][0] == "--kubernetes-version" else "v1.37.2"
    run = cli("validate", OUT, "--kubernetes-version", version, "--root", str(node), "--json")
    assert run.exit_code == 0, run.stdout
    assert run.envelope()["data"]["problems"] == []


def test_the_console_script_renders_the_done_when_command(k8snode, node):
    run = k8snode("kubeadm-config", "--proxy-mode", "ipvs", "--root", str(node))
    assert run.exit_code == 0, run.stderr
    assert [d["kind"] for d in documents(run.stdout)] == [
        "InitConfiguration",
        "ClusterConfiguration",
        "KubeProxyConfiguration",
    ]


def test_migrate_without_patch_is_bad_input(cli, node):
    before = snapshot(node)
    run = cli("kubeadm-config", "--migrate", "--out", OUT, "--root", str(node))
    assert (run.exit_code, run.stderr) == (
        2,
        "k8snode: error: --migrate converts a file given with --patch; add --patch FILE\n",
    )
    assert snapshot(node) == before


def test_patch_refuses_a_v1alpha1_file_and_says_to_render_it(cli, node):
    rendered = cli("kubeadm-config", "--kubernetes-version", "v1.10.0", "--root", str(node))
    write(node / "root/old.yaml", rendered.stdout)
    before = snapshot(node)
    run = cli("kubeadm-config", "--patch", "/root/old.yaml", "--kubernetes-version", "v1.10.0", "--root", str(node))
    assert run.exit_code == 2
    assert run.stderr.endswith(
        "k8snode: error: --patch works on v1beta3 and v1beta4 files; /root/old.yaml is v1alpha1: "
        "render it without --patch\n"
    )
    assert snapshot(node) == before


@pytest.mark.parametrize("lb", ["metallb", "kube-vip"])
@pytest.mark.parametrize("patch", [False, True], ids=["render", "patch"])
def test_lb_with_no_strict_arp_is_bad_input_in_render_and_patch(cli, node, lb, patch):
    """L2 load balancers under IPVS need strictARP: the two options contradict each other, whichever path runs."""
    write(node / "root/init.yaml", cli("kubeadm-config", "--token", TOKEN, "--root", str(node)).stdout)
    before = snapshot(node)
    source = ["--patch", "/root/init.yaml"] if patch else []
    run = cli("kubeadm-config", *source, "--lb", lb, "--no-strict-arp", "--out", OUT, "--root", str(node))
    assert (run.exit_code, run.stderr) == (
        2,
        f"k8snode: error: --lb {lb} in L2 mode under IPVS needs strictARP: drop --no-strict-arp\n",
    )
    assert snapshot(node) == before


def test_the_default_route_with_the_lowest_metric_names_the_primary_address(cli, tmp_path):
    """Two default routes (a second uplink with a worse metric, listed first): the lower metric wins."""
    node = make_node(tmp_path / "node", address="192.0.2.10")
    header, via_eth0, eth0_subnet = (node / "proc/net/route").read_text().splitlines()
    # wlan0: 198.51.100.20/24, default route via 198.51.100.1 with metric 600 (the kernel prints it in decimal).
    via_wlan0 = "wlan0\t00000000\t016433C6\t0003\t0\t0\t600\t00000000\t0\t0\t0"
    wlan0_subnet = "wlan0\t006433C6\t00000000\t0001\t0\t0\t600\t00FFFFFF\t0\t0\t0"
    via_eth0 = via_eth0.replace("\t0\t0\t0\t00000000", "\t0\t0\t100\t00000000")
    rows = [header, via_wlan0, wlan0_subnet, via_eth0, eth0_subnet]
    write(node / "proc/net/route", "\n".join(rows) + "\n")
    trie = (node / "proc/net/fib_trie").read_text()
    trie += "     +-- 198.51.100.0/24 2 0 2\n        |-- 198.51.100.20\n           /32 host LOCAL\n"
    write(node / "proc/net/fib_trie", trie)
    run = cli("kubeadm-config", "--token", TOKEN, "--root", str(node))
    assert run.exit_code == 0, run.stderr
    assert documents(run.stdout)[0]["localAPIEndpoint"]["advertiseAddress"] == "192.0.2.10"
    # With the metrics swapped, wlan0's address is the primary one.
    write(node / "proc/net/route", "\n".join(rows).replace("\t600\t", "\t50\t") + "\n")
    run = cli("kubeadm-config", "--token", TOKEN, "--root", str(node))
    assert documents(run.stdout)[0]["localAPIEndpoint"]["advertiseAddress"] == "198.51.100.20"


# --swap keep: the KubeletConfiguration of a node that keeps swap on (node/swap.py kubelet_keep_swap)

KEEP_SWAP = {"failSwapOn": False, "memorySwap": {"swapBehavior": "NoSwap"}}


@pytest.mark.parametrize(
    ("version", "fields"),
    [("v1.37.2", KEEP_SWAP), ("v1.30.14", KEEP_SWAP), ("v1.29.15", {"failSwapOn": False})],
)
def test_swap_keep_adds_the_kubelet_fields_of_the_release(cli, node, version, fields):
    argv = ["kubeadm-config", "--kubelet-config", "--swap", "keep", "--kubernetes-version", version, "--json"]
    run = cli(*argv, "--out", OUT, "--root", str(node))
    assert run.exit_code == 0, run.stderr
    text = (node / OUT.lstrip("/")).read_text()
    kubelet = documents(text)[-1]
    assert kubelet["kind"] == "KubeletConfiguration"
    assert {key: kubelet[key] for key in ("failSwapOn", "memorySwap") if key in kubelet} == fields
    assert "--kubelet-config --swap keep" in text.splitlines()[0]
    swap_notes = [w for w in run.envelope()["warnings"] if "memorySwap" in w]
    assert len(swap_notes) == (0 if "memorySwap" in fields else 1)


def test_swap_keep_in_v1alpha1_goes_into_the_kubelet_base_config(cli, node):
    run = cli(
        "kubeadm-config", "--kubelet-config", "--swap", "keep", "--kubernetes-version", "v1.10.13", "--root", str(node)
    )
    assert run.exit_code == 0, run.stderr
    (master, *_) = documents(run.stdout)
    assert master["kubeletConfiguration"]["baseConfig"]["failSwapOn"] is False
    assert "memorySwap" not in master["kubeletConfiguration"]["baseConfig"]


def test_swap_keep_patches_only_its_fields_and_set_still_wins(cli, node):
    source = _install_fixture(node, "init-defaults-v1.37.2.yaml")
    original = documents((node / source.lstrip("/")).read_text())[-1]
    assert original["memorySwap"] == {} and "failSwapOn" not in original
    run = cli("kubeadm-config", "--patch", source, "--kubelet-config", "--swap", "keep", "--root", str(node))
    assert run.exit_code == 0, run.stderr
    patched = documents(run.stdout)[-1]
    assert (patched["failSwapOn"], patched["memorySwap"]) == (False, {"swapBehavior": "NoSwap"})
    assert {k: v for k, v in patched.items() if k not in KEEP_SWAP} == {
        k: v for k, v in original.items() if k not in KEEP_SWAP
    }
    limited = "KubeletConfiguration.memorySwap.swapBehavior=LimitedSwap"
    run = cli(
        "kubeadm-config", "--patch", source, "--kubelet-config", "--swap", "keep", "--set", limited, "--root", str(node)
    )
    assert run.exit_code == 0, run.stderr
    assert documents(run.stdout)[-1]["memorySwap"] == {"swapBehavior": "LimitedSwap"}


def test_swap_keep_without_a_kubelet_configuration_is_bad_input(cli, node):
    before = snapshot(node)
    run = cli("kubeadm-config", "--swap", "keep", "--out", OUT, "--root", str(node))
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == "k8snode: error: --swap keep sets fields of the KubeletConfiguration: add --kubelet-config\n"
    assert snapshot(node) == before
    plain = ("kubeadm-config", "--kubelet-config", "--token", TOKEN, "--root", str(node))
    assert cli(*plain, "--swap", "off").stdout == cli(*plain).stdout  # off is the default: nothing added


def test_patching_printed_defaults_says_which_release_the_file_targets(cli, node):
    """Issue 26: `--print-defaults | kubeadm-config --patch -` kept kubernetesVersion 1.37.0 while the default target
    is v1.37.2, and said nothing. The file's version stays the target, and a warning names it."""
    defaults = cli("kubeadm-config", "--print-defaults")
    assert defaults.exit_code == 0, defaults.stderr
    run = cli("kubeadm-config", "--patch", "-", "--root", str(node), "--json", stdin=defaults.stdout)
    assert run.exit_code == 0, run.stderr
    envelope = run.envelope()
    assert envelope["data"]["kubernetes_version"] == "v1.37.0"
    note = (
        "--patch - targets Kubernetes v1.37.0 (its kubernetesVersion 1.37.0), not v1.37.2; "
        "pass --kubernetes-version to target another release"
    )
    assert note in envelope["warnings"]
    plain = cli("kubeadm-config", "--patch", "-", "--root", str(node), stdin=defaults.stdout)
    assert f"k8snode: warning: {note}\n" in plain.stderr
    assert "kubernetesVersion: 1.37.0\n" in plain.stdout
    chosen = cli("kubeadm-config", "--patch", "-", "--kubernetes-version", "v1.37.2", "--root", str(node),
                 stdin=defaults.stdout)  # fmt: skip
    assert chosen.exit_code == 0 and "targets Kubernetes" not in chosen.stderr
    assert "kubernetesVersion: v1.37.2\n" in chosen.stdout
