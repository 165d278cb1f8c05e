#!/usr/bin/env bash
# Build every version listed in versions.txt (see build.sh), then the end-to-end control plane of every version in
# e2e-versions.txt (see build-e2e.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
grep -Ev '^\s*(#|$)' "$here/versions.txt" | while read -r version; do
	"$here/build.sh" "$version"
done
grep -Ev '^\s*(#|$)' "$here/e2e-versions.txt" | while read -r version; do
	"$here/build-e2e.sh" "$version"
done
