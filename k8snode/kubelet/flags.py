"""Kubelet flag sets for a Kubernetes version: the flags (or KubeletConfiguration) that carry k8snode's settings.

The catalog is data. The generated kubelet catalog (kubelet/flagdefs.py, from the real flag sets) says each
flag's KubeletConfiguration field and default and, from its oldest release on, whether the flag exists and is
deprecated. kubelet/data/kubelet_settings.json adds what it cannot: each setting's value type and words, and
its history before that release (which flag carried it, when its field came and when it was deprecated or
removed). This module only reads those rows; it has no per-flag code. Its value rules (label names, taints,
durations) are those of core/names.py and core/durations.py, which lint's checker (kubelet/flagvalues.py) uses too;
tests/kubelet/test_kubelet_flags.py proves that lint accepts every value it prints.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from string import Template
from typing import Any, TypeAlias
from urllib.parse import urlsplit, urlunsplit

from k8snode.core.compat import StrEnum
from k8snode.core.durations import duration, parse_duration, timeout_seconds
from k8snode.core.errors import bad_input
from k8snode.core.files import apply, header, plan_write
from k8snode.core.heartbeat import Kubelet, check_heartbeats
from k8snode.core.names import (
    TAINT_EFFECTS,
    TaintError,
    TaintProblem,
    is_http_token,
    label_key_problem,
    label_value_problem,
    parse_taints,
)
from k8snode.core.resources import package_text, template_text
from k8snode.core.result import Result
from k8snode.core.system import STDIO, System
from k8snode.core.versions import NEWEST_KUBERNETES, KubernetesVersion, parse_kubernetes_version
from k8snode.core.yamldoc import dump_documents
from k8snode.kubelet.flagdefs import FlagDef, Minor, ReleaseFlags, generated_releases, minor, show, standing_for
from k8snode.node.swap import SwapMode, kubelet_keep_swap

CONFIG_API_VERSION = "kubelet.config.k8s.io/v1beta1"
CONFIG_KIND = "KubeletConfiguration"
COMMAND = "kubelet-flags"

ConfigValue: TypeAlias = "bool | int | str | Sequence[ConfigValue] | Mapping[str, ConfigValue] | None"
"""A value in a KubeletConfiguration document, as YAML holds it."""


class Format(StrEnum):
    FLAGS = "flags"
    ARGS = "args"
    ENV = "env"
    DROPIN = "dropin"
    CONFIG = "config"


@dataclass(frozen=True)
class FlagName:
    """The kubelet flag that carries a setting from ``since`` up to (not including) ``until``."""

    flag: str
    since: Minor | None = None
    until: Minor | None = None

    def covers(self, version: Minor) -> bool:
        return (self.since is None or version >= self.since) and (self.until is None or version < self.until)


@dataclass(frozen=True)
class ReservedLabels:
    """Label namespaces the kubelet keeps to itself from ``since``: only the allowed keys may be set."""

    since: Minor
    namespaces: tuple[str, ...]
    allowed_namespaces: tuple[str, ...]
    allowed: tuple[str, ...]

    def refused(self, key: str) -> bool:
        namespace = key.partition("/")[0] if "/" in key else ""
        return (
            _in_namespace(namespace, self.namespaces)
            and key not in self.allowed
            and not _in_namespace(namespace, self.allowed_namespaces)
        )


@dataclass(frozen=True)
class Setting:
    """A kubelet setting k8snode takes. From kubelet_settings.json: its value type, its words, and its history
    before the oldest generated release. From the generated catalog (kubelet/flagdefs.py): its KubeletConfiguration
    field and default, and, for the generated releases and later, whether its flag exists and is deprecated."""

    name: str
    flags: tuple[FlagName, ...]
    """The flag's names by release; the open-ended last one is the flag of the generated releases."""
    type: str
    description: str
    source: str
    aliases: tuple[str, ...] = ()
    field: str | None = None
    """The KubeletConfiguration field, from the newest generated release."""
    default: str = ""
    """The kubelet's default in the newest generated release."""
    field_since: Minor | None = None
    deprecated: Minor | None = None
    """The release that deprecated the flag: said in the warning; decides only before the generated releases."""
    removed: Minor | None = None
    replacement: str | None = None
    choices: tuple[str, ...] = ()
    choices_since: Minor | None = None
    single_before: Minor | None = None
    """Releases before this took one value where later ones take a comma-separated list."""
    reserved_labels: ReservedLabels | None = None
    note: str | None = None
    """Context for the error message when the setting is not available or its value not accepted."""

    @property
    def option(self) -> str:
        return f"--{self.name}"

    def flag_at(self, version: Minor) -> FlagName | None:
        """The flag that carries the setting in kubelet ``version``: a generated release must define it."""
        name = self._named_at(version)
        if generated_at(version) is not None and self.definition(version) is None:
            return None
        return name

    def definition(self, version: Minor) -> FlagDef | None:
        """The flag as the generated release standing for ``version`` defines it; None before the generated
        releases, where the hand-written history speaks."""
        release = generated_at(version)
        name = self._named_at(version)
        return None if release is None or name is None else release.flags.get(name.flag.removeprefix("--"))

    def field_at(self, version: Minor) -> str | None:
        """The KubeletConfiguration field that holds the setting in kubelet ``version``, if there is one."""
        if generated_at(version) is not None:
            definition = self.definition(version)
            return (definition.field or None) if definition is not None else None
        return self.field if self.field_since is not None and version >= self.field_since else None

    def deprecated_at(self, version: Minor) -> bool:
        if generated_at(version) is not None:
            definition = self.definition(version)
            return definition is not None and bool(definition.deprecated)
        return self.deprecated is not None and version >= self.deprecated

    def _named_at(self, version: Minor) -> FlagName | None:
        return next((name for name in self.flags if name.covers(version)), None)


def generated_at(version: Minor) -> ReleaseFlags | None:
    """The generated release whose flag set stands for kubelet ``version``; None before the oldest one."""
    release = standing_for(version)
    return release if version >= release.minor else None


@dataclass(frozen=True)
class Catalog:
    settings: tuple[Setting, ...]
    oldest: Minor
    newest: Minor
    """The newest generated release."""
    config_file_since: Minor
    node_management_set: Mapping[str, object]

    def setting(self, name: str) -> Setting:
        return next(s for s in self.settings if s.name == name)


@cache
def catalog() -> Catalog:
    raw = json.loads(package_text("kubelet", "data", "kubelet_settings.json"))
    newest = generated_releases()[-1]
    return Catalog(
        settings=tuple(_setting(row, newest) for row in raw["settings"]),
        oldest=minor(raw["oldest"]),
        newest=newest.minor,
        config_file_since=minor(raw["config_file_since"]),
        node_management_set=raw["node_management_set"],
    )


def describe(name: str) -> str:
    """The catalog's one-line description of a setting and the kubelet's default: its k8snode option's help."""
    setting = catalog().setting(name)
    if not setting.default:
        return setting.description
    return f"{setting.description} Kubelet default: {setting.default}."


@dataclass(frozen=True)
class Value:
    """A validated setting value, as the kubelet flag takes it and as the KubeletConfiguration field holds it."""

    flag_text: str
    config: ConfigValue
    redacted: str | None = None
    """How the value appears in the header's canonical command, when it may hold a secret."""


@dataclass
class FlagSet:
    output: Format
    flags: list[tuple[str, Value]] = field(default_factory=list)
    config: dict[str, object] | None = None
    deprecations: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def flag_words(self) -> list[str]:
        return [f"{flag}={value.flag_text}" for flag, value in self.flags]


def parse_version(text: str, option: str = "--kubernetes-version") -> KubernetesVersion:
    """The kubelet release ``option`` names; bad input unless it is one k8snode knows (or newer)."""
    parsed = parse_kubernetes_version(text)
    if parsed is None:
        raise bad_input(f"{option} {text!r} is not a Kubernetes version; use one such as {NEWEST_KUBERNETES}")
    known = catalog()
    if parsed.major != 1 or parsed.minor_version < known.oldest:
        raise bad_input(f"{option} {text}: k8snode knows kubelet {show(known.oldest)} to {show(known.newest)}")
    return parsed


def build(version: Minor, settings: Mapping[str, object], output: Format) -> FlagSet:
    """The flags (and, for ``config``, the KubeletConfiguration) that carry ``settings`` for kubelet ``version``."""
    known = catalog()
    result = FlagSet(output)
    if version > known.newest:
        result.warnings.append(
            f"k8snode's catalog ends at kubelet {show(known.newest)}; flags for {show(version)} follow it"
        )
    if output == Format.CONFIG:
        if version < known.config_file_since:
            raise bad_input(
                f"--format config: kubelet {show(version)} cannot read a KubeletConfiguration file "
                f"(--config names one from {show(known.config_file_since)}); use --format flags, args, env or dropin"
            )
        result.config = {"apiVersion": CONFIG_API_VERSION, "kind": CONFIG_KIND}
    unknown = sorted(set(settings) - {s.name for s in known.settings})
    if unknown:
        raise bad_input(f"unknown kubelet setting(s): {', '.join(unknown)}")
    for setting in known.settings:
        if setting.name not in settings:
            continue
        flag = _flag_at(setting, version)
        value = _validate(setting, settings[setting.name], version, output)
        config_field = setting.field_at(version)
        if result.config is not None and config_field is not None:
            result.config[config_field] = value.config
            continue
        result.flags.append((flag, value))
        if setting.deprecated_at(version):
            _deprecate(result, setting, flag, config_field)
    return result


def default_format(version: Minor) -> Format:
    """The KubeletConfiguration file where the kubelet reads one (1.10+): the flags it carries are deprecated there."""
    return Format.CONFIG if version >= catalog().config_file_since else Format.FLAGS


def render(
    system: System,
    settings: Mapping[str, object],
    *,
    kubernetes_version: str | None = None,
    output: Format | None = None,
    out: str | None = None,
    dry_run: bool = False,
    force: bool = False,
    swap: SwapMode = SwapMode.OFF,
    node_monitor_grace_period: str | None = None,
) -> Result:
    """Print (or, with ``out``, write) the kubelet flag set for a version; the node-management set by default.

    ``out`` of ``-`` is standard output, as if no ``out`` were given. ``swap`` keep adds what a kubelet on a node
    that keeps swap on needs (node/swap.py ``kubelet_keep_swap``): failSwapOn false, and from 1.30 memorySwap.
    ``node_monitor_grace_period`` is kube-controller-manager's (its release default when None): a warning says
    when it is too short for the kubelet's heartbeats (core/heartbeat.py).
    """
    out = None if out == STDIO else out
    if node_monitor_grace_period is not None:
        timeout_seconds(node_monitor_grace_period, "--node-monitor-grace-period")
    release = parse_version(kubernetes_version or NEWEST_KUBERNETES)
    version = release.minor_version
    chosen = dict(settings or catalog().node_management_set)
    swap_fields, swap_notes = kubelet_keep_swap(version) if swap == SwapMode.KEEP else ({}, [])
    if "failSwapOn" in swap_fields:
        if chosen.get("fail-swap-on") is True:
            raise bad_input("--swap keep and --fail-swap-on contradict each other: the kubelet would refuse to start")
        chosen["fail-swap-on"] = swap_fields["failSwapOn"]
    flag_set = build(version, chosen, output or default_format(version))
    flag_set.warnings += swap_notes
    update_frequency = chosen.get("node-status-update-frequency")
    heartbeats = check_heartbeats(
        release,
        Kubelet(update_frequency=str(update_frequency) if update_frequency is not None else None),
        node_monitor_grace_period,
        "given",
    )
    if heartbeats is not None:
        flag_set.warnings.append(heartbeats)
    if "memorySwap" in swap_fields:
        if flag_set.config is not None:
            flag_set.config["memorySwap"] = swap_fields["memorySwap"]
        else:
            flag_set.warnings.append(
                "memorySwap.swapBehavior has no kubelet flag; NoSwap is what the kubelet does without it, and "
                "--format config writes it out"
            )
    target = system.output_path(out, "--out") if out is not None else None
    if flag_set.output == Format.CONFIG and "config" not in chosen:
        if target is not None:
            flag_set.flags.append(("--config", Value(str(target), str(target))))
        elif output is not None:  # asked for; the default form's extra-args line says where the file goes
            flag_set.warnings.append("the kubelet needs --config PATH naming this file: pass --config or --out")
    text, extra_args = _text(flag_set)
    data: dict[str, Any] = {
        "kubernetes_version": release.text,
        "format": str(flag_set.output),
        "flags": flag_set.flag_words(),
        "config": flag_set.config,
        "deprecations": flag_set.deprecations,
        "text": text,
        "extra_args": extra_args,
    }
    if target is None:
        return Result(COMMAND, data, warnings=flag_set.warnings)
    command = _canonical_command(release, settings, flag_set.output, swap)
    content = f"{header(command)}\n{text}"
    with system.lock_unless(dry_run):
        plan = plan_write(system, target, 0o644, content.encode(), force=force, adoptable=_package_placeholder)
        apply(system, [plan], dry_run=dry_run)
    data["files"] = [plan.as_dict()]
    if dry_run:
        data["diffs"] = {str(plan.path): plan.diff()} if plan.needs_write else {}
    return Result(
        COMMAND, data, plan.needs_write, flag_set.warnings, summary=f"{plan.path}: {plan.action.replace('-', ' ')}"
    )


def _package_placeholder(content: bytes) -> bool:
    """The kubelet packages ship /etc/default/kubelet (or /etc/sysconfig/kubelet) holding only an empty
    ``KUBELET_EXTRA_ARGS=``; replacing that is the point of ``--format env``, so it needs no --force. Neither does
    an empty file; a file of comments only does."""
    lines = [line.strip() for line in content.decode(errors="replace").splitlines() if line.strip()]
    if not lines:  # an empty file holds nothing to lose; one with only comments holds someone's notes
        return True
    return [line for line in lines if not line.startswith("#")] == ["KUBELET_EXTRA_ARGS="]


def _flag_at(setting: Setting, version: Minor) -> str:
    if setting.removed is not None and version >= setting.removed:
        names = f"{setting.option} ({', '.join(setting.aliases)})" if setting.aliases else setting.option
        since = f" (deprecated since {show(setting.deprecated)})" if setting.deprecated else ""
        raise bad_input(
            f"{names} was removed in kubelet {show(setting.removed)}{since}; "
            f"use {setting.replacement} instead (target kubelet {show(version)})"
        )
    name = setting.flag_at(version)
    if name is None:
        first, flag = min((n.since, n.flag) for n in setting.flags if n.since is not None)
        note = f"; {setting.note}" if setting.note else ""
        raise bad_input(
            f"{setting.option} is not a kubelet {show(version)} setting: the kubelet has {flag} "
            f"from {show(first)}{note}"
        )
    return name.flag


def _validate(setting: Setting, raw: object, version: Minor, output: Format) -> Value:
    option = setting.option
    if isinstance(raw, bool):
        if setting.type != "bool":
            raise bad_input(f"{option} takes a value, not a switch")
        return Value("true" if raw else "false", raw)
    text = str(raw)
    if setting.type == "bool":
        raise bad_input(f"{option} is a switch: use {option} or --no-{setting.name}")
    if not text.isprintable():  # control characters, and U+0085, U+2028, U+2029 that YAML reads as line breaks
        raise bad_input(f"{option}: the value contains a control character")
    if output in (Format.ENV, Format.DROPIN) and re.search(r"\s", text):
        raise bad_input(
            f"{option}: {text!r} contains whitespace, which the kubelet unit's $KUBELET_EXTRA_ARGS splits apart; "
            "use --format config, flags or args"
        )
    if setting.choices_since is not None and version >= setting.choices_since and text not in setting.choices:
        accepted = " or ".join(repr(choice) for choice in setting.choices)
        raise bad_input(f"{option}: kubelet {show(version)} accepts only {accepted}, not {text!r}; {setting.note}")
    if setting.single_before is not None and version < setting.single_before and "," in text:
        raise bad_input(
            f"{option}: kubelet {show(version)} takes one value here (a comma-separated list from "
            f"{show(setting.single_before)}), not {text!r}"
        )
    value = VALIDATORS[setting.type](text, option)
    reserved = setting.reserved_labels
    if reserved is not None and version >= reserved.since and isinstance(value.config, Mapping):
        refused = [key for key in value.config if reserved.refused(key)]
        if refused:
            raise bad_input(
                f"{option}: kubelet {show(version)} refuses {', '.join(refused)}: in the "
                f"{' and '.join(reserved.namespaces)} namespaces it sets only {', '.join(reserved.allowed_namespaces)} "
                "labels and a fixed set; add other labels (node-role.kubernetes.io/*) with kubectl label after joining"
            )
    return value


def _deprecate(result: FlagSet, setting: Setting, flag: str, config_field: str | None) -> None:
    assert setting.deprecated is not None, f"{setting.name}: kubelet_settings.json says when it was deprecated"
    since = show(setting.deprecated)
    removal = f" and removed in {show(setting.removed)}" if setting.removed else ""
    if config_field is not None:
        use = config_field
        advice = f"set {use} in the KubeletConfiguration file (--config) instead; --format config writes it"
    else:
        use = setting.replacement or ""
        advice = f"use {use} instead"
    result.deprecations.append({"flag": flag, "since": since, "use": use})
    result.warnings.append(f"{flag} is deprecated since kubelet {since}{removal}: {advice}")


def _text(flag_set: FlagSet) -> tuple[str, str | None]:
    """The output for the format, and for ``config`` the KUBELET_EXTRA_ARGS line of its flag-only settings."""
    words = flag_set.flag_words()
    if flag_set.output == Format.FLAGS:
        return "".join(f"{word}\n" for word in words), None
    if flag_set.output == Format.ARGS:
        return " ".join(shlex.quote(word) for word in words) + "\n", None
    if flag_set.output == Format.ENV:
        return _environment_file(words), None
    if flag_set.output == Format.DROPIN:
        args = " ".join(word.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%") for word in words)
        return Template(template_text("kubelet-dropin.conf.tmpl")).substitute(args=args), None
    assert flag_set.config is not None
    return dump_documents([flag_set.config]), _environment_file(words).rstrip("\n") if words else None


def _environment_file(words: list[str]) -> str:
    """KUBELET_EXTRA_ARGS for /etc/default/kubelet or /etc/sysconfig/kubelet (systemd EnvironmentFile= quoting)."""
    escaped = (re.sub(r'([\\"$`])', r"\\\1", word) for word in words)
    return f'KUBELET_EXTRA_ARGS="{" ".join(escaped)}"\n'


def _canonical_command(
    release: KubernetesVersion, settings: Mapping[str, object], output: Format, swap: SwapMode
) -> str:
    """The k8snode command that writes this file again: given settings in catalog order, secrets redacted."""
    words = ["k8snode", COMMAND, "--kubernetes-version", release.text, "--format", str(output)]
    if swap != SwapMode.OFF:
        words += ["--swap", str(swap)]
    for setting in catalog().settings:
        if setting.name not in settings:
            continue
        raw = settings[setting.name]
        if isinstance(raw, bool):
            words.append(setting.option if raw else f"--no-{setting.name}")
            continue
        value = VALIDATORS[setting.type](str(raw), setting.option)
        words += [setting.option, shlex.quote(value.redacted or value.flag_text)]
    return " ".join(words)


def _setting(row: dict[str, Any], newest: ReleaseFlags) -> Setting:
    versions = {
        key: _optional_minor(row, key)
        for key in ("field_since", "deprecated", "removed", "choices_since", "single_before")
    }
    flags = tuple(FlagName(f["flag"], _optional_minor(f, "since"), _optional_minor(f, "until")) for f in row["flags"])
    current = newest.flags.get(flags[-1].flag.removeprefix("--")) if flags[-1].until is None else None
    return Setting(
        name=row["name"],
        flags=flags,
        type=row["type"],
        description=row["description"],
        source=row["source"],
        default=current.default if current is not None else "",
        aliases=tuple(row.get("aliases", ())),
        field=current.field or None if current is not None else None,
        replacement=row.get("replacement"),
        choices=tuple(row.get("choices", ())),
        note=row.get("note"),
        reserved_labels=_reserved_labels(row["reserved_labels"]) if "reserved_labels" in row else None,
        **versions,
    )


def _reserved_labels(row: dict[str, Any]) -> ReservedLabels:
    return ReservedLabels(
        minor(row["since"]), tuple(row["namespaces"]), tuple(row["allowed_namespaces"]), tuple(row["allowed"])
    )


def _in_namespace(namespace: str, namespaces: tuple[str, ...]) -> bool:
    return any(namespace == parent or namespace.endswith(f".{parent}") for parent in namespaces)


def _optional_minor(row: Mapping[str, str], key: str) -> Minor | None:
    return minor(row[key]) if key in row else None


# Value types: each turns the option's text into a Value or raises bad input naming the option.


def _duration(text: str, option: str) -> Value:
    duration(text, option)
    if parse_duration(text) < 0:
        raise bad_input(f"{option}: {text!r} is negative; use a positive duration such as 10s or 1m30s")
    return Value(text, text)


def _path(text: str, option: str) -> Value:
    if not text.startswith("/"):
        raise bad_input(f"{option}: {text!r} is not an absolute path; give one that starts with /")
    return Value(text, text)


def _url(text: str, option: str) -> Value:
    try:
        parts = urlsplit(text)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:
        valid = False
    if not valid:
        raise bad_input(f"{option}: {text!r} is not an http or https URL; give one such as https://192.0.2.10:6443")
    redacted = None
    if parts.password is not None:
        netloc = parts.netloc.replace(f":{parts.password}@", ":REDACTED@", 1)
        redacted = urlunsplit(parts._replace(netloc=netloc))
    return Value(text, text, redacted)


def _urls(text: str, option: str) -> Value:
    values = [_url(item, option) for item in _items(text, option)]
    redacted = ",".join(v.redacted or v.flag_text for v in values)
    return Value(",".join(v.flag_text for v in values), [v.config for v in values], redacted)


def _headers(text: str, option: str) -> Value:
    headers: dict[str, list[str]] = {}
    pairs = []
    for item in _items(text, option):
        key, colon, value = item.partition(":")
        key, value = key.strip(), value.strip()
        if not colon or not is_http_token(key):
            raise bad_input(f"{option}: {item!r} is not a Key:Value header; give headers such as X-Node:a,X-Zone:b")
        headers.setdefault(key, []).append(value)
        pairs.append((key, value))
    flag_text = ",".join(f"{key}:{value}" for key, value in pairs)
    return Value(flag_text, headers, ",".join(f"{key}:REDACTED" for key, _ in pairs))


def _labels(text: str, option: str) -> Value:
    labels = {}
    for item in _items(text, option):
        key, equals, value = item.partition("=")
        if not equals:
            raise bad_input(f"{option}: {item!r} is not a label; use key=value, such as node-role=worker")
        _check_label(item, key, value, option)
        labels[key] = value
    return Value(",".join(f"{key}={value}" for key, value in labels.items()), labels)


def _taints(text: str, option: str) -> Value:
    try:
        taints, removals = parse_taints(_items(text, option))
    except TaintError as error:
        raise bad_input(f"{option}: {_taint_problem(error)}") from None
    if removals:
        raise bad_input(f"{option}: {removals[0].spec!r} is not a taint; {_TAINT_FORM}")
    return Value(text, [taint.as_config() for taint in taints])


_TAINT_FORM = f"use key=value:Effect with Effect one of {', '.join(TAINT_EFFECTS)}"


def _taint_problem(error: TaintError) -> str:
    spec = repr(error.spec)
    if error.problem in (TaintProblem.KEY, TaintProblem.VALUE):
        return f"{spec}: {error.detail}"
    if error.problem == TaintProblem.EFFECT and "=" not in error.detail:
        return f"{spec} has effect {error.detail!r}; use one of {', '.join(TAINT_EFFECTS)}"
    if error.problem == TaintProblem.DUPLICATE:
        return f"{spec} repeats the taint {error.detail}: the kubelet refuses two taints with one key and effect"
    return f"{spec} is not a taint; {_TAINT_FORM}"


def _ips(text: str, option: str) -> Value:
    addresses = []
    for item in _items(text, option):
        try:
            addresses.append(ipaddress.ip_address(item))
        except ValueError:
            example = "192.0.2.10 or 2001:db8::10"
            raise bad_input(f"{option}: {item!r} is not an IP address; give one such as {example}") from None
    if len(addresses) > 2 or (len(addresses) == 2 and addresses[0].version == addresses[1].version):
        raise bad_input(f"{option}: give one IP address, or one IPv4 and one IPv6 address for dual stack")
    return Value(",".join(str(a) for a in addresses), [str(a) for a in addresses])


def _string(text: str, option: str) -> Value:
    return Value(text, text)


def _items(text: str, option: str) -> list[str]:
    items = text.split(",")
    if not all(items):
        raise bad_input(f"{option}: {text!r} has an empty item; separate items with single commas")
    return items


def _check_label(item: str, key: str, value: str, option: str) -> None:
    """Kubernetes label syntax: key is [DNS-subdomain prefix/]name, value is empty or a name."""
    problem = label_key_problem(key) or label_value_problem(value)
    if problem:
        raise bad_input(f"{option}: {item!r}: {problem}")


VALIDATORS: dict[str, Callable[[str, str], Value]] = {
    "duration": _duration,
    "path": _path,
    "url": _url,
    "urls": _urls,
    "headers": _headers,
    "labels": _labels,
    "taints": _taints,
    "ips": _ips,
    "enum": _string,
    "string": _string,
}
