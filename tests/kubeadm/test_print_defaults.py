"""`k8snode kubeadm-config --print-defaults`: kubeadm's init defaults of a release, from package data."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubeadm_documents import documents

from k8snode.core.resources import package_file
from k8snode.kubeadm.defaults import DEFAULTS_DIR, available


def test_the_default_release_prints_init_and_cluster_configuration(cli):
    run = cli("kubeadm-config", "--print-defaults")
    assert (run.exit_code, run.stderr) == (0, "")
    newest = str(available()[0])
    assert run.stdout.splitlines()[0] == (
        f"# kubeadm config print init-defaults (kubeadm {newest}, as recorded by k8snode)"
    )
    init, cluster = documents(run.stdout)
    assert (init["kind"], cluster["kind"]) == ("InitConfiguration", "ClusterConfiguration")
    assert init["bootstrapTokens"][0]["token"] == "abcdef.0123456789abcdef"


@pytest.mark.parametrize(
    "kinds",
    [["KubeProxyConfiguration"], ["KubeletConfiguration"], ["KubeletConfiguration", "KubeProxyConfiguration"]],
)
def test_component_configs_come_in_the_order_asked_as_kubeadm_prints_them(cli, kinds):
    run = cli("kubeadm-config", "--print-defaults", "--component-configs", ",".join(kinds), "--json")
    assert run.exit_code == 0, run.stderr
    data = run.envelope()["data"]
    assert data["documents"] == ["InitConfiguration", "ClusterConfiguration", *kinds]
    assert [d["kind"] for d in documents(data["text"])] == data["documents"]


def test_every_recorded_release_is_valid_for_k8snode_and_names_its_source(cli, tmp_path):
    for path in sorted(Path(str(package_file(*DEFAULTS_DIR))).glob("v*.yaml")):  # the checkout's directory
        run = cli("kubeadm-config", "--print-defaults", "--kubernetes-version", path.stem,
                  "--component-configs", "KubeProxyConfiguration,KubeletConfiguration")  # fmt: skip
        assert run.exit_code == 0, run.stderr
        assert f"(kubeadm {path.stem}, as recorded by k8snode)" in run.stdout.splitlines()[0]
        assert run.stdout.partition("\n")[2] == path.read_text().partition("\n")[2]
        check = cli("validate", "-", "--kubernetes-version", path.stem, stdin=run.stdout)
        assert check.exit_code == 0, check.stdout


def test_another_patch_release_of_a_recorded_minor_says_whose_defaults_these_are(cli):
    newest = available()[0]
    other = f"v{newest.major}.{newest.minor}.0" if newest.patch else f"v{newest.major}.{newest.minor}.1"
    run = cli("kubeadm-config", "--print-defaults", "--kubernetes-version", other)
    assert run.exit_code == 0
    assert run.stderr == (
        f"k8snode: warning: these are the defaults of kubeadm {newest}, the release k8snode has for {other}\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--kubernetes-version", "v1.33.4"],
            "k8snode has kubeadm's defaults for {releases}, not for Kubernetes v1.33.4; give --kubernetes-version of "
            "one of those minor releases",
        ),
        (
            ["--component-configs", "KubeProxyConfiguration,Foo"],
            "--component-configs 'KubeProxyConfiguration,Foo': use a comma-separated list of KubeProxyConfiguration "
            "and KubeletConfiguration, each once",
        ),
        (["--out", "/tmp/x.yaml"], "--print-defaults takes only --kubernetes-version and --component-configs"),
        (["--proxy-mode", "ipvs"], "--print-defaults takes only --kubernetes-version and --component-configs"),
    ],
)
def test_bad_input_is_exit_2(cli, args, message):
    run = cli("kubeadm-config", "--print-defaults", *args)
    releases = ", ".join(map(str, available()))
    assert (run.exit_code, run.stdout, run.stderr) == (2, "", f"k8snode: error: {message.format(releases=releases)}\n")


def test_component_configs_without_print_defaults_is_exit_2(cli):
    run = cli("kubeadm-config", "--component-configs", "KubeletConfiguration")
    assert (run.exit_code, run.stderr) == (2, "k8snode: error: --component-configs goes with --print-defaults\n")
