"""Flag files that are not UTF-8 text are exit 2 with one line, as docs/commands/kubelet-flags.md says: never flags
read from U+FFFD garbage (exit 1) or written back by --fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import snapshot

BINARY = b'KUBELET_EXTRA_ARGS="--fail-swap-on=false --\xff\xfeconfig=/x"\n\xc3(\n'
SOURCES = [
    "/etc/default/kubelet",
    "/etc/sysconfig/kubelet",
    "/var/lib/kubelet/kubeadm-flags.env",
    "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
    "/usr/lib/systemd/system/kubelet.service",
]


@pytest.mark.parametrize("path", SOURCES)
@pytest.mark.parametrize(
    "fix", [[], ["--fix", "--force"], ["--fix", "--force", "--dry-run"]], ids=["lint", "fix", "dry"]
)
def test_a_flag_file_that_is_not_utf8_is_exit_2(cli, tmp_path: Path, path, fix):
    real = tmp_path / path.lstrip("/")
    real.parent.mkdir(parents=True, exist_ok=True)
    real.write_bytes(BINARY)
    before = snapshot(tmp_path)
    run = cli("kubelet-flags", "lint", "--root", str(tmp_path), *fix)
    assert (run.exit_code, run.stdout) == (2, ""), run.stdout + run.stderr
    assert run.stderr == (
        f"k8snode: error: {path} is not a text file (not UTF-8: byte 0xff at offset 43); "
        "give a flag, environment or unit file\n"
    )
    assert snapshot(tmp_path) == before
