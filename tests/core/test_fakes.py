"""The fakes themselves: the fake tools behave like the real ones (kmod's modprobe), give the same outcome in the
test's process as in a process of their own, and the port the tests call closed refuses connections."""

from __future__ import annotations

import errno
import shutil
import socket
from pathlib import Path

import fakes
import pytest
from fake_netfilter import save_state
from fakes import FAKE_NETFILTER, PYTHON, add_netfilter_tools, in_process, make_host, write
from ipvs_node import ipvs_node_state
from servers import CLOSED_PORT

from k8snode.core.system import Completed, System

NETFILTER_CALLS = [  # (argv, standard input, the exit code it gives)
    (["ipset", "save"], None, 0),
    (["ipset", "list", "-n"], None, 0),
    (["ip", "-d", "-o", "link", "show", "dev", "kube-ipvs0"], None, 0),
    (["ip", "-o", "addr", "show", "dev", "kube-ipvs0"], None, 0),
    (["ip", "-o", "addr", "show", "dev", "eth9"], None, 1),
    (["iptables-save", "-t", "nat"], None, 0),
    (["ip6tables-save", "-t", "filter"], None, 0),
    (["iptables-save", "-t", "raw"], None, 2),  # beyond what the fake knows
    (["ipvsadm", "-D", "-t", "10.96.0.1:443"], None, 0),
    (["ipvsadm", "-D", "-t", "10.96.0.1:443"], None, 1),  # gone: "Service not defined"
    (["ipvsadm", "-D", "-f", "16"], None, 0),
    (["ipset", "destroy", "KUBE-CLUSTER-IP"], None, 1),  # a rule still matches it: in use
    (["ipset", "destroy", "KUBE-LOAD-BALANCER-FW"], None, 0),
    (["iptables-restore", "--noflush"], "*nat\n-F KUBE-SERVICES\n-X KUBE-SERVICES\nCOMMIT\n", 1),  # still jumped to
    (
        ["iptables-restore", "--noflush"],
        "*nat\n"
        '-D PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n'
        '-D OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n'
        "-F KUBE-SERVICES\n-X KUBE-SERVICES\nCOMMIT\n",
        0,
    ),
    (["ip", "link", "delete", "kube-ipvs0"], None, 0),
    (["ip", "link", "delete", "kube-ipvs0"], None, 1),
]
KERNEL_CALLS = [  # (argv, the exit code it gives)
    (["modprobe", "ip_vs", "ip_vs_rr"], 0),
    (["modprobe", "-a", "ip_vs_rr", "ip_vs_wrr", "br_netfilter"], 0),
    (["modprobe", "--", "ip_vs_nope"], 1),
    (["modprobe", "-r", "ip_vs"], 1),  # in use by the schedulers
    (["modprobe", "-r", "--first-time", "ip_vs_mh"], 1),
    (["modprobe", "-r", "ip_vs_rr", "ip_vs_wrr"], 0),
    (["swapoff", "--", "/dev/sda2"], 0),
    (["swapoff", "--", "/dev/sda2"], 255),  # no longer active
]


def files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` but the wrappers (which name their root): the state the fakes keep and show."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.relative_to(root).parts[0] != "fakebin"
    }


def both_ways(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make) -> tuple[Path, Path]:
    """Two identical roots (``make(path)`` builds each): the first's fakes on PATH for the in-process runs."""
    first, second = tmp_path / "in-process", tmp_path / "processes"
    make(first)
    make(second)
    monkeypatch.setenv("PATH", str(first / "fakebin"))
    return first, second


def test_the_netfilter_fakes_give_the_same_outcome_in_process_as_in_a_process(tmp_path, monkeypatch):
    """Each call through System.run, once in this process and once as a program: same exit code, output and state."""

    def node(root: Path) -> None:
        add_netfilter_tools(root)
        save_state(root, ipvs_node_state())

    here, there = both_ways(tmp_path, monkeypatch, node)
    system = System()
    for argv, stdin, code in NETFILTER_CALLS:
        assert in_process(str(here / "fakebin" / argv[0])) is not None, argv  # System.run calls it, starts nothing
        ran = system.run(argv, stdin=stdin)
        assert ran == fakes.START_PROCESS(str(there / "fakebin" / argv[0]), argv, 10, None, stdin), argv
        assert ran.returncode == code, argv
        assert files(here) == files(there), argv


def test_the_kernel_fakes_give_the_same_outcome_in_process_as_in_a_process(tmp_path, monkeypatch):
    """modprobe loading, refusing and removing, and swapoff of an active device and of one no longer active."""
    here, there = both_ways(tmp_path, monkeypatch, lambda root: make_host(root, "debian"))
    system = System()
    for argv, code in KERNEL_CALLS:
        assert in_process(str(here / "fakebin" / argv[0])) is not None, argv
        ran = system.run(argv)
        assert ran == fakes.START_PROCESS(str(there / "fakebin" / argv[0]), argv, 10, None, None), argv
        assert ran.returncode == code, argv
        assert files(here) == files(there), argv


def test_modprobe_r_removes_unused_dependencies_and_skips_what_is_not_loaded(fake_root):
    """The fake's `modprobe -r` against kmod's rules (tests/fake_modprobe.py cites them); the VM test checks kmod."""
    root = fake_root("deb12-6.1")
    run = System().run
    assert run(["modprobe", "-a", "ip_vs_rr", "ip_vs_wrr"]).returncode == 0
    # Several names; ip_vs_mh is not loaded, which is not an error; ip_vs goes once its last user has gone, and with
    # it nf_conntrack and the modules below it, none of which anything else uses.
    removed = run(["modprobe", "-r", "ip_vs_mh", "ip_vs_rr", "ip_vs_wrr"])
    assert (removed.returncode, removed.stderr) == (0, "")
    assert root.proc_modules() == []
    absent = run(["modprobe", "-r", "--first-time", "ip_vs"])
    assert (absent.returncode, absent.stderr) == (1, "modprobe: FATAL: Module ip_vs is not in kernel.\n")


def test_fake_modprobe_treats_extra_words_as_parameters_like_the_real_one(fake_root):
    root = fake_root("deb12-6.1")
    run = System().run
    assert run(["modprobe", "ip_vs", "ip_vs_rr"]).returncode == 0
    assert "ip_vs_rr" not in root.proc_modules() and "ip_vs" in root.proc_modules()
    assert (root.path / "var/log/dmesg").read_text() == "ip_vs: unknown parameter 'ip_vs_rr' ignored\n"
    assert run(["modprobe", "-a", "ip_vs_rr", "ip_vs_wrr"]).returncode == 0
    assert {"ip_vs_rr", "ip_vs_wrr"} <= set(root.proc_modules())
    missing = run(["modprobe", "--", "ip_vs_nope"])
    assert missing.returncode == 1 and "not found in directory /lib/modules/6.1.0-28-amd64" in missing.stderr


def test_only_a_wrapper_of_a_python_fake_runs_in_process(tmp_path):
    add_netfilter_tools(tmp_path)
    wrapper = tmp_path / "fakebin/ipset"
    assert in_process(str(wrapper)) is not None
    edited = wrapper.read_text().replace("exec ", "echo extra >&2; exec ")
    write(tmp_path / "fakebin/edited", edited, mode=0o755)
    write(tmp_path / "fakebin/other", f'#!/bin/sh\nexec "{PYTHON}" "{Path(__file__)}" "$@"\n', mode=0o755)
    write(tmp_path / "fakebin/quoted", f'#!/bin/sh\nexec "{PYTHON}" \'{FAKE_NETFILTER}\n', mode=0o755)
    for program in ("edited", "other", "quoted", "missing"):
        assert in_process(str(tmp_path / "fakebin" / program)) is None, program
    assert in_process(shutil.which("sh") or "/bin/sh") is None


def test_a_script_a_test_writes_in_place_of_a_fake_runs_as_a_process(tmp_path, monkeypatch):
    add_netfilter_tools(tmp_path)
    save_state(tmp_path, ipvs_node_state())
    script = f'#!/bin/sh\necho "replaced: $*" >&2\nexec "{PYTHON}" "{FAKE_NETFILTER}" "{tmp_path}" ipset "$@"\n'
    write(tmp_path / "fakebin/ipset", script, mode=0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "fakebin"))
    done = System().run(["ipset", "list", "-n"])
    assert done.stderr == "replaced: list -n\n"
    assert done == Completed(
        ("ipset", "list", "-n"), 0, "".join(f"{name}\n" for name in ipvs_node_state()["ipsets"]), done.stderr
    )


def test_the_closed_port_refuses_connections_and_cannot_be_taken():
    with socket.socket() as client:
        assert client.connect_ex(("127.0.0.1", CLOSED_PORT)) == errno.ECONNREFUSED
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        with pytest.raises(OSError) as taken:
            other.bind(("127.0.0.1", CLOSED_PORT))
        assert taken.value.errno == errno.EADDRINUSE
