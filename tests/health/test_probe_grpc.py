"""`k8snode probe grpc` against a real grpc.health.v1 server on loopback (the grpc extra is in `.[test]`),
and the install hint when the extra is missing."""

from __future__ import annotations

import socket
import subprocess
import sys
from concurrent import futures

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc


class UserAgents(grpc.ServerInterceptor):
    """Records the user-agent metadata of each call."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def intercept_service(self, continuation, handler_call_details):
        metadata = dict(handler_call_details.invocation_metadata)
        self.seen.append(metadata.get("user-agent", ""))
        return continuation(handler_call_details)


@pytest.fixture
def user_agents():
    return UserAgents()


@pytest.fixture
def health_server(user_agents):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), interceptors=[user_agents])
    servicer = health.HealthServicer()
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    servicer.set("kubelet", health_pb2.HealthCheckResponse.SERVING)
    servicer.set("draining", health_pb2.HealthCheckResponse.NOT_SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield port
    server.stop(grace=None)


@pytest.fixture
def plain_server():
    """A gRPC server without the health service."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield port
    server.stop(grace=None)


def attempt_of(run):
    [attempt] = run.envelope()["data"]["attempts"]
    return attempt


def test_serving_is_success(cli, health_server):
    run = cli("probe", "grpc", f"127.0.0.1:{health_server}", "--json")
    assert run.exit_code == 0
    attempt = attempt_of(run)
    assert (attempt["result"], attempt["status"], attempt["message"]) == ("success", "SERVING", "service healthy")
    run = cli("probe", "grpc", f"127.0.0.1:{health_server}", "--service", "kubelet", "--json")
    assert run.exit_code == 0


def test_the_user_agent_names_kube_probe(cli, health_server, user_agents):
    run = cli("probe", "grpc", f"127.0.0.1:{health_server}", "--kubernetes-version", "v1.33.0")
    assert run.exit_code == 0
    [agent] = user_agents.seen
    assert agent.startswith("kube-probe/1.33 grpc-python/")  # grpc appends its own name, as grpc-go does


def test_not_serving_is_failure(cli, health_server):
    run = cli(
        "probe", "grpc", f"127.0.0.1:{health_server}", "--service", "draining", "--failure-threshold", "1", "--json"
    )
    assert run.exit_code == 1
    attempt = attempt_of(run)
    assert (attempt["status"], attempt["message"]) == (
        "NOT_SERVING",
        'service unhealthy (responded with "NOT_SERVING")',
    )


def test_unknown_service_is_failure(cli, health_server):
    run = cli("probe", "grpc", f"127.0.0.1:{health_server}", "--service", "nope", "--failure-threshold", "1", "--json")
    assert run.exit_code == 1
    assert attempt_of(run)["message"] == "error: health rpc probe failed: NOT_FOUND"


def test_a_server_without_the_health_service_fails(cli, plain_server):
    run = cli("probe", "grpc", f"127.0.0.1:{plain_server}", "--failure-threshold", "1", "--json")
    assert run.exit_code == 1
    assert attempt_of(run)["message"].startswith(
        "error: this server does not implement the grpc health protocol (grpc.health.v1.Health)"
    )


def test_a_server_that_accepts_but_never_speaks_http2_is_a_connect_timeout(cli):
    """The connection never becomes ready (kubelet's WithBlock): the attempt fails on the connect timeout."""
    with socket.create_server(("127.0.0.1", 0)) as silent:  # the kernel accepts; nobody answers the handshake
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        run = cli("probe", "grpc", address, "--timeout", "200ms", "--failure-threshold", "1", "--json")
    assert run.exit_code == 1
    attempt = attempt_of(run)
    assert (attempt["result"], attempt["status"]) == ("failure", None)
    assert attempt["message"] == f'timeout: failed to connect service "{address}" within 0.2s'


def test_without_the_extra_exit_2_with_the_install_hint(cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "grpc", None)  # import grpc now raises ImportError
    run = cli("probe", "grpc", "127.0.0.1:50051", "--json")
    assert run.exit_code == 2
    hint = (
        "k8snode probe grpc needs the grpc extra (grpcio, grpcio-health-checking): "
        f"{sys.executable} -m pip install 'k8snode[grpc]'"
    )
    assert run.envelope()["error"] == {"message": hint, "exit_code": 2}
    assert run.stderr == f"k8snode: error: {hint}\n"


def test_under_pipx_the_hint_is_pipx_inject():
    from k8snode.health.grpc_probe import install_hint

    home = "/home/u/.local/share/pipx/venvs/k8snode"
    assert install_hint(home, f"{home}/bin/python").endswith(": pipx inject k8snode grpcio grpcio-health-checking")
    assert install_hint("/opt/k8snode", "/opt/k8snode/bin/python").endswith(
        ": /opt/k8snode/bin/python -m pip install 'k8snode[grpc]'"
    )


def test_only_probe_grpc_imports_grpc():
    code = (
        "import sys; from typer.testing import CliRunner; from k8snode.cli import app; "
        "CliRunner().invoke(app, ['probe', 'tcp', '127.0.0.1:1', '--failure-threshold', '1']); "
        "print('grpc' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "False\n"
