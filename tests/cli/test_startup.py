"""The start-up budget cannot silently regress: heavy libraries stay out of the CLI's import path."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("jinja2", "ruamel", "pydantic", "rich", "plumbum")


def imported_modules(code: list[str], env: dict[str, str] | None = None) -> set[str]:
    done = subprocess.run([sys.executable, "-X", "importtime", *code], capture_output=True, text=True, env=env)
    assert done.returncode in (0, 1), done.stderr[-2000:]  # a crash would import less and pass
    return {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


def imported(code: list[str], env: dict[str, str] | None = None) -> set[str]:
    return {name.split(".")[0] for name in imported_modules(code, env)}


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


def test_node_check_json_runs_without_heavy_libraries(fake_root):
    """node check, the other command every host runs (issue 28's start-up goals: 1.5x the Typer floor)."""
    root = fake_root("deb12-6.1")
    names = imported(["-m", "k8snode", "node", "check", "--json", "--root", str(root.path)], env=root.env())
    assert "k8snode" in names
    assert names & set(HEAVY) == set()


def test_node_check_loads_a_runtime_reader_only_where_that_runtime_is(fake_root):
    """A host without containerd or CRI-O pays for neither reader (tomlkit, hashlib), nor for the YAML loader
    when there is no kubelet configuration to read; a containerd host loads containerd's reader alone."""
    root = fake_root("deb12-6.1")
    argv = ["-m", "k8snode", "node", "check", "--json", "--root", str(root.path)]
    names = imported_modules(argv, env=root.env())
    assert "k8snode.prepare.node" in names
    assert {"k8snode.runtime.containerd", "k8snode.runtime.crio", "k8snode.core.yamldoc", "tomlkit"} & names == set()
    socket = root.path / "run/containerd/containerd.sock"
    socket.parent.mkdir(parents=True)
    socket.touch()
    names = imported_modules(argv, env=root.env())
    assert {"k8snode.runtime.containerd", "tomlkit"} <= names
    assert "k8snode.runtime.crio" not in names


def test_ipvs_check_loads_only_its_own_command_module_and_builds_only_check(fake_root):
    """sys.modules when the command has run (importtime does not log importlib.import_module's own module), and
    each Typer app that typer.main.get_command turned into a click command, with the commands registered on it:
    Typer builds each command of a group from its function when it is looked up, so `ipvs check` builds check alone.
    """
    root = fake_root("deb12-6.1")
    code = (
        "import atexit, json, sys, typer.main; built = []; build = typer.main.get_command; "
        "typer.main.get_command = lambda app: built.append([c.name for c in app.registered_commands]) or build(app); "
        "atexit.register(lambda: print(json.dumps([sorted(sys.modules), built]), file=sys.stderr)); "
        f"sys.argv = ['k8snode', 'ipvs', 'check', '--json', '--root', {str(root.path)!r}]; "
        "from k8snode.cli import main; main()"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=root.env())
    assert done.returncode == 1, done.stderr  # a fresh root: drift
    names, built = json.loads(done.stderr.splitlines()[-1])
    assert {name for name in names if name.startswith("k8snode.commands.")} == {
        "k8snode.commands.common",
        "k8snode.commands.ipvs",
    }
    assert not {name for name in names if name.startswith(("k8snode.kubeadm", "k8snode.kubelet", "k8snode.health."))}
    # The root and the ipvs group (their commands are looked up, not registered on them), then check alone.
    assert built == [[], [], ["check"]]


def test_a_mistyped_subcommand_is_still_suggested_from_every_name_of_its_group(cli):
    run = cli("ipvs", "chek")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == "k8snode: error: No such command 'chek'. Did you mean 'check'?\n"
    run = cli("ipvz", "check")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == "k8snode: error: No such command 'ipvz'. Did you mean 'ipvs'?\n"
