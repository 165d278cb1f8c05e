"""The k8snode_name_version filter: ``name==version`` of an entry in pip's JSON (``pip list``, ``--report``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any


def name_version(entry: Mapping[str, Any]) -> str:
    """``{"name": "Ruamel_Yaml", "version": "0.19.1"}`` gives ``ruamel-yaml==0.19.1`` (PEP 503 normalized name)."""
    return f"{re.sub(r'[-_.]+', '-', str(entry['name'])).lower()}=={entry['version']}"


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"k8snode_name_version": name_version}
