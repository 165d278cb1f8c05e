#!/usr/bin/env python3
"""Write the ConfigMaps the real kubeadm creates for an IPVS cluster, as test fixtures.

usage: gen_configmaps.py [VERSION...]   (default: every version in versions.txt)

For each release, `kubeadm init --dry-run` (no cluster, no container runtime: KUBEADM_INIT_DRYRUN_DIR points at a
scratch folder and every preflight error is ignored) runs on that release's own init-defaults with the
placeholders filled in and a KubeProxyConfiguration in IPVS mode with strictARP and a scheduler, as a MetalLB
cluster that followed the seed document has. Its output prints every object kubeadm would create; the `kube-proxy`
and `kubeadm-config` ConfigMaps are kept byte for byte in tests/fixtures/kubeadm/configmap-NAME-VERSION.yaml,
after one comment line naming the command. The API server adds metadata (uid, resourceVersion, creationTimestamp)
when it stores them; `kubectl get -o yaml` prints that too, with the same `data` bytes (the tests add it).
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from gen_schemas import listed_versions, truth_cache  # this folder is on sys.path when the script runs

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "kubeadm"
ATTACHED = "[dryrun] Attached object:\n"
PROXY = """---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: ipvs
clusterCIDR: 10.244.0.0/16
ipvs:
  scheduler: rr
  strictARP: true
  syncPeriod: 30s
"""
NAMES = ("kube-proxy", "kubeadm-config")


def init_config(kubeadm: Path) -> str:
    """The release's init-defaults with kubeadm's placeholders replaced, the pod subnet set, and IPVS mode."""
    defaults = subprocess.run([kubeadm, "config", "print", "init-defaults"], check=True, capture_output=True, text=True)
    text = defaults.stdout.replace("advertiseAddress: 1.2.3.4", "advertiseAddress: 10.0.0.10")
    text = text.replace("  name: node\n", "  name: cp1\n")
    text = text.replace("  serviceSubnet: 10.96.0.0/12\n", "  serviceSubnet: 10.96.0.0/12\n  podSubnet: 10.244.0.0/16\n")
    return text + PROXY


def configmaps(printed: str) -> dict[str, str]:
    """The ConfigMaps among the objects `kubeadm init --dry-run` prints, by name. Each object ends at a blank line
    or at kubeadm's next message; before 1.31 kubeadm indents every line of it with a tab."""
    found = {}
    for chunk in printed.split(ATTACHED)[1:]:
        lines = []
        for line in chunk.splitlines():
            if not line or line.startswith("["):
                break
            lines.append(line.removeprefix("\t"))
        text = "\n".join(lines) + "\n"
        for name in NAMES:
            if text.startswith("apiVersion: v1\ndata:\n") and "\nkind: ConfigMap\nmetadata:\n" in text:
                if f"\n  name: {name}\n  namespace: kube-system\n" in text:
                    found[name] = text
    return found


def main(versions: list[str]) -> int:
    cache = truth_cache()
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for version in versions:
        kubeadm = cache / version / "kubeadm"
        if not kubeadm.is_file():
            print(f"gen_configmaps: {kubeadm} is missing: run tools/k8s-truth/build.sh {version}", file=sys.stderr)
            return 1
        with tempfile.TemporaryDirectory() as scratch:
            config = Path(scratch) / "init.yaml"
            config.write_text(init_config(kubeadm))
            command = ["init", "--dry-run", "--config", "init.yaml", "--ignore-preflight-errors=all"]
            environment = {**os.environ, "KUBEADM_INIT_DRYRUN_DIR": str(Path(scratch) / "dryrun")}
            run = subprocess.run(
                [kubeadm, *command], cwd=scratch, env=environment, check=True, capture_output=True, text=True
            )
        found = configmaps(run.stdout)
        if set(found) != set(NAMES):
            print(f"gen_configmaps: kubeadm {version} printed ConfigMaps {sorted(found)}, not {NAMES}", file=sys.stderr)
            return 1
        origin = (
            f"# KUBEADM_INIT_DRYRUN_DIR=DIR kubeadm {' '.join(command)}  (kubeadm {version}; init.yaml: its "
            "init-defaults + IPVS KubeProxyConfiguration; tools/k8s-truth/gen_configmaps.py)\n"
        )
        for name, text in found.items():
            path = FIXTURES / f"configmap-{name}-{version}.yaml"
            path.write_text(origin + text)
            print(f"gen_configmaps: wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or listed_versions()))
