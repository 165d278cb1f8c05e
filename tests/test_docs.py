"""Every command and option explains itself, and the README names every command."""

from __future__ import annotations

from pathlib import Path

import typer.main

from k8snode.cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def commands() -> list[tuple[str, object]]:
    """(full name, click command) for every leaf command."""
    found = []

    def walk(prefix: str, command: object) -> None:
        children = getattr(command, "commands", None)
        if children:
            for name, child in children.items():
                walk(f"{prefix} {name}".strip(), child)
        else:
            found.append((prefix, command))

    walk("", typer.main.get_command(app))
    return found


def test_every_command_and_option_has_help():
    missing = []
    for name, command in commands():
        if not getattr(command, "help", None):
            missing.append(name)
        for param in command.params:  # type: ignore[attr-defined]
            if param.param_type_name == "option" and not param.help:
                missing.append(f"{name} {param.opts[0]}")
    assert commands() and missing == []


def test_readme_names_every_command():
    assert [name for name, _ in commands() if f"k8snode {name}" not in README] == []


def test_the_license_file_is_the_apache_2_0_text_pyproject_names():
    root = Path(__file__).resolve().parent.parent
    text = (root / "LICENSE").read_text()
    assert '\nlicense = "Apache-2.0"\n' in (root / "pyproject.toml").read_text()
    assert " ".join(text.split()[:4]) == "Apache License Version 2.0,"
    assert "END OF TERMS AND CONDITIONS" in text and len(text.splitlines()) == 202


def test_help_piped_shows_default_urls_in_full(k8snode):
    run = k8snode("doctor", "--help")
    assert run.exit_code == 0
    text = " ".join(run.stdout.split())
    for url in ("http://127.0.0.1:10248/healthz", "http://127.0.0.1:10256/healthz", "http://127.0.0.1:10249"):
        assert f"{url}]" in text
    assert "…" not in run.stdout


def test_docs_cli_md_is_what_the_generator_writes_from_the_app():
    import importlib.util

    root = Path(__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location("gen_cli_docs", root / "tools/gen_cli_docs.py")
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    current = (root / "docs/cli.md").read_text()
    assert current == generator.render(), "docs/cli.md is stale: run .venv/bin/python tools/gen_cli_docs.py"
    assert [line for line in current.splitlines() if line.startswith("## ")] == [
        f"## k8snode {name}".rstrip() for name in generator.command_names()
    ]


def test_shell_completion_is_offered_and_completes_commands_and_options(k8snode):
    shown = k8snode("--show-completion", "bash")
    assert shown.exit_code == 0
    assert "complete -o default -F _k8snode_completion k8snode" in shown.stdout
    env = {"PATH": "/usr/bin:/bin", "_K8SNODE_COMPLETE": "complete_bash"}
    command = k8snode(env={**env, "COMP_WORDS": "k8snode ip", "COMP_CWORD": "1"})
    assert (command.exit_code, command.stdout.split()) == (0, ["ipvs"])
    option = k8snode(env={**env, "COMP_WORDS": "k8snode kubeadm-config --proxy-m", "COMP_CWORD": "2"})
    assert (option.exit_code, option.stdout.split()) == (0, ["--proxy-mode"])
