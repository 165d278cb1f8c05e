"""What k8snode kubeadm-config writes, checked by the real `kubeadm config validate` of the target release."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fakes import make_node, write
from kubeadm_documents import V1BETA3
from where import GOLDEN

pytestmark = pytest.mark.truth
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures/kubeadm"
CONSOLE_SCRIPT = Path(sys.executable).parent / "k8snode"


def kubeadm_validate(kubeadm_dir: Path, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(kubeadm_dir / "kubeadm"), "config", "validate", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def node(tmp_path: Path) -> Path:
    """A node whose primary address is 192.0.2.10 (default route via eth0) and whose kernel is 6.1."""
    return make_node(tmp_path / "node")


# Each golden file and the kubeadm that validates it: the release it is rendered for (see GOLDEN_CASES).
GOLDEN_KUBEADM = {
    "kubeadm-config-v1beta4.yaml": "v1.37.2",
    "kubeadm-config-v1beta4-full.yaml": "v1.37.2",
    "kubeadm-config-v1beta3.yaml": "v1.30.14",
}
# kubeadm 1.10, the last to read v1alpha1, is not built (and `kubeadm config validate` came in 1.26): the newest
# kubeadm is asked instead, and it ignores the MasterConfiguration exactly as it ignores a kind it does not know.
IGNORED_BY_KUBEADM = {"kubeadm-config-v1alpha1.yaml"}


@pytest.mark.parametrize("golden", sorted(path.name for path in GOLDEN.glob("*.yaml")))
def test_the_real_kubeadm_is_asked_about_every_golden_file(truth_bin, tmp_path, golden):
    assert golden in GOLDEN_KUBEADM.keys() | IGNORED_BY_KUBEADM, f"say which kubeadm checks {golden}"
    if golden in GOLDEN_KUBEADM:
        done = kubeadm_validate(truth_bin(GOLDEN_KUBEADM[golden]), GOLDEN / golden)
        assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr
        return
    unknown = tmp_path / "unknown-kind.yaml"
    unknown.write_text("apiVersion: kubeadm.k8s.io/v1alpha1\nkind: NoSuchConfiguration\n")
    newest = truth_bin("v1.37.2")
    ignored, golden_run = kubeadm_validate(newest, unknown), kubeadm_validate(newest, GOLDEN / golden)
    assert (golden_run.returncode, golden_run.stdout, golden_run.stderr) == (
        ignored.returncode,
        ignored.stdout,
        ignored.stderr,
    )


def test_kubeadm_1_36_accepts_a_rendered_v1beta3_file(truth_bin, cli, node):
    run = cli(
        "kubeadm-config",
        "--kubernetes-version",
        "v1.36.3",
        "--api-version",
        "v1beta3",
        "--kubelet-config",
        "--pod-subnet",
        "10.244.0.0/16",
        "--exclude-cidr",
        "10.0.0.0/8",
        "--ipvs-tcp-timeout",
        "900s",
        "--out",
        "/init.yaml",
        "--root",
        str(node),
    )
    assert run.exit_code == 0, run.stderr
    done = kubeadm_validate(truth_bin("v1.36.3"), node / "init.yaml")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("version", ["v1.36.3", "v1.37.2"])
def test_kubeadm_accepts_its_own_init_defaults_patched(truth_bin, cli, node, version):
    write(node / "init-defaults.yaml", (FIXTURES / f"init-defaults-{version}.yaml").read_text())
    run = cli(
        "kubeadm-config",
        "--patch",
        "/init-defaults.yaml",
        "--pod-subnet",
        "10.244.0.0/16,fd00:10:244::/56",
        "--lb",
        "metallb",
        "--node-name",
        "cp-1",
        "--out",
        "/init.yaml",
        "--root",
        str(node),
    )
    assert run.exit_code == 0, run.stderr
    done = kubeadm_validate(truth_bin(version), node / "init.yaml")
    assert done.returncode == 0, done.stderr


def test_kubeadm_1_37_accepts_a_migrated_v1beta3_file(truth_bin, cli, node):
    write(node / "old.yaml", V1BETA3)
    run = cli("kubeadm-config", "--patch", "/old.yaml", "--migrate", "--out", "/init.yaml", "--root", str(node))
    assert run.exit_code == 0, run.stderr
    done = kubeadm_validate(truth_bin("v1.37.2"), node / "init.yaml")
    assert done.returncode == 0, done.stderr


def test_kubeadm_and_k8snode_both_reject_an_unknown_field(truth_bin, cli, node):
    text = (GOLDEN / "kubeadm-config-v1beta4.yaml").read_text().replace("  serviceSubnet:", "  serviceSubnett:")
    write(node / "bad.yaml", text)
    done = kubeadm_validate(truth_bin("v1.37.2"), node / "bad.yaml")
    assert done.returncode != 0 and 'unknown field "networking.serviceSubnett"' in done.stderr
    run = cli("validate", "/bad.yaml", "--root", str(node))
    assert run.exit_code == 1
    assert "ClusterConfiguration.networking.serviceSubnett: unknown field; did you mean serviceSubnet?" in run.stdout


def test_the_seed_flow_as_a_pipeline(truth_bin, truth_version, tmp_path):
    """kubeadm config print init-defaults | k8snode kubeadm-config --patch - --proxy-mode ipvs > init-config.yaml,
    accepted by the same release's kubeadm config validate."""
    kubeadm = truth_bin(truth_version) / "kubeadm"
    node = make_node(tmp_path / "node")
    config = tmp_path / "init-config.yaml"
    with subprocess.Popen([str(kubeadm), "config", "print", "init-defaults"], stdout=subprocess.PIPE) as defaults:
        with config.open("wb") as sink:
            patched = subprocess.run(
                [str(CONSOLE_SCRIPT), "kubeadm-config", "--patch", "-", "--proxy-mode", "ipvs", "--root", str(node)],
                stdin=defaults.stdout,
                stdout=sink,
                stderr=subprocess.PIPE,
                text=True,
                timeout=120,
            )
        assert defaults.stdout is not None
        defaults.stdout.close()
    assert (defaults.returncode, patched.returncode) == (0, 0), patched.stderr
    assert "mode: ipvs" in config.read_text()
    done = kubeadm_validate(truth_bin(truth_version), config)
    assert done.returncode == 0, done.stderr
