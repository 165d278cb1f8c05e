"""The schemas k8snode ships are what tools/k8s-truth/gen_schemas.py writes from the builds of every release in
versions.txt: a change to schema.go (or a new release) without regenerating them fails here."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.truth

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "k8snode" / "core" / "schemas"
HAND_WRITTEN = {"kubeadm.k8s.io_v1alpha1_MasterConfiguration.json"}  # kubeadm v1.10 is not built


def test_the_shipped_schemas_are_the_generated_ones(truth_versions: list[str], truth_bin: Callable[[str], Path]):
    spec = importlib.util.spec_from_file_location("gen_schemas", REPO / "tools/k8s-truth/gen_schemas.py")
    assert spec is not None and spec.loader is not None
    gen_schemas = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_schemas)
    caches = {truth_bin(version).parent for version in truth_versions}
    assert len(caches) == 1
    generated = gen_schemas.generated(truth_versions, caches.pop())
    shipped = {path.name: path.read_text() for path in SCHEMAS.glob("*.json") if path.name not in HAND_WRITTEN}
    assert sorted(shipped) == sorted(generated), "run tools/k8s-truth/gen_schemas.py"
    stale = [name for name in generated if shipped[name] != generated[name]]
    assert stale == [], "run tools/k8s-truth/gen_schemas.py"
