"""The role's node preparation over SSH against the kubespray-style play, on the SSH fleet (tests/sshfleet.py).

Per fleet size, one SSH fleet (a network namespace and an sshd per host, pipelining, ControlPersist, host keys
checked); per run, fresh fake roots (tests/fleet.py: kernels in turn, forwarding off, one swap on and in fstab),
then the same play once more on the converged roots. The ControlMasters are closed before each run, so each pays
for its own logins. Pairs per forks value, the first of each pair alternating between the role and the play:
- node: bench/role_install_node.yml (the role's install, k8snode_install: pyz, then its node step) against
  bench/kubespray_style_node.yml;
- ipvs: bench/role_ipvs.yml (the IPVS step alone, with this checkout's k8snode: nothing to install) against
  bench/kubespray_style_ipvs.yml, for continuity with bench/ansible_ipvs.py.

Per run: wall seconds; per host, the SSH logins and sessions (sshd's VERBOSE log: "Accepted publickey",
"Starting session: command" and "subsystem 'sftp'") and the bytes the controller sent (its veth end's tx_bytes);
the controller's CPU seconds (ansible-playbook and its children: rusage). Goals beside each ratio: fresh >= 5x,
converged >= 10x, and the role's seconds per host growing from the smallest to the largest size no more than the
play's. Where a goal is missed, the slowest tasks from the junit callback (ansible-core's own; profile_tasks is
in ansible.posix, which is not installed), as the longest time any host spent in each task.

    sudo .venv/bin/python bench/ansible_fleet_ssh.py [--hosts 20 100 200] [--forks 20 50] [--pyz given|role]

--pyz given (default) builds the archives once here and passes it as k8snode_pyz (a release artifact); role leaves
k8snode_pyz empty, so the role provides the pyz itself as it does in this checkout (built, or cached, per run).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import sshfleet
from ansible_ipvs import BENCH, KERNELS, ipvs_loaded
from ansible_node import prepared
from fleet import CONSOLE_SCRIPT, REPO, Host, make_fleet, run_playbook, write_inventory

SWAP = "/dev/sda2"
GOALS = {"fresh": 5.0, "converged": 10.0}


@dataclass
class Figures:
    wall: float
    cpu: float  # the controller's: ansible-playbook and every child it waited for
    logins: float  # per host, mean
    commands: float
    sftp: float
    sent: float  # bytes per host, mean
    tasks: list[tuple[float, str]]  # the slowest tasks: (longest seconds on any host, name)


def job(kind: str, pyz: Path | None) -> dict[str, tuple[Path, dict[str, object], object]]:
    """name -> (playbook, inventory vars, check) for the role and the play of ``kind`` (node or ipvs)."""
    if kind == "ipvs":
        role = {"k8snode_install": "none", "k8snode_bin": str(CONSOLE_SCRIPT)}
        return {
            "role": (BENCH / "role_ipvs.yml", role, ipvs_loaded),
            "play": (BENCH / "kubespray_style_ipvs.yml", {}, ipvs_loaded),
        }
    install = {
        "k8snode_install": "pyz",
        "k8snode_pyz": str(pyz) if pyz else "",
        "k8snode_dir": "{{ k8snode_root }}/opt/k8snode",
        "k8snode_link": "",
        "k8snode_python": os.path.realpath(sys.executable),  # not a pyenv shim
    }
    return {
        "role": (BENCH / "role_install_node.yml", install, prepared),
        "play": (BENCH / "kubespray_style_node.yml", {}, prepared),
    }


def slowest(junit: Path, count: int = 6) -> list[tuple[float, str]]:
    """The ``count`` tasks with the longest time on any host, from the junit callback's files in ``junit``."""
    longest: dict[str, float] = {}
    for report in junit.glob("*.xml"):
        for case in ET.parse(report).iter("testcase"):
            name = case.get("name", "").split("] ", 1)[-1].split(": ", 1)[-1]
            longest[name] = max(longest.get(name, 0.0), float(case.get("time", 0)))
    return sorted(((seconds, name) for name, seconds in longest.items()), reverse=True)[:count]


def timed(
    fleet: sshfleet.SshFleet, playbook: Path, common: dict[str, object], check, forks: int, workdir: Path
) -> tuple[Figures, Figures]:
    """A run on fresh roots and one on the converged roots; exits when a run fails or leaves a host unprepared."""
    roots = workdir / "roots"
    shutil.rmtree(workdir, ignore_errors=True)
    per_kernel, extra = divmod(len(fleet.hosts), len(KERNELS))
    groups = {f"k{i}": (kernel, per_kernel + (i < extra)) for i, kernel in enumerate(KERNELS)}
    hosts: list[Host] = make_fleet(roots, groups, (SWAP,))
    for host, endpoint in zip(hosts, fleet.hosts, strict=True):
        host.vars.update(fleet.connection(endpoint))
    inventory = write_inventory(workdir / "inventory.yml", hosts, common, connection={})
    figures = []
    for attempt in ("fresh", "converged"):
        fleet.close_masters()
        sessions, sent = fleet.sessions(), fleet.bytes_sent()
        junit = workdir / f"junit-{attempt}"
        env = {
            **fleet.env(),
            "ANSIBLE_CALLBACKS_ENABLED": "ansible.builtin.junit",
            "JUNIT_OUTPUT_DIR": str(junit),
            "JUNIT_TASK_CLASS": "1",
            "JUNIT_HIDE_TASK_ARGUMENTS": "1",
        }
        cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        run = run_playbook(playbook, inventory, "--forks", str(forks), workdir=workdir, timeout=7200, env=env)
        wall = time.perf_counter() - start
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        if run.returncode != 0:
            sys.exit(f"{playbook.name} ({attempt}) failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
        delta = [after - before for after, before in zip(fleet.sessions(), sessions, strict=True)]
        total: Counter[str] = sum(delta, Counter())
        count = len(hosts)
        figures.append(
            Figures(
                wall=wall,
                cpu=(used.ru_utime - cpu.ru_utime) + (used.ru_stime - cpu.ru_stime),
                logins=total["connections"] / count,
                commands=total["command"] / count,
                sftp=total["subsystem 'sftp'"] / count,
                sent=statistics.mean(after - before for after, before in zip(fleet.bytes_sent(), sent, strict=True)),
                tasks=slowest(junit),
            )
        )
    for host in hosts:
        problem = check(host)
        if problem:
            sys.exit(f"{playbook.name}: {problem}")
    return figures[0], figures[1]


def row(size: int, forks: int, kind: str, name: str, attempt: str, own: Figures, other: Figures | None) -> str:
    ratio = ""
    if other is not None:
        goal = GOALS[attempt]
        speedup = other.wall / own.wall
        ratio = f"{speedup:.2f}x ({'met' if speedup >= goal else 'missed'}: >= {goal:.0f}x)"
    cells = [
        str(size), str(forks), kind, name, attempt, f"{own.wall:.1f}", f"{own.wall / size * 1000:.0f}",
        ratio, f"{own.logins:.1f}", f"{own.commands:.1f}", f"{own.sftp:.1f}", f"{own.sent / 1024:.0f}",
        f"{own.cpu:.1f}",
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


HEADER = (
    "| hosts | forks | job | who | run | wall s | ms/host | play / role | logins/host | commands/host | sftp/host "
    "| KiB sent/host | controller CPU s |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[20])
    parser.add_argument("--forks", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--job", choices=["node", "ipvs"], action="append", help="default: node and ipvs")
    parser.add_argument("--pyz", choices=["given", "role"], default="given")
    args = parser.parse_args()
    if sshfleet.missing_tools():
        sys.exit(f"the SSH fleet needs {', '.join(sshfleet.missing_tools())}")
    jobs = args.job or ["node", "ipvs"]
    print(f"{os.uname().nodename}, {os.cpu_count()} CPUs; {Path('/proc/loadavg').read_text().split()[:3]} at start")
    results: dict[tuple[int, int, str, str], tuple[Figures, Figures]] = {}
    order: Counter[str] = Counter()  # pairs run per job: each job alternates which of its two runs first
    with tempfile.TemporaryDirectory(prefix="k8snode-bench-") as temp:
        scratch = Path(temp)
        pyz = None
        if args.pyz == "given" and "node" in jobs:
            pyz = scratch / "pyz"  # one archive per interpreter (k8snode_pyz: a directory)
            build = [sys.executable, str(REPO / "tools/build_pyz.py"), "--universal", "--out-dir", str(pyz)]
            subprocess.run(build, check=True)
        print(HEADER, flush=True)
        for size in args.hosts:
            folder = sshfleet.short_folder()
            try:
                started = time.perf_counter()
                fleet = sshfleet.up(size, folder, timeout=300)
                rss = statistics.median(host.rss_kib() for host in fleet.hosts)
                print(
                    f"| {size} hosts up in {time.perf_counter() - started:.1f} s, sshd RSS {rss / 1024:.1f} MiB each |"
                )
                for forks in args.forks:
                    for kind in jobs:
                        plays = job(kind, pyz)
                        names = ["role", "play"] if order[kind] % 2 == 0 else ["play", "role"]
                        order[kind] += 1
                        for name in names:
                            playbook, common, check = plays[name]
                            results[size, forks, kind, name] = timed(
                                fleet, playbook, common, check, forks, scratch / "run"
                            )
                        load = Path("/proc/loadavg").read_text().split()[0]
                        for attempt, index in (("fresh", 0), ("converged", 1)):
                            role, play = results[size, forks, kind, "role"], results[size, forks, kind, "play"]
                            print(row(size, forks, kind, "role", attempt, role[index], play[index]))
                            print(row(size, forks, kind, "play", attempt, play[index], None))
                        print(f"| | | | first: {names[0]}; load {load} | | | | | | | | | |", flush=True)
            finally:
                left = sshfleet.down(folder)
                shutil.rmtree(folder, ignore_errors=True)
            print(f"| {size} hosts down; leftovers: {left or 'none'} |", flush=True)
    report(results, args.hosts, args.forks, jobs)


def report(results, sizes: list[int], forks_values: list[int], jobs: list[str]) -> None:
    """The per-host growth goal, and where a speed goal was missed, the slowest tasks of the role's run."""
    print()
    if len(sizes) > 1:
        small, large = min(sizes), max(sizes)
        for forks in forks_values:
            for kind in jobs:
                for index, attempt in ((0, "fresh"), (1, "converged")):
                    growth = {
                        name: (results[large, forks, kind, name][index].wall / large)
                        / (results[small, forks, kind, name][index].wall / small)
                        for name in ("role", "play")
                    }
                    verdict = "met" if growth["role"] <= growth["play"] else "missed"
                    print(
                        f"{kind} {attempt}, forks {forks}: seconds per host {small}->{large} hosts grew "
                        f"{growth['role']:.2f}x for the role, {growth['play']:.2f}x for the play ({verdict})"
                    )
    for (size, forks, kind, name), figures in results.items():
        if name != "role":
            continue
        play = results[size, forks, kind, "play"]
        for index, attempt in ((0, "fresh"), (1, "converged")):
            if play[index].wall / figures[index].wall < GOALS[attempt]:
                tasks = "; ".join(f"{seconds:.1f} s {task}" for seconds, task in figures[index].tasks)
                print(f"missed, {kind} {attempt} at {size} hosts, forks {forks}; the role's slowest tasks: {tasks}")


if __name__ == "__main__":
    main()
