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
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SCHEMAS = REPO / "k8snode" / "core" / "schemas"


def listed_versions() -> list[str]:
    lines = (HERE / "versions.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.lstrip("v").split("."))


def main(versions: list[str]) -> int:
    cache = Path(os.environ.get("K8SNODE_TRUTH_CACHE", Path.home() / ".cache" / "k8snode-truth"))
    chosen: dict[tuple[str, str], dict] = {}
    for version in sorted(versions, key=release, reverse=True):
        binary = cache / version / "k8s-truth"
        if not binary.is_file():
            print(f"gen_schemas: {binary} is missing: run tools/k8s-truth/build.sh {version}", file=sys.stderr)
            return 1
        output = subprocess.run([binary, "schema"], check=True, capture_output=True, text=True).stdout
        for doc in json.loads(output)["schemas"]:
            chosen.setdefault((doc["apiVersion"], doc["kind"]), doc)

    SCHEMAS.mkdir(parents=True, exist_ok=True)
    for (api_version, kind), doc in sorted(chosen.items()):
        path = SCHEMAS / f"{api_version.replace('/', '_')}_{kind}.json"
        path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        print(f"gen_schemas: wrote {path.relative_to(REPO)} ({doc['source']})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or listed_versions()))
