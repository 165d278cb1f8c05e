"""A bootstrap token spelled with YAML escapes is still the token kubeadm reads: it is redacted by its parsed value,
in every diff, whatever the text looks like."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import make_node
from where import FIXTURES

INIT_DEFAULTS = (FIXTURES / "init-defaults-v1.37.2.yaml").read_text()
SECRET = "zxcvbnmasdfghjkl"
SPELLINGS = {
    "escaped dot": r'"qwerty\x2ezxcvbnmasdfghjkl"',
    "unicode escapes": r'"qwerty\u002e\x7axcvbnmasdfghjkl"',
    "escaped line break": '"qwerty.zxcvbnm\\\n    asdfghjkl"',
    "folded double-quoted": '"qwerty.\\\n    zxcvbnmasdfghjkl"',
}


@pytest.fixture
def node(tmp_path: Path) -> Path:
    return make_node(tmp_path / "node")


@pytest.mark.parametrize("spelled", list(SPELLINGS.values()), ids=list(SPELLINGS))
def test_an_escaped_token_is_redacted_in_the_dry_run_diff(cli, node, spelled):
    assert "token: abcdef.0123456789abcdef\n" in INIT_DEFAULTS
    (node / "etc/kubernetes").mkdir(parents=True, exist_ok=True)
    (node / "etc/kubernetes/init.yaml").write_text(INIT_DEFAULTS.replace("abcdef.0123456789abcdef", spelled))
    valid = cli("validate", "/etc/kubernetes/init.yaml", "--root", str(node))
    assert valid.exit_code == 0, valid.stdout + valid.stderr  # kubeadm reads it as the token qwerty.zxcv...
    for json_output in ([], ["--json"]):
        run = cli(
            "kubeadm-config", "--patch", "/etc/kubernetes/init.yaml", "--out", "/etc/kubernetes/init.yaml",
            "--proxy-mode", "nftables", "--dry-run", "--force", "--root", str(node), *json_output,
        )  # fmt: skip
        assert run.exit_code == 0, run.stderr
        shown = run.stdout + run.stderr
        assert "+++ b/etc/kubernetes/init.yaml" in shown
        for part in (SECRET, "zxcvbnm", "asdfghjkl"):
            assert part not in shown, (json_output, shown)
