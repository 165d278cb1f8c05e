"""`k8snode node check | prepare | reset`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from k8snode.commands.common import Debug, DryRun, Force, Json, Root, execute, group
from k8snode.commands.ipvs import PersistOption, SchedulerOption, assessment_data, disabled_data
from k8snode.core import console
from k8snode.core.errors import ExitCode
from k8snode.core.result import Result
from k8snode.core.system import System
from k8snode.core.versions import NEWEST_KUBERNETES
from k8snode.node.modules import Persist
from k8snode.node.swap import SwapMode
from k8snode.prepare import node as library
from k8snode.proxy.ipvs import Scheduler
from k8snode.proxy.modes import ProxyMode
from k8snode.runtime.model import RuntimeChoice
from k8snode.runtime.wanted import Sources

app, subcommand = group(
    """Check, prepare and reset a kubeadm node's prerequisites.

    Every kernel and OS prerequisite of a kubeadm node: modules, sysctls (now and after a reboot) and swap; and the
    container runtime's configuration (containerd's config.toml) against the kubelet and kubeadm.
    """,
    epilog="""Examples:

\b
  k8snode node check
  k8snode node prepare --dry-run
  k8snode node prepare --proxy-mode nftables --ip-family dual
  k8snode node prepare --kubeadm-config kubeadm.yaml --restart-runtime
  k8snode node reset --dry-run""",
)

ProxyModeOption = Annotated[
    ProxyMode, typer.Option("--proxy-mode", help="kube-proxy's mode: ipvs adds the IPVS set, nftables nf_tables.")
]
IpFamilyOption = Annotated[
    library.IpFamily, typer.Option("--ip-family", help="ipv6 and dual also turn on net.ipv6.conf.all.forwarding.")
]
RuntimeOption = Annotated[
    RuntimeChoice,
    typer.Option("--runtime", help="The container runtime: auto finds it by its socket and binary; none skips it."),
]
KubernetesVersionOption = Annotated[
    str | None,
    typer.Option(
        "--kubernetes-version",
        help="The target release, whose kubeadm pause image the runtime's sandbox image must be.",
        show_default=NEWEST_KUBERNETES,
    ),
]
KubeletConfigOption = Annotated[
    str | None,
    typer.Option(
        "--kubelet-config",
        help="A KubeletConfiguration whose cgroupDriver the runtime must use (default: the node's "
        "/var/lib/kubelet/config.yaml, else systemd).",
    ),
]
KubeadmConfigOption = Annotated[
    str | None,
    typer.Option(
        "--kubeadm-config",
        help="A kubeadm configuration: its criSocket, kubernetesVersion and KubeletConfiguration's cgroupDriver.",
    ),
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
    runtime: RuntimeOption = RuntimeChoice.AUTO,
    kubernetes_version: KubernetesVersionOption = None,
    kubelet_config: KubeletConfigOption = None,
    kubeadm_config: KubeadmConfigOption = None,
    root: Root = Path("/"),
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """Report modules, sysctls, swap and the container runtime; exit 1 on drift.

    Sysctls now and after a reboot, and what a reboot would undo; the runtime's CRI plugin, cgroup driver, sandbox
    image, socket and binary. Read-only.
    """
    sources = Sources(kubernetes_version, kubelet_config, kubeadm_config)
    options = library.Options(proxy_mode, str(scheduler), ip_family, swap, persist, runtime=runtime, sources=sources)
    execute(
        "node check",
        lambda: check_result(library.check(System(root, debug), options)),
        show,
        json_output=json_output,
        debug=debug,
    )


@subcommand()
def prepare(
    proxy_mode: ProxyModeOption = ProxyMode.IPVS,
    scheduler: SchedulerOption = Scheduler.RR,
    ip_family: IpFamilyOption = library.IpFamily.IPV4,
    swap: SwapOption = SwapMode.OFF,
    persist: PersistOption = Persist.AUTO,
    runtime: RuntimeOption = RuntimeChoice.AUTO,
    kubernetes_version: KubernetesVersionOption = None,
    kubelet_config: KubeletConfigOption = None,
    kubeadm_config: KubeadmConfigOption = None,
    restart_runtime: Annotated[
        bool,
        typer.Option(
            "--restart-runtime", help="Restart the container runtime when its configuration changed (else: say so)."
        ),
    ] = False,
    force: Force = False,
    dry_run: DryRun = False,
    root: Root = Path("/"),
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """Load modules, set sysctls, turn swap off, configure the runtime, all for good.

    Loads and persists the modules, sets and persists the sysctls, turns swap off now and at boot and edits only the
    keys of the runtime's configuration that differ; exit 1 when something would undo that at the next boot or
    needs the operator.
    """
    sources = Sources(kubernetes_version, kubelet_config, kubeadm_config)
    options = library.Options(
        proxy_mode,
        str(scheduler),
        ip_family,
        swap,
        persist,
        force,
        runtime=runtime,
        sources=sources,
        restart_runtime=restart_runtime,
    )
    execute(
        "node prepare",
        lambda: prepare_result(library.prepare(System(root, debug), options, dry_run=dry_run)),
        show,
        json_output=json_output,
        debug=debug,
    )


@subcommand()
def reset(
    proxy_mode: ProxyModeOption = ProxyMode.IPVS,
    runtime: RuntimeOption = RuntimeChoice.AUTO,
    force: Force = False,
    dry_run: DryRun = False,
    root: Root = Path("/"),
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """Undo what prepare wrote.

    Its files, swap unit masks and fstab comments, and the runtime's configuration (restored byte for byte).
    """
    options = library.Options(proxy_mode=proxy_mode, force=force, runtime=runtime)
    execute(
        "node reset",
        lambda: reset_result(library.reset(System(root, debug), options, dry_run=dry_run)),
        show_reset,
        json_output=json_output,
        debug=debug,
    )


def check_result(checked: library.Checked) -> Result:
    data = plan_data(checked.plan, None if checked.ipvs is None else assessment_data(checked.ipvs.assessment))
    if checked.nftables is not None:
        data["nftables"] = [requirement.as_dict() for requirement in checked.nftables]
    exit_code = ExitCode.DRIFT if checked.drift else ExitCode.OK
    return Result("node check", data, warnings=checked.warnings, exit_code=exit_code, summary=checked.summary)


def prepare_result(prepared: library.Prepared) -> Result:
    ipvs = None if prepared.ipvs is None else assessment_data(prepared.ipvs.assessment, diffs=prepared.dry_run)
    data = plan_data(prepared.plan, ipvs)
    if isinstance(data["runtime"], dict):
        data["runtime"]["restart"] = prepared.runtime_restart
    if prepared.dry_run:
        data["diffs"] = prepared.plan.diffs
    exit_code = ExitCode.DRIFT if prepared.plan.problems else ExitCode.OK
    return Result("node prepare", data, prepared.changed, prepared.warnings, exit_code, summary=prepared.summary)


def reset_result(undone: library.Undone) -> Result:
    data = {
        "files": [f.as_dict() for f in undone.files],
        "fstab_entries": undone.fstab_entries,
        "units": [{"unit": u, "action": a} for u, a in undone.masks.items()],
        "daemon_reload": undone.daemon_reload,
        "ipvs": None if undone.ipvs is None else disabled_data(undone.ipvs),
        "runtime_files": [f.as_dict() for f in undone.runtime_files],
        "diffs": {str(f.path): f.diff() for f in undone.files + undone.runtime_files} if undone.dry_run else {},
    }
    warnings = undone.warnings + ([] if undone.ipvs is None else undone.ipvs.warnings)
    return Result("node reset", data, undone.changed, warnings, summary=undone.summary)


def plan_data(plan: library.Plan, ipvs: dict[str, object] | None) -> dict[str, object]:
    return {
        "kernel": plan.kernel.as_dict(),
        "proxy_mode": str(plan.options.proxy_mode),
        "ip_family": str(plan.options.ip_family),
        "modules": [m.as_dict() for m in plan.modules],
        "sysctls": [s.as_dict() for s in plan.sysctls],
        "swap": plan.swap.as_dict(),
        "files": [f.as_dict() for f in plan.files],
        "problems": plan.missing + plan.problems,
        "ipvs": ipvs,
        "runtime": None if plan.runtime is None else plan.runtime.as_dict(),
    }


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
    if data["runtime"]:
        runtime = data["runtime"]
        console.table(
            f"Container runtime ({runtime['runtime']} {runtime['version'] or 'version unknown'})",
            ["check", "status", "found", "wanted"],
            [[f["id"], f["status"], f["found"] or "-", f["wanted"] or "-"] for f in runtime["findings"]],
        )
        if "restart" in runtime and runtime["restart_needed"]:  # prepare's, not check's
            restart = runtime["restart"]
            said = f"restart: {restart}" if restart else "restart it (or pass --restart-runtime) to apply it"
            console.line(f"{runtime['runtime']}'s configuration changed; {said}")
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
    files = list(data["files"]) + data["runtime_files"] + (data["ipvs"]["files"] if data["ipvs"] else [])
    if files:
        console.table("Files", ["path", "action", "mode"], [[f["path"], f["action"], f["mode"]] for f in files])
    if data["units"]:
        console.table("Swap units", ["unit", "action"], [[u["unit"], u["action"]] for u in data["units"]])
    for path, text in data["diffs"].items():
        console.line(f"diff for {path}:")
        console.diff(text)
    console.line(result.summary)
