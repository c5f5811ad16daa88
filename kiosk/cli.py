"""The ``kiosk`` command: check a configuration, serve the shell, run the window, run the agent."""

from __future__ import annotations

import argparse
import sys

EXIT_BAD_INPUT = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kiosk", description="Point numérique de mairie.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMANDE")

    check = commands.add_parser("check-config", help="Vérifier un dossier de configuration.")
    check.add_argument("directory", metavar="DOSSIER", help="dossier qui contient kiosk.yaml")

    serve = commands.add_parser("serve", help="Servir l'accueil dans un navigateur (sans fenêtre kiosque).")
    serve.add_argument("directory", metavar="DOSSIER", help="dossier qui contient kiosk.yaml")
    serve.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (défaut : 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port d'écoute (défaut : 8080)")
    serve.add_argument("--events-dir", metavar="DOSSIER", default=None,
                       help="dossier des événements partagé avec l'agent (défaut : aucun enregistrement)")

    run = commands.add_parser("run", help="Lancer la fenêtre du kiosque (plein écran verrouillé).")
    run.add_argument("directory", metavar="DOSSIER", help="dossier qui contient kiosk.yaml")
    run.add_argument("--windowed", action="store_true",
                     help="fenêtre ordinaire que l'on peut fermer (démonstration sur un ordinateur personnel)")
    run.add_argument("--events-dir", metavar="DOSSIER", default=None,
                     help="dossier des événements partagé avec l'agent (défaut : /var/lib/kiosk/events)")
    run.add_argument("--bundles", metavar="DOSSIER", default=None,
                     help="dossier où l'agent prépare les paquets de configuration du serveur de flotte, "
                          "appliqués entre deux sessions (défaut : aucun)")

    agent = commands.add_parser("agent", help="Agent de télémétrie (santé, inventaire, usage anonyme).")
    agent.add_argument("--settings", required=True, metavar="FICHIER",
                       help="réglages de l'agent, ex. /etc/kiosk/agent.yaml")

    args = parser.parse_args(argv)
    if args.command == "agent":
        # The agent has its own settings file and must stay light: no kiosk config (pydantic) here.
        from kiosk.agent.runner import main_from_file
        return main_from_file(args.settings)

    from kiosk.config import ConfigError, load_config
    directory = args.directory
    if args.command == "run" and args.bundles:
        from pathlib import Path

        from kiosk.window.bundle_swap import config_dir_at_start
        directory = config_dir_at_start(Path(args.directory), Path(args.bundles))
        try:
            load_config(directory)
        except ConfigError:  # verified when staged: only a damaged disk gets here; the installed one then
            directory = args.directory
    try:
        config = load_config(directory)
    except ConfigError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        count = len(error.problems)
        print(f"Configuration refusée : {count} erreur{'s' if count > 1 else ''} à corriger.", file=sys.stderr)
        return EXIT_BAD_INPUT

    if args.command == "check-config":
        print(f"Configuration valide : {config.commune.name}, {len(config.tiles)} tuiles.")
        return 0
    if args.command == "serve":
        from kiosk.events import EventLog
        from kiosk.shell.server import serve_forever
        events = EventLog(args.events_dir) if args.events_dir else None
        return serve_forever(config, host=args.host, port=args.port, events=events)
    if args.command == "run":
        from pathlib import Path

        from kiosk.window.run import run as run_window
        from kiosk.window.settings import WindowSettings
        settings = WindowSettings(events_dir=Path(args.events_dir)) if args.events_dir else WindowSettings()
        return run_window(config, settings, windowed=args.windowed,
                          bundle_dir=Path(args.bundles) if args.bundles else None)
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
