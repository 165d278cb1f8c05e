"""`k8snode doctor`'s runtime area on a CRI-O node (a fake root; crio on PATH), and its cgroup-version check."""

from __future__ import annotations

import pytest
from fakes import CRIO_VERSION, write

CONF = "etc/crio/crio.conf"
PAUSE = "registry.k8s.io/pause:3.10.2"
RUNTIME_CHECKS = [
    "runtime-version",
    "runtime-config",
    "runtime-schema",
    "runtime-cri-plugin",
    "runtime-cgroup-driver",
    "runtime-conmon-cgroup",
    "runtime-sandbox-image",
    "runtime-socket",
    "runtime-binary",
]
CLOSED = "http://127.0.0.1:9"  # discard: nothing listens, so the component checks skip


@pytest.fixture
def crio_node(host, monkeypatch):
    """A systemd Debian host with CRI-O 1.37.0 found by auto (crio on PATH, the only tool there) and crun installed."""
    root = host("debian")
    (root.path / "run/systemd/system").mkdir(parents=True)
    write(root.path / "usr/bin/crun", "#!/bin/sh\n", mode=0o755)
    said = CRIO_VERSION.replace("1.34.1", "1.37.0").replace("'", "")
    write(root.bin / "crio", f"#!/bin/sh\n[ \"$1\" = --version ] && printf '%s' '{said}'\n", mode=0o755)
    monkeypatch.setenv("PATH", str(root.bin))
    return root


def doctor(cli, root, *options):
    urls = ["--kubelet-healthz", CLOSED, "--kube-proxy-healthz", CLOSED, "--kube-proxy-metrics", CLOSED]
    run = cli("doctor", "--root", str(root.path), *urls, *options, "--json")
    return run, {c["id"]: c for c in run.envelope()["data"]["checks"]}


def area(checks, name="runtime"):
    return {check_id: check["status"] for check_id, check in checks.items() if check["area"] == name}


def test_a_crio_node_with_cgroupfs_and_an_old_pause_image_fails_the_driver_and_warns_on_the_image(cli, crio_node):
    write(crio_node.path / CONF, '[crio.runtime]\ncgroup_manager = "cgroupfs"\n[crio.image]\npause_image = "p:3.9"\n')
    run, checks = doctor(cli, crio_node)
    assert run.exit_code == 1
    assert area(checks) == {
        "runtime-version": "ok",
        "runtime-config": "ok",
        "runtime-schema": "skip",
        "runtime-cri-plugin": "skip",
        "runtime-cgroup-driver": "fail",
        "runtime-conmon-cgroup": "ok",
        "runtime-sandbox-image": "warn",
        "runtime-socket": "ok",
        "runtime-binary": "ok",
    }
    assert list(area(checks)) == RUNTIME_CHECKS
    driver = checks["runtime-cgroup-driver"]
    assert driver["detail"].startswith("crio: /etc/crio/crio.conf: [crio.runtime] cgroup_manager is cgroupfs")
    assert driver["hint"] == "run: k8snode node prepare"
    assert checks["runtime-schema"]["detail"] == "crio has no such setting"
    assert (checks["runtime-sandbox-image"]["preflight"], checks["runtime-version"]["preflight"]) == (
        "ImagePull",
        "ContainerRuntimeVersion",
    )


def test_after_node_prepare_the_runtime_area_passes(cli, crio_node):
    write(crio_node.path / CONF, '[crio.runtime]\ncgroup_manager = "cgroupfs"\nconmon_cgroup = "conmon"\n')
    assert cli("node", "prepare", "--root", str(crio_node.path)).exit_code == 0  # auto finds CRI-O too
    _, checks = doctor(cli, crio_node)
    assert set(area(checks).values()) == {"ok", "skip"}
    assert [c for c, s in area(checks).items() if s == "skip"] == ["runtime-schema", "runtime-cri-plugin"]


def test_a_socket_kubeadm_cannot_find_fails_the_cri_check(cli, crio_node):
    write(crio_node.path / CONF, f'[crio.api]\nlisten = "/run/other.sock"\n[crio.image]\npause_image = "{PAUSE}"\n')
    _, checks = doctor(cli, crio_node)
    socket = checks["runtime-socket"]
    assert (socket["status"], socket["preflight"]) == ("fail", "CRI")
    assert "set nodeRegistration.criSocket: unix:///run/other.sock" in socket["detail"]


def test_a_file_crio_cannot_read_fails_the_config_and_leaves_the_rest_unknown(cli, crio_node):
    write(crio_node.path / CONF, "[crio.runtime\n")
    _, checks = doctor(cli, crio_node)
    assert checks["runtime-config"]["status"] == "fail"
    assert checks["runtime-config"]["detail"].startswith("crio: /etc/crio/crio.conf is not TOML: ")
    assert checks["runtime-cgroup-driver"]["status"] == "warn"


def test_runtime_none_and_no_runtime_skip_the_area(cli, crio_node):
    _, checks = doctor(cli, crio_node, "--runtime", "none")
    assert set(area(checks).values()) == {"skip"}
    (crio_node.bin / "crio").unlink()
    _, checks = doctor(cli, crio_node)
    assert set(area(checks).values()) == {"skip"}
    assert checks["runtime-version"]["detail"].startswith("no container runtime found")


@pytest.mark.parametrize(
    ("controllers", "options", "status"),
    [(True, (), "ok"), (False, (), "fail"), (False, ("--kubernetes-version", "v1.34.3"), "warn")],
)
def test_cgroup_v1_fails_from_kubelet_1_35(cli, crio_node, controllers, options, status):
    """failCgroupV1 defaults to true from 1.35 (KEP-5573): cgroup v2 has cgroup.controllers at /sys/fs/cgroup."""
    cgroup = crio_node.path / "sys/fs/cgroup"
    (cgroup / "memory").mkdir(parents=True)
    if controllers:
        write(cgroup / "cgroup.controllers", "cpuset cpu io memory pids\n")
    _, checks = doctor(cli, crio_node, *options)
    check = checks["cgroup-version"]
    assert (check["area"], check["status"], check["preflight"]) == ("host", status, "SystemVerification")


def test_an_empty_cgroup_directory_is_no_hierarchy_not_cgroup_v1(cli, crio_node):
    """sysfs always has /sys/fs/cgroup; with nothing mounted on it (an initramfs, a container) there is no version to
    judge, as in the qemu guest of tests/vm."""
    (crio_node.path / "sys/fs/cgroup").mkdir(parents=True)
    _, checks = doctor(cli, crio_node)
    check = checks["cgroup-version"]
    assert (check["status"], check["detail"]) == ("skip", "no cgroup hierarchy is mounted at /sys/fs/cgroup")
