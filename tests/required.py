"""Skip a test whose tooling is missing, unless CI says that tooling must be there.

`.ci/run` sets K8SNODE_REQUIRE_VM, K8SNODE_REQUIRE_TRUTH and K8SNODE_REQUIRE_ROOT to 1: there a missing qemu, truth
build or root privilege is a broken install, and the test fails instead of skipping.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest


def unavailable(variable: str, reason: str) -> NoReturn:
    """Skip with ``reason``, or fail with it when the environment variable ``variable`` is 1."""
    if os.environ.get(variable) == "1":
        pytest.fail(f"{variable}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def truth_cache() -> Path:
    """Where tools/k8s-truth/build-all.sh puts the real binaries (its K8SNODE_TRUTH_CACHE)."""
    return Path(os.environ.get("K8SNODE_TRUTH_CACHE", Path.home() / ".cache" / "k8snode-truth"))


def e2e_binary(version: str, name: str) -> Path:
    """The real etcd, kube-apiserver, kube-proxy or kubelet that tools/k8s-truth/build-e2e.sh built for ``version``;
    a missing one skips the test (fails it with K8SNODE_REQUIRE_TRUTH=1)."""
    binary = truth_cache() / version / "e2e" / name
    if not binary.is_file():
        unavailable("K8SNODE_REQUIRE_TRUTH", f"{binary} is missing: run tools/k8s-truth/build-e2e.sh {version}")
    return binary
