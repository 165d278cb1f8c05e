"""Build k8snode.pyz: one reproducible file that runs k8snode on Python 3.10 to 3.13 with no index and no network.

Run: .venv/bin/python tools/build_pyz.py [--out dist/k8snode.pyz]

A plain zipapp (PEP 441): k8snode from this checkout (templates under k8snode/templates, as in the wheel) and the
pure-Python files of its runtime dependencies, copied from the distributions installed in the running environment
(so the build needs no index either: the versions are the ones this environment was tested with). C accelerators
(markupsafe's _speedups, any other extension module) are left out; the libraries fall back to their pure-Python code.
Python imports it straight from the archive (zipimport): nothing is extracted and nothing is written at run time.

zipimport cannot cache byte code, so an archive of sources alone compiles every module it imports on every start
(about 3x the wheel's start-up). The archive therefore also holds, for each interpreter given with --python (by
default python3.10 to python3.13 from PATH and pyenv), a tree pyc/cpXY/ of the same files compiled by that
interpreter; __main__.py puts the tree of the running interpreter first on sys.path, and any other interpreter
>= 3.10 runs from the sources at the archive's root.

Same inputs, same bytes: entries are sorted, every timestamp is 1980-01-01 and every mode 0644.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from importlib.metadata import Distribution, distribution
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parent.parent
SHEBANG = b"#!/usr/bin/env python3\n"
EPOCH = (1980, 1, 1, 0, 0, 0)
# Not copied: installed byte code (the pyc/ trees are compiled below), C extensions, installer records, scripts.
SKIP = re.compile(
    r"(^|/)__pycache__/|\.(pyc|so|pyd|dylib)$|^\.\./|\.dist-info/(RECORD|INSTALLER|REQUESTED|direct_url\.json)$"
)
MAIN = """\
import sys

if sys.version_info < (3, 10):
    sys.exit(f"k8snode needs Python 3.10 or later; {sys.executable} is {sys.version.split()[0]}")

import zipimport

_compiled = f"{sys.path[0]}/pyc/cp{sys.version_info[0]}{sys.version_info[1]}"
try:
    zipimport.zipimporter(_compiled)
except zipimport.ZipImportError:
    pass  # no byte code for this interpreter in the archive: it compiles the sources at the root
else:
    sys.path.insert(0, _compiled)

from k8snode.cli import main

main()
"""


def requirement_names(dist: Distribution) -> Iterator[str]:
    """The names of ``dist``'s runtime requirements: extras are not followed, other markers are kept (a superset,
    so that the archive serves every interpreter from 3.10 up, whatever interpreter builds it)."""
    for line in dist.requires or ():
        requirement, _, marker = line.partition(";")
        if "extra" in marker:
            continue
        name = re.match(r"[A-Za-z0-9._-]+", requirement.strip())
        if name and not (marker and "platform_system" in marker and "Windows" in marker):
            yield name.group(0)


def closure(root: str) -> list[Distribution]:
    seen: dict[str, Distribution] = {}
    pending = list(requirement_names(distribution(root)))
    while pending:
        name = re.sub(r"[-_.]+", "-", pending.pop()).lower()
        if name in seen:
            continue
        dist = distribution(name)
        seen[name] = dist
        pending.extend(requirement_names(dist))
    return [seen[name] for name in sorted(seen)]


def entries() -> dict[str, bytes]:
    """Archive path -> content."""
    files: dict[str, bytes] = {"__main__.py": MAIN.encode()}
    for path in sorted((REPO / "k8snode").rglob("*")):
        relative = path.relative_to(REPO).as_posix()
        if path.is_file() and not SKIP.search(relative):
            files[relative] = path.read_bytes()
    for path in sorted((REPO / "templates").rglob("*")):
        if path.is_file():
            files[f"k8snode/{path.relative_to(REPO).as_posix()}"] = path.read_bytes()
    for dist in closure("k8snode"):
        for file in dist.files or ():
            relative = PurePosixPath(file).as_posix()
            if SKIP.search(relative):
                continue
            if relative.endswith(".pth"):
                raise SystemExit(f"{dist.metadata['Name']} installs a .pth file ({relative}); a zipapp cannot run it")
            files[relative] = Path(str(dist.locate_file(file))).read_bytes()
    return files


# rich needs these only for syntax highlighting, tracebacks and Markdown, which k8snode does not print: sources only
# (they would be three quarters of the byte code), compiled on the rare run that imports them.
SOURCES_ONLY = ("pygments/", "markdown_it/", "mdurl/")

# Run by each interpreter: compile every .py under argv[1] in place into a sourceless .pyc (the layout zipimport reads),
# unchecked-hash so that the bytes do not depend on file times; print that interpreter's tag.
COMPILE = """
import os, py_compile, sys
top = sys.argv[1]
for folder, _, names in os.walk(top):
    for name in names:
        if name.endswith(".py"):
            source = os.path.join(folder, name)
            py_compile.compile(source, source + "c", os.path.relpath(source, top), doraise=True,
                               invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
            os.remove(source)
print(f"cp{sys.version_info[0]}{sys.version_info[1]}")
"""


def default_interpreters() -> list[str]:
    """python3.10 to python3.13: from PATH (not through pyenv's shims), else the newest pyenv build of each."""
    found = []
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for minor in ("3.10", "3.11", "3.12", "3.13"):
        on_path = shutil.which(f"python{minor}")
        on_path = None if on_path is None or "/shims/" in on_path else on_path
        builds = sorted(pyenv.glob(f"{minor}.*/bin/python"), key=lambda p: [int(x) for x in p.parts[-3].split(".")])
        if on_path or builds:
            found.append(on_path or str(builds[-1]))
    return found


def compiled(files: dict[str, bytes], python: str) -> dict[str, bytes]:
    """``files`` compiled by ``python``, under pyc/cpXY/: .py become .pyc, other files are copied."""
    with tempfile.TemporaryDirectory(prefix="k8snode-pyz-") as scratch:
        top = Path(scratch)
        for name, content in files.items():
            if name != "__main__.py" and not name.startswith(SOURCES_ONLY) and ".dist-info/" not in name:
                (top / name).parent.mkdir(parents=True, exist_ok=True)
                (top / name).write_bytes(content)
        # A fixed hash seed: the order of a frozenset constant (`x in {"a", "b"}`) follows the string hashes.
        environment = {"PATH": os.environ.get("PATH", ""), "PYTHONHASHSEED": "0"}
        tag = subprocess.run(
            [python, "-s", "-c", COMPILE, scratch], check=True, capture_output=True, text=True, env=environment
        ).stdout.strip()
        return {
            f"pyc/{tag}/{path.relative_to(top).as_posix()}": path.read_bytes()
            for path in sorted(top.rglob("*"))
            if path.is_file()
        }


def build(out: Path, interpreters: list[str]) -> Path:
    buffer = io.BytesIO()
    buffer.write(SHEBANG)
    sources = entries()
    files = dict(sources)
    for python in interpreters:
        files.update(compiled(sources, python))
    # zipimport finds a namespace package (ruamel/, no __init__.py) only through its directory entry.
    directories = {str(parent) + "/" for name in files for parent in PurePosixPath(name).parents if str(parent) != "."}
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(files.keys() | directories):
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            info.create_system = 3  # Unix, whatever system builds it
            if name in directories:
                info.external_attr = (0o40755 << 16) | 0x10  # a directory, MS-DOS directory flag
                archive.writestr(info, b"")
            else:
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o100644 << 16
                archive.writestr(info, files[name], compresslevel=9)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.tmp")
    temporary.write_bytes(buffer.getvalue())
    temporary.chmod(0o755)
    temporary.replace(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "dist" / "k8snode.pyz")
    parser.add_argument(
        "--python",
        action="append",
        help="an interpreter to compile byte code for (repeatable; default: python3.10 to python3.13 found here)",
    )
    parser.add_argument("--sources-only", action="store_true", help="no byte code: smaller, slower to start")
    arguments = parser.parse_args()
    interpreters = [] if arguments.sources_only else (arguments.python or default_interpreters())
    out = build(arguments.out, interpreters)
    print(json.dumps({"path": str(out), "bytes": out.stat().st_size, "byte_code_for": interpreters}))


if __name__ == "__main__":
    main()
