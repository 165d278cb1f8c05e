"""Files shipped with k8snode, read so that they load from a wheel, a checkout or the pyz.

Templates are the top-level templates/ in a checkout and k8snode/templates in a wheel or the pyz.

A file is read through the loader that imported k8snode (``get_data``: a file on disk, or an entry of the pyz).
importlib.resources is kept for listing a directory (the pyz has no other way) and is imported only then: it
imports zipfile and tempfile, about a tenth of `ipvs check`'s start-up (bench/startup.py).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

import k8snode

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

_CHECKOUT_TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"


class _DataLoader(Protocol):
    def get_data(self, path: str) -> bytes: ...


def package_file(*parts: str) -> Traversable:
    """``k8snode/<parts...>`` wherever k8snode is loaded from (a directory or a zip archive)."""
    from importlib.resources import files

    node = files("k8snode")
    for part in parts:
        node = node / part
    return node


def package_text(*parts: str) -> str:
    """The text of ``k8snode/<parts...>``; OSError when it is not there."""
    loader = cast(_DataLoader, k8snode.__spec__.loader)  # a SourceFileLoader or a zipimporter: both have get_data
    return loader.get_data(str(Path(k8snode.__file__).parent.joinpath(*parts))).decode("utf-8")


def template_text(name: str) -> str:
    """``templates/<name>``; ``name`` may name a subdirectory, with "/" between the parts."""
    try:
        return package_text("templates", *name.split("/"))
    except OSError:  # a checkout: templates/ is beside the package, not in it
        return (_CHECKOUT_TEMPLATES / name).read_text(encoding="utf-8")
