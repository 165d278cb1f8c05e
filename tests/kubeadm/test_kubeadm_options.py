"""kubeadm-config's options are declared once (k8snode/kubeadm/options.py); render and patch share their defaults."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import clitree
import pytest
from fakes import make_node, snapshot, write
from kubeadm_documents import documents
from where import FIXTURES

from k8snode.kubeadm.options import REDACTED, Options, flag_of


@pytest.fixture
def node(tmp_path: Path) -> Path:
    return make_node(tmp_path / "node")


def kubeadm_config_command():
    return clitree.command("kubeadm-config")


def test_every_options_field_is_one_cli_option_with_its_help():
    params = {param.name: param for param in kubeadm_config_command().params}
    for item in fields(Options):
        flag = flag_of(item.name)
        assert params[item.name].opts == [flag.name]
        assert params[item.name].help == flag.help
    assert set(params) - {item.name for item in fields(Options)} == {"force", "dry_run", "root", "json_output", "debug"}
    assert params["strict_arp"].secondary_opts == ["--no-strict-arp"]
    assert params["exclude_cidrs"].multiple and params["sets"].multiple


def test_the_canonical_command_line_follows_the_declaration_order_and_redacts_secrets():
    options = Options(
        out="/init.yaml",
        token="abcdef.0123456789abcdef",
        strict_arp=False,
        exclude_cidrs=("10.0.0.0/8", "172.16.0.0/12"),
        kubernetes_version="v1.36.3",
        migrate=True,
        patch="/old.yaml",
    )
    assert options.command_line() == (
        "k8snode kubeadm-config --kubernetes-version v1.36.3 --patch /old.yaml --migrate --no-strict-arp "
        f"--exclude-cidr 10.0.0.0/8 --exclude-cidr 172.16.0.0/12 --token {REDACTED} --out /init.yaml"
    )
    assert "abcdef" not in repr(options)


@pytest.mark.parametrize("patch", [False, True])
def test_lb_with_no_strict_arp_is_refused_by_render_and_patch_alike(cli, node, patch):
    write(node / "init.yaml", (FIXTURES / "init-defaults-v1.37.2.yaml").read_text())
    before = snapshot(node)
    source = ["--patch", "/init.yaml"] if patch else []
    run = cli(
        "kubeadm-config", *source, "--lb", "metallb", "--no-strict-arp", "--out", "/out.yaml", "--root", str(node)
    )
    assert (run.exit_code, run.stderr) == (
        2,
        "k8snode: error: --lb metallb in L2 mode under IPVS needs strictARP: drop --no-strict-arp\n",
    )
    assert snapshot(node) == before


def test_patch_with_kubelet_config_sets_what_a_rendered_kubelet_configuration_holds(cli, node):
    rendered = cli("kubeadm-config", "--kubelet-config", "--root", str(node))
    write(node / "init.yaml", (FIXTURES / "init-defaults-v1.37.2.yaml").read_text())
    patched = cli("kubeadm-config", "--patch", "/init.yaml", "--kubelet-config", "--root", str(node))
    assert rendered.exit_code == patched.exit_code == 0, rendered.stderr + patched.stderr
    template = documents(rendered.stdout)[-1]
    kubelet = next(d for d in documents(patched.stdout) if d["kind"] == "KubeletConfiguration")
    assert {key: kubelet[key] for key in template} == template
