"""Wall time of the role against a kubespray-style plain-Ansible playbook, on the same sandbox hosts.

Four plays, each on the same number of local sandbox hosts (fake roots from tests/fakes.py, several kernels),
from fresh roots and then once more on the converged roots:
- role, pyz: the role's default install (k8snode.pyz, built once here, copied to each host), then its IPVS step;
- role, pip: pip into a venv on each host, from a wheelhouse built once here (--no-index), then the IPVS step;
- role, IPVS step: the IPVS step alone, with the k8snode of this checkout (nothing to install);
- kubespray-style: bench/kubespray_style_ipvs.yml.
Prints a table of medians. Not a test: numbers vary with load.

    .venv/bin/python bench/ansible_ipvs.py [--hosts 20] [--repeat 3] [--forks 5 20] [--play "role, pyz" ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "tests"))

from fleet import CONSOLE_SCRIPT, REPO, Host, make_fleet, run_playbook, write_inventory  # noqa: E402

KERNELS = ["el7-3.10", "el8.3-4.18", "ubuntu-5.15", "deb12-6.1"]
REQUIRED = {"ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh"}
BASELINE = "kubespray-style"


def plays(scratch: Path) -> dict[str, tuple[Path, dict[str, object]]]:
    """name -> (playbook, inventory vars), with the pyz and the wheelhouse the installs use built once."""
    pyz = scratch / "pyz"  # one archive per interpreter, as the role takes them (k8snode_pyz: a directory)
    subprocess.run([sys.executable, str(REPO / "tools/build_pyz.py"), "--universal", "--out-dir", str(pyz)], check=True)
    wheels = scratch / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "-w", str(wheels), str(REPO)], check=True)
    wheel = next(wheels.glob("k8snode-*.whl"))
    # the interpreter named, so that the hosts do not start k8snode through pyenv's shims
    python = os.path.realpath(sys.executable)
    placed = {"k8snode_dir": "{{ k8snode_root }}/opt/k8snode", "k8snode_link": "", "k8snode_python": python}
    installed = BENCH / "role_install_ipvs.yml"
    return {
        "role, pyz": (installed, {"k8snode_install": "pyz", "k8snode_pyz": str(pyz), **placed}),
        "role, pip": (
            installed,
            {
                "k8snode_install": "pip",
                "k8snode_source": str(wheel),
                "k8snode_pip_args": f"--no-index --find-links {wheels}",
                **placed,
            },
        ),
        "role, IPVS step": (BENCH / "role_ipvs.yml", {"k8snode_install": "none", "k8snode_bin": str(CONSOLE_SCRIPT)}),
        BASELINE: (BENCH / "kubespray_style_ipvs.yml", {}),
    }


def ipvs_loaded(host: Host) -> str | None:
    """What the host lacks after a run, or None."""
    missing = REQUIRED - set(host.root.proc_modules())
    return f"{host.name} lacks {' '.join(sorted(missing))}" if missing else None


def timed_runs(
    playbook: Path,
    hosts: int,
    forks: int,
    workdir: Path,
    *,
    swaps: tuple[str, ...] = (),
    check: Callable[[Host], str | None] = ipvs_loaded,
    timeout: float = 600,
    common: dict[str, object] | None = None,
) -> tuple[float, float]:
    """Seconds for a run on fresh roots and for a rerun on the converged roots; ``check`` says what a host
    lacks afterwards (the run is then not counted)."""
    if workdir.exists():
        shutil.rmtree(workdir)
    per_kernel, extra = divmod(hosts, len(KERNELS))
    groups = {f"k{i}": (kernel, per_kernel + (i < extra)) for i, kernel in enumerate(KERNELS)}
    fleet = make_fleet(workdir / "roots", groups, swaps)
    if common is None:  # the role's step with the k8snode of this checkout
        common = {"k8snode_install": "none", "k8snode_bin": str(CONSOLE_SCRIPT)}
    inventory = write_inventory(workdir / "inventory.yml", fleet, common)
    times = []
    for _ in range(2):
        start = time.perf_counter()
        run = run_playbook(playbook, inventory, "--forks", str(forks), workdir=workdir, timeout=timeout)
        times.append(time.perf_counter() - start)
        if run.returncode != 0:
            sys.exit(f"{playbook.name} failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    for host in fleet:
        problem = check(host)
        if problem:
            sys.exit(f"{playbook.name}: {problem}")
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--forks", type=int, nargs="+", default=[5, 20])
    parser.add_argument(
        "--play", action="append", help="Only this play (repeatable; default all): role, pyz | role, pip | ..."
    )
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="k8snode-bench-") as temp:
        scratch = Path(temp)
        configured = plays(scratch)
        if set(args.play or ()) - set(configured):
            parser.error(f"--play: choose from {', '.join(configured)}")
        configured = {name: play for name, play in configured.items() if name in (args.play or [name])}
        for forks in args.forks:
            medians = {}
            for name, (playbook, common) in configured.items():
                samples = [
                    timed_runs(playbook, args.hosts, forks, scratch / "run", common=common, timeout=3600)
                    for _ in range(args.repeat)
                ]
                medians[name] = tuple(statistics.median(s[i] for s in samples) for i in range(2))
            rows.append((forks, medians))
    print(f"{args.hosts} local sandbox hosts, median of {args.repeat} runs each, wall seconds of ansible-playbook;")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at the end")
    print()
    print(f"| forks | play | fresh s | {BASELINE} / play, fresh | converged s | {BASELINE} / play, converged |")
    print("|---|---|---|---|---|---|")
    for forks, medians in rows:
        base = medians.get(BASELINE, (float("nan"), float("nan")))
        for name, (fresh, converged) in medians.items():
            ratios = f"{base[0] / fresh:.2f}x | {converged:.2f} | {base[1] / converged:.2f}x"
            print(f"| {forks} | {name} | {fresh:.2f} | {ratios} |")


if __name__ == "__main__":
    main()
