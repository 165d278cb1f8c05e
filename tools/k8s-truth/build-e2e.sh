#!/usr/bin/env bash
# Build the control plane that the end-to-end VM tests (tests/vm/test_kube_proxy.py) run inside the guest:
# kube-apiserver and kube-proxy from k8s.io/kubernetes at a release tag, the kubelet whose `--help` the truth tests
# read (tests/truth/test_kubelet_flags_truth.py), and etcd from go.etcd.io/etcd/server/v3
# at the version that release's go.mod pins, into
# ${K8SNODE_TRUTH_CACHE:-$HOME/.cache/k8snode-truth}/VERSION/e2e/.
# Its throwaway module starts from the go.mod and go.sum that build.sh writes for the same version (so build.sh runs
# first) and lives in e2e/module, so that build.sh rebuilding its own module never pulls it away mid-build.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
"$here/build.sh" "$version"
out=$cache/$version/e2e
module=$out/module

stamp="$version $(go version) $(cat "$here/build.sh" "$here/common.sh" "$here/build-e2e.sh" "$here/etcd_main.go.txt" | sha256sum | cut -d' ' -f1)"
if [[ -x $out/kube-apiserver && -x $out/kube-proxy && -x $out/kubelet && -x $out/etcd && "$(cat "$out/stamp" 2>/dev/null)" == "$stamp" ]]; then
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

for cmd in kube-apiserver kube-proxy kubelet; do
	echo "k8s-truth e2e: building $cmd $version"
	"${kube_build[@]}" -o "$out/$cmd" "k8s.io/kubernetes/cmd/$cmd"
done
echo "k8s-truth e2e: building etcd $etcd_version"
go build -trimpath -ldflags="-s -w" -o "$out/etcd" ./cmd/etcd
echo "$etcd_version" >"$out/etcd-version"

echo "$stamp" >"$out/stamp"
echo "k8s-truth e2e: built $version in $((SECONDS - start))s into $out"
