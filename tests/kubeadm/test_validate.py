"""`k8snode validate FILE`: schema-driven, strict, with checks across documents."""

from __future__ import annotations

import pytest
from fakes import snapshot, write
from where import FIXTURES, GOLDEN

INIT = """\
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
bootstrapTokens:
- token: k8sn0d.e2etest012345678
localAPIEndpoint:
  advertiseAddress: 192.0.2.10
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
networking:
  podSubnet: 10.244.0.0/16
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: ipvs
clusterCIDR: 10.244.0.0/16
ipvs:
  strictARP: true
"""


@pytest.fixture
def check(cli, tmp_path):
    """check(text, *options) -> Run of `k8snode validate` on ``text`` written to /cfg.yaml under a root."""
    root = tmp_path / "root"
    root.mkdir()

    def run(text: str, *options: str):
        write(root / "cfg.yaml", text)
        return cli("validate", "/cfg.yaml", "--root", str(root), *options)

    return run


@pytest.mark.parametrize("golden", sorted(p.name for p in GOLDEN.glob("kubeadm-config-*.yaml")))
def test_the_golden_files_are_valid(check, golden):
    run = check((GOLDEN / golden).read_text(), "--json")
    assert run.exit_code == 0, run.stdout
    assert run.envelope()["data"]["problems"] == []


@pytest.mark.parametrize("fixture", ["init-defaults-v1.36.3.yaml", "init-defaults-v1.37.2.yaml"])
def test_real_init_defaults_are_valid_but_the_placeholders_are_flagged(check, fixture):
    run = check((FIXTURES / fixture).read_text(), "--json")
    assert run.exit_code == 0, run.stdout
    assert run.envelope()["warnings"] == [
        "InitConfiguration.bootstrapTokens[0].token is the well-known placeholder token; replace it",
        "InitConfiguration.localAPIEndpoint.advertiseAddress is the placeholder 1.2.3.4; set the host's address",
    ]


def test_envelope_of_a_valid_file(check):
    run = check(INIT, "--kubernetes-version", "v1.34.1", "--json")
    assert run.exit_code == 0
    assert run.envelope() == {
        "schema": 1,
        "command": "validate",
        "ok": True,
        "changed": False,
        "data": {
            "path": "/cfg.yaml",
            "kubernetes_version": "v1.34.1",
            "documents": ["InitConfiguration", "ClusterConfiguration", "KubeProxyConfiguration"],
            "problems": [],
        },
        "warnings": [],
        "error": None,
    }


PROBLEMS = {
    "service-subnet-too-large": (
        INIT.replace("  podSubnet:", "  serviceSubnet: 10.96.0.0/12,fd00:10:96::/64\n  podSubnet:"),
        [],
        "line 11: ClusterConfiguration.networking.serviceSubnet: fd00:10:96::/64 is too large for services: kubeadm "
        "and kube-apiserver take a mask of at least /108 for IPv6",
    ),
    "node-name": (
        INIT.replace("localAPIEndpoint:", "nodeRegistration:\n  name: CP_1\nlocalAPIEndpoint:"),
        [],
        "line 6: InitConfiguration.nodeRegistration.name: 'CP_1' is not a valid node name: use letters, digits, "
        "'-' and '.' (a DNS-1123 subdomain)",
    ),
    "unknown-field": (
        INIT.replace("  podSubnet:", "  podSubnt:"),
        [],
        "line 11: ClusterConfiguration.networking.podSubnt: unknown field; did you mean podSubnet?",
    ),
    "unknown-top-level": (
        INIT.replace("mode: ipvs", "mdoe: ipvs"),
        [],
        "line 15: KubeProxyConfiguration.mdoe: unknown field; did you mean mode?",
    ),
    "type-bool": (INIT.replace("strictARP: true", "strictARP: 1"), [], "expected true or false, got the int 1"),
    "type-string": (INIT.replace("podSubnet: 10.244.0.0/16", "podSubnet: 12"), [], "expected a string"),
    "duration": (
        INIT + "  syncPeriod: 30\n",
        [],
        "line 19: KubeProxyConfiguration.ipvs.syncPeriod: expected a Go duration string such as 30s, got the int 30",
    ),
    "duration-unit": (INIT + "  syncPeriod: 30sec\n", [], "unknown unit 'sec' in duration '30sec'"),
    "cidr": (
        INIT.replace("podSubnet: 10.244.0.0/16", "podSubnet: 10.244.0.0/8"),
        [],
        "line 11: ClusterConfiguration.networking.podSubnet: '10.244.0.0/8' is not a CIDR",
    ),
    "proxy-mode": (
        INIT.replace("mode: ipvs", "mode: kernelspace"),
        [],
        "line 15: KubeProxyConfiguration.mode: "
        "'kernelspace' is not a Linux proxy mode (iptables, ipvs, nftables); kernelspace is for Windows",
    ),
    "scheduler": (INIT + "  scheduler: fastest\n", [], "'fastest' is not an IPVS scheduler kube-proxy v1.37.2 accepts"),
    "scheduler-before-1.27": (
        INIT.replace("kubeadm.k8s.io/v1beta4", "kubeadm.k8s.io/v1beta3") + "  scheduler: mh\n",
        ["--kubernetes-version", "v1.26.3"],
        "'mh' is not an IPVS scheduler kube-proxy v1.26.3 accepts; use one of rr wrr lc wlc lblc lblcr sh dh sed nq",
    ),
    "token": (
        INIT.replace("k8sn0d.e2etest012345678", "short.token"),
        [],
        "line 4: InitConfiguration.bootstrapTokens"
        "[0].token: is not a bootstrap token of the form [a-z0-9]{6}.[a-z0-9]{16}",
    ),
    "v1beta3-on-1.37": (
        INIT.replace("kubeadm.k8s.io/v1beta4", "kubeadm.k8s.io/v1beta3"),
        [],
        "line 1: InitConfiguration.apiVersion: kubeadm.k8s.io/v1beta3 does not work with Kubernetes "
        "v1.37.2: v1beta3 was removed in kubeadm 1.37 (PR #136016); convert it with: k8snode "
        "kubeadm-config --patch FILE --migrate",
    ),
    "v1beta4-on-1.30": (
        INIT,
        ["--kubernetes-version", "v1.30.2"],
        "kubeadm.k8s.io/v1beta4 does not work with Kubernetes v1.30.2: kubeadm reads it from 1.31 on",
    ),
    "unknown-kind": (
        INIT.replace("kind: ClusterConfiguration", "kind: ClusterConfig"),
        [],
        "ClusterConfig: kind ClusterConfig (kubeadm.k8s.io/v1beta4) is not one k8snode knows; did you "
        "mean ClusterConfiguration?",
    ),
    "unknown-api-for-kind": (
        INIT.replace("kubeproxy.config.k8s.io/v1alpha1", "kubeproxy.config.k8s.io/v1alpha2"),
        [],
        "apiVersion kubeproxy.config.k8s.io/v1alpha2 is not one k8snode knows for "
        "KubeProxyConfiguration; use kubeproxy.config.k8s.io/v1alpha1",
    ),
    "cluster-cidr": (
        INIT.replace("clusterCIDR: 10.244.0.0/16", "clusterCIDR: 10.32.0.0/16"),
        [],
        "line 16: KubeProxyConfiguration.clusterCIDR: 10.32.0.0/16 does not agree with "
        "networking.podSubnet 10.244.0.0/16",
    ),
    "strict-arp-with-lb": (
        INIT.replace("strictARP: true", "strictARP: false"),
        ["--lb", "metallb"],
        "line 18: KubeProxyConfiguration.ipvs.strictARP: metallb in L2 mode under IPVS needs strictARP: true",
    ),
    "nftables-old-kernel": (
        INIT.replace("mode: ipvs", "mode: nftables"),
        ["--node-kernel", "5.4.0-150-generic"],
        "line 15: KubeProxyConfiguration.mode: nftables mode needs kernel 5.13 or later; the node "
        "runs 5.4.0-150-generic",
    ),
    "mixed-kubeadm-apis": (
        INIT.replace("kubeadm.k8s.io/v1beta4\nkind: Cluster", "kubeadm.k8s.io/v1beta3\nkind: Cluster"),
        ["--kubernetes-version", "v1.33.0"],
        "apiVersion: mixes kubeadm APIs kubeadm.k8s.io/v1beta3, kubeadm.k8s.io/v1beta4",
    ),
    "v1alpha1-ipvs-without-gate": (
        (GOLDEN / "kubeadm-config-v1alpha1.yaml")
        .read_text()
        .replace("      SupportIPVSProxyMode: true\n", "      SupportIPVSProxyMode: false\n"),
        [],
        "MasterConfiguration.kubeProxy.config.featureGates: ipvs mode before 1.11 needs the feature gate "
        "SupportIPVSProxyMode (1.10: featureGates: {SupportIPVSProxyMode: true}; 1.8-1.9: featureGates: "
        "SupportIPVSProxyMode=true)",
    ),
}


@pytest.mark.parametrize("case", sorted(PROBLEMS))
def test_each_problem_is_reported_with_its_yaml_path_and_exit_1(check, case):
    text, options, problem = PROBLEMS[case]
    run = check(text, *options, "--json")
    assert run.exit_code == 1, run.stdout
    problems = run.envelope()["data"]["problems"]
    assert any(problem in reported for reported in problems), problems


def test_kubeadm_kinds_without_a_schema_are_reported_not_rejected(check):
    run = check(INIT + "---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ResetConfiguration\nforce: true\n", "--json")
    assert run.exit_code == 0
    assert run.envelope()["warnings"][0] == (
        "ResetConfiguration (kubeadm.k8s.io/v1beta4) is not checked: k8snode has no schema for it"
    )


def test_human_output_lists_problems_and_a_summary(check):
    run = check(INIT.replace("  podSubnet:", "  podSubnt:"))
    assert run.exit_code == 1
    assert run.stdout == (
        "line 11: ClusterConfiguration.networking.podSubnt: unknown field; did you mean podSubnet?\n"
        "/cfg.yaml: 1 problem(s)\n"
    )


def test_ipvs_from_1_35_warns_and_suggests_nftables(check):
    old = check(INIT, "--kubernetes-version", "v1.34.0", "--json")
    new = check(INIT, "--kubernetes-version", "v1.35.0", "--json")
    assert old.envelope()["warnings"] == []
    assert new.exit_code == 0
    assert new.envelope()["warnings"] == [
        "IPVS mode is deprecated since Kubernetes 1.35 (KEP-5495) and Kubernetes v1.35.0 warns about it; "
        "consider nftables mode (k8snode kubeadm-config --proxy-mode nftables)"
    ]


KUBELET = """\
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
clusterDomain: cluster.local
clusterDNS:
- 10.96.0.10
"""


def test_kubelet_values_that_disagree_with_networking_warn_as_kubeadm_does(check):
    agrees = check(INIT + KUBELET, "--kubernetes-version", "v1.34.0", "--json")
    differs = check(
        INIT.replace(
            "  podSubnet:", "  dnsDomain: cluster.example\n  serviceSubnet: 10.100.0.0/16,fd00::/112\n  podSubnet:"
        )
        + KUBELET,
        "--kubernetes-version",
        "v1.34.0",
        "--json",
    )
    assert agrees.envelope()["warnings"] == []
    assert differs.exit_code == 0
    assert differs.envelope()["warnings"] == [
        "KubeletConfiguration.clusterDomain cluster.local differs from ClusterConfiguration.networking.dnsDomain "
        "cluster.example; kubeadm warns about it, and pods get names under cluster.local",
        "KubeletConfiguration.clusterDNS 10.96.0.10 differs from 10.100.0.10, the DNS address kubeadm derives from "
        "networking.serviceSubnet; kubeadm warns about it",
    ]


def test_yaml_1_1_booleans_read_as_go_reads_them(check):
    run = check(
        INIT.replace("strictARP: true", "strictARP: yes"), "--lb", "kube-vip", "--kubernetes-version", "v1.34.0"
    )
    assert run.exit_code == 0, run.stdout


def test_a_bad_kubernetes_version_in_the_file_is_a_problem_and_labels_are_accepted(check):
    bad = check(INIT.replace("networking:", "kubernetesVersion: one-point-thirty\nnetworking:"), "--json")
    assert bad.exit_code == 1
    assert bad.envelope()["data"]["problems"] == [
        "line 10: ClusterConfiguration.kubernetesVersion: 'one-point-thirty' is not a Kubernetes version"
    ]
    label = check(INIT.replace("networking:", "kubernetesVersion: stable-1\nnetworking:"), "--json")
    assert label.exit_code == 0 and label.envelope()["data"]["kubernetes_version"] == "v1.37.2"


def test_the_target_version_comes_from_the_file_when_not_given(check):
    text = INIT.replace("networking:", "kubernetesVersion: v1.33.4\nnetworking:")
    run = check(text, "--json")
    assert run.envelope()["data"]["kubernetes_version"] == "v1.33.4"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "k8snode: error: /cfg.yaml does not exist; give a kubeadm configuration file\n"),
        (
            "a: [1, 2\n",
            "k8snode: error: /cfg.yaml is not valid YAML at line 2: expected ',' or ']', but got '<stream end>'\n",
        ),
        (
            "a: 1\n\x00\x01binary",
            "k8snode: error: /cfg.yaml is not a text file: it holds the control character 0x00 at character 5; "
            "give a YAML kubeadm configuration\n",
        ),
    ],
)
def test_unreadable_input_is_exit_2(cli, tmp_path, text, message):
    if text is not None:
        write(tmp_path / "cfg.yaml", text)
    run = cli("validate", "/cfg.yaml", "--root", str(tmp_path))
    assert (run.exit_code, run.stdout, run.stderr) == (2, "", message)


@pytest.mark.parametrize("command", [("validate", "/etc"), ("kubeadm-config", "--patch", "/etc")])
def test_a_directory_given_as_the_file_is_exit_2(cli, tmp_path, command):
    (tmp_path / "etc").mkdir()
    run = cli(*command, "--root", str(tmp_path))
    named = " ".join(command[1:])
    assert (run.exit_code, run.stdout, run.stderr) == (2, "", f"k8snode: error: {named} is a directory; give a file\n")


def _alias_bomb() -> str:
    lines = ["apiVersion: kubeadm.k8s.io/v1beta4", "kind: ClusterConfiguration", "apiServer:"]
    lines.append('  certSANs: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]')
    lines += [f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    return "\n".join([*lines, "dns:", "  imageTag: *a8", ""])


HOSTILE = {
    "alias bomb": (_alias_bomb(), 2, "expands to more than 100000 values through YAML aliases"),
    "50 MB": ("kind: ClusterConfiguration\nclusterName: " + "x" * (50 << 20) + "\n", 2, "at most 1 MiB"),
    "binary junk": (bytes(range(256)).decode("latin-1") * 40, 2, "is not a text file"),
    "duplicate keys": (
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nclusterName: a\nclusterName: b\n",
        2,
        "is not valid YAML",
    ),
    "tabs": (
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nnetworking:\n\tpodSubnet: 10.0.0.0/16\n",
        2,
        "is not valid YAML",
    ),
    "not a mapping": ("- 1\n- 2\n", 1, "document 1: is not a mapping"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_files_are_refused_in_one_line_and_change_nothing(cli, tmp_path, case):
    text, code, message = HOSTILE[case]
    target = tmp_path / "etc/hostile.yaml"
    target.parent.mkdir(parents=True)
    target.write_text(text, encoding="latin-1" if case == "binary junk" else "utf-8")
    before = snapshot(tmp_path)
    run = cli("validate", "/etc/hostile.yaml", "--root", str(tmp_path))
    assert run.exit_code == code, run.stderr[:300]
    assert message in run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    if code == 2:
        assert run.stderr.count("\n") == 1
        patched = cli(
            "kubeadm-config",
            "--patch",
            "/etc/hostile.yaml",
            "--advertise-address",
            "192.0.2.1",
            "--root",
            str(tmp_path),
        )
        assert patched.exit_code == 2 and message in patched.stderr and patched.stderr.count("\n") == 1
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n# nothing\n---\n"])
def test_an_empty_or_comment_only_file_is_not_a_kubeadm_configuration(check, text):
    run = check(text, "--json")
    assert run.exit_code == 1
    assert run.envelope()["data"]["problems"] == [
        "file: holds no YAML document (empty, or only comments): a kubeadm configuration needs at least an "
        "InitConfiguration or ClusterConfiguration"
    ]


def test_problems_are_listed_in_file_order(check):
    text = """\
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
bootstrapTokens:
- token: not-a-token
localAPIEndpoint:
  advertiseAddres: 192.0.2.10
"""
    run = check(text, "--json")
    assert run.exit_code == 1
    assert [problem.split(":")[0] for problem in run.envelope()["data"]["problems"]] == ["line 4", "line 6"]


V1BETA3_LEADING_ZERO = """\
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
kubernetesVersion: v1.030.0
"""


def test_a_version_with_a_leading_zero_is_a_bad_version_not_a_removed_api(check):
    """Issue 26: validate's own regex took v1.030.0, the parser refused it, and the file was checked against v1.37.2
    ("v1beta3 was removed in kubeadm 1.37"). There is one parser: the version is the problem, and the fix is named."""
    run = check(V1BETA3_LEADING_ZERO, "--json")
    assert run.exit_code == 1, run.stdout
    assert run.envelope()["data"]["problems"] == [
        "line 3: ClusterConfiguration.kubernetesVersion: 'v1.030.0' is not a Kubernetes version: 030 has a leading "
        "zero, which Kubernetes versions never have; use v1.30.0"
    ]


def test_kubeadm_config_refuses_to_patch_a_file_with_a_bad_version(cli, tmp_path):
    root = tmp_path / "root"
    write(root / "old.yaml", V1BETA3_LEADING_ZERO)
    run = cli("kubeadm-config", "--patch", "/old.yaml", "--advertise-address", "192.0.2.10", "--root", str(root))
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        "k8snode: error: --patch /old.yaml: kubernetesVersion 'v1.030.0' is not a Kubernetes version: 030 has a "
        "leading zero, which Kubernetes versions never have; use v1.30.0; correct it or give --kubernetes-version\n"
    )


HOST_ONLY = INIT.replace("192.0.2.10", "198.51.100.77").replace("  strictARP: true\n", "  strictARP: true\nbogus: 1\n")
"""The host's own file: its address and an unknown field show which file was read."""


@pytest.fixture
def linked_root(tmp_path):
    """A root whose /cfg.yaml is an absolute link and whose /conf is a link to a directory, both to host paths; the
    host file there holds HOST_ONLY, and the root holds INIT at the same path."""
    host_dir = tmp_path / "host"
    write(host_dir / "cfg.yaml", HOST_ONLY)
    root = tmp_path / "root"
    write(root / str(host_dir).lstrip("/") / "cfg.yaml", INIT)
    (root / "cfg.yaml").symlink_to(host_dir / "cfg.yaml")
    (root / "conf").symlink_to(host_dir)
    return root


PATCH = ("kubeadm-config", "--patch")


@pytest.mark.parametrize("command", [("validate",), PATCH])
def test_an_absolute_path_is_read_inside_the_root_through_a_link(cli, linked_root, command):
    run = cli(*command, "/cfg.yaml", "--root", str(linked_root), "--kubernetes-version", "v1.34.1")
    assert run.exit_code == 0, run.stderr
    assert "198.51.100.77" not in run.stdout
    if command == PATCH:
        assert "advertiseAddress: 192.0.2.10" in run.stdout  # the root's file, patched


@pytest.mark.parametrize("command", [("validate",), PATCH])
def test_an_absolute_path_through_a_directory_link_out_of_the_root_is_refused(cli, linked_root, command):
    run = cli(*command, "/conf/cfg.yaml", "--root", str(linked_root), "--kubernetes-version", "v1.34.1")
    assert (run.exit_code, run.stdout) == (3, "")
    assert "/conf leads outside --root" in run.stderr


def test_a_relative_path_is_the_operators_own_file_links_and_all(cli, linked_root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.yaml").symlink_to(tmp_path / "host/cfg.yaml")
    run = cli("validate", "mine.yaml", "--root", str(linked_root), "--kubernetes-version", "v1.34.1", "--json")
    assert run.exit_code == 1  # the host's file, through the operator's link
    assert run.envelope()["data"]["path"] == str(tmp_path / "mine.yaml")
    assert run.envelope()["data"]["problems"] == ["line 19: KubeProxyConfiguration.bogus: unknown field"]
