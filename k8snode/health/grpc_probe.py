"""One ``grpc.health.v1.Health/Check`` call with kubelet's rules (kubernetes/kubernetes pkg/probe/grpc/grpc.go).

The connection is plaintext and waits until ready (WithInsecure, WithBlock) within the timeout, which also bounds
the call; the user agent is ``kube-probe/<major>.<minor>``; only ``SERVING`` is success, and the messages follow
kubelet's. grpcio is an optional extra, imported only here.
"""

from __future__ import annotations

import time
from typing import Any

from k8snode.core.errors import bad_input
from k8snode.health.probe import Outcome, Verdict, join_host_port

PIPX_VENVS = "/pipx/venvs/"
"""Part of every environment pipx makes (~/.local/share/pipx/venvs/NAME, or PIPX_HOME/venvs/NAME)."""


def install_hint(prefix: str, executable: str, pyz: str | None = None) -> str:
    """How to add the grpc extra to what k8snode runs from: pipx injects, a plain environment pip-installs the
    extra; k8snode.pyz (``pyz``, pure Python) imports grpcio, a C extension, from the interpreter that runs it."""
    needs = "k8snode probe grpc needs the grpc extra (grpcio, grpcio-health-checking): "
    if pyz is not None:
        return needs + (
            f"{pyz} cannot carry grpcio; install it for the Python that runs the pyz, which imports it from there: "
            f"{executable} -m pip install grpcio grpcio-health-checking"
        )
    if PIPX_VENVS in prefix:
        return needs + "pipx inject k8snode grpcio grpcio-health-checking"
    return needs + f"{executable} -m pip install 'k8snode[grpc]'"


def modules() -> tuple[Any, Any, Any]:
    """grpc, health_pb2 and health_pb2_grpc; bad input with the install hint when the extra is missing."""
    try:
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc
    except ImportError:
        import sys

        from k8snode.core.about import pyz

        raise bad_input(install_hint(sys.prefix, sys.executable, pyz())) from None
    return grpc, health_pb2, health_pb2_grpc


def check(host: str, port: int, service: str, timeout: float, user_agent: str) -> Outcome:
    grpc, health_pb2, health_pb2_grpc = modules()
    address = join_host_port(host, port)
    deadline = time.monotonic() + timeout
    channel = grpc.insecure_channel(address, options=[("grpc.primary_user_agent", user_agent)])
    try:
        try:
            grpc.channel_ready_future(channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            return Outcome(Verdict.FAILURE, f'timeout: failed to connect service "{address}" within {timeout:g}s')
        stub = health_pb2_grpc.HealthStub(channel)
        request = health_pb2.HealthCheckRequest(service=service)
        try:
            response = stub.Check(request, timeout=max(0.0, deadline - time.monotonic()))
        except grpc.RpcError as error:
            code = error.code()
            if code == grpc.StatusCode.UNIMPLEMENTED:
                message = "error: this server does not implement the grpc health protocol (grpc.health.v1.Health)"
                return Outcome(Verdict.FAILURE, f"{message}: {error.details()}")
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                return Outcome(Verdict.FAILURE, f"timeout: health rpc did not complete within {timeout:g}s")
            details = f": {error.details()}" if error.details() else ""
            return Outcome(Verdict.FAILURE, f"error: health rpc probe failed: {code.name}{details}")
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
        if response.status != health_pb2.HealthCheckResponse.SERVING:
            return Outcome(Verdict.FAILURE, f'service unhealthy (responded with "{status}")', status)
        return Outcome(Verdict.SUCCESS, "service healthy", status)
    finally:
        channel.close()
