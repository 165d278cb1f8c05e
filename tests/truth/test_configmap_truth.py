"""The kube-proxy ConfigMap k8snode patches to nftables mode is a KubeProxyConfiguration the real kubeadm reads.

For each release, the ConfigMaps that release's kubeadm wrote (tests/fixtures/kubeadm, tools/k8s-truth/
gen_configmaps.py) are patched with `k8snode kubeadm-config --patch - --proxy-mode nftables`, and the patched
data.config.conf, after the ClusterConfiguration of the kubeadm-config ConfigMap, goes through that kubeadm's
`kubeadm config validate`, which decodes the component config strictly (an unknown or mistyped field fails it).
"""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

pytestmark = pytest.mark.truth

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures/kubeadm"


def data_value(name: str, version: str, key: str, text: str | None = None) -> str:
    source = text if text is not None else (FIXTURES / f"configmap-{name}-{version}.yaml").read_text()
    return YAML(typ="safe", pure=True).load(io.StringIO(source))["data"][key]


def test_the_patched_kube_proxy_configuration_passes_that_kubeadms_validation(truth_bin, truth_version, cli, tmp_path):
    original = (FIXTURES / f"configmap-kube-proxy-{truth_version}.yaml").read_text()
    run = cli(
        "kubeadm-config", "--patch", "-", "--proxy-mode", "nftables", "--kubernetes-version", truth_version,
        "--node-kernel", "6.1.0-28-amd64", stdin=original,
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    proxy = data_value("kube-proxy", truth_version, "config.conf", run.stdout)
    assert "\nmode: nftables\n" in proxy + "\n"
    config = tmp_path / "config.yaml"
    config.write_text(data_value("kubeadm-config", truth_version, "ClusterConfiguration") + "---\n" + proxy + "\n")
    kubeadm = truth_bin(truth_version) / "kubeadm"
    done = subprocess.run(
        [str(kubeadm), "config", "validate", "--config", str(config)], capture_output=True, text=True, timeout=120
    )
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr
