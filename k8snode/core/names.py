"""Kubernetes name syntax (k8s.io/apimachinery/pkg/util/validation): the one home of the DNS-1123 rules."""

from __future__ import annotations

import re

_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = re.compile(rf"{_DNS_LABEL}(\.{_DNS_LABEL})*")
DNS_SUBDOMAIN_MAX = 253


def is_dns_subdomain(text: str) -> bool:
    """IsDNS1123Subdomain: lower-case labels of letters, digits and '-', joined by '.', at most 253 characters."""
    return len(text) <= DNS_SUBDOMAIN_MAX and _DNS_SUBDOMAIN.fullmatch(text) is not None
