"""What is running: k8snode's version, the interpreter, and whether it runs from the single-file k8snode.pyz."""

from __future__ import annotations

import sys
import zipimport

import k8snode
from k8snode.core.result import Result


def pyz() -> str | None:
    """The path of the k8snode.pyz that k8snode is imported from (zipimport: tools/build_pyz.py), else None."""
    loader = getattr(k8snode.__spec__, "loader", None)
    return loader.archive if isinstance(loader, zipimport.zipimporter) else None


def about() -> Result:
    """`k8snode --version`: ``pyz`` is the archive's path when k8snode is imported from one, else null."""
    archive = pyz()
    data = {
        "version": k8snode.__version__,
        "python": ".".join(str(part) for part in sys.version_info[:3]),
        "interpreter": sys.executable,
        "from_pyz": archive is not None,
        "pyz": archive,
    }
    return Result("version", data=data, summary=f"k8snode {k8snode.__version__}")
