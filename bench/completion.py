"""What Typer's shell completion (--install-completion, --show-completion) costs at start-up.

Run: .venv/bin/python bench/completion.py [--runs 20]
Starts `k8snode --version` and `k8snode ipvs check --json` cold with the app's completion off and switched on,
alternating, and prints the wall and CPU medians and their ratios. No assertion: the number decides whether
completion may sit on the start-up path.
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
from fakes import make_root

PYTHON = os.path.realpath(sys.executable)
LAUNCH = "import sys, k8snode.cli as cli; cli.app._add_completion = {on}; sys.argv[0] = 'k8snode'; cli.main()"


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one cold start."""
    began = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(process.pid, 0)
    return time.perf_counter() - began, usage.ru_utime + usage.ru_stime


def medians(words: list[str], runs: int) -> dict[bool, tuple[float, float]]:
    """Off and on, alternated run by run so that the machine's load falls on both alike."""
    samples: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for _ in range(runs):
        for setting in (False, True):
            samples[setting].append(timed([PYTHON, "-c", LAUNCH.format(on=setting), *words]))
    return {
        setting: (statistics.median(w for w, _ in rows), statistics.median(c for _, c in rows))
        for setting, rows in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as scratch:
        root = make_root(Path(scratch) / "root", "deb12-6.1")
        print(f"{'command':20} {'wall off':>9} {'wall on':>8} {'ratio':>6} {'cpu off':>8} {'cpu on':>7} {'ratio':>6}")
        for words in (["--version"], ["ipvs", "check", "--json", "--root", str(root.path)]):
            found = medians(words, runs)
            (wall_off, cpu_off), (wall_on, cpu_on) = found[False], found[True]
            print(
                f"{' '.join(words[:3]):20} {wall_off * 1000:7.1f}ms {wall_on * 1000:6.1f}ms {wall_on / wall_off:6.2f} "
                f"{cpu_off * 1000:6.1f}ms {cpu_on * 1000:5.1f}ms {cpu_on / cpu_off:6.2f}"
            )


if __name__ == "__main__":
    main()
