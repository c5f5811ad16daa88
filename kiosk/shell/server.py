"""Serve the shell over HTTP (``kiosk serve``): a small threaded server, for loopback use."""

from __future__ import annotations

import logging
import socket
import sys

from werkzeug.serving import make_server

from kiosk.config import KioskConfig
from kiosk.events import EventLog
from kiosk.shell.app import create_app
from kiosk.shell.settings import ShellSettings

EXIT_CANNOT_LISTEN = 2


def serve_forever(config: KioskConfig, *, host: str = "127.0.0.1", port: int = 8080,
                  events: EventLog | None = None, settings: ShellSettings | None = None) -> int:
    try:
        settings = settings or ShellSettings.from_environment()
    except ValueError as error:
        print(f"Réglage du serveur invalide : {error}", file=sys.stderr)
        return EXIT_CANNOT_LISTEN
    app = create_app(config, events=events, settings=settings)
    try:
        listener = _listen(host, port)
    except OSError as error:
        print(f"Impossible d'écouter sur {host}:{port} ({error.strerror or error}). "
              "Choisissez un autre port avec --port.", file=sys.stderr)
        return EXIT_CANNOT_LISTEN
    # Werkzeug would exit on its own when the port is taken: we bind first and hand it the socket.
    server = make_server(host, listener.getsockname()[1], app, threaded=True, fd=listener.fileno())
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no per-request log: no URL paths kept
    shown_host = f"[{host}]" if ":" in host else host
    print(f"Accueil du kiosque servi sur http://{shown_host}:{listener.getsockname()[1]}/ (Ctrl+C pour arrêter)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("Arrêt du serveur.", flush=True)
    finally:
        server.server_close()
        listener.close()
    return 0


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
    except OSError:
        listener.close()
        raise
    return listener
