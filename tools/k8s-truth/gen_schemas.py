#!/usr/bin/env python3
"""Write k8snode/core/schemas/*.json from `k8s-truth schema` of built versions.

usage: gen_schemas.py [VERSION...]   (default: every version in versions.txt)

Each apiVersion+kind comes from the newest of those versions that has it, so
kubeadm v1beta3 comes from the newest release that still ships it.
"""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SCHEMAS = REPO / "k8snode" / "core" / "schemas"


class Missing(Exception):
    """A build that is not there, or not the one asked for."""


def write_generated(
    tool: str, generated: Callable[[list[str], Path], tuple[str, dict[str, int]]], out: Path, counted: str,
    versions: list[str],
) -> int:
    """The main of a generator that writes one data file: ``generated`` gives its text and, per version, how many
    ``counted`` things it found; exit 1 naming what is missing when a build is not there."""
    try:
        text, counts = generated(versions, truth_cache())
    except Missing as missing:
        print(f"{tool}: {missing}", file=sys.stderr)
        return 1
    out.write_text(text)
    print(f"{tool}: wrote {out.relative_to(REPO)}: {out.stat().st_size} bytes")
    for version, count in counts.items():
        print(f"{tool}: {version}: {count} {counted}")
    return 0


def listed_versions() -> list[str]:
    lines = (HERE / "versions.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.lstrip("v").split("."))


def truth_cache() -> Path:
    return Path(os.environ.get("K8SNODE_TRUTH_CACHE", Path.home() / ".cache" / "k8snode-truth"))


def generated(versions: list[str], cache: Path) -> dict[str, str]:
    """File name in k8snode/core/schemas/ -> its text, each apiVersion+kind from the newest release that has it."""
    chosen: dict[tuple[str, str], dict] = {}
    for version in sorted(versions, key=release, reverse=True):
        output = subprocess.run(
            [cache / version / "k8s-truth", "schema"], check=True, capture_output=True, text=True
        ).stdout
        for doc in json.loads(output)["schemas"]:
            chosen.setdefault((doc["apiVersion"], doc["kind"]), doc)
    return {
        f"{api_version.replace('/', '_')}_{kind}.json": json.dumps(doc, indent=2, sort_keys=True) + "\n"
        for (api_version, kind), doc in sorted(chosen.items())
    }


def main(versions: list[str]) -> int:
    cache = truth_cache()
    for version in versions:
        binary = cache / version / "k8s-truth"
        if not binary.is_file():
            print(f"gen_schemas: {binary} is missing: run tools/k8s-truth/build.sh {version}", file=sys.stderr)
            return 1
    SCHEMAS.mkdir(parents=True, exist_ok=True)
    for name, text in generated(versions, cache).items():
        path = SCHEMAS / name
        path.write_text(text)
        print(f"gen_schemas: wrote {path.relative_to(REPO)} ({json.loads(text)['source']})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or listed_versions()))
