"""Running the console script with one of its streams on a pseudo-terminal, as a person at a terminal sees it."""

from __future__ import annotations

import os
import pty
import subprocess


def on_terminal(
    argv: list[str], *, env: dict[str, str] | None = None, stream: str = "stdout"
) -> tuple[int, str, bytes]:
    """Run ``argv`` with ``stream`` (stdout or stderr) on a pseudo-terminal and the other stream piped: (exit code,
    the piped stream's text, every byte the terminal received, colour codes included)."""
    leader, follower = pty.openpty()
    other = subprocess.PIPE
    streams = {"stdout": follower, "stderr": other} if stream == "stdout" else {"stdout": other, "stderr": follower}
    process = subprocess.Popen(argv, env=env, **streams)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    piped = (process.communicate(timeout=60)[0 if stream == "stderr" else 1] or b"").decode()
    return process.returncode, piped, seen
