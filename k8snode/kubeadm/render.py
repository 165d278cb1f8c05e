"""`k8snode kubeadm-config`: render or patch a kubeadm init configuration for the target Kubernetes version."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import string
from dataclasses import dataclass, field, fields, replace
from pathlib import Path, PurePosixPath
from typing import Any

from k8snode.core import schema
from k8snode.core.durations import duration
from k8snode.core.errors import K8snodeError, bad_input
from k8snode.core.files import OWNER_MARK, apply, header, plan_write
from k8snode.core.networks import cidr_problem
from k8snode.core.releases import KubeadmApi, Release, choose_api, kubeadm_api, newest_known, parse_release
from k8snode.core.resources import template_text
from k8snode.core.result import Result
from k8snode.core.secrets import PLACEHOLDER_TOKEN, is_token, redact
from k8snode.core.system import STDIO, System
from k8snode.core.versions import NEWEST_KUBERNETES
from k8snode.core.yamldoc import (
    MAX_CONFIG_BYTES,
    Indent,
    decode_text,
    dump_documents,
    guess_indent,
    load_documents,
    quoted,
    to_yaml,
)
from k8snode.kubeadm.configmap import KUBE_PROXY, KUBEADM_CONFIG, find_embedded, is_configmap, replace_embedded
from k8snode.kubeadm.defaults import init_defaults
from k8snode.kubeadm.options import Options, flag_of
from k8snode.kubeadm.validate import (
    LOAD_BALANCERS,
    PLACEHOLDER_ADDRESS,
    Context,
    named_version,
    read_config,
    release_problem,
    target_release,
    validate_documents,
    value_at,
)
from k8snode.node.address import primary_ipv4
from k8snode.node.swap import SwapMode, kubelet_keep_swap
from k8snode.proxy.ipvs import validate_scheduler
from k8snode.proxy.modes import (
    NFTABLES_ALPHA,
    NFTABLES_BETA,
    NFTABLES_GATE,
    NFTABLES_STAGES,
    PROXY_MODES,
    ProxyMode,
    minor_text,
)

CONTAINERD_SOCKET = "unix:///var/run/containerd/containerd.sock"
CONTAINERD_SOCKET_V1ALPHA1 = "/var/run/containerd/containerd.sock"  # kubeadm 1.10 took a path, not a URL
IPVS_PERIODS = {
    "sync_period": "syncPeriod",
    "min_sync_period": "minSyncPeriod",
    "tcp_timeout": "tcpTimeout",
    "tcp_fin_timeout": "tcpFinTimeout",
    "udp_timeout": "udpTimeout",
}
"""Options fields that are Go durations, and their KubeProxyConfiguration.ipvs keys."""
_TOKEN_ALPHABET = string.ascii_lowercase + string.digits


@dataclass
class ConfigResult(Result):
    """A Result that also carries the rendered YAML for stdout; the YAML holds the token, so it is no data field."""

    yaml_text: str = field(default="", repr=False)


@dataclass
class _Plan:
    release: Release
    api: KubeadmApi
    documents: list[Any]
    warnings: list[str] = field(default_factory=list)
    indent: Indent = field(default_factory=Indent)


def kubeadm_config(system: System, options: Options, *, dry_run: bool = False, force: bool = False) -> ConfigResult:
    """Render (or patch) and validate the configuration; with ``--out`` write it, reading and writing under the lock."""
    if options.print_defaults or options.component_configs is not None:
        return _print_defaults(options)
    _check(options)
    with system.lock_unless(dry_run or _out_file(options) is None):
        return _kubeadm_config(system, options, dry_run=dry_run, force=force)


def _kubeadm_config(system: System, options: Options, *, dry_run: bool, force: bool) -> ConfigResult:
    out_file = _out_file(options)
    out = system.output_path(out_file, "--out") if out_file else None
    warnings: list[str] = []
    patched = read_config(system, options.patch, "--patch") if options.patch else None
    if patched is not None:
        documents = load_documents(_without_header(patched[1]), f"--patch {patched[0]}")
        if is_configmap(documents):
            return _patch_configmap(system, options, out, patched, documents, dry_run=dry_run, force=force)
    token = options.token or (_reusable_token(system, out, warnings) if out else None) or _fresh_token()
    plan = _patch(system, options, token, patched[1], documents) if patched else _render(system, options, token)
    _apply_sets(plan.documents, options.sets)
    report = validate_documents(
        plan.documents, Context(plan.release, options.load_balancer, options.node_kernel or _host_kernel(system))
    )
    if report.problems:
        raise bad_input(redact("the configuration does not validate: " + "; ".join(report.messages())))
    text = f"{header(options.command_line())}\n" + dump_documents(plan.documents, plan.indent)
    data: dict[str, Any] = {
        "path": str(out) if out else None,
        "api_version": plan.api.api_version,
        "kubernetes_version": str(plan.release),
        "proxy_mode": _proxy_mode(plan.documents),
        "documents": report.kinds,
    }
    warnings += [*plan.warnings, *report.warnings]
    if options.load_balancer and data["proxy_mode"] == "ipvs":
        warnings.insert(0, f"strictARP is on: {options.load_balancer} in L2 mode under IPVS needs it")
    if out is None:
        return ConfigResult("kubeadm-config", data, False, warnings, summary="rendered", yaml_text=text)
    patching_in_place = options.patch not in (None, STDIO) and _input_target(system, options.patch) == out
    file = plan_write(system, out, 0o600, text.encode(), force=force, adoptable=lambda _: patching_in_place)
    changed = apply(system, [file], dry_run=dry_run)
    data["action"] = file.action
    if dry_run:
        data["diff"] = file.diff(redact)
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


def _out_file(options: Options) -> str | None:
    """The file ``--out`` names; None for standard output (no ``--out``, or ``--out -``)."""
    return None if options.out in (None, "", STDIO) else options.out


def _check(options: Options) -> None:
    """Bad input found before anything is read or written."""
    _check_characters(options)
    if options.kubernetes_version is not None:
        parse_release(options.kubernetes_version)
    if options.api_version != "auto":
        kubeadm_api(options.api_version)
    if options.swap == SwapMode.KEEP and not options.kubelet_config:
        raise bad_input("--swap keep sets fields of the KubeletConfiguration: add --kubelet-config")
    if options.token is not None and not is_token(options.token):
        raise bad_input("--token is not a bootstrap token; use the form [a-z0-9]{6}.[a-z0-9]{16}")
    if options.proxy_mode is not None and options.proxy_mode not in PROXY_MODES:
        raise bad_input(f"--proxy-mode {options.proxy_mode!r} is not known; use one of {', '.join(PROXY_MODES)}")
    if options.load_balancer is not None and options.load_balancer not in LOAD_BALANCERS:
        raise bad_input(f"--lb {options.load_balancer!r} is not known; use one of {', '.join(LOAD_BALANCERS)}")
    if options.ipvs_scheduler is not None:
        validate_scheduler(options.ipvs_scheduler)
    for attribute in IPVS_PERIODS:
        value = getattr(options, attribute)
        if value is not None:
            duration(value, flag_of(attribute).name)
    for option, value in (("--pod-subnet", options.pod_subnet), ("--service-subnet", options.service_subnet)):
        problem = cidr_problem(value) if value is not None else None
        if problem:
            raise bad_input(f"{option}: {problem}")
    for cidr in options.exclude_cidrs:
        problem = cidr_problem(cidr, dual_stack=False)
        if problem:
            raise bad_input(f"--exclude-cidr: {problem}")
    if options.advertise_address is not None:
        _ip(options.advertise_address, "--advertise-address")
    if options.bind_port is not None and not 1 <= options.bind_port <= 65535:
        raise bad_input(f"--bind-port {options.bind_port} is not a TCP port; use 1-65535")
    ipvs_given = (
        options.ipvs_scheduler
        or options.strict_arp
        or options.exclude_cidrs
        or any(getattr(options, attribute) for attribute in IPVS_PERIODS)
    )
    if ipvs_given and options.proxy_mode not in (None, "ipvs"):
        raise bad_input(
            f"the --ipvs-* options, --strict-arp and --exclude-cidr need --proxy-mode ipvs, not {options.proxy_mode}"
        )
    if options.migrate and not options.patch:
        raise bad_input("--migrate converts a file given with --patch; add --patch FILE")
    for assignment in options.sets:
        _split_assignment(assignment)


def _check_characters(options: Options) -> None:
    """Values become YAML scalars and words of the header: a control character or a line separator (U+0085,
    U+2028, U+2029, which YAML readers take as line breaks) in one could inject a key; refuse them."""
    for name, value in vars(options).items():
        if name in ("out", "patch"):  # file names: core.system.check_name decides, and the header escapes them
            continue
        for text in value if isinstance(value, tuple) else (value,):
            if isinstance(text, str) and not text.isprintable():
                bad = next(c for c in text if not c.isprintable())
                option = flag_of(name).name
                raise bad_input(f"{option} holds the character {bad!r}; values must not hold control characters")


def _ip(text: str, option: str) -> str:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise bad_input(f"{option} {text!r} is not an IP address") from None
    if str(address) == PLACEHOLDER_ADDRESS:
        raise bad_input(f"{option} 1.2.3.4 is kubeadm's placeholder; give the host's real address")
    return str(address)


def _fresh_token() -> str:
    import secrets  # lazy: ~8 ms, needed only when no token is given or reused

    pick = secrets.choice
    return "".join(pick(_TOKEN_ALPHABET) for _ in range(6)) + "." + "".join(pick(_TOKEN_ALPHABET) for _ in range(16))


def _reusable_token(system: System, out: PurePosixPath, warnings: list[str]) -> str | None:
    """The valid, non-placeholder bootstrap token of an existing output file, so re-running changes nothing.

    Only from a file that no one else could have written or read: a regular file (not a link) owned by the user
    running k8snode, with mode 0600. Any other file's token may be known to someone else; a new one is made.
    """
    if system.is_symlink(out):
        return None
    existing = system.read_bytes(out, MAX_CONFIG_BYTES)
    if existing is None:
        return None
    try:
        documents = load_documents(decode_text(existing, "the --out file"), "the --out file")
    except K8snodeError:  # an old file that is not YAML is replaced, its token not reused
        return None
    for document in documents:
        if not isinstance(document, dict):
            continue
        tokens = document.get("bootstrapTokens")
        candidates = [t.get("token") for t in tokens if isinstance(t, dict)] if isinstance(tokens, list) else []
        candidates.append(document.get("token"))
        for candidate in candidates:
            if isinstance(candidate, str) and is_token(candidate) and candidate != PLACEHOLDER_TOKEN:
                owner, mode = system.owner_and_mode(out)
                if owner == os.geteuid() and mode & 0o077 == 0:
                    return candidate
                warnings.append(
                    f"not reusing the bootstrap token of {out}: it is owned by uid {owner} with mode {mode:04o}, "
                    f"and only a file owned by uid {os.geteuid()} with mode 0600 keeps it secret; made a new one"
                )
                return None
    return None


def _input_target(system: System, patch: str) -> PurePosixPath | None:
    """The --patch file as a path on the target system, to tell whether --out names the same file."""
    if patch.startswith("/"):
        return PurePosixPath(patch)
    if system.root == Path("/"):
        return PurePosixPath(os.path.normpath(Path.cwd() / patch))
    return None


def _release(options: Options, documents: list[Any] | None, warnings: list[str]) -> Release:
    if options.kubernetes_version:
        release = parse_release(options.kubernetes_version)
    elif documents:
        named = target_release(documents)
        if named is None:
            problem = release_problem(str(named_version(documents)))
            raise bad_input(
                f"--patch {options.patch}: kubernetesVersion {problem}; correct it or give --kubernetes-version"
            )
        release = named
    else:
        release = newest_known()
    if release > newest_known():
        warnings.append(
            f"Kubernetes {release} is newer than the newest release k8snode knows ({newest_known()}); "
            "rendering with the newest kubeadm API"
        )
    return release


def _advertise_address(system: System, options: Options) -> str:
    if options.advertise_address:
        return _ip(options.advertise_address, "--advertise-address")
    found = primary_ipv4(system)
    if found is None:
        raise bad_input(
            "cannot determine the host's primary IPv4 address from /proc/net/route and /proc/net/fib_trie; "
            "pass --advertise-address"
        )
    return found


def _host_kernel(system: System) -> str | None:
    release = system.read_text("/proc/sys/kernel/osrelease")
    return release.strip() or None if release else None


def _proxy_feature_gates(options: Options, release: Release) -> dict[str, bool]:
    """The kube-proxy feature gates the proxy mode needs on ``release``; nftables before its alpha is bad input."""
    if options.proxy_mode != ProxyMode.NFTABLES:
        return {}
    if release.minor_version < NFTABLES_ALPHA:
        raise bad_input(
            f"--proxy-mode nftables needs Kubernetes {minor_text(NFTABLES_ALPHA)} or later (kube-proxy's "
            f"{NFTABLES_GATE} gate: {NFTABLES_STAGES}); kube-proxy {release} has ipvs and iptables"
        )
    return {NFTABLES_GATE: True} if release.minor_version < NFTABLES_BETA else {}


def _strict_arp(options: Options) -> bool | None:
    """strictARP as given, or on when an L2 load balancer runs under IPVS (render and patch alike)."""
    if options.load_balancer is None or (options.proxy_mode or "ipvs") != "ipvs":
        return options.strict_arp
    if options.strict_arp is False:
        raise bad_input(f"--lb {options.load_balancer} in L2 mode under IPVS needs strictARP: drop --no-strict-arp")
    return True


def _proxy_settings(options: Options, release: Release) -> dict[str, Any]:
    """The values of a new KubeProxyConfiguration (templates/kubeadm/kube-proxy.yaml.j2): defaults filled in."""
    settings: dict[str, Any] = {
        "mode": options.proxy_mode or "ipvs",
        "cluster_cidr": options.pod_subnet,
        "scheduler": options.ipvs_scheduler or "rr",
        "strict_arp": bool(_strict_arp(options)),
        "exclude_cidrs": list(options.exclude_cidrs),
        "feature_gates": _proxy_feature_gates(options, release),
    }
    settings.update({attribute: getattr(options, attribute) for attribute in IPVS_PERIODS})
    return settings


def _template_values(system: System, options: Options, api: KubeadmApi, release: Release, token: str) -> dict[str, Any]:
    proxy = _proxy_settings(options, release)
    proxy["ipvs_feature_gates"] = (
        {"SupportIPVSProxyMode": True} if release.minor_version >= (1, 10) else "SupportIPVSProxyMode=true"
    )
    return {
        "token": token,
        "advertise_address": _advertise_address(system, options),
        "bind_port": options.bind_port or 6443,
        "node_name": options.node_name,
        "cri_socket": options.cri_socket
        or (CONTAINERD_SOCKET_V1ALPHA1 if api.name == "v1alpha1" else CONTAINERD_SOCKET),
        "kubernetes_version": str(release),
        "cluster_name": options.cluster_name or "kubernetes",
        "control_plane_endpoint": options.control_plane_endpoint,
        "image_repository": options.image_repository or ("k8s.gcr.io" if api.name == "v1alpha1" else "registry.k8s.io"),
        "service_subnet": options.service_subnet or "10.96.0.0/12",
        "pod_subnet": options.pod_subnet,
        "proxy": proxy,
        "kubelet_config": options.kubelet_config,
        "kubelet_swap": _kubelet_swap(options, release)[0],
    }


def render_template(name: str, values: dict[str, Any]) -> str:
    """Render ``templates/kubeadm/<name>``; the templates pass every value through the ``toyaml`` filter."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda template: template_text(f"kubeadm/{template}")),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - YAML, not HTML: the toyaml filter quotes values as YAML needs
    )
    environment.filters["toyaml"] = to_yaml
    return environment.get_template(name).render(**values).rstrip() + "\n"


def _render(system: System, options: Options, token: str) -> _Plan:
    warnings: list[str] = []
    release = _release(options, None, warnings)
    api = choose_api(min(release, newest_known()), options.api_version)
    if api.name == "v1alpha1":
        warnings.append("kubeadm API v1alpha1 (MasterConfiguration) is read only by kubeadm 1.10 and older")
    text = render_template(f"{api.name}.yaml.j2", _template_values(system, options, api, release, token))
    warnings += _kubelet_swap(options, release)[1]
    return _Plan(release, api, load_documents(text, f"template {api.name}.yaml.j2"), warnings=warnings)


def _without_header(text: str) -> str:
    """A file k8snode wrote gets a new header instead of a second one."""
    old_header = "".join(line for line in text.splitlines(keepends=True)[:1] if line.startswith(OWNER_MARK.decode()))
    return text.removeprefix(old_header)


def _patch(system: System, options: Options, token: str, text: str, documents: list[Any]) -> _Plan:
    source = str(options.patch)
    warnings: list[str] = []
    release = _release(options, documents, warnings)
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
    _ensure_documents(documents, options, release)
    warnings += _replace_placeholders(system, documents, options, token)
    warnings += _kubelet_swap(options, release)[1]
    proxy = _document(documents, "KubeProxyConfiguration")
    if options.proxy_mode is None and proxy.get("mode") not in ("ipvs", None):
        warnings.append(
            f"KubeProxyConfiguration.mode {proxy['mode'] or '(empty: iptables)'} becomes ipvs, k8snode's default; "
            f"pass --proxy-mode {proxy['mode'] or 'iptables'} to keep it"
        )
    for kind, path, value in _patch_settings(options, release):
        document = _document(documents, kind)
        if document is not None:
            _set(document, path, value)
    return _Plan(release, api, documents, warnings=warnings, indent=guess_indent(text))


CONFIGMAP_OPTIONS = {
    KUBE_PROXY: {
        "kubernetes_version",
        "patch",
        "out",
        "node_kernel",
        "proxy_mode",
        "ipvs_scheduler",
        "strict_arp",
        "exclude_cidrs",
        *IPVS_PERIODS,
        "load_balancer",
        "pod_subnet",
        "sets",
    },
    KUBEADM_CONFIG: {"kubernetes_version", "patch", "out", "node_kernel", "proxy_mode"},
}
"""The options that apply to each ConfigMap: those that set KubeProxyConfiguration, and the validation target."""
IPVS_ONLY = {
    "strictARP": "only IPVS mode needs it (kube-ipvs0 holds every Service address); MetalLB and kube-vip in L2 "
    "mode do not need it under {mode}",
    "scheduler": "{mode} mode has no scheduler",
    "syncPeriod": "set {mode}.syncPeriod to keep it (--set KubeProxyConfiguration.{mode}.syncPeriod={value})",
    "minSyncPeriod": "set {mode}.minSyncPeriod to keep it (--set KubeProxyConfiguration.{mode}.minSyncPeriod={value})",
}
"""Why a setting of the ipvs block no longer applies, for the fields that have more to say than "only IPVS reads it"."""
_ZERO_VALUES = (None, "", False, "0s", 0)


def _patch_configmap(
    system: System,
    options: Options,
    out: PurePosixPath | None,
    patched: tuple[str, str],
    documents: list[Any],
    *,
    dry_run: bool,
    force: bool,
) -> ConfigResult:
    """Edit the document a kube-proxy or kubeadm-config ConfigMap holds; every byte around it stays as it was."""
    source, text = patched[0], _without_header(patched[1])  # a ConfigMap k8snode wrote with --out
    embedded = find_embedded(text, documents, source)
    given = [item.name for item in fields(Options) if getattr(options, item.name) != item.default]
    for name in given:
        if name not in CONFIGMAP_OPTIONS[embedded.name]:
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
    release = _release(options, inner, warnings)
    if embedded.name == KUBE_PROXY:
        if options.kubernetes_version is None:
            warnings.append(
                f"the kube-proxy ConfigMap does not name its release: checked for kube-proxy {release}; "
                "pass --kubernetes-version with the cluster's"
            )
        for _kind, path, value in _patch_settings(options, release):
            if _kind == kind:
                _set(inner[0], path, value)
        warnings += _drop_ipvs_settings(inner[0], options.proxy_mode)
        _apply_sets(inner, options.sets)
    else:
        warnings.append(_no_proxy_settings(inner[0], options.proxy_mode))
    report = validate_documents(
        inner, Context(release, options.load_balancer, options.node_kernel or _host_kernel(system))
    )
    if report.problems:
        raise bad_input(redact(f"data.{embedded.key} does not validate: " + "; ".join(report.messages())))
    warnings += report.warnings
    value = dump_documents(inner, guess_indent(embedded.value))
    value = value.rstrip("\n") + "\n" * (len(embedded.value) - len(embedded.value.rstrip("\n")))
    new_text = replace_embedded(text, embedded, value)
    data: dict[str, Any] = {
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
    patching_in_place = options.patch != STDIO and _input_target(system, str(options.patch)) == out
    # A file gets k8snode's header (kubectl reads past a comment), so a later run knows it may replace it; standard
    # output stays byte for byte the ConfigMap, for `| kubectl replace -f -`.
    written = f"{header(options.command_line())}\n{new_text}".encode()
    file = plan_write(system, out, 0o644, written, force=force, adoptable=lambda _: patching_in_place)
    changed = apply(system, [file], dry_run=dry_run)
    data["action"] = file.action
    if not dry_run:
        data["next"] = f"kubectl replace -f {out}"
    return ConfigResult("kubeadm-config", data, changed, warnings, summary=f"{out}: {file.action} (mode 0644)")


def _drop_ipvs_settings(proxy: Any, mode: str) -> list[str]:
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


def _no_proxy_settings(cluster: Any, mode: str) -> str:
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

    def walk(a: Any, b: Any, path: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for key in [*a, *(k for k in b if k not in a)]:
                walk(a.get(key, _MISSING), b.get(key, _MISSING), f"{path}.{key}" if path else str(key))
        elif a != b:
            found.append(path)

    walk(load_documents(old, "old")[0], load_documents(new, "new")[0], "")
    return found


_MISSING = object()


def _diff(old: str, new: str, key: str) -> str:
    import difflib

    old, new = (text if text.endswith("\n") else text + "\n" for text in (old, new))  # |- drops the last one
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/data/{key}", f"b/data/{key}"
    )
    return redact("".join(lines))


def _file_api(documents: list[Any], source: str) -> KubeadmApi:
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


def _document(documents: list[Any], kind: str) -> Any:
    return next((d for d in documents if isinstance(d, dict) and d.get("kind") == kind), None)


def _ensure_documents(documents: list[Any], options: Options, release: Release) -> None:
    """Add the KubeProxyConfiguration (and, with --kubelet-config, KubeletConfiguration) the file lacks."""
    values = {"proxy": _proxy_settings(options, release), "kubelet_swap": _kubelet_swap(options, release)[0]}
    wanted = [("KubeProxyConfiguration", "kube-proxy.yaml.j2")]
    if options.kubelet_config:
        wanted.append(("KubeletConfiguration", "kubelet.yaml.j2"))
    for kind, template in wanted:
        if _document(documents, kind) is None:
            documents.extend(load_documents(render_template(template, values), f"template {template}"))


def _replace_placeholders(system: System, documents: list[Any], options: Options, token: str) -> list[str]:
    warnings: list[str] = []
    init = _document(documents, "InitConfiguration")
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


def _patch_settings(options: Options, release: Release) -> list[tuple[str, tuple[str, ...], Any]]:
    """Where each given option goes in a v1beta3/v1beta4 file: (kind, path, value)."""
    candidates: list[tuple[str, tuple[str, ...], Any]] = [
        ("InitConfiguration", ("localAPIEndpoint", "advertiseAddress"), options.advertise_address),
        ("InitConfiguration", ("localAPIEndpoint", "bindPort"), options.bind_port),
        ("InitConfiguration", ("nodeRegistration", "name"), options.node_name),
        ("InitConfiguration", ("nodeRegistration", "criSocket"), options.cri_socket),
        ("ClusterConfiguration", ("kubernetesVersion",), options.kubernetes_version),
        ("ClusterConfiguration", ("controlPlaneEndpoint",), options.control_plane_endpoint),
        ("ClusterConfiguration", ("networking", "podSubnet"), options.pod_subnet),
        ("ClusterConfiguration", ("networking", "serviceSubnet"), options.service_subnet),
        ("ClusterConfiguration", ("imageRepository",), options.image_repository),
        ("ClusterConfiguration", ("clusterName",), options.cluster_name),
        ("KubeProxyConfiguration", ("mode",), options.proxy_mode or "ipvs"),
        ("KubeProxyConfiguration", ("clusterCIDR",), options.pod_subnet),
        ("KubeProxyConfiguration", ("ipvs", "scheduler"), options.ipvs_scheduler),
        ("KubeProxyConfiguration", ("ipvs", "strictARP"), _strict_arp(options)),
        ("KubeProxyConfiguration", ("ipvs", "excludeCIDRs"), list(options.exclude_cidrs) or None),
        *(
            ("KubeProxyConfiguration", ("ipvs", key), getattr(options, attribute))
            for attribute, key in IPVS_PERIODS.items()
        ),
        *(
            ("KubeProxyConfiguration", ("featureGates", gate), on)
            for gate, on in _proxy_feature_gates(options, release).items()
        ),
    ]
    if options.kubelet_config:  # the settings a new KubeletConfiguration has, from its one template
        values = {"kubelet_swap": _kubelet_swap(options, release)[0]}
        kubelet = load_documents(render_template("kubelet.yaml.j2", values), "template kubelet.yaml.j2")[0]
        candidates += [
            ("KubeletConfiguration", path, value)
            for path, value in _leaves(kubelet)
            if path not in (("apiVersion",), ("kind",))
        ]
    return [(kind, path, value) for kind, path, value in candidates if value is not None]


def _kubelet_swap(options: Options, release: Release) -> tuple[dict[str, object], list[str]]:
    """The KubeletConfiguration fields --swap keep adds for this release, and a note for each one left out."""
    return kubelet_keep_swap(release.minor_version) if options.swap == SwapMode.KEEP else ({}, [])


def _leaves(mapping: dict[str, Any], above: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Each value of a nested mapping that is not itself a mapping, with its path: a patch sets fields one by one,
    so the other keys of a map the file already has stay."""
    found: list[tuple[tuple[str, ...], Any]] = []
    for key, value in mapping.items():
        found += _leaves(value, (*above, key)) if isinstance(value, dict) else [((*above, key), value)]
    return found


def _set(document: Any, path: tuple[str, ...], value: Any) -> None:
    """Set ``value`` at ``path`` (maps created as needed); leave the node alone when it already holds it."""
    from ruamel.yaml.comments import CommentedMap

    parent = document
    for part in path[:-1]:
        child = parent.get(part)
        if not isinstance(child, dict):
            child = CommentedMap()
            parent[part] = child
        parent = child
    key = path[-1]
    if parent.get(key) != value or key not in parent:
        parent[key] = quoted(value)


def migrate_v1beta3(documents: list[Any]) -> list[str]:
    """Convert kubeadm v1beta3 documents to v1beta4 in place; return what was done, as warnings."""
    from ruamel.yaml.comments import CommentedMap

    done = []
    init, join = _document(documents, "InitConfiguration"), _document(documents, "JoinConfiguration")
    for document in documents:
        if not isinstance(document, dict) or document.get("apiVersion") != "kubeadm.k8s.io/v1beta3":
            continue
        document["apiVersion"] = "kubeadm.k8s.io/v1beta4"
        kind = document.get("kind")
        holders = [("nodeRegistration", "kubeletExtraArgs")]
        if kind == "ClusterConfiguration":
            holders = [(c, "extraArgs") for c in ("apiServer", "controllerManager", "scheduler")]
            holders.append(("etcd", "local", "extraArgs"))  # type: ignore[arg-type]
        for holder in holders:
            parent = value_at(document, holder[:-1])
            arguments = parent.get(holder[-1]) if isinstance(parent, dict) else None
            if isinstance(arguments, dict):
                parent[holder[-1]] = [CommentedMap(name=str(k), value=str(v)) for k, v in arguments.items()]
                done.append(f"{kind}.{'.'.join(holder)}: map -> list of {{name, value}}")
        api_server = document.get("apiServer") if kind == "ClusterConfiguration" else None
        if isinstance(api_server, dict) and "timeoutForControlPlane" in api_server:
            timeout = api_server.pop("timeoutForControlPlane")
            # kubeadm config migrate gives both InitConfiguration and JoinConfiguration the control plane timeout.
            carriers = [d for d in (init, join) if d is not None]
            for carrier in carriers:
                carrier.setdefault("timeouts", CommentedMap())["controlPlaneComponentHealthCheck"] = timeout
            moved_to = " and ".join(f"{c['kind']}.timeouts.controlPlaneComponentHealthCheck" for c in carriers)
            outcome = f"-> {moved_to}" if carriers else "dropped: no Init or JoinConfiguration holds it"
            done.append(f"ClusterConfiguration.apiServer.timeoutForControlPlane {outcome}")
        discovery = document.get("discovery") if kind == "JoinConfiguration" else None
        if isinstance(discovery, dict) and "timeout" in discovery:
            document.setdefault("timeouts", CommentedMap())["discovery"] = discovery.pop("timeout")
            done.append("JoinConfiguration.discovery.timeout -> JoinConfiguration.timeouts.discovery")
    return ["migrated kubeadm.k8s.io/v1beta3 to v1beta4" + (": " + "; ".join(done) if done else "")]


def _split_assignment(assignment: str) -> tuple[str, list[str], str]:
    path, equals, value = assignment.partition("=")
    parts = path.split(".")
    if not equals or len(parts) < 2 or not all(parts):
        raise bad_input(
            f"--set {assignment!r}: use Kind.field.path=VALUE, e.g. KubeProxyConfiguration.ipvs.syncPeriod=10s"
        )
    return parts[0], parts[1:], value


def _apply_sets(documents: list[Any], assignments: tuple[str, ...]) -> None:
    for assignment in assignments:
        kind, parts, text = _split_assignment(assignment)
        document = _document(documents, kind)
        if document is None:
            kinds = [str(d.get("kind")) for d in documents if isinstance(d, dict)]
            hint = "; add --kubelet-config" if kind == "KubeletConfiguration" else schema.did_you_mean(kind, kinds)
            raise bad_input(f"--set {assignment!r}: no {kind} document (the file has {', '.join(kinds)}){hint}")
        found = schema.load(str(document.get("apiVersion")), kind)
        if found is None:
            raise bad_input(f"--set {assignment!r}: k8snode has no schema for {document.get('apiVersion')} {kind}")
        spec = schema.field_spec(found, parts)
        if isinstance(spec, str):
            raise bad_input(f"--set {assignment!r}: {spec}")
        _set(document, tuple(parts), _typed(text, spec, assignment))


def _typed(text: str, spec: schema.Spec, assignment: str) -> Any:
    kind = spec["type"]
    if kind in ("string", "duration", "time"):
        return text
    if kind == "bool" and text in ("true", "false"):
        return text == "true"
    if kind in ("integer", "int-or-string", "quantity") and _DECIMAL.fullmatch(text):
        return _integer(text, spec, assignment)
    if kind in ("int-or-string", "quantity"):
        return text
    if kind == "number":
        try:
            return float(text) if "." in text else int(text)
        except ValueError:
            pass
    if kind == "list":
        return [_typed(item.strip(), spec["items"], assignment) for item in text.split(",") if item.strip()]
    if kind == "any":
        documents = load_documents(text, f"--set {assignment!r}")
        return documents[0] if documents else None
    raise bad_input(
        f"--set {assignment!r}: {text!r} is not {'an' if kind[0] in 'aeiou' else 'a'} {kind} value"
        + ("; set its fields one by one" if kind in ("object", "map") else "")
    )


# ASCII digits only: str.isdigit() also takes "²" and "٣", which are not numbers to Go (nor to int(), for "²").
_DECIMAL = re.compile(r"-?[0-9]+")
# Far beyond every Go integer (20 digits), and below the 4,300 digits Python converts to an int.
_MAX_DIGITS = 64


def _integer(text: str, spec: schema.Spec, assignment: str) -> int | str:
    """A --set number, refused when it is outside the range of the Go integer type the field decodes into."""
    field = assignment.partition("=")[0]
    digits = len(text.lstrip("-"))
    if digits > _MAX_DIGITS:
        if spec["type"] == "quantity":
            return text
        raise bad_input(f"--set {field}: {schema.out_of_range(f'a number of {digits} digits', spec['format'])}")
    value = int(text)
    problem = schema.scalar_problem(value, spec)
    if problem:
        raise bad_input(f"--set {field}: {problem}")
    return value


def _proxy_mode(documents: list[Any]) -> str:
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
