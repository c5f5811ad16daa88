"""What `./dev demo` runs: the kiosk on the embedded demo configuration, checking in to a local fleet server.

It prepares a local fleet server (SQLite in .state/demo/) that knows the demo commune, starts it on
loopback with a fresh demo login, starts the kiosk's telemetry agent against it, then runs the kiosk:
with a display, the kiosk window (an ordinary, closable window: a demo on someone's desktop);
without one, the shell served on loopback. Everything it started is stopped when it ends.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEMO_CONFIG = ROOT / "config" / "demo"
BIN = Path(sys.executable).parent
DEMO_ASSET_TAG = "DEMO-0001"


def free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError("aucun port libre sur 127.0.0.1")


def wait_until_up(url: str, process: subprocess.Popen, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"le serveur du parc s'est arrêté (code {process.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"le serveur du parc ne répond pas sur {url}")


def start_fleet(port: int, state: Path) -> tuple[subprocess.Popen, str, str, str]:
    """Prepare and start the local fleet server; returns it, the enrolment code and the demo login."""
    from provisioning.fleet.dashboard.demo import demo_server_environment, prepare_demo_fleet

    database_url = f"sqlite:///{state / 'fleet.db'}"
    demo = prepare_demo_fleet(database_url, DEMO_CONFIG)
    environment = dict(os.environ, FLEET_DATABASE_URL=database_url, FLEET_SECRET_KEY=secrets.token_urlsafe(48),
                       FLEET_SESSION_COOKIE_SECURE="0",  # plain http on loopback, for the demo only
                       **demo_server_environment())  # the check-in interval the demo commune expects
    server = subprocess.Popen([str(BIN / "fleet"), "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_up(f"http://127.0.0.1:{port}/api/v1/ping", server)
    return server, demo.enrolment_code, demo.username, demo.password


def start_agent(fleet_url: str, enrolment_code: str, state: Path) -> subprocess.Popen:
    state_dir = state / "agent"
    code_file = state / "enrolment-code"
    if not (state_dir / "token.json").exists():
        code_file.write_text(enrolment_code + "\n")
        code_file.chmod(0o600)
    settings = {"fleet_url": fleet_url, "asset_tag": DEMO_ASSET_TAG, "commune_insee": "31042",
                "enrolment_code_file": str(code_file), "state_dir": str(state_dir),
                "events_dir": str(state / "events"), "interval_s": 15}
    settings_file = state / "agent.yaml"
    settings_file.write_text(yaml.safe_dump(settings))
    return subprocess.Popen([str(BIN / "kiosk"), "agent", "--settings", str(settings_file)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Kiosque de démonstration et son serveur de suivi du parc.")
    parser.add_argument("--port", type=int, default=8080, help="port de l'accueil sans écran (défaut : 8080)")
    parser.add_argument("--fleet-port", type=int, default=8000, help="port du tableau de bord (défaut : 8000)")
    parser.add_argument("--no-window", action="store_true", help="servir l'accueil même si un écran est présent")
    parser.add_argument("--state", type=Path, default=ROOT / ".state" / "demo",
                        help="dossier des données de la démonstration (défaut : .state/demo)")
    args = parser.parse_args(argv)

    # A stop request ends the demo like Ctrl+C does, so that everything it started is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    kiosk = str(BIN / "kiosk")
    if subprocess.run([kiosk, "check-config", str(DEMO_CONFIG)]).returncode != 0:
        return 2
    state = args.state.resolve()
    state.mkdir(parents=True, exist_ok=True)
    events_dir = state / "events"
    children: list[subprocess.Popen] = []
    try:
        fleet_port = free_port(args.fleet_port)
        fleet, code, username, password = start_fleet(fleet_port, state)
        children.append(fleet)
        children.append(start_agent(f"http://127.0.0.1:{fleet_port}", code, state))
        print(f"Tableau de bord du parc : http://127.0.0.1:{fleet_port}/tableau/", flush=True)
        print(f"  identifiant : {username}   mot de passe : {password}   (nouveau à chaque lancement)", flush=True)
        print(f"  le kiosque de démonstration ({DEMO_ASSET_TAG}) y remonte son état et son usage anonyme.", flush=True)

        if (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and not args.no_window:
            print("Écran détecté : ouverture de la fenêtre du kiosque (fermez-la pour arrêter).", flush=True)
            return subprocess.run([kiosk, "run", str(DEMO_CONFIG), "--windowed", "--events-dir", str(events_dir)]).returncode
        port = free_port(args.port)
        print("Pas d'écran : l'accueil du kiosque est servi pour un navigateur.", flush=True)
        return subprocess.run([kiosk, "serve", str(DEMO_CONFIG), "--port", str(port),
                               "--events-dir", str(events_dir)]).returncode
    except KeyboardInterrupt:
        return 0
    except RuntimeError as error:
        print(f"Erreur : {error}", file=sys.stderr)
        return 1
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


if __name__ == "__main__":
    sys.exit(main())
