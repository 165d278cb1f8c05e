#!/usr/bin/env bash
# Install what the SSH fleet (tests/sshfleet.py) needs: the distribution's OpenSSH server and client, and iproute2
# for the network namespaces. The package must not leave a system sshd running on port 22: a policy-rc.d that
# denies every start is in place while it installs (unless the machine already has one), and when this script is
# what installed the server, a service the package enabled anyway is stopped and disabled (an sshd that was there
# before is left alone). The machine's own ssh configuration is left as the package ships it; the fleet never
# reads it (each host has its own sshd_config, the controller runs ssh with -F /dev/null).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
added=
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    added=1
fi
trap '[ -z "$added" ] || rm -f "$policy"' EXIT
had_server=
dpkg-query -W -f='${Status}' openssh-server 2>/dev/null | grep -q 'install ok installed' && had_server=1
apt-get update
apt-get install -y --no-install-recommends openssh-server openssh-client iproute2
if [ -z "$had_server" ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now ssh.service ssh.socket 2>/dev/null || true
fi
