"""k8snode next to the real kubeadm (built by tools/k8s-truth): median wall time of each side, measured in one run.

Run: .venv/bin/python bench/truth.py [--runs 20] [--kubernetes-version v1.37.2]
Pairs: `k8snode kubeadm-config --proxy-mode ipvs` with `kubeadm config print init-defaults --component-configs
KubeProxyConfiguration`, and `k8snode validate FILE` with `kubeadm config validate --config FILE` on the same file.
The goal (issue 5) is a ratio k8snode/kubeadm of at most 1.
CPU time (user + system) is printed too, because wall time on a shared machine varies with its load. Each
command runs once untimed first, so both sides start with warm file caches.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

K8SNODE = str(Path(sys.executable).parent / "k8snode")
REPO = Path(__file__).resolve().parent.parent
VERSIONS = REPO / "tools" / "k8s-truth" / "versions.txt"


def newest_listed_version() -> str:
    lines = (line.strip() for line in VERSIONS.read_text().splitlines())
    return next(line for line in lines if line and not line.startswith("#"))


def kubeadm_binary(version: str) -> str:
    cache = Path(os.environ.get("K8SNODE_TRUTH_CACHE", Path.home() / ".cache" / "k8snode-truth"))
    binary = cache / version / "kubeadm"
    if not binary.is_file():
        raise SystemExit(f"{binary} is missing: run tools/k8s-truth/build.sh {version}")
    return str(binary)


def medians(argv: list[str], runs: int) -> tuple[float, float]:
    """Median wall and CPU (user + system) seconds of ``runs`` runs, after one untimed run."""
    subprocess.run(argv, capture_output=True, check=True)
    walls, cpus = [], []
    for _ in range(runs):
        began = time.perf_counter()
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        walls.append(time.perf_counter() - began)
        cpus.append(usage.ru_utime + usage.ru_stime)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(argv)} exited {os.waitstatus_to_exitcode(status)}")
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--kubernetes-version", default=newest_listed_version())
    arguments = parser.parse_args()
    version, runs = arguments.kubernetes_version, arguments.runs
    kubeadm = kubeadm_binary(version)
    render = [K8SNODE, "kubeadm-config", "--kubernetes-version", version, "--proxy-mode", "ipvs"]
    render += ["--advertise-address", "192.0.2.10", "--node-name", "cp-1"]
    with tempfile.TemporaryDirectory() as scratch:
        config = str(Path(scratch) / "init-config.yaml")
        subprocess.run([*render, "--out", config], capture_output=True, check=True)
        pairs = {
            "render (kubeadm-config / print init-defaults)": (
                render,
                [kubeadm, "config", "print", "init-defaults", "--component-configs", "KubeProxyConfiguration"],
            ),
            "validate FILE (validate / config validate)": (
                [K8SNODE, "validate", config, "--kubernetes-version", version],
                [kubeadm, "config", "validate", "--config", config],
            ),
        }
        print(f"kubeadm {version}, {runs} runs each, medians in ms; ratio = k8snode / kubeadm (goal <= 1)")
        columns = f"{'k8snode':>12} {'kubeadm':>8} {'ratio':>6}"
        print(f"{'':46} {'wall':>12} {'':15} {'cpu':>12}")
        print(f"{'case':46} {columns} {columns}")
        for case, (ours, theirs) in pairs.items():
            (our_wall, our_cpu), (their_wall, their_cpu) = medians(ours, runs), medians(theirs, runs)
            print(
                f"{case:46} {our_wall * 1000:12.1f} {their_wall * 1000:8.1f} {our_wall / their_wall:6.2f}"
                f" {our_cpu * 1000:12.1f} {their_cpu * 1000:8.1f} {our_cpu / max(their_cpu, 1e-6):6.2f}"
            )


if __name__ == "__main__":
    main()
