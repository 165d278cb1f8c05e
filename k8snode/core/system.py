"""The one seam between k8snode and the operating system.

Every path k8snode reads or writes resolves under ``root`` (``--root``/``K8SNODE_ROOT``), every subprocess runs
through plumbum with an argument list and never a shell. Programs are looked up on this host's PATH, never under
the root: k8snode runs them here (see ``which``).
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from k8snode.core.errors import ExitCode, K8snodeError, bad_input, failed

LOCK_FILE = "/run/k8snode.lock"
TEMP_MARK = ".k8snode-"
STDIO = "-"
"""A file argument of ``-`` means standard input (a file read) or standard output (a file written)."""


@dataclass(frozen=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


@dataclass
class System:
    root: Path = Path("/")
    debug: bool = False

    def __post_init__(self) -> None:
        if not self.root.is_absolute():  # an empty --root arrives as "." and would silently mean the cwd
            raise bad_input(f"--root {str(self.root)!r} must be an absolute path, such as / or /mnt/node")
        if not os.path.isdir(self.root):  # noqa: PTH112 - unlike Path.is_dir, False for over-long names
            raise bad_input(f"--root {self.root} is not a directory; give the directory that stands for '/'")

    def path(self, target: str | PurePosixPath) -> Path:
        """The real path of ``target`` (an absolute path on the target system) under the root."""
        target = PurePosixPath(target)
        if not target.is_absolute() or ".." in target.parts:
            raise bad_input(f"path {target} must be absolute and must not contain '..'")
        if "\0" in str(target):
            raise bad_input(f"path {str(target)!r} contains a NUL byte; give a file name without one")
        return self.root.joinpath(*target.parts[1:])

    def exists(self, target: str | PurePosixPath) -> bool:
        return self.path(target).exists()

    def read_text(self, target: str | PurePosixPath) -> str | None:
        """The file's text, or None when it does not exist. Symlinks at the target are not followed."""
        data = self.read_bytes(target)
        return None if data is None else data.decode("utf-8", errors="replace")

    def read_bytes(self, target: str | PurePosixPath) -> bytes | None:
        real = self.path(target)
        try:
            fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as error:
            if real.is_symlink():
                message = f"{target} is a symlink; k8snode does not follow links at paths it manages"
                raise failed(message) from error
            raise failed(f"cannot read {target}: {error.strerror}") from error
        if stat.S_ISDIR(os.fstat(fd).st_mode):  # os.open succeeds on a directory; reading it fails
            os.close(fd)
            raise K8snodeError(f"{target} is a directory; give a file", ExitCode.BAD_INPUT)
        with os.fdopen(fd, "rb") as handle:
            return handle.read()

    def read_stdin(self, limit: int, what: str) -> bytes:
        """Standard input, read to its end but never more than ``limit`` bytes: a larger input is bad input."""
        data = sys.stdin.buffer.read(limit + 1)
        if len(data) > limit:
            raise bad_input(f"{what} (standard input) holds more than {limit} bytes; give at most {limit}")
        return data

    def is_symlink(self, target: str | PurePosixPath) -> bool:
        return self.path(target).is_symlink()

    def readlink(self, target: str | PurePosixPath) -> str | None:
        """Where the symlink at ``target`` points (as written in the link), or None when it is not a link."""
        try:
            return str(self.path(target).readlink())
        except OSError:  # absent, or not a link
            return None

    def size(self, target: str | PurePosixPath) -> int | None:
        """The size of the file at ``target`` without following a link there; None when it does not exist."""
        try:
            return self.path(target).lstat().st_size
        except FileNotFoundError:
            return None

    def listdir(self, target: str | PurePosixPath) -> list[str]:
        """The names in directory ``target``, sorted; empty when it does not exist or is not a directory."""
        try:
            return sorted(entry.name for entry in self.path(target).iterdir())
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as error:
            raise failed(f"cannot list {target}: {error.strerror}") from error

    def resolve_link(self, target: str | PurePosixPath, hops: int = 8) -> PurePosixPath:
        """Where a symlink chain at ``target`` ends, as a path on the target system: an absolute link target is
        read under the root, not on this host. For reading files other tools manage (systemd links its units)."""
        path = PurePosixPath(target)
        for _ in range(hops):
            if not self.is_symlink(path):
                return path
            link = PurePosixPath(self.path(path).readlink())
            path = PurePosixPath(os.path.normpath(link if link.is_absolute() else path.parent / link))
        raise K8snodeError(f"{target}: more than {hops} symlinks in a row", ExitCode.BAD_INPUT)

    def mode(self, target: str | PurePosixPath) -> int | None:
        try:
            return self.path(target).lstat().st_mode & 0o7777
        except FileNotFoundError:
            return None

    def write_atomic(self, target: str | PurePosixPath, content: bytes, mode: int) -> None:
        """Write ``content`` so that readers see the old file or the new one, never a mix.

        A temp file in the same directory gets the content and ``mode``, is fsynced and renamed over the
        target (which replaces a symlink there instead of following it); then the directory is fsynced.
        """
        real = self.path(target)
        temp: Path | None = None
        try:
            real.parent.mkdir(parents=True, exist_ok=True)
            _sweep_stale_temps(real)
            temp_path = real.parent / f".{real.name}{TEMP_MARK}{os.getpid()}.tmp"
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            fd = os.open(temp_path, flags, 0o600)
            temp = temp_path
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fchmod(handle.fileno(), mode)
                os.fsync(handle.fileno())
            temp.replace(real)
            temp = None
            _fsync_directory(real.parent)
        except OSError as error:
            raise K8snodeError(f"cannot write {target}: {error.strerror or error}", ExitCode.FAILED) from error
        finally:
            if temp is not None:
                temp.unlink(missing_ok=True)

    def write_in_place(self, target: str | PurePosixPath, content: bytes) -> None:
        """Write to an existing file without replacing it: the way to set a kernel value under /proc/sys."""
        real = self.path(target)
        try:
            fd = os.open(real, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
        except OSError as error:
            raise K8snodeError(f"cannot write {target}: {error.strerror or error}", ExitCode.FAILED) from error

    def symlink_atomic(self, target: str | PurePosixPath, points_to: str) -> None:
        """Make ``target`` a symlink to ``points_to`` (not resolved under the root), replacing what is there."""
        real = self.path(target)
        temp = real.parent / f".{real.name}{TEMP_MARK}{os.getpid()}.tmp"
        try:
            real.parent.mkdir(parents=True, exist_ok=True)
            temp.unlink(missing_ok=True)
            temp.symlink_to(points_to)
            temp.replace(real)
            _fsync_directory(real.parent)
        except OSError as error:
            temp.unlink(missing_ok=True)
            raise K8snodeError(f"cannot link {target}: {error.strerror or error}", ExitCode.FAILED) from error

    def remove(self, target: str | PurePosixPath) -> None:
        real = self.path(target)
        try:
            real.unlink()
            _fsync_directory(real.parent)
        except OSError as error:
            raise failed(f"cannot remove {target}: {error.strerror or error}") from error

    def remove_empty_directory(self, target: str | PurePosixPath) -> None:
        """Remove the directory ``target`` when it is empty; leave it when anything is in it or it is absent."""
        real = self.path(target)
        try:
            real.rmdir()
        except (FileNotFoundError, OSError):  # absent, not empty, or not a directory: not ours to remove
            return

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the advisory lock ``/run/k8snode.lock`` under the root, so runs that write never interleave.

        The wait is bounded: ``K8SNODE_LOCK_WAIT`` seconds, 30 by default.
        """
        import fcntl

        wait_seconds = _lock_wait()
        path = self.path(LOCK_FILE)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        try:
            deadline = time.monotonic() + wait_seconds
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise failed(
                            f"another k8snode is running: {LOCK_FILE} is still locked after {wait_seconds:g} s"
                        ) from None
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)

    def which(self, program: str) -> str | None:
        """``program`` on this host's PATH, where ``run`` finds it; the root's own /usr/bin does not count.

        Every caller asks whether k8snode can run the program here: ``ipvs check`` and ``doctor`` (the tools
        kube-proxy and kubeadm need) and ``ipvs status`` (ipset). With a --root other than /, the answer is about
        the host that runs k8snode, which is the host that would run those tools.
        """
        return shutil.which(program)

    def run(self, argv: list[str], *, timeout: float | None = None, output_limit: int | None = None) -> Completed:
        """Run ``argv`` (the program is looked up on PATH) and return its exit code and output.

        With ``output_limit``, stdout and stderr are read together into ``stdout`` and only the first
        ``output_limit`` bytes are kept (the rest is read and dropped), and on timeout the command's whole
        process group is killed, so that a shell's children cannot hold the output open.
        """
        from plumbum import local  # lazy: plumbum costs ~50 ms to import
        from plumbum.commands.processes import ProcessTimedOut

        program = shutil.which(argv[0])
        if program is None:
            raise failed(f"{argv[0]} is not on PATH")
        if self.debug:
            print("k8snode: run: " + " ".join(argv), file=sys.stderr)
        # plumbum snapshots the environment when it is imported; pass the current one explicitly.
        command = local[program][argv[1:]]
        if output_limit is not None:
            return _run_capped(command, argv, timeout, output_limit)
        try:
            returncode, stdout, stderr = command.run(retcode=None, timeout=timeout, env=dict(os.environ))
        except ProcessTimedOut as error:
            raise failed(f"{' '.join(argv)} did not finish within {timeout} s") from error
        return Completed(tuple(argv), returncode, stdout, stderr)


def _lock_wait() -> float:
    text = os.environ.get("K8SNODE_LOCK_WAIT", "30")
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 3600:
        raise bad_input(f"K8SNODE_LOCK_WAIT={text!r} is not a number of seconds between 0 and 3600")
    return seconds


def _sweep_stale_temps(real: Path) -> None:
    """Remove temp files a killed k8snode left next to ``real``; callers hold the lock, so none is in use."""
    for stale in real.parent.glob(f".{real.name}{TEMP_MARK}*.tmp"):
        stale.unlink(missing_ok=True)


def _run_capped(command: Any, argv: list[str], timeout: float | None, limit: int) -> Completed:
    """Combined output capped at ``limit`` bytes, like kubelet's exec probe (a LimitWriter over both streams)."""
    try:
        process = command.popen(
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=dict(os.environ),
            start_new_session=True,  # its own process group, killed as a whole on timeout
        )
    except OSError as error:
        raise failed(f"cannot run {argv[0]}: {error.strerror or error}") from error
    deadline = None if timeout is None else time.monotonic() + timeout
    kept = bytearray()
    with process.stdout as output:
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                _kill_group(process)
                raise _killed(argv, timeout)
            readable, _, _ = select.select([output], [], [], left)
            if not readable:
                continue
            chunk = os.read(output.fileno(), 65536)
            if not chunk:
                break
            kept += chunk[: max(0, limit - len(kept))]
    try:
        returncode = process.wait(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired as error:
        _kill_group(process)
        raise _killed(argv, timeout) from error
    return Completed(tuple(argv), returncode, kept.decode("utf-8", errors="replace"), "")


def _killed(argv: list[str], timeout: float | None) -> K8snodeError:
    return failed(f"{' '.join(argv)} did not finish within {timeout:g} s and was killed")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
