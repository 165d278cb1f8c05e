"""Fixtures for the real-kernel tests: find qemu and the kernel, boot, and report the VM time at the end."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import harness
import pytest
from required import unavailable

# The CLI of the interpreter running pytest: the venv's console script, whose shebang is the venv's python, a
# symlink to the real binary. Under TCG the pyenv shim (a bash script) would cost seconds per call.
K8SNODE = Path(sys.executable).with_name("k8snode")


def _unavailable(reason: str) -> NoReturn:
    # CI sets K8SNODE_REQUIRE_VM=1: there a missing qemu or kernel is a broken install, not a reason to skip.
    unavailable("K8SNODE_REQUIRE_VM", reason)


@pytest.fixture(scope="session")
def kernel() -> harness.Kernel:
    install = "run tests/vm/install-deps.sh"
    if not harness.qemu_available():
        _unavailable(f"qemu-system-x86_64 or busybox-static is not installed ({install})")
    if os.geteuid() != 0:
        _unavailable("the guest reads the host's root filesystem through qemu, which needs root")
    found = harness.find_kernel()
    if found is None:
        _unavailable(f"no kernel in /boot with modules in /lib/modules ({install})")
    if not K8SNODE.exists():
        pytest.fail(f"{K8SNODE} does not exist: install the project into the interpreter running pytest")
    return found


@pytest.fixture(scope="module")
def boot_vm(
    kernel: harness.Kernel, tmp_path_factory: pytest.TempPathFactory, vm_report: dict[str, list[Any]]
) -> harness.Booter:
    """boot_vm(name, script[, carry][, timeout=, memory_mib=]): boot once, with `k8snode` defined in the script as
    the project's real CLI.

    A `carry` file is copied into the results share first, so the guest finds it as /results/<its name>.
    """

    def run(
        name: str,
        script: str,
        carry: Path | None = None,
        timeout: float = harness.BOOT_TIMEOUT,
        memory_mib: int = harness.MEMORY_MIB,
    ) -> harness.Boot:
        results = tmp_path_factory.mktemp(name)
        if carry is not None:
            shutil.copy(carry, results)
        script = f'k8snode() {{ {K8SNODE} "$@"; }}\n{script}'
        booted = harness.boot(kernel, script, results, timeout=timeout, memory_mib=memory_mib)
        vm_report["boots"].append((name, booted.seconds))
        return booted

    return run


@pytest.fixture(scope="session")
def measured(vm_report: dict[str, list[Any]]) -> Callable[[str], None]:
    """measured(line): a measurement to print in the session's summary (times under TCG, what a release did)."""
    return vm_report["measured"].append
