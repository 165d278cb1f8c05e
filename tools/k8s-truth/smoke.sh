#!/usr/bin/env bash
# Check by hand that a built version works: its kubeadm validates its own init-defaults. The copy k8snode ships
# (and the tests read) is k8snode/kubeadm/data/init-defaults/VERSION.yaml, written by gen_defaults.py.
set -euo pipefail
if [[ $# -ne 1 ]]; then
	echo "usage: $0 VERSION   (built before with build.sh VERSION)" >&2
	exit 2
fi
version=$1
bin=${K8SNODE_TRUTH_CACHE:-$HOME/.cache/k8snode-truth}/$version
if [[ ! -x $bin/kubeadm || ! -x $bin/k8s-truth ]]; then
	echo "smoke: $bin has no kubeadm or k8s-truth: run tools/k8s-truth/build.sh $version" >&2
	exit 1
fi

"$bin/kubeadm" version -o short
print=(kubeadm config print init-defaults --component-configs KubeProxyConfiguration,KubeletConfiguration)
fixture=$bin/init-defaults.yaml
{
	echo "# ${print[*]}  (kubeadm $version, built by tools/k8s-truth/build.sh)"
	"$bin/${print[0]}" "${print[@]:1}"
} >"$fixture.tmp"
mv "$fixture.tmp" "$fixture"
"$bin/kubeadm" config validate --config "$fixture"
flags=$("$bin/k8s-truth" kubelet-flags)
head -n 12 <<<"$flags"
