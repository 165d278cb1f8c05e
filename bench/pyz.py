"""Single-file builds of k8snode compared in one run: plain zipapp (sources; this interpreter's byte code), shiv, pex.

Each is built from the same dependencies (shiv and pex from a wheelhouse of k8snode's wheel and its dependencies'
wheels, with --no-index; the zipapps from this environment's installed files), then started
cold: size, the first start with an empty cache (shiv and pex extract into their root on that start) and the
median wall and CPU time of later starts, for `ipvs check --json` on a fixture root, next to `python -c pass`.
HOME, SHIV_ROOT and PEX_ROOT point into a scratch directory, so the extraction is counted and then removed.
Not a test: numbers vary with load. Needs `pip install shiv pex` in this environment.

    .venv/bin/python bench/pyz.py [--runs 10]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO / "tests"))
from fakes import make_root  # noqa: E402
from startup import start  # noqa: E402  (bench/ is sys.path[0]: one way to time a start)

BIN = Path(sys.executable).parent
PYTHON = sys.executable
TAG = f"cp{sys.version_info[0]}{sys.version_info[1]}"


def builds(scratch: Path) -> dict[str, Path]:
    wheels = scratch / "wheels"
    subprocess.run([PYTHON, "-m", "pip", "wheel", "-q", "-w", str(wheels), str(REPO)], check=True)
    out = {
        "zipapp, sources": scratch / "k8snode.pyz",
        "zipapp, this interpreter's byte code (chosen)": scratch / f"k8snode-{TAG}.pyz",
        "shiv": scratch / "shiv.pyz",
        "pex": scratch / "k8snode.pex",
    }
    build = [PYTHON, str(REPO / "tools/build_pyz.py"), "--out-dir", str(scratch), "--python", PYTHON, "--universal"]
    subprocess.run(build, check=True, capture_output=True)
    offline = ["--no-index", "--find-links", str(wheels)]
    subprocess.run(
        [str(BIN / "shiv"), "-q", "-c", "k8snode", "-o", str(out["shiv"]), *offline, "k8snode"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [str(BIN / "pex"), "--no-pypi", "-f", str(wheels), "k8snode", "-c", "k8snode", "-o", str(out["pex"])],
        check=True,
        capture_output=True,
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="k8snode-bench-pyz-") as temp:
        scratch = Path(temp)
        root = make_root(scratch / "root", "deb12-6.1")
        archives = builds(scratch)
        rows = []
        base = [start([PYTHON, "-c", "pass"], root.env()) for _ in range(runs)]
        rows.append(("python -c pass", 0, None, base))
        for name, archive in archives.items():
            home = scratch / "home"
            shutil.rmtree(home, ignore_errors=True)
            home.mkdir()
            env = {**root.env(), "HOME": str(home), "SHIV_ROOT": str(home / ".shiv"), "PEX_ROOT": str(home / ".pex")}
            argv = [PYTHON, str(archive), "ipvs", "check", "--json", "--root", str(root.path)]
            first = start(argv, env)
            later = [start(argv, env) for _ in range(runs)]
            written = sum(f.stat().st_size for f in home.rglob("*") if f.is_file())
            rows.append((name, archive.stat().st_size, (first, written), later))
    pass_wall = statistics.median(w for w, _ in base)
    pass_cpu = statistics.median(c for _, c in base)
    print(f"Python {sys.version.split()[0]}, `ipvs check --json`, median of {runs} starts after the first")
    print()
    print("| build | size MB | first start ms | written to $HOME MB | wall ms | CPU ms | wall / pass | CPU / pass |")
    print("|---|---|---|---|---|---|---|---|")
    for name, size, first, later in rows:
        wall = statistics.median(w for w, _ in later)
        cpu = statistics.median(c for _, c in later)
        first_ms = f"{first[0][0] * 1000:.0f}" if first else ""
        home_mb = f"{first[1] / 1e6:.1f}" if first else ""
        print(
            f"| {name} | {size / 1e6:.1f} | {first_ms} | {home_mb} | {wall * 1000:.0f} | {cpu * 1000:.0f} "
            f"| {wall / pass_wall:.1f}x | {cpu / pass_cpu:.1f}x |"
        )


if __name__ == "__main__":
    main()
