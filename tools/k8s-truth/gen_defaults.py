#!/usr/bin/env python3
"""Write k8snode/kubeadm/data/init-defaults/VERSION.yaml from the built kubeadm of each release.

usage: gen_defaults.py [VERSION...]   (default: every version in versions.txt)

Each file is what that release's kubeadm prints for
`kubeadm config print init-defaults --component-configs KubeProxyConfiguration,KubeletConfiguration`, byte for byte,
after one comment line naming the command and the release. `k8snode kubeadm-config --print-defaults` prints it (or
the documents asked for), and tests/truth/test_print_defaults_truth.py compares it with the real kubeadm.
"""

import subprocess
import sys
from pathlib import Path

from gen_schemas import listed_versions, truth_cache  # this folder is on sys.path when the script runs

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULTS = REPO / "k8snode" / "kubeadm" / "data" / "init-defaults"
COMMAND = ["config", "print", "init-defaults", "--component-configs", "KubeProxyConfiguration,KubeletConfiguration"]


def main(versions: list[str]) -> int:
    cache = truth_cache()
    DEFAULTS.mkdir(parents=True, exist_ok=True)
    for version in versions:
        kubeadm = cache / version / "kubeadm"
        if not kubeadm.is_file():
            print(f"gen_defaults: {kubeadm} is missing: run tools/k8s-truth/build.sh {version}", file=sys.stderr)
            return 1
        printed = subprocess.run([kubeadm, *COMMAND], check=True, capture_output=True, text=True).stdout
        path = DEFAULTS / f"{version}.yaml"
        path.write_text(f"# kubeadm {' '.join(COMMAND)} (kubeadm {version}; tools/k8s-truth/gen_defaults.py)\n{printed}")
        print(f"gen_defaults: wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or listed_versions()))
