"""ansible-lint (production profile, offline) and yamllint pass on ansible/, with no global skips."""

from __future__ import annotations

import subprocess

import pytest
import yaml
from fleet import ANSIBLE_DIR, VENV_BIN, ansible_env

pytestmark = pytest.mark.ansible


def test_ansible_lint_passes_with_the_production_profile(tmp_path):
    config = yaml.safe_load((ANSIBLE_DIR / ".ansible-lint").read_text())
    assert config["profile"] == "production"
    assert not {"skip_list", "warn_list", "exclude_paths"} & set(config)
    run = subprocess.run(
        [str(VENV_BIN / "ansible-lint"), "--offline", "--profile", "production"],
        cwd=ANSIBLE_DIR,
        capture_output=True,
        text=True,
        env=ansible_env(tmp_path),
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Profile 'production' was required, and it passed." in run.stderr


def test_yamllint_passes():
    run = subprocess.run(
        [str(VENV_BIN / "yamllint"), "--strict", "."], cwd=ANSIBLE_DIR, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout + run.stderr
