"""playbooks/proxy-mode-migrate.yml through the real ansible-playbook on local sandbox hosts.

Each host is a fake root (tests/fakes.py) in the IPVS state kube-proxy leaves (tests/fake_netfilter.py's tools on
its PATH, with the state of tests/ipvs_node.py), a fake nft that answers --version as Debian 12's, and its
own kube-proxy metrics endpoint that answers /proxyMode from a file. kubectl is a script that records its
arguments (and what it reads on stdin), answers `get configmap kube-proxy -o yaml` with the ConfigMap kubeadm
v1.37.2 writes (tests/fixtures/kubeadm) and, for `delete pod --field-selector=spec.nodeName=NODE`, makes that
node's kube-proxy answer nftables, as the restarted pod on the patched ConfigMap would. The real sequence runs in
the VM with the real kube-proxy (the lead's test).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fake_netfilter import save_state
from fakes import add_netfilter_tools, write
from fleet import CONSOLE_SCRIPT, PLAYBOOKS, make_fleet, run_playbook, write_inventory
from ipvs_node import ipvs_node_state
from where import FIXTURES

pytestmark = pytest.mark.ansible

FIXTURE = FIXTURES / "configmap-kube-proxy-v1.37.2.yaml"
GROUPS = {"deb12": ("deb12-6.1", 2)}
OWNED_IPVS_CONF = (
    "# Written by k8snode 0.1.0 (k8snode ipvs enable). Remove with: k8snode ipvs disable\nip_vs\nip_vs_rr\n"
)
FAKE_KUBECTL = """#!{python}
import json, pathlib, sys
base = pathlib.Path({base!r})
args = sys.argv[1:]
stdin = sys.stdin.read() if args[-2:] == ["-f", "-"] else ""
with (base / "kubectl.calls").open("a") as log:
    log.write(json.dumps({{"args": args, "stdin": stdin}}) + "\\n")
stored = base / "configmap.yaml"
if "get" in args:
    sys.stdout.write(stored.read_text())
elif "replace" in args:
    stored.write_text(stdin)
    print("configmap/kube-proxy replaced")
elif "delete" in args:
    node = next(a for a in args if a.startswith("--field-selector=")).rsplit("=", 1)[1]
    (base / "roots" / node / "fake/proxy-mode").write_text("nftables")
    print('pod "kube-proxy-x" deleted')
"""


class ProxyMode(BaseHTTPRequestHandler):
    """kube-proxy's /proxyMode: the content of the host's fake/proxy-mode file."""

    source: Path

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = self.source.read_text().encode() if self.path == "/proxyMode" else b"not found"
        self.send_response(200 if self.path == "/proxyMode" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Cluster:
    def __init__(self, base: Path, kernels: dict[str, tuple[str, int]]) -> None:
        self.base = base
        self.hosts = make_fleet(base / "roots", kernels)
        self.servers: list[ThreadingHTTPServer] = []
        python = os.path.realpath(sys.executable)
        write(base / "kubectl", FAKE_KUBECTL.format(python=python, base=str(base)), mode=0o755)
        write(base / "configmap.yaml", FIXTURE.read_text().split("\n", 1)[1])
        for host in self.hosts:
            root = host.root.path
            add_netfilter_tools(root)
            write(host.root.bin / "nft", '#!/bin/sh\necho "nftables v1.0.6 (Lester Gooch #5)"\n', 0o755)
            save_state(root, ipvs_node_state())
            write(root / "etc/modules-load.d/ipvs.conf", OWNED_IPVS_CONF)
            write(root / "fake/proxy-mode", "ipvs")
            handler = type("Handler", (ProxyMode,), {"source": root / "fake/proxy-mode"})
            server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)
            host.vars.update(
                k8snode_install="none",
                k8snode_bin=str(CONSOLE_SCRIPT),
                k8snode_kube_proxy_metrics=f"http://127.0.0.1:{server.server_address[1]}",
                k8snode_kubectl=str(base / "kubectl"),
                k8snode_migrate_python=python,
                k8snode_migrate_attempts=5,
            )
        self.inventory = write_inventory(base / "inventory.json", self.hosts, {}, control_plane=[self.hosts[0].name])

    def run(self, *args: str):
        return run_playbook(PLAYBOOKS / "proxy-mode-migrate.yml", self.inventory, *args, workdir=self.base)

    def kubectl_calls(self) -> list[dict]:
        path = self.base / "kubectl.calls"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def netfilter(self, index: int) -> dict:
        return json.loads((self.hosts[index].root.path / "fake/netfilter.json").read_text())

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    made = Cluster(tmp_path_factory.mktemp("migrate"), GROUPS)
    yield made
    made.close()


@pytest.fixture(scope="module")
def check_run(cluster):
    before = [cluster.netfilter(i) for i in range(len(cluster.hosts))]
    run = cluster.run("--check", "--diff")
    return run, before


@pytest.fixture(scope="module")
def first_run(cluster, check_run):
    return cluster.run()


@pytest.fixture(scope="module")
def second_run(cluster, first_run):
    return cluster.run()


def test_check_mode_reads_and_changes_nothing(cluster, check_run) -> None:
    run, before = check_run
    assert run.returncode == 0, run.stdout + run.stderr
    assert [cluster.netfilter(i) for i in range(len(cluster.hosts))] == before
    assert [call["args"][-6:] for call in cluster.kubectl_calls()] == [
        ["-n", "kube-system", "get", "configmap", "kube-proxy", "-o", "yaml"][-6:]
    ]
    assert "-mode: ipvs" in run.stdout and "+mode: nftables" in run.stdout  # the ConfigMap's diff, with --diff
    for host in cluster.hosts:
        assert (host.root.path / "etc/modules-load.d/ipvs.conf").exists()


def test_the_first_run_patches_once_and_moves_each_node(cluster, check_run, first_run) -> None:
    assert first_run.returncode == 0, first_run.stdout + first_run.stderr
    calls = cluster.kubectl_calls()[1:]  # after the check run's get
    verbs = [next(word for word in call["args"] if word in ("get", "replace", "delete")) for call in calls]
    assert verbs == ["get", "replace", "delete", "delete"]
    replaced = calls[1]["stdin"]
    assert "    mode: nftables\n" in replaced and "strictARP" not in replaced
    assert calls[1]["args"][:1] == ["--kubeconfig=/etc/kubernetes/admin.conf"]
    nodes = [a.rsplit("=", 1)[1] for call in calls[2:] for a in call["args"] if a.startswith("--field-selector")]
    assert nodes == [host.name for host in cluster.hosts]  # serial: one node after the other
    for index, host in enumerate(cluster.hosts):
        state = cluster.netfilter(index)
        left = [(s["protocol"], s["address"], s["port"]) for s in state["virtual_servers"]]
        assert left == [("TCP", "192.168.50.100", 80), ("FWM", "16", None)]
        assert state["links"] == {} and list(state["ipsets"]) == ["KUBE-SRC-KUBEROUTER"]
        assert not (host.root.path / "etc/modules-load.d/ipvs.conf").exists()
        # node prepare --proxy-mode nftables: nf_tables, not the IPVS set, is what loads at boot now.
        persisted = (host.root.path / "etc/modules-load.d/k8snode.conf").read_text().split()
        assert "nf_tables" in persisted and "ip_vs" not in persisted
    recap = first_run.recap()
    assert all(row["failed"] == 0 for row in recap.values())


def test_a_second_run_changes_nothing(cluster, second_run) -> None:
    assert second_run.returncode == 0, second_run.stdout + second_run.stderr
    assert {host: row["changed"] for host, row in second_run.recap().items()} == {h.name: 0 for h in cluster.hosts}
    verbs = [next(w for w in c["args"] if w in ("get", "replace", "delete")) for c in cluster.kubectl_calls()]
    assert verbs[-1] == "get" and verbs.count("replace") == 1 and verbs.count("delete") == 2


def test_a_node_that_is_not_ready_stops_the_migration_before_anything_changes(tmp_path) -> None:
    cluster = Cluster(tmp_path, {"deb12": ("deb12-6.1", 1), "el8": ("el8.3-4.18", 1)})
    try:
        before = [cluster.netfilter(i) for i in range(2)]
        run = cluster.run()
    finally:
        cluster.close()
    assert run.returncode != 0
    assert "fatal: [el8-1]" in run.stdout
    assert '"msg": "not ready for nftables mode: kernel 4.18.0-240.el8.x86_64 is older than 5.13"' in run.stdout
    assert run.recap()["el8-1"]["failed"] == 1
    assert cluster.kubectl_calls() == []
    assert [cluster.netfilter(i) for i in range(2)] == before
