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
from dataclasses import dataclass, fields
from pathlib import PurePosixPath
from typing import Any

from k8snode.core import schema
from k8snode.core.errors import bad_input
from k8snode.core.files import apply, header, plan_write, unified_diff
from k8snode.core.releases import kubeadm_api, newest_known
from k8snode.core.secrets import redact, redact_yaml
from k8snode.core.system import System
from k8snode.core.yamldoc import dump_documents, guess_indent, load_documents
from k8snode.kubeadm.documents import Document, value_at
from k8snode.kubeadm.files import ConfigResult, host_kernel, patching_in_place, without_header
from k8snode.kubeadm.options import Options, flag_of
from k8snode.kubeadm.sets import apply_sets
from k8snode.kubeadm.settings import KUBE_PROXY as PROXY_KIND
from k8snode.kubeadm.settings import release_for, settings, target_note
from k8snode.kubeadm.validate import Context, validate_documents
from k8snode.proxy.modes import ProxyMode

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


def is_configmap(documents: list[object]) -> bool:
    return any(isinstance(d, dict) and d.get("kind") == "ConfigMap" and d.get("apiVersion") == "v1" for d in documents)


def find_embedded(text: str, documents: list[object], source: str) -> Embedded:
    """The document of a kube-proxy or kubeadm-config ConfigMap as ``kubectl get configmap -o yaml`` prints it."""
    from ruamel.yaml import YAML
    from ruamel.yaml.nodes import MappingNode

    if len(documents) != 1:
        raise bad_input(f"--patch {source} holds {len(documents)} documents; give one ConfigMap (kubectl get -o yaml)")
    metadata = documents[0].get("metadata") if isinstance(documents[0], dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if name not in EMBEDDED_KEYS:
        raise bad_input(
            f"--patch {source} is the ConfigMap {name!r}; k8snode edits the kube-system ConfigMaps "
            f"{KUBE_PROXY} (its {KUBE_PROXY_KEY}) and {KUBEADM_CONFIG} (its {CLUSTER_KEY})"
        )
    key = EMBEDDED_KEYS[name]
    data = documents[0].get("data") if isinstance(documents[0], dict) else None
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, str):
        raise bad_input(f"--patch {source}: the {name} ConfigMap has no data.{key} string to edit")
    # Nodes carry their marks; the loaded documents do not. The one document that loaded is the one mapping node
    # (an empty document around it composes to a null scalar, and load_documents dropped it).
    root = next(node for node in YAML().compose_all(text) if isinstance(node, MappingNode))
    node = _entry(_entry(root, "data"), key)
    if node is None:
        raise bad_input(f"--patch {source}: data.{key} comes through a YAML merge key (<<), which kubectl never writes")
    if node.anchor is not None:  # the span below starts at the anchor: replacing it would orphan every alias
        raise bad_input(
            f"--patch {source}: data.{key} carries the YAML anchor &{node.anchor} (or is an alias of it), which "
            "kubectl never writes; give the ConfigMap as kubectl get configmap -o yaml prints it"
        )
    start, end = node.start_mark.index, node.end_mark.index
    indent = 0
    if node.style == "|":
        first = text[start:end].split("\n", 2)[1] if text[start:end].count("\n") > 1 else ""
        indent = len(first) - len(first.lstrip(" "))
    # The loaded value, not the node's: a folded (>) node holds ruamel.yaml's fold marks (\a) until it is built.
    return Embedded(name, key, str(value), start, end, node.style, indent)


def _entry(mapping: Any, key: str) -> Any:
    """The value node of ``key`` in a composed mapping node; None when it is not written there (a merge key)."""
    if mapping is None:
        return None
    return next((value for item, value in mapping.value if item.value == key), None)


def replace_embedded(text: str, embedded: Embedded, value: str) -> str:
    """``text`` with the embedded value replaced by ``value``, in the style the file used; nothing else changed."""
    return text[: embedded.start] + encode(value, embedded) + text[embedded.end :]


def encode(value: str, embedded: Embedded) -> str:
    """``value`` as a YAML scalar in the style of ``embedded``: a literal block at its indentation, else JSON's
    double-quoted string (a YAML double-quoted scalar too), which a folded (``>``) value becomes. A literal block
    holds a value whose first line starts with a space only with an indentation indicator; such a value is written
    double-quoted."""
    if embedded.style != "|" or value.startswith((" ", "\n")) or _unprintable(value):
        # A block scalar's span (literal or folded) takes its line break with it: a quoted value puts one back.
        return json.dumps(value, ensure_ascii=False) + ("\n" if embedded.style in ("|", ">") else "")
    chomp = "-" if not value.endswith("\n") else "+" if value.endswith("\n\n") else ""
    body = value if chomp == "-" else value[:-1]
    pad = " " * embedded.indent
    return f"|{chomp}\n" + "".join((pad + line if line else "") + "\n" for line in body.split("\n"))


def _unprintable(value: str) -> bool:
    """A character other than a line break or tab that a literal block cannot carry."""
    return any(not (c.isprintable() or c in "\n\t") for c in value)


TARGET_OPTIONS = {"kubernetes_version", "patch", "out", "node_kernel"}
"""The options that say what to edit and what to validate against: they apply to either ConfigMap."""
KUBE_PROXY_OPTIONS = {*TARGET_OPTIONS, "load_balancer", "sets"}
"""Besides the options whose settings land in KubeProxyConfiguration (the settings table says which), those the
kube-proxy ConfigMap takes: --lb (validation) and --set."""
KUBEADM_CONFIG_OPTIONS = {*TARGET_OPTIONS, "proxy_mode"}
"""The kubeadm-config ConfigMap's ClusterConfiguration holds no kube-proxy setting: --proxy-mode only says what to
change (and k8snode says where)."""
IPVS_ONLY = {
    "strictARP": "only IPVS mode needs it (kube-ipvs0 holds every Service address); MetalLB and kube-vip in L2 "
    "mode do not need it under {mode}",
    "scheduler": "{mode} mode has no scheduler",
    "syncPeriod": "set {mode}.syncPeriod to keep it (--set KubeProxyConfiguration.{mode}.syncPeriod={value})",
    "minSyncPeriod": "set {mode}.minSyncPeriod to keep it (--set KubeProxyConfiguration.{mode}.minSyncPeriod={value})",
}
"""Why a setting of the ipvs block no longer applies, for the fields that have more to say than "only IPVS reads it"."""
_ZERO_VALUES = (None, "", False, "0s", 0)


def patch_configmap(
    system: System,
    options: Options,
    out: PurePosixPath | None,
    patched: tuple[str, str],
    documents: list[object],
    *,
    dry_run: bool,
    force: bool,
) -> ConfigResult:
    """Edit the document a kube-proxy or kubeadm-config ConfigMap holds; every byte around it stays as it was."""
    source, text = patched[0], without_header(patched[1])  # a ConfigMap k8snode wrote with --out
    embedded = find_embedded(text, documents, source)
    given = [item.name for item in fields(Options) if getattr(options, item.name) != item.default]
    if embedded.name == KUBE_PROXY:
        allowed = KUBE_PROXY_OPTIONS | settings(options, newest_known(), kubeadm_api("v1beta4")).options(PROXY_KIND)
    else:
        allowed = KUBEADM_CONFIG_OPTIONS
    for name in given:
        if name not in allowed:
            raise bad_input(
                f"{flag_of(name).name} does not apply to the {embedded.name} ConfigMap: it holds "
                f"{'KubeProxyConfiguration' if embedded.name == KUBE_PROXY else 'ClusterConfiguration'} only"
            )
    if options.proxy_mode is None:
        raise bad_input(
            f"--patch {source} is the {embedded.name} ConfigMap: say the mode it moves to with --proxy-mode"
        )
    inner = load_documents(embedded.value, f"--patch {source} data.{embedded.key}")
    kind = "KubeProxyConfiguration" if embedded.name == KUBE_PROXY else "ClusterConfiguration"
    if len(inner) != 1 or not isinstance(inner[0], dict) or inner[0].get("kind") != kind:
        raise bad_input(f"--patch {source}: data.{embedded.key} of the {embedded.name} ConfigMap must be one {kind}")
    warnings: list[str] = []
    release = release_for(options, inner, warnings)
    if embedded.name == KUBE_PROXY:
        if options.kubernetes_version is None:
            warnings.append(
                f"the kube-proxy ConfigMap does not name its release: checked for kube-proxy {release}; "
                "pass --kubernetes-version with the cluster's"
            )
        settings(options, release, kubeadm_api("v1beta4")).apply(inner, new=False, kinds=(PROXY_KIND,))
        warnings += _drop_ipvs_settings(inner[0], options.proxy_mode)
        apply_sets(inner, options.sets)
    else:
        warnings.append(_no_proxy_settings(inner[0], options.proxy_mode))
        warnings += target_note(options, inner, release)
    report = validate_documents(
        inner, Context(release, options.load_balancer, options.node_kernel or host_kernel(system))
    )
    if report.problems:
        raise bad_input(redact(f"data.{embedded.key} does not validate: " + "; ".join(report.messages())))
    warnings += report.warnings
    value = dump_documents(inner, guess_indent(embedded.value))
    value = value.rstrip("\n") + "\n" * (len(embedded.value) - len(embedded.value.rstrip("\n")))
    new_text = replace_embedded(text, embedded, value)
    data: dict[str, object] = {
        "path": str(out) if out else None,
        "api_version": "v1",
        "kubernetes_version": str(release),
        "proxy_mode": options.proxy_mode,
        "documents": ["ConfigMap"],
        "configmap": f"kube-system/{embedded.name}",
        "key": embedded.key,
        "changed_fields": _changed_paths(embedded.value, value),
    }
    changed = new_text != text
    if dry_run:
        data["diff"] = _diff(embedded.value, value, embedded.key)
    if out is None:
        summary = f"data.{embedded.key}: {'would change' if changed else 'unchanged'}"
        shown = "" if dry_run else new_text
        return ConfigResult("kubeadm-config", data, changed, warnings, summary=summary, yaml_text=shown)
    in_place = patching_in_place(system, options.patch, out)
    # A file gets k8snode's header (kubectl reads past a comment), so a later run knows it may replace it; standard
    # output stays byte for byte the ConfigMap, for `| kubectl replace -f -`.
    written = f"{header(options.command_line())}\n{new_text}".encode()
    file = plan_write(system, out, 0o644, written, force=force, adoptable=lambda _: in_place)
    changed = apply(system, [file], dry_run=dry_run)
    data["action"] = file.action
    if not dry_run:
        data["next"] = f"kubectl replace -f {out}"
    return ConfigResult("kubeadm-config", data, changed, warnings, summary=f"{out}: {file.action} (mode 0644)")


def _drop_ipvs_settings(proxy: Document, mode: str) -> list[str]:
    """Outside IPVS mode kube-proxy reads nothing of the ipvs block (its validation checks the block only for
    mode ipvs: pkg/proxy/apis/config/validation/validation.go); each setting it held is dropped, with a warning.
    The zero values kubeadm writes for every field stay: they set nothing. A block the drops leave empty goes too."""
    ipvs = proxy.get("ipvs")
    if mode == ProxyMode.IPVS or not isinstance(ipvs, dict):
        return []
    warnings = []
    for key in list(ipvs):
        value = ipvs[key]
        if value in _ZERO_VALUES or value == []:
            continue
        del ipvs[key]
        why = IPVS_ONLY.get(str(key), "only IPVS mode reads it").format(mode=mode, value=value)
        shown = (
            json.dumps(value) if isinstance(value, list) else str(value).lower() if isinstance(value, bool) else value
        )
        warnings.append(f"dropped KubeProxyConfiguration.ipvs.{key} ({shown}): {why}")
    if warnings and not ipvs:
        del proxy["ipvs"]  # emptied by the drops above: an `ipvs: {}` left behind would say nothing
    return warnings


def _no_proxy_settings(cluster: Document, mode: str) -> str:
    """What the kubeadm-config ConfigMap can say about kube-proxy: nothing, except that v1beta4 may disable it."""
    if schema.go_value(value_at(cluster, ("proxy", "disabled"))) is True:
        return (
            "ClusterConfiguration.proxy.disabled is true: kubeadm does not install kube-proxy in this cluster, "
            "so there is no kube-proxy mode to change"
        )
    return (
        f"the kubeadm-config ConfigMap holds no kube-proxy setting (kubeadm keeps KubeProxyConfiguration in the "
        f"kube-proxy ConfigMap, data.config.conf); nothing changed here: patch that one for mode {mode}"
    )


def _changed_paths(old: str, new: str) -> list[str]:
    """The dotted paths of the values that differ between two documents (added, removed or changed)."""
    found: list[str] = []

    def walk(a: object, b: object, path: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for key in [*a, *(k for k in b if k not in a)]:
                walk(a.get(key, _MISSING), b.get(key, _MISSING), f"{path}.{key}" if path else str(key))
        elif a != b:
            found.append(path)

    walk(load_documents(old, "old")[0], load_documents(new, "new")[0], "")
    return found


_MISSING = object()


def _diff(old: str, new: str, key: str) -> str:
    old, new = (text if text.endswith("\n") else text + "\n" for text in (old, new))  # |- drops the last one
    return unified_diff(old, new, f"a/data/{key}", f"b/data/{key}", redact_yaml)
