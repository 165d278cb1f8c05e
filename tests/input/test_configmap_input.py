"""`kubeadm-config --patch CONFIGMAP` on ConfigMaps shaped otherwise than kubectl prints them: exit 2 with one line,
or a patched ConfigMap that kubectl can read; never "internal error", never a dangling alias."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fakes import make_node
from ruamel.yaml import YAML
from where import FIXTURES

KUBE_PROXY = (FIXTURES / "configmap-kube-proxy-v1.37.2.yaml").read_text().split("\n", 1)[1]
SMALL = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n"
    "  config.conf: {value}\n"
)


@pytest.fixture
def node(tmp_path: Path) -> Path:
    return make_node(tmp_path / "node")


def patch(cli, node: Path, text: str):
    return cli("kubeadm-config", "--patch", "-", "--proxy-mode", "nftables", "--root", str(node), stdin=text)


def configmap(text: str) -> dict:
    """The ConfigMap as kubectl reads it: one document, every alias defined."""
    documents = [d for d in YAML(typ="safe", pure=True).load_all(io.StringIO(text)) if d is not None]
    assert len(documents) == 1
    return documents[0]


@pytest.mark.parametrize(
    "data",
    ["data: [config.conf, x]", "data: null", "data:", "data: 5", "data:\n  config.conf: [a]", "data:\n  - a: b"],
)
def test_a_data_that_is_not_a_mapping_of_strings_is_exit_2(cli, node, data):
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n" + data + "\n"
    run = patch(cli, node, text)
    assert (run.exit_code, run.stdout) == (2, ""), run.stderr
    assert (
        run.stderr
        == "k8snode: error: --patch standard input: the kube-proxy ConfigMap has no data.config.conf string to edit\n"
    )


@pytest.mark.parametrize("extra", ["---\n", "---\n...\n", "--- null\n", "---\n# only a comment\n"])
def test_an_extra_empty_document_is_read_past(cli, node, extra):
    for text in (KUBE_PROXY + extra, extra + "---\n" + KUBE_PROXY):
        run = patch(cli, node, text)
        assert run.exit_code == 0, run.stderr
        assert "mode: nftables" in configmap(run.stdout)["data"]["config.conf"]


@pytest.mark.parametrize(
    "text",
    [
        KUBE_PROXY.replace("  config.conf: |-", "  config.conf: &proxy |-") + "  copy: *proxy\n",
        KUBE_PROXY.replace("  config.conf: |-", "  config.conf: &proxy |-"),
        KUBE_PROXY.replace("apiVersion: v1\n", "apiVersion: &v v1\n", 1).replace(
            "  config.conf: |-", "  config.conf: *v\n  other: |-"
        ),
        KUBE_PROXY.replace("data:\n", "base: &base\n  config.conf: x\ndata:\n  <<: *base\n", 1).replace(
            "  config.conf: |-", "  other: |-"
        ),
    ],
    ids=["anchor and alias", "anchor alone", "config.conf is an alias", "merged"],
)
def test_an_anchor_or_alias_on_the_edited_value_is_exit_2(cli, node, text):
    """The anchor sits inside the span that is replaced: keeping the rest would leave `*proxy` undefined."""
    run = patch(cli, node, text)
    assert (run.exit_code, run.stdout) == (2, ""), run.stderr
    assert run.stderr.count("\n") == 1
    assert "data.config.conf carries the YAML anchor &" in run.stderr or "through a YAML merge key" in run.stderr


def test_an_anchor_elsewhere_stays_and_the_output_is_self_contained(cli, node):
    text = KUBE_PROXY.replace("apiVersion: v1\n", "apiVersion: &v v1\n", 1) + "  owner: *v\n"  # under metadata
    run = patch(cli, node, text)
    assert run.exit_code == 0, run.stderr
    assert configmap(run.stdout)["metadata"]["owner"] == "v1"


def test_a_folded_value_is_read_as_yaml_means_it(cli, node):
    """ruamel.yaml's composer marks folds with \\a until the value is built: no control character of the file."""
    folded = (
        ">\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n\n    kind: KubeProxyConfiguration\n\n    mode: ipvs\n"
    )
    run = patch(cli, node, SMALL.format(value=folded) + "  other: kept\n")
    assert run.exit_code == 0, run.stderr
    data = configmap(run.stdout)["data"]
    assert data == {
        "config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\n",
        "other": "kept",
    }
