"""Wall time of the role's node preparation (one `k8snode node prepare` task per host: modules with the IPVS set,
sysctls, swap) against a kubespray-style plain-Ansible playbook doing the same job.

Both run on local sandbox hosts (fake roots from tests/fakes.py, several kernels, forwarding off and one swap
device on and in fstab), from fresh roots and then once more on the converged roots, in one ansible-playbook run
each. Prints a table of medians per fleet size. Not a test: numbers vary with load.

    .venv/bin/python bench/ansible_node.py [--hosts 20 200] [--repeat 3 1] [--forks 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from ansible_ipvs import BENCH, REQUIRED, timed_runs
from fleet import Host

PLAYBOOKS = {"k8snode role": BENCH / "role_node.yml", "kubespray-style": BENCH / "kubespray_style_node.yml"}
SWAP = "/dev/sda2"


def prepared(host: Host) -> str | None:
    """What the host lacks after a run: modules, forwarding, swap off, the fstab entry gone."""
    path = host.root.path
    missing = ({"br_netfilter", "overlay"} | REQUIRED) - set(host.root.proc_modules())
    if missing:
        return f"{host.name} lacks {' '.join(sorted(missing))}"
    if (path / "proc/sys/net/ipv4/ip_forward").read_text().strip() != "1":
        return f"{host.name} has net.ipv4.ip_forward off"
    if SWAP in (path / "proc/swaps").read_text():
        return f"{host.name} still swaps on {SWAP}"
    if any(line.startswith(SWAP) for line in (path / "etc/fstab").read_text().splitlines()):
        return f"{host.name} still lists {SWAP} in /etc/fstab"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[20, 200])
    parser.add_argument("--repeat", type=int, nargs="+", default=[3, 1], help="runs per fleet size, in order")
    parser.add_argument("--forks", type=int, default=20)
    args = parser.parse_args()
    print(f"local sandbox hosts, forks {args.forks}, wall seconds of ansible-playbook (median of the runs)")
    print()
    header = ["hosts", "runs", "role, fresh", "plain, fresh", "plain/role", "role, converged", "plain, converged"]
    print("| " + " | ".join([*header, "plain/role"]) + " |")
    print("|---|---|---|---|---|---|---|---|", flush=True)
    with tempfile.TemporaryDirectory(prefix="k8snode-bench-") as temp:
        for hosts, repeat in zip(args.hosts, args.repeat + args.repeat[-1:] * len(args.hosts), strict=False):
            medians = {}
            for name, playbook in PLAYBOOKS.items():
                samples = [
                    timed_runs(
                        playbook, hosts, args.forks, Path(temp) / "run", swaps=(SWAP,), check=prepared, timeout=7200
                    )
                    for _ in range(repeat)
                ]
                medians[name] = tuple(statistics.median(s[i] for s in samples) for i in range(2))
            role, plain = medians["k8snode role"], medians["kubespray-style"]
            cells = [f"{role[0]:.2f}", f"{plain[0]:.2f}", f"{plain[0] / role[0]:.2f}x"]
            cells += [f"{role[1]:.2f}", f"{plain[1]:.2f}", f"{plain[1] / role[1]:.2f}x"]
            print(f"| {hosts} | {repeat} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
