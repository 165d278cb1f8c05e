"""`k8snode doctor` and `k8snode ipvs status` against fake roots, fake tools on PATH and real loopback servers.

Each doctor test starts from a healthy IPVS node and breaks one thing, then asserts that exactly that check
changed."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass

import pytest
from conftest import CONSOLE_SCRIPT
from fakes import FakeRoot, fake_nft, make_root, write
from servers import CLOSED_PORT, Answer, serve
from terminal import on_terminal
from typer.testing import CliRunner

from k8snode.cli import app

IP_VS = """IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  0A600001:01BB rr
  -> 0AF40102:1F90      Masq    1      0          0
  -> 0AF40203:1F90      Masq    2      3          1
UDP  0A60000A:0035 rr persistent 10800 FFFFFFFF
  -> 0AF40104:0035      Masq    1      0          0
TCP  [fd00:0000:0000:0000:0000:0000:0000:000a]:0050 wrr
  -> [fd00:0000:0000:0000:0000:0000:0001:0002]:1F90      Masq    1      0          0
TCP  C0A8010A:7530 rr
FWM  00000010 sh
"""
KUBE_SETS = [
    "KUBE-CLUSTER-IP",
    "KUBE-EXTERNAL-IP",
    "KUBE-LOAD-BALANCER",
    "KUBE-LOAD-BALANCER-LOCAL",
    "KUBE-NODE-PORT-TCP",
    "KUBE-NODE-PORT-LOCAL-TCP",
    "KUBE-NODE-PORT-UDP",
    "KUBE-NODE-PORT-LOCAL-UDP",
]
TOOLS = ("ip", "iptables", "mount", "nsenter", "ipvsadm", "nft")


@dataclass
class Node:
    root: object
    urls: list[str]

    def fake_ipset(self, names: list[str]) -> None:
        """``ipset list -t`` as ipset v7 prints it (the format seen in tests/vm/test_kube_proxy.py); set i has i
        entries."""
        calls = self.root.path / "fake/ipset.calls"
        listing = "\n".join(
            f"Name: {name}\nType: hash:ip,port\nRevision: 6\nHeader: family inet hashsize 1024 maxelem 65536\n"
            f"Size in memory: 320\nReferences: 1\nNumber of entries: {entries}\n"
            for entries, name in enumerate(names)
        )
        script = f"#!/bin/sh\necho \"ipset $*\" >> {calls}\nprintf '%s' '{listing}'\n"  # PATH has no cat
        write(self.root.bin / "ipset", script, mode=0o755)

    def ipset_calls(self) -> list[str]:
        return (self.root.path / "fake/ipset.calls").read_text().splitlines()

    def remove_tool(self, name: str) -> None:
        (self.root.bin / name).unlink()


@pytest.fixture
def kubelet():
    server, httpd = serve(routes={"/healthz": (200, "ok")})
    yield server
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def kube_proxy():
    routes = {"/healthz": (200, '{"lastUpdated": "now"}'), "/proxyMode": (200, "ipvs")}
    server, httpd = serve(routes=routes)  # tests change what it serves through server.routes
    yield server
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def enabled_root(tmp_path_factory):
    """A deb12-6.1 fake root after `k8snode node prepare` (which runs `ipvs enable`), built once and copied by each
    test (it runs the fake modprobe once per module, which costs seconds)."""
    root = make_root(tmp_path_factory.mktemp("template") / "root", "deb12-6.1")
    write(root.path / "proc/sys/net/ipv4/ip_forward", "0\n")
    write(root.path / "proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", f"{root.bin}{os.pathsep}{os.environ['PATH']}")
        run = CliRunner().invoke(app, ["node", "prepare", "--root", str(root.path)])
    assert run.exit_code == 0, run.stdout
    return root


@pytest.fixture
def build(tmp_path, monkeypatch, enabled_root, kubelet, kube_proxy):
    """Factory: a healthy node (modules loaded and persisted on deb12-6.1; other kernels as shipped), sysctls
    right, no swap, the tools and KUBE-* sets in place, and the endpoints aimed at the local servers."""

    def make(kernel: str = "deb12-6.1") -> Node:
        if kernel == "deb12-6.1":
            shutil.copytree(enabled_root.path, tmp_path / "root", symlinks=True)
            root = FakeRoot(tmp_path / "root", tmp_path / "root/fakebin", enabled_root.kernel)
        else:
            root = make_root(tmp_path / "root", kernel)
        monkeypatch.setenv("PATH", str(root.bin))  # only the fake tools: the host's own do not count
        write(root.path / "proc/sys/net/ipv4/ip_forward", "1\n")
        write(root.path / "proc/sys/net/bridge/bridge-nf-call-iptables", "1\n")
        write(root.path / "proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n")
        write(root.path / "proc/net/ip_vs", IP_VS)
        for tool in TOOLS:
            write(root.bin / tool, "#!/bin/sh\nexit 0\n", mode=0o755)
        fake_nft(root.bin, "nftables v1.0.6 (Lester Gooch #5)")  # what Debian 12's nft prints
        node = Node(
            root,
            [
                "--kubelet-healthz",
                kubelet.url("/healthz"),
                "--kube-proxy-healthz",
                kube_proxy.url("/healthz"),
                "--kube-proxy-metrics",
                kube_proxy.url(""),
            ],
        )
        node.fake_ipset(KUBE_SETS)
        return node

    return make


@pytest.fixture
def node(build):
    return build()


def doctor(cli, node, *options):
    run = cli("doctor", "--root", str(node.root.path), *node.urls, *options, "--json")
    envelope = run.envelope()
    return run, {c["id"]: c for c in envelope["data"]["checks"]}


HEALTHY_IPVS = {
    "modules": "ok",
    "persistence": "ok",
    "modules-boot": "ok",
    "nftables-kernel": "skip",
    "nf_tables": "skip",
    "ip-forward": "ok",
    "bridge-nf-call-iptables": "ok",
    "sysctl-boot": "ok",
    "swap": "ok",
    "swap-boot": "ok",
    "cgroup-version": "skip",
    "binaries": "ok",
    "nft-version": "skip",
    "runtime-version": "skip",
    "runtime-config": "skip",
    "runtime-schema": "skip",
    "runtime-cri-plugin": "skip",
    "runtime-cgroup-driver": "skip",
    "runtime-conmon-cgroup": "skip",
    "runtime-sandbox-image": "skip",
    "runtime-socket": "skip",
    "runtime-binary": "skip",
    "kubelet-health": "ok",
    "kube-proxy-health": "ok",
    "kubelet-flags": "skip",
    "proxy-mode": "ok",
    "ipvs-deprecation": "warn",
    "ipvs-state": "ok",
}


def statuses(checks):
    return {check_id: check["status"] for check_id, check in checks.items()}


def test_a_healthy_ipvs_node_passes_with_the_deprecation_warning(cli, node):
    run, checks = doctor(cli, node, "--proxy-mode", "ipvs")
    assert run.exit_code == 0, run.stdout
    assert statuses(checks) == HEALTHY_IPVS
    assert list(checks) == list(HEALTHY_IPVS)  # the order of the report
    assert checks["ipvs-state"]["detail"] == "5 virtual server(s); 8/8 KUBE-* ipsets"
    assert checks["ipvs-deprecation"]["detail"].startswith("IPVS mode is deprecated since Kubernetes 1.35")
    assert checks["binaries"]["detail"] == "on PATH: ip iptables mount nsenter ipset ipvsadm"
    assert node.ipset_calls() == ["ipset list -t"]
    for check in checks.values():
        assert set(check) == {"id", "area", "status", "detail", "hint", "preflight"}
    assert {c["id"]: c["preflight"] for c in checks.values() if c["preflight"]} == {
        "ip-forward": "FileContent--proc-sys-net-ipv4-ip_forward",
        "sysctl-boot": "FileContent--proc-sys-net-ipv4-ip_forward",
        "swap": "Swap",
        "swap-boot": "Swap",
        "binaries": "FileExisting-ip,FileExisting-iptables,FileExisting-mount,FileExisting-nsenter",
        "runtime-version": "ContainerRuntimeVersion",
        "runtime-cri-plugin": "CRI",
        "runtime-sandbox-image": "ImagePull",
        "runtime-socket": "CRI",
        "cgroup-version": "SystemVerification",
    }
    envelope = run.envelope()
    assert envelope["data"]["proxy_mode"] == "ipvs"
    assert (envelope["ok"], envelope["error"]) == (True, None)


def test_swap_on_fails(cli, node):
    write(node.root.path / "proc/swaps", "Filename Type Size Used Priority\n/dev/sda2 partition 2097148 0 -2\n")
    run, checks = doctor(cli, node, "--proxy-mode", "ipvs")
    assert run.exit_code == 1
    assert statuses(checks) == {**HEALTHY_IPVS, "swap": "fail"}
    assert checks["swap"]["detail"] == "swap is on: /dev/sda2"
    assert checks["swap"]["hint"].startswith("swapoff -a")


def test_a_swap_file_with_a_space_in_its_path_is_named_as_it_is(cli, node):
    """/proc/swaps writes a space in a path as \\040 (the kernel's seq_escape); doctor names the file itself, as
    node/swap.py reads it for `node check` (issue 26: it printed /var/swap\\040file)."""
    write(node.root.path / "proc/swaps", "Filename Type Size Used Priority\n/var/swap\\040file file 2097148 0 -2\n")
    run, checks = doctor(cli, node, "--proxy-mode", "ipvs")
    assert run.exit_code == 1
    assert checks["swap"]["detail"] == "swap is on: /var/swap file"


SWAP_ON = "Filename Type Size Used Priority\n/dev/sda2 partition 2097148 0 -2\n"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def column(text: str, index: int) -> str:
    """A column of the report's table (4: detail, 5: hint) read down, without the spaces that folding adds."""
    rows = [line.split("│") for line in text.splitlines() if line.count("│") == 6]
    return "".join(row[index].strip() for row in rows).replace(" ", "")


def test_piped_the_report_wraps_at_columns_or_at_a_width_a_pager_shows(k8snode, node):
    """`doctor | cat` printed 478-character lines and ignored COLUMNS (issue 26). Long cells fold; none is cut."""
    write(node.root.path / "proc/swaps", SWAP_ON)
    argv = ["doctor", "--root", str(node.root.path), *node.urls]
    env = {name: value for name, value in os.environ.items() if name != "COLUMNS"}
    hint = "swapoff -a and remove swap from /etc/fstab, or set failSwapOn: false in the kubelet configuration"
    for columns, width in ((None, 120), ("70", 70)):
        run = k8snode(*argv, env=env if columns is None else {**env, "COLUMNS": columns})
        assert run.exit_code == 1, run.stderr
        assert max(len(line) for line in run.stdout.splitlines()) == width
        assert "…" not in run.stdout
        assert hint.replace(" ", "") in column(run.stdout, 5)


def test_on_a_terminal_each_failed_and_warned_row_is_coloured(node):
    """Not only the summary (issue 26): a failed row is red, a warned one yellow, the others plain."""
    write(node.root.path / "proc/swaps", SWAP_ON)
    env = {name: value for name, value in os.environ.items() if name != "NO_COLOR"}
    env.update(TERM="xterm-256color", COLUMNS="160")
    argv = [str(CONSOLE_SCRIPT), "doctor", "--root", str(node.root.path), *node.urls]
    code, _, seen = on_terminal(argv, env=env)
    assert code == 1
    lines = seen.decode().replace("\r", "").splitlines()

    def row(check_id: str) -> str:
        return next(line for line in lines if re.search(rf"│\s*{check_id}\s*│", ANSI.sub("", line)))

    red, yellow = "\x1b[31m", "\x1b[33m"
    assert red in row("swap") and yellow not in row("swap")
    assert yellow in row("ipvs-deprecation") and red not in row("ipvs-deprecation")
    assert red not in row("binaries") and yellow not in row("binaries")


def test_ip_forward_0_fails(cli, node):
    write(node.root.path / "proc/sys/net/ipv4/ip_forward", "0\n")
    run, checks = doctor(cli, node, "--proxy-mode", "ipvs")
    assert run.exit_code == 1
    assert statuses(checks) == {**HEALTHY_IPVS, "ip-forward": "fail"}
    assert checks["ip-forward"]["detail"] == "net.ipv4.ip_forward = 0"


def test_a_kernel_without_ip_vs_fails_the_modules_check(cli, build):
    node = build("no-ipvs-6.1-kvm")
    run, checks = doctor(cli, node, "--proxy-mode", "ipvs")
    assert run.exit_code == 1
    assert statuses(checks) == {
        **HEALTHY_IPVS,
        "modules": "fail",
        "persistence": "warn",
        "modules-boot": "warn",  # a fresh kernel: nothing prepared
        "sysctl-boot": "warn",
    }
    assert checks["modules"]["detail"] == "not present: ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh nf_conntrack"
    assert checks["modules"]["hint"].startswith("ip_vs, ip_vs_rr, ip_vs_wrr, ip_vs_sh missing from kernel")


def unload(node, name):
    modules = node.root.path / "proc/modules"
    lines = modules.read_text().splitlines()
    modules.write_text("".join(line + "\n" for line in lines if line.split()[0] != name))


def test_an_unloaded_module_fails_and_names_the_fix(cli, node, kube_proxy):
    unload(node, "ip_vs_sh")
    kube_proxy.routes["/proxyMode"] = (503, "")  # kube-proxy is not running IPVS mode
    run, checks = doctor(cli, node, "--proxy-mode", "ipvs")
    assert run.exit_code == 1
    assert statuses(checks) == {**HEALTHY_IPVS, "modules": "fail", "proxy-mode": "warn"}
    assert (checks["modules"]["detail"], checks["modules"]["hint"]) == (
        "not present: ip_vs_sh",
        "run: k8snode ipvs enable",
    )


def test_unloaded_modules_under_a_running_ipvs_kube_proxy_warn_and_explain(cli, node):
    """What the real kube-proxy v1.37.2 does on a kernel where nothing loaded IPVS (tests/vm/test_kube_proxy.py):
    it runs, on ip_vs and the scheduler's module that the kernel loaded when it first asked for them."""
    unload(node, "ip_vs_sh")
    unload(node, "ip_vs_wrr")
    run, checks = doctor(cli, node, "--proxy-mode", "ipvs")
    assert run.exit_code == 0
    assert statuses(checks) == {**HEALTHY_IPVS, "modules": "warn"}
    assert (checks["modules"]["detail"], checks["modules"]["hint"]) == (
        "not loaded: ip_vs_wrr ip_vs_sh; kube-proxy runs in ipvs mode on what the kernel loaded on demand",
        "run: k8snode ipvs enable (loads them all now and at boot, as kube-proxy before 1.27 requires)",
    )


def test_missing_persistence_files_warn_while_the_loaded_modules_pass(cli, node):
    """ipvs check exits 1 for missing persistence files; doctor still keeps modules and persistence apart."""
    (node.root.path / "etc/modules-load.d/ipvs.conf").unlink()
    run, checks = doctor(cli, node, "--proxy-mode", "ipvs")
    assert run.exit_code == 0
    assert statuses(checks) == {**HEALTHY_IPVS, "persistence": "warn"}
    assert checks["persistence"]["detail"] == (
        "modules would not load at boot: /etc/modules-load.d/ipvs.conf (would-create)"
    )


def test_piped_output_folds_long_cells_and_cuts_none(cli, node):
    (node.root.path / "etc/modules-load.d/ipvs.conf").unlink()
    (node.root.path / "etc/sysconfig/modules/ipvs.modules").unlink()
    run = cli("doctor", "--proxy-mode", "ipvs", "--root", str(node.root.path), *node.urls)
    detail = (
        "modules would not load at boot: /etc/sysconfig/modules/ipvs.modules (would-create), "
        "/etc/modules-load.d/ipvs.conf (would-create)"
    )
    assert detail.replace(" ", "") in column(run.stdout, 4), run.stdout
    assert "runk8snodeipvsenable" in column(run.stdout, 5).replace(":", "")
    assert "…" not in run.stdout


def test_the_wrong_proxy_mode_served_by_kube_proxy_fails(cli, node, kube_proxy):
    kube_proxy.routes["/proxyMode"] = (200, "iptables")
    run, checks = doctor(cli, node, "--proxy-mode", "ipvs")
    assert run.exit_code == 1
    assert statuses(checks) == {**HEALTHY_IPVS, "proxy-mode": "fail"}
    assert checks["proxy-mode"]["detail"] == "kube-proxy runs in 'iptables' mode"
    assert "--proxy-mode iptables" in checks["proxy-mode"]["hint"]


def test_kube_proxy_answering_without_its_ipsets_warns(cli, node):
    node.fake_ipset(["KUBE-CLUSTER-IP", "OTHER"])
    write(node.root.path / "proc/net/ip_vs", "\n".join(IP_VS.splitlines()[:3]) + "\n")
    run, checks = doctor(cli, node, "--proxy-mode", "ipvs")
    assert run.exit_code == 0
    assert statuses(checks) == {**HEALTHY_IPVS, "ipvs-state": "warn"}
    assert checks["ipvs-state"]["detail"] == (
        "0 virtual server(s); 1/8 KUBE-* ipsets; absent: KUBE-EXTERNAL-IP KUBE-LOAD-BALANCER "
        "KUBE-LOAD-BALANCER-LOCAL KUBE-NODE-PORT-TCP KUBE-NODE-PORT-LOCAL-TCP KUBE-NODE-PORT-UDP "
        "KUBE-NODE-PORT-LOCAL-UDP"
    )


def test_nothing_listening_skips_the_endpoint_checks(cli, node):
    node.urls = [
        "--kubelet-healthz",
        f"http://127.0.0.1:{CLOSED_PORT}/healthz",
        "--kube-proxy-healthz",
        f"http://127.0.0.1:{CLOSED_PORT}/healthz",
        "--kube-proxy-metrics",
        f"http://127.0.0.1:{CLOSED_PORT}",
    ]
    run, checks = doctor(cli, node, "--proxy-mode", "ipvs")
    assert run.exit_code == 0
    skipped = ("kubelet-health", "kube-proxy-health", "proxy-mode", "ipvs-state")
    assert statuses(checks) == {**HEALTHY_IPVS, **dict.fromkeys(skipped, "skip")}
    assert checks["kubelet-health"]["detail"] == f"nothing listens at http://127.0.0.1:{CLOSED_PORT}/healthz"
    assert checks["ipvs-state"]["detail"] == "kube-proxy is not running (nothing listens)"


def test_a_kubelet_whose_headers_are_still_arriving_at_the_timeout_is_not_healthy(cli, node, kubelet):
    kubelet.routes["/healthz"] = Answer(200, "ok", trickle=0.05)
    run, checks = doctor(cli, node, "--proxy-mode", "ipvs", "--timeout", "300ms")
    assert run.exit_code == 1
    assert statuses(checks) == {**HEALTHY_IPVS, "kubelet-health": "fail"}
    assert checks["kubelet-health"]["detail"].endswith("timeout after 0.3s")


def test_an_unhealthy_component_fails(cli, node, kube_proxy):
    kube_proxy.routes["/healthz"] = (503, "stale")
    run, checks = doctor(cli, node, "--proxy-mode", "ipvs")
    assert run.exit_code == 1
    assert statuses(checks) == {**HEALTHY_IPVS, "kube-proxy-health": "fail"}
    assert checks["kube-proxy-health"]["detail"] == (
        f"{kube_proxy.url('/healthz')}: HTTP probe failed with statuscode: 503"
    )


def test_missing_binaries_fail_with_package_names(cli, node):
    node.remove_tool("nsenter")
    node.remove_tool("ipvsadm")
    run, checks = doctor(cli, node, "--proxy-mode", "ipvs")
    assert run.exit_code == 1
    assert statuses(checks) == {**HEALTHY_IPVS, "binaries": "fail"}
    assert (checks["binaries"]["detail"], checks["binaries"]["hint"]) == (
        "not on PATH: nsenter ipvsadm",
        "install util-linux ipvsadm (Debian/Ubuntu package names)",
    )


def test_iptables_mode_skips_the_ipvs_checks(cli, node, kube_proxy):
    kube_proxy.routes["/proxyMode"] = (200, "iptables")
    run, checks = doctor(cli, node, "--proxy-mode", "iptables")
    assert run.exit_code == 0
    assert statuses(checks) == {
        **HEALTHY_IPVS,
        "modules": "skip",
        "persistence": "skip",
        "ipvs-deprecation": "ok",
        "ipvs-state": "skip",
    }
    assert checks["binaries"]["detail"] == "on PATH: ip iptables mount nsenter"


def test_nftables_mode_needs_kernel_5_13(cli, build, kube_proxy, tmp_path):
    kube_proxy.routes["/proxyMode"] = (200, "nftables")
    node = build("el8.3-4.18")
    run, checks = doctor(cli, node, "--proxy-mode", "nftables")
    assert run.exit_code == 1
    assert checks["nftables-kernel"]["status"] == "fail"
    assert checks["nftables-kernel"]["detail"] == "kernel 4.18.0-240.el8.x86_64 is older than 5.13"
    assert checks["binaries"]["detail"] == "on PATH: ip iptables mount nsenter nft"
    shutil.rmtree(tmp_path / "root")
    node = build()
    run, checks = doctor(cli, node, "--proxy-mode", "nftables")
    assert run.exit_code == 0
    assert checks["nftables-kernel"]["status"] == "ok"
    assert checks["nf_tables"]["status"] == "ok"
    assert checks["nf_tables"]["detail"] == "nf_tables is loadable (/lib/modules/6.1.0-28-amd64/modules.dep)"
    assert (checks["nft-version"]["status"], checks["nft-version"]["detail"]) == ("ok", "nft 1.0.6 is 1.0.1 or later")


@pytest.mark.parametrize(
    ("version_line", "status", "detail"),
    [
        ("nftables v1.1.1 (Commodore Bullmoose #2)", "ok", "nft 1.1.1 is 1.0.1 or later"),
        ("nftables v1.0.1 (Fearless Fosdick #3)", "ok", "nft 1.0.1 is 1.0.1 or later"),
        ("nftables v0.9.8 (E.D.S.)", "fail", "nft 0.9.8 is older than 1.0.1"),
        ("nftables v0.9.3 (Topsy)", "fail", "nft 0.9.3 is older than 1.0.1"),
        ("nft: unknown option", "warn", "nft --version printed 'nft: unknown option' (exit 0); no version"),
    ],
)
def test_nftables_mode_checks_the_nft_version(cli, node, kube_proxy, version_line, status, detail):
    kube_proxy.routes["/proxyMode"] = (200, "nftables")
    fake_nft(node.root.bin, version_line)
    write(node.root.path / "etc/os-release", 'ID="rocky"\nID_LIKE="rhel centos fedora"\n')
    run, checks = doctor(cli, node, "--proxy-mode", "nftables")
    assert (checks["nft-version"]["status"], checks["nft-version"]["detail"]) == (status, detail)
    assert run.exit_code == (1 if status == "fail" else 0)
    if status == "fail":
        assert checks["nft-version"]["hint"].startswith("upgrade nftables to 1.0.1 or later (dnf install nftables)")


def test_nftables_mode_without_nft_fails_the_binaries_check_only(cli, node, kube_proxy):
    kube_proxy.routes["/proxyMode"] = (200, "nftables")
    node.remove_tool("nft")
    run, checks = doctor(cli, node, "--proxy-mode", "nftables")
    assert run.exit_code == 1
    assert checks["binaries"]["status"] == "fail" and checks["binaries"]["detail"] == "not on PATH: nft"
    assert checks["nft-version"]["status"] == "skip"


def test_nftables_mode_on_a_kernel_without_nf_tables(cli, build, kube_proxy):
    kube_proxy.routes["/proxyMode"] = (200, "nftables")
    node = build("nonmodular-6.18")
    _, checks = doctor(cli, node, "--proxy-mode", "nftables")
    assert checks["nf_tables"]["status"] == "fail"
    assert checks["nf_tables"]["detail"] == (
        "nf_tables is missing from kernel 6.18.44-fc-v657 (CONFIG_NF_TABLES absent in /proc/config.gz)"
    )


def test_bridge_sysctl_is_checked_only_when_br_netfilter_is_loaded(cli, node):
    bridge = node.root.path / "proc/sys/net/bridge/bridge-nf-call-iptables"
    bridge.write_text("0\n")
    _, checks = doctor(cli, node, "--proxy-mode", "ipvs")
    assert checks["bridge-nf-call-iptables"]["status"] == "warn"
    bridge.unlink()
    _, checks = doctor(cli, node, "--proxy-mode", "ipvs")
    assert checks["bridge-nf-call-iptables"]["status"] == "skip"


def test_human_report_is_grouped_by_area(cli, node):
    write(node.root.path / "proc/sys/net/ipv4/ip_forward", "0\n")
    run = cli("doctor", "--root", str(node.root.path), *node.urls, "--proxy-mode", "ipvs")
    assert run.exit_code == 1
    lines = run.stdout.splitlines()
    firsts = [line.split("│")[1].strip() for line in lines if line.startswith("│") and line.split("│")[1].strip()]
    assert firsts == ["kernel", "sysctl", "host", "runtime", "components", "kube-proxy"]
    assert lines[-1] == "12 ok, 1 warn, 1 fail, 14 skip"  # no runtime on this node: the runtime area skips


def test_a_zero_timeout_is_bad_input(cli, node):
    run = cli("doctor", "--root", str(node.root.path), "--timeout", "0s")
    assert (run.exit_code, run.stderr) == (2, "k8snode: error: --timeout must be more than zero, not 0s\n")


def test_bad_endpoint_url_is_bad_input(cli, node):
    run = cli("doctor", "--root", str(node.root.path), "--kubelet-healthz", "127.0.0.1:10248")
    assert run.exit_code == 2
    assert run.stderr == "k8snode: error: '127.0.0.1:10248' is not an http:// or https:// URL with a host\n"


def test_ipvs_status_parses_proc_net_ip_vs_and_lists_kube_sets(cli, node):
    node.fake_ipset(["not-kube", "KUBE-LOAD-BALANCER", "KUBE-6-NODE-PORT-LOCAL-SCTP-HAS", "KUBE-UNKNOWN"])
    run = cli("ipvs", "status", "--root", str(node.root.path), "--json")
    assert run.exit_code == 0
    data = run.envelope()["data"]
    assert data["ipsets"] == [
        {
            "name": "KUBE-6-NODE-PORT-LOCAL-SCTP-HAS",
            "entries": 2,
            "purpose": "SCTP node ports, externalTrafficPolicy Local, IPv6",
        },
        {"name": "KUBE-LOAD-BALANCER", "entries": 1, "purpose": "load-balancer IP and port of every service"},
        {"name": "KUBE-UNKNOWN", "entries": 3, "purpose": ""},
    ]
    assert data["virtual_servers"] == [
        {
            "protocol": "TCP",
            "address": "10.96.0.1",
            "port": 443,
            "scheduler": "rr",
            "real_servers": [
                {"address": "10.244.1.2", "port": 8080, "weight": 1},
                {"address": "10.244.2.3", "port": 8080, "weight": 2},
            ],
        },
        {
            "protocol": "UDP",
            "address": "10.96.0.10",
            "port": 53,
            "scheduler": "rr",
            "real_servers": [{"address": "10.244.1.4", "port": 53, "weight": 1}],
        },
        {
            "protocol": "TCP",
            "address": "fd00::a",
            "port": 80,
            "scheduler": "wrr",
            "real_servers": [{"address": "fd00::1:2", "port": 8080, "weight": 1}],
        },
        {"protocol": "TCP", "address": "192.168.1.10", "port": 30000, "scheduler": "rr", "real_servers": []},
        {"protocol": "FWM", "address": "fwmark 16", "port": None, "scheduler": "sh", "real_servers": []},
    ]
    assert node.ipset_calls() == ["ipset list -t"]
    human = cli("ipvs", "status", "--root", str(node.root.path))
    assert "TCP [fd00::a]:80" in human.stdout
    assert "10.244.2.3:8080" in human.stdout
    assert "load-balancer IP and port of every service" in human.stdout
    assert human.stdout.rstrip().endswith("5 virtual server(s), 4 real server(s), 3 KUBE-* ipset(s)")


def test_ipvs_status_without_ipset_or_ip_vs(cli, node):
    node.remove_tool("ipset")
    (node.root.path / "proc/net/ip_vs").unlink()
    run = cli("ipvs", "status", "--root", str(node.root.path), "--json")
    assert run.exit_code == 0
    envelope = run.envelope()
    assert envelope["data"] == {"virtual_servers": [], "ipsets": None}
    assert envelope["warnings"] == [
        "/proc/net/ip_vs is absent: the ip_vs module is not loaded",
        "ipset is not on PATH; the KUBE-* sets were not listed",
    ]


def test_ipvs_status_reports_an_unreadable_line_and_the_rest(cli, node):
    write(node.root.path / "proc/net/ip_vs", IP_VS + "TCP  nonsense rr\n")
    run = cli("ipvs", "status", "--root", str(node.root.path), "--json")
    assert run.exit_code == 0
    assert run.envelope()["data"]["virtual_servers"]
    assert (
        "/proc/net/ip_vs line 13 cannot be read ('nonsense' is not ADDRESS:PORT): 'TCP  nonsense rr'; skipped"
        in run.envelope()["warnings"]
    )


def test_a_failing_ipset_is_a_warning(cli, node):
    write(
        node.root.bin / "ipset",
        "#!/bin/sh\necho 'ipset v7.17: Kernel error received: Operation not permitted' >&2\nexit 1\n",
        mode=0o755,
    )
    run = cli("ipvs", "status", "--root", str(node.root.path), "--json")
    assert run.exit_code == 0
    assert run.envelope()["data"]["ipsets"] is None
    assert run.envelope()["warnings"] == [
        "ipset list -t failed: ipset v7.17: Kernel error received: Operation not permitted"
    ]


def test_sysctl_conf_that_undoes_forwarding_at_boot_warns_with_file_and_line(cli, node):
    write(node.root.path / "etc/sysctl.conf", "# local\nnet.ipv4.ip_forward=0\n")
    run, checks = doctor(cli, node, "--proxy-mode", "ipvs")
    assert run.exit_code == 0
    assert statuses(checks) == {**HEALTHY_IPVS, "sysctl-boot": "warn"}
    assert checks["sysctl-boot"]["detail"] == "after a reboot: net.ipv4.ip_forward = 0 (/etc/sysctl.conf:2)"
    (node.root.path / "etc/sysctl.d/k8snode.conf").unlink()
    (node.root.path / "etc/sysctl.conf").unlink()
    _, checks = doctor(cli, node, "--proxy-mode", "ipvs")
    assert checks["sysctl-boot"]["detail"].startswith(
        "after a reboot: net.ipv4.ip_forward is not set by any sysctl.d file or /etc/sysctl.conf"
    )


def test_swap_that_comes_back_at_boot_warns(cli, node):
    write(node.root.path / "etc/fstab", "UUID=1 / ext4 defaults 0 1\n/swap.img none swap sw 0 0\n")
    write(node.root.path / "usr/lib/systemd/system-generators/zram-generator", "")
    write(node.root.path / "usr/lib/systemd/zram-generator.conf", "[zram0]\n")
    run, checks = doctor(cli, node, "--proxy-mode", "ipvs")
    assert run.exit_code == 0  # a warning: swap is off now
    assert statuses(checks) == {**HEALTHY_IPVS, "swap-boot": "warn"}
    assert checks["swap-boot"]["detail"] == (
        "swap would be on after a reboot: /etc/fstab: /swap.img none swap sw 0 0; "
        "zram-generator.conf defines a zram device"
    )
    assert checks["swap-boot"]["preflight"] == "Swap"


def test_a_blacklisted_or_unpersisted_module_warns(cli, node):
    write(node.root.path / "etc/modprobe.d/bl.conf", "blacklist br_netfilter\n")
    _, checks = doctor(cli, node, "--proxy-mode", "ipvs")
    assert statuses(checks) == {**HEALTHY_IPVS, "modules-boot": "warn"}
    assert checks["modules-boot"]["detail"] == (
        "/etc/modprobe.d/bl.conf:1 blacklists br_netfilter: systemd-modules-load will not load it at boot"
    )
    (node.root.path / "etc/modprobe.d/bl.conf").unlink()
    (node.root.path / "etc/modules-load.d/k8snode.conf").unlink()
    (node.root.path / "etc/sysconfig/modules/k8snode.modules").unlink()
    _, checks = doctor(cli, node, "--proxy-mode", "ipvs")
    assert checks["modules-boot"]["detail"] == "not loaded at boot: br_netfilter overlay"


@pytest.mark.parametrize("option", ["--kubernetes-version", "--target-version"])
def test_a_bad_version_is_bad_input_naming_the_option_that_gave_it(cli, tmp_path, option):
    """The kubelet's version parser names the option where the error is made; doctor no longer rewrites its text."""
    from k8snode.core.versions import NEWEST_KUBERNETES as NEWEST

    run = cli("doctor", "--root", str(tmp_path), option, "v1.x")
    assert run.exit_code == 2
    assert run.stderr == f"k8snode: error: {option} 'v1.x' is not a Kubernetes version; use one such as {NEWEST}\n"
