"""`-` is standard input or output wherever a command reads or writes a file, with the limits a file has."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import CONSOLE_SCRIPT
from fakes import make_node, snapshot
from kubeadm_documents import body, documents
from servers import serve
from where import FIXTURES

INIT_DEFAULTS = (FIXTURES / "init-defaults-v1.37.2.yaml").read_text()


@pytest.fixture
def node(tmp_path: Path) -> Path:
    return make_node(tmp_path / "node")


def test_patch_dash_reads_standard_input_and_writes_standard_output(cli, node):
    run = cli("kubeadm-config", "--patch", "-", "--proxy-mode", "ipvs", "--root", str(node), stdin=INIT_DEFAULTS)
    assert run.exit_code == 0, run.stderr
    assert run.stdout.splitlines()[0].endswith("(k8snode kubeadm-config --patch - --proxy-mode ipvs)")
    init, cluster, proxy, _kubelet = documents(run.stdout)
    assert init["localAPIEndpoint"]["advertiseAddress"] == "192.0.2.10"
    assert cluster["kubernetesVersion"] == "1.37.0"
    assert proxy["mode"] == "ipvs"


def test_patch_dash_output_is_what_patching_the_same_file_gives(cli, node):
    (node / "init.yaml").write_text(INIT_DEFAULTS)
    common = ("--token", "abcdef.0123456789abcdeg", "--node-name", "cp-1", "--root", str(node))
    piped = cli("kubeadm-config", "--patch", "-", *common, stdin=INIT_DEFAULTS)
    named = cli("kubeadm-config", "--patch", "/init.yaml", *common)
    assert piped.exit_code == named.exit_code == 0, piped.stderr + named.stderr
    assert body(piped.stdout) == body(named.stdout)


def test_out_dash_is_standard_output_and_creates_no_file(cli, node):
    before = snapshot(node)
    run = cli("kubeadm-config", "--out", "-", "--token", "abcdef.0123456789abcdeg", "--root", str(node))
    assert run.exit_code == 0, run.stderr
    assert [d["kind"] for d in documents(run.stdout)] == [
        "InitConfiguration",
        "ClusterConfiguration",
        "KubeProxyConfiguration",
    ]
    assert snapshot(node) == before
    assert not Path("-").exists()


def test_validate_dash_reads_standard_input(cli, node):
    rendered = cli("kubeadm-config", "--root", str(node))
    assert rendered.exit_code == 0, rendered.stderr
    run = cli("validate", "-", "--json", stdin=rendered.stdout)
    assert run.exit_code == 0, run.stderr
    data = run.envelope()["data"]
    assert (data["path"], data["problems"]) == ("standard input", [])
    broken = cli("validate", "-", stdin=rendered.stdout.replace("serviceSubnet:", "serviceSubnett:"))
    assert broken.exit_code == 1
    assert "ClusterConfiguration.networking.serviceSubnett: unknown field; did you mean serviceSubnet?" in broken.stdout


def test_standard_input_over_the_size_limit_is_bad_input(cli, node):
    huge = "# padding\n" * ((1 << 20) // 10 + 1)
    for args in (("validate", "-"), ("kubeadm-config", "--patch", "-", "--root", str(node))):
        run = cli(*args, stdin=huge)
        assert run.exit_code == 2
        option = "FILE" if args[0] == "validate" else "--patch"
        assert run.stderr == (
            f"k8snode: error: {option} (standard input) holds more than 1048576 bytes; give at most 1048576\n"
        )


def test_standard_input_at_the_size_limit_is_read(cli):
    exact = "# padding\n" * ((1 << 20) // 10) + "#" * ((1 << 20) % 10)
    assert len(exact) == 1 << 20
    run = cli("validate", "-", "--json", stdin=exact)
    assert (run.exit_code, run.stderr) == (1, "")
    assert run.envelope()["data"]["problems"][0].startswith("file: holds no YAML document")


def test_kubelet_flags_out_dash_is_standard_output(cli, tmp_path):
    before = snapshot(tmp_path)
    plain = cli("kubelet-flags", "--format", "flags", "--root", str(tmp_path))
    dashed = cli("kubelet-flags", "--format", "flags", "--out", "-", "--root", str(tmp_path))
    assert plain.exit_code == dashed.exit_code == 0, dashed.stderr
    assert dashed.stdout == plain.stdout
    assert "--register-node=true" in dashed.stdout
    assert snapshot(tmp_path) == before


def test_the_seed_pipeline_through_the_console_script(k8snode, node):
    """kubeadm config print init-defaults | k8snode kubeadm-config --patch - > init-config.yaml, then validate -."""
    run = k8snode("kubeadm-config", "--patch", "-", "--proxy-mode", "ipvs", "--root", str(node), stdin=INIT_DEFAULTS)
    assert run.exit_code == 0, run.stderr
    check = k8snode("validate", "-", stdin=run.stdout)
    assert check.exit_code == 0, check.stdout + check.stderr
    assert check.stdout.startswith("standard input is valid for Kubernetes v1.37.0")


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--help"],
        ["ipvs", "check", "--root", "{node}"],
        ["ipvs", "check", "--json", "--root", "{node}"],
        ["kubelet-flags"],
        ["kubeadm-config", "--bogus", "--json"],
    ],
    ids=["help without a command", "--help", "rich table", "JSON envelope", "plain lines", "usage error"],
)
def test_a_reader_that_went_away_ends_the_run_quietly(node, args):
    """`k8snode ... | head -1`: the console script writes into a pipe whose reader is gone (closed before the run,
    so the write fails whatever the timing) and ends with the status a shell gives a command SIGPIPE ends."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        argv = [str(CONSOLE_SCRIPT), *(arg.format(node=node) for arg in args)]
        done = subprocess.run(argv, stdout=writer, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(writer)
    assert (done.returncode, done.stderr) == (141, "")


def test_control_characters_from_a_server_do_not_reach_the_terminal(cli):
    server, httpd = serve(routes={"/healthz": (200, "\x1b[2Jok\x07")})
    try:
        human = cli("probe", "http", server.url("/healthz"))
        machine = cli("probe", "http", server.url("/healthz"), "--json")
    finally:
        httpd.shutdown()
    assert human.exit_code == 0
    assert "\x1b" not in human.stdout and "\x07" not in human.stdout and "\\x1b[2Jok\\x07" in human.stdout
    assert machine.envelope()["data"]["attempts"][0]["message"] == "\x1b[2Jok\x07"  # JSON escapes it itself


def run_closing(argv: list[str], *, close: int | None = None, stdout: object = subprocess.PIPE):
    """The console script with descriptor ``close`` closed in the child (as ``>&-`` or ``0<&-`` leaves it)."""
    return subprocess.run(
        [str(CONSOLE_SCRIPT), *argv],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        preexec_fn=None if close is None else lambda: os.close(close),
    )


STDOUT_COMMANDS = [
    ["--version"],
    ["--version", "--json"],
    ["--help"],
    ["kubelet-flags"],
    ["ipvs", "check", "--root", "{node}"],
    ["ipvs", "check", "--json", "--root", "{node}"],
    ["kubeadm-config", "--root", "{node}"],
]
STDOUT_IDS = ["--version", "--version --json", "--help", "plain lines", "rich table", "JSON envelope", "YAML"]


@pytest.mark.parametrize("args", STDOUT_COMMANDS, ids=STDOUT_IDS)
def test_a_full_standard_output_is_exit_3_in_one_line(node, args):
    """/dev/full: the report cannot be written (ENOSPC). It was a traceback and exit 1, which means drift."""
    with open("/dev/full", "w") as full:
        done = run_closing([arg.format(node=node) for arg in args], stdout=full)
    assert (done.returncode, done.stderr) == (
        3,
        "k8snode: error: cannot write standard output: No space left on device; the report is lost\n",
    )


@pytest.mark.parametrize("args", STDOUT_COMMANDS, ids=STDOUT_IDS)
def test_a_closed_standard_output_is_exit_2_before_anything_runs(node, args):
    before = snapshot(node)
    done = run_closing([arg.format(node=node) for arg in args], close=1, stdout=None)
    assert (done.returncode, done.stderr) == (
        2,
        "k8snode: error: standard output is closed; give it a place (>/dev/null to discard)\n",
    )
    assert snapshot(node) == before


@pytest.mark.parametrize(
    ("args", "option"), [(["kubeadm-config", "--patch", "-"], "--patch"), (["validate", "-"], "FILE")]
)
def test_a_closed_standard_input_is_exit_2_in_one_line(node, args, option):
    done = run_closing([*args, "--root", str(node)], close=0)
    assert (done.returncode, done.stdout, done.stderr) == (
        2,
        "",
        f"k8snode: error: {option} is - but standard input is closed; give the input on it, or a file\n",
    )
