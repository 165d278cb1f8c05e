"""Every command and option explains itself, and the README names every command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clitree import leaves

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


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
