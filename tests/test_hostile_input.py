"""Generated junk for every option of every command: success, or exit 2 with one line and nothing changed.

Never a traceback, never exit 1 or 3 because of bad input. Each command is run on a fake root where its valid
input succeeds, so any exit other than 0 or 2 is a defect.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from fakes import make_root
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from k8snode.cli import app

JUNK = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from(list(";|&$`'\"\\\n\r\t\x00*?<>(){}[]~!#% -=:,./")), max_size=30),
    st.text(min_size=2000, max_size=5000),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["-1", "-5s", "99999999999999999999h", "1e400", "NaN", "", " ", "..", "/", "--json", "-"]),
    st.builds(lambda n: f"{n}h", st.integers(min_value=10**6, max_value=10**25)),
)

# command -> (argv prefix, the options that take a value)
COMMANDS = {
    "ipvs check": (["ipvs", "check"], ["--scheduler", "--root"]),
    "ipvs enable": (["ipvs", "enable", "--dry-run"], ["--scheduler", "--persist", "--root"]),
    "ipvs disable": (["ipvs", "disable", "--dry-run"], ["--root"]),
}

CASES = 150


@pytest.fixture(scope="module")
def ready_root():
    """A root whose modules are loaded and files current, so valid input exits 0 for every command."""
    with tempfile.TemporaryDirectory() as scratch:
        root = make_root(Path(scratch) / "root", "deb12-6.1")
        for name in ["ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh", "nf_conntrack"]:
            with (root.path / "proc/modules").open("a") as modules:
                modules.write(f"{name} 16384 0 - Live 0x0\n")
        yield root


@pytest.mark.parametrize("command", list(COMMANDS))
@settings(max_examples=CASES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_junk_in_any_option_is_success_or_one_line_exit_2(ready_root, command, data):
    prefix, options = COMMANDS[command]
    option = data.draw(st.sampled_from(options), label="option")
    value = data.draw(JUNK, label="value")
    assume(option != "--root" or not _is_this_machine(value))  # "/" is valid input: this host's real kernel
    argv = [*prefix, *([] if option == "--root" else ["--root", str(ready_root.path)]), option, value]
    before = ready_root.snapshot()
    result = CliRunner().invoke(app, argv, catch_exceptions=False)
    assert result.exit_code in (0, 2), (argv, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    if result.exit_code == 2:
        assert result.stderr.startswith("k8snode: error: ")
        assert result.stderr.count("\n") == 1
    assert ready_root.snapshot() == before


def _is_this_machine(root: str) -> bool:
    return "\0" not in root and root.strip() != "" and Path(root).resolve() == Path("/")
