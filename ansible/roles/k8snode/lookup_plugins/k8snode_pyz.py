"""The k8snode_pyz lookup: the k8snode archives on the controller, by the interpreter each one is for.

``query('k8snode_pyz', PATH, ...)`` gives one mapping ``{"cp311": {"path", "name", "sha1", "version"}, ...}``:
each PATH is an archive or a directory of them (``*.pyz``). An archive says what it is in its zip comment, which
tools/build_pyz.py writes: ``{"python": "cp311", "version": "0.1.0"}``, "any" for the sources archive that any
Python 3.10 or later runs. Read on the controller, so the role needs no task for it.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleError
from ansible.plugins.lookup import LookupBase


def describe(path: Path) -> dict[str, str]:
    try:
        with zipfile.ZipFile(path) as archive:
            comment = json.loads(archive.comment or b"null")
    except (OSError, zipfile.BadZipFile, ValueError) as error:
        raise AnsibleError(f"k8snode_pyz: {path} is not a k8snode archive ({error})") from error
    if not isinstance(comment, dict) or not {"python", "version"} <= comment.keys():
        raise AnsibleError(f"k8snode_pyz: {path} is not a k8snode archive: tools/build_pyz.py builds them")
    digest = hashlib.sha1(path.read_bytes(), usedforsecurity=False).hexdigest()
    return {
        "python": str(comment["python"]),
        "path": str(path),
        "name": path.name,
        "sha1": digest,
        "version": str(comment["version"]),
    }


def archives(paths: list[str]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for given in paths:
        path = Path(given).expanduser()
        files = sorted(path.glob("*.pyz")) if path.is_dir() else [path]
        if not files:
            raise AnsibleError(f"k8snode_pyz: no *.pyz in {path}: tools/build_pyz.py --out-dir {path} writes them")
        for file in files:
            archive = describe(file)
            tag = archive.pop("python")
            if tag in found:
                raise AnsibleError(f"k8snode_pyz: {found[tag]['path']} and {file} are both for {tag}: give one")
            found[tag] = archive
    return found


class LookupModule(LookupBase):
    def run(self, terms: list[Any], variables: Any = None, **kwargs: Any) -> list[dict[str, dict[str, str]]]:
        return [archives([str(term) for term in terms])]
