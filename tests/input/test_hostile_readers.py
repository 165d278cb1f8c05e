"""Every file k8snode reads, filled with generated hostile content, gives exit 0, 1 or 2: never 3.

"internal error" (or any exit 3) must be unreachable from what a file holds. Each reader's file starts from the
valid content of a healthy fake node and is replaced by junk bytes, junk text, a valid file with one line spliced
in, or a valid file with one field of one line replaced; then every command that reads the file runs on it.
Runs in the default test set (not ``slow``): a few hundred in-process runs.
"""

from __future__ import annotations

import gzip
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import FSTAB_HEAD, SWAPS_HEADER, FakeRoot, add_network, make_root, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servers import CLOSED_PORT
from typer.testing import CliRunner

from k8snode.cli import app

RELEASE = "6.1.0-28-amd64"
CLOSED = f"http://127.0.0.1:{CLOSED_PORT}/healthz"  # nothing listens there
DOCTOR = ["doctor", "--kubelet-healthz", CLOSED, "--kube-proxy-healthz", CLOSED, "--kube-proxy-metrics", CLOSED]
CLEANUP = ["ipvs", "cleanup", "--all", "--kube-proxy-metrics", CLOSED]  # a real run: the fake tools change nothing
IP_VS = (
    "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n"
    "  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\nTCP  0A600001:01BB rr\n"
    "  -> 0AF40102:1F90      Masq    1      0          0\n"
    "  -> [fd00:0000:0000:0000:0000:0000:0001:0002]:1F90      Masq    1      0          0\n"
    # every protocol ip_vs_proto_name prints, and a firewall mark
    "UDP  0A60000A:0035 rr\nSCTP  0A60000B:0F1C rr\nIP  0A60000C:0000 rr\nICMP  0A60000D:0000 rr\n"
    "ICMPv6  [fd00:0000:0000:0000:0000:0000:0000:000e]:0000 rr\nIP_47  0A60000F:0000 sh\nFWM  00000010 sh\n"
)
IP_ADDR = (  # `ip -o addr show dev kube-ipvs0`: the fake ip prints this file (fake/ip-addr under the root)
    "5: kube-ipvs0    inet 10.96.0.1/32 scope global kube-ipvs0\\       valid_lft forever preferred_lft forever\n"
    "5: kube-ipvs0    inet6 fd00::e/128 scope global \\       valid_lft forever preferred_lft forever\n"
)
FAKE_IP = """#!/bin/sh
case "$*" in
  "-d -o link show dev kube-ipvs0") echo '5: kube-ipvs0: <BROADCAST,NOARP> mtu 1500 state DOWN \\    dummy' ;;
  "-o addr show dev kube-ipvs0") cat "{root}/fake/ip-addr" ;;
esac
exit 0
"""
KUBE_PROXY_CONFIGMAP = (
    "apiVersion: v1\ndata:\n  config.conf: |-\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n"
    "    kind: KubeProxyConfiguration\n    mode: ipvs\n    ipvs:\n      strictARP: true\nkind: ConfigMap\n"
    "metadata:\n  name: kube-proxy\n  namespace: kube-system\n"
)
KUBELET_DROPIN = (
    '[Service]\nEnvironment="KUBELET_KUBECONFIG_ARGS=--kubeconfig=/etc/kubernetes/kubelet.conf"\n'
    'Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"\n'
    "EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env\nEnvironmentFile=-/etc/default/kubelet\nExecStart=\n"
    "ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS "
    "$KUBELET_EXTRA_ARGS\n"
)
LINT = ["kubelet-flags", "lint"]
LINT_FIX = ["kubelet-flags", "lint", "--fix", "--force", "--dry-run"]
NODE = [
    ["node", "check"],
    ["node", "prepare", "--dry-run", "--force"],
    ["node", "reset", "--dry-run", "--force"],
    DOCTOR,
]
# Each file k8snode reads, and the commands that read it (a valid run of each succeeds or reports drift). Where a
# command refuses a file k8snode did not write (exit 3, by design), --force makes it read the file all the same.
READERS: dict[str, list[list[str]]] = {
    "/proc/sys/kernel/osrelease": [["ipvs", "check"], ["kubeadm-config"], DOCTOR],
    "/proc/modules": [["ipvs", "check"], ["ipvs", "disable", "--unload", "--dry-run"], DOCTOR],
    f"/lib/modules/{RELEASE}/modules.dep": [["ipvs", "check"]],
    f"/lib/modules/{RELEASE}/modules.builtin": [["ipvs", "check"]],
    "/proc/config.gz": [["ipvs", "check"]],
    "/proc/net/route": [["kubeadm-config"]],
    "/proc/net/fib_trie": [["kubeadm-config"]],
    "/proc/net/ip_vs": [["ipvs", "status"], CLEANUP],
    "/fake/ip-addr": [CLEANUP],
    "/proc/sys/net/ipv4/ip_forward": [DOCTOR],
    "/proc/swaps": [DOCTOR],
    "/etc/sysconfig/modules/ipvs.modules": [["ipvs", "check"], ["ipvs", "disable", "--unload", "--force", "--dry-run"]],
    "/etc/modules-load.d/ipvs.conf": [["ipvs", "check"], ["ipvs", "disable", "--unload", "--force", "--dry-run"]],
    "/etc/kubernetes/init.yaml": [
        ["validate", "/etc/kubernetes/init.yaml"],
        ["kubeadm-config", "--patch", "/etc/kubernetes/init.yaml"],
        ["kubeadm-config", "--out", "/etc/kubernetes/init.yaml", "--force", "--dry-run"],
    ],
    "/etc/default/kubelet": [
        ["kubelet-flags", "--out", "/etc/default/kubelet", "--force", "--dry-run"],
        LINT,
        LINT_FIX,
    ],
    "/var/lib/kubelet/kubeadm-flags.env": [LINT, LINT_FIX],
    "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf": [LINT, LINT_FIX],
    "/etc/kubernetes/kube-proxy.yaml": [
        ["kubeadm-config", "--patch", "/etc/kubernetes/kube-proxy.yaml", "--proxy-mode", "nftables"],
        ["validate", "/etc/kubernetes/kube-proxy.yaml"],
    ],
    "/etc/fstab": NODE,
    "/etc/fstab.k8snode-orig": NODE[1:3],
    "/etc/k8snode/masked-swap-units": NODE,
    "/srv/zram/size.conf": NODE,  # the zram-generator drop-in, read through the link ZRAM_DROPIN names
}
ZRAM_DROPIN = "etc/systemd/zram-generator.conf.d/size.conf"
CASES = 15

FIELD = st.one_of(
    st.text(alphabet="0123456789ABCDEFabcdefx:[]./-_", max_size=40),
    st.sampled_from(
        ["", "-1", "FFFFFFFFFFFFFFFFFFFF", "9" * 5000, "0x", "nan", "[::1", "00FF00FF", "FF00FF00", "\x00", "\u2028"]
    ),
    st.text(max_size=20),
)
LINE = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [
            b"\x00" * 10,
            b"x" * 5000,
            b"expires: 2024-02-30",
            b"x: !!int 0x",
            b"x: !!bool maybe",
            b"kind: " + b"9" * 5000,
            b"[" * 3000,
            "caf\u00e9".encode("latin-1"),
            "a\u2028b".encode(),
        ]
    ),
)


def hostile(valid: bytes) -> st.SearchStrategy[bytes]:
    lines = valid.splitlines(keepends=True) or [b""]

    def splice(index: int, line: bytes, replace: bool) -> bytes:
        kept = list(lines)
        kept[index % len(kept) : index % len(kept) + int(replace)] = [line + b"\n"]
        return b"".join(kept)

    def field(index: int, position: int, value: str) -> bytes:
        kept = list(lines)
        words = kept[index % len(kept)].split()
        if words:
            words[position % len(words)] = value.encode("utf-8", "surrogatepass")
        kept[index % len(kept)] = b"  ".join(words) + b"\n"
        return b"".join(kept)

    return st.one_of(
        st.binary(max_size=2000),
        st.text(max_size=2000).map(lambda text: text.encode("utf-8", "surrogatepass")),
        st.builds(splice, st.integers(0, 200), LINE, st.booleans()),
        st.builds(field, st.integers(0, 200), st.integers(0, 20), FIELD),
    )


@pytest.fixture(scope="module")
def node() -> Iterator[FakeRoot]:
    """A healthy node: IPVS modules loaded and persisted, network, sysctls, a kernel config, a kubeadm config; kubelet
    flag files and a kube-proxy ConfigMap; prepared by `node prepare`, so that fstab, its backup and the record of
    the masked swap units are what k8snode wrote; kube-ipvs0 as the fake ip prints it."""
    with tempfile.TemporaryDirectory() as scratch:
        root = make_root(Path(scratch) / "root", "deb12-6.1")
        mp = pytest.MonkeyPatch()
        mp.setenv("PATH", str(root.bin))
        for tool in ("ip", "iptables", "mount", "nsenter", "ipset", "ipvsadm", "nft"):
            write(root.bin / tool, "#!/bin/sh\nexit 0\n", mode=0o755)
        add_network(root.path)
        write(root.path / "proc/sys/net/ipv4/ip_forward", "1\n")
        write(root.path / "proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n")
        write(root.path / "proc/net/ip_vs", IP_VS)
        write(root.path / "usr/lib/systemd/system-generators/zram-generator", "", mode=0o755)
        write(root.path / "srv/zram/size.conf", "[zram0]\nzram-size = 4096\n")
        (root.path / ZRAM_DROPIN).parent.mkdir(parents=True)
        (root.path / ZRAM_DROPIN).symlink_to("/srv/zram/size.conf")
        (root.path / "proc/config.gz").write_bytes(gzip.compress(b"CONFIG_IP_VS=m\n# CONFIG_IP_VS_TWOS is not set\n"))
        write(root.bin / "ip", FAKE_IP.format(root=root.path), mode=0o755)
        write(root.path / "fake/ip-addr", IP_ADDR)
        write(root.path / "etc/kubernetes/kube-proxy.yaml", KUBE_PROXY_CONFIGMAP)
        write(root.path / "var/lib/kubelet/kubeadm-flags.env", 'KUBELET_KUBEADM_ARGS="--node-ip=192.0.2.10"\n')
        write(
            root.path / "var/lib/kubelet/config.yaml",
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n",
        )
        write(root.path / "etc/systemd/system/kubelet.service.d/10-kubeadm.conf", KUBELET_DROPIN)
        write(root.path / "etc/fstab", FSTAB_HEAD + "UUID=2222-swap none swap sw 0 0\n")
        write(root.path / "proc/swaps", SWAPS_HEADER + "/dev/sda2\tpartition\t1048572\t0\t-2\n")
        runner = CliRunner()
        prepared = runner.invoke(app, ["node", "prepare", "--root", str(root.path)])  # the fstab backup, the masks
        assert prepared.exit_code == 1, prepared.stdout + prepared.stderr  # 1: the zram drop-in still makes a device
        assert (root.path / "etc/k8snode/masked-swap-units").read_text().count("dev-sda2.swap") == 1
        assert runner.invoke(app, ["ipvs", "enable", "--persist", "both", "--root", str(root.path)]).exit_code == 0
        rendered = runner.invoke(
            app, ["kubeadm-config", "--out", "/etc/kubernetes/init.yaml", "--root", str(root.path)]
        )
        assert rendered.exit_code == 0, rendered.stderr
        flags = runner.invoke(app, ["kubelet-flags", "--out", "/etc/default/kubelet", "--root", str(root.path)])
        assert flags.exit_code == 0, flags.stderr
        yield root
        mp.undo()


def test_every_reader_has_a_valid_file_on_the_node(node):
    for target, commands in READERS.items():
        assert (node.path / target.lstrip("/")).is_file(), target
        for argv in commands:
            run = CliRunner().invoke(app, [*argv, "--root", str(node.path)], catch_exceptions=False)
            assert run.exit_code in (0, 1), (argv, run.stderr)


@pytest.mark.parametrize("target", list(READERS))
@settings(max_examples=CASES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_hostile_file_gives_exit_0_1_or_2_never_an_internal_error(node, target, data):
    path = node.path / target.lstrip("/")
    valid = path.read_bytes()
    content = data.draw(hostile(gzip.decompress(valid) if target.endswith(".gz") else valid), label="content")
    if target.endswith(".gz") and data.draw(st.booleans(), label="gzip"):
        content = gzip.compress(content)
    path.write_bytes(content)
    try:
        for argv in READERS[target]:
            run = CliRunner().invoke(app, [*argv, "--root", str(node.path)], catch_exceptions=False)
            shown = run.stdout + run.stderr
            assert run.exit_code in (0, 1, 2), (argv, content[:300], run.stderr[-500:])
            assert "Traceback" not in shown and "internal error" not in shown
            if run.exit_code == 2:
                assert run.stderr.startswith("k8snode: error: ") and run.stderr.count("\n") == 1, run.stderr
    finally:
        path.write_bytes(valid)
