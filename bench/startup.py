"""Median wall time of `k8snode kubeadm-config --proxy-mode ipvs` next to `python -c pass`, measured in one run.

usage: python bench/startup.py [RUNS]   (default 20; run from the repository with the venv's python)
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from fakes import make_node

SCRIPT = Path(sys.executable).parent / "k8snode"


def medians_ms(argv: list[str], runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system) of ``runs`` runs; CPU time says more on a busy host."""
    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        wall.append((time.perf_counter() - start) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = make_node(Path(directory) / "node")
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "k8snode kubeadm-config --proxy-mode ipvs": [
                str(SCRIPT),
                "kubeadm-config",
                "--proxy-mode",
                "ipvs",
                "--root",
                str(root),
            ],
        }
        for argv in commands.values():
            subprocess.run(argv, check=True, capture_output=True)  # warm the page cache
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        for name, argv in commands.items():
            wall, cpu = medians_ms(argv, runs)
            print(f"{name}: median wall {wall:.0f} ms, median CPU {cpu:.0f} ms over {runs} runs")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
