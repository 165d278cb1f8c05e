"""Build k8snode's single-file archives: one reproducible zipapp per interpreter, with no index and no network.

Run: .venv/bin/python tools/build_pyz.py [--out-dir dist] [--python PATH ...] [--universal | --sources-only]

A plain zipapp (PEP 441) of k8snode from this checkout (templates under k8snode/templates, as in the wheel) and the
pure-Python files of its runtime dependencies, copied from the distributions installed in the running environment
(so the build needs no index either: the versions are the ones this environment was tested with). C accelerators
(markupsafe's _speedups, any other extension module) are left out; the libraries fall back to their pure-Python code.
Python imports it straight from the archive (zipimport): nothing is extracted and nothing is written at run time.

k8snode-cpXY.pyz, one per interpreter given with --python (by default python3.10 to python3.13 from PATH and
pyenv): that interpreter's byte code only, no sources (zipimport cannot cache byte code, and reads every entry of
the central directory at each start: one tree of .pyc, ~410 entries, where four trees and the sources were ~2,400).
Its __main__.py refuses any other interpreter with one line naming the Python it is for. The fallback is
k8snode.pyz (--universal adds it, --sources-only builds it alone): the sources only, for any Python 3.10 or later,
compiled on every start. Each archive says what it is in its zip comment: {"python": "cp311" or "any", "version"}.

Left out: pygments, markdown-it-py and mdurl, which rich requires for syntax highlighting, tracebacks and Markdown;
k8snode prints none of them (Typer's rich help and pretty tracebacks are off: rich_markup_mode=None,
pretty_exceptions_enable=False). tests/cli/test_pyz.py runs every command's --help and `node check --json` and
proves that none of them is imported.

Built once: each archive is kept under the cache (K8SNODE_PYZ_CACHE, else $XDG_CACHE_HOME/k8snode-pyz, else
~/.cache/k8snode-pyz) in a directory named by the sha256 of what goes in: this script, every entry's name and bytes
(k8snode's sources and templates, the dependencies' files and metadata, so their versions too) and the
interpreter's version and byte-code magic number. A later build with the same inputs copies it from there. The
cache keeps the 40 archives used last.

The byte code of the packages that the commands every host runs load is stored uncompressed (STORED), the rest
deflated.

Same inputs, same bytes: entries are sorted, every timestamp is 1980-01-01 and every mode 0644, the byte code is
compiled with a fixed hash seed and unchecked-hash .pyc headers.

Prints one JSON object: {"version", "archives": [{"path", "python", "bytes", "entries", "cache"}]} ("hit" or
"miss"; "off" with --no-cache).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import Distribution, distribution
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parent.parent
SHEBANG = b"#!/usr/bin/env python3\n"
EPOCH = (1980, 1, 1, 0, 0, 0)
# Not copied: installed byte code (compiled below), C extensions, installer records, scripts.
SKIP = re.compile(
    r"(^|/)__pycache__/|\.(pyc|so|pyd|dylib)$|^\.\./|\.dist-info/(RECORD|INSTALLER|REQUESTED|direct_url\.json)$"
)
# Required by rich for output k8snode never prints (syntax highlighting, tracebacks, Markdown): not followed.
EXCLUDED = frozenset({"pygments", "markdown-it-py", "mdurl"})
UNIVERSAL = "any"
# The packages whose byte code the commands every host runs import (`ipvs check`, `node check`, `kubeadm-config`,
# `--version`): stored, not deflated, since zipimport inflates each module it loads at every start (~6 ms, 6%, of
# `ipvs check` on Python 3.11, measured). The rest (rich, plumbum, jinja2, ...) is deflated: 3.5 MB per archive
# instead of 5.7 MB all stored or 2.3 MB all deflated. tests/cli/test_pyz.py checks that those commands load no
# deflated module.
STORED = frozenset({"k8snode", "typer", "annotated_doc", "shellingham", "ruamel"})
KEEP = 40  # archives kept in the cache: the five of the last eight source trees

MAIN_ANY = """\
import sys

if sys.version_info < (3, 10):
    sys.exit(f"k8snode needs Python 3.10 or later; {sys.executable} is {sys.version.split()[0]}")

from k8snode.cli import main

main()
"""
MAIN_ONE = """\
import sys

if sys.implementation.cache_tag != {cache_tag!r}:
    sys.exit(
        f"{{sys.argv[0]}} holds byte code for Python {minor} (CPython) only and {{sys.executable}} is "
        f"{{sys.implementation.name}} {{sys.version.split()[0]}}: run it with python{minor}, or use the archive built "
        f"for this interpreter (tools/build_pyz.py --python {{sys.executable}})"
    )

from k8snode.cli import main

main()
"""

# Run by each interpreter: what it is (tag, cache tag, version, magic number).
IDENTIFY = """
import importlib.util, json, sys
print(json.dumps({"tag": f"cp{sys.version_info[0]}{sys.version_info[1]}", "cache_tag": sys.implementation.cache_tag,
    "minor": f"{sys.version_info[0]}.{sys.version_info[1]}", "version": sys.version,
    "magic": importlib.util.MAGIC_NUMBER.hex()}))
"""
# Run by each interpreter: compile every .py under argv[1] in place into a sourceless .pyc (the layout zipimport reads),
# unchecked-hash so that the bytes do not depend on file times.
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
"""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


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
        name = canonical(pending.pop())
        if name in seen or name in EXCLUDED:
            continue
        dist = distribution(name)
        seen[name] = dist
        pending.extend(requirement_names(dist))
    return [seen[name] for name in sorted(seen)]


def entries() -> dict[str, bytes]:
    """Archive path -> content: the sources, before any __main__.py or byte code."""
    files: dict[str, bytes] = {}
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


def version(files: dict[str, bytes]) -> str:
    found = re.search(rb'^__version__ = "([^"]+)"', files["k8snode/__init__.py"], re.MULTILINE)
    if not found:
        raise SystemExit("k8snode/__init__.py has no __version__ line")
    return found.group(1).decode()


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


def identify(python: str) -> dict[str, str]:
    done = subprocess.run([python, "-s", "-c", IDENTIFY], check=True, capture_output=True, text=True)
    identity: dict[str, str] = json.loads(done.stdout)
    return identity


def compiled(files: dict[str, bytes], python: str) -> dict[str, bytes]:
    """``files`` compiled by ``python``: .py become sourceless .pyc, metadata and data files are copied."""
    with tempfile.TemporaryDirectory(prefix="k8snode-pyz-") as scratch:
        top = Path(scratch)
        for name, content in files.items():
            (top / name).parent.mkdir(parents=True, exist_ok=True)
            (top / name).write_bytes(content)
        # A fixed hash seed: the order of a frozenset constant (`x in {"a", "b"}`) follows the string hashes.
        environment = {"PATH": os.environ.get("PATH", ""), "PYTHONHASHSEED": "0"}
        subprocess.run([python, "-s", "-c", COMPILE, scratch], check=True, capture_output=True, env=environment)
        return {
            path.relative_to(top).as_posix(): path.read_bytes() for path in sorted(top.rglob("*")) if path.is_file()
        }


def namespace_directories(files: dict[str, bytes]) -> set[str]:
    """The directory entries zipimport needs: those of namespace packages (no __init__), which it finds only through
    their entry (ruamel/). Other directories have no entry: each one is read at every start."""
    directories = {str(parent) for name in files for parent in PurePosixPath(name).parents if str(parent) != "."}
    packages = {
        directory
        for directory in directories
        if any(f"{directory}/{module}" in files for module in ("__init__.py", "__init__.pyc"))
    }
    code = {str(PurePosixPath(name).parent) for name in files if name.endswith((".py", ".pyc"))}
    holding_code = {d for d in directories if any(c == d or c.startswith(d + "/") for c in code)}
    return {d + "/" for d in holding_code - packages if not d.endswith(".dist-info")}


def archive_bytes(files: dict[str, bytes], comment: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    buffer.write(SHEBANG)
    directories = namespace_directories(files)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(files.keys() | directories):
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            info.create_system = 3  # Unix, whatever system builds it
            if name in directories:
                info.external_attr = (0o40755 << 16) | 0x10  # a directory, MS-DOS directory flag
                archive.writestr(info, b"")
            else:
                hot = name.endswith(".pyc") and name.split("/")[0] in STORED
                info.compress_type = zipfile.ZIP_STORED if hot else zipfile.ZIP_DEFLATED
                info.external_attr = 0o100644 << 16
                archive.writestr(info, files[name], compresslevel=9)
        archive.comment = json.dumps(comment, sort_keys=True).encode()
    return buffer.getvalue()


@dataclass(frozen=True)
class Target:
    """One archive to build: its file name, its comment, and what its cache key covers beyond the sources."""

    name: str
    python: str  # the interpreter that compiles it; "" for the universal archive
    identity: dict[str, str]

    @property
    def tag(self) -> str:
        return self.identity.get("tag", UNIVERSAL)

    def build(self, sources: dict[str, bytes], release: str) -> bytes:
        payload = dict(sources)
        if self.python:
            metadata = {n: c for n, c in payload.items() if ".dist-info/" in n}
            code = compiled({n: c for n, c in payload.items() if n not in metadata}, self.python)
            main = MAIN_ONE.format(cache_tag=self.identity["cache_tag"], minor=self.identity["minor"])
            payload = {**code, **metadata}
        else:
            main = MAIN_ANY
        payload["__main__.py"] = main.encode()
        return archive_bytes(payload, {"python": self.tag, "version": release})


def cache_root() -> Path:
    if os.environ.get("K8SNODE_PYZ_CACHE"):
        return Path(os.environ["K8SNODE_PYZ_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "k8snode-pyz"


def cache_key(sources: dict[str, bytes], target: Target) -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for name in sorted(sources):
        digest.update(f"\0{name}\0{hashlib.sha256(sources[name]).hexdigest()}".encode())
    digest.update(json.dumps(target.identity, sort_keys=True).encode())
    return digest.hexdigest()


def write_atomic(path: Path, content: bytes) -> None:
    """``path`` replaced in one rename, mode 0755 (a zipapp runs as a script too); its directory made 0755."""
    path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(content)
    temporary.chmod(0o755)
    temporary.replace(path)


def produce(target: Target, sources: dict[str, bytes], release: str, cache: Path | None) -> tuple[bytes, str]:
    """The archive's bytes, from the cache when it holds them ("hit"), else built (and kept there: "miss")."""
    if cache is None:
        return target.build(sources, release), "off"
    kept = cache / cache_key(sources, target) / target.name
    if kept.is_file():
        os.utime(kept.parent)  # used: the last to be pruned
        return kept.read_bytes(), "hit"
    content = target.build(sources, release)
    write_atomic(kept, content)
    return content, "miss"


def prune(cache: Path, keep: int) -> None:
    """Remove all but the ``keep`` most recently used archives (each in its own key's directory)."""
    if not cache.is_dir():
        return
    used = sorted((d for d in cache.iterdir() if d.is_dir()), key=lambda d: d.stat().st_mtime, reverse=True)
    for old in used[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", type=Path, default=REPO / "dist", help="where the archives go (default: dist/)")
    parser.add_argument(
        "--python",
        action="append",
        help="an interpreter to build an archive for (repeatable; default: python3.10 to python3.13 found here)",
    )
    parser.add_argument("--universal", action="store_true", help="also k8snode.pyz: sources for any Python 3.10+")
    parser.add_argument("--sources-only", action="store_true", help="only k8snode.pyz, the sources archive")
    parser.add_argument("--no-cache", action="store_true", help="build every archive, and keep none")
    arguments = parser.parse_args()
    interpreters = [] if arguments.sources_only else (arguments.python or default_interpreters())
    targets = []
    for python in interpreters:
        identity = identify(python)
        targets.append(Target(f"k8snode-{identity['tag']}.pyz", python, identity))
    if arguments.universal or arguments.sources_only or not targets:
        targets.append(Target("k8snode.pyz", "", {}))
    sources = entries()
    release = version(sources)
    cache = None if arguments.no_cache else cache_root()
    report = []
    for target in targets:
        content, state = produce(target, sources, release, cache)
        out = arguments.out_dir / target.name
        if not (out.is_file() and out.read_bytes() == content):
            write_atomic(out, content)
        count = len(zipfile.ZipFile(io.BytesIO(content)).infolist())
        report.append({"path": str(out), "python": target.tag, "bytes": len(content), "entries": count, "cache": state})
    if cache is not None:
        prune(cache, KEEP)
    print(json.dumps({"version": release, "archives": report}))


if __name__ == "__main__":
    main()
