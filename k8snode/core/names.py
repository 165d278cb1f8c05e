"""Kubernetes name and taint syntax: the one home of the DNS-1123 rules, the label key and value rules
(k8s.io/apimachinery/pkg/util/validation) and the taint spec (k8s.io/kubernetes pkg/util/taints)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = re.compile(rf"{_DNS_LABEL}(\.{_DNS_LABEL})*")
DNS_SUBDOMAIN_MAX = 253


def is_dns_subdomain(text: str) -> bool:
    """IsDNS1123Subdomain: lower-case labels of letters, digits and '-', joined by '.', at most 253 characters."""
    return len(text) <= DNS_SUBDOMAIN_MAX and _DNS_SUBDOMAIN.fullmatch(text) is not None


def registered_node_name(name: str) -> str:
    """The name a node registers under: nodeutil.GetHostname (k8s.io/component-helpers/node/util/hostname.go),
    which kubeadm's SetNodeRegistrationDynamicDefaults applies to nodeRegistration.name, lowercases it. Only ASCII is
    lowered here: Go's strings.ToLower and Python's str.lower differ beyond it, so such a name is left as it is."""
    return name.lower() if name.isascii() else name


_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
LABEL_NAME_MAX = 63
LABEL_NAME_RULE = "letters, digits, '-', '_' or '.', starting and ending with a letter or digit"


def _is_label_name(text: str) -> bool:
    return len(text) <= LABEL_NAME_MAX and _LABEL_NAME.fullmatch(text) is not None


def label_key_problem(key: str) -> str | None:
    """IsQualifiedName: ``[DNS-subdomain prefix/]name``; None when ``key`` is one, else what is wrong."""
    prefix, slash, name = key.rpartition("/")
    if slash and not is_dns_subdomain(prefix):
        return f"key prefix {prefix!r} is not a DNS subdomain"
    if not _is_label_name(name):
        return f"key name {name!r} must be 1-{LABEL_NAME_MAX} {LABEL_NAME_RULE}"
    return None


def label_value_problem(value: str) -> str | None:
    """IsValidLabelValue: empty or a label name; None when ``value`` is one, else what is wrong."""
    if value and not _is_label_name(value):
        return f"value {value!r} must be empty or 1-{LABEL_NAME_MAX} {LABEL_NAME_RULE}"
    return None


TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


class TaintProblem(Enum):
    """What makes a taint spec invalid, for each caller to put in its own words."""

    SYNTAX = "syntax"
    """Not ``key[=value][:Effect]``: more than one ':' (or, in a removal, more than one '=')."""
    EFFECT = "effect"
    NO_EFFECT = "no-effect"
    """A taint to add has no effect."""
    KEY = "key"
    VALUE = "value"
    DUPLICATE = "duplicate"
    """A second taint with the same key and effect."""


class TaintError(ValueError):
    def __init__(self, spec: str, problem: TaintProblem, detail: str = "") -> None:
        super().__init__(f"{spec}: {detail or problem.value}")
        self.spec = spec
        self.problem = problem
        self.detail = detail
        """For KEY and VALUE: which part breaks which rule; for EFFECT: the effect."""


@dataclass(frozen=True)
class Taint:
    spec: str
    """As given."""
    key: str
    value: str | None
    """None when the spec has no '='."""
    effect: str
    """'' in a removal without an effect."""

    def as_config(self) -> dict[str, str]:
        """The v1.Taint object, as KubeletConfiguration.registerWithTaints holds it."""
        return {"key": self.key, **({"value": self.value} if self.value else {}), "effect": self.effect}


def parse_taints(specs: list[str]) -> tuple[list[Taint], list[Taint]]:
    """utiltaints.ParseTaints: the taints to add and (specs ending in '-') the ones to remove; TaintError at the
    first invalid spec."""
    taints: list[Taint] = []
    removals: list[Taint] = []
    for spec in specs:
        if spec.endswith("-"):
            removals.append(_parse_taint(spec, spec[:-1], removal=True))
            continue
        taint = _parse_taint(spec, spec, removal=False)
        if any((t.key, t.effect) == (taint.key, taint.effect) for t in taints):
            raise TaintError(spec, TaintProblem.DUPLICATE, f"{taint.key}:{taint.effect}")
        taints.append(taint)
    return taints, removals


def _parse_taint(spec: str, text: str, *, removal: bool) -> Taint:
    """parseTaint: ``key[=value]:Effect``, or for a removal also ``key``. A taint to add without an effect is
    refused before its key is checked (the kubelet checks the key first; both are an invalid spec there)."""
    parts = text.split(":")
    if len(parts) > 2:
        raise TaintError(spec, TaintProblem.SYNTAX)
    if len(parts) == 1:
        if not removal:
            raise TaintError(spec, TaintProblem.NO_EFFECT)
        key, value, effect = text, None, ""
    else:
        effect = parts[1]
        if effect not in TAINT_EFFECTS:
            raise TaintError(spec, TaintProblem.EFFECT, effect)
        key, equals, rest = parts[0].partition("=")
        value = rest if equals else None
        if value is not None and (value_problem := label_value_problem(value)):
            raise TaintError(spec, TaintProblem.VALUE, value_problem)
    if key_problem := label_key_problem(key):
        raise TaintError(spec, TaintProblem.KEY, key_problem)
    return Taint(spec, key, value, effect)


_HTTP_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def is_http_token(text: str) -> bool:
    """An HTTP header name: an RFC 9110 token."""
    return _HTTP_TOKEN.fullmatch(text) is not None


def is_http_field_value(text: str) -> bool:
    """What an HTTP/1.1 header value may hold (RFC 9110 field-value, sent as Latin-1): no control characters."""
    return all(c == "\t" or " " <= c <= "~" or "\xa0" <= c <= "\xff" for c in text)
