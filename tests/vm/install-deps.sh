#!/usr/bin/env bash
# Install what the real-kernel tests (tests/vm/) need: qemu to boot Debian's kernel, the kernel and its modules,
# kmod for modprobe/--show-depends, a static busybox for the initramfs, the real IPVS/ipset userland, and iproute2
# (the guest brings its loopback up), util-linux (mkswap, swapon, swapoff) and procps (sysctl --system, where
# systemd's own loaders are absent), and what the end-to-end tests run in the guest: iptables and nft for
# kube-proxy's modes, openssl for the API server's key. The guest runs the host's own binaries: it has no root
# filesystem of its own. iptables also serves tests/proxy/test_ipvs_cleanup_netns.py (ipvs cleanup in a network namespace).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
    qemu-system-x86 linux-image-amd64 kmod busybox-static ipvsadm ipset iproute2 util-linux procps iptables nftables openssl
