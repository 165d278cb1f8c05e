"""The ConfigMaps kubeadm stores its configuration in, edited in place: one data value changes, every other byte stays.

kubeadm keeps kube-proxy's KubeProxyConfiguration in the ``kube-proxy`` ConfigMap under ``config.conf``
(cmd/kubeadm/app/constants/constants.go: KubeProxyConfigMap, KubeProxyConfigMapKey; written by
cmd/kubeadm/app/phases/addons/proxy/proxy.go), and its ClusterConfiguration in the ``kubeadm-config`` ConfigMap
under ``ClusterConfiguration`` (constants.KubeadmConfigConfigMap, ClusterConfigurationConfigMapKey). The v1beta3 and
v1beta4 ClusterConfiguration hold no kube-proxy setting (only v1beta4's ``proxy.disabled``, which skips the addon);
the ``kubeProxy.config`` block of the kubeadm-config ConfigMap ended with v1alpha1 (kubeadm 1.10).

``kubectl get configmap NAME -o yaml`` prints a multi-line value as a literal block (``|`` or ``|-``), or as a
double-quoted string when a line ends in a space; both are read and the value is written back in the same style.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from k8snode.core.errors import bad_input

KUBE_PROXY = "kube-proxy"
KUBE_PROXY_KEY = "config.conf"
KUBEADM_CONFIG = "kubeadm-config"
CLUSTER_KEY = "ClusterConfiguration"
EMBEDDED_KEYS = {KUBE_PROXY: KUBE_PROXY_KEY, KUBEADM_CONFIG: CLUSTER_KEY}
"""The ConfigMaps k8snode edits and the data key that holds the document."""


@dataclass(frozen=True)
class Embedded:
    """One document held as a string in a ConfigMap's ``data``, and where its encoded form sits in the file."""

    name: str
    """The ConfigMap's name (kube-proxy or kubeadm-config)."""
    key: str
    value: str
    start: int
    end: int
    """``text[start:end]`` is the value as the file spells it: from its style indicator or quote to its end."""
    style: str | None
    indent: int
    """The column of a literal block's content lines."""


def is_configmap(documents: list[Any]) -> bool:
    return any(isinstance(d, dict) and d.get("kind") == "ConfigMap" and d.get("apiVersion") == "v1" for d in documents)


def find_embedded(text: str, documents: list[Any], source: str) -> Embedded:
    """The document of a kube-proxy or kubeadm-config ConfigMap as ``kubectl get configmap -o yaml`` prints it."""
    from ruamel.yaml import YAML

    if len(documents) != 1:
        raise bad_input(f"--patch {source} holds {len(documents)} documents; give one ConfigMap (kubectl get -o yaml)")
    metadata = documents[0].get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if name not in EMBEDDED_KEYS:
        raise bad_input(
            f"--patch {source} is the ConfigMap {name!r}; k8snode edits the kube-system ConfigMaps "
            f"{KUBE_PROXY} (its {KUBE_PROXY_KEY}) and {KUBEADM_CONFIG} (its {CLUSTER_KEY})"
        )
    key = EMBEDDED_KEYS[name]
    root = YAML().compose(text)  # nodes carry their marks; the loaded documents do not
    data = next((value for item, value in root.value if item.value == "data"), None)
    node = next((value for item, value in getattr(data, "value", []) if item.value == key), None)
    if node is None or not isinstance(node.value, str):
        raise bad_input(f"--patch {source}: the {name} ConfigMap has no data.{key} string to edit")
    start, end = node.start_mark.index, node.end_mark.index
    indent = 0
    if node.style == "|":
        first = text[start:end].split("\n", 2)[1] if text[start:end].count("\n") > 1 else ""
        indent = len(first) - len(first.lstrip(" "))
    return Embedded(name, key, node.value, start, end, node.style, indent)


def replace_embedded(text: str, embedded: Embedded, value: str) -> str:
    """``text`` with the embedded value replaced by ``value``, in the style the file used; nothing else changed."""
    return text[: embedded.start] + encode(value, embedded) + text[embedded.end :]


def encode(value: str, embedded: Embedded) -> str:
    """``value`` as a YAML scalar in the style of ``embedded``: a literal block at its indentation, else JSON's
    double-quoted string (a YAML double-quoted scalar too). A literal block holds a value whose first line starts
    with a space only with an indentation indicator; such a value is written double-quoted."""
    if embedded.style != "|" or value.startswith((" ", "\n")) or _unprintable(value):
        return json.dumps(value, ensure_ascii=False)
    chomp = "-" if not value.endswith("\n") else "+" if value.endswith("\n\n") else ""
    body = value if chomp == "-" else value[:-1]
    pad = " " * embedded.indent
    return f"|{chomp}\n" + "".join((pad + line if line else "") + "\n" for line in body.split("\n"))


def _unprintable(value: str) -> bool:
    """A character other than a line break or tab that a literal block cannot carry."""
    return any(not (c.isprintable() or c in "\n\t") for c in value)
