"""`k8snode kubeadm-config --print-defaults`: kubeadm's own init defaults for a release, without a kubeadm binary.

The files in data/init-defaults/ are what each release's kubeadm prints for `kubeadm config print init-defaults
--component-configs KubeProxyConfiguration,KubeletConfiguration`, written by tools/k8s-truth/gen_defaults.py and
compared with the real kubeadm in tests/truth/test_print_defaults_truth.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from k8snode.core.errors import bad_input
from k8snode.core.releases import Release, newest_known, parse_release
from k8snode.core.resources import package_file, package_text

DEFAULTS_DIR = ("kubeadm", "data", "init-defaults")  # under k8snode/: a checkout, a wheel or the pyz
COMPONENT_CONFIGS = ("KubeProxyConfiguration", "KubeletConfiguration")
"""The kinds kubeadm's --component-configs takes (cmd/kubeadm/app/componentconfigs: known component configs)."""


def available() -> list[Release]:
    """The releases k8snode has kubeadm's defaults for, newest first."""
    names = [node.name for node in package_file(*DEFAULTS_DIR).iterdir()]
    names = [name for name in names if name.startswith("v") and name.endswith(".yaml")]
    return sorted((parse_release(name.removesuffix(".yaml")) for name in names), reverse=True)


@dataclass(frozen=True)
class Defaults:
    target: Release
    source: Release
    """The release whose kubeadm printed them: the one k8snode has for the target's minor version."""
    kinds: list[str]
    text: str


def init_defaults(kubernetes_version: str | None, component_configs: str | None) -> Defaults:
    """kubeadm's init defaults of the release with the target's minor version, with the kinds asked for."""
    wanted = _component_configs(component_configs)
    target = parse_release(kubernetes_version) if kubernetes_version else newest_known()
    releases = available()
    source = next((release for release in releases if release.minor_version == target.minor_version), None)
    if source is None:
        raise bad_input(
            f"k8snode has kubeadm's defaults for {', '.join(map(str, releases))}, not for Kubernetes {target}; "
            "give --kubernetes-version of one of those minor releases"
        )
    documents = _documents(package_text(*DEFAULTS_DIR, f"{source}.yaml"))
    by_kind = {_kind(document): document for document in documents}
    kinds = ["InitConfiguration", "ClusterConfiguration", *wanted]
    command = "kubeadm config print init-defaults" + (f" --component-configs {','.join(wanted)}" if wanted else "")
    header = f"# {command} (kubeadm {source}, as recorded by k8snode)\n"
    return Defaults(target, source, kinds, header + "---\n".join(by_kind[kind] for kind in kinds))


def _component_configs(text: str | None) -> list[str]:
    names = [name.strip() for name in (text or "").split(",") if name.strip()]
    unknown = [name for name in names if name not in COMPONENT_CONFIGS]
    if unknown or len(set(names)) != len(names):
        raise bad_input(
            f"--component-configs {text!r}: use a comma-separated list of {' and '.join(COMPONENT_CONFIGS)}, each once"
        )
    return names


def _documents(text: str) -> list[str]:
    """Each document's text (kubeadm separates them with ---), without the data file's comment line."""
    documents = [""]
    for line in text.partition("\n")[2].splitlines(keepends=True):
        if line == "---\n":
            documents.append("")
        else:
            documents[-1] += line
    return documents


def _kind(document: str) -> str:
    return next(line.removeprefix("kind: ") for line in document.splitlines() if line.startswith("kind: "))
