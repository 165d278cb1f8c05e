#!/usr/bin/env bash
# Check by hand that a built version works, and save its kubeadm init-defaults
# as the test fixture tests/fixtures/kubeadm/init-defaults-VERSION.yaml.
set -euo pipefail
if [[ $# -ne 1 ]]; then
	echo "usage: $0 VERSION   (built before with build.sh VERSION)" >&2
	exit 2
fi
version=$1
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=${K8SNODE_TRUTH_CACHE:-$HOME/.cache/k8snode-truth}/$version
if [[ ! -x $bin/kubeadm || ! -x $bin/k8s-truth ]]; then
	echo "smoke: $bin has no kubeadm or k8s-truth: run tools/k8s-truth/build.sh $version" >&2
	exit 1
fi

"$bin/kubeadm" version -o short
print=(kubeadm config print init-defaults --component-configs KubeProxyConfiguration,KubeletConfiguration)
fixture=$repo/tests/fixtures/kubeadm/init-defaults-$version.yaml
mkdir -p "$(dirname "$fixture")"
{
	echo "# ${print[*]}  (kubeadm $version, built by tools/k8s-truth/build.sh)"
	"$bin/${print[0]}" "${print[@]:1}"
} >"$fixture.tmp"
mv "$fixture.tmp" "$fixture"
echo "smoke: wrote $fixture"
"$bin/kubeadm" config validate --config "$fixture"
flags=$("$bin/k8s-truth" kubelet-flags)
head -n 12 <<<"$flags"
