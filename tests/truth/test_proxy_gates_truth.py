"""k8snode's NFTablesProxyMode facts (k8snode/proxy/modes.py) against the feature specs of each built release.

The specs are read from the Kubernetes source the truth build compiled (build.sh's Go module cache, GOMODCACHE):
pkg/features/kube_features.go, or versioned_kube_features.go where a release keeps the versioned specs apart.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from k8snode.core.releases import parse_release
from k8snode.proxy.modes import NFTABLES_ALPHA, NFTABLES_BETA, NFTABLES_GA, NFTABLES_GATE

pytestmark = pytest.mark.truth
SPEC = re.compile(
    r"(?:Version: version\.MustParse\(\"(\d+)\.(\d+)\"\), )?Default: (true|false), PreRelease: featuregate\.(\w+)"
)


def gate_specs(source: Path) -> list[tuple[tuple[int, int] | None, bool, str]]:
    """Every (since, default, stage) the release's feature files give NFTablesProxyMode."""
    found = []
    for path in sorted((source / "pkg/features").glob("*.go")):
        for block in re.findall(
            rf"^\t{NFTABLES_GATE}: \{{(.*?)^\t\}},?$|^\t{NFTABLES_GATE}: (\{{.+\}}),$", path.read_text(), re.M | re.S
        ):
            for match in SPEC.finditer("".join(block)):
                since = (int(match[1]), int(match[2])) if match[1] else None
                found.append((since, match[3] == "true", match[4]))
    return found


def test_the_nftables_gate_stages_match_the_release(truth_bin, truth_version):
    modules = Path(os.environ.get("GOMODCACHE", truth_bin(truth_version).parent / "go" / "mod"))  # as build.sh
    source = modules / "k8s.io" / f"kubernetes@{truth_version}"
    specs = gate_specs(source)
    assert specs, f"no {NFTABLES_GATE} spec in {source}/pkg/features"
    release = parse_release(truth_version).minor_version
    _since, default, stage = max(
        (spec for spec in specs if spec[0] is None or spec[0] <= release), key=lambda spec: spec[0] or (0, 0)
    )
    expected_stage = "GA" if release >= NFTABLES_GA else "Beta" if release >= NFTABLES_BETA else "Alpha"
    assert (stage, default) == (expected_stage, release >= NFTABLES_BETA)
    stages = {spec[2]: spec[0] for spec in specs if spec[0] is not None}
    for name, first in (("Alpha", NFTABLES_ALPHA), ("Beta", NFTABLES_BETA), ("GA", NFTABLES_GA)):
        assert stages.get(name, first) == first
