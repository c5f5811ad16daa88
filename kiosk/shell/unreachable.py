"""Say what really went wrong when a page cannot be shown.

The window sends the resident here (``/injoignable``) when a service's page fails to load (name not
found, TLS error, refused connection, timeout, HTTP 5xx). Whether the Internet itself works is
checked *now* (one bounded connectivity check), then the page tells apart:
- no Internet at all (``offline.html``);
- a captive portal or a 4G router asking for something (``portal.html``);
- one service that does not answer, named from the tile whose hosts include the failing host
  (``service_down.html``).
The header's connection line is rendered from the same fresh check, so it never says "Connecté à
Internet" beside a page that says Internet is down. ``/hors-ligne`` (a tile opened while the last
check said "not online") shows one of the first two.

Every argument comes from a page address and is treated as hostile: a host is named only if it is
a valid host name, a cause only from the known list, a retry address only if the kiosk's own rules
allow its host.
"""

from __future__ import annotations

from flask import Blueprint, g, render_template, request, url_for

from kiosk.hosts import host_allowed, is_valid_host, url_host
from kiosk.shell.connectivity import OFFLINE, PORTAL
from kiosk.shell.state import shell_state

blueprint = Blueprint("unreachable", __name__)

MAX_ADDRESS = 2000
# What the window saw, said for the person who helps (the resident needs none of it).
CAUSES = {
    "dns": "l’adresse du site est introuvable (DNS)",
    "tls": "la connexion sécurisée du site a été refusée (certificat)",
    "connexion": "le site a refusé la connexion",
    "delai": "le site met trop de temps à répondre",
    "serveur": "le site signale une panne",
}


def _host_argument() -> str | None:
    raw = request.args.get("hote", "").strip().lower().rstrip(".")
    return raw if raw and len(raw) <= 253 and is_valid_host(raw) else None


def _retry_address(host: str | None, tile) -> str:
    """Where "Réessayer" goes: the page that failed when the kiosk allows it, else the tile, else home."""
    address = request.args.get("adresse", "")
    rules = shell_state().config.allowed_hosts
    if address and len(address) <= MAX_ADDRESS and host and url_host(address) == host and host_allowed(host, rules):
        return address
    if tile is not None:
        return url_for("home.open_tile", tile_id=tile.id)
    return url_for("home.index")


def _cause_text() -> str | None:
    cause = request.args.get("cause", "")
    text = CAUSES.get(cause)
    if text and cause == "serveur":
        code = request.args.get("code", "")
        if code.isdigit() and len(code) == 3 and code.startswith("5"):
            text = f"{text} (erreur {code})"
    return text


def render_connection_problem(state: str, tile, retry: str):
    """The page for a connection that does not reach the Internet (``offline`` or ``portal``)."""
    mediator = shell_state().config.help.mediator
    template = "portal.html" if state == PORTAL else "offline.html"
    return render_template(template, tile=tile, mediator=mediator, retry=retry)


@blueprint.get("/injoignable")
def service_unreachable():
    state = shell_state()
    host = _host_argument()
    preferred = request.args.get("tuile", "")
    tile = state.config.tile_for_host(host, preferred) if host else state.config.tile(preferred)
    retry = _retry_address(host, tile)
    g.return_path = url_for("unreachable.service_unreachable", hote=host, tuile=tile.id if tile else None)
    result = state.probe.probe_once()  # bounded by the probe's timeout; the header reads this result
    if result.state in (OFFLINE, PORTAL):
        return render_connection_problem(result.state, tile, retry)
    name = tile.name_in_sentence() if tile is not None else "ce site"
    return render_template("service_down.html", tile=tile, name=name[:1].upper() + name[1:], retry=retry,
                           cause=_cause_text(), mediator=state.config.help.mediator)
