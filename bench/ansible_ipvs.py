"""Wall time of the role's IPVS step (one k8snode task per host) against a kubespray-style plain-Ansible playbook.

Both run on the same number of local sandbox hosts (fake roots from tests/fakes.py, several kernels), each from
fresh roots, then once more on the converged roots. Prints a table of medians. Not a test: numbers vary with load.

    .venv/bin/python bench/ansible_ipvs.py [--hosts 20] [--repeat 3] [--forks 5 20]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "tests"))

from fleet import CONSOLE_SCRIPT, Host, make_fleet, run_playbook, write_inventory  # noqa: E402

KERNELS = ["el7-3.10", "el8.3-4.18", "ubuntu-5.15", "deb12-6.1"]
PLAYBOOKS = {"k8snode role": BENCH / "role_ipvs.yml", "kubespray-style": BENCH / "kubespray_style_ipvs.yml"}
REQUIRED = {"ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh"}


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
) -> tuple[float, float]:
    """Seconds for a run on fresh roots and for a rerun on the converged roots; ``check`` says what a host
    lacks afterwards (the run is then not counted)."""
    if workdir.exists():
        shutil.rmtree(workdir)
    per_kernel, extra = divmod(hosts, len(KERNELS))
    groups = {f"k{i}": (kernel, per_kernel + (i < extra)) for i, kernel in enumerate(KERNELS)}
    fleet = make_fleet(workdir / "roots", groups, swaps)
    common = {"k8snode_install": False, "k8snode_bin": str(CONSOLE_SCRIPT)}
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
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="k8snode-bench-") as temp:
        for forks in args.forks:
            medians = {}
            for name, playbook in PLAYBOOKS.items():
                samples = [timed_runs(playbook, args.hosts, forks, Path(temp) / "run") for _ in range(args.repeat)]
                medians[name] = tuple(statistics.median(s[i] for s in samples) for i in range(2))
            role, plain = medians["k8snode role"], medians["kubespray-style"]
            rows.append((forks, role[0], plain[0], plain[0] / role[0], role[1], plain[1], plain[1] / role[1]))
    print(f"{args.hosts} local sandbox hosts, median of {args.repeat} runs each, wall seconds of ansible-playbook")
    print()
    print("| forks | role, fresh | plain, fresh | plain/role | role, converged | plain, converged | plain/role |")
    print("|---|---|---|---|---|---|---|")
    for forks, *numbers in rows:
        role0, plain0, ratio0, role1, plain1, ratio1 = numbers
        print(f"| {forks} | {role0:.2f} | {plain0:.2f} | {ratio0:.2f}x | {role1:.2f} | {plain1:.2f} | {ratio1:.2f}x |")


if __name__ == "__main__":
    main()
