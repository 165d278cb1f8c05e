"""Files shipped with k8snode: templates (top-level templates/ in a checkout, k8snode/templates in a wheel)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # k8snode/


@cache
def templates_dir() -> Path:
    installed = _PACKAGE / "templates"
    return installed if installed.is_dir() else _PACKAGE.parent / "templates"


def template_text(name: str) -> str:
    return (templates_dir() / name).read_text(encoding="utf-8")
