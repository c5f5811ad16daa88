"""Host rules: which hosts a tile's journey may visit.

A rule is either an exact host (``www.impots.gouv.fr``, ``127.0.0.1``) or a subdomain rule
(``*.impots.gouv.fr``) that matches every host *below* that domain, not the domain itself.
Used by the configuration checks and by the window's navigation guard.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
ALLOWED_SCHEMES = ("http", "https")


def is_valid_host(host: str) -> bool:
    if _HOSTNAME.match(host):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_valid_rule(rule: str) -> bool:
    if rule.startswith("*."):
        return bool(_HOSTNAME.match(rule[2:])) and "." in rule[2:]
    return is_valid_host(rule)


def rule_matches(rule: str, host: str) -> bool:
    host = host.lower().rstrip(".")
    if rule.startswith("*."):
        return host.endswith(rule[1:]) and len(host) > len(rule) - 1
    return host == rule


def host_allowed(host: str, rules) -> bool:
    return any(rule_matches(rule, host) for rule in rules)


def url_host(url: str) -> str | None:
    """The lower-case host of an http(s) URL, or None when the URL is not a web address."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ALLOWED_SCHEMES or not host:
        return None
    return host.lower().rstrip(".")
