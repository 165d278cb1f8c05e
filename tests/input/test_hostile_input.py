"""Generated junk for every option of every command: success, or exit 2 with one line and nothing changed.

Never a traceback, never exit 1 or 3 because of bad input. Each command runs on a healthy fake node where its
valid input succeeds, so any exit other than 0 or 2 is a defect. The options are read from the CLI itself, so a
new option is fuzzed without anyone listing it here.
"""

from __future__ import annotations

import socket
import sys
import tempfile
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path

import clitree
import grpc
import pytest
from fakes import FakeRoot, add_network, make_root, write
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from servers import CLOSED_PORT, serve
from typer.testing import CliRunner

from k8snode.cli import app

JUNK = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from(list(";|&$`'\"\\\n\r\t\x00*?<>(){}[]~!#% -=:,./")), max_size=30),
    st.text(min_size=2000, max_size=5000),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["-1", "-5s", "99999999999999999999h", "1e400", "NaN", "", " ", "..", "/", "--json", "-"]),
    st.builds(lambda n: f"{n}h", st.integers(min_value=10**6, max_value=10**25)),
)
CASES = 120
PROBE_CASES = 40
NOTHING_LISTENS = f"http://127.0.0.1:{CLOSED_PORT}"
TOOLS = ("ip", "iptables", "mount", "nsenter", "ipset", "ipvsadm", "nft")
PROBES = ("http", "tcp", "exec", "grpc")
# Options left out, each with its reason.
NOT_FUZZED = {
    # A valid but huge delay or count is obeyed, as kubelet obeys it: the probe would sleep for years, or probe once a
    # period until it has seen that many successes.
    *((f"probe {kind}", option) for kind in PROBES for option in ("--initial-delay", "--success-threshold")),
    # URLs are fetched: junk that happens to be a reachable address would send traffic off this machine.
    ("doctor", "--kubelet-healthz"),
    ("doctor", "--kube-proxy-healthz"),
    ("doctor", "--kube-proxy-metrics"),
    ("ipvs cleanup", "--kube-proxy-metrics"),
    # Any service name is valid input; one the server does not know is a failed probe (exit 1), not bad input.
    ("probe grpc", "--service"),
}


@dataclass(frozen=True)
class Node:
    root: FakeRoot
    tcp_port: int
    """A loopback listener."""
    http_url: str
    """A loopback HTTP server's URL that answers 200."""
    grpc_port: int
    """A loopback grpc.health.v1 server whose overall status is SERVING."""


@pytest.fixture(scope="module")
def node() -> Iterator[Node]:
    """A healthy node: IPVS modules loaded and persisted, network, sysctls, tools; loopback TCP, HTTP and gRPC."""
    with (
        tempfile.TemporaryDirectory() as scratch,
        socket.create_server(("127.0.0.1", 0)) as listener,
        futures.ThreadPoolExecutor(max_workers=4) as workers,
    ):
        root = make_root(Path(scratch) / "root", "deb12-6.1")
        mp = pytest.MonkeyPatch()
        mp.setenv("PATH", str(root.bin))  # only the fake tools: the host's own do not count
        for tool in TOOLS:
            write(root.bin / tool, "#!/bin/sh\nexit 0\n", mode=0o755)
        add_network(root.path)
        write(root.path / "proc/sys/net/ipv4/ip_forward", "1\n")
        write(root.path / "proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n")
        runner = CliRunner()
        assert runner.invoke(app, ["ipvs", "enable", "--root", str(root.path)]).exit_code == 0
        assert runner.invoke(app, ["node", "prepare", "--root", str(root.path)]).exit_code == 0
        rendered = runner.invoke(
            app, ["kubeadm-config", "--out", "/etc/kubernetes/init.yaml", "--root", str(root.path)]
        )
        assert rendered.exit_code == 0, rendered.stderr
        web, httpd = serve()
        health_server = grpc.server(workers)
        servicer = health.HealthServicer()
        servicer.set("", health_pb2.HealthCheckResponse.SERVING)
        health_pb2_grpc.add_HealthServicer_to_server(servicer, health_server)
        grpc_port = health_server.add_insecure_port("127.0.0.1:0")
        health_server.start()
        yield Node(root, listener.getsockname()[1], web.url("/status/200"), grpc_port)
        health_server.stop(grace=None)
        httpd.shutdown()
        mp.undo()


def base_argv(command: str, node: Node) -> tuple[list[str], list[str]]:
    """A valid invocation of ``command`` that succeeds on the node and changes nothing: the words before the
    fuzzed option, and the words after it."""
    return {
        "ipvs check": (["ipvs", "check"], []),
        "ipvs enable": (["ipvs", "enable", "--dry-run"], []),
        "ipvs disable": (["ipvs", "disable", "--dry-run"], []),
        "ipvs status": (["ipvs", "status"], []),
        "ipvs cleanup": (["ipvs", "cleanup", "--dry-run", "--kube-proxy-metrics", NOTHING_LISTENS], []),
        "node check": (["node", "check"], []),
        "node prepare": (["node", "prepare", "--dry-run"], []),
        "node reset": (["node", "reset", "--dry-run"], []),
        "kubeadm-config": (["kubeadm-config", "--out", "/etc/kubernetes/new.yaml", "--dry-run"], []),
        "kubelet-flags": (["kubelet-flags", "--out", "/etc/default/kubelet", "--dry-run"], []),
        "kubelet-flags lint": (["kubelet-flags", "lint"], []),
        "validate": (["validate", "/etc/kubernetes/init.yaml"], []),
        "doctor": (["doctor", *_nothing_listens()], []),
        "probe tcp": (["probe", "tcp", f"127.0.0.1:{node.tcp_port}"], []),
        "probe http": (["probe", "http", node.http_url], []),
        # Options end where the command starts.
        "probe exec": (["probe", "exec"], ["--", sys.executable, "-c", "pass"]),
        "probe grpc": (["probe", "grpc", f"127.0.0.1:{node.grpc_port}"], []),
    }[command]


def _nothing_listens() -> list[str]:
    closed = f"{NOTHING_LISTENS}/healthz"
    return ["--kubelet-healthz", closed, "--kube-proxy-healthz", closed, "--kube-proxy-metrics", NOTHING_LISTENS]


def value_options(command: str) -> list[str]:
    """Every option of ``command`` that takes a value, read from the CLI."""
    click_command = clitree.command(command)
    return [
        param.opts[0]
        for param in click_command.params
        if param.param_type_name == "option" and not param.is_flag and (command, param.opts[0]) not in NOT_FUZZED
    ]


COMMANDS = [
    "ipvs check",
    "ipvs enable",
    "ipvs disable",
    "ipvs status",
    "ipvs cleanup",
    "node check",
    "node prepare",
    "node reset",
    "kubeadm-config",
    "kubelet-flags",
    "kubelet-flags lint",
    "validate",
    "doctor",
    "probe tcp",
    "probe http",
    "probe exec",
    "probe grpc",
]


@pytest.mark.heavy
@pytest.mark.parametrize("command", [c for c in COMMANDS if not c.startswith("probe ")])
@settings(max_examples=CASES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_junk_in_any_option_is_success_or_one_line_exit_2(node, command, data):
    check_junk(node, command, data)


# A probe that passes takes a real round trip (a gRPC channel, a process), so fewer cases each.
@pytest.mark.heavy
@pytest.mark.parametrize("command", [c for c in COMMANDS if c.startswith("probe ")])
@settings(max_examples=PROBE_CASES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_junk_in_any_probe_option_is_success_or_one_line_exit_2(node, command, data):
    check_junk(node, command, data)


def check_junk(node: Node, command: str, data: st.DataObject) -> None:
    options = value_options(command)
    option = data.draw(st.sampled_from(options), label="option")
    value = data.draw(JUNK, label="value")
    assume(option != "--root" or not _is_this_machine(value))  # "/" is valid input: this host's real kernel
    before_option, after_value = base_argv(command, node)
    in_root = ["--root", str(node.root.path)] if "--root" in options and option != "--root" else []
    argv = [*before_option, *in_root, option, value, *after_value]
    before = node.root.snapshot()
    result = CliRunner().invoke(app, argv, catch_exceptions=False)
    # A check asked about another valid choice (node check --proxy-mode nftables on this IPVS node) reports drift.
    drift_allowed = command in CHECKS and value in _choices(command, option)
    assert result.exit_code in ((0, 1, 2) if drift_allowed else (0, 2)), (argv, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    if result.exit_code == 2:
        assert result.stderr.startswith("k8snode: error: ")
        assert result.stderr.count("\n") == 1
        assert "No such option" not in result.stderr, argv  # the junk reached the option under test
    assert node.root.snapshot() == before


CHECKS = {"node check", "ipvs check"}
"""Read-only checks: exit 1 is their answer "not so" (drift), not a reaction to input."""


def _choices(command: str, option: str) -> tuple[str, ...]:
    """The values a Choice option accepts; () for any other option."""
    param = next(p for p in clitree.command(command).params if option in p.opts)
    return tuple(getattr(param.type, "choices", ()))


def test_every_command_is_fuzzed():
    # "kubelet-flags" is a group that also runs on its own, so it is fuzzed beside its leaf "kubelet-flags lint".
    assert {name for name, _ in clitree.leaves()} - set(COMMANDS) == set()


@pytest.mark.parametrize("command", COMMANDS)
def test_each_fuzzed_invocation_succeeds_as_given(node, command):
    """The base invocations are valid and succeed, so that a fuzzed option is the only thing that can go wrong."""
    before_option, after_value = base_argv(command, node)
    in_root = ["--root", str(node.root.path)] if "--root" in value_options(command) else []
    result = CliRunner().invoke(app, [*before_option, *in_root, *after_value], catch_exceptions=False)
    assert result.exit_code == 0, (result.stdout, result.stderr)


def _is_this_machine(root: str) -> bool:
    return "\0" not in root and root.strip() != "" and Path(root).resolve() == Path("/")
