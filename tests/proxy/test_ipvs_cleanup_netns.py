"""`k8snode ipvs cleanup` with the real iptables, ipset and ip, in a network namespace of its own.

The rules and sets are those of tests/ipvs_node.py (kube-proxy's IPVS proxier's), loaded with the real
iptables-restore and ipset into a fresh namespace (`unshare -n`), so nothing on the machine running the test is
touched. This checks the fakes' formats against the real tools: iptables-save's quoting, the restore transaction
(-D by the saved rule text, -F, -X), `ipset save` and `ipset destroy` after the rules that used the sets are gone,
and `ip -d -o link`. Virtual servers need ip_vs, which the VM test (tests/vm) and the lead's kube-proxy VM cover.
Needs root, unshare, iptables and ipset; without them the test skips (K8SNODE_REQUIRE_ROOT=1 makes it fail).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ipvs_node import ipvs_node_state, restore_input
from required import unavailable

from k8snode.proxy.ipvs_cleanup import DUMMY_DEVICE

CONSOLE_SCRIPT = Path(sys.executable).parent / "k8snode"
DRIVER = """
import json, subprocess, sys
def run(*argv, stdin=None):
    return subprocess.run(argv, input=stdin, capture_output=True, text=True)
setup = json.loads(sys.argv[1])
run("ip", "link", "set", "lo", "up")
dummy = run("ip", "link", "add", setup["dummy"], "type", "dummy").returncode == 0
if dummy:
    for address in setup["addresses"]:
        run("ip", "addr", "add", address, "dev", setup["dummy"])
for name, (kind, members) in setup["ipsets"].items():
    extra = ["range", "0-65535"] if kind == "bitmap:port" else []
    made = run("ipset", "create", name, kind, *extra)
    assert made.returncode == 0, made.stderr
    for member in members:
        assert run("ipset", "add", name, member).returncode == 0
loaded = run("iptables-restore", "--noflush", stdin=setup["rules"])
assert loaded.returncode == 0, loaded.stderr
cleanup = run(setup["k8snode"], "ipvs", "cleanup", "--kube-proxy-metrics", "http://127.0.0.1:9", "--json")
print(json.dumps({
    "dummy": dummy,
    "envelope": json.loads(cleanup.stdout),
    "iptables": run("iptables-save").stdout,
    "ipsets": run("ipset", "list", "-n").stdout.split(),
    "links": run("ip", "-o", "link", "show").stdout,
}))
"""


def in_namespace(tmp_path: Path) -> dict:
    if os.geteuid() != 0:
        unavailable("K8SNODE_REQUIRE_ROOT", "a network namespace of its own needs root")
    missing = [
        tool for tool in ("unshare", "iptables-restore", "iptables-save", "ipset", "ip") if not shutil.which(tool)
    ]
    if missing:
        unavailable("K8SNODE_REQUIRE_ROOT", f"not on PATH: {' '.join(missing)} (apt-get install iptables ipset)")
    state = ipvs_node_state()
    setup = {
        "dummy": DUMMY_DEVICE,
        "addresses": state["links"][DUMMY_DEVICE]["addresses"],
        "ipsets": {name: (spec["type"], spec["members"]) for name, spec in state["ipsets"].items()},
        "rules": restore_input(),
        "k8snode": str(CONSOLE_SCRIPT),
    }
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    done = subprocess.run(
        ["unshare", "-n", sys.executable, str(driver), json.dumps(setup)], capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0 and "unshare" in done.stderr and "Operation not permitted" in done.stderr:
        unavailable("K8SNODE_REQUIRE_ROOT", f"unshare -n failed: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    result: dict = json.loads(done.stdout)
    return result


def test_cleanup_with_the_real_tools_removes_kube_proxys_rules_chains_and_sets_only(tmp_path) -> None:
    found = in_namespace(tmp_path)
    envelope = found["envelope"]
    assert envelope["ok"] is True, envelope
    removed = {(item["kind"], item["name"]) for item in envelope["data"]["removed"]}
    assert (
        "iptables-rule",
        '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    ) in removed
    assert ("iptables-chain", "KUBE-IPVS-FILTER") in removed and ("ipset", "KUBE-IPVS-IPS") in removed
    saved = found["iptables"]
    assert "KUBE-SERVICES" not in saved and "KUBE-IPVS-FILTER" not in saved and "KUBE-MARK-MASQ" not in saved
    assert "-A INPUT -j KUBE-FIREWALL" in saved and "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT" in saved
    assert ":KUBE-KUBELET-CANARY - [0:0]" in saved
    assert found["ipsets"] == ["KUBE-SRC-KUBEROUTER"]
    if found["dummy"]:  # a kernel with CONFIG_DUMMY (not every build machine's has it)
        assert ("interface", DUMMY_DEVICE) in removed
        assert DUMMY_DEVICE not in found["links"]
