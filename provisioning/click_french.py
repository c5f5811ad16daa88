"""Click's own messages (usage errors, help headings) in French, for the volunteers' and staff's commands.

Click looks its messages up through module-level ``_`` and ``ngettext`` functions (gettext) at the
moment it shows them. :func:`french_click` swaps those for French ones while a command runs, and puts
Click back as it was afterwards, so nothing else in the process is affected. A message missing from
the table (a newer Click) is shown as Click wrote it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager

CLICK_MODULES = ("click.core", "click.exceptions", "click.formatting", "click.types", "click.parser",
                 "click.termui", "click.decorators")

FRENCH = {
    "Usage:": "Utilisation :",
    "Error: {message}": "Erreur : {message}",
    "Try '{command} {option}' for help.": "Aide : « {command} {option} ».",
    "Missing argument": "Argument manquant",
    "Missing option": "Option manquante",
    "Missing parameter": "Paramètre manquant",
    "Missing {param_type}": "{param_type} manquant",
    "Missing parameter: {param_name}": "Paramètre manquant : {param_name}",
    "Missing command.": "Commande manquante.",
    "No such option {name!r}.": "Option inconnue : « {name} ».",
    "No such command {name!r}.": "Commande inconnue : « {name} ».",
    "Invalid value: {message}": "Valeur refusée : {message}",
    "Invalid value for {param_hint}: {message}": "Valeur refusée pour {param_hint} : {message}",
    "Options": "Options",
    "Commands": "Commandes",
    "Positional arguments": "Arguments",
    "Show this message and exit.": "Afficher cette aide et quitter.",
    "Show the version and exit.": "Afficher la version et quitter.",
    "Aborted!": "Abandon.",
    "default: {default}": "défaut : {default}",
    "required": "obligatoire",
    "env var: {var}": "variable d'environnement : {var}",
    "unknown error": "erreur inconnue",
    "Could not open file {filename!r}: {message}": "Impossible d'ouvrir le fichier « {filename} » : {message}",
    "file": "fichier",
    "directory": "dossier",
    "path": "chemin",
    "{name} {filename!r} does not exist.": "{name} « {filename} » introuvable.",
    "{name} {filename!r} is a file.": "{name} « {filename} » est un fichier.",
    "{name} {filename!r} is a directory.": "{name} « {filename} » est un dossier.",
    "{name} {filename!r} is not readable.": "{name} « {filename} » illisible.",
    "{name} {filename!r} is not writable.": "{name} « {filename} » non modifiable.",
    "{name} {filename!r} is not executable.": "{name} « {filename} » non exécutable.",
    "{value!r} is not a valid {number_type}.": "« {value} » n'est pas un nombre valable.",
    "{value} is not in the range {range}.": "{value} n'est pas dans l'intervalle {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}": "« {value} » n'est ni oui ni non ({states}).",
    "Choose from:\n\t{choices}": "Au choix :\n\t{choices}",
    "Option {name!r} does not take a value.": "L'option « {name} » ne prend pas de valeur.",
    "Argument {name!r} takes {nargs} values.": "L'argument « {name} » attend {nargs} valeurs.",
    "Error: The two entered values do not match.": "Erreur : les deux saisies ne sont pas identiques.",
    "Error: invalid input": "Erreur : saisie refusée",
    "Repeat for confirmation": "Répétez pour confirmer",
    "Do you want to continue?": "Voulez-vous continuer ?",
}
FRENCH_PLURALS = {
    "Got unexpected extra argument ({args})": ("Argument en trop : {args}", "Arguments en trop : {args}"),
    "Did you mean {possibility}?": ("Vouliez-vous dire {possibility} ?", "(Vouliez-vous dire l'une de ces options : {possibilities} ?)"),
    "{value!r} is not {choice}.": ("« {value} » n'est pas possible : seule valeur, {choice}.",
                                   "« {value} » n'est pas possible : choisissez parmi {choices}."),
    "Option {name!r} requires an argument.": ("L'option « {name} » attend une valeur.",
                                             "L'option « {name} » attend {nargs} valeurs."),
    "Takes {nargs} values but 1 was given.": ("Attend {nargs} valeurs, une seule donnée.",
                                              "Attend {nargs} valeurs, {len} données."),
}


def french(message: str) -> str:
    return FRENCH.get(message, message)


def french_plural(singular: str, plural: str, count: int) -> str:
    forms = FRENCH_PLURALS.get(singular)
    if forms is None:
        return singular if count == 1 else plural
    return forms[0] if count <= 1 else forms[1]  # French: 0 and 1 are singular


@contextmanager
def french_click() -> Iterator[None]:
    """Click speaks French inside this block (its usage errors, help headings and hints)."""
    saved = []
    for name in CLICK_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for attribute, replacement in (("_", french), ("ngettext", french_plural)):
            if hasattr(module, attribute):
                saved.append((module, attribute, getattr(module, attribute)))
                setattr(module, attribute, replacement)
    try:
        yield
    finally:
        for module, attribute, original in reversed(saved):
            setattr(module, attribute, original)
