"""The start-up budget cannot silently regress: heavy libraries stay out of the CLI's import path."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("jinja2", "ruamel", "pydantic", "rich", "plumbum")


def imported(code: list[str], env: dict[str, str] | None = None) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *code], capture_output=True, text=True, env=env, check=True
    )
    names = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    return {name.split(".")[0] for name in names}


def test_importing_the_cli_does_not_import_heavy_libraries():
    # http: the probe stack (http.client, ssl) loads only when probe or doctor runs.
    assert imported(["-c", "import k8snode.cli"]) & {*HEAVY, "http", "ssl"} == set()


def test_ipvs_check_json_runs_without_heavy_libraries(fake_root, cli):
    root = fake_root("deb12-6.1")
    # A node that is ready, so that `ipvs check` exits 0 and the import trace is of a complete run.
    assert cli("ipvs", "enable", "--root", str(root.path)).exit_code == 0
    names = imported(["-m", "k8snode", "ipvs", "check", "--json", "--root", str(root.path)], env=root.env())
    assert "k8snode" in names
    assert names & set(HEAVY) == set()
