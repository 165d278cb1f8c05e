"""The one Kubernetes version parser and the one kernel version parser (k8snode/core/versions.py)."""

from __future__ import annotations

import pytest
from fakes import make_node
from where import REPO

from k8snode.core.versions import kernel_version, parse_kubernetes_version


@pytest.mark.parametrize(
    "ordered",
    [
        ["v1.37.1", "v1.37.2-alpha.1", "v1.37.2-alpha.2", "v1.37.2-beta.0", "v1.37.2-rc.0", "v1.37.2", "v1.37.10"],
        ["v1.9.0", "v1.10.0-rc.1", "v1.10.0"],
        ["1.2.3-alpha", "1.2.3-alpha.1", "1.2.3-alpha.beta", "1.2.3-beta.2", "1.2.3-beta.11", "1.2.3-rc.1", "1.2.3"],
    ],
)
def test_versions_order_with_pre_releases_before_their_release(ordered):
    parsed = [parse_kubernetes_version(text) for text in ordered]
    assert None not in parsed
    assert sorted(parsed) == parsed  # type: ignore[type-var]
    assert len(set(parsed)) == len(parsed)


@pytest.mark.parametrize(
    ("text", "parts"),
    [("v1.37.2", (1, 37, 2, ())), ("1.37", (1, 37, 0, ())), ("v1.37.2-rc.0+abc.1", (1, 37, 2, ("rc", "0")))],
)
def test_what_a_version_is_made_of(text, parts):
    version = parse_kubernetes_version(text)
    assert version is not None
    assert (version.major, version.minor, version.patch, version.pre) == parts
    assert str(version) == (text if text.startswith("v") else f"v{text}")
    assert parse_kubernetes_version("v1.37.2+build") == parse_kubernetes_version("v1.37.2")


@pytest.mark.parametrize(
    "text",
    ["v1.37.02", "v01.37.2", "v1.37.2-rc.01", "v1.٣٧.2", "v1.37.2\n", " v1.37.2", "v1", "1.37.2.1", "v1.37.2-", ""],
)
def test_what_is_not_a_kubernetes_version(text):
    assert parse_kubernetes_version(text) is None


@pytest.mark.parametrize(
    ("release", "version"),
    [("6.1.0-28-amd64", (6, 1)), ("5.13", (5, 13)), ("4.18.0-240.el8.x86_64", (4, 18)), ("6", None), ("", None)],
)
def test_kernel_versions(release, version):
    assert kernel_version(release) == version


@pytest.mark.parametrize("version", ["v1.37.2-rc.0", "v1.37.1", "v1.37.2+build.5"])
def test_a_pre_release_of_the_newest_release_is_not_newer_than_it(cli, tmp_path, version):
    """v1.37.2-rc.0 warned "newer than the newest release"; versions are compared parsed."""
    node = make_node(tmp_path / "node")
    run = cli("kubeadm-config", "--kubernetes-version", version, "--proxy-mode", "nftables", "--root", str(node))
    assert run.exit_code == 0, run.stderr
    assert "newer than" not in run.stderr


def test_a_leading_zero_is_bad_input_not_a_newer_release(cli, tmp_path):
    node = make_node(tmp_path / "node")
    run = cli("kubeadm-config", "--kubernetes-version", "v1.37.02", "--root", str(node))
    assert (run.exit_code, run.stderr) == (
        2,
        "k8snode: error: --kubernetes-version 'v1.37.02' is not a Kubernetes version; use the form v1.37.2\n",
    )
    newer = cli(
        "kubeadm-config", "--kubernetes-version", "v1.37.3-rc.0", "--proxy-mode", "nftables", "--root", str(node)
    )
    assert newer.exit_code == 0 and "newer than the newest release k8snode knows (v1.37.2)" in newer.stderr


def test_the_newest_release_is_written_in_one_place_of_the_code():
    """Data files cite the release they were generated from; the code names it once, in core/versions.py."""
    package = REPO / "k8snode"
    homes = [path.relative_to(package).as_posix() for path in package.rglob("*.py") if "1.37.2" in path.read_text()]
    assert homes == ["core/versions.py"]
