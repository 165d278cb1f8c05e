"""kubeadm configuration text as the tests read it: its documents, its body under the header, and a v1beta3 file
an operator kept by hand."""

from __future__ import annotations

import io

from ruamel.yaml import YAML


def documents(text: str) -> list[dict]:
    return [d for d in YAML(typ="safe", pure=True).load_all(io.StringIO(text)) if d is not None]


def body(text: str) -> str:
    """The file without its first line (the header naming the command)."""
    return text.split("\n", 1)[1]


V1BETA3 = """\
# cluster config kept by hand
apiVersion: kubeadm.k8s.io/v1beta3
kind: InitConfiguration
bootstrapTokens:
- token: abcdef.0123456789abcdef
localAPIEndpoint:
  advertiseAddress: 192.0.2.10
nodeRegistration:
  kubeletExtraArgs:
    node-labels: role=cp  # picked up by the scheduler
---
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
kubernetesVersion: v1.37.0
apiServer:
  timeoutForControlPlane: 6m0s
  extraArgs:
    audit-log-maxage: "30"
    profiling: "false"
etcd:
  local:
    extraArgs:
      quota-backend-bytes: "8589934592"
"""
