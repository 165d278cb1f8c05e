"""`--swap keep` output, loaded by the real kubelet code of every built release: the KubeletConfiguration that
`kubelet-flags --swap keep` writes loads with the release's codecs (strictly: a misspelt field would be an error),
and its flags parse without an error. kubeadm's view of `kubeadm-config --swap keep` is in test_validation_matrix."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from k8snode.core.releases import parse_release
from k8snode.node.swap import SWAP_BEHAVIOR_SINCE

pytestmark = pytest.mark.truth


def test_the_swap_keep_kubelet_configuration_loads_and_its_flags_parse(
    truth_version: str, truth_command: Callable[[str, str], Path], cli, tmp_path: Path
) -> None:
    k8s_truth = truth_command(truth_version, "kubelet-config")
    out = "/var/lib/kubelet/config.yaml"
    run = cli(
        "kubelet-flags", "--swap", "keep", "--kubernetes-version", truth_version, "--out", out, "--root", str(tmp_path)
    )
    assert run.exit_code == 0, run.stderr
    config = tmp_path / out.lstrip("/")
    text = config.read_text()
    assert "failSwapOn: false" in text
    assert ("swapBehavior: NoSwap" in text) == (parse_release(truth_version).minor_version >= SWAP_BEHAVIOR_SINCE)
    loaded = subprocess.run([str(k8s_truth), "kubelet-config", str(config)], capture_output=True, text=True, check=True)
    assert json.loads(loaded.stdout)["ok"], loaded.stdout
    assert "strict decoding error" not in loaded.stderr, loaded.stderr

    run = cli("kubelet-flags", "--swap", "keep", "--kubernetes-version", truth_version, "--format", "flags", "--json")
    words = run.envelope()["data"]["flags"]
    assert "--fail-swap-on=false" in words
    parsed = subprocess.run(
        [str(k8s_truth), "kubelet-parse"], input=json.dumps(words) + "\n", capture_output=True, text=True, check=True
    )
    result = json.loads(parsed.stdout)
    assert result["error"] == "", result
    assert result["set"]["fail-swap-on"] == "false"
