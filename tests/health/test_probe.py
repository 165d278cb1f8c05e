"""`k8snode probe` against real servers on loopback, and the probe loop against a fake clock."""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
from pathlib import Path

import pytest
from servers import CLOSED_PORT, Answer, self_signed, serve

from k8snode.health.probe import Outcome, Settings, Verdict, watch

ONCE = ("--failure-threshold", "1")


@pytest.fixture
def release():
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def http_server(release):
    server, httpd = serve("127.0.0.1", release=release)
    yield server
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def other_server():
    server, httpd = serve("127.0.0.1")
    yield server
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def https_server(tmp_path, release):
    server, httpd = serve("127.0.0.1", tls=self_signed(tmp_path), release=release)
    yield server
    httpd.shutdown()
    httpd.server_close()


def probe_http(cli, url, *options):
    run = cli("probe", "http", url, *options, "--json")
    return run, run.envelope()


def only_attempt(envelope):
    [attempt] = envelope["data"]["attempts"]
    return attempt


@pytest.mark.parametrize(
    ("code", "result", "exit_code"),
    [
        (200, "success", 0),
        (204, "success", 0),
        (299, "success", 0),
        (300, "warning", 0),  # a 3xx that is not followed: kubelet's Warning, counted as success
        (304, "warning", 0),
        (399, "warning", 0),
        (400, "failure", 1),
        (404, "failure", 1),
        (500, "failure", 1),
        (503, "failure", 1),
        (199, "failure", 1),
    ],
)
def test_status_classes_follow_kubelet(cli, http_server, code, result, exit_code):
    run, envelope = probe_http(cli, http_server.url(f"/status/{code}"), *ONCE)
    assert run.exit_code == exit_code
    attempt = only_attempt(envelope)
    assert (attempt["result"], attempt["status"]) == (result, code)
    body = "" if code in (204, 304) else f"status {code}"  # 204 and 304 carry no body
    if result == "success":
        assert attempt["message"] == body
    elif result == "failure":
        assert attempt["message"] == f"HTTP probe failed with statuscode: {code}"
    else:
        assert attempt["message"] == f"Probe terminated redirects, Response body: {body}"
        assert "probe terminated redirects" in envelope["warnings"][0]


def test_default_thresholds_give_three_attempts_before_failing(cli, http_server):
    run, envelope = probe_http(cli, http_server.url("/status/500"), "--period", "1ms")
    assert run.exit_code == 1
    assert [a["attempt"] for a in envelope["data"]["attempts"]] == [1, 2, 3]
    assert len(http_server.requests) == 3
    assert envelope["data"]["result"] == "failure"
    assert envelope["data"]["settings"] == {
        "timeout": "1s",
        "period": "1ms",
        "initial_delay": "0s",
        "success_threshold": 1,
        "failure_threshold": 3,
    }


def test_same_host_redirects_are_followed(cli, http_server):
    run, envelope = probe_http(cli, http_server.url("/chain/3"))
    assert run.exit_code == 0
    attempt = only_attempt(envelope)
    assert (attempt["result"], attempt["status"], attempt["message"]) == ("success", 200, "end of chain")
    assert [path for path, _ in http_server.requests] == ["/chain/3", "/chain/2", "/chain/1", "/chain/0"]
    assert envelope["warnings"] == []


def test_go_stops_after_ten_requests_nine_redirects_pass_ten_fail(cli, http_server):
    run, envelope = probe_http(cli, http_server.url("/chain/9"), *ONCE)
    assert run.exit_code == 0
    assert len(http_server.requests) == 10
    http_server.requests.clear()
    run, envelope = probe_http(cli, http_server.url("/chain/10"), *ONCE)
    assert run.exit_code == 1
    attempt = only_attempt(envelope)
    assert attempt["result"] == "failure"
    assert attempt["message"] == f'Get "{http_server.url("/chain/0")}": stopped after 10 redirects'
    assert len(http_server.requests) == 10


def test_a_redirect_loop_fails_after_ten_requests(cli, http_server):
    run, envelope = probe_http(cli, http_server.url("/loop"), *ONCE)
    assert run.exit_code == 1
    assert only_attempt(envelope)["message"].endswith("stopped after 10 redirects")
    assert [path for path, _ in http_server.requests] == ["/loop"] * 10


def test_redirect_to_another_port_of_the_same_host_is_followed(cli, http_server, other_server):
    target = other_server.url("/status/200")
    run, envelope = probe_http(cli, http_server.url(f"/redirect?to={target}"))
    assert run.exit_code == 0
    assert only_attempt(envelope)["message"] == "status 200"
    assert [path for path, _ in other_server.requests] == ["/status/200"]


def test_cross_host_redirect_is_not_followed_and_counts_as_success_with_a_warning(cli, http_server, other_server):
    target = f"http://localhost:{other_server.port}/status/500"
    source = http_server.url(f"/redirect?to={target}")
    run, envelope = probe_http(cli, source)
    assert run.exit_code == 0
    attempt = only_attempt(envelope)
    assert (attempt["result"], attempt["status"]) == ("warning", 302)
    assert attempt["message"] == "Probe terminated redirects, Response body: moved"
    assert other_server.requests == []
    assert envelope["warnings"] == [
        f"{source}: redirect to another host ({target}) not followed; "
        "probe terminated redirects, counted as success as kubelet does"
    ]


def test_a_same_host_redirect_to_another_scheme_fails_as_in_go(cli, http_server):
    run, envelope = probe_http(cli, http_server.url("/redirect?to=ftp://127.0.0.1/file"), *ONCE)
    assert run.exit_code == 1
    assert only_attempt(envelope)["message"] == 'Get "ftp://127.0.0.1/file": unsupported protocol scheme "ftp"'


def test_a_redirect_without_location_is_a_warning(cli, http_server):
    run, envelope = probe_http(cli, http_server.url("/nolocation"))
    assert run.exit_code == 0
    assert (only_attempt(envelope)["result"], only_attempt(envelope)["status"]) == ("warning", 302)


def test_a_slow_server_times_out(cli, http_server):
    run, envelope = probe_http(cli, http_server.url("/slow"), "--timeout", "200ms", *ONCE)
    assert run.exit_code == 1
    assert only_attempt(envelope)["message"] == f'Get "{http_server.url("/slow")}": timeout after 0.2s'


def test_headers_still_arriving_at_the_deadline_are_a_timeout_not_a_success(cli):
    """The watchdog cuts the connection mid-headers; what was read looks complete, but kubelet counts a timeout."""
    server, httpd = serve(routes={"/healthz": Answer(200, "ok", trickle=0.05)})
    try:
        run, envelope = probe_http(cli, server.url("/healthz"), "--timeout", "300ms", *ONCE)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert run.exit_code == 1
    attempt = only_attempt(envelope)
    assert (attempt["result"], attempt["status"]) == ("failure", None)
    assert attempt["message"] == f'Get "{server.url("/healthz")}": timeout after 0.3s'


def test_at_most_ten_kib_of_a_large_body_is_read(cli, http_server):
    run, envelope = probe_http(cli, http_server.url("/large"))
    assert run.exit_code == 0
    assert only_attempt(envelope)["message"] == "x" * 10240


def test_headers_user_agent_and_accept(cli, http_server):
    run, envelope = probe_http(
        cli, http_server.url("/headers"), "--header", "X-Probe: one:two", "--kubernetes-version", "v1.31.4"
    )
    assert run.exit_code == 0
    _, headers = http_server.requests[0]
    assert headers["User-Agent"] == "kube-probe/1.31"
    assert headers["Accept"] == "*/*"
    assert headers["X-Probe"] == "one:two"
    assert headers["Host"] == f"127.0.0.1:{http_server.port}"
    assert "Accept-Encoding" not in headers  # kubelet's DisableCompression
    assert json.loads(only_attempt(envelope)["message"])["User-Agent"] == "kube-probe/1.31"


def test_default_user_agent_and_headers_that_override_defaults(cli, http_server):
    cli("probe", "http", http_server.url("/headers"))
    assert http_server.requests[0][1]["User-Agent"] == "kube-probe/1.37"
    cli("probe", "http", http_server.url("/headers"), "--header", "User-Agent: mine", "--header", "Host: example")
    _, headers = http_server.requests[1]
    assert (headers["User-Agent"], headers["Host"]) == ("mine", "example")


def test_a_custom_host_header_survives_relative_redirects_only(cli, http_server):
    cli("probe", "http", http_server.url("/chain/1"), "--header", "Host: example")
    assert [headers["Host"] for _, headers in http_server.requests] == ["example", "example"]
    http_server.requests.clear()
    cli("probe", "http", http_server.url(f"/redirect?to={http_server.url('/status/200')}"), "--header", "Host: example")
    assert [headers["Host"] for _, headers in http_server.requests] == ["example", f"127.0.0.1:{http_server.port}"]


def test_https_skips_verification_unless_asked(cli, https_server):
    run, envelope = probe_http(cli, https_server.url("/status/200"))
    assert run.exit_code == 0
    assert only_attempt(envelope)["message"] == "status 200"
    run, envelope = probe_http(cli, https_server.url("/status/200"), "--verify", *ONCE)
    assert run.exit_code == 1
    assert "certificate verify failed" in only_attempt(envelope)["message"]


def test_ipv6_loopback_http_and_tcp(cli):
    server, httpd = serve("::1")
    try:
        run, envelope = probe_http(cli, server.url("/status/200"))
        assert (run.exit_code, only_attempt(envelope)["message"]) == (0, "status 200")
        assert server.requests[0][1]["Host"] == f"[::1]:{server.port}"
        run = cli("probe", "tcp", f"[::1]:{server.port}", "--json")
        assert run.exit_code == 0
        assert only_attempt(run.envelope())["result"] == "success"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_tcp_connects_and_closes(cli):
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    run = cli("probe", "tcp", f"127.0.0.1:{port}", "--json")
    assert run.exit_code == 0
    connection, _ = listener.accept()
    assert connection.recv(1) == b""  # the probe sent nothing and closed
    connection.close()
    listener.close()
    run = cli("probe", "tcp", f"127.0.0.1:{port}", *ONCE, "--json")
    assert run.exit_code == 1
    assert only_attempt(run.envelope())["message"] == f"dial tcp 127.0.0.1:{port}: Connection refused"


def test_exec_exit_code_and_combined_output(cli):
    run = cli("probe", "exec", "--json", "--", "sh", "-c", "echo out; echo err >&2; exit 0")
    assert run.exit_code == 0
    attempt = only_attempt(run.envelope())
    assert (attempt["result"], attempt["exit_code"], attempt["message"]) == ("success", 0, "out\nerr\n")
    run = cli("probe", "exec", *ONCE, "--json", "--", "sh", "-c", "echo broken; exit 3")
    assert run.exit_code == 1
    attempt = only_attempt(run.envelope())
    assert (attempt["result"], attempt["exit_code"], attempt["message"]) == ("failure", 3, "broken\n")


def test_exec_options_end_where_the_command_starts(cli):
    run = cli("probe", "exec", "--json", "sh", "-c", 'echo "$0" "$1"', "--json", "--timeout")
    assert run.exit_code == 0
    envelope = run.envelope()
    assert envelope["data"]["target"] == 'sh -c \'echo "$0" "$1"\' --json --timeout'
    assert only_attempt(envelope)["message"] == "--json --timeout\n"


def test_exec_output_is_capped_at_ten_kib(cli):
    run = cli("probe", "exec", "--json", "--", sys.executable, "-c", "print('y' * 100000)")
    assert run.exit_code == 0
    assert only_attempt(run.envelope())["message"] == "y" * 10240


def test_exec_timeout_kills_the_command_and_its_children(cli, tmp_path):
    pids = tmp_path / "pids"
    script = f"sleep 30 & echo $$ $! > {pids}; wait"
    run = cli("probe", "exec", "--timeout", "300ms", *ONCE, "--json", "--", "sh", "-c", script)
    assert run.exit_code == 1
    attempt = only_attempt(run.envelope())
    assert attempt["exit_code"] is None
    assert attempt["message"] == f"sh -c {script} did not finish within 0.3 s and was killed"
    for pid in pids.read_text().split():
        assert _gone(int(pid))


def _gone(pid: int) -> bool:
    """The process no longer runs: no /proc entry, or a zombie waiting for its (new) parent to reap it."""
    for _ in range(100):  # SIGKILL is delivered asynchronously; poll a bounded number of times
        status = Path(f"/proc/{pid}/status")
        try:
            state = next(line for line in status.read_text().splitlines() if line.startswith("State:"))
        except FileNotFoundError:
            return True
        if "Z" in state.split()[1]:
            return True
        threading.Event().wait(0.02)
    return False


def test_exec_of_a_program_that_cannot_run_fails_the_attempt(cli, tmp_path, monkeypatch):
    (tmp_path / "not-executable").write_text("#!/no/such/interpreter\n")
    (tmp_path / "not-executable").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    run = cli("probe", "exec", *ONCE, "--json", "--", "not-executable")
    assert run.exit_code == 1
    assert only_attempt(run.envelope())["message"] == "cannot run not-executable: No such file or directory"


def test_exec_of_a_missing_program_fails_the_attempt(cli):
    run = cli("probe", "exec", *ONCE, "--json", "--", "k8snode-no-such-program")
    assert run.exit_code == 1
    assert only_attempt(run.envelope())["message"] == "k8snode-no-such-program is not on PATH"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["http", "ftp://x/"], "'ftp://x/' is not an http:// or https:// URL with a host"),
        (["http", "http://127.0.0.1:1/", "--header", "nocolon"], "--header 'nocolon' is not NAME:VALUE"),
        (["http", "http://127.0.0.1:1/", "--timeout", "1"], "--timeout: missing unit in duration '1'"),
        (["http", "http://127.0.0.1:1/", "--period", "0s"], "--period must be more than zero, not 0s"),
        (["http", "http://127.0.0.1:1/", "--kubernetes-version", "latest"], "--kubernetes-version 'latest'"),
        (["tcp", "127.0.0.1"], "'127.0.0.1' is not HOST:PORT"),
        (["tcp", "::1:80"], "'::1:80' is not HOST:PORT"),
        (["tcp", "127.0.0.1:80", "--success-threshold", "0"], "--success-threshold and --failure-threshold"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, args, message):
    run = cli("probe", *args)
    assert run.exit_code == 2
    assert run.stderr.startswith(f"k8snode: error: {message}")
    assert run.stderr.count("\n") == 1


def test_human_output_is_a_table_and_a_summary(cli, http_server):
    run = cli("probe", "http", http_server.url("/status/200"))
    assert run.exit_code == 0
    assert "status 200" in run.stdout
    assert run.stdout.rstrip().endswith("success: 1 consecutive success after 1 attempt")


class FakeClock:
    """Time moves only when the loop sleeps or a fake check takes time; every step is logged."""

    def __init__(self) -> None:
        self.time = 100.0
        self.events: list[str] = []

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.events.append(f"sleep {seconds:g}")
        self.time += seconds


def scripted(clock: FakeClock, verdicts: str, latency: float = 0.25):
    """A check that answers S (success), W (warning) or F (failure) in turn, each taking ``latency``."""
    answers = iter(verdicts)

    def check() -> Outcome:
        letter = next(answers)
        clock.events.append(f"probe {letter} at {clock.time - 100:g}")
        clock.time += latency
        verdict = {"S": Verdict.SUCCESS, "W": Verdict.WARNING, "F": Verdict.FAILURE}[letter]
        return Outcome(verdict, letter)

    return check


def test_loop_waits_the_initial_delay_then_probes_every_period_until_failure_threshold():
    clock = FakeClock()
    settings = Settings(timeout=1, period=10, failure_threshold=3, initial_delay=5)
    attempts, ok = watch(scripted(clock, "FFF"), settings, clock)
    assert ok is False
    assert clock.events == [
        "sleep 5",
        "probe F at 5",
        "sleep 9.75",  # periods run from each attempt's start, as kubelet's ticker does
        "probe F at 15",
        "sleep 9.75",
        "probe F at 25",
    ]
    assert [(a.number, a.started_ms, a.latency_ms) for a in attempts] == [
        (1, 5000, 250),
        (2, 15000, 250),
        (3, 25000, 250),
    ]


def test_thresholds_count_consecutive_results_and_a_warning_is_a_success():
    clock = FakeClock()
    settings = Settings(period=1, success_threshold=2, failure_threshold=2)
    attempts, ok = watch(scripted(clock, "SFSWS", latency=0), settings, clock)
    assert ok is True
    assert [a.outcome.message for a in attempts] == ["S", "F", "S", "W"]
    assert clock.events == [
        "probe S at 0",
        "sleep 1",
        "probe F at 1",
        "sleep 1",
        "probe S at 2",
        "sleep 1",
        "probe W at 3",
    ]


def test_a_slow_attempt_does_not_push_the_next_one_back_beyond_its_period():
    clock = FakeClock()
    attempts, ok = watch(scripted(clock, "FS", latency=12), Settings(period=10), clock)
    assert ok is True
    assert clock.events == ["probe F at 0", "sleep 0", "probe S at 12"]
    assert [a.started_ms for a in attempts] == [0, 12000]


def test_the_cli_loop_probes_until_the_success_threshold(cli, http_server, tmp_path):
    flag = tmp_path / "ready"
    script = f"test -e {flag} && exit 0; touch {flag}; exit 1"
    run = cli("probe", "exec", "--period", "1ms", "--success-threshold", "2", "--json", "--", "sh", "-c", script)
    assert run.exit_code == 0
    assert [(a["attempt"], a["result"]) for a in run.envelope()["data"]["attempts"]] == [
        (1, "failure"),
        (2, "success"),
        (3, "success"),
    ]
    starts = [a["started_ms"] for a in run.envelope()["data"]["attempts"]]
    assert starts == sorted(starts)


def test_console_script_runs_a_probe(k8snode, http_server):
    run = k8snode("probe", "http", http_server.url("/status/200"), "--json")
    assert run.exit_code == 0, run.stderr
    assert run.envelope()["command"] == "probe http"


def test_probe_exec_without_root_uses_path(cli, tmp_path, monkeypatch):
    tool = tmp_path / "bin" / "healthy"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\necho fine\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tool.parent}{os.pathsep}{os.environ['PATH']}")
    run = cli("probe", "exec", "--json", "--", "healthy")
    assert only_attempt(run.envelope())["message"] == "fine\n"


@pytest.mark.parametrize("header", ["X-Name: caf\u00e9\u2028!", "X-Name: a\x01b", "X(Name): 1", "X-Name: \u4e2d"])
def test_a_header_http_cannot_carry_is_bad_input(cli, header):
    """Found by fuzzing probe http: text outside Latin-1 or with control characters ended in an internal error."""
    run = cli("probe", "http", f"http://127.0.0.1:{CLOSED_PORT}/", "--header", header)
    assert run.exit_code == 2
    assert run.stderr.startswith("k8snode: error: --header ") and run.stderr.count("\n") == 1
