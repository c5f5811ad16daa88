"""What went wrong with a page the window could not show, and the shell page that says it.

The window never shows WebKit's own error page. For a page of a service (not the shell's own) it
loads the shell's ``/injoignable`` page with: the failing host (to name the service from its tile),
a cause from a short list (name not found, TLS, refused, timeout, server error), the HTTP status of
a server error, the tile the resident came through and the failing address (for "Réessayer"). The
shell checks the Internet itself and tells apart "no Internet", "a portal asks for something" and
"this service does not answer". Nothing here is stored or counted.
"""

from __future__ import annotations

from urllib.parse import urlencode

from gi.repository import Gio, GLib

from kiosk.hosts import url_host

MAX_RETRY_ADDRESS = 2000

_IO_CAUSES = {
    Gio.IOErrorEnum.CONNECTION_REFUSED: "connexion",
    Gio.IOErrorEnum.CONNECTION_CLOSED: "connexion",
    Gio.IOErrorEnum.BROKEN_PIPE: "connexion",
    Gio.IOErrorEnum.HOST_UNREACHABLE: "connexion",
    Gio.IOErrorEnum.NETWORK_UNREACHABLE: "connexion",
    Gio.IOErrorEnum.TIMED_OUT: "delai",
}


def failure_cause(error: GLib.Error) -> str:
    """The cause of a failed load, as the shell names it: dns, tls, connexion, delai (or connexion)."""
    domain = error.domain or ""
    if domain == GLib.quark_to_string(Gio.ResolverError.quark()):
        return "dns"
    if domain == GLib.quark_to_string(Gio.TlsError.quark()):
        return "tls"
    if domain == GLib.quark_to_string(Gio.io_error_quark()):
        return _IO_CAUSES.get(error.code, "connexion")
    return "connexion"


def server_error_status(decision, shell_origin: str) -> int | None:
    """The status of a main-frame page a service answered with a server error (5xx), else None."""
    if not decision.is_main_frame_main_resource():
        return None
    response = decision.get_response()
    uri = response.get_uri() or ""
    if uri.startswith(shell_origin + "/") or url_host(uri) is None:
        return None
    status = response.get_status_code()
    return status if 500 <= status <= 599 else None


def unreachable_page(shell_origin: str, address: str, cause: str, *, tile: str | None = None,
                     status: int | None = None) -> str:
    """The shell's page for a service page at ``address`` that could not be shown."""
    arguments = {"hote": url_host(address) or "", "cause": cause}
    if status is not None:
        arguments["code"] = str(status)
    if tile:
        arguments["tuile"] = tile
    if url_host(address) and len(address) <= MAX_RETRY_ADDRESS:
        arguments["adresse"] = address
    return f"{shell_origin}/injoignable?{urlencode(arguments)}"


def is_pdf_response(decision) -> bool:
    """A PDF WebKit would show in its own viewer (with its print, download and editing tools)."""
    mime = (decision.get_response().get_mime_type() or "").lower()
    return mime == "application/pdf" or mime == "application/x-pdf"
