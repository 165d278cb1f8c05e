#!/usr/bin/env bash
# The real containerd that tests/truth/test_containerd_dump.py runs (`containerd --config FILE config dump`), one per
# series k8snode writes config files for, into ${K8SNODE_TRUTH_CACHE:-$HOME/.cache/k8snode-truth}/containerd/:
#   2.4  built from the github.com/containerd/containerd/v2 module at $module_version (CGO_ENABLED=0, only the
#        containerd binary: the dump needs nothing else), into v2.4.2/containerd;
#   1.6  Debian 12's containerd package (whichever 1.6 version apt offers), fetched with `apt-get download` and
#        unpacked with `dpkg -x` (no service installed or started), into debian-VERSION/.
# SERIES/containerd (2.4/containerd, 1.6/containerd) links to each binary; that is where the tests look.
# Each build is skipped when its stamp matches (the version, `go version` or the package version, and a hash of
# this script).
set -euo pipefail

module_version=v2.4.2
debian_series=1.6

cache=${K8SNODE_TRUTH_CACHE:-$HOME/.cache/k8snode-truth}
export GOMODCACHE=${GOMODCACHE:-$cache/go/mod}
export GOCACHE=${GOCACHE:-$cache/go/build}
export GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0
root=$cache/containerd
script_hash=$(sha256sum "$0" | cut -d' ' -f1)

link_series() { # SERIES TARGET: SERIES/containerd -> TARGET (relative to $root)
	mkdir -p "$root/$1"
	ln -sfn "../$2" "$root/$1/containerd"
}

build_module() {
	local out=$root/$module_version start=$SECONDS
	local stamp="$module_version $(go version) $script_hash"
	if [[ -x $out/containerd && "$(cat "$out/stamp" 2>/dev/null)" == "$stamp" ]]; then
		echo "k8s-truth containerd: $module_version is up to date in $out"
	else
		rm -rf "$out"
		mkdir -p "$out"
		# `go install MODULE@VERSION` builds with containerd's own go.mod (it has no replace directives), so the
		# dependency versions are the release's. The ldflags and tag are those of containerd's Makefile; without
		# cgo, the btrfs snapshotter (`//go:build !no_btrfs && cgo`) is left out, which the config dump does not use.
		echo "k8s-truth containerd: building containerd $module_version"
		GOBIN=$out go install -trimpath -tags=urfave_cli_no_docs \
			-ldflags="-s -w -X github.com/containerd/containerd/v2/version.Version=$module_version" \
			"github.com/containerd/containerd/v2/cmd/containerd@$module_version"
		echo "$stamp" >"$out/stamp"
		echo "k8s-truth containerd: built $module_version in $((SECONDS - start))s into $out"
	fi
	local series
	series=$(cut -d. -f1,2 <<<"${module_version#v}")
	link_series "$series" "$module_version/containerd"
}

candidate_version() {
	apt-cache policy containerd | sed -n 's/^  Candidate: //p'
}

unpack_debian() {
	local version
	version=$(candidate_version)
	if [[ -z $version || $version == "(none)" ]]; then
		apt-get update -qq
		version=$(candidate_version)
	fi
	if [[ $version != "$debian_series".* ]]; then
		echo "k8s-truth containerd: apt offers containerd '$version', not $debian_series (Debian 12's)" >&2
		exit 1
	fi
	local out=$root/debian-$version
	local stamp="$version $script_hash"
	if [[ -x $out/usr/bin/containerd && "$(cat "$out/stamp" 2>/dev/null)" == "$stamp" ]]; then
		echo "k8s-truth containerd: Debian's containerd $version is up to date in $out"
	else
		rm -rf "$out"
		mkdir -p "$out/deb"
		echo "k8s-truth containerd: fetching Debian's containerd $version"
		# apt-get download writes into the working directory; as root it hands the download to the _apt user,
		# which cannot write into a private folder, so it runs in a fresh world-writable temporary one.
		local tmp
		tmp=$(mktemp -d)
		chmod 0777 "$tmp"
		(cd "$tmp" && apt-get download -q "containerd=$version")
		mv "$tmp"/containerd_*.deb "$out/deb/"
		rmdir "$tmp"
		dpkg -x "$out"/deb/containerd_*.deb "$out"
		echo "$stamp" >"$out/stamp"
	fi
	link_series "$debian_series" "debian-$version/usr/bin/containerd"
}

build_module
unpack_debian
