"""A fleet of SSH hosts for the Ansible role: one network namespace per host, each running the distribution's sshd.

Host ``i`` of a run is the namespace ``k8sn-<run>-<i>``, joined to the controller's namespace by a veth pair whose
controller end sits on the run's bridge; it has its own address in a /16 of 10.200-249.0.0 that no route on the
machine uses yet, and runs ``/usr/sbin/sshd -D -f <its own config>`` with its own host key, the controller's key as
its only authorized key, root login by key, and LogLevel VERBOSE to its own log (so that connections and sessions
can be counted). Only the network is per host: the sshd sees the machine's files, so each host's fake root
(tests/fleet.py) is reached over SSH at the same path as locally. Each host's sessions get HOME set to an empty
folder of its own, as on a fresh host: root's login shell would otherwise read this machine's ~/.bashrc at every
command (here pyenv's init, a third of a second each).

The controller side is what operators use: pipelining, ControlPersist with the sockets in the run's folder, and
host-key checking on against a known_hosts file written at set-up. ``-F /dev/null`` keeps the machine's own ssh
client configuration out of the runs. The run's name is a hash of its folder, so ``down DIR`` finds every leftover
of a run (namespaces, sshd and ssh ControlMaster processes, links, mounts) even when ``up`` was killed midway.

    python tests/sshfleet.py up N DIR      # N hosts, fake roots, inventory.yml and ansible.cfg in DIR
    python tests/sshfleet.py down DIR      # stop and remove everything of that run
Needs root, iproute2, openssh-client and openssh-server (tests/ansible/install-deps.sh).
"""

from __future__ import annotations

import argparse
import hashlib
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SSHD = Path("/usr/sbin/sshd")
SFTP_SERVER = Path("/usr/lib/openssh/sftp-server")
PRIVSEP_DIR = Path("/run/sshd")  # sshd refuses to start without it; the distribution's unit creates it at boot
STATE = "fleet.json"
SUBNETS = range(200, 250)  # the second octet of the run's 10.x.0.0/16
SESSION_LINE = re.compile(r"^Starting session: (\S+(?: '[^']*')?)(?: on \S+)? for ")
KERNELS = ("el7-3.10", "el8.3-4.18", "ubuntu-5.15", "deb12-6.1")  # the hosts' kernels in turn (tests/fakes.py)
SSH_COMMANDS = {"ssh", "sshd", "sshd-session", "sshd-auth"}


def run_name(directory: Path) -> str:
    """The run's name: a hash of its folder, so that ``down`` finds a run's leftovers from the folder alone."""
    return hashlib.sha1(str(directory.resolve()).encode(), usedforsecurity=False).hexdigest()[:5]


def namespace_prefix(run: str) -> str:
    return f"k8sn-{run}-"


def link_prefix(run: str) -> str:
    """Controller-side link names (at most 15 characters): k8sn<run>br for the bridge, k8sn<run><i> per host."""
    return f"k8sn{run}"


def missing_tools() -> list[str]:
    """What the fleet needs that this machine lacks, as package hints; empty when it can run."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root (network namespaces and sshd)")
    if not shutil.which("ip"):
        missing.append("ip (apt-get install iproute2)")
    if not shutil.which("ssh") or not shutil.which("ssh-keygen"):
        missing.append("ssh, ssh-keygen (apt-get install openssh-client)")
    if not SSHD.is_file():
        missing.append(f"{SSHD} (apt-get install openssh-server)")
    return missing


def ip(*args: str, stdin: str | None = None, check: bool = True) -> str:
    done = subprocess.run(["ip", *args], input=stdin, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


@dataclass
class SshHost:
    index: int
    namespace: str
    address: str
    link: str  # the controller end of its veth pair
    pid: int  # its sshd
    log: Path

    def sessions(self) -> Counter[str]:
        """From the sshd log: ``connections`` (public-key logins) and one count per session type
        (``command``, ``subsystem 'sftp'``, ...)."""
        counts: Counter[str] = Counter()
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        for line in text.splitlines():
            if line.startswith("Accepted publickey for "):
                counts["connections"] += 1
            match = SESSION_LINE.match(line)
            if match:
                counts[match[1]] += 1
        return counts

    def bytes_sent(self) -> int:
        """Bytes the controller sent to this host: what its veth end transmitted."""
        return int(Path(f"/sys/class/net/{self.link}/statistics/tx_bytes").read_text())

    def rss_kib(self) -> int:
        """Resident memory of the listening sshd, in KiB."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)[1])  # type: ignore[index]


@dataclass
class SshFleet:
    directory: Path
    run: str
    hosts: list[SshHost]

    @property
    def key(self) -> Path:
        return self.directory / "id_ed25519"

    @property
    def config(self) -> Path:
        return self.directory / "ansible.cfg"

    def connection(self, host: SshHost) -> dict[str, str]:
        """Inventory variables that reach ``host`` over SSH as root, with this checkout's Python as the modules'."""
        return {
            "ansible_connection": "ssh",
            "ansible_host": host.address,
            "ansible_user": "root",
            "ansible_ssh_private_key_file": str(self.key),
            "ansible_python_interpreter": sys.executable,
        }

    def env(self) -> dict[str, str]:
        """Environment for ansible-playbook: this fleet's ansible.cfg, with host-key checking on."""
        return {"ANSIBLE_CONFIG": str(self.config), "ANSIBLE_HOST_KEY_CHECKING": "1"}

    def sessions(self) -> list[Counter[str]]:
        return [host.sessions() for host in self.hosts]

    def close_masters(self) -> None:
        """Ask every ControlMaster of the run to exit (the next run logs in again)."""
        close_masters(self.directory)

    def bytes_sent(self) -> list[int]:
        return [host.bytes_sent() for host in self.hosts]


def pick_subnet() -> int:
    """A second octet from SUBNETS whose 10.x.0.0/16 no route or address on the machine overlaps."""
    used = []
    for line in ip("-4", "-o", "addr", "show").splitlines() + ip("-4", "route", "show").splitlines():
        for word in line.split():
            try:
                used.append(ipaddress.ip_network(word, strict=False))
            except ValueError:
                continue
    # Two fleets set up at once (pytest-xdist's workers gw0, gw1, ...) would both see the first free /16: each worker
    # starts its search at its own place.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    start = (int(worker) * 10 if worker.isdigit() else 0) % len(SUBNETS)
    for octet in [*SUBNETS[start:], *SUBNETS[:start]]:
        candidate = ipaddress.ip_network(f"10.{octet}.0.0/16")
        if not any(candidate.overlaps(net) for net in used if net.prefixlen > 0):
            return octet
    raise RuntimeError(f"no free 10.x.0.0/16 for x in {SUBNETS.start}-{SUBNETS.stop - 1}")


def address(octet: int, index: int) -> str:
    """Host ``index`` (1-based) of the run's /16; .0.1 is the controller's bridge."""
    number = index + 1
    return f"10.{octet}.{number // 256}.{number % 256}"


def keygen(path: Path, comment: str) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        capture_output=True,
    )


SSHD_CONFIG = """\
# sshd of fleet host {namespace}: the controller's key only, root by key, every session logged.
ListenAddress 0.0.0.0
Port 22
HostKey {host_key}
PidFile none
AuthorizedKeysFile {authorized}
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
# the fake hosts' keys and configs live under /tmp, which StrictModes refuses; PAM's session modules want a login
# the namespace cannot give (loginuid)
StrictModes no
UsePAM no
UseDNS no
PrintMotd no
LogLevel VERBOSE
MaxStartups 100:30:200
Subsystem sftp {sftp}
{set_env}"""

ANSIBLE_CFG = """\
# The way operators run Ansible over SSH: pipelining, ControlPersist, host keys checked against known_hosts.
[defaults]
host_key_checking = True

[ssh_connection]
pipelining = True
ssh_args = -F /dev/null -o ControlMaster=auto -o ControlPersist=60s -o ControlPath={control}/%C \
-o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes
"""


def up(count: int, directory: Path, *, env: dict[str, str] | None = None, timeout: float = 60) -> SshFleet:
    """Start ``count`` hosts for the run of ``directory`` (made if missing); tear down what was made on failure.
    ``env``: variables every session on the hosts gets (sshd's SetEnv), as a host's /etc/environment would give."""
    if missing_tools():
        raise RuntimeError(f"the SSH fleet needs {', '.join(missing_tools())}")
    directory.mkdir(parents=True, exist_ok=True)
    directory = directory.resolve()
    run = run_name(directory)
    control = directory / "cm"
    if len(str(control)) + 60 > 107:  # %C is 40 characters; ssh adds a suffix of 17 while it binds the socket
        raise RuntimeError(
            f"{directory} is too long for ControlPath sockets (sun_path is 108 bytes): use a shorter one"
        )
    if leftovers(directory):
        raise RuntimeError(f"run {run} of {directory} is still up: run `down {directory}` first")
    try:
        return start(count, directory, run, env or {}, timeout)
    except BaseException:
        down(directory)
        raise


def start(count: int, directory: Path, run: str, env: dict[str, str], timeout: float) -> SshFleet:
    """Keys, namespaces and links (one ``ip -batch`` for the controller's side, one per namespace), the sshds,
    known_hosts and ansible.cfg; returns once every sshd listens."""
    control = directory / "cm"
    control.mkdir(mode=0o700, exist_ok=True)
    hosts_dir = directory / "hosts"
    hosts_dir.mkdir(exist_ok=True)
    (directory / "id_ed25519").unlink(missing_ok=True)
    (directory / "id_ed25519.pub").unlink(missing_ok=True)
    keygen(directory / "id_ed25519", f"controller@{run}")
    PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
    octet = pick_subnet()
    prefix, links = namespace_prefix(run), link_prefix(run)
    names = [(index, f"{prefix}{index}", f"{links}{index}", address(octet, index)) for index in range(1, count + 1)]
    (directory / STATE).write_text(json.dumps({"run": run, "subnet": f"10.{octet}.0.0/16", "count": count}))

    def host_key(index: int) -> None:
        folder = hosts_dir / str(index)
        folder.mkdir(exist_ok=True)
        for stale in folder.glob("ssh_host_ed25519_key*"):
            stale.unlink()
        keygen(folder / "ssh_host_ed25519_key", f"{prefix}{index}")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(host_key, range(1, count + 1)))
    bridge = f"{links}br"
    batch = [f"link add {bridge} type bridge", f"addr add 10.{octet}.0.1/16 dev {bridge}", f"link set {bridge} up"]
    for _, namespace, link, _ in names:
        batch += [
            f"netns add {namespace}",
            f"link add {link} type veth peer name eth0 netns {namespace}",
            f"link set {link} master {bridge} up",
        ]
    ip("-batch", "-", stdin="\n".join(batch) + "\n")

    def inside(entry: tuple[int, str, str, str]) -> None:
        _, namespace, _, host_address = entry
        ip(
            "-n",
            namespace,
            "-batch",
            "-",
            stdin=f"link set lo up\nlink set eth0 up\naddr add {host_address}/16 dev eth0\n",
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(inside, names))
    hosts = []
    known = []
    for index, namespace, link, host_address in names:
        folder = hosts_dir / str(index)
        home = folder / "home"
        home.mkdir(mode=0o700, exist_ok=True)
        session = {"HOME": str(home), **env}
        log = folder / "sshd.log"
        log.unlink(missing_ok=True)
        config = folder / "sshd_config"
        config.write_text(
            SSHD_CONFIG.format(
                namespace=namespace,
                host_key=folder / "ssh_host_ed25519_key",
                authorized=directory / "id_ed25519.pub",
                sftp=SFTP_SERVER,
                set_env="SetEnv " + " ".join(f'"{name}={value}"' for name, value in session.items()) + "\n",
            )
        )
        sshd = subprocess.Popen(
            ["ip", "netns", "exec", namespace, str(SSHD), "-D", "-f", str(config), "-E", str(log)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # outlives `up`; `down` finds it in the namespace
        )
        hosts.append(SshHost(index, namespace, host_address, link, sshd.pid, log))
        public = (folder / "ssh_host_ed25519_key.pub").read_text().split()[:2]
        known.append(f"{host_address} {' '.join(public)}\n")
    (directory / "known_hosts").write_text("".join(known))
    (directory / "ansible.cfg").write_text(ANSIBLE_CFG.format(control=control, known_hosts=directory / "known_hosts"))
    deadline = time.monotonic() + timeout
    waiting = list(hosts)
    while waiting:
        waiting = [host for host in waiting if "Server listening on 0.0.0.0" not in read(host.log)]
        if waiting and time.monotonic() > deadline:
            raise RuntimeError(
                f"sshd of {waiting[0].namespace} did not listen in {timeout:.0f} s: {read(waiting[0].log)}"
            )
        time.sleep(0.05)
    fleet = SshFleet(directory, run, hosts)
    state = json.loads((directory / STATE).read_text())
    state["hosts"] = [{**vars(host), "log": str(host.log)} for host in hosts]
    (directory / STATE).write_text(json.dumps(state, indent=1))
    return fleet


def read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def load(directory: Path) -> SshFleet:
    """The fleet that ``up`` left in ``directory``."""
    directory = directory.resolve()
    state = json.loads((directory / STATE).read_text())
    hosts = [SshHost(**{**host, "log": Path(host["log"])}) for host in state["hosts"]]
    return SshFleet(directory, state["run"], hosts)


def namespaces(run: str) -> list[str]:
    prefix = namespace_prefix(run)
    return [line.split()[0] for line in ip("netns", "list").splitlines() if line.startswith(prefix)]


def links(run: str) -> list[str]:
    names = (line.split(": ")[1].split("@")[0] for line in ip("-o", "link", "show").splitlines())
    return [name for name in names if name.startswith(link_prefix(run))]


def processes(directory: Path) -> list[int]:
    """ssh and sshd processes whose command line names a file of the run's folder: its ControlMasters (their
    sockets), and any sshd of its hosts that is no longer in a namespace of the run."""
    needle = f"{directory}/".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "comm").read_text().strip() in SSH_COMMANDS and needle in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def mounts(run: str) -> list[str]:
    prefix = namespace_prefix(run)
    return [line for line in Path("/proc/self/mountinfo").read_text().splitlines() if prefix in line]


def leftovers(directory: Path) -> list[str]:
    """What of the run of ``directory`` is still on the machine: namespaces, processes in them, ssh processes on
    its control sockets, links and mounts; empty when nothing is."""
    directory = directory.resolve()
    run = run_name(directory)
    found = [f"namespace {name}" for name in namespaces(run)]
    for name in namespaces(run):
        found += [f"process {pid} in {name}" for pid in ip("netns", "pids", name, check=False).split()]
    found += [f"process {pid} (ssh or sshd of {directory})" for pid in processes(directory)]
    found += [f"link {name}" for name in links(run)]
    found += [f"mount {line}" for line in mounts(run)]
    return found


def kill(pids: list[int]) -> None:
    """SIGTERM, then SIGKILL to whatever still runs after 2 s."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + 2
    while pids and time.monotonic() < deadline:
        pids = [pid for pid in pids if Path(f"/proc/{pid}").exists() and not zombie(pid)]
        time.sleep(0.05)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue


def zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def close_masters(directory: Path) -> None:
    control = directory / "cm"
    for socket in control.glob("*") if control.is_dir() else ():
        subprocess.run(
            ["ssh", "-F", "/dev/null", "-o", f"ControlPath={socket}", "-O", "exit", "fleet"],
            capture_output=True,
            timeout=10,
        )


def down(directory: Path) -> list[str]:
    """Stop and remove everything of the run of ``directory``; returns what is left (empty on success)."""
    directory = directory.resolve()
    run = run_name(directory)
    close_masters(directory)
    kill(processes(directory))
    names = namespaces(run)
    kill([int(pid) for name in names for pid in ip("netns", "pids", name, check=False).split()])
    for name in names:
        ip("netns", "delete", name, check=False)
    for name in links(run):
        ip("link", "delete", name, check=False)
    return leftovers(directory)


def require() -> None:
    """In a test: skip with what is missing when the machine cannot run the fleet (fail when K8SNODE_REQUIRE_ROOT=1,
    as in CI)."""
    from required import unavailable

    if missing_tools():
        unavailable("K8SNODE_REQUIRE_ROOT", f"the SSH fleet needs {', '.join(missing_tools())}")


def short_folder() -> Path:
    """A new folder short enough for the ControlPath sockets (pytest's tmp_path often is not)."""
    return Path(tempfile.mkdtemp(prefix="k8sn-", dir="/tmp"))


def fixture(request: Any, count: int, env: dict[str, str] | None = None) -> SshFleet:
    """``up`` in a short_folder() for a pytest fixture (after ``require``), taken down and removed when the
    requesting scope ends whatever happened; that teardown fails when anything of the run is left."""
    require()
    directory = short_folder()

    def teardown() -> None:
        left = down(directory)
        assert not left, f"the SSH fleet of {directory} left {left}"
        shutil.rmtree(directory)

    request.addfinalizer(teardown)
    return up(count, directory, env=env)


def inventory(fleet: SshFleet, directory: Path) -> Path:
    """Fake roots (tests/fleet.py, kernels in turn, one swap on) for each host, and inventory.yml reaching them."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from fleet import make_fleet, write_inventory

    per_kernel: dict[str, tuple[str, int]] = {}
    for index in range(len(fleet.hosts)):
        kernel = KERNELS[index % len(KERNELS)]
        group = re.sub(r"\W", "_", kernel)
        per_kernel[group] = (kernel, per_kernel.get(group, (kernel, 0))[1] + 1)
    hosts = make_fleet(directory / "roots", per_kernel, swaps=("/dev/sda2",))
    for host, ssh in zip(hosts, fleet.hosts, strict=True):
        host.vars.update(fleet.connection(ssh))
    return write_inventory(directory / "inventory.yml", hosts, {}, connection={})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start_parser = commands.add_parser("up", help="start N hosts; write inventory.yml and ansible.cfg in DIR")
    start_parser.add_argument("count", type=int, metavar="N")
    start_parser.add_argument("directory", type=Path, metavar="DIR")
    stop_parser = commands.add_parser("down", help="stop and remove every host, process, link and mount of DIR's run")
    stop_parser.add_argument("directory", type=Path, metavar="DIR")
    args = parser.parse_args(argv)
    if args.command == "up" and args.count < 1:
        parser.error(f"N: a number of hosts of at least 1, not {args.count}")
    if missing_tools():
        print(f"sshfleet: needs {', '.join(missing_tools())}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    if args.command == "up":
        try:
            fleet = up(args.count, args.directory)
            written = inventory(fleet, args.directory.resolve())
        except RuntimeError as error:
            print(f"sshfleet: {error}", file=sys.stderr)
            return 1
        print(f"run {fleet.run}: {len(fleet.hosts)} hosts up in {time.perf_counter() - started:.1f} s")
        print(f"ANSIBLE_CONFIG={fleet.config} ansible-playbook -i {written} PLAYBOOK")
        return 0
    left = down(args.directory)
    print(f"run {run_name(args.directory)}: down in {time.perf_counter() - started:.1f} s")
    for item in left:
        print(f"left: {item}", file=sys.stderr)
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
