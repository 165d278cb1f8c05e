"""A kubelet node as the kubeadm packages lay it out (the unit, kubeadm's drop-in, kubeadm-flags.env, the extra-args
file and kubeadm's KubeletConfiguration), for the lint tests and the lint --fix truth test."""

from __future__ import annotations

from pathlib import Path

KUBEADM_DROPIN = """\
# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf \\
--kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# This is a file that "kubeadm init" and "kubeadm join" generates at runtime
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
# This is a file that the user can use for overrides of the kubelet args as a last resort.
EnvironmentFile=-{extra}
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
"""
KUBELET_UNIT = """\
[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/

[Service]
ExecStart=/usr/bin/kubelet
Restart=always

[Install]
WantedBy=multi-user.target
"""
# What kubeadm 1.23 wrote on a containerd node (KUBELET_KUBEADM_ARGS, cmd/kubeadm/app/phases/kubelet/flags.go).
KUBEADM_1_23_FLAGS = (
    'KUBELET_KUBEADM_ARGS="--container-runtime=remote '
    "--container-runtime-endpoint=unix:///run/containerd/containerd.sock "
    '--network-plugin=cni --pod-infra-container-image=k8s.gcr.io/pause:3.6"\n'
)


def write(root: Path, path: str, text: str | bytes) -> Path:
    real = root / path.lstrip("/")
    real.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        real.write_bytes(text)
    else:
        real.write_text(text)
    return real


def kubeadm_node(root: Path, family: str, flags_env: str, extra: str = "") -> None:
    """The layout the kubeadm packages give: the unit in /usr/lib (rpm) or /lib (deb), the 10-kubeadm drop-in."""
    units = "/usr/lib/systemd/system" if family == "rhel" else "/lib/systemd/system"
    extra_file = "/etc/sysconfig/kubelet" if family == "rhel" else "/etc/default/kubelet"
    write(root, f"{units}/kubelet.service", KUBELET_UNIT)
    write(root, f"{units}/kubelet.service.d/10-kubeadm.conf", KUBEADM_DROPIN.format(extra=extra_file))
    write(root, "/var/lib/kubelet/kubeadm-flags.env", flags_env)
    write(root, extra_file, f'KUBELET_EXTRA_ARGS="{extra}"\n' if extra else "KUBELET_EXTRA_ARGS=\n")


KUBEADM_CONFIG = """\
# kubeadm wrote this file
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd  # the runtime's driver
authentication:
  anonymous:
    enabled: false
"""


def fixable_node(root: Path) -> None:
    kubeadm_node(
        root,
        "debian",
        KUBEADM_1_23_FLAGS,
        extra="--max-pods=200 --anonymous-auth=true --eviction-hard=memory.available<5% --node-ip=10.0.0.5",
    )
    write(root, "/var/lib/kubelet/config.yaml", KUBEADM_CONFIG)
