"""`k8snode probe http | tcp | exec | grpc`: wait until a check passes, with kubelet's probe semantics."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from k8snode.commands.common import Debug, Json, execute, group
from k8snode.core import console
from k8snode.core.errors import ExitCode
from k8snode.core.result import Result
from k8snode.core.system import System
from k8snode.health import probe as library

app, subcommand = group(
    """Probe until healthy, with kubelet's probe semantics.

    Probes until the success threshold is met (exit 0) or the failure threshold is reached (exit 1).
    """,
    epilog="""Examples:

\b
  k8snode probe http http://127.0.0.1:10248/healthz
  k8snode probe tcp 127.0.0.1:6443 --period 2s --failure-threshold 30
  k8snode probe exec -- test -S /run/containerd/containerd.sock""",
)

Timeout = Annotated[str, typer.Option("--timeout", help="Per-attempt timeout (Go duration), as timeoutSeconds.")]
Period = Annotated[str, typer.Option("--period", help="Time between attempt starts (Go duration), as periodSeconds.")]
SuccessThreshold = Annotated[int, typer.Option("--success-threshold", help="Consecutive successes that pass.")]
FailureThreshold = Annotated[int, typer.Option("--failure-threshold", help="Consecutive failures that fail.")]
InitialDelay = Annotated[str, typer.Option("--initial-delay", help="Wait before the first attempt (Go duration).")]
KubernetesVersion = Annotated[
    str, typer.Option("--kubernetes-version", help="Sets User-Agent: kube-probe/<major>.<minor>.")
]


def _run(
    kind: str,
    target: str,
    make_check: Callable[[library.Settings], Callable[[], library.Outcome]],
    timing: tuple[str, str, int, int, str],
    *,
    json_output: bool,
    debug: bool,
) -> None:
    def action() -> Result:
        settings = library.Settings.parse(*timing)
        on_attempt = None if json_output or not console.interactive() else _show_attempt
        probed = library.run(kind, target, make_check(settings), settings, library.MonotonicClock(), on_attempt)
        data = {
            "kind": probed.kind,
            "target": probed.target,
            "settings": probed.settings.as_dict(),
            "result": probed.result,
            "attempts": [a.as_dict() for a in probed.attempts],
        }
        exit_code = ExitCode.OK if probed.ok else ExitCode.DRIFT
        return Result(f"probe {kind}", data, warnings=probed.warnings, exit_code=exit_code, summary=probed.summary)

    execute(f"probe {kind}", action, show, json_output=json_output, debug=debug)


@subcommand()
def http(
    url: Annotated[str, typer.Argument(help="http:// or https:// URL to GET.")],
    header: Annotated[list[str] | None, typer.Option("--header", help="Extra header NAME:VALUE (repeatable).")] = None,
    verify: Annotated[bool, typer.Option("--verify", help="Verify the TLS certificate (kubelet does not).")] = False,
    kubernetes_version: KubernetesVersion = library.DEFAULT_KUBERNETES_VERSION,
    timeout: Timeout = "1s",
    period: Period = "10s",
    success_threshold: SuccessThreshold = 1,
    failure_threshold: FailureThreshold = 3,
    initial_delay: InitialDelay = "0s",
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """HTTP GET: 200 <= status < 400 passes.

    Same-host redirects are followed, others count as success.
    """
    from k8snode.health import http_probe

    def make_check(settings: library.Settings) -> Callable[[], library.Outcome]:
        headers = [http_probe.parse_header(text) for text in header or []]
        request = http_probe.Request(
            http_probe.parse_url(url),
            http_probe.probe_headers(headers, library.user_agent(kubernetes_version)),
            settings.timeout,
            verify,
        )
        return lambda: http_probe.get(request)

    timing = (timeout, period, success_threshold, failure_threshold, initial_delay)
    _run("http", url, make_check, timing, json_output=json_output, debug=debug)


@subcommand()
def tcp(
    address: Annotated[str, typer.Argument(help="HOST:PORT, or [IPv6]:PORT.")],
    timeout: Timeout = "1s",
    period: Period = "10s",
    success_threshold: SuccessThreshold = 1,
    failure_threshold: FailureThreshold = 3,
    initial_delay: InitialDelay = "0s",
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """TCP: passes when a connection opens (it is closed at once)."""

    def make_check(settings: library.Settings) -> Callable[[], library.Outcome]:
        host, port = library.host_port(address)
        return lambda: library.tcp(host, port, settings.timeout)

    timing = (timeout, period, success_threshold, failure_threshold, initial_delay)
    _run("tcp", address, make_check, timing, json_output=json_output, debug=debug)


@subcommand("exec", context_settings={"allow_interspersed_args": False})  # options end at the command
def exec_(
    command: Annotated[list[str], typer.Argument(help="The command and its arguments, after '--'.")],
    timeout: Timeout = "1s",
    period: Period = "10s",
    success_threshold: SuccessThreshold = 1,
    failure_threshold: FailureThreshold = 3,
    initial_delay: InitialDelay = "0s",
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """Run a command (no shell): exit 0 passes.

    Killed on timeout; its output is kept up to 10 KiB.
    """

    def make_check(settings: library.Settings) -> Callable[[], library.Outcome]:
        system = System(Path("/"), debug)  # a probe runs on this host, as kubelet's exec runs in the container
        return lambda: library.exec_command(system, command, settings.timeout)

    timing = (timeout, period, success_threshold, failure_threshold, initial_delay)
    _run("exec", shlex.join(command), make_check, timing, json_output=json_output, debug=debug)


@subcommand()
def grpc(
    address: Annotated[str, typer.Argument(help="HOST:PORT of a gRPC server.")],
    service: Annotated[str, typer.Option("--service", help="Service name in the HealthCheckRequest.")] = "",
    kubernetes_version: KubernetesVersion = library.DEFAULT_KUBERNETES_VERSION,
    timeout: Timeout = "1s",
    period: Period = "10s",
    success_threshold: SuccessThreshold = 1,
    failure_threshold: FailureThreshold = 3,
    initial_delay: InitialDelay = "0s",
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """gRPC: grpc.health.v1.Health/Check; only SERVING passes. Needs the k8snode[grpc] extra."""
    from k8snode.health import grpc_probe

    def make_check(settings: library.Settings) -> Callable[[], library.Outcome]:
        grpc_probe.modules()
        host, port = library.host_port(address)
        agent = library.user_agent(kubernetes_version)
        return lambda: grpc_probe.check(host, port, service, settings.timeout, agent)

    timing = (timeout, period, success_threshold, failure_threshold, initial_delay)
    _run("grpc", address, make_check, timing, json_output=json_output, debug=debug)


def _show_attempt(attempt: library.Attempt) -> None:
    row = attempt.as_dict()
    console.progress(
        f"attempt {row['attempt']} at {attempt.started_ms / 1000:.1f}s: {row['result']} {_status(row)} "
        f"({attempt.latency_ms:.0f} ms) {_first_line(str(row['message']))}".rstrip()
    )


def _status(row: dict[str, object]) -> object:
    return row["status"] if row["status"] is not None else row["exit_code"] if row["exit_code"] is not None else ""


def show(result: Result) -> None:
    data = result.data
    console.table(
        f"probe {data['kind']} {data['target']}",
        ["#", "at", "result", "status", "latency", "message"],
        [
            [
                a["attempt"],
                f"{a['started_ms'] / 1000:.1f}s",
                a["result"],
                _status(a),
                f"{a['latency_ms']:.0f} ms",
                _first_line(a["message"]),
            ]
            for a in data["attempts"]
        ],
    )
    console.line(result.summary, style="green" if result.ok else "red")


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else ""
