#!/bin/sh
# The role's host probe launcher: runs k8snode_probe.py with the first candidate on PATH that is Python 3.10 or
# later, and prints the probe's JSON; {"python": ""} when no candidate is. The role runs it as
#   sh -c "$(cat k8snode_probe.sh)" k8snode-probe PROBE_SOURCE K8SNODE_DIR LINK WANTED_SHA1 K8SNODE_BIN CANDIDATE...
# A candidate compiles the probe's source only after it has checked its own version (an older one exits 3), so the
# probe may use what Python 3.10 has, and the first Python 3.10 or later runs it: one Python start on most hosts.
source=$1 dir=$2 link=$3 wanted=$4 bin=$5
shift 5
for candidate in "$@"; do
    path=$(command -v "$candidate") || continue
    "$path" -c 'import sys; sys.version_info >= (3, 10) or sys.exit(3); exec(sys.argv.pop(1))' \
        "$source" "$path" "$dir" "$link" "$wanted" "$bin"
    rc=$?
    [ "$rc" -eq 3 ] || exit "$rc"
done
echo '{"python": ""}'
