"""Every command and option explains itself, and the README names every command."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer
from clitree import command as cli_command
from clitree import leaves
from conftest import CONSOLE_SCRIPT, Run
from fakes import add_network, add_node_state
from where import REPO

REPO_ROOT = REPO
README = (REPO_ROOT / "README.md").read_text()


def commands() -> list[tuple[str, Any]]:
    return leaves()


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
    root = REPO
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


def load_generator() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_cli_docs", REPO_ROOT / "tools/gen_cli_docs.py")
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    return generator


def test_each_command_page_is_what_the_generator_writes_from_the_app():
    generator = load_generator()
    pages = generator.render()
    for page, text in pages.items():
        assert page.read_text() == text, f"{page} is stale: run .venv/bin/python tools/gen_cli_docs.py"
    top = [name for name in generator.command_names() if name and " " not in name]
    assert sorted(pages) == sorted(
        [REPO_ROOT / "docs/cli.md", *(REPO_ROOT / f"docs/commands/{name}.md" for name in top)]
    )
    assert set(Path(REPO_ROOT / "docs/commands").iterdir()) <= set(pages)  # no page of a command that is gone
    for name in top:  # the README links each page
        assert f"(docs/commands/{name}.md)" in README


@pytest.mark.heavy
def test_the_pages_show_what_help_prints_through_the_console_script():
    """The same words and the same wrapping as `k8snode ... --help` on a pipe (click wraps at 78 columns)."""
    generator = load_generator()
    differ = []
    for name in generator.command_names():
        done = subprocess.run(
            [str(CONSOLE_SCRIPT), *name.split(), "--help"],
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", "COLUMNS": "80"},
        )
        assert done.returncode == 0, done.stderr
        if generator.section(name, done.stdout) not in generator.page_of(name).read_text():
            differ.append(name)
    assert differ == []


def test_shell_completion_is_offered_and_completes_commands_and_options(k8snode):
    # Typer names the shell it finds among the caller's parent processes; bash runs the command (the trailing
    # `exit` keeps bash from exec'ing it away), so the answer does not depend on what started pytest.
    done = subprocess.run(
        ["bash", "-c", '"$0" --show-completion; exit $?', str(CONSOLE_SCRIPT)], capture_output=True, text=True
    )
    shown = Run(done.returncode, done.stdout, done.stderr)
    assert shown.exit_code == 0, shown.stderr
    assert "complete -o default -F _k8snode_completion k8snode" in shown.stdout
    env = {"PATH": "/usr/bin:/bin", "_K8SNODE_COMPLETE": "complete_bash"}
    command = k8snode(env={**env, "COMP_WORDS": "k8snode ip", "COMP_CWORD": "1"})
    assert (command.exit_code, command.stdout.split()) == (0, ["ipvs"])
    option = k8snode(env={**env, "COMP_WORDS": "k8snode kubeadm-config --proxy-m", "COMP_CWORD": "2"})
    assert (option.exit_code, option.stdout.split()) == (0, ["--proxy-mode"])


DOCS = [
    REPO_ROOT / "README.md",
    REPO_ROOT / "ansible/roles/k8snode/README.md",
    *sorted((REPO_ROOT / "docs").glob("**/*.md")),
]
INLINE_EXAMPLE = re.compile(r"`(k8snode [^`]+)`")
FENCED_EXAMPLE = re.compile(r"(?:^|&& )\.venv/bin/(k8snode [^&\n]+)", re.M)
HELP_EXAMPLE = re.compile(r"^ +(k8snode .+)$", re.M)  # the Examples of a command's --help (an epilog)
PLACEHOLDER = re.compile(r"\[|\.\.\.|<|\\\||\b[A-Z][A-Z:_]*\b")
NOT_RUN = {"--install-completion"}  # it edits the user's shell start-up file


def doc_examples() -> list[tuple[str, str]]:
    """(document, command line) for every k8snode command a document shows, inline or in a shell block; of a
    command page, only its own text (the --help below its marker is checked by test_help_examples_*)."""
    found = []
    for doc in DOCS:
        text = doc.read_text().split(load_generator().MARKER, 1)[0]
        for pattern in (INLINE_EXAMPLE, FENCED_EXAMPLE):
            found += [(doc.name, match.strip().replace("\\|", "|")) for match in pattern.findall(text)]
    return found


def help_examples() -> list[tuple[str, str]]:
    """(command, command line) for every example in the --help of a command or a group (its epilog)."""
    return [
        (f"k8snode {name}".strip(), line)
        for name in load_generator().command_names()
        for line in HELP_EXAMPLE.findall(cli_command(name).epilog or "")
    ]


def resolve(words: list[str]) -> tuple[object, list[str]]:
    """The click command the words name, and every --option word given to it."""
    command: Any = cli_command("")
    rest = list(words[1:])
    while rest and hasattr(command, "list_commands") and rest[0] in command.list_commands(typer.Context(command)):
        command = command.get_command(typer.Context(command), rest.pop(0))
    return command, re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", " ".join(rest))


def test_help_examples_are_shown_for_every_command():
    named = {line.split()[1] for _, line in help_examples()}
    assert named == {name.split()[0] for name, _ in commands()}


def test_every_option_a_document_or_a_help_names_in_a_k8snode_example_exists():
    unknown = []
    for doc, line in doc_examples() + help_examples():
        if line.startswith("k8snode ... "):  # any command
            continue
        for part in line.split(" | "):
            command, options = resolve(part.split())
            known = {opt for param in command.params for opt in [*param.opts, *param.secondary_opts]}  # type: ignore[attr-defined]
            known.add("--help")  # click adds it to every command
            unknown += [f"{doc}: {line}: {option}" for option in options if option not in known]
    assert doc_examples() and unknown == []


def test_every_concrete_k8snode_example_in_the_docs_runs(cli, fake_root):
    root = fake_root("deb12-6.1")
    add_network(root.path, "192.0.2.10")
    add_node_state(root.path)  # a booted node's /proc, for `node prepare`
    ran = []
    for doc, line in doc_examples():
        if PLACEHOLDER.search(line.replace("k8snode ", "")) or NOT_RUN & set(line.split()):
            continue
        stdin = None
        for part in line.split(" | "):
            words = part.split()[1:]
            command, _ = resolve(part.split())
            if any(param.required for param in command.params if param.param_type_name == "argument"):  # type: ignore[attr-defined]
                break  # the command's name in a sentence ("`k8snode validate`"), not an example
            if "--root" in {opt for param in command.params for opt in param.opts}:  # type: ignore[attr-defined]
                words += ["--root", str(root.path)]
            run = cli(*words, stdin=stdin)
            assert run.exit_code in (0, 1), f"{doc}: {line}: exit {run.exit_code}: {run.stderr}"
            stdin = run.stdout
        else:
            ran.append(line)
    assert "k8snode kubeadm-config --print-defaults | k8snode kubeadm-config --patch -" in ran
    assert "k8snode ipvs check" in ran


def test_the_roles_option_examples_are_real_kubelet_flags_options(cli):
    text = (REPO_ROOT / "ansible/roles/k8snode/README.md").read_text()
    examples = re.findall(r"`k8snode_kubelet_flags_options` \| `\{\}` \| [^|]*`(\{[^`]+\})`", text)
    assert examples
    for example in examples:
        words = [f"--{name}={value}" for name, value in json.loads(example).items()]
        run = cli("kubelet-flags", *words)
        assert run.exit_code == 0, f"{example}: {run.stderr}"


def test_every_relative_link_in_the_docs_leads_to_a_file():
    broken = []
    for doc in DOCS:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", doc.read_text()):
            if not (doc.parent / target).exists():
                broken.append(f"{doc.relative_to(REPO_ROOT)}: {target}")
    assert broken == []
