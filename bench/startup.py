"""Cold start of k8snode against the Typer floor: from a wheel install and from the archive built for the interpreter
(k8snode-cpXY.pyz), on Python 3.10 and 3.13, in one run. The figure is CPU time (user + system of the child, from
wait4), the median of N starts; wall time is shown beside it. (Peak RSS is not reported: wait4's ru_maxrss of a
forked child keeps the parent's size from before exec.)

Run: .venv/bin/python bench/startup.py [--runs 20] [--python 3.10 3.13]
For each interpreter it builds a venv with k8snode's wheel (pip, from this checkout) and takes the archives from
tools/build_pyz.py (through its cache). The interpreters are the real binaries (tests/pythons.py: never a pyenv shim).
The archive and `python -c pass` run with the interpreter of a venv without packages: the same interpreter, and the
same start as the wheel's venv (a base interpreter's site-packages may hold .pth files that import something at
every start; neither venv runs them).
The starts are taken round-robin (each command once, then again), so that a change of load touches every row alike.

Goals (issue 28), against the floor: a one-command Typer app run by the wheel venv's interpreter (the least any
Typer command costs) -- `ipvs check --json` and `node check --json` <= 1.5x the floor, `kubeadm-config` <= 2.5x;
and the archive <= 1.1x the wheel's CPU time for the same command on the same interpreter. Not a test: numbers
vary with load; the table says the machine's load before and after.
"""

from __future__ import annotations

import argparse
import json
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
from fakes import add_node_state, make_root  # noqa: E402 - the fixture root the commands read
from pythons import interpreters  # noqa: E402

FLOOR_GOALS = {"ipvs check --json": 1.5, "node check --json": 1.5, "kubeadm-config": 2.5}
PYZ_GOAL = 1.1
# The floor under every command: a one-command Typer app, run by the venv's interpreter (typer is pinned there).
TYPER_FLOOR = "import typer\napp = typer.Typer()\napp.command()(lambda: None)\napp()"


def start(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one cold start."""
    began = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - began
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} exited {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_utime + usage.ru_stime


def measure(argvs: dict[str, list[str]], runs: int, env: dict[str, str]) -> dict[str, tuple[float, float]]:
    """Name -> (median wall, median CPU) over ``runs`` round-robin starts of every argv."""
    taken: dict[str, list[tuple[float, float]]] = {name: [] for name in argvs}
    for _ in range(runs):
        for name, argv in argvs.items():
            taken[name].append(start(argv, env))
    return {
        name: (statistics.median(w for w, _ in starts), statistics.median(c for _, c in starts))
        for name, starts in taken.items()
    }


def bare_venv(python: str, scratch: Path) -> Path:
    """A venv of ``python`` with no packages; returns its interpreter."""
    venv = scratch / f"bare-{Path(python).parent.parent.name}"
    subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True)
    return venv / "bin/python"


def wheel_venv(python: str, scratch: Path) -> Path:
    """A venv of ``python`` with k8snode's wheel and its dependencies installed; returns its k8snode script."""
    venv = scratch / f"venv-{Path(python).parent.parent.name}"
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin/pip"), "install", "-q", str(REPO)], check=True, capture_output=True)
    return venv / "bin/k8snode"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--python", nargs="+", default=["3.10", "3.13"])
    args = parser.parse_args()
    found = interpreters()
    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory(prefix="k8snode-startup-") as temp:
        scratch = Path(temp)
        root = make_root(scratch / "root", "deb12-6.1")
        add_node_state(root.path)
        env = {k: v for k, v in root.env().items() if k != "PYTHONDONTWRITEBYTECODE"}
        built = subprocess.run(
            [sys.executable, str(REPO / "tools/build_pyz.py"), "--out-dir", str(scratch / "pyz")],
            check=True,
            capture_output=True,
            text=True,
        )
        archives = {item["python"]: item["path"] for item in json.loads(built.stdout)["archives"]}
        commands = {
            "ipvs check --json": ["ipvs", "check", "--json", "--root", str(root.path)],
            "node check --json": ["node", "check", "--json", "--root", str(root.path)],
            "kubeadm-config": ["kubeadm-config", "--proxy-mode", "ipvs", "--advertise-address", "192.0.2.10"],
        }
        for minor in args.python:
            python = str(bare_venv(found[minor], scratch))
            script = wheel_venv(found[minor], scratch)
            pyz = archives["cp" + minor.replace(".", "")]
            argvs = {
                "python -c pass": [python, "-c", "pass"],
                "floor": [str(script.parent / "python"), "-c", TYPER_FLOOR],
            }
            for name, words in commands.items():
                argvs[f"{name} wheel"] = [str(script), *words]
                argvs[f"{name} pyz"] = [python, pyz, *words]
            for argv in argvs.values():  # warm the page cache and the wheel's byte code
                start(argv, env)
            rows.append((minor, measure(argvs, args.runs, env)))
    load_after = os.getloadavg()
    print(
        f"{platform.node()}: {os.cpu_count()} CPUs; load (1, 5, 15 min) before {load_before[0]:.2f} "
        f"{load_before[1]:.2f} {load_before[2]:.2f}, after {load_after[0]:.2f} {load_after[1]:.2f} "
        f"{load_after[2]:.2f}; CPU ms (wall ms), medians of {args.runs} round-robin starts"
    )
    print()
    print("| Python | command | wheel | pyz | wheel / floor | pyz / floor | goal | pyz / wheel (goal 1.1x) |")
    print("|---|---|---|---|---|---|---|---|")
    for minor, taken in rows:
        floor_cpu = taken["floor"][1]
        print(f"| {minor} | `python -c pass` | {cell(taken['python -c pass'])} | | | | | |")
        print(f"| {minor} | one-command Typer app (the floor) | {cell(taken['floor'])} | | 1.00x | | | |")
        for name, goal in FLOOR_GOALS.items():
            wheel, pyz = taken[f"{name} wheel"], taken[f"{name} pyz"]
            print(
                f"| {minor} | `{name}` | {cell(wheel)} | {cell(pyz)} | {wheel[1] / floor_cpu:.2f}x "
                f"| {pyz[1] / floor_cpu:.2f}x | {goal}x | {pyz[1] / wheel[1]:.2f}x |"
            )


def cell(taken: tuple[float, float]) -> str:
    """CPU ms (wall ms)."""
    wall, cpu = taken
    return f"{cpu * 1000:.1f} ({wall * 1000:.0f})"


if __name__ == "__main__":
    main()
