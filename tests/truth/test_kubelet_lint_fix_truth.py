"""`kubelet-flags lint --fix` output, checked by the real kubelet code of every built release: the rewritten flags
parse without a deprecation warning, and the merged KubeletConfiguration loads with the release's codecs."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from kubelet_node import fixable_node

from k8snode.core.system import System
from k8snode.kubelet.sources import node_command_lines

pytestmark = pytest.mark.truth


def test_fixed_flags_parse_cleanly_and_the_config_loads(
    truth_version: str, truth_command: Callable[[str, str], Path], cli, tmp_path: Path
) -> None:
    k8s_truth = truth_command(truth_version, "kubelet-config")
    fixable_node(tmp_path)
    argv = ["kubelet-flags", "lint", "--root", str(tmp_path), "--kubernetes-version", truth_version, "--fix", "--force"]
    run = cli(*argv, "--json")
    assert run.exit_code == 0, run.stdout + run.stderr
    # deprecated flags without a KubeletConfiguration field stay, and --fix names them
    left = {entry.split(": ")[1] for entry in run.envelope()["data"]["not_fixed"]}
    (line,) = node_command_lines(System(tmp_path))
    args = [word.text for word in line.words]
    assert "--config=/var/lib/kubelet/config.yaml" in args
    parsed = subprocess.run(
        [str(k8s_truth), "kubelet-parse"], input=json.dumps(args) + "\n", capture_output=True, text=True, check=True
    )
    result = json.loads(parsed.stdout)
    assert result["error"] == "", result
    assert {warning.split()[1] for warning in result["warnings"]} == left
    config = tmp_path / "var/lib/kubelet/config.yaml"
    loaded = subprocess.run([str(k8s_truth), "kubelet-config", str(config)], capture_output=True, text=True, check=True)
    assert json.loads(loaded.stdout)["ok"], loaded.stdout
    assert "strict decoding error" not in loaded.stderr, loaded.stderr
