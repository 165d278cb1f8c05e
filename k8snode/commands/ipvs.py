"""`k8snode ipvs check | enable | disable`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from k8snode.commands.common import Debug, DryRun, Force, Json, Root, execute
from k8snode.core import console
from k8snode.core.result import Result
from k8snode.core.system import System
from k8snode.node.modules import Persist
from k8snode.proxy import ipvs as library
from k8snode.proxy.modes import KUBE_PROXY_METRICS

app = typer.Typer(
    help="Check, load and persist the kernel modules kube-proxy needs in IPVS mode.", no_args_is_help=True
)

SchedulerOption = Annotated[
    library.Scheduler,
    typer.Option("--scheduler", help="The IPVS scheduler kube-proxy is configured with; its module is added."),
]
PersistOption = Annotated[Persist, typer.Option("--persist", help="Where to persist the modules for the next boot.")]


@app.command()
def check(
    scheduler: SchedulerOption = library.Scheduler.RR,
    root: Root = Path("/"),
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """Report each required module's state and the persistence files; exit 1 when either is not in place."""
    execute(
        "ipvs check",
        lambda: library.check(System(root, debug), str(scheduler)),
        show,
        json_output=json_output,
        debug=debug,
    )


@app.command()
def enable(
    scheduler: SchedulerOption = library.Scheduler.RR,
    persist: PersistOption = Persist.AUTO,
    force: Force = False,
    dry_run: DryRun = False,
    root: Root = Path("/"),
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """Load the required modules (one modprobe each), verify them, and persist them across reboots."""
    execute(
        "ipvs enable",
        lambda: library.enable(System(root, debug), str(scheduler), persist, dry_run=dry_run, force=force),
        show,
        json_output=json_output,
        debug=debug,
    )


@app.command()
def disable(
    unload: Annotated[
        bool, typer.Option("--unload", help="Also unload the modules the removed files listed (modprobe -r).")
    ] = False,
    every: Annotated[
        bool, typer.Option("--all", help="With --unload: unload every loaded ip_vs module, listed or not.")
    ] = False,
    force: Force = False,
    dry_run: DryRun = False,
    root: Root = Path("/"),
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """Remove the persistence files k8snode wrote; with --unload, unload the modules not in use."""
    execute(
        "ipvs disable",
        lambda: library.disable(System(root, debug), unload=unload, force=force, dry_run=dry_run, every=every),
        show,
        json_output=json_output,
        debug=debug,
    )


@app.command()
def cleanup(
    every: Annotated[
        bool, typer.Option("--all", help="Also remove the virtual servers that are not kube-proxy's.")
    ] = False,
    kube_proxy_metrics: Annotated[
        str, typer.Option(help="Where kube-proxy answers /proxyMode; cleanup refuses while it runs ipvs or iptables.")
    ] = KUBE_PROXY_METRICS,
    dry_run: DryRun = False,
    root: Root = Path("/"),
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """Remove what kube-proxy's IPVS mode left: its virtual servers, kube-ipvs0, its iptables chains, its ipsets."""
    from k8snode.health.doctor import running_proxy_mode  # lazy: the other ipvs commands need no HTTP
    from k8snode.proxy import ipvs_cleanup

    def run() -> Result:
        mode = running_proxy_mode(kube_proxy_metrics)
        return ipvs_cleanup.cleanup(System(root, debug), running_mode=mode, remove_all=every, dry_run=dry_run)

    execute("ipvs cleanup", run, show_cleanup, json_output=json_output, debug=debug)


def show_cleanup(result: Result) -> None:
    rows = [[i["kind"], i["name"], i["action"], i["reason"]] for i in result.data["removed"] + result.data["kept"]]
    if rows:
        console.table("kube-proxy's IPVS leftovers", ["kind", "object", "action", "why"], rows)
    console.line(result.summary, style="green")


def show(result: Result) -> None:
    data = result.data
    kernel = data["kernel"]
    if data.get("modules"):
        console.table(
            f"IPVS modules (kernel {kernel['release']})",
            ["module", "state", "from", "action"],
            [[m["name"], m["state"], m["source"], m["action"]] for m in data["modules"]],
        )
    if "conntrack_rule" in data:
        rule = data["conntrack_rule"]
        console.line(f"conntrack module: {rule['module']} (rule: {rule['rule']}; {rule['reason']})")
    if data.get("files"):
        console.table(
            "Persistence files",
            ["path", "action", "mode"],
            [[f["path"], f["action"], f["mode"]] for f in data["files"]],
        )
    for path, text in data.get("diffs", {}).items():
        console.line(f"diff for {path}:")
        console.diff(text)
    for problem in data.get("problems", []):
        console.line(problem, style="red")
    console.line(result.summary, style="green" if result.ok else "yellow")


@app.command()
def status(root: Root = Path("/"), json_output: Json = False, debug: Debug = False) -> None:
    """Show the IPVS virtual servers and real servers (/proc/net/ip_vs) and kube-proxy's KUBE-* ipsets."""
    from k8snode.proxy import ipvs_state

    execute(
        "ipvs status",
        lambda: ipvs_state.status(System(root, debug)),
        show_status,
        json_output=json_output,
        debug=debug,
    )


def show_status(result: Result) -> None:
    from k8snode.health.probe import join_host_port  # lazy: check, enable and disable do not need the probe stack

    rows = []
    for server in result.data["virtual_servers"]:
        where = server["address"] if server["port"] is None else join_host_port(server["address"], server["port"])
        first = [f"{server['protocol']} {where}", server["scheduler"]]
        for real in server["real_servers"]:
            rows.append([*first, join_host_port(real["address"], real["port"]), real["weight"]])
            first = ["", ""]
        if not server["real_servers"]:
            rows.append([*first, "", ""])
    console.table("IPVS virtual servers", ["virtual server", "scheduler", "real server", "weight"], rows)
    if result.data["ipsets"]:
        rows = [[s["name"], "?" if s["entries"] is None else s["entries"], s["purpose"]] for s in result.data["ipsets"]]
        console.table("KUBE-* ipsets", ["ipset", "entries", "what kube-proxy keeps in it"], rows)
    elif result.data["ipsets"] is not None:
        console.line("ipsets: (no KUBE-* sets)")
    console.line(result.summary)
