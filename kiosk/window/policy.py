"""The navigation guard, as a pure function: may the web view go to this address?

Called for every top-level navigation, server redirect, popup and frame load the web view asks
about. Only ``http``/``https`` to a host allowed by the configured rules (kiosk.hosts) and the
shell's own loopback origin pass. ``about:blank`` and ``about:srcdoc`` are inert and pass (pages
build frames and popups from them). Everything else (``file:``, ``data:``, ``blob:``,
``javascript:``, ``mailto:``, ``tel:``...) is refused.

A refused navigation the resident asked for (a click, a form, a popup) shows the shell's
"page non autorisée"; one the page made on its own (a script, a meta refresh, a frame) stays put,
so that a page full of third-party frames is not replaced by the refusal page.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from urllib.parse import urlsplit

from kiosk.hosts import host_allowed, url_host

INERT_URLS = ("about:blank", "about:srcdoc")


class Verdict(str, enum.Enum):
    ALLOW = "allow"
    REFUSE_PAGE = "refuse_page"   # ignore it and show the shell's refusal page
    STAY = "stay"                 # ignore it, the current page stays


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    host: str | None = None       # the refused web host (counted), None for other schemes
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOW


def origin_of(url: str) -> str | None:
    """``scheme://host:port`` of a web URL (port always explicit), None if it is not one."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    port = port or (443 if scheme == "https" else 80)
    return f"{scheme}://{parts.hostname.lower()}:{port}"


def decide_navigation(url: str, *, rules, shell_origin: str, user_initiated: bool) -> Decision:
    """Judge one navigation. ``shell_origin`` is the shell's ``http://127.0.0.1:PORT`` origin."""
    if url in INERT_URLS:
        return Decision(Verdict.ALLOW, reason="inert")
    origin = origin_of(url)
    if origin is not None and origin == origin_of(shell_origin):
        return Decision(Verdict.ALLOW, reason="shell")
    host = url_host(url)
    if host is None:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        return Decision(Verdict.STAY, None, f"scheme {scheme or '(none)'} is never allowed")
    if host_allowed(host, rules):
        return Decision(Verdict.ALLOW, host, "allowed host")
    verdict = Verdict.REFUSE_PAGE if user_initiated else Verdict.STAY
    return Decision(verdict, host, "host not allowed")


def refusal_page(shell_origin: str, host: str | None) -> str:
    """The shell's refusal page for ``host`` (a bare host name only: never a path or a query)."""
    from urllib.parse import quote
    base = shell_origin.rstrip("/") + "/non-autorise"
    return f"{base}?hote={quote(host, safe='')}" if host else base
