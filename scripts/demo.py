"""What `./dev demo` runs: the kiosk on the embedded demo configuration.

With a display, the kiosk window opens (an ordinary, closable window: this is a demo on someone's
desktop); without one, the shell is served on loopback and its address is printed.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO_CONFIG = ROOT / "config" / "demo"
BIN = Path(sys.executable).parent


def free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError("aucun port libre sur 127.0.0.1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Kiosque de démonstration.")
    parser.add_argument("--port", type=int, default=8080, help="port de l'accueil sans écran (défaut : 8080)")
    parser.add_argument("--no-window", action="store_true", help="servir l'accueil même si un écran est présent")
    args = parser.parse_args(argv)

    kiosk = str(BIN / "kiosk")
    if subprocess.run([kiosk, "check-config", str(DEMO_CONFIG)]).returncode != 0:
        return 2
    if (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and not args.no_window:
        print("Écran détecté : ouverture de la fenêtre du kiosque (fermez-la pour arrêter).", flush=True)
        return subprocess.run([kiosk, "run", str(DEMO_CONFIG), "--windowed"]).returncode
    port = free_port(args.port)
    print("Pas d'écran : l'accueil du kiosque est servi pour un navigateur (Ctrl+C pour arrêter).", flush=True)
    try:
        return subprocess.run([kiosk, "serve", str(DEMO_CONFIG), "--port", str(port)]).returncode
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
