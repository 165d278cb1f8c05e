#!/bin/sh
# The role's host probe launcher: runs k8snode_probe.py with the first candidate on PATH that is Python 3.10 or
# later, and prints the probe's JSON; {"python": ""} when no candidate is. The role runs it as
#   sh -c "$(cat k8snode_probe.sh)" k8snode-probe PROBE_SOURCE K8SNODE_DIR LINK ARCHIVES_JSON K8SNODE_BIN CANDIDATE...
# A candidate compiles the probe's source only after it has checked its own version, so the probe may use what
# Python 3.10 has, and the first Python 3.10 or later runs it: one Python start on most hosts. Exit 4 is the probe
# failing on such a Python (its traceback on stderr), which fails the task; any other failure (3: too old; a pyenv
# shim of a version that is not selected; not a Python at all) moves on to the next candidate.
guard='import sys, traceback
if sys.version_info < (3, 10):
    sys.exit(3)
try:
    exec(sys.argv.pop(1))
except SystemExit:
    raise
except BaseException:
    traceback.print_exc()
    sys.exit(4)'
source=$1 dir=$2 link=$3 wanted=$4 bin=$5
shift 5
for candidate in "$@"; do
    path=$(command -v "$candidate") || continue
    "$path" -c "$guard" "$source" "$path" "$dir" "$link" "$wanted" "$bin"
    rc=$?
    case $rc in
        0 | 4) exit "$rc" ;;
    esac
done
echo '{"python": ""}'
