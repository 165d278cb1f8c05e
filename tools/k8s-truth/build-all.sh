#!/usr/bin/env bash
# Build every version listed in versions.txt (see build.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
grep -Ev '^\s*(#|$)' "$here/versions.txt" | while read -r version; do
	"$here/build.sh" "$version"
done
