"""Bounded work (the HTTP probe's deadline, deep YAML) and exit 2, never "internal error", for each input
the review found ending in a traceback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fakes import make_node, write
from servers import CLOSED_PORT

HEADER = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"


@pytest.fixture
def node(tmp_path: Path) -> Path:
    return make_node(tmp_path / "node")


@pytest.fixture
def trickle() -> Iterator[str]:
    """A server that sends a valid 200 answer one byte every 0.1 s (about 4 s in all), to every connection."""
    answer = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.recv(65536)
                for byte in answer:
                    if stop.is_set():
                        return
                    try:
                        connection.sendall(bytes([byte]))
                    except OSError:
                        break
                    time.sleep(0.1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    stop.set()
    thread.join()
    listener.close()


def test_the_http_timeout_is_a_deadline_for_the_whole_attempt(cli, trickle):
    # Each byte used to restart the socket timeout, so the trickled answer arrived in full and passed.
    run = cli("probe", "http", trickle, "--timeout", "1s", "--failure-threshold", "1", "--json")
    assert run.exit_code == 1, run.stdout
    (attempt,) = run.envelope()["data"]["attempts"]
    assert attempt["result"] == "failure"
    assert attempt["message"] == f'Get "{trickle}": timeout after 1s'


@dataclass
class Lookups:
    asked: list[str] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)


@pytest.fixture
def hanging_lookup(monkeypatch: pytest.MonkeyPatch) -> Iterator[Lookups]:
    """The resolver at its boundary, socket.getaddrinfo: names under hang.invalid wait like a DNS server that never
    answers (for 30 s, then they fail as such a lookup does); other names resolve as usual."""
    release = threading.Event()
    lookups = Lookups()
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(host, str) and host.endswith("hang.invalid"):
            lookups.asked.append(host)
            release.wait(30)
            lookups.answered.append(host)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield lookups
    release.set()


@pytest.mark.parametrize(
    ("probe", "target", "message"),
    [
        (
            "http",
            "http://api.hang.invalid:6443/healthz",
            'Get "http://api.hang.invalid:6443/healthz": timeout after 1s',
        ),
        (
            "http",
            "https://api.hang.invalid:6443/healthz",
            'Get "https://api.hang.invalid:6443/healthz": timeout after 1s',
        ),
        ("tcp", "api.hang.invalid:6443", "dial tcp api.hang.invalid:6443: i/o timeout after 1s"),
    ],
    ids=["http", "https", "tcp"],
)
def test_the_probe_deadline_covers_the_host_lookup(cli, hanging_lookup, probe, target, message):
    # The lookup ran before the deadline was armed: the probe waited until the resolver gave up, then failed.
    run = cli("probe", probe, target, "--timeout", "1s", "--failure-threshold", "1", "--json")
    assert run.exit_code == 1, run.stdout
    (attempt,) = run.envelope()["data"]["attempts"]
    assert attempt["message"] == message
    assert hanging_lookup.asked == ["api.hang.invalid"]
    assert hanging_lookup.answered == [], "the probe waited for the lookup instead of ending at its deadline"


@pytest.mark.parametrize(
    ("probe", "target"), [("http", f"http://{'a' * 64}.example/"), ("tcp", f"{'a' * 64}.example:80")]
)
def test_a_host_name_dns_cannot_hold_is_a_failed_attempt(cli, probe, target):
    # The idna codec refuses a label over 63 characters with a UnicodeError, which ended in "internal error".
    run = cli("probe", probe, target, "--timeout", "1s", "--failure-threshold", "1", "--json")
    assert run.exit_code == 1, run.stderr
    (attempt,) = run.envelope()["data"]["attempts"]
    assert attempt["result"] == "failure" and "not a valid host name" in attempt["message"]


@pytest.mark.parametrize(
    "text",
    [
        HEADER + "apiServer: " + "[" * 2000 + "]" * 2000 + "\n",
        HEADER + "apiServer: " + "{a: " * 2000 + "}" * 2000 + "\n",
        HEADER + "apiServer:\n  " + "- " * 3000 + "x\n",
    ],
    ids=["flow sequences", "flow mappings", "compact block sequences"],
)
def test_deep_nesting_is_refused_before_it_is_walked(cli, tmp_path, text):
    write(tmp_path / "deep.yaml", text)
    run = cli("validate", "/deep.yaml", "--root", str(tmp_path))
    assert run.exit_code == 2 and run.stderr.count("\n") == 1
    assert "nest" in run.stderr and "internal error" not in run.stderr


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("expires: 2024-02-30", "day is out of range for month"),
        ("x: !!int 0x", "a value cannot be read"),
        ("x: !!bool maybe", "a value cannot be read"),
        ("x: !!float abc", "a value cannot be read"),
        ("x: " + "9" * 5000, "Exceeds the limit (4300"),  # Python 3.10 adds ") for integer string conversion"
    ],
)
def test_values_the_yaml_constructor_cannot_build_are_exit_2(cli, tmp_path, line, message):
    write(tmp_path / "cfg.yaml", HEADER + line + "\n")
    run = cli("validate", "/cfg.yaml", "--root", str(tmp_path))
    assert run.exit_code == 2 and message in run.stderr and run.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["kubeadm-config", "--kubernetes-version", "v1." + "1" * 5000], "is not a Kubernetes version"),
        (["kubeadm-config", "--kubernetes-version", "v1.\u0663\u0667.2"], "is not a Kubernetes version"),
        (["kubelet-flags", "--kubernetes-version", "v1." + "1" * 5000], "is not a Kubernetes version"),
        (["kubeadm-config", "--out", "/etc/kubernetes/" + "a" * 300], "at most 255 bytes a component"),
        (["validate", "/" + "a" * 300], "at most 255 bytes a component"),
    ],
)
def test_hostile_values_are_exit_2(cli, node, argv, message):
    run = cli(*argv, "--root", str(node))
    assert run.exit_code == 2, run.stderr
    assert message in run.stderr and run.stderr.count("\n") == 1


def test_set_to_a_document_marker_is_not_an_internal_error(cli, node):
    """A field of any type takes its value as YAML, and '---' is a stream of no document: no value, so null."""
    run = cli(
        "kubeadm-config",
        "--kubernetes-version",
        "v1.10.13",
        "--set",
        "MasterConfiguration.etcd.selfHosted=---",
        "--root",
        str(node),
    )
    assert run.exit_code == 0, run.stderr
    assert "\netcd:\n  selfHosted: null\n" in run.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["probe", "http", "http://[::1"],
        ["probe", "http", f"http://127.0.0.1:{CLOSED_PORT}/", "--header", "X-A: 1\r\nX-Injected: 2"],
        ["probe", "http", f"http://127.0.0.1:{CLOSED_PORT}/", "--header", "X-A: \u20ac"],
        ["probe", "http", f"http://127.0.0.1:{CLOSED_PORT}/", "--header", "X A: 1"],
    ],
)
def test_hostile_probe_input_is_exit_2_before_any_connection(cli, argv):
    """A connection would be refused (exit 1): exit 2 says the input was refused first."""
    run = cli(*argv, "--failure-threshold", "1")
    assert run.exit_code == 2 and run.stderr.startswith("k8snode: error: ") and run.stderr.count("\n") == 1


def test_non_utf8_file_names_are_exit_2(cli, node):
    name = "/etc/kubernetes/\udcff.yaml"  # how Python shows the byte 0xff of a non-UTF-8 argv
    for argv in (["kubeadm-config", "--out", name], ["kubelet-flags", "--out", name], ["validate", name]):
        run = cli(*argv, "--root", str(node))
        assert run.exit_code == 2 and "is not UTF-8" in run.stderr, (argv, run.stderr)


def test_non_utf8_input_is_exit_2_not_rewritten(cli, tmp_path):
    (tmp_path / "cfg.yaml").write_bytes((HEADER + "clusterName: caf\u00e9\n").encode("latin-1"))
    for argv in (["validate", "/cfg.yaml"], ["kubeadm-config", "--patch", "/cfg.yaml"]):
        run = cli(*argv, "--root", str(tmp_path))
        assert run.exit_code == 2 and "not UTF-8 (byte 0xe9" in run.stderr


@pytest.mark.parametrize(
    ("route", "why"),
    [
        (
            "eth0\t00000000\t0102000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\neth0\t"
            + "F" * 40
            + "\t0\t0001\t0\t0\t0\t00FFFFFF",
            "oversized",
        ),
        (
            "eth0\t00000000\t0102000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\neth0\t0A02000A\t0\t0001\t0\t0\t0\t00FFFFFF",
            "host bits",
        ),
        (
            "eth0\t00000000\t0102000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\neth0\t0000000A\t0\t0001\t0\t0\t0\t00FF00FF",
            "mask",
        ),
    ],
)
def test_a_hostile_route_table_is_not_an_internal_error(cli, node, route, why):
    write(
        node / "proc/net/route",
        "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n" + route + "\n",
    )
    run = cli("kubeadm-config", "--root", str(node))
    assert run.exit_code == 2, (why, run.stderr)
    assert "cannot determine the host's primary IPv4 address" in run.stderr


@pytest.mark.parametrize("release", ["6.1.0-" + "x" * 300, "6.1.0\x00evil", "6.1 0"])
def test_a_hostile_kernel_release_is_exit_2(cli, fake_root, release):
    root = fake_root("deb12-6.1")
    write(root.path / "proc/sys/kernel/osrelease", release + "\n")
    run = cli("ipvs", "check", "--root", str(root.path))
    assert run.exit_code == 2 and "which is not a kernel release" in run.stderr and run.stderr.count("\n") == 1


def test_ipv4_and_ipv6_real_servers_under_one_service(cli, fake_root):
    root = fake_root("deb12-6.1")
    write(
        root.path / "proc/net/ip_vs",
        "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n"
        "  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\nTCP  0A600001:01BB rr\n"
        "  -> [fd00:0000:0000:0000:0000:0000:0001:0002]:1F90      Masq    1      0          0\n"
        "  -> 0AF40102:1F90      Masq    1      0          0\n",
    )
    run = cli("ipvs", "status", "--root", str(root.path), "--json")
    assert run.exit_code == 0, run.stderr
    (service,) = run.envelope()["data"]["virtual_servers"]
    assert [real["address"] for real in service["real_servers"]] == ["10.244.1.2", "fd00::1:2"]
