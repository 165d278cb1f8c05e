"""Kubernetes name syntax (k8s.io/apimachinery/pkg/util/validation): the one home of the DNS-1123 rules."""

from __future__ import annotations

import re

_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = re.compile(rf"{_DNS_LABEL}(\.{_DNS_LABEL})*")
DNS_SUBDOMAIN_MAX = 253


def is_dns_subdomain(text: str) -> bool:
    """IsDNS1123Subdomain: lower-case labels of letters, digits and '-', joined by '.', at most 253 characters."""
    return len(text) <= DNS_SUBDOMAIN_MAX and _DNS_SUBDOMAIN.fullmatch(text) is not None


_HTTP_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def is_http_token(text: str) -> bool:
    """An HTTP header name: an RFC 9110 token."""
    return _HTTP_TOKEN.fullmatch(text) is not None


def is_http_field_value(text: str) -> bool:
    """What an HTTP/1.1 header value may hold (RFC 9110 field-value, sent as Latin-1): no control characters."""
    return all(c == "\t" or " " <= c <= "~" or "\xa0" <= c <= "\xff" for c in text)
