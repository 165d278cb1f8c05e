"""`k8snode kubeadm-config`: render or patch a kubeadm init configuration for the target Kubernetes version.

Where each option lands is the settings table (kubeadm/settings.py). Rendering applies it to a skeleton of the
target's kubeadm API, ``--patch`` to the user's documents; the kube-proxy and kubeadm-config ConfigMaps are patched
by kubeadm/configmap.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from k8snode.core.errors import bad_input
from k8snode.core.files import apply, header, plan_write
from k8snode.core.releases import KubeadmApi, Release, choose_api, kubeadm_api, newest_known
from k8snode.core.secrets import PLACEHOLDER_TOKEN, redact, redact_yaml
from k8snode.core.system import System
from k8snode.core.versions import NEWEST_KUBERNETES
from k8snode.core.yamldoc import Indent, dump_documents, guess_indent, load_documents
from k8snode.kubeadm.configmap import is_configmap, patch_configmap
from k8snode.kubeadm.defaults import init_defaults
from k8snode.kubeadm.documents import find, value_at
from k8snode.kubeadm.files import ConfigResult, host_kernel, out_file, patching_in_place, without_header
from k8snode.kubeadm.migrate import migrate_v1beta3
from k8snode.kubeadm.options import Options
from k8snode.kubeadm.sets import apply_sets
from k8snode.kubeadm.settings import (
    KUBE_PROXY,
    KUBELET,
    Table,
    ip_address,
    release_for,
    settings,
    skeleton,
    target_note,
)
from k8snode.kubeadm.settings import check_options as _check
from k8snode.kubeadm.tokens import fresh_token, reusable_token
from k8snode.kubeadm.validate import PLACEHOLDER_ADDRESS, Context, read_config, validate_documents
from k8snode.node.address import primary_ipv4


@dataclass
class _Plan:
    release: Release
    api: KubeadmApi
    documents: list[object]
    table: Table
    warnings: list[str] = field(default_factory=list)
    indent: Indent = field(default_factory=Indent)


def kubeadm_config(system: System, options: Options, *, dry_run: bool = False, force: bool = False) -> ConfigResult:
    """Render (or patch) and validate the configuration; with ``--out`` write it, reading and writing under the lock."""
    if options.print_defaults or options.component_configs is not None:
        return _print_defaults(options)
    _check(options)
    with system.lock_unless(dry_run or out_file(options.out) is None):
        return _kubeadm_config(system, options, dry_run=dry_run, force=force)


def _kubeadm_config(system: System, options: Options, *, dry_run: bool, force: bool) -> ConfigResult:
    named = out_file(options.out)
    out = system.output_path(named, "--out") if named else None
    warnings: list[str] = []
    patched = read_config(system, options.patch, "--patch") if options.patch else None
    if patched is not None:
        documents = load_documents(without_header(patched[1]), f"--patch {patched[0]}")
        if is_configmap(documents):
            return patch_configmap(system, options, out, patched, documents, dry_run=dry_run, force=force)
    token = options.token or (reusable_token(system, out, warnings) if out else None) or fresh_token()
    plan = _patch(system, options, token, patched[1], documents) if patched else _render(system, options, token)
    apply_sets(plan.documents, options.sets)
    report = validate_documents(
        plan.documents, Context(plan.release, options.load_balancer, options.node_kernel or host_kernel(system))
    )
    if report.problems:
        raise bad_input(redact("the configuration does not validate: " + "; ".join(report.messages())))
    text = f"{header(options.command_line())}\n" + dump_documents(plan.documents, plan.indent)
    data: dict[str, object] = {
        "path": str(out) if out else None,
        "api_version": plan.api.api_version,
        "kubernetes_version": str(plan.release),
        "proxy_mode": _proxy_mode(plan.documents),
        "documents": report.kinds,
    }
    warnings += [*plan.warnings, *report.warnings]
    forced = [setting for setting in plan.table.settings if setting.option == "load_balancer"]
    if forced and data["proxy_mode"] == "ipvs":
        warnings.insert(0, f"strictARP is on: {forced[0].reason}")
    if out is None:
        return ConfigResult("kubeadm-config", data, False, warnings, summary="rendered", yaml_text=text)
    in_place = patching_in_place(system, options.patch, out)
    file = plan_write(system, out, 0o600, text.encode(), force=force, adoptable=lambda _: in_place)
    changed = apply(system, [file], dry_run=dry_run)
    data["action"] = file.action
    if dry_run:
        data["diff"] = file.diff(redact_yaml)
    else:
        data["next"] = f"kubeadm init --config {out}"
    return ConfigResult("kubeadm-config", data, changed, warnings, summary=f"{out}: {file.action} (mode 0600)")


def _print_defaults(options: Options) -> ConfigResult:
    if not options.print_defaults:
        raise bad_input("--component-configs goes with --print-defaults")
    others = replace(options, kubernetes_version=None, print_defaults=False, component_configs=None)
    if others != Options():
        raise bad_input("--print-defaults takes only --kubernetes-version and --component-configs")
    found = init_defaults(options.kubernetes_version, options.component_configs)
    warnings: list[str] = []
    if found.source != found.target:
        warnings.append(f"these are the defaults of kubeadm {found.source}, the release k8snode has for {found.target}")
    data = {
        "kubernetes_version": str(found.target),
        "source": str(found.source),
        "documents": found.kinds,
        "text": found.text,  # kubeadm's placeholders only: no secret
    }
    return ConfigResult("kubeadm-config", data, warnings=warnings, summary="printed", yaml_text=found.text)


def _advertise_address(system: System, options: Options) -> str:
    if options.advertise_address:
        return ip_address(options.advertise_address, "--advertise-address")
    found = primary_ipv4(system)
    if found is None:
        raise bad_input(
            "cannot determine the host's primary IPv4 address from /proc/net/route and /proc/net/fib_trie; "
            "pass --advertise-address"
        )
    return found


def _render(system: System, options: Options, token: str) -> _Plan:
    """The skeleton of the target's kubeadm API, settings applied; its KubeletConfiguration with --kubelet-config."""
    warnings: list[str] = []
    release = release_for(options, None, warnings)
    api = choose_api(min(release, newest_known()), options.api_version)
    if api.name == "v1alpha1":
        warnings.append("kubeadm API v1alpha1 (MasterConfiguration) is read only by kubeadm 1.10 and older")
    table = settings(options, release, api, token=token, address=_advertise_address(system, options))
    documents: list[object] = [
        document for document in skeleton(api) if document["kind"] != KUBELET or options.kubelet_config
    ]
    table.apply(documents, new=True)
    # Read back as written, so that a problem validate finds is reported at its line in the output.
    written = load_documents(dump_documents(documents), f"the {api.name} configuration")
    return _Plan(release, api, written, table, warnings=warnings + table.notes)


def _patch(system: System, options: Options, token: str, text: str, documents: list[object]) -> _Plan:
    source = str(options.patch)
    warnings: list[str] = []
    release = release_for(options, documents, warnings)
    api = _file_api(documents, source)
    if options.api_version not in ("auto", api.name):
        raise bad_input(
            f"--api-version {options.api_version} does not apply to --patch; use --migrate to convert a v1beta3 file"
        )
    if api.name == "v1beta3" and (options.migrate or not api.serves(release)):
        if not options.migrate:
            raise bad_input(
                f"{source} uses kubeadm.k8s.io/v1beta3, which kubeadm {release} no longer reads "
                f"({api.removed_because}); add --migrate to convert it to v1beta4"
            )
        api = kubeadm_api("v1beta4")
        if not api.serves(release):
            named_by = "--kubernetes-version" if options.kubernetes_version else "its kubernetesVersion"
            raise bad_input(
                f"--migrate converts {source} to kubeadm.k8s.io/v1beta4, which kubeadm reads from 1.31 on, but the "
                f"file is for Kubernetes {release} ({named_by}); add --kubernetes-version v1.31 or later "
                f"(such as {NEWEST_KUBERNETES}) to migrate it"
            )
        warnings.extend(migrate_v1beta3(documents))
    choose_api(min(release, newest_known()), api.name)
    table = settings(options, release, api)
    wanted = (KUBE_PROXY, KUBELET) if options.kubelet_config else (KUBE_PROXY,)
    missing = [d for d in skeleton(api) if d["kind"] in wanted and find(documents, str(d["kind"])) is None]
    table.apply(missing, new=True)  # the KubeProxyConfiguration (and KubeletConfiguration) the file lacks
    documents.extend(missing)
    warnings += _replace_placeholders(system, documents, options, token)
    warnings += table.notes
    proxy = find(documents, KUBE_PROXY)
    assert proxy is not None
    mode = next(setting for setting in table.settings if setting.path == ("mode",))
    if options.proxy_mode is None and proxy.get("mode") not in (mode.value, None):
        warnings.append(
            f"KubeProxyConfiguration.mode {proxy['mode'] or '(empty: iptables)'} becomes {mode.value}, {mode.reason}; "
            f"pass --proxy-mode {proxy['mode'] or 'iptables'} to keep it"
        )
    table.apply(documents, new=False)
    warnings += target_note(options, documents, release)
    return _Plan(release, api, documents, table, warnings=warnings, indent=guess_indent(text))


def _file_api(documents: list[object], source: str) -> KubeadmApi:
    versions = {
        d.get("apiVersion")
        for d in documents
        if isinstance(d, dict) and str(d.get("apiVersion", "")).startswith("kubeadm.k8s.io/")
    }
    if len(versions) != 1:
        raise bad_input(
            f"--patch {source} must hold kubeadm documents of one apiVersion; "
            f"found {', '.join(sorted(map(str, versions))) or 'none'}"
        )
    api = kubeadm_api(str(versions.pop()))
    if api.name == "v1alpha1":
        raise bad_input(f"--patch works on v1beta3 and v1beta4 files; {source} is v1alpha1: render it without --patch")
    return api


def _replace_placeholders(system: System, documents: list[object], options: Options, token: str) -> list[str]:
    warnings: list[str] = []
    init = find(documents, "InitConfiguration")
    if init is None:
        return warnings
    tokens = init.get("bootstrapTokens")
    if not isinstance(tokens, list) or not tokens or not isinstance(tokens[0], dict):
        init["bootstrapTokens"] = [{"token": token}]
    elif tokens[0].get("token") == PLACEHOLDER_TOKEN:
        tokens[0]["token"] = token
        warnings.append("replaced the placeholder bootstrap token abcdef.0123456789abcdef with a fresh one")
    elif options.token and tokens[0].get("token") != token:
        tokens[0]["token"] = token
    endpoint = init.get("localAPIEndpoint")
    if isinstance(endpoint, dict) and endpoint.get("advertiseAddress") == PLACEHOLDER_ADDRESS:
        endpoint["advertiseAddress"] = _advertise_address(system, options)
        warnings.append(f"replaced the placeholder advertise address 1.2.3.4 with {endpoint['advertiseAddress']}")
    registration = init.get("nodeRegistration")
    if isinstance(registration, dict) and registration.get("name") == "node" and not options.node_name:
        warnings.append("nodeRegistration.name is kubeadm's placeholder 'node'; set it with --node-name")
    return warnings


def _proxy_mode(documents: list[object]) -> str:
    for document in documents:
        if isinstance(document, dict):
            config = (
                document
                if document.get("kind") == "KubeProxyConfiguration"
                else value_at(document, ("kubeProxy", "config"))
            )
            if isinstance(config, dict):
                return str(config.get("mode") or "iptables")
    return "iptables"
