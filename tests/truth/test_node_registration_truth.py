"""nodeRegistration as the real kubeadm of each release reads it: a criSocket without URL scheme (kubeadm prepends
unix:// and warns) and an upper-case node name (kubeadm lowercases it); k8snode says the same."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from fakes import make_node

pytestmark = pytest.mark.truth

BARE_SOCKET = "/run/containerd/containerd.sock"
KUBEADM_WARNING = "Usage of CRI endpoints without URL scheme is deprecated"


def _validate(kubeadm_dir: Path, config: Path) -> subprocess.CompletedProcess[str]:
    command = [str(kubeadm_dir / "kubeadm"), "config", "validate", "--config", str(config)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_kubeadm_and_k8snode_agree_on_a_bare_cri_socket_and_an_upper_case_name(
    truth_version: str, truth_bin: Callable[[str], Path], cli, tmp_path: Path
) -> None:
    node = make_node(tmp_path / "node")
    options = ("--kubernetes-version", truth_version, "--root", str(node))
    written = cli("kubeadm-config", *options, "--cri-socket", BARE_SOCKET, "--node-name", "Node1")
    assert written.exit_code == 0, written.stderr
    assert f"criSocket: unix://{BARE_SOCKET}\n" in written.stdout and "name: Node1\n" in written.stdout
    assert "the node registers as 'node1'" in written.stderr
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(written.stdout)
    done = _validate(truth_bin(truth_version), rendered)
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr
    assert KUBEADM_WARNING not in done.stderr  # k8snode wrote the scheme kubeadm would have prepended

    bare = tmp_path / "bare.yaml"
    bare.write_text(written.stdout.replace(f"unix://{BARE_SOCKET}", BARE_SOCKET))
    done = _validate(truth_bin(truth_version), bare)
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr
    assert KUBEADM_WARNING in done.stderr
    checked = cli("validate", str(bare), "--kubernetes-version", truth_version, "--json")
    assert checked.exit_code == 0, checked.stdout
    warnings = checked.envelope()["warnings"]
    assert [w for w in warnings if "criSocket" in w and "without URL scheme" in w], warnings
    assert [w for w in warnings if "registers as 'node1'" in w], warnings
