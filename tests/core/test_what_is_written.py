"""What the file says must be what was asked: the header cannot be broken out of, string values stay
strings, and validate refuses what kubeadm refuses."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fakes import make_node, write
from ruamel.yaml import YAML

OUT = "/etc/kubernetes/init-config.yaml"


@pytest.fixture
def node(tmp_path: Path) -> Path:
    return make_node(tmp_path / "node")


def test_the_header_escapes_what_would_end_its_line():
    from k8snode.core.files import header

    line = header("k8snode kubeadm-config --image-repository 'a\u2028kind: x\nb\x01\u0085\u2029'")
    assert "\n" not in line and "\u2028" not in line and "\x01" not in line and "\u0085" not in line
    assert line.splitlines() == [line]
    assert "a\\u2028kind: x\\nb\\x01\\x85\\u2029" in line


@pytest.mark.parametrize("character", ["\n", "\x01", "\u0085", "\u2028", "\u2029"])
@pytest.mark.parametrize("option", ["--image-repository", "--cluster-name", "--control-plane-endpoint"])
def test_a_value_with_a_line_break_or_control_character_is_refused(cli, node, option, character):
    run = cli("kubeadm-config", option, f"x{character}kind: Injected", "--out", OUT, "--root", str(node))
    assert run.exit_code == 2 and "values must not hold control characters" in run.stderr
    assert run.stderr.count("\n") == 1 and not (node / OUT.lstrip("/")).exists()


def test_set_values_with_a_line_separator_are_refused(cli, node):
    run = cli("kubeadm-config", "--set", "ClusterConfiguration.clusterName=a\u2028b", "--root", str(node))
    assert run.exit_code == 2 and "--set holds the character '\\u2028'" in run.stderr


def test_shell_special_values_are_quoted_in_the_header(cli, node):
    run = cli("kubeadm-config", "--image-repository", "reg.example/a b", "--out", OUT, "--root", str(node))
    assert run.exit_code == 0, run.stderr
    header = (node / OUT.lstrip("/")).read_text().splitlines()[0]
    assert "--image-repository 'reg.example/a b'" in header


@pytest.mark.parametrize("value", ["yes", "on", "off", "y", "n", "No", "~", "null", "0x1f", "1:20"])
def test_string_values_that_look_like_other_types_stay_strings(cli, node, value):
    for extra in ([], ["--patch", "/etc/kubernetes/base.yaml"]):
        if extra:
            assert cli("kubeadm-config", "--out", "/etc/kubernetes/base.yaml", "--root", str(node)).exit_code == 0
        run = cli("kubeadm-config", "--cluster-name", value, "--node-name", "y", *extra, "--root", str(node))
        assert run.exit_code == 0, run.stderr
        documents = list(YAML(typ="safe", pure=True).load_all(io.StringIO(run.stdout)))
        yaml11 = YAML(typ="safe", pure=True)
        yaml11.version = (1, 1)
        documents11 = list(yaml11.load_all(io.StringIO(run.stdout)))
        for loaded in (documents, documents11):
            cluster = next(d for d in loaded if d and d.get("kind") == "ClusterConfiguration")
            init = next(d for d in loaded if d and d.get("kind") == "InitConfiguration")
            assert cluster["clusterName"] == value and init["nodeRegistration"]["name"] == "y"


def test_validate_refuses_integers_beyond_64_bits(cli, tmp_path):
    write(
        tmp_path / "cfg.yaml",
        f"apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\noomScoreAdj: {2**63}\n",
    )
    run = cli("validate", "/cfg.yaml", "--root", str(tmp_path))
    assert run.exit_code == 1 and "is out of range" in run.stdout


@pytest.mark.parametrize(
    "line",
    ["kubernetesVersion: v1.\u0663\u0663.0", 'kubernetesVersion: "v1.33.0\\n"'],
    ids=["non-ASCII digits", "trailing newline"],
)
def test_validate_refuses_versions_kubeadm_refuses(cli, tmp_path, line):
    write(tmp_path / "cfg.yaml", f"apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n{line}\n")
    run = cli("validate", "/cfg.yaml", "--root", str(tmp_path))
    assert run.exit_code == 1 and "is not a Kubernetes version" in run.stdout


def test_validate_refuses_a_node_name_with_a_trailing_newline(cli, tmp_path):
    write(
        tmp_path / "cfg.yaml",
        'apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nnodeRegistration:\n  name: "node-1\\n"\n',
    )
    run = cli("validate", "/cfg.yaml", "--root", str(tmp_path))
    assert run.exit_code == 1 and "nodeRegistration.name" in run.stdout
