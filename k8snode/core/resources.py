"""Files shipped with k8snode, read through importlib.resources so they load from a wheel, a checkout or the pyz.

Templates are the top-level templates/ in a checkout and k8snode/templates in a wheel or the pyz.
"""

from __future__ import annotations

import sys
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

_CHECKOUT_TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"


def package_file(*parts: str) -> Traversable:
    """``k8snode/<parts...>`` wherever k8snode is loaded from (a directory or a zip archive)."""
    node = files("k8snode")
    for part in parts:
        node = node / part
    return node


def package_text(*parts: str) -> str:
    return package_file(*parts).read_text(encoding="utf-8")


@cache
def _templates() -> Traversable:
    shipped = package_file("templates")
    return shipped if shipped.is_dir() else _CHECKOUT_TEMPLATES


def template_text(name: str) -> str:
    """``templates/<name>``; ``name`` may name a subdirectory (``kubeadm/v1beta4.yaml.j2``)."""
    node = _templates()
    for part in name.split("/"):
        node = node / part
    return node.read_text(encoding="utf-8")
