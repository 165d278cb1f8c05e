"""`k8snode node check | prepare | reset`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from k8snode.commands.common import Debug, DryRun, Force, Json, Root, execute, group
from k8snode.commands.ipvs import PersistOption, SchedulerOption
from k8snode.core import console
from k8snode.core.result import Result
from k8snode.core.system import System
from k8snode.node.modules import Persist
from k8snode.node.swap import SwapMode
from k8snode.prepare import node as library
from k8snode.proxy.ipvs import Scheduler
from k8snode.proxy.modes import ProxyMode

app, subcommand = group(
    """Check, prepare and reset a kubeadm node's prerequisites.

    Every kernel and OS prerequisite of a kubeadm node: modules, sysctls (now and after a reboot) and swap.
    """,
    epilog="""Examples:

\b
  k8snode node check
  k8snode node prepare --dry-run
  k8snode node prepare --proxy-mode nftables --ip-family dual
  k8snode node reset --dry-run""",
)

ProxyModeOption = Annotated[
    ProxyMode, typer.Option("--proxy-mode", help="kube-proxy's mode: ipvs adds the IPVS set, nftables nf_tables.")
]
IpFamilyOption = Annotated[
    library.IpFamily, typer.Option("--ip-family", help="ipv6 and dual also turn on net.ipv6.conf.all.forwarding.")
]
SwapOption = Annotated[
    SwapMode,
    typer.Option("--swap", help="off: swap off now and at boot; keep: leave swap alone (the kubelet must allow it)."),
]


@subcommand()
def check(
    proxy_mode: ProxyModeOption = ProxyMode.IPVS,
    scheduler: SchedulerOption = Scheduler.RR,
    ip_family: IpFamilyOption = library.IpFamily.IPV4,
    swap: SwapOption = SwapMode.OFF,
    persist: PersistOption = Persist.AUTO,
    root: Root = Path("/"),
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """Report modules, sysctls and swap; exit 1 on drift.

    Sysctls now and after a reboot, and what a reboot would undo. Read-only.
    """
    options = library.Options(proxy_mode, str(scheduler), ip_family, swap, persist)
    execute(
        "node check", lambda: library.check(System(root, debug), options), show, json_output=json_output, debug=debug
    )


@subcommand()
def prepare(
    proxy_mode: ProxyModeOption = ProxyMode.IPVS,
    scheduler: SchedulerOption = Scheduler.RR,
    ip_family: IpFamilyOption = library.IpFamily.IPV4,
    swap: SwapOption = SwapMode.OFF,
    persist: PersistOption = Persist.AUTO,
    force: Force = False,
    dry_run: DryRun = False,
    root: Root = Path("/"),
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """Load modules, set sysctls, turn swap off, all for good.

    Loads and persists the modules, sets and persists the sysctls and turns swap off now and at boot; exit 1 when
    something would undo that at the next boot.
    """
    options = library.Options(proxy_mode, str(scheduler), ip_family, swap, persist, force)
    execute(
        "node prepare",
        lambda: library.prepare(System(root, debug), options, dry_run=dry_run),
        show,
        json_output=json_output,
        debug=debug,
    )


@subcommand()
def reset(
    proxy_mode: ProxyModeOption = ProxyMode.IPVS,
    force: Force = False,
    dry_run: DryRun = False,
    root: Root = Path("/"),
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """Undo what prepare wrote.

    Its files, swap unit masks and fstab comments (restored byte for byte).
    """
    options = library.Options(proxy_mode=proxy_mode, force=force)
    execute(
        "node reset",
        lambda: library.reset(System(root, debug), options, dry_run=dry_run),
        show_reset,
        json_output=json_output,
        debug=debug,
    )


def show(result: Result) -> None:
    data = result.data
    modules = list(data["modules"]) + (data["ipvs"]["modules"] if data["ipvs"] else [])
    console.table(
        f"Kernel modules (kernel {data['kernel']['release']})",
        ["module", "state", "from", "action"],
        [[m["name"], m["state"], m["source"], m["action"]] for m in modules],
    )
    console.table(
        "Sysctls",
        ["key", "wanted", "running", "after reboot", "from", "action"],
        [
            [s["key"], s["wanted"], s["running"] or "-", s["boot"] or "-", s["boot_source"] or "-", s["action"]]
            for s in data["sysctls"]
        ],
    )
    swap = data["swap"]
    rows = [[d["device"], d["action"]] for d in swap["swapoff"]] + [[u["unit"], u["action"]] for u in swap["units"]]
    rows += [[entry, "comment out in /etc/fstab"] for entry in swap["fstab_entries"]]
    if rows:
        console.table(f"Swap ({swap['mode']})", ["what", "action"], rows)
    if data.get("nftables"):
        met = {True: "yes", False: "no", None: "unknown"}
        rows = [[r["id"], met[r["met"]], r["detail"], r["hint"]] for r in data["nftables"]]
        console.table("nftables mode", ["needs", "met", "found", "hint"], rows)
    files = list(data["files"]) + (data["ipvs"]["files"] if data["ipvs"] else [])
    if files:
        console.table("Files", ["path", "action", "mode"], [[f["path"], f["action"], f["mode"]] for f in files])
    for path, text in {**data.get("diffs", {}), **(data["ipvs"] or {}).get("diffs", {})}.items():
        console.line(f"diff for {path}:")
        console.diff(text)
    for problem in data["problems"]:
        console.line(problem, style="red")
    console.line(result.summary, style="green" if result.ok else "yellow")


def show_reset(result: Result) -> None:
    data = result.data
    files = list(data["files"]) + (data["ipvs"]["files"] if data["ipvs"] else [])
    if files:
        console.table("Files", ["path", "action", "mode"], [[f["path"], f["action"], f["mode"]] for f in files])
    if data["units"]:
        console.table("Swap units", ["unit", "action"], [[u["unit"], u["action"]] for u in data["units"]])
    for path, text in data["diffs"].items():
        console.line(f"diff for {path}:")
        console.diff(text)
    console.line(result.summary)
