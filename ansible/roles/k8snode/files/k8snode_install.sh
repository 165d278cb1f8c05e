#!/bin/sh
# The role's install of bin/k8snode and its link, in one command: run after the copy of the archive, and only when
# the probe found bin/k8snode or the link other than this run wants them. The role runs it as
#   sh -c "$(cat k8snode_install.sh)" k8snode-install DRY_RUN K8SNODE_DIR ARCHIVE WRAPPER LINK
# DRY_RUN 1 (check mode) changes nothing. Otherwise: K8SNODE_DIR/bin (0755); bin/k8snode, the text WRAPPER, replaced
# in one rename (0755); the other *.pyz in K8SNODE_DIR removed (an archive for the interpreter the host had before:
# the directory is the role's own); LINK ("" for none) pointing at bin/k8snode.
set -eu
dry=$1 dir=$2 archive=$3 wrapper=$4 link=$5
if [ "$dry" = 1 ]; then
    echo "would write $dir/bin/k8snode${link:+ and link $link to it}"
    exit 0
fi
mkdir -p "$dir/bin"
chmod 0755 "$dir/bin"
temporary="$dir/bin/.k8snode.$$"
trap 'rm -f "$temporary"' EXIT
printf '%s' "$wrapper" > "$temporary"
chmod 0755 "$temporary"
mv -f "$temporary" "$dir/bin/k8snode"
for old in "$dir"/*.pyz; do
    if [ -f "$old" ] && [ "$old" != "$dir/$archive" ]; then
        rm -f "$old"
    fi
done
if [ -n "$link" ]; then
    ln -sfn "$dir/bin/k8snode" "$link"
fi
echo "wrote $dir/bin/k8snode${link:+ and linked $link to it}"
