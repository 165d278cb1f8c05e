"""The role's host probe: what the install step needs to know about a host, in one Python start.

files/k8snode_probe.sh finds the interpreter and runs this file's source with it, only on Python 3.10 or later.
Arguments: that interpreter's path as found on PATH, k8snode_dir, k8snode_link ("" for none), the archives this
run can install as JSON ``{"cp311": {"name": "k8snode-cp311.pyz", "sha1": "...", ...}, "any": {...}}`` ("" or {}
for none) and k8snode_bin. Prints one JSON object:

- ``python``: the interpreter's path, as given; ``tag``: its tag, as the archives name it (cp311);
- ``archive``: the key of the archive for this interpreter: its own tag (cp311) when there is one, else "any" (the
  sources archive) when there is one, else "";
- ``installed``: what k8snode_dir holds, as ``{"pyz": "sha1:mode", "wrapper": "sha1:mode", "link": target}``
  for k8snode_dir/<that archive's name>, k8snode_dir/bin/k8snode and the link ("" for a missing file or link);
- ``version``: the installed k8snode's version ("" for none), from its ``--version --json`` or its older
  ``k8snode X.Y.Z`` line; asked only when the installed archive is not the one this run installs.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path


def file_state(path: Path) -> str:
    """``sha1:mode`` (mode in octal, permission bits only) of the file, or "" when it cannot be read."""
    try:
        digest = hashlib.sha1(path.read_bytes(), usedforsecurity=False).hexdigest()
        return f"{digest}:{path.stat().st_mode & 0o7777:o}"
    except OSError:
        return ""


def link_target(link: str) -> str:
    return str(Path(link).readlink()) if link and Path(link).is_symlink() else ""


def installed_version(k8snode: str) -> str:
    """The version the k8snode at ``k8snode`` reports, or "" when there is none or it says nothing usable."""
    if not Path(k8snode).is_file() or not os.access(k8snode, os.X_OK):
        return ""
    try:
        done = subprocess.run([k8snode, "--version", "--json"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return ""
    text = done.stdout.strip()
    if text.startswith("{"):
        try:
            return str(json.loads(text)["data"]["version"])
        except (ValueError, KeyError, TypeError):
            return ""
    return text.removeprefix("k8snode ") if text.startswith("k8snode ") else ""


def probe(python: str, k8snode_dir: str, link: str, archives: str, k8snode: str) -> dict[str, object]:
    offered = json.loads(archives or "{}")
    tag = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    archive = tag if tag in offered else "any" if "any" in offered else ""
    wanted = offered.get(archive, {})
    installed = {
        "pyz": file_state(Path(k8snode_dir, wanted["name"])) if wanted else "",
        "wrapper": file_state(Path(k8snode_dir, "bin", "k8snode")),
        "link": link_target(link),
    }
    current = bool(wanted) and installed["pyz"].startswith(wanted["sha1"] + ":")
    version = "" if current else installed_version(k8snode)
    return {"python": python, "tag": tag, "archive": archive, "installed": installed, "version": version}


def main(argv: list[str]) -> int:
    if len(argv) != 5:
        print("usage: k8snode_probe.py PYTHON K8SNODE_DIR LINK ARCHIVES_JSON K8SNODE_BIN", file=sys.stderr)
        return 2
    print(json.dumps(probe(*argv), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
