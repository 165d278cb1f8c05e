"""`k8snode doctor`: a node readiness report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from k8snode.commands.common import Debug, Json, Root, command_app, execute
from k8snode.commands.ipvs import SchedulerOption
from k8snode.core import console
from k8snode.core.durations import timeout_seconds
from k8snode.core.errors import ExitCode
from k8snode.core.result import Result
from k8snode.core.system import System
from k8snode.proxy.ipvs import Scheduler
from k8snode.proxy.modes import KUBE_PROXY_HEALTHZ, KUBE_PROXY_METRICS, KUBELET_HEALTHZ, ProxyMode
from k8snode.runtime.model import RuntimeChoice

app = command_app()


@app.command(
    "doctor",
    epilog="""Examples:

\b
  k8snode doctor
  k8snode doctor --proxy-mode nftables --json
  k8snode doctor --runtime crio --kubernetes-version v1.36.3
  k8snode doctor --kubernetes-version v1.36.3 --target-version v1.37.0""",
)
def command(
    proxy_mode: Annotated[
        ProxyMode,
        typer.Option("--proxy-mode", help="The mode kube-proxy should run in (ipvs, as kubeadm-config renders)."),
    ] = ProxyMode.IPVS,
    scheduler: SchedulerOption = Scheduler.RR,
    kubelet_healthz: Annotated[str, typer.Option("--kubelet-healthz", help="kubelet's healthz URL.")] = KUBELET_HEALTHZ,
    kube_proxy_healthz: Annotated[
        str, typer.Option("--kube-proxy-healthz", help="kube-proxy's healthz URL.")
    ] = KUBE_PROXY_HEALTHZ,
    kube_proxy_metrics: Annotated[
        str, typer.Option("--kube-proxy-metrics", help="kube-proxy's metrics address; /proxyMode is read there.")
    ] = KUBE_PROXY_METRICS,
    timeout: Annotated[str, typer.Option("--timeout", help="Timeout of each HTTP check (Go duration).")] = "1s",
    kubernetes_version: Annotated[
        str | None,
        typer.Option(
            "--kubernetes-version",
            help="The kubelet release when `kubelet --version` cannot say (no kubelet on PATH): for the flag lint; "
            "and the release the runtime must suit (default: the newest k8snode knows).",
        ),
    ] = None,
    target_version: Annotated[
        str | None,
        typer.Option("--target-version", help="Lint the kubelet flags for this release instead: the next upgrade."),
    ] = None,
    runtime: Annotated[
        RuntimeChoice,
        typer.Option("--runtime", help="The container runtime: auto finds it by its socket and binary; none skips it."),
    ] = RuntimeChoice.AUTO,
    root: Root = Path("/"),
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """Check that this host is ready to be a Kubernetes node.

    Modules, sysctls, swap, binaries, the container runtime's configuration, the kubelet's flags, and kubelet and
    kube-proxy health; exit 1 when a check fails.
    """

    from k8snode.health import doctor as library  # lazy: its probes' imports are not paid by other commands

    def action() -> Result:
        seconds = timeout_seconds(timeout, "--timeout")
        endpoints = library.Endpoints(kubelet_healthz, kube_proxy_healthz, kube_proxy_metrics, seconds)
        from k8snode.kubelet.flags import parse_version  # bad versions are bad input, not a failed check

        for option, version in (("--kubernetes-version", kubernetes_version), ("--target-version", target_version)):
            if version is not None:
                parse_version(version, option)

        def kubelet_flags(system: System) -> tuple[str, str, str]:
            from k8snode.kubelet.lint import doctor_check

            return doctor_check(system, kubernetes_version, target_version)

        on_check = None if json_output or not console.interactive() else _show_check
        report = library.doctor(
            System(root, debug),
            proxy_mode,
            str(scheduler),
            endpoints,
            kubelet_flags,
            on_check,
            runtime,
            kubernetes_version,
        )
        data = {"proxy_mode": str(report.mode), "checks": [c.as_dict() for c in report.checks]}
        return Result(
            "doctor", data, exit_code=ExitCode.DRIFT if report.failed else ExitCode.OK, summary=report.summary
        )

    execute("doctor", action, show, json_output=json_output, debug=debug)


ROW_STYLES = {"fail": "red", "warn": "yellow"}


def _show_check(check_id: str, area: str) -> None:
    console.progress(f"checking {area}: {check_id}")


def show(result: Result) -> None:
    from k8snode.health.doctor import AREAS

    checks = result.data["checks"]
    groups = [
        (area, [[c["id"], c["status"], c["detail"], c["hint"]] for c in checks if c["area"] == area]) for area in AREAS
    ]
    console.grouped_table(
        f"k8snode doctor (proxy mode {result.data['proxy_mode']})",
        ["area", "check", "status", "detail", "hint"],
        [(area, rows) for area, rows in groups if rows],
        style=lambda row: ROW_STYLES.get(str(row[1])),
    )
    console.line(result.summary, style="green" if result.ok else "red")
