"""Cold-start wall time and peak RSS of k8snode commands, next to a bare interpreter, measured in one run.

Run: .venv/bin/python bench/startup.py [--runs 20]
Prints a table of medians and the ratio of each command to `python -c pass`; the goals (issue: hardening) are
`ipvs check` <= 5x and `kubeadm-config` <= 8x the bare interpreter.
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from fakes import make_root  # the fixture root the ipvs check reads

PYTHON = os.path.realpath(sys.executable)
K8SNODE = str(Path(sys.executable).parent / "k8snode")
GOALS = {"ipvs check --json": 5.0, "kubeadm-config --proxy-mode ipvs": 8.0}


def measure(argv: list[str], runs: int, env: dict[str, str]) -> tuple[float, int]:
    """Median wall seconds and the largest peak RSS (KiB) over ``runs`` cold starts."""
    times, peaks = [], []
    for _ in range(runs):
        began = time.perf_counter()
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        times.append(time.perf_counter() - began)
        peaks.append(usage.ru_maxrss)
        if os.waitstatus_to_exitcode(status) not in (0, 1):
            raise SystemExit(f"{' '.join(argv)} exited {os.waitstatus_to_exitcode(status)}")
    return statistics.median(times), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as scratch:
        root = make_root(Path(scratch) / "root", "deb12-6.1")
        flags_env = root.path / "var/lib/kubelet/kubeadm-flags.env"
        flags_env.parent.mkdir(parents=True, exist_ok=True)
        flags_env.write_text(
            'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock"\n'
        )
        env = {**root.env(), "PYTHONDONTWRITEBYTECODE": "0"}
        cases = {
            "python -c pass": [PYTHON, "-c", "pass"],
            "--version": [K8SNODE, "--version"],
            "ipvs check --json": [K8SNODE, "ipvs", "check", "--json", "--root", str(root.path)],
            "kubeadm-config --proxy-mode ipvs": [
                K8SNODE,
                "kubeadm-config",
                "--proxy-mode",
                "ipvs",
                "--advertise-address",
                "192.0.2.10",
            ],
            "kubelet-flags": [K8SNODE, "kubelet-flags"],
            "kubelet-flags lint --json": [K8SNODE, "kubelet-flags", "lint", "--json", "--root", str(root.path)],
        }
        results = {name: measure(argv, runs, env) for name, argv in cases.items()}
    base = results["python -c pass"][0]
    print(f"{'command':36} {'median ms':>10} {'ratio':>7} {'goal':>6} {'peak RSS MiB':>13}   ({runs} runs each)")
    for name, (median, peak) in results.items():
        goal = f"{GOALS[name]:.0f}x" if name in GOALS else ""
        print(f"{name:36} {median * 1000:10.1f} {median / base:6.1f}x {goal:>6} {peak / 1024:13.1f}")


if __name__ == "__main__":
    main()
