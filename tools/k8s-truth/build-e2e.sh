#!/usr/bin/env bash
# Build the control plane that the end-to-end VM tests (tests/vm/test_kube_proxy.py) run inside the guest:
# kube-apiserver and kube-proxy from k8s.io/kubernetes at a release tag, and etcd from go.etcd.io/etcd/server/v3
# at the version that release's go.mod pins, into
# ${K8SNODE_TRUTH_CACHE:-$HOME/.cache/k8snode-truth}/VERSION/e2e/.
# Its throwaway module starts from the go.mod and go.sum that build.sh writes for the same version (so build.sh runs
# first) and lives in e2e/module, so that build.sh rebuilding its own module never pulls it away mid-build.
set -euo pipefail

if [[ $# -ne 1 || ! $1 =~ ^v1\.([0-9]+)\.[0-9]+$ ]]; then
	echo "usage: $0 v1.MINOR.PATCH   (for example v1.37.2)" >&2
	exit 2
fi
version=$1
minor=${BASH_REMATCH[1]}
here=$(cd "$(dirname "$0")" && pwd)
"$here/build.sh" "$version"

cache=${K8SNODE_TRUTH_CACHE:-$HOME/.cache/k8snode-truth}
out=$cache/$version/e2e
module=$out/module
export GOMODCACHE=${GOMODCACHE:-$cache/go/mod}
export GOCACHE=${GOCACHE:-$cache/go/build}
export GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0

stamp="$version $(go version) $(cat "$here/build.sh" "$here/build-e2e.sh" "$here/etcd_main.go.txt" | sha256sum | cut -d' ' -f1)"
binaries=(kube-apiserver kube-proxy etcd)
if [[ "$(cat "$out/stamp" 2>/dev/null)" == "$stamp" ]] && all=1 && for b in "${binaries[@]}"; do [[ -x $out/$b ]] || all=0; done && ((all)); then
	echo "k8s-truth e2e: $version is up to date in $out"
	exit 0
fi

start=$SECONDS
rm -rf "$out/stamp" "$module"
mkdir -p "$module/cmd/etcd"
cp "$cache/$version/module/go.mod" "$cache/$version/module/go.sum" "$module/"
# etcd's own binary lives in the go.etcd.io/etcd/v3 module, which kubernetes does not require; its server module
# (which kubernetes' go.mod pins) holds the whole program behind etcdmain.Main, so a two-line main builds it at the
# pinned version.
cp "$here/etcd_main.go.txt" "$module/cmd/etcd/main.go"
cd "$module"
etcd_version=$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
echo "k8s-truth e2e: etcd server module pinned by kubernetes $version: $etcd_version"

ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done
build=(go build -trimpath -tags=selinux,notest -ldflags="$ldflags")
for cmd in kube-apiserver kube-proxy; do
	echo "k8s-truth e2e: building $cmd $version"
	"${build[@]}" -o "$out/$cmd" "k8s.io/kubernetes/cmd/$cmd"
done
echo "k8s-truth e2e: building etcd $etcd_version"
go build -trimpath -ldflags="-s -w" -o "$out/etcd" ./cmd/etcd
echo "$etcd_version" >"$out/etcd-version"

echo "$stamp" >"$out/stamp"
echo "k8s-truth e2e: built $version in $((SECONDS - start))s into $out"
