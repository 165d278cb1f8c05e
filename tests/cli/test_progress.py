"""What a terminal shows. Long waits show progress (one line per probe attempt, each doctor check as it starts),
and nothing extra when standard error is not a terminal or with --json; long table cells fold, never cut."""

from __future__ import annotations

import os
import re

from conftest import CONSOLE_SCRIPT
from servers import CLOSED_PORT
from terminal import on_terminal

ANSI = re.compile(r"\x1b\[[0-9;]*m")


PROBE = ["probe", "tcp", f"127.0.0.1:{CLOSED_PORT}", "--period", "0.1s", "--failure-threshold", "2"]
CLOSED = f"http://127.0.0.1:{CLOSED_PORT}/healthz"
ENDPOINTS = ["--kubelet-healthz", CLOSED, "--kube-proxy-healthz", CLOSED, "--kube-proxy-metrics", CLOSED]


def with_terminal_stderr(*args: str) -> tuple[int, str, list[str]]:
    """Run the console script with standard error on a pseudo-terminal; (exit code, stdout, stderr lines)."""
    code, stdout, seen = on_terminal([str(CONSOLE_SCRIPT), *args], stream="stderr")
    text = ANSI.sub("", seen.decode()).replace("\r", "")
    return code, stdout, [line for line in text.splitlines() if line]


def test_a_probe_on_a_terminal_prints_each_attempt_as_it_ends():
    code, stdout, stderr = with_terminal_stderr(*PROBE)
    assert code == 1
    assert [line.split(" at ")[0] for line in stderr] == ["attempt 1", "attempt 2"]
    assert all(": failure " in line and "connection refused" in line.lower() for line in stderr), stderr
    assert "failure: 2 consecutive failures after 2 attempts" in stdout


def test_no_progress_when_piped_or_with_json(k8snode):
    piped = k8snode(*PROBE)
    assert (piped.exit_code, piped.stderr) == (1, "")
    code, stdout, stderr = with_terminal_stderr(*PROBE, "--json")
    assert (code, stderr) == (1, [])
    assert '"result": "failure"' in stdout


def test_doctor_on_a_terminal_names_each_check_as_it_starts(tmp_path, k8snode):
    """An empty root: the module checks fail (it has no kernel release), so doctor exits 1 whatever the host has."""
    code, _, stderr = with_terminal_stderr("doctor", "--root", str(tmp_path), *ENDPOINTS)
    envelope = k8snode("doctor", "--root", str(tmp_path), *ENDPOINTS, "--json").envelope()
    checks = envelope["data"]["checks"]
    assert [line for line in stderr if line.startswith("checking ")] == [
        f"checking {check['area']}: {check['id']}" for check in checks
    ]
    assert checks[0]["id"] == "modules" and checks[0]["status"] == "fail"
    assert (code, envelope["ok"]) == (1, False)


def test_a_table_on_an_80_column_terminal_folds_long_cells_instead_of_cutting_them(fake_root):
    """doctor's persistence detail is longer than its column at 80 columns: every character still shows."""
    env = {**os.environ, "COLUMNS": "80", "LINES": "50"}
    args = [str(CONSOLE_SCRIPT), "doctor", "--root", str(fake_root("deb12-6.1").path), *ENDPOINTS]
    _, _, seen = on_terminal(args, env=env)
    text = ANSI.sub("", seen.decode()).replace("\r", "")
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text
    cells = "".join(line.split("│")[4].strip() for line in text.splitlines() if line.count("│") == 6)
    assert "/etc/modules-load.d/ipvs.conf(would-create)" in cells.replace(" ", "")
