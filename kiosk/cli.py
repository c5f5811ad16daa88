"""The ``kiosk`` command: check a configuration, serve the shell, run the window, run the agent."""

from __future__ import annotations

import argparse
import sys

from kiosk.config import ConfigError, load_config

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

    args = parser.parse_args(argv)
    try:
        config = load_config(args.directory)
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
        from kiosk.shell.server import serve_forever
        return serve_forever(config, host=args.host, port=args.port)
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
