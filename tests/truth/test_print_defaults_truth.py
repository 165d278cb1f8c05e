"""`k8snode kubeadm-config --print-defaults` against the real `kubeadm config print init-defaults` of each release."""

from __future__ import annotations

import subprocess

import pytest

pytestmark = pytest.mark.truth


@pytest.mark.parametrize(
    "component_configs",
    [None, "KubeProxyConfiguration", "KubeletConfiguration", "KubeProxyConfiguration,KubeletConfiguration"],
)
def test_print_defaults_is_what_that_kubeadm_prints(truth_bin, truth_version, cli, component_configs):
    selection = ["--component-configs", component_configs] if component_configs else []
    real = subprocess.run(
        [str(truth_bin(truth_version) / "kubeadm"), "config", "print", "init-defaults", *selection],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    ours = cli("kubeadm-config", "--print-defaults", "--kubernetes-version", truth_version, *selection)
    assert ours.exit_code == 0, ours.stderr
    assert ours.stdout.partition("\n")[2] == real.stdout
