"""The real kube-proxy, fed the KubeProxyConfiguration that `k8snode kubeadm-config` renders, programs a real kernel.

Inside the guest (Debian's kernel under qemu, no network device, everything on 127.0.0.1 and guest-local dummy
interfaces): the real etcd and kube-apiserver built by tools/k8s-truth/build-e2e.sh, a Node, one Service of each
type with an EndpointSlice made through the API (tests/vm/kube_guest.py), and the real kube-proxy started with
`--config` = the rendered document, where only the kubeconfig path and the node name come from `--set`. What is
asserted is read from the kernel itself (ipvsadm, ipset, nft, iptables-save, ip, /proc/sys), and `k8snode ipvs status`
and `k8snode doctor` must report that same state.

Two boots. The first prepares the node with `k8snode node prepare` and runs IPVS mode with the options users ask
about (`--ipvs-scheduler lc`, `--lb metallb`, `--exclude-cidr`). The second starts from a kernel with no IPVS module
loaded and runs IPVS mode there (the negative case), then iptables mode, then nftables mode after `node prepare
--proxy-mode nftables`. The fake kube-proxy (fake_kube_proxy.py) stays only in test_real_kernel.py, whose boot has
no API server for a real one to read.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import harness
import pytest
from required import e2e_binary

from k8snode.proxy.ipvs_state import SET_PURPOSES

pytestmark = [pytest.mark.vm, pytest.mark.truth]

RELEASE = "v1.37.2"
GUEST = Path(__file__).with_name("kube_guest.py")
ENDPOINT = "10.244.1.10"
NODE_IP = "192.168.50.10"
LB_IP = "198.51.100.10"
EXTERNAL_IP = "198.51.100.20"
# doctor waits 1 s for each HTTP check by default; a TCG guest on a loaded two-core host once took longer to answer
# kube-proxy's /healthz on loopback, and doctor rightly called it failed. An operator on a slow node passes --timeout.
DOCTOR = "k8snode doctor --timeout 10s"
# kube-proxy's periodic resync, in every mode. Under TCG one sync of both families took about 50 s of the guest's only
# CPU (kubeproxy_sync_proxy_rules_duration_seconds: 28 s IPv4 + 21 s IPv6), so at the default 30 s kube-proxy synced
# back to back and every step of the boot ran at a third of its speed; at 300 s the guest idles at 70 % between
# steps. A sync that a step needs is asked for through the API instead (kube_guest.py trigger).
SYNC_PERIOD = "300s"
# Minutes under TCG on two shared cores: the API server alone needs one or two to become ready.
BOOT_LIMITS: dict[str, Any] = {"timeout": 1200, "memory_mib": 2048}


def guest_setup(e2e: Path) -> str:
    """Shell for the guest: helpers, the node's interfaces, the endpoint's server, etcd and the API server, the
    objects, and the kubeconfig kube-proxy reads."""
    python = sys.executable
    return f"""cd /results
step() {{ local name=$1; shift; "$@" >"$name.out" 2>"$name.err"; echo $? >"$name.rc"; }}
mark() {{ : >"/results/$1.mark"; }}  # the host stamps the file's time
guest() {{ {python} {GUEST} "$@"; }}
render() {{  # render NAME OPTIONS...: NAME.yaml = the KubeProxyConfiguration document k8snode renders
    local name=$1; shift
    step "${{name}}_render" k8snode kubeadm-config "$@" --advertise-address {NODE_IP} --node-name node0 \\
        --set KubeProxyConfiguration.clientConnection.kubeconfig=/results/kube-proxy.conf \\
        --set KubeProxyConfiguration.hostnameOverride=node0
    guest proxy-config "${{name}}_render.out" >"$name.yaml"
}}
proxy() {{  # proxy NAME CHECK...: start kube-proxy on NAME.yaml (PATH=$proxy_path when set); wait until CHECK
            # succeeds or kube-proxy exits. Every 2 s: each CHECK (nft list, ipvsadm, iptables-save) takes the one
            # CPU from the kube-proxy it waits for.
    local name=$1; shift
    mark "${{name}}_start"
    PATH="${{proxy_path:-$PATH}}" {e2e}/kube-proxy --config "$name.yaml" >"$name.kube-proxy.log" 2>&1 &
    echo $! >"$name.pid"
    for _ in $(seq 150); do
        "$@" >/dev/null 2>&1 && break
        kill -0 "$(cat "$name.pid")" 2>/dev/null || break
        sleep 2
    done
    mark "${{name}}_programmed"
    kill -0 "$(cat "$name.pid")" 2>/dev/null && echo running >"$name.alive" || echo exited >"$name.alive"
}}
stop_proxy() {{ kill "$(cat "$1.pid")" 2>/dev/null; wait "$(cat "$1.pid")" 2>/dev/null; }}
stable() {{  # stable NAME CMD...: run CMD until two runs 3 s apart print the same, keep that as NAME.out
    local name=$1; shift
    "$@" >"$name.out"
    for _ in $(seq 20); do
        sleep 3; "$@" >"$name.next"; cmp -s "$name.out" "$name.next" && break; mv "$name.next" "$name.out"
    done
}}

hostname node0
ip link set lo up
ip link add node0 type dummy && ip addr add {NODE_IP}/24 dev node0 && ip link set node0 up
ip route add default via 192.168.50.1 dev node0
ip link add pod0 type dummy && ip addr add {ENDPOINT}/32 dev pod0 && ip link set pod0 up
guest serve {ENDPOINT} 8080 >serve.log 2>&1 &

mark start
openssl genrsa -out /tmp/sa.key 2048 2>/dev/null
echo "e2e-token,e2e-admin,e2e-admin,system:masters" >/tmp/tokens.csv
# The servers run at the lowest priority: in the guest's one CPU, the steps under test go first.
nice -n 19 {e2e}/etcd --data-dir /tmp/etcd --listen-client-urls http://127.0.0.1:2379 \\
    --advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 \\
    --initial-advertise-peer-urls http://127.0.0.1:2380 --initial-cluster default=http://127.0.0.1:2380 \\
    >etcd.log 2>&1 &
nice -n 19 {e2e}/kube-apiserver --etcd-servers=http://127.0.0.1:2379 --bind-address=127.0.0.1 --secure-port=6443 \\
    --advertise-address={NODE_IP} --cert-dir=/tmp/apiserver --service-cluster-ip-range=10.96.0.0/12 \\
    --service-account-issuer=https://kubernetes.default.svc --service-account-key-file=/tmp/sa.key \\
    --service-account-signing-key-file=/tmp/sa.key --authorization-mode=AlwaysAllow \\
    --token-auth-file=/tmp/tokens.csv >apiserver.log 2>&1 &
step ready guest ready 600
mark ready
step objects guest objects
mark objects
cat >kube-proxy.conf <<'EOF'
apiVersion: v1
kind: Config
clusters: [{{name: guest, cluster: {{server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}}}}]
users: [{{name: e2e-admin, user: {{token: e2e-token}}}}]
contexts: [{{name: guest, context: {{cluster: guest, user: e2e-admin}}}}]
current-context: guest
EOF
"""


def connections(prefix: str) -> str:
    """Connect to the service through its cluster IP, node port and load-balancer IP, as PREFIX_connect_* steps."""
    return f"""step {prefix}_connect_cluster_ip guest connect 10.96.0.100 80
step {prefix}_connect_node_port guest connect {NODE_IP} 30080
step {prefix}_connect_load_balancer guest connect {LB_IP} 80
"""


IPVS_BOOT = f"""
step prepare k8snode node prepare --proxy-mode ipvs --scheduler lc --json
render ipvs --proxy-mode ipvs --ipvs-scheduler lc --lb metallb --exclude-cidr 203.0.113.0/24 \
    --ipvs-sync-period {SYNC_PERIOD}
proxy ipvs sh -c 'ipvsadm -Ln | grep -q "10.96.0.100:80"'
step proxy_mode guest get http://127.0.0.1:10249/proxyMode
# kube-proxy runs dual-stack: its IPv6 proxier's first sync can come well after the IPv4 one's under TCG on a loaded
# host (seen: the KUBE-6-* sets appeared between the two listings below), so wait for it before taking them.
for _ in $(seq 600); do ipset list -n | grep -qx KUBE-6-LOOP-BACK && break; sleep 0.5; done
stable ipvsadm ipvsadm -Ln
stable ipsets ipset list -t
step status k8snode ipvs status --json
stable ipvsadm_after ipvsadm -Ln
stable ipsets_after ipset list -t
step kube_ipvs0 ip -o addr show kube-ipvs0
step arp cat /proc/sys/net/ipv4/conf/all/arp_ignore /proc/sys/net/ipv4/conf/all/arp_announce
{connections("ipvs")}
step doctor {DOCTOR} --scheduler lc --json

# Leaving IPVS (issue 15). Two virtual servers that are not kube-proxy's: kube-proxy's next sync deletes the one
# outside --exclude-cidr (cleanLegacyService, k/k pkg/proxy/ipvs/proxier.go) and keeps the one inside. A new
# EndpointSlice makes that sync come now (OnEndpointSliceAdd), not at the end of the sync period. Then the
# ConfigMap patched by k8snode, kube-proxy restarted on it from an "image" without modprobe (its own cleanup then
# leaves IPVS alone, k/k pkg/proxy/ipvs/cleanup.go), and k8snode ipvs cleanup removing what IPVS mode left.
step handmade sh -ec 'ipvsadm -A -t 203.0.113.50:80 -s wrr; ipvsadm -a -t 203.0.113.50:80 -r 203.0.113.51:80 -m
    ipvsadm -A -t 192.0.2.50:80 -s wrr'
step sync_trigger guest trigger sync-trigger
step ipvs_sync sh -c 'for _ in $(seq 240); do ipvsadm -Ln | grep -q "192.0.2.50:80" || exit 0; sleep 0.5; done; exit 1'
step handmade_synced ipvsadm -Ln
step cleanup_while_ipvs k8snode ipvs cleanup --json
step ready_nftables k8snode node check --proxy-mode nftables --json
guest configmap ipvs.yaml >kube-proxy-configmap.yaml
sync_period="--set KubeProxyConfiguration.nftables.syncPeriod={SYNC_PERIOD}"  # as the patch's own warning advises
step patch_dry_run k8snode kubeadm-config --patch kube-proxy-configmap.yaml --proxy-mode nftables $sync_period \
    --dry-run --json
step patch k8snode kubeadm-config --patch kube-proxy-configmap.yaml --proxy-mode nftables $sync_period
guest configmap-config patch.out >migrated.yaml
stop_proxy ipvs
mkdir /tmp/image
for tool in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore nft ipset; do
    ln -s "$(command -v $tool)" /tmp/image/
done
proxy_path=/tmp/image proxy migrated sh -c 'nft list table ip kube-proxy | grep -q "10.96.0.100"'
step migrated_proxy_mode guest get http://127.0.0.1:10249/proxyMode
step left_ipvsadm ipvsadm -Ln
step cleanup_dry_run k8snode ipvs cleanup --dry-run --json
step cleanup k8snode ipvs cleanup --json
step disable k8snode ipvs disable --json
step prepare_nftables k8snode node prepare --proxy-mode nftables --json
step after_ipvsadm ipvsadm -Ln
step after_ipsets ipset list -n
step after_kube_ipvs0 ip link show kube-ipvs0
step after_iptables iptables-save
step after_nft nft list table ip kube-proxy
{connections("migrated")}
step after_doctor {DOCTOR} --proxy-mode nftables --json
stop_proxy migrated
"""

MODES_BOOT = f"""
cp /proc/modules fresh.modules
render bare --proxy-mode ipvs --ipvs-sync-period {SYNC_PERIOD}
proxy bare sh -c 'ipvsadm -Ln | grep -q "10.96.0.100:80"'
cp /proc/modules bare.modules
step bare_ipvsadm ipvsadm -Ln
step bare_proxy_mode guest get http://127.0.0.1:10249/proxyMode
step bare_doctor {DOCTOR} --json
stop_proxy bare
step bare_cleanup {{e2e}}/kube-proxy --cleanup

render iptables --proxy-mode iptables --set KubeProxyConfiguration.iptables.syncPeriod={SYNC_PERIOD}
proxy iptables sh -c 'iptables-save -t nat | grep -q "10.96.0.100/32"'
step iptables_proxy_mode guest get http://127.0.0.1:10249/proxyMode
step iptables_save iptables-save -t nat
{connections("iptables")}
step iptables_doctor {DOCTOR} --proxy-mode iptables --json
stop_proxy iptables
step iptables_cleanup {{e2e}}/kube-proxy --cleanup

step nftables_prepare k8snode node prepare --proxy-mode nftables --json
render nftables --proxy-mode nftables --set KubeProxyConfiguration.nftables.syncPeriod={SYNC_PERIOD}
step handmade sh -ec 'ipvsadm -A -t 192.0.2.50:80 -s wrr; ipvsadm -a -t 192.0.2.50:80 -r 192.0.2.51:80 -m'
proxy nftables sh -c 'nft list table ip kube-proxy | grep -q "10.96.0.100"'
step nftables_ipvsadm ipvsadm -Ln
step nftables_proxy_mode guest get http://127.0.0.1:10249/proxyMode
step nftables_ip nft list table ip kube-proxy
step nftables_ip6 nft list table ip6 kube-proxy
{connections("nftables")}
step nftables_doctor {DOCTOR} --proxy-mode nftables --json
stop_proxy nftables
"""


@pytest.fixture(scope="module")
def e2e() -> Path:
    binaries = [e2e_binary(RELEASE, name) for name in ("etcd", "kube-apiserver", "kube-proxy")]
    return binaries[0].parent


@pytest.fixture(scope="module")
def ipvs_boot(boot_vm: harness.Booter, e2e: Path, measured: Callable[[str], None]) -> harness.Boot:
    boot = boot_vm("kube-proxy-ipvs", guest_setup(e2e) + IPVS_BOOT, **BOOT_LIMITS)
    _measure(boot, measured, "ipvs")
    return boot


@pytest.fixture(scope="module")
def modes_boot(boot_vm: harness.Booter, e2e: Path, measured: Callable[[str], None]) -> harness.Boot:
    boot = boot_vm("kube-proxy-modes", guest_setup(e2e) + MODES_BOOT.format(e2e=e2e), **BOOT_LIMITS)
    for mode in ("bare", "iptables", "nftables"):
        _measure(boot, measured, mode)
    return boot


def _measure(boot: harness.Boot, measured: Callable[[str], None], mode: str) -> None:
    assert boot.rc("ready") == 0, boot.show("ready") + boot.text("apiserver.log")[-3000:]
    assert boot.rc("objects") == 0, boot.show("objects")
    if mode in ("ipvs", "bare"):
        measured(f"API server ready {boot.seconds_between('start', 'ready'):.0f} s after it started (TCG)")
    seconds = boot.seconds_between(f"{mode}_start", f"{mode}_programmed")
    measured(f"kube-proxy {RELEASE} ({mode}): first service programmed {seconds:.0f} s after start (TCG)")


def ipvsadm_table(text: str) -> set[tuple[str, str, str, str, str, int]]:
    """(protocol, virtual server, scheduler, real server, forward, weight) rows of `ipvsadm -Ln`."""
    rows = set()
    service: tuple[str, str, str] | None = None
    for line in text.splitlines():
        if match := re.match(r"(TCP|UDP|SCTP)\s+(\S+)\s+(\S+)", line):
            service = (match[1], match[2], match[3])
        elif (match := re.match(r"\s+->\s+(\d\S+)\s+(\S+)\s+(\d+)", line)) and service:
            rows.add((*service, match[1], match[2], int(match[3])))
    return rows


def ipset_counts(text: str) -> dict[str, int]:
    """name -> Number of entries, from `ipset list -t`."""
    return {name: int(count) for name, count in re.findall(r"Name: (\S+)\n(?:.*\n)*?Number of entries: (\d+)", text)}


def test_kube_proxy_runs_the_mode_k8snode_rendered(ipvs_boot: harness.Boot) -> None:
    assert ipvs_boot.rc("prepare") == 0, ipvs_boot.show("prepare")
    assert ipvs_boot.rc("ipvs_render") == 0, ipvs_boot.show("ipvs_render")
    config = ipvs_boot.text("ipvs.yaml")
    assert "mode: ipvs" in config and "scheduler: lc" in config and "strictARP: true" in config, config
    assert ipvs_boot.text("ipvs.alive").strip() == "running", ipvs_boot.text("ipvs.kube-proxy.log")[-3000:]
    assert ipvs_boot.text("proxy_mode.out") == "ipvs"


def test_every_service_port_is_a_virtual_server_with_the_rendered_scheduler(ipvs_boot: harness.Boot) -> None:
    table = ipvsadm_table(ipvs_boot.text("ipvsadm.out"))
    http, dns = (f"{ENDPOINT}:8080", "Masq", 1), (f"{ENDPOINT}:5353", "Masq", 1)
    expected = {
        ("TCP", "10.96.0.100:80", "lc", *http),  # ClusterIP
        ("TCP", f"{EXTERNAL_IP}:80", "lc", *http),  # its external IP
        ("TCP", "10.96.0.101:80", "lc", *http),  # NodePort service: cluster IP ...
        ("UDP", "10.96.0.101:53", "lc", *dns),
        ("TCP", f"{NODE_IP}:30080", "lc", *http),  # ... and node ports
        ("UDP", f"{NODE_IP}:30053", "lc", *dns),
        ("TCP", "10.96.0.102:80", "lc", *http),  # LoadBalancer: cluster IP, status IP, node port
        ("TCP", f"{LB_IP}:80", "lc", *http),
        ("TCP", f"{NODE_IP}:30081", "lc", *http),
        ("TCP", "10.96.0.1:443", "lc", f"{NODE_IP}:6443", "Masq", 1),  # the API server's own service
    }
    assert expected <= table, ipvs_boot.text("ipvsadm.out")
    assert {row[2] for row in table} == {"lc"}


def test_the_kube_ipsets_hold_the_services(ipvs_boot: harness.Boot, measured: Callable[[str], None]) -> None:
    counts = ipset_counts(ipvs_boot.text("ipsets.out"))
    ipv4 = {name for name in counts if not name.startswith("KUBE-6-")}
    measured(f"kube-proxy {RELEASE} IPv4 ipsets: {' '.join(f'{n}={counts[n]}' for n in sorted(ipv4))}")
    # The table `ipvs status` explains the sets with is exactly what this release creates.
    assert ipv4 == set(SET_PURPOSES)
    assert {name: counts[name] for name in ipv4 if counts[name]} == {
        "KUBE-CLUSTER-IP": 5,  # 10.96.0.1:443, .100:80, .101:80, .101:53/udp, .102:80
        "KUBE-EXTERNAL-IP": 1,
        "KUBE-LOAD-BALANCER": 1,
        "KUBE-LOAD-BALANCER-LOCAL": 1,  # web-lb has externalTrafficPolicy Local
        "KUBE-NODE-PORT-TCP": 2,  # 30080, 30081
        "KUBE-NODE-PORT-LOCAL-TCP": 1,  # 30081
        "KUBE-NODE-PORT-UDP": 1,  # 30053
        "KUBE-HEALTH-CHECK-NODE-PORT": 1,
        "KUBE-IPVS-IPS": 6,  # the addresses on kube-ipvs0
        "KUBE-LOOP-BACK": 2,  # endpoint hairpin: 8080/tcp and 5353/udp
    }


def test_kube_ipvs0_holds_the_service_addresses(ipvs_boot: harness.Boot) -> None:
    addresses = set(re.findall(r"inet (\S+)/32", ipvs_boot.text("kube_ipvs0.out")))
    assert addresses == {"10.96.0.1", "10.96.0.100", "10.96.0.101", "10.96.0.102", LB_IP, EXTERNAL_IP}


def test_strict_arp_from_lb_metallb_reaches_the_kernel(ipvs_boot: harness.Boot) -> None:
    assert ipvs_boot.text("arp.out").split() == ["1", "2"]  # arp_ignore, arp_announce as kube-proxy sets them


def test_a_connection_to_the_service_reaches_the_endpoint(ipvs_boot: harness.Boot) -> None:
    _assert_connections(ipvs_boot, "ipvs")


def _assert_connections(boot: harness.Boot, mode: str) -> None:
    for via in ("cluster_ip", "node_port", "load_balancer"):
        step = f"{mode}_connect_{via}"
        assert (boot.rc(step), boot.text(f"{step}.out")) == (0, f"endpoint {ENDPOINT}:8080\n"), boot.show(step)


def test_ipvs_status_reports_what_the_kernel_holds(ipvs_boot: harness.Boot) -> None:
    assert ipvs_boot.text("ipvsadm.out") == ipvs_boot.text("ipvsadm_after.out"), "the state moved during the test"
    # "References:" counts the iptables rules that use a set, which kube-proxy may still be adding under TCG (seen:
    # 0 then 1); what status reports is each set's entries, so those are what must hold still.
    sets, sets_after = (
        re.sub(r"^References: \d+\n", "", ipvs_boot.text(name), flags=re.MULTILINE)
        for name in ("ipsets.out", "ipsets_after.out")
    )
    assert sets == sets_after, "the sets moved during the test"
    assert ipvs_boot.rc("status") == 0, ipvs_boot.show("status")
    data = ipvs_boot.envelope("status")["data"]
    reported = {
        (
            s["protocol"],
            f"{s['address']}:{s['port']}",
            s["scheduler"],
            f"{r['address']}:{r['port']}",
            "Masq",
            r["weight"],
        )
        for s in data["virtual_servers"]
        for r in s["real_servers"]
    }  # /proc/net/ip_vs does not name the forwarding method: kube-proxy only uses Masq
    assert reported == ipvsadm_table(ipvs_boot.text("ipvsadm.out"))
    counts = ipset_counts(ipvs_boot.text("ipsets.out"))
    assert {s["name"]: s["entries"] for s in data["ipsets"]} == counts
    assert all(s["purpose"] for s in data["ipsets"]), [s["name"] for s in data["ipsets"] if not s["purpose"]]


def test_doctor_reports_the_running_ipvs_node_as_healthy(ipvs_boot: harness.Boot) -> None:
    checks = _checks(ipvs_boot, "doctor")
    assert checks["proxy-mode"] == ("ok", "kube-proxy runs in ipvs mode")
    assert checks["ipvs-state"][0] == "ok", checks["ipvs-state"]
    # Every check passes or does not apply, except the deprecation notice every IPVS node gets, and the kubelet,
    # which this guest does not run.
    assert {c: s for c, (s, _) in checks.items() if s not in ("ok", "skip")} == {"ipvs-deprecation": "warn"}
    assert checks["kubelet-health"][0] == "skip"


def _checks(boot: harness.Boot, step: str) -> dict[str, tuple[str, str]]:
    report: Any = boot.envelope(step)
    return {c["id"]: (c["status"], c["detail"]) for c in report["data"]["checks"]}


HANDMADE = ("TCP", "203.0.113.50:80", "wrr", "203.0.113.51:80", "Masq", 1)
"""A virtual server that is not kube-proxy's (a keepalived or LVS setup on the same node), in --exclude-cidr."""


def test_kube_proxy_keeps_only_the_foreign_virtual_server_inside_exclude_cidr(ipvs_boot: harness.Boot) -> None:
    assert ipvs_boot.rc("handmade") == 0, ipvs_boot.show("handmade")
    assert ipvs_boot.rc("sync_trigger") == 0, ipvs_boot.show("sync_trigger")
    assert ipvs_boot.rc("ipvs_sync") == 0, "kube-proxy did not sync within 120 s of the new EndpointSlice"
    table = ipvsadm_table(ipvs_boot.text("handmade_synced.out"))
    assert HANDMADE in table and "192.0.2.50:80" not in ipvs_boot.text("handmade_synced.out")


def test_migration_readiness_and_the_configmap_patch(ipvs_boot: harness.Boot) -> None:
    # Every nftables prerequisite is met; exit 1 is the drift of the files node prepare wrote for ipvs mode.
    assert ipvs_boot.rc("ready_nftables") == 1, ipvs_boot.show("ready_nftables")
    readiness = ipvs_boot.envelope("ready_nftables")["data"]["nftables"]
    assert [(item["id"], item["met"]) for item in readiness] == [
        ("nftables-kernel", True),
        ("nf_tables", True),
        ("nft", True),
    ]
    assert ipvs_boot.rc("patch_dry_run") == 0, ipvs_boot.show("patch_dry_run")
    assert ipvs_boot.rc("patch") == 0, ipvs_boot.show("patch")
    migrated = ipvs_boot.text("migrated.yaml")
    assert "mode: nftables" in migrated and "ipvs:" not in migrated and "strictARP" not in migrated, migrated
    # Everything else kube-proxy was started with carries over.
    assert "kubeconfig: /results/kube-proxy.conf" in migrated and "hostnameOverride: node0" in migrated


def test_cleanup_is_refused_while_kube_proxy_runs_in_ipvs_mode(ipvs_boot: harness.Boot) -> None:
    assert ipvs_boot.rc("cleanup_while_ipvs") == 3, ipvs_boot.show("cleanup_while_ipvs")
    assert "runs in ipvs mode" in ipvs_boot.text("cleanup_while_ipvs.out") + ipvs_boot.text("cleanup_while_ipvs.err")


def test_after_the_move_nftables_serves_and_nothing_of_ipvs_mode_is_left(
    ipvs_boot: harness.Boot, measured: Callable[[str], None]
) -> None:
    assert ipvs_boot.text("migrated.alive").strip() == "running", ipvs_boot.text("migrated.kube-proxy.log")[-3000:]
    assert ipvs_boot.text("migrated_proxy_mode.out") == "nftables"
    assert ipvs_boot.rc("cleanup") == 0, ipvs_boot.show("cleanup")
    report = ipvs_boot.envelope("cleanup")["data"]
    kinds: dict[str, int] = {}
    for item in report["removed"]:
        kinds[item["kind"]] = kinds.get(item["kind"], 0) + 1
    measured(
        f"ipvs cleanup after kube-proxy {RELEASE} moved to nftables removed {kinds}; kept "
        f"{[item['name'] for item in report['kept']]}"
    )
    assert [item["name"] for item in report["kept"] if item["kind"] == "virtual-server"] == ["TCP 203.0.113.50:80"]
    assert ipvs_boot.rc("disable") == 0, ipvs_boot.show("disable")
    assert ipvs_boot.rc("prepare_nftables") == 0, ipvs_boot.show("prepare_nftables")
    # The hand-made virtual server survives; nothing of kube-proxy's IPVS mode does.
    assert ipvsadm_table(ipvs_boot.text("after_ipvsadm.out")) == {HANDMADE}
    assert not [name for name in ipvs_boot.text("after_ipsets.out").split() if name.startswith("KUBE-")]
    assert ipvs_boot.rc("after_kube_ipvs0") != 0
    assert not re.findall(r"^:KUBE-\S+", ipvs_boot.text("after_iptables.out"), re.M)
    assert re.search(r"\b10\.96\.0\.100 \. tcp \. 80 : goto ", ipvs_boot.text("after_nft.out"))
    _assert_connections(ipvs_boot, "migrated")
    checks = _checks(ipvs_boot, "after_doctor")
    assert checks["proxy-mode"] == ("ok", "kube-proxy runs in nftables mode")
    assert {c: s for c, (s, _) in checks.items() if s not in ("ok", "skip")} == {}, checks


class TestTheOtherModes:
    """The boot of the other modes (modes_boot), a class of its own so that pytest-xdist's loadscope runs it on
    another worker than the ipvs boot's tests: each boot takes minutes under TCG."""

    def test_ipvs_mode_on_a_kernel_without_the_ipvs_modules(
        self, modes_boot: harness.Boot, measured: Callable[[str], None]
    ) -> None:
        """The negative case: nothing loaded the IPVS modules before kube-proxy started in IPVS mode.

        v1.37.2 does not fail and does not fall back: it tests IPVS by making a dummy virtual server, the kernel loads
        ip_vs and the scheduler's module (rr) on that request, and kube-proxy runs. The other schedulers' modules stay
        out, and nothing would load them at boot; doctor says so in one line, with the fix."""
        before, after = modes_boot.loaded("fresh"), modes_boot.loaded("bare")
        assert not {"ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh"} & before
        assert modes_boot.text("bare.alive").strip() == "running", modes_boot.text("bare.kube-proxy.log")[-3000:]
        assert modes_boot.text("bare_proxy_mode.out") == "ipvs"
        loaded = sorted(m for m in after - before if m.startswith(("ip_vs", "nf_")))
        measured(f"kube-proxy {RELEASE} in ipvs mode without the modules: runs; the kernel loaded {' '.join(loaded)}")
        assert {"ip_vs", "ip_vs_rr"} <= after and not {"ip_vs_wrr", "ip_vs_sh"} & after
        assert ("TCP", "10.96.0.100:80", "rr", f"{ENDPOINT}:8080", "Masq", 1) in ipvsadm_table(
            modes_boot.text("bare_ipvsadm.out")
        )
        checks = _checks(modes_boot, "bare_doctor")
        assert checks["modules"] == (
            "warn",
            "not loaded: ip_vs_wrr ip_vs_sh; kube-proxy runs in ipvs mode on what the kernel loaded on demand",
        )
        assert checks["persistence"][0] == "warn" and checks["proxy-mode"][0] == "ok"
        said = modes_boot.text("bare_cleanup.err")[-200:]
        measured(f"kube-proxy {RELEASE} --cleanup after ipvs mode: exit {modes_boot.rc('bare_cleanup')}, {said!r}")

    def test_iptables_mode_programs_the_services(self, modes_boot: harness.Boot) -> None:
        assert modes_boot.text("iptables.alive").strip() == "running", modes_boot.text("iptables.kube-proxy.log")[
            -3000:
        ]
        assert modes_boot.text("iptables_proxy_mode.out") == "iptables"
        rules = modes_boot.text("iptables_save.out")
        for address, port in (("10.96.0.100", 80), (EXTERNAL_IP, 80), (LB_IP, 80)):
            assert re.search(rf"-A KUBE-SERVICES -d {re.escape(address)}/32 -p tcp .*--dport {port} ", rules), address
        assert re.search(r"-A KUBE-NODEPORTS -p tcp .*--dport 30080 ", rules), rules
        _assert_connections(modes_boot, "iptables")
        checks = _checks(modes_boot, "iptables_doctor")
        assert checks["proxy-mode"] == ("ok", "kube-proxy runs in iptables mode")
        assert not [c for c, (status, _) in checks.items() if status == "fail"], checks

    def test_nftables_mode_programs_both_families(self, modes_boot: harness.Boot) -> None:
        assert modes_boot.rc("nftables_prepare") == 0, modes_boot.show("nftables_prepare")
        assert modes_boot.text("nftables.alive").strip() == "running", modes_boot.text("nftables.kube-proxy.log")[
            -3000:
        ]
        assert modes_boot.text("nftables_proxy_mode.out") == "nftables"
        ipv4 = modes_boot.text("nftables_ip.out")
        assert ipv4.startswith("table ip kube-proxy {")
        for address, port in (("10.96.0.100", 80), ("10.96.0.101", 80), (EXTERNAL_IP, 80), (LB_IP, 80)):
            assert re.search(rf"\b{re.escape(address)} \. tcp \. {port} : goto ", ipv4), address
        assert re.search(r"\b10\.96\.0\.101 \. udp \. 53 : goto ", ipv4)
        assert modes_boot.rc("nftables_ip6") == 0 and modes_boot.text("nftables_ip6.out").startswith(
            "table ip6 kube-proxy {"
        )
        _assert_connections(modes_boot, "nftables")
        checks = _checks(modes_boot, "nftables_doctor")
        assert checks["proxy-mode"] == ("ok", "kube-proxy runs in nftables mode")
        assert checks["nftables-kernel"][0] == "ok"
        # node prepare ran for nftables: everything passes or does not apply (no kubelet, no IPVS in this mode).
        assert {c: s for c, (s, _) in checks.items() if s not in ("ok", "skip")} == {}

    def test_kube_proxy_starting_in_nftables_mode_flushes_every_ipvs_virtual_server(
        self, modes_boot: harness.Boot
    ) -> None:
        """Where kube-proxy can run modprobe, its start in nftables mode runs IPVS mode's cleanup, which flushes
        all virtual servers, other programs' too (k/k cmd/kube-proxy/app/server_linux.go platformCleanup): the
        README warns."""
        assert modes_boot.rc("handmade") == 0, modes_boot.show("handmade")
        assert "192.0.2.50:80" not in modes_boot.text("nftables_ipvsadm.out")
        assert ipvsadm_table(modes_boot.text("nftables_ipvsadm.out")) == set()
