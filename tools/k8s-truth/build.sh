#!/usr/bin/env bash
# Build kubeadm and k8s-truth from k8s.io/kubernetes at one release tag, into
# ${K8SNODE_TRUTH_CACHE:-$HOME/.cache/k8snode-truth}/VERSION/.
# k8s.io/kubernetes replaces its staging modules (k8s.io/api, ...) with local
# paths, so it cannot be built as a dependency as it is: this script writes a
# throwaway module that points each staging module at its published v0.Y.Z.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
staging_version=v0.${version#v1.}
out=$cache/$version

stamp="$version $(go version) $(cat "$here/build.sh" "$here/common.sh" "$here/e2e-versions.txt" "$here"/*.go | sha256sum | cut -d' ' -f1)"
if [[ -x $out/kubeadm && -x $out/k8s-truth && "$(cat "$out/stamp" 2>/dev/null)" == "$stamp" ]]; then
	echo "k8s-truth: $version is up to date in $out"
	exit 0
fi

start=$SECONDS
module=$out/module
rm -rf "$module" "$out/stamp"
mkdir -p "$module"
cd "$module"

echo "k8s-truth: downloading k8s.io/kubernetes@$version"
if ! download=$(go mod download -json "k8s.io/kubernetes@$version"); then
	echo "k8s-truth: k8s.io/kubernetes@$version cannot be downloaded:" >&2
	echo "$download" >&2
	exit 1
fi
kube_dir=$(sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' <<<"$download")
kube_gomod=$(sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p' <<<"$download")
if [[ -z $kube_dir || -z $kube_gomod ]]; then
	echo "k8s-truth: go mod download gave no Dir/GoMod for k8s.io/kubernetes@$version:" >&2
	echo "$download" >&2
	exit 1
fi

# Same go and godebug lines as kubernetes itself, so the binaries get its GODEBUG defaults.
{
	echo "module k8snode.local/k8s-truth"
	grep -E '^(go|godebug) ' "$kube_gomod"
	echo "require k8s.io/kubernetes $version"
	sed -n 's|^\t\(k8s\.io/[a-z0-9-]*\) => \./staging/.*|replace \1 => \1 '"$staging_version"'|p' "$kube_gomod"
} >go.mod

cp "$here"/main.go "$here"/flags.go "$here"/kubelet_parse.go "$here"/kubelet_inits.go "$here"/kubeadm_gates.go \
	"$here"/component_gates.go "$here"/schema.go "$here"/duration.go "$here"/kinds_components.go .
for api in "$kube_dir"/cmd/kubeadm/app/apis/kubeadm/v1beta*; do
	cp "$here/kinds_kubeadm_$(basename "$api").go" .
done
echo "k8s-truth: kubeadm API versions in $version: $(ls kinds_kubeadm_* | sed 's/kinds_kubeadm_\(.*\)\.go/\1/' | tr '\n' ' ')"


# A release whose control plane never runs (not in e2e-versions.txt) is built without optimisation or inlining:
# a fifth less compile time on a cold cache (485 s -> 390 s for v1.32.13 on two idle cores), the same output, and the
# tests only ever run these binaries for a fraction of a second. The e2e release keeps the optimised build, whose
# packages build-e2e.sh then shares and whose kube-apiserver must keep up inside a TCG guest.
build=("${kube_build[@]}") optimised=optimised
if ! grep -qx "$version" "$here/e2e-versions.txt"; then
	build+=(-gcflags='all=-N -l') optimised=unoptimised
fi
echo "k8s-truth: building kubeadm $version ($optimised)"
"${build[@]}" -o "$out/kubeadm" k8s.io/kubernetes/cmd/kubeadm
echo "k8s-truth: building k8s-truth $version"
"${build[@]}" -o "$out/k8s-truth" .

echo "$stamp" >"$out/stamp"
echo "k8s-truth: built $version in $((SECONDS - start))s into $out"
