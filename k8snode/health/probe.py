"""Kubelet's probe loop and its tcp and exec probes (http in http_probe.py, grpc in grpc_probe.py).

Sources, kubernetes/kubernetes: pkg/probe/{http,tcp,exec,grpc} for one attempt, pkg/kubelet/prober/worker.go and
prober.go for the loop (consecutive results against the thresholds; a Warning counts as Success),
pkg/apis/core/v1/defaults.go for the defaults.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from k8snode.core.compat import StrEnum
from k8snode.core.durations import parse_duration
from k8snode.core.errors import K8snodeError, bad_input
from k8snode.core.system import System
from k8snode.core.versions import NEWEST_KUBERNETES, parse_kubernetes_version

MAX_OUTPUT = 10 * 1024
"""pkg/probe/exec maxReadLength and pkg/probe/http maxRespBodyLength: 10 KiB."""
DEFAULT_KUBERNETES_VERSION = NEWEST_KUBERNETES
AddressInfo = tuple[
    socket.AddressFamily, socket.SocketKind, int, str, tuple[str, int] | tuple[str, int, int, int] | tuple[int, bytes]
]
"""One answer of socket.getaddrinfo: family, type, protocol, canonical name and the address to connect to."""


class Verdict(StrEnum):
    SUCCESS = "success"
    WARNING = "warning"  # kubelet's probe.Warning: counted as a success (pkg/kubelet/prober/prober.go)
    FAILURE = "failure"


@dataclass(frozen=True)
class Outcome:
    """One probe's answer, as pkg/probe returns it: a verdict and a message, plus what the answer carried."""

    verdict: Verdict
    message: str
    status: int | str | None = None
    """The HTTP status code, or the gRPC serving status."""
    exit_code: int | None = None
    warning: str | None = None
    refused: bool = False
    """Nothing listens at the address (the connection was refused)."""


@dataclass(frozen=True)
class Attempt:
    number: int
    started_ms: float
    """Since the loop started, on the loop's clock."""
    latency_ms: float
    outcome: Outcome

    def as_dict(self) -> dict[str, object]:
        return {
            "attempt": self.number,
            "result": str(self.outcome.verdict),
            "status": self.outcome.status,
            "exit_code": self.outcome.exit_code,
            "latency_ms": round(self.latency_ms, 3),
            "started_ms": round(self.started_ms, 3),
            "message": self.outcome.message,
        }


@dataclass(frozen=True)
class Settings:
    """A pod spec probe's timing, in seconds, with kubelet's defaults."""

    timeout: float = 1.0
    period: float = 10.0
    success_threshold: int = 1
    failure_threshold: int = 3
    initial_delay: float = 0.0
    texts: dict[str, str] = field(default_factory=dict, compare=False)
    """The durations as given, for the report."""

    @classmethod
    def parse(
        cls, timeout: str, period: str, success_threshold: int, failure_threshold: int, initial_delay: str
    ) -> Settings:
        """Go durations and positive thresholds, or bad input naming the option."""
        if success_threshold < 1 or failure_threshold < 1:
            raise bad_input("--success-threshold and --failure-threshold must be at least 1")
        seconds = {}
        for option, text, allow_zero in (
            ("--timeout", timeout, False),
            ("--period", period, False),
            ("--initial-delay", initial_delay, True),
        ):
            try:
                nanoseconds = parse_duration(text)
            except ValueError as error:
                raise bad_input(f"{option}: {error}; use Go duration syntax such as 1s, 500ms or 1m30s") from None
            if nanoseconds < 0 or (nanoseconds == 0 and not allow_zero):
                raise bad_input(f"{option} must be {'zero or more' if allow_zero else 'more than zero'}, not {text}")
            seconds[option] = nanoseconds / 1e9
        return cls(
            seconds["--timeout"],
            seconds["--period"],
            success_threshold,
            failure_threshold,
            seconds["--initial-delay"],
            {"timeout": timeout, "period": period, "initial_delay": initial_delay},
        )

    def as_dict(self) -> dict[str, object]:
        return {
            **self.texts,
            "success_threshold": self.success_threshold,
            "failure_threshold": self.failure_threshold,
        }


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def watch(
    check: Callable[[], Outcome], settings: Settings, clock: Clock, on_attempt: Callable[[Attempt], None] | None = None
) -> tuple[list[Attempt], bool]:
    """Probe every period until ``success_threshold`` consecutive successes (True) or ``failure_threshold``
    consecutive failures (False), after the initial delay: kubelet's worker loop. Periods are counted from
    each attempt's start, as a ticker does, so a slow attempt does not stretch the period. ``on_attempt`` hears
    of each attempt as it ends (progress on a terminal)."""
    start = clock.now()
    if settings.initial_delay > 0:
        clock.sleep(settings.initial_delay)
    attempts: list[Attempt] = []
    last_ok: bool | None = None
    streak = 0
    due = clock.now()
    while True:
        began = clock.now()
        outcome = check()
        ended = clock.now()
        attempts.append(Attempt(len(attempts) + 1, (began - start) * 1000, (ended - began) * 1000, outcome))
        if on_attempt is not None:
            on_attempt(attempts[-1])
        ok = outcome.verdict != Verdict.FAILURE
        streak = streak + 1 if ok == last_ok else 1
        last_ok = ok
        if streak >= (settings.success_threshold if ok else settings.failure_threshold):
            return attempts, ok
        due += settings.period
        clock.sleep(max(0.0, due - clock.now()))


@dataclass(frozen=True)
class Probed:
    """A probe's run: every attempt, and whether the success threshold was met."""

    kind: str
    target: str
    settings: Settings
    attempts: list[Attempt]
    ok: bool

    @property
    def result(self) -> str:
        return "success" if self.ok else "failure"

    @property
    def warnings(self) -> list[str]:
        return list(dict.fromkeys(a.outcome.warning for a in self.attempts if a.outcome.warning))

    @property
    def summary(self) -> str:
        consecutive = self.settings.success_threshold if self.ok else self.settings.failure_threshold
        many = "consecutive " + ("successes" if self.ok else "failures")
        counted = _plural(consecutive, "consecutive " + self.result, many)
        return f"{self.result}: {counted} after {_plural(len(self.attempts), 'attempt', 'attempts')}"


def run(
    kind: str,
    target: str,
    check: Callable[[], Outcome],
    settings: Settings,
    clock: Clock,
    on_attempt: Callable[[Attempt], None] | None = None,
) -> Probed:
    attempts, ok = watch(check, settings, clock, on_attempt)
    return Probed(kind, target, settings, attempts, ok)


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def user_agent(kubernetes_version: str) -> str:
    """``kube-probe/<major>.<minor>`` (pkg/probe/http/request.go userAgent, pkg/probe/grpc/grpc.go)."""
    version = parse_kubernetes_version(kubernetes_version)
    if version is None:
        raise bad_input(
            f"--kubernetes-version {kubernetes_version!r} is not a version; use one like {NEWEST_KUBERNETES}"
        )
    return f"kube-probe/{version.major}.{version.minor}"


def host_port(text: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``[IPv6]:PORT``; bad input otherwise."""
    host, sep, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        host = ""
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise bad_input(f"{text!r} is not HOST:PORT; use for example 127.0.0.1:10248 or [::1]:10248")
    return host, int(port)


def join_host_port(host: str, port: int) -> str:
    """``host:port``, with an IPv6 host in brackets (Go's net.JoinHostPort)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def tcp(host: str, port: int, timeout: float) -> Outcome:
    """Connect, then close (pkg/probe/tcp/tcp.go DoTCPProbe: net.DialTimeout, whose timeout covers the lookup)."""
    address = join_host_port(host, port)
    try:
        connection = dial(host, port, time.monotonic() + timeout)
    except TimeoutError:
        return Outcome(Verdict.FAILURE, f"dial tcp {address}: i/o timeout after {timeout:g}s")
    except OSError as error:
        refused = isinstance(error, ConnectionRefusedError)
        return Outcome(Verdict.FAILURE, f"dial tcp {address}: {error.strerror or error}", refused=refused)
    connection.close()
    return Outcome(Verdict.SUCCESS, "")


def dial(host: str, port: int, deadline: float) -> socket.socket:
    """socket.create_connection's loop over the addresses of ``host``, with the lookup and every connect bounded by
    one deadline (a time.monotonic() value), as Go's dialer under kubelet's probe timeout."""
    error: OSError = OSError(f"lookup {host}: no address")
    for family, kind, protocol, _, address in _resolve(host, port, deadline):
        sock = socket.socket(family, kind, protocol)
        try:
            sock.settimeout(time_left(deadline))
            sock.connect(address)
        except OSError as failed:
            sock.close()
            error = failed
            continue
        return sock
    raise error


def _resolve(host: str, port: int, deadline: float) -> Sequence[AddressInfo]:
    """getaddrinfo, waited for until the deadline and no longer. The C resolver takes no timeout, so a lookup that
    hangs (a DNS server that never answers, a stuck NSS module) runs in a daemon thread, which is left behind and
    ends with the process; kubelet's probes, whose timeout covers the dial (net.DialTimeout, http.Client.Timeout),
    give up the same way."""
    import queue

    answers: queue.SimpleQueue[Sequence[AddressInfo] | OSError] = queue.SimpleQueue()

    def lookup() -> None:
        try:
            answers.put(socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM))
        except OSError as error:
            answers.put(error)
        except UnicodeError as error:  # the idna codec: a label empty or over 63 characters
            answers.put(OSError(f"lookup {host}: not a valid host name ({error.__cause__ or error})"))

    threading.Thread(target=lookup, name=f"lookup {host}", daemon=True).start()
    try:
        found = answers.get(timeout=time_left(deadline))
    except queue.Empty:
        raise TimeoutError from None
    if isinstance(found, OSError):
        raise found
    return found


def time_left(deadline: float) -> float:
    """Seconds until ``deadline`` (a time.monotonic() value); TimeoutError when it has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def exec_command(system: System, argv: list[str], timeout: float) -> Outcome:
    """Exit 0 is success; the combined output is capped at 10 KiB and the command is killed on timeout
    (pkg/probe/exec/exec.go; a timeout is a failure since the ExecProbeTimeout gate went on in 1.20)."""
    try:
        completed = system.run(argv, timeout=timeout, output_limit=MAX_OUTPUT)
    except K8snodeError as error:
        return Outcome(Verdict.FAILURE, error.message)
    verdict = Verdict.SUCCESS if completed.returncode == 0 else Verdict.FAILURE
    return Outcome(verdict, completed.stdout, exit_code=completed.returncode)
