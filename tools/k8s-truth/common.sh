# Sourced by build.sh and build-e2e.sh, with the release tag as $1: checks it, and sets what both builds share.
# shellcheck shell=bash
if [[ $# -ne 1 || ! $1 =~ ^v1\.([0-9]+)\.[0-9]+$ ]]; then
	echo "usage: $0 v1.MINOR.PATCH   (for example v1.37.2)" >&2
	exit 2
fi
version=$1
minor=${BASH_REMATCH[1]}
cache=${K8SNODE_TRUTH_CACHE:-$HOME/.cache/k8snode-truth}
# One module and build cache for every version: most dependencies are shared.
export GOMODCACHE=${GOMODCACHE:-$cache/go/mod}
export GOCACHE=${GOCACHE:-$cache/go/build}
# -mod=mod lets go build fill in go.sum for just the packages it builds:
# go mod tidy would also fetch every test dependency, slower, and some of
# those are not on the proxy (k8s.io/kube-scheduler v0.31.14, for one).
export GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0

# The flags and tags that kubernetes' own hack/lib/golang.sh and version.sh use.
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done
kube_build=(go build -trimpath -tags=selinux,notest -ldflags="$ldflags")
