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
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from k8snode.core.errors import ExitCode, K8snodeError, bad_input, failed

RUNNING_COMMAND: ContextVar[str] = ContextVar("RUNNING_COMMAND", default="k8snode")
"""The command this process runs (``k8snode ipvs enable``), set at the edge; the lock's holder line names it."""
LOCK_FILE = "/run/k8snode.lock"
LOCK_NOTICE_AFTER = 1.0
"""Seconds of waiting for the lock before a line on stderr names who holds it."""
TEMP_MARK = ".k8snode-"
READ_LIMIT = 16 << 20
"""The most k8snode reads of a file it did not write (a kernel's modules.dep is under 1 MiB)."""
DIRECTORY_MODE = 0o755
OWNED_DIRECTORIES = (
    "/etc",
    "/etc/kubernetes",
    "/etc/sysconfig/modules",
    "/etc/modules-load.d",
    "/etc/systemd/system/kubelet.service.d",
    "/etc/default",
    "/etc/sysconfig",
    "/var/lib/kubelet",
    "/etc/sysctl.d",
    "/etc/systemd/system",
    "/etc/systemd/zram-generator.conf.d",
    "/etc/k8snode",
    "/etc/containerd",
    "/etc/crio/crio.conf.d",
    "/run",
)
"""The directories k8snode creates, with those that lead to them, for a file it writes into one of them; any
other missing directory is bad input, so that a typo (``/etc/kubernets/``) creates nothing."""
STDIO = "-"
"""A file argument of ``-`` means standard input (a file read) or standard output (a file written)."""


@dataclass(frozen=True)
class Completed:
    """A finished subprocess: its argv, exit status and decoded output."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


@dataclass
class System:
    """The host k8snode works on: every path under ``root``, every subprocess through ``run``."""

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
        check_name(str(target))
        return self.root.joinpath(*target.parts[1:])

    def output_path(self, path: str, option: str) -> PurePosixPath:
        """Where a file the operator asks k8snode to write (``--out``) goes on the target system.

        An absolute path is on the target system (under the root). A relative one is taken from the working
        directory, which is only meaningful when the root is ``/``; with another root it is bad input.
        """
        target = PurePosixPath(path)
        if not target.is_absolute():
            if self.root != Path("/"):
                raise bad_input(f"{option} {path} must be an absolute path on the target system when --root is given")
            target = PurePosixPath(Path.cwd()) / target
        self.path(target)
        return target

    def exists(self, target: str | PurePosixPath) -> bool:
        return self.path(target).exists()

    def read_text(self, target: str | PurePosixPath, limit: int = READ_LIMIT) -> str | None:
        """The file's text, or None when it does not exist. Symlinks at the target are not followed."""
        data = self.read_bytes(target, limit)
        return None if data is None else data.decode("utf-8", errors="replace")

    def read_bytes(self, target: str | PurePosixPath, limit: int = READ_LIMIT) -> bytes | None:
        """At most ``limit`` bytes of a regular file under the root, or None when it does not exist.

        The file is opened without following a symlink at the target and through parent directories that stay
        inside the root; a FIFO, device or socket is refused before anything is read (exit 2), and so is a file
        longer than ``limit``.
        """
        real = self.path(target)
        try:
            parent = self._open_parent(target)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as error:
            raise failed(f"cannot read {target}: {error.strerror or error}") from error
        try:
            fd = os.open(real.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=parent)
        except FileNotFoundError:
            return None
        except OSError as error:
            if real.is_symlink():
                message = f"{target} is a symlink; k8snode does not follow links at paths it manages"
                raise failed(message) from error
            raise failed(f"cannot read {target}: {error.strerror}") from error
        finally:
            os.close(parent)
        return read_regular(fd, str(target), limit)

    def read_stdin(self, limit: int, what: str) -> bytes:
        """Standard input, read to its end but never more than ``limit`` bytes: a larger input is bad input, and so
        is a closed one (``0<&-``: Python then has no stream) or one that cannot be read (a directory)."""
        if sys.stdin is None:
            raise bad_input(f"{what} is - but standard input is closed; give the input on it, or a file")
        try:
            data = sys.stdin.buffer.read(limit + 1)
        except OSError as error:
            raise bad_input(f"{what} is - but standard input cannot be read: {error.strerror or error}") from None
        if len(data) > limit:
            raise bad_input(f"{what} (standard input) holds more than {limit} bytes; give at most {limit}")
        return data

    def is_symlink(self, target: str | PurePosixPath) -> bool:
        try:
            return self.path(target).is_symlink()
        except OSError as error:  # a directory on the way the caller may not search
            raise failed(f"cannot reach {target}: {error.strerror or error}") from error

    def owner_and_mode(self, target: str | PurePosixPath) -> tuple[int, int]:
        """The uid that owns ``target`` and its permission bits (the link itself, for a symlink)."""
        info = self.path(target).lstat()
        return info.st_uid, info.st_mode & 0o7777

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
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as error:
            raise failed(f"cannot reach {target}: {error.strerror or error}") from error

    def ownership(self, target: str | PurePosixPath) -> tuple[int, int] | None:
        """The uid and gid of ``target`` (the link itself, for a symlink); None when it does not exist."""
        try:
            info = self.path(target).lstat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return info.st_uid, info.st_gid

    def check_creatable(self, target: str | PurePosixPath) -> None:
        """Refuse, before anything is written, a ``target`` that ``write_atomic`` could not reach: a directory on
        the way that is a file (exit 3), or a missing one it would not create (exit 2, see ``OWNED_DIRECTORIES``)."""
        walked = PurePosixPath("/")
        for part in PurePosixPath(target).parts[1:-1]:
            walked /= part
            real = self.path(walked)
            if real.is_dir():
                continue
            if real.exists() or real.is_symlink():
                raise failed(f"cannot write {target}: {walked} is not a directory")
            _check_creatable(walked, PurePosixPath(target))
            return

    def write_atomic(
        self, target: str | PurePosixPath, content: bytes, mode: int, *, owner: tuple[int, int] | None = None
    ) -> None:
        """Write ``content`` so that readers see the old file or the new one, never a mix; ``owner`` (uid, gid) is
        given to the new file when it is not the caller's.

        A temp file in the same directory gets the content and ``mode``, is fsynced and renamed over the
        target (which replaces a symlink there instead of following it); then the directory is fsynced.
        The directory is reached through components that stay inside the root (see ``_open_parent``).
        """
        try:
            with self._parent(target, create=True, write=True) as (parent, name):
                _sweep_stale_temps(parent, name)
                temp: str | None = None
                try:
                    temp_name = f".{name}{TEMP_MARK}{os.getpid()}.tmp"
                    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
                    fd = os.open(temp_name, flags, 0o600, dir_fd=parent)
                    temp = temp_name
                    with os.fdopen(fd, "wb") as handle:
                        handle.write(content)
                        handle.flush()
                        if owner is not None and owner != (os.geteuid(), os.getegid()):
                            os.fchown(handle.fileno(), *owner)
                        os.fchmod(handle.fileno(), mode)
                        os.fsync(handle.fileno())
                    os.replace(temp_name, name, src_dir_fd=parent, dst_dir_fd=parent)
                    temp = None
                    _fsync_directory(parent)
                finally:
                    if temp is not None:
                        with contextlib.suppress(OSError):
                            os.unlink(temp, dir_fd=parent)
        except OSError as error:
            raise K8snodeError(f"cannot write {target}: {error.strerror or error}", ExitCode.FAILED) from error

    def write_in_place(self, target: str | PurePosixPath, content: bytes) -> None:
        """Write to an existing file without replacing it: the way to set a kernel value under /proc/sys."""
        try:
            with self._parent(target) as (parent, name):
                fd = os.open(name, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(content)
        except OSError as error:
            raise failed(f"cannot write {target}: {error.strerror or error}") from error

    def symlink_atomic(self, target: str | PurePosixPath, points_to: str) -> None:
        """Make ``target`` a symlink to ``points_to`` (not resolved under the root), replacing what is there.

        The directory is reached as ``write_atomic`` reaches it, so the link is made inside the root."""
        try:
            with self._parent(target, create=True, write=True) as (parent, name):
                temp = f".{name}{TEMP_MARK}{os.getpid()}.tmp"
                try:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(temp, dir_fd=parent)
                    os.symlink(points_to, temp, dir_fd=parent)
                    os.replace(temp, name, src_dir_fd=parent, dst_dir_fd=parent)
                    _fsync_directory(parent)
                except OSError:
                    with contextlib.suppress(OSError):
                        os.unlink(temp, dir_fd=parent)
                    raise
        except OSError as error:
            raise failed(f"cannot link {target}: {error.strerror or error}") from error

    def remove(self, target: str | PurePosixPath) -> None:
        try:
            with self._parent(target, write=True) as (parent, name):
                os.unlink(name, dir_fd=parent)
                _fsync_directory(parent)
        except OSError as error:
            raise failed(f"cannot remove {target}: {error.strerror or error}") from error

    @contextmanager
    def _parent(
        self, target: str | PurePosixPath, *, create: bool = False, write: bool = False
    ) -> Iterator[tuple[int, str]]:
        """``target``'s directory, open (see ``_open_parent``) for the block, and the target's name in it."""
        parent = self._open_parent(target, create=create, write=write)
        try:
            yield parent, self.path(target).name
        finally:
            os.close(parent)

    def _open_parent(self, target: str | PurePosixPath, *, create: bool = False, write: bool = False) -> int:
        """A descriptor of ``target``'s directory, reached one component at a time from the root.

        Each component is opened relative to the one before, and where it really is (``/proc/self/fd``) must be
        inside the root: a symlinked directory that leads out of the root is refused (exit 3) and names the
        component, while links that stay inside (``/lib -> usr/lib``) are fine. With ``create``, missing
        directories are created (0755 whatever the umask) only when ``target``'s directory is one of
        ``OWNED_DIRECTORIES``; otherwise a missing one is bad input and nothing is created. Without ``create``, a
        missing one raises FileNotFoundError or NotADirectoryError. With ``write`` the descriptor can be fsynced
        and listed.
        """
        parts = PurePosixPath(target).parts[1:-1]
        inside = os.path.realpath(self.root)
        fd = os.open(self.root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        walked = ""  # a plain string, for the messages: this loop runs for every file k8snode reads
        try:
            for part in parts:
                walked += "/" + part
                try:
                    child = os.open(part, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise
                    _check_creatable(PurePosixPath(walked), PurePosixPath(target))  # before the first mkdir
                    os.mkdir(part, 0o700, dir_fd=fd)
                    child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
                    os.fchmod(child, DIRECTORY_MODE)
                except NotADirectoryError as error:
                    if not create:
                        raise
                    raise K8snodeError(f"{walked} is not a directory", ExitCode.FAILED) from error
                os.close(fd)
                fd = child
                where = os.readlink(f"/proc/self/fd/{fd}")  # noqa: PTH115 - no Path per directory on every read
                if where != inside and not where.startswith(inside.rstrip("/") + "/"):
                    raise K8snodeError(
                        f"{walked} leads outside --root {self.root} (to {where}); k8snode does not follow a "
                        "directory link out of the root",
                        ExitCode.FAILED,
                    )
            if write:
                opened = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=fd)
                os.close(fd)
                fd = opened
        except BaseException:
            os.close(fd)
            raise
        return fd

    def read_input(
        self, name: str, label: str, limit: int, expected: str = "a kubeadm configuration file"
    ) -> tuple[str, bytes]:
        """A file the operator names to be read (``validate FILE``, ``--patch FILE``): where it is, and its bytes.

        An absolute name is a path on the target system, under the root, read as every other such path: a link
        there is followed as the target system would follow it (an absolute link target is under the root, see
        ``resolve_link``), and its directories are reached inside the root (``_open_parent``: one that leads out
        is refused, exit 3). A relative one is the operator's own file, from the working directory on this machine
        (it may lead anywhere, ``../x.yaml`` included). Unlike the files k8snode manages, an input may be a symlink;
        it must be a regular file of at most ``limit`` bytes, and one that is missing or unreadable is bad input
        (exit 2).
        """
        check_name(name, label)
        try:
            if PurePosixPath(name).is_absolute():
                self.path(name)  # refuses '..'
                shown = name
                target = self.resolve_link(name)
                parent = self._open_parent(target)
                try:
                    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
                    fd = os.open(self.path(target).name, flags, dir_fd=parent)
                finally:
                    os.close(parent)
            else:
                shown = os.path.normpath(Path.cwd() / name)
                fd = os.open(Path.cwd() / name, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        except FileNotFoundError:
            raise bad_input(f"{label}{shown} does not exist; give {expected}") from None
        except OSError as error:
            raise bad_input(f"{label}{shown}: cannot read it: {error.strerror or error}") from None
        return shown, read_regular(fd, f"{label}{shown}", limit)

    def remove_empty_directory(self, target: str | PurePosixPath) -> None:
        """Remove the directory ``target`` when it is empty; leave it when anything is in it or it is absent."""
        try:
            with self._parent(target, write=True) as (parent, name):
                os.rmdir(name, dir_fd=parent)
                _fsync_directory(parent)
        except OSError:  # absent, not empty, or not a directory: not ours to remove
            return

    def lock_unless(self, dry_run: bool) -> contextlib.AbstractContextManager[None]:
        """``lock()`` for a run that writes; nothing for a dry run, which changes nothing and so waits for no one."""
        return contextlib.nullcontext() if dry_run else self.lock()

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold k8snode's advisory lock, so runs that write never interleave (see ``lock_path``).

        The lock file is 0600, opened for writing, and the caller's: one that is not is replaced (see
        ``_trusted_lock``), so that no other user can hold it. The holder writes its pid, command and start time
        into it, and a waiting run names them on stderr. The wait is bounded: ``K8SNODE_LOCK_WAIT`` seconds, 300
        by default.
        """
        import fcntl

        wait_seconds = _lock_wait()
        where = self.lock_path()
        if where is None:
            if self.debug:
                print("k8snode: no lock: --root has no writable /run and XDG_RUNTIME_DIR is unset", file=sys.stderr)
            yield
            return
        fd = self._open_lock(where)
        try:
            started = time.monotonic()
            told = False
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    waited = time.monotonic() - started
                    holder = self._lock_holder(where)
                    if waited >= wait_seconds:
                        raise failed(
                            f"another k8snode is running: {where} is still locked after {wait_seconds:g} s"
                            + (f" (held by {holder})" if holder else "")
                        ) from None
                    if not told and holder and waited >= LOCK_NOTICE_AFTER:
                        print(
                            f"k8snode: waiting up to {wait_seconds:g} s for {where}, held by {holder}", file=sys.stderr
                        )
                        told = True
                    time.sleep(0.05)
            os.ftruncate(fd, 0)
            since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
            os.write(fd, f"pid {os.getpid()} ({RUNNING_COMMAND.get()}) since {since}\n".encode())
            yield
        finally:
            os.close(fd)

    def lock_path(self) -> PurePosixPath | None:
        """Where the lock lives: ``/run/k8snode.lock`` under the root when the caller may write there (root on a
        node, or the owner of a sandbox root), else ``$XDG_RUNTIME_DIR/k8snode.lock`` on this machine (a user
        rendering files into their own directories), else nowhere: such a user cannot change what a locked run
        changes."""
        run = self.root / "run"
        if os.access(run, os.W_OK) or (not os.path.lexists(run) and os.access(self.root, os.W_OK)):
            return PurePosixPath(LOCK_FILE)
        runtime = os.environ.get("XDG_RUNTIME_DIR", "")
        if runtime.startswith("/") and os.access(runtime, os.W_OK):
            return PurePosixPath(runtime) / "k8snode.lock"
        return None

    def _lock_real(self, where: PurePosixPath) -> Path:
        return self.path(where) if str(where) == LOCK_FILE else Path(where)

    def _open_lock(self, where: PurePosixPath) -> int:
        try:
            if str(where) == LOCK_FILE:
                parent = self._open_parent(where, create=True)
            else:
                parent = os.open(where.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                return _trusted_lock(parent, where)
            finally:
                os.close(parent)
        except OSError as error:
            raise failed(f"cannot open the lock file {where}: {error.strerror or error}") from error

    def _lock_holder(self, where: PurePosixPath) -> str:
        """What the holder of the lock wrote into it (pid, command, since when), or '' when unknown."""
        with contextlib.suppress(OSError):
            fd = os.open(self._lock_real(where), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
            try:
                return os.read(fd, 512).decode("utf-8", errors="replace").strip()
            finally:
                os.close(fd)
        return ""

    def which(self, program: str) -> str | None:
        """``program`` on this host's PATH, where ``run`` finds it; the root's own /usr/bin does not count.

        Every caller asks whether k8snode can run the program here: ``ipvs check`` and ``doctor`` (the tools
        kube-proxy and kubeadm need) and ``ipvs status`` (ipset). With a --root other than /, the answer is about
        the host that runs k8snode, which is the host that would run those tools.
        """
        return shutil.which(program)

    def run(
        self,
        argv: list[str],
        *,
        timeout: float | None = None,
        output_limit: int | None = None,
        stdin: str | None = None,
    ) -> Completed:
        """Run ``argv`` (the program is looked up on PATH) and return its exit code and output; ``stdin`` is
        written to its standard input (``iptables-restore`` reads its transaction there).

        With ``output_limit``, stdout and stderr are read together into ``stdout`` and only the first
        ``output_limit`` bytes are kept (the rest is read and dropped), and on timeout the command's whole
        process group is killed, so that a shell's children cannot hold the output open.
        """
        program = shutil.which(argv[0])
        if program is None:
            raise failed(f"{argv[0]} is not on PATH")
        if self.debug:
            print("k8snode: run: " + " ".join(argv), file=sys.stderr)
        return execute(program, argv, timeout, output_limit, stdin)


def execute(
    program: str, argv: list[str], timeout: float | None, output_limit: int | None, stdin: str | None
) -> Completed:
    """Start ``program`` (the path ``System.run`` found for ``argv[0]``) with ``argv[1:]``: the one place a process
    starts. The tests replace it to run their fake tools, which are Python, in the test's own process."""
    from plumbum import local  # lazy: plumbum costs ~50 ms to import
    from plumbum.commands.processes import ProcessTimedOut

    # plumbum snapshots the environment when it is imported; pass the current one explicitly.
    bound = local[program][argv[1:]]
    command = bound if stdin is None else bound << stdin
    if output_limit is not None:
        return _run_capped(command, argv, timeout, output_limit)
    try:
        returncode, stdout, stderr = command.run(retcode=None, timeout=timeout, env=dict(os.environ))
    except ProcessTimedOut as error:
        raise failed(f"{' '.join(argv)} did not finish within {timeout} s") from error
    return Completed(tuple(argv), returncode, stdout, stderr)


def _trusted_lock(parent: int, where: PurePosixPath) -> int:
    """The lock file ``where.name`` in the directory ``parent``, open for writing, regular, 0600 and the caller's.

    A lock file k8snode cannot trust (another user's, or open to group or others: left at 0644 by an older k8snode
    or by hand, and /run survives an upgrade) may already be open, and held, by any user, so a chmod is too late: it
    is replaced by a fresh file, renamed over it, which no one else can have opened."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    fd = os.open(where.name, flags, 0o600, dir_fd=parent)
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise failed(f"the lock file {where} is not a regular file: remove it and run again")
    if info.st_uid == os.geteuid() and not stat.S_IMODE(info.st_mode) & 0o077:
        os.fchmod(fd, 0o600)
        return fd
    os.close(fd)
    fresh = f".{where.name}.{os.getpid()}.new"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(fresh, dir_fd=parent)  # left by a run killed right here
    fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=parent)
    os.fchmod(fd, 0o600)
    os.rename(fresh, where.name, src_dir_fd=parent, dst_dir_fd=parent)
    return fd


def _lock_wait() -> float:
    text = os.environ.get("K8SNODE_LOCK_WAIT", "300")
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 3600:
        raise bad_input(f"K8SNODE_LOCK_WAIT={text!r} is not a number of seconds between 0 and 3600")
    return seconds


def _sweep_stale_temps(parent: int, name: str) -> None:
    """Remove temp files a killed k8snode left next to ``name``; callers hold the lock, so none is in use."""
    prefix = f".{name}{TEMP_MARK}"
    for entry in os.listdir(parent):
        if entry.startswith(prefix) and entry.endswith(".tmp"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry, dir_fd=parent)


def _check_creatable(missing: PurePosixPath, target: PurePosixPath) -> None:
    """Missing directories are made only for a file whose directory is one of ``OWNED_DIRECTORIES``."""
    if str(target.parent) not in OWNED_DIRECTORIES:
        raise bad_input(
            f"directory {missing} does not exist (for {target}); k8snode creates only "
            f"{', '.join(OWNED_DIRECTORIES)}: create it first, or check the path for a typo"
        )


def check_name(name: str, label: str = "path ") -> None:
    """A file name the kernel can take and a person can be shown: no NUL, UTF-8, components of at most 255
    bytes and at most 4095 bytes in all (NAME_MAX and PATH_MAX); otherwise bad input."""
    if "\0" in name:
        raise bad_input(f"{label}{name!r} contains a NUL byte; give a file name without one")
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        raise bad_input(f"{label}{name.encode('utf-8', 'surrogateescape')!r} is not UTF-8; rename it") from None
    if len(encoded) > 4095 or any(len(part.encode()) > 255 for part in name.split("/")):
        raise bad_input(f"{label}{name[:60]}... is too long: at most 255 bytes a component, 4095 in all")


def read_regular(fd: int, name: str, limit: int) -> bytes:
    """Read at most ``limit`` bytes from ``fd`` (closed here); only a regular file is read, anything else and a file
    over ``limit`` are bad input, refused before (or after only ``limit`` + 1 bytes of) reading."""
    try:
        kind = os.fstat(fd).st_mode
        if stat.S_ISDIR(kind):
            raise bad_input(f"{name} is a directory; give a file")
        if not stat.S_ISREG(kind):
            raise bad_input(f"{name} is not a regular file (a FIFO, device or socket); give a file")
        chunks = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as error:
        raise bad_input(f"{name}: cannot read it: {error.strerror or error}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        size = f"{limit >> 20} MiB" if limit % (1 << 20) == 0 else f"{limit} bytes"
        raise bad_input(f"{name} is larger than {size}; k8snode reads at most {size} of it")
    return data


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


def _fsync_directory(fd: int) -> None:
    os.fsync(fd)
