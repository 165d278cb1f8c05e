#!/usr/bin/env python3
"""Write k8snode/runtime/data/kubeadm_images.json from the built kubeadm of each release.

usage: gen_kubeadm_images.py [VERSION...]   (default: every version in versions.txt)

For each release, the images that release's kubeadm lists for itself:
`kubeadm config images list --kubernetes-version VERSION`, one a line, in kubeadm's order. The pause image among them
is the sandbox image the container runtime should use (kubeadm's preflight warns when the runtime's differs). With an
explicit version kubeadm reads nothing from the network (checked in a network namespace without a route).
"""

import json
import subprocess
import sys
from pathlib import Path

# this folder is on sys.path when the script runs
from gen_schemas import Missing, listed_versions, release, write_generated

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
OUT = REPO / "k8snode" / "runtime" / "data" / "kubeadm_images.json"


def images(kubeadm: Path, version: str) -> list[str]:
    """What ``kubeadm`` lists for ``version``; Missing when it cannot."""
    if not kubeadm.is_file():
        raise Missing(f"{kubeadm} is missing: run tools/k8s-truth/build.sh {version}")
    done = subprocess.run(
        [kubeadm, "config", "images", "list", "--kubernetes-version", version],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        raise Missing(f"{kubeadm} config images list failed: {done.stderr.strip()}")
    listed = done.stdout.split()
    if not listed or not all(image.startswith("registry.k8s.io/") for image in listed):
        raise Missing(f"{kubeadm} listed no images, or unexpected ones: {listed}")
    return listed


def generated(versions: list[str], cache: Path) -> tuple[str, dict[str, int]]:
    """The text of kubeadm_images.json from the builds of ``versions``, and the number of images of each release."""
    releases = {
        version: images(cache / version / "kubeadm", version)
        for version in sorted(versions, key=release, reverse=True)
    }
    document = {
        "source": "kubeadm config images list --kubernetes-version <v> (tools/k8s-truth)",
        "releases": releases,
    }
    counts = {version: len(listed) for version, listed in releases.items()}
    return json.dumps(document, indent=1) + "\n", counts


def main(versions: list[str]) -> int:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    return write_generated("gen_kubeadm_images", generated, OUT, "images", versions)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or listed_versions()))
