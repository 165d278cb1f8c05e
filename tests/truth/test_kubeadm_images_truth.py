"""k8snode/runtime/data/kubeadm_images.json: the images each release's real kubeadm lists for itself, the pause image
among them being the sandbox image the container runtime should use."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.truth

REPO = Path(__file__).resolve().parents[2]
IMAGES = REPO / "k8snode" / "runtime" / "data" / "kubeadm_images.json"


def test_the_shipped_images_are_the_generated_ones(shipped_and_generated) -> None:
    shipped, generated = shipped_and_generated("gen_kubeadm_images.py", None, IMAGES)
    assert shipped == generated, "run tools/k8s-truth/gen_kubeadm_images.py"


def test_each_release_lists_one_pause_image(truth_versions: list[str]) -> None:
    releases = json.loads(IMAGES.read_text())["releases"]
    assert list(releases) == truth_versions
    for version, images in releases.items():
        pauses = [image for image in images if image.startswith("registry.k8s.io/pause:")]
        assert len(pauses) == 1, (version, images)


def test_containerd_2_4_pins_the_pause_image_of_kubeadm_1_37(
    containerd_bin: Callable[[str], Path], tmp_path: Path
) -> None:
    """containerd 2.4's default sandbox is kubeadm v1.37.2's pause: a 2.4 host needs no sandbox change for 1.37."""
    import tomllib  # Python 3.11+; the truth tests run on CI's python3 only

    default = subprocess.run(
        [str(containerd_bin("2.4")), "config", "default"], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert default.returncode == 0, default.stderr
    sandbox = tomllib.loads(default.stdout)["plugins"]["io.containerd.cri.v1.images"]["pinned_images"]["sandbox"]
    assert sandbox in json.loads(IMAGES.read_text())["releases"]["v1.37.2"]
