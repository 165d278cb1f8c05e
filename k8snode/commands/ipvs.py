"""`k8snode ipvs check | enable | disable`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from k8snode.commands.common import Debug, DryRun, Force, Json, Root, execute, group
from k8snode.core import console
from k8snode.core.durations import timeout_seconds
from k8snode.core.errors import ExitCode
from k8snode.core.files import Action
from k8snode.core.result import Result
from k8snode.core.system import System
from k8snode.node.modules import Persist
from k8snode.proxy import ipvs as library
from k8snode.proxy.modes import KUBE_PROXY_METRICS

if TYPE_CHECKING:
    from k8snode.proxy.ipvs_state import State

app, subcommand = group(
    """Check, load and persist the IPVS kernel modules.

    The modules kube-proxy needs in IPVS mode, and what its IPVS mode leaves on a node.
    """,
    epilog="""Examples:

\b
  k8snode ipvs check
  k8snode ipvs enable --scheduler wrr --dry-run
  k8snode ipvs status --json
  k8snode ipvs cleanup --dry-run""",
)

SchedulerOption = Annotated[
    library.Scheduler,
    typer.Option("--scheduler", help="The IPVS scheduler kube-proxy is configured with; its module is added."),
]
PersistOption = Annotated[Persist, typer.Option("--persist", help="Where to persist the modules for the next boot.")]


@subcommand()
def check(
    scheduler: SchedulerOption = library.Scheduler.RR,
    root: Root = Path("/"),
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """Report the modules and their persistence files.

    Each required module's state and the files that load them at boot; exit 1 when either is not in place.
    Read-only.
    """
    execute(
        "ipvs check",
        lambda: check_result(library.check(System(root, debug), str(scheduler))),
        show,
        json_output=json_output,
        debug=debug,
    )


@subcommand()
def enable(
    scheduler: SchedulerOption = library.Scheduler.RR,
    persist: PersistOption = Persist.AUTO,
    force: Force = False,
    dry_run: DryRun = False,
    root: Root = Path("/"),
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """Load the modules and persist them across reboots.

    One modprobe each, then /proc/modules is read to verify them.
    """
    execute(
        "ipvs enable",
        lambda: enable_result(
            library.enable(System(root, debug), str(scheduler), persist, dry_run=dry_run, force=force)
        ),
        show,
        json_output=json_output,
        debug=debug,
    )


@subcommand()
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
    """Remove the persistence files k8snode wrote.

    With --unload, also unload the modules not in use.
    """
    execute(
        "ipvs disable",
        lambda: disable_result(
            library.disable(System(root, debug), unload=unload, force=force, dry_run=dry_run, every=every)
        ),
        show,
        json_output=json_output,
        debug=debug,
    )


@subcommand()
def cleanup(
    every: Annotated[
        bool, typer.Option("--all", help="Also remove the virtual servers that are not kube-proxy's.")
    ] = False,
    kube_proxy_metrics: Annotated[
        str,
        typer.Option(
            "--kube-proxy-metrics",
            help="Where kube-proxy answers /proxyMode; cleanup refuses while it runs ipvs or iptables.",
        ),
    ] = KUBE_PROXY_METRICS,
    timeout: Annotated[
        str,
        typer.Option(
            "--timeout",
            help="How long to wait for /proxyMode's answer (Go duration); a late answer refuses the cleanup.",
        ),
    ] = "1s",
    dry_run: DryRun = False,
    root: Root = Path("/"),
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """Remove what kube-proxy's IPVS mode left on the node.

    Its virtual servers, kube-ipvs0, its iptables chains and its ipsets; nothing that is not kube-proxy's.
    """
    from k8snode.health.doctor import running_proxy_mode  # lazy: the other ipvs commands need no HTTP
    from k8snode.proxy import ipvs_cleanup

    def run() -> Result:
        answer = running_proxy_mode(kube_proxy_metrics, timeout_seconds(timeout, "--timeout"))
        done = ipvs_cleanup.cleanup(
            System(root, debug), running_mode=answer.mode, unclear=answer.unclear, remove_all=every, dry_run=dry_run
        )
        removed, kept = [item.as_dict() for item in done.removed], [item.as_dict() for item in done.kept]
        data = {"removed": removed, "kept": kept, "dry_run": done.dry_run}
        return Result("ipvs cleanup", data, bool(done.removed), done.warnings, summary=done.summary)

    execute("ipvs cleanup", run, show_cleanup, json_output=json_output, debug=debug)


def check_result(check: library.Check) -> Result:
    return Result(
        "ipvs check",
        assessment_data(check.assessment),
        warnings=check.assessment.warnings,
        exit_code=ExitCode.OK if check.ok else ExitCode.DRIFT,
        summary=check.summary,
    )


def enable_result(enabled: library.Enabled) -> Result:
    data = assessment_data(enabled.assessment, diffs=enabled.dry_run)
    return Result("ipvs enable", data, enabled.changed, enabled.assessment.warnings, summary=enabled.summary)


def disable_result(disabled: library.Disabled) -> Result:
    return Result(
        "ipvs disable", disabled_data(disabled), disabled.changed, disabled.warnings, summary=disabled.summary
    )


def assessment_data(assessment: library.Assessment, *, diffs: bool = False) -> dict[str, object]:
    conntrack = assessment.conntrack
    data: dict[str, object] = {
        "kernel": assessment.kernel.as_dict(),
        "proxy_mode": "ipvs",
        "scheduler": assessment.scheduler,
        "conntrack_rule": {"module": conntrack.module, "rule": conntrack.rule, "reason": conntrack.reason},
        "modules": [m.as_dict() for m in assessment.modules],
        "files": [f.as_dict() for f in assessment.files],
        "problems": assessment.problems,
    }
    if diffs:
        data["diffs"] = {str(f.path): f.diff() for f in assessment.files if f.action != Action.UNCHANGED}
    return data


def disabled_data(disabled: library.Disabled) -> dict[str, object]:
    return {
        "kernel": disabled.kernel.as_dict(),
        "proxy_mode": "ipvs",
        "files": [f.as_dict() for f in disabled.files],
        "modules": [m.as_dict() for m in disabled.modules],
    }


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


@subcommand()
def status(root: Root = Path("/"), json_output: Json = False, debug: Debug = False) -> None:
    """Show the IPVS virtual servers and kube-proxy's ipsets.

    The virtual servers and their real servers from /proc/net/ip_vs, and kube-proxy's KUBE-* ipsets.
    """
    from k8snode.proxy import ipvs_state

    execute(
        "ipvs status",
        lambda: status_result(ipvs_state.read(System(root, debug))),
        show_status,
        json_output=json_output,
        debug=debug,
    )


def status_result(state: State) -> Result:
    servers = state.virtual_servers or []
    real = sum(len(s.real_servers) for s in servers)
    sets = "" if state.ipsets is None else f", {len(state.ipsets)} KUBE-* ipset(s)"
    data = {
        "virtual_servers": [s.as_dict() for s in servers],
        "ipsets": None if state.ipsets is None else [s.as_dict() for s in state.ipsets],
    }
    summary = f"{len(servers)} virtual server(s), {real} real server(s){sets}"
    return Result("ipvs status", data, warnings=state.warnings, summary=summary)


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
