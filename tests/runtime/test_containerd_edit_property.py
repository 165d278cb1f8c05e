"""The edit of config.toml as a property: whatever the file sets, prepare's content sets exactly what is wanted,
keeps what k8snode does not own, and a second edit changes nothing (containerd.assess over a real file). The
driver wanted is the kubelet's with containerd 1.x, the host's with 2.x (support.runtime_driver)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import tomlkit
from hypothesis import given, settings
from hypothesis import strategies as st

from k8snode.core.system import System
from k8snode.core.versions import parse_kubernetes_version
from k8snode.runtime import containerd
from k8snode.runtime.model import Wanted

RELEASE = parse_kubernetes_version("v1.37.2")
PAUSE = "registry.k8s.io/pause:3.10.2"
FOREIGN = "io.containerd.snapshotter.v1.zfs"


@st.composite
def configs(draw) -> tuple[int, str]:
    version = draw(st.sampled_from([1, 2, 3, 4]))
    schema = containerd.SCHEMAS[version]
    lines = ["# an operator's file"]
    if version > 1:
        lines.append(f"version = {version}")
    disabled = draw(st.lists(st.sampled_from([*sorted(schema.disabling), FOREIGN]), unique=True))
    if disabled or draw(st.booleans()):
        lines.append("disabled_plugins = [" + ", ".join(f'"{d}"' for d in disabled) + "]  # kept")
    runtime = ".".join(f'"{k}"' if "." in k else k for k in schema.runtime)
    images = ".".join(f'"{k}"' if "." in k else k for k in schema.images)
    lines.append('\n[plugins."io.vendor.v1.thing"]\n  keep = "me"  # untouched')
    sandbox = draw(st.sampled_from([None, "registry.k8s.io/pause:3.6", PAUSE]))
    if version == 3 and draw(st.booleans()):  # a leftover of version 2, which 2.3 and later let win
        lines.append('\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "old/pause:1"  # leftover')
    if sandbox is not None:
        *table, key = schema.sandbox
        lines.append(f"\n[{'.'.join([images, *table])}]\n  {key} = '{sandbox}'  # pinned")
    systemd = draw(st.sampled_from([None, True, False]))
    if draw(st.booleans()):
        lines.append(f'\n[{runtime}.containerd.runtimes.runc]\n  runtime_type = "io.containerd.runc.v2"')
    if systemd is not None:
        lines.append(f"\n[{runtime}.containerd.runtimes.runc.options]\n  SystemdCgroup = {str(systemd).lower()}")
    return version, "\n".join(lines) + "\n"


def planned(root: Path, text: bytes, driver: str, series: str) -> bytes:
    (root / "etc/containerd/config.toml").write_bytes(text)
    wanted = Wanted(RELEASE, driver, "test", PAUSE)
    plan = containerd.assess(System(root), wanted, version=series, command="k8snode node prepare")
    [config] = [f for f in plan.files if str(f.path) == "/etc/containerd/config.toml"]
    assert config.wanted is not None
    return config.wanted


@settings(max_examples=30, deadline=None)
@given(configs(), st.sampled_from(["systemd", "cgroupfs"]), st.sampled_from(["1.7.27", "2.4.2"]), st.booleans())
def test_the_edit_sets_what_is_wanted_keeps_the_rest_and_is_idempotent(config, driver, series, systemd_host):
    version, text = config
    if version > 2:
        series = "2.4.2"  # 1.x ignores a version 3 file: a problem, no edit
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "etc/containerd").mkdir(parents=True)
        if systemd_host:
            (root / "usr/lib/systemd").mkdir(parents=True)
            (root / "usr/lib/systemd/systemd").write_bytes(b"")
        edited = planned(root, text.encode(), driver, series)
        again = planned(root, edited, driver, series)
    assert again == edited
    if series.startswith("2."):
        driver = "systemd" if systemd_host else "cgroupfs"
    document = tomlkit.parse(edited.decode())
    settings_ = containerd.read_settings(document, containerd.SCHEMAS[3])
    assert settings_.schema.version == version
    assert not set(settings_.disabled) & containerd.SCHEMAS[version].disabling
    assert (FOREIGN in settings_.disabled) == (FOREIGN in text)
    assert bool(settings_.systemd_cgroup) == (driver == "systemd")
    assert settings_.sandbox == PAUSE and settings_.leftover_sandbox in (None, PAUSE)
    if settings_.systemd_cgroup is not None and version < 3:  # 1.6 runs a runc table without it with none
        assert settings_.runtime_type == "io.containerd.runc.v2"
    assert document.unwrap()["plugins"]["io.vendor.v1.thing"] == {"keep": "me"}
    assert "# an operator's file" in edited.decode() and "# untouched" in edited.decode()
