"""Where the tests find the repository and its test data, whichever folder a test file sits in."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
GOLDEN = TESTS / "golden"
FIXTURES = TESTS / "fixtures" / "kubeadm"
CONTAINERD_FIXTURES = TESTS / "fixtures" / "containerd"
