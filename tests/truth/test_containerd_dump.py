"""The real containerd reads the config.toml files that k8snode edits and writes (issue 25, "Ground truth").

`containerd --config FILE config dump` loads FILE as the daemon does at start (version migration included) and
prints the configuration it would run with; it needs no root, state directory or socket, and writes nothing. Series
1.6 is Debian 12's package (config version 2), series 2.4 is built from its Go module (it reads versions 1 to 4 and
migrates each to 4). tools/k8s-truth/build-containerd.sh provides both.

The first tests pin what each series makes of hand-written inputs (tests/fixtures/containerd/, see its README.md),
the facts k8snode's containerd support relies on. The last ones run `k8snode node prepare --runtime containerd` on
a fake root holding each of those files, then have the real containerd of the matching series dump what k8snode
wrote: every value k8snode claims (its findings' ``wanted``) must be the one containerd runs with.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.truth

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "containerd"
SOCKET = "/run/containerd/containerd.sock"
# Disabling any of these takes the CRI service down: the CRI plugin by its id in a version 1 file, by its URI from
# version 2 on (cmd/containerd/server/config, v1MigratePluginName), and in 2.x the two plugins it requires
# (plugins/cri/cri.go). A version 2 or later file that names "cri" does not load at all.
CRI_NAMES = {"cri", "io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime", "io.containerd.cri.v1.images"}


@dataclass(frozen=True)
class Effective:
    """The settings k8snode cares about, as containerd resolved them."""

    version: int
    cri_enabled: bool
    systemd_cgroup: bool
    runc_type: str
    """The default runtime's runtime_type: 1.6 leaves it empty when a file sets only the runtime's options."""
    sandbox_image: str
    grpc_address: str
    disabled_plugins: tuple[str, ...]
    runc_binary: str = field(default="runc", compare=False)
    """The default runtime's BinaryName, "runc" (looked up on PATH) when empty."""


def dump(containerd: Path, config: Path, cwd: Path) -> tuple[dict[str, Any], str]:
    """`containerd --config CONFIG config dump`, parsed, and what it wrote on stderr."""
    import tomllib  # Python 3.11+; the truth tests run on CI's python3 only

    # containerd dumps its defaults, without a word, for a file that is not there
    assert config.is_file(), config
    done = subprocess.run(
        [str(containerd), "--config", str(config), "config", "dump"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={"PATH": os.environ["PATH"], "HOME": str(cwd)},
    )
    assert done.returncode == 0, done.stderr
    return tomllib.loads(done.stdout), done.stderr


def effective(dumped: dict[str, Any]) -> Effective:
    """Read a dump of either series: version 2 names (1.6) or version 4 ones (2.4: the CRI plugin split into
    io.containerd.cri.v1.runtime and io.containerd.cri.v1.images, the gRPC listener a server plugin)."""
    plugins = dumped.get("plugins", {})
    disabled = tuple(dumped["disabled_plugins"])
    if dumped["version"] >= 3:
        runtime = plugins["io.containerd.cri.v1.runtime"]["containerd"]
        sandbox = plugins["io.containerd.cri.v1.images"]["pinned_images"]["sandbox"]
    else:
        cri = plugins.get("io.containerd.grpc.v1.cri")
        runtime = cri["containerd"] if cri else {}
        sandbox = cri["sandbox_image"] if cri else ""
    runc = runtime.get("runtimes", {}).get(runtime.get("default_runtime_name", "runc"), {})
    server = plugins.get("io.containerd.server.v1.grpc", {})
    return Effective(
        version=dumped["version"],
        cri_enabled=not CRI_NAMES & set(disabled),
        systemd_cgroup=runc.get("options", {}).get("SystemdCgroup", False),
        runc_type=runc.get("runtime_type", ""),
        sandbox_image=sandbox,
        grpc_address=server.get("address") or dumped.get("grpc", {}).get("address", ""),
        disabled_plugins=disabled,
        runc_binary=runc.get("options", {}).get("BinaryName") or "runc",
    )


def read(containerd: Path, config: Path, cwd: Path) -> Effective:
    return effective(dump(containerd, config, cwd)[0])


# What each series makes of each hand-written file: (fixture, series) -> (effective settings, a word on stderr).
DEBIAN_PAUSE = "registry.k8s.io/pause:3.6"  # containerd 1.6's default sandbox_image
PAUSE_2_4 = "registry.k8s.io/pause:3.10.2"  # containerd 2.4's default pinned_images.sandbox
RUNC = "io.containerd.runc.v2"
EXPECTED = {
    ("v2.toml", "1.6"): (Effective(2, True, False, RUNC, "registry.k8s.io/pause:3.8", SOCKET, ()), ""),
    ("v2.toml", "2.4"): (
        Effective(4, True, False, RUNC, "registry.k8s.io/pause:3.8", SOCKET, ()),
        "Configuration migrated from version 2",
    ),
    # 1.6 knows none of the version 3 names and ignores them silently: the file changes nothing
    ("v3.toml", "1.6"): (Effective(2, True, False, RUNC, DEBIAN_PAUSE, SOCKET, ()), ""),
    ("v3.toml", "2.4"): (
        Effective(4, True, False, RUNC, "registry.k8s.io/pause:3.10", SOCKET, ()),
        "Configuration migrated from version 3",
    ),
    # no `version`: a version 1 file; the CRI plugin is off in both
    ("docker-containerd-io.toml", "1.6"): (
        Effective(2, False, False, "", "", SOCKET, ("cri",)),
        "containerd config version `1` has been deprecated",
    ),
    ("docker-containerd-io.toml", "2.4"): (
        Effective(4, False, False, RUNC, PAUSE_2_4, SOCKET, ("io.containerd.grpc.v1.cri",)),
        "Configuration migrated from version 0",  # containerd calls an unversioned file 0, and reads it as 1
    ),
    # what Debian 12's containerd package installs: only the CNI and opt directories, the rest defaults
    ("debian-12.toml", "1.6"): (Effective(2, True, False, RUNC, DEBIAN_PAUSE, SOCKET, ()), ""),
    ("debian-12.toml", "2.4"): (
        Effective(4, True, False, RUNC, PAUSE_2_4, SOCKET, ()),
        "Configuration migrated from version 2",
    ),
    ("operator.toml", "1.6"): (
        Effective(2, True, False, RUNC, "mirror.example.internal/k8s/pause:3.9", SOCKET, ()),
        "",
    ),
    ("operator.toml", "2.4"): (
        Effective(4, True, False, RUNC, "mirror.example.internal/k8s/pause:3.9", SOCKET, ()),
        "Configuration migrated from version 2",
    ),
}


@pytest.mark.parametrize(("fixture", "series"), sorted(EXPECTED))
def test_what_the_real_containerd_makes_of_each_file(
    containerd_bin: Callable[[str], Path], tmp_path: Path, fixture: str, series: str
) -> None:
    wanted, warning = EXPECTED[fixture, series]
    dumped, stderr = dump(containerd_bin(series), FIXTURES / fixture, tmp_path)
    assert effective(dumped) == wanted
    assert warning in stderr
    if not warning:
        assert stderr == ""


def test_debian_12s_file_is_read_and_its_cni_dir_migrated(
    containerd_bin: Callable[[str], Path], tmp_path: Path
) -> None:
    """The file is read (its CNI directory is not the default /opt/cni/bin); 2.4 turns the cni `bin_dir` that 2.4
    removed (RELEASES.md, deprecated config properties) into `bin_dirs`."""
    old, _ = dump(containerd_bin("1.6"), FIXTURES / "debian-12.toml", tmp_path)
    new, _ = dump(containerd_bin("2.4"), FIXTURES / "debian-12.toml", tmp_path)
    assert old["plugins"]["io.containerd.grpc.v1.cri"]["cni"]["bin_dir"] == "/usr/lib/cni"
    assert new["plugins"]["io.containerd.cri.v1.runtime"]["cni"]["bin_dirs"] == ["/usr/lib/cni"]
    assert "bin_dir" not in new["plugins"]["io.containerd.cri.v1.runtime"]["cni"]


@pytest.mark.parametrize(("version", "sandbox"), [(2, "old/pause:1"), (3, "old/pause:1"), (4, "new/pause:2")])
def test_2_4_lets_a_leftover_v2_sandbox_image_win_up_to_version_3(
    containerd_bin: Callable[[str], Path], tmp_path: Path, version: int, sandbox: str
) -> None:
    """The CRI images plugin's migration (plugins/cri/images/plugin.go) runs for every file below version 4 and
    overwrites pinned_images.sandbox with a `sandbox_image` under the version 2 name; SystemdCgroup under the version
    3 name wins instead (plugins/cri/runtime/plugin.go keeps what is there). Whoever sets the sandbox image in a v2
    or v3 file must change (or remove) a `sandbox_image` under io.containerd.grpc.v1.cri too."""
    config = tmp_path / "config.toml"
    config.write_text(
        f"version = {version}\n"
        '[plugins."io.containerd.grpc.v1.cri"]\nsandbox_image = "old/pause:1"\n'
        '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\nSystemdCgroup = false\n'
        '[plugins."io.containerd.cri.v1.images".pinned_images]\nsandbox = "new/pause:2"\n'
        '[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]\nSystemdCgroup = true\n'
    )
    seen = read(containerd_bin("2.4"), config, tmp_path)
    assert (seen.sandbox_image, seen.systemd_cgroup) == (sandbox, True)


def test_the_dump_writes_nothing(containerd_bin: Callable[[str], Path], tmp_path: Path) -> None:
    """Neither series creates its root or state directory, or anything else, to dump a configuration."""
    for series in ("1.6", "2.4"):
        work = tmp_path / series
        work.mkdir()
        config = work / "config.toml"
        config.write_text(f'version = 2\nroot = "{work}/root"\nstate = "{work}/state"\n')
        before = sorted(work.rglob("*"))
        dumped, _ = dump(containerd_bin(series), config, work)
        assert (dumped["root"], dumped["state"]) == (f"{work}/root", f"{work}/state")
        assert sorted(work.rglob("*")) == before


def test_the_2_4_dump_names_the_version_4_plugins(containerd_bin: Callable[[str], Path], tmp_path: Path) -> None:
    """A version 2 file read by 2.4: the CRI settings move to the version 3 plugin names, the [grpc] section to the
    version 4 server plugin, and nothing is left under the old names."""
    dumped, _ = dump(containerd_bin("2.4"), FIXTURES / "operator.toml", tmp_path)
    plugins = dumped["plugins"]
    assert "grpc" not in dumped or "address" not in dumped["grpc"]
    assert plugins["io.containerd.server.v1.grpc"]["address"] == SOCKET
    runtime = plugins["io.containerd.cri.v1.runtime"]
    assert runtime["containerd"]["runtimes"]["runc"]["options"]["BinaryName"] == "/usr/sbin/runc"
    assert runtime["containerd"]["runtimes"]["runsc"]["runtime_type"] == "io.containerd.runsc.v1"
    assert runtime["enable_unprivileged_ports"] is True
    assert plugins["io.containerd.cri.v1.images"]["registry"]["config_path"] == "/etc/containerd/certs.d"
    assert plugins["io.containerd.cri.v1.images"]["snapshotter"] == "overlayfs"
    assert plugins["com.example.v1.audit"] == {"endpoint": "unix:///run/audit.sock"}
    assert "sandbox_image" not in plugins.get("io.containerd.grpc.v1.cri", {})


@pytest.mark.parametrize("series", ["1.6", "2.4"])
def test_a_versioned_file_that_disables_cri_by_its_v1_name_does_not_load(
    containerd_bin: Callable[[str], Path], tmp_path: Path, series: str
) -> None:
    """Adding `version = 2` to Docker's file while "cri" is still disabled would stop containerd from starting."""
    config = tmp_path / "config.toml"
    config.write_text('version = 2\ndisabled_plugins = ["cri"]\n')
    done = subprocess.run(
        [str(containerd_bin(series)), "--config", str(config), "config", "dump"], capture_output=True, text=True
    )
    assert done.returncode == 1
    assert 'invalid disabled plugin URI "cri" expect io.containerd.x.vx' in done.stderr


def test_1_6_loses_the_runtime_type_of_a_runtime_given_only_its_options(
    containerd_bin: Callable[[str], Path], tmp_path: Path
) -> None:
    """1.6 replaces a runtime's whole entry with what the file gives; 2.4 keeps the defaults of the fields not given.
    A file that sets SystemdCgroup must also set runc's runtime_type for 1.6."""
    config = tmp_path / "config.toml"
    config.write_text(
        'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\nSystemdCgroup = true\n'
    )
    old, new = (read(containerd_bin(series), config, tmp_path) for series in ("1.6", "2.4"))
    assert (old.systemd_cgroup, old.runc_type) == (True, "")
    assert (new.systemd_cgroup, new.runc_type) == (True, RUNC)


# ---- k8snode node prepare, then the real containerd reads what it wrote ----

# Which series reads each starting point: a version 2 file is what 1.x reads and what 2.x still migrates; a version 3
# file only 2.x reads; the version 1 Docker file, Debian's own file and "no file at all" happen with both.
PREPARED = [
    ("v2.toml", "1.6"),
    ("v2.toml", "2.4"),
    ("v3.toml", "2.4"),
    ("docker-containerd-io.toml", "1.6"),
    ("docker-containerd-io.toml", "2.4"),
    ("debian-12.toml", "1.6"),
    ("debian-12.toml", "2.4"),
    ("operator.toml", "1.6"),
    ("operator.toml", "2.4"),
    (None, "1.6"),
    (None, "2.4"),
]
CONFIG = "etc/containerd/config.toml"


def runtime_plan(data: Any) -> dict[str, Any]:
    """The containerd plan (k8snode.runtime.model.RuntimePlan.as_dict) somewhere in a command's JSON data."""
    if isinstance(data, dict):
        if data.get("runtime") == "containerd" and "findings" in data:
            return data
        found = [plan for value in data.values() if (plan := runtime_plan(value))]
    elif isinstance(data, list):
        found = [plan for value in data if (plan := runtime_plan(value))]
    else:
        return {}
    return found[0] if found else {}


def claimed_against_dump(finding: dict[str, Any], seen: Effective, written: dict[str, Any]) -> tuple[Any, Any]:
    """(what k8snode claims, what containerd runs with) for one finding; fails on a finding this test cannot read."""
    wanted = finding["wanted"]
    match finding["id"]:
        case "cgroup_driver":
            return wanted, "systemd" if seen.systemd_cgroup else "cgroupfs"
        case "sandbox_image":
            return wanted, seen.sandbox_image
        case "cri_plugin":  # "enabled" (or true/on): the claim is that CRI runs
            return str(wanted).lower() in ("enabled", "true", "on"), seen.cri_enabled
        case "runtime_binary":  # the binary runc's shim runs: BinaryName, or runc on PATH
            return wanted, seen.runc_binary
        case "socket":
            return wanted.removeprefix("unix://"), seen.grpc_address
        case "schema":
            return str(wanted), str(written.get("version", 1))  # the file's own version; the dump shows 2.4's 4
        case other:
            pytest.fail(f"finding {other!r} claims {wanted!r}: teach this test where containerd's dump shows it")


@pytest.mark.parametrize(("fixture", "series"), PREPARED, ids=[f"{f or 'none'}-{s}" for f, s in PREPARED])
def test_the_real_containerd_runs_with_what_prepare_claims(
    cli: Callable[..., Any],
    host: Callable[..., Any],
    containerd_bin: Callable[[str], Path],
    tmp_path: Path,
    fixture: str | None,
    series: str,
) -> None:
    import tomllib

    containerd = containerd_bin(series)
    root = host("debian")
    # the real binary, where the host has it and first on PATH: `containerd --version` tells k8snode the series
    installed = root.path / "usr/bin/containerd"
    installed.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(containerd, installed)
    (root.bin / "containerd").symlink_to(installed)
    # and runc, which the CRI starts containers with (where operator.toml's BinaryName names it, on PATH too):
    # without it k8snode rightly reports a problem; the dump starts no container, so a stand-in does
    runc = root.path / "usr/sbin/runc"
    runc.parent.mkdir(parents=True, exist_ok=True)
    runc.write_text("#!/bin/sh\nexit 0\n")
    runc.chmod(0o755)
    (root.bin / "runc").symlink_to(runc)
    config = root.path / CONFIG
    if fixture is not None:
        config.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FIXTURES / fixture, config)
    before = config.read_bytes() if fixture else None

    run = cli("node", "prepare", "--root", str(root.path), "--runtime", "containerd", "--json")
    # containerd 1.6 is not one kubelet 1.37 supports (containerd RELEASES.md): that problem, and only that, is said
    old = ["containerd: containerd 1.6.20 is not among the versions for Kubernetes"] if series == "1.6" else []
    assert run.exit_code == (1 if old else 0), run.stdout + run.stderr
    problems = run.envelope()["data"]["problems"]
    assert [p[: len(o)] for p, o in zip(problems, old, strict=False)] == old and len(problems) == len(old), problems
    plan = runtime_plan(run.envelope()["data"])
    assert plan, run.stdout
    assert plan["restart_needed"] is True  # each starting point lacks a setting the kubelet needs

    written_text = config.read_text()
    written = tomllib.loads(written_text)
    seen = read(containerd, config, tmp_path)
    # what prepare stands for: the settings it fixed (drift) or found right (ok); a problem is left to the operator
    claims = {
        f["id"]: f
        for f in plan["findings"]
        if f["wanted"] is not None and f["status"] in ("ok", "drift") and f["id"] not in ("version", "config")
    }
    assert {"cgroup_driver", "cri_plugin"} <= set(claims), plan["findings"]
    # the sandbox image is checked, and wanted as a pause image (the operator's mirror may stay: its host, not its tag)
    sandbox = next(f for f in plan["findings"] if f["id"] == "sandbox_image")
    assert sandbox["wanted"].rpartition("/")[2].startswith("pause:"), sandbox
    for finding in claims.values():
        claimed, dumped = claimed_against_dump(finding, seen, written)
        assert dumped == claimed, (
            f"{finding['id']}: k8snode claims {claimed!r}, containerd {series} runs with {dumped!r}"
        )
    # whatever the findings say: the CRI plugin on, systemd's cgroups, and a runc that 1.6 can start
    assert (seen.cri_enabled, seen.systemd_cgroup, seen.runc_type) == (True, True, RUNC)

    if before is not None:
        # the operator's comments are all still there
        comments = [line.strip() for line in before.decode().splitlines() if line.strip().startswith("#")]
        assert all(comment in written_text for comment in comments)

    # and `node check` agrees with what it prepared
    check = cli("node", "check", "--root", str(root.path), "--runtime", "containerd", "--json")
    statuses = {f["id"]: f["status"] for f in runtime_plan(check.envelope()["data"])["findings"]}
    assert all(statuses[name] == "ok" for name in claims), statuses
