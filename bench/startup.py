"""Cold start of k8snode from a wheel install and from k8snode.pyz, on Python 3.10 and 3.13, next to a bare
interpreter, measured in one run: wall time and CPU time (user + system of the child). (Peak RSS is not
reported: wait4's ru_maxrss of a forked child keeps the parent's size from before exec.)

Run: .venv/bin/python bench/startup.py [--runs 10] [--python 3.10 3.13]
For each interpreter it builds a venv with k8snode's wheel (pip, from this checkout) and uses one k8snode.pyz
(tools/build_pyz.py), then prints medians and the ratio of each command to that interpreter's `python -c pass`.
The goals (issue 18) are `ipvs check` <= 5x and `kubeadm-config` <= 8x the bare interpreter, in CPU and wall.
A one-command Typer app shows the floor every k8snode command stands on.
CPU time is the steadier figure on a shared machine: wall time includes waiting for a core.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from fakes import make_root  # noqa: E402 - the fixture root the commands read
from pythons import interpreters  # noqa: E402

GOALS = {"ipvs check --json": 5.0, "kubeadm-config": 8.0}
# The floor under every command: a one-command Typer app, run by the venv's interpreter (typer is pinned there).
TYPER_FLOOR = "import typer\napp = typer.Typer()\napp.command()(lambda: None)\napp()"


def measure(argv: list[str], runs: int, env: dict[str, str]) -> tuple[float, float]:
    """Median wall seconds and median CPU seconds over ``runs`` cold starts."""
    walls, cpus = [], []
    for _ in range(runs):
        began = time.perf_counter()
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        walls.append(time.perf_counter() - began)
        cpus.append(usage.ru_utime + usage.ru_stime)
        if os.waitstatus_to_exitcode(status) not in (0, 1):
            raise SystemExit(f"{' '.join(argv)} exited {os.waitstatus_to_exitcode(status)}")
    return statistics.median(walls), statistics.median(cpus)


def wheel_venv(python: str, scratch: Path) -> Path:
    """A venv of ``python`` with k8snode's wheel and its dependencies installed; returns its k8snode script."""
    venv = scratch / f"venv-{Path(python).parent.parent.name}"
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin/pip"), "install", "-q", str(REPO)], check=True, capture_output=True)
    return venv / "bin/k8snode"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--python", nargs="+", default=["3.10", "3.13"])
    args = parser.parse_args()
    found = interpreters()
    with tempfile.TemporaryDirectory(prefix="k8snode-startup-") as temp:
        scratch = Path(temp)
        root = make_root(scratch / "root", "deb12-6.1")
        flags_env = root.path / "var/lib/kubelet/kubeadm-flags.env"  # what kubelet-flags lint reads on a kubeadm node
        flags_env.parent.mkdir(parents=True, exist_ok=True)
        flags_env.write_text(
            'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock"\n'
        )
        env = {k: v for k, v in root.env().items() if k != "PYTHONDONTWRITEBYTECODE"}
        pyz = scratch / "k8snode.pyz"
        subprocess.run([sys.executable, str(REPO / "tools/build_pyz.py"), "--out", str(pyz)], check=True)
        commands = {
            "ipvs check --json": ["ipvs", "check", "--json", "--root", str(root.path)],
            "kubeadm-config": ["kubeadm-config", "--proxy-mode", "ipvs", "--advertise-address", "192.0.2.10"],
            "kubelet-flags": ["kubelet-flags"],
            "kubelet-flags lint --json": ["kubelet-flags", "lint", "--json", "--root", str(root.path)],
        }
        rows = []
        for minor in args.python:
            python = found[minor]
            script = wheel_venv(python, scratch)
            for _ in range(2):  # warm the page cache and the wheel's byte code
                measure([str(script), "--version"], 1, env)
            base = measure([python, "-c", "pass"], args.runs, env)
            rows.append((minor, "python -c pass", base, base))
            floor = measure([str(script.parent / "python"), "-c", TYPER_FLOOR], args.runs, env)
            rows.append((minor, "one-command Typer app (wheel venv)", floor, base))
            for name, words in commands.items():
                rows.append((minor, f"{name} (wheel)", measure([str(script), *words], args.runs, env), base))
                rows.append((minor, f"{name} (pyz)", measure([python, str(pyz), *words], args.runs, env), base))
    print(f"{platform.node()}: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; medians of {args.runs} runs")
    print()
    print("| Python | command | wall ms | CPU ms | wall ratio | CPU ratio | goal |")
    print("|---|---|---|---|---|---|---|")
    for minor, name, (wall, cpu), (base_wall, base_cpu) in rows:
        goal = next((f"{g:.0f}x" for key, g in GOALS.items() if name.startswith(key)), "")
        print(
            f"| {minor} | {name} | {wall * 1000:.1f} | {cpu * 1000:.1f} | {wall / base_wall:.1f}x "
            f"| {cpu / max(base_cpu, 1e-3):.1f}x | {goal} |"
        )


if __name__ == "__main__":
    main()
