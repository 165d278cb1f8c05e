"""nodeRegistration as kubeadm reads it: a CRI socket without URL scheme, and a node name in upper case."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import make_node, write
from kubeadm_documents import documents

INIT = """\
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  criSocket: {socket}
  name: {name}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
"""
JOIN = """\
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: 192.0.2.10:6443
    token: k8sn0d.e2etest012345678
    unsafeSkipCAVerification: true
nodeRegistration:
  criSocket: {socket}
  name: {name}
"""


NFTABLES = ("--proxy-mode", "nftables")  # no IPVS deprecation warning beside the one a test expects


@pytest.fixture
def node(tmp_path: Path) -> Path:
    return make_node(tmp_path / "node")


def registration(run) -> dict:
    assert run.exit_code == 0, run.stderr
    return next(d for d in documents(run.stdout) if d["kind"] == "InitConfiguration")["nodeRegistration"]


def test_a_cri_socket_without_scheme_is_written_with_unix_and_a_note(cli, node):
    run = cli(
        "kubeadm-config", *NFTABLES, "--cri-socket", "/run/containerd/containerd.sock", "--root", str(node), "--json"
    )
    assert run.exit_code == 0, run.stderr
    assert run.envelope()["warnings"] == [
        "--cri-socket /run/containerd/containerd.sock: written as unix:///run/containerd/containerd.sock; kubeadm "
        "deprecates CRI endpoints without URL scheme and prepends unix:// itself"
    ]
    plain = cli("kubeadm-config", *NFTABLES, "--cri-socket", "/run/containerd/containerd.sock", "--root", str(node))
    assert registration(plain)["criSocket"] == "unix:///run/containerd/containerd.sock"


def test_a_cri_socket_with_scheme_is_written_as_given(cli, node):
    run = cli("kubeadm-config", *NFTABLES, "--cri-socket", "unix:///run/crio/crio.sock", "--root", str(node))
    assert registration(run)["criSocket"] == "unix:///run/crio/crio.sock"
    assert "URL scheme" not in run.stderr


@pytest.mark.parametrize("template", [INIT, JOIN], ids=["init", "join"])
def test_validate_warns_about_a_cri_socket_without_scheme_as_kubeadm_does(cli, tmp_path, template):
    write(tmp_path / "cfg.yaml", template.format(socket="/run/containerd/containerd.sock", name="node1"))
    run = cli("validate", "/cfg.yaml", "--root", str(tmp_path), "--json")
    assert run.exit_code == 0, run.stdout
    kind = "InitConfiguration" if template is INIT else "JoinConfiguration"
    assert run.envelope()["warnings"] == [
        f"{kind}.nodeRegistration.criSocket '/run/containerd/containerd.sock': usage of CRI endpoints without URL "
        "scheme is deprecated and can cause kubelet errors in the future (kubeadm prepends unix:// and warns); write "
        "'unix:///run/containerd/containerd.sock'"
    ]


def test_an_upper_case_node_name_is_written_as_given_with_the_name_it_registers_under(cli, node):
    run = cli("kubeadm-config", *NFTABLES, "--node-name", "Node1", "--root", str(node), "--json")
    assert run.exit_code == 0, run.stderr
    assert run.envelope()["warnings"] == [
        "InitConfiguration.nodeRegistration.name 'Node1': kubeadm lowercases the node name, so the node registers "
        "as 'node1' (system:node:node1)"
    ]
    assert (
        registration(cli("kubeadm-config", *NFTABLES, "--node-name", "Node1", "--root", str(node)))["name"] == "Node1"
    )


@pytest.mark.parametrize("template", [INIT, JOIN], ids=["init", "join"])
def test_validate_accepts_an_upper_case_node_name_with_a_warning(cli, tmp_path, template):
    write(tmp_path / "cfg.yaml", template.format(socket="unix:///run/containerd/containerd.sock", name="Node1"))
    run = cli("validate", "/cfg.yaml", "--root", str(tmp_path), "--json")
    assert run.exit_code == 0, run.stdout
    assert run.envelope()["data"]["problems"] == []
    assert [w for w in run.envelope()["warnings"] if "registers as 'node1'" in w]


@pytest.mark.parametrize("name", ["Node_1", "NODE-", "Nöde1"])
def test_a_node_name_that_is_no_dns_subdomain_even_lowercased_is_still_refused(cli, node, name):
    run = cli("kubeadm-config", *NFTABLES, "--node-name", name, "--root", str(node))
    assert run.exit_code == 2
    assert f"{name!r} is not a valid node name" in run.stderr
