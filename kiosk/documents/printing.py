"""Printing on the town hall's CUPS printer with ``lp`` (cups-client), never a print dialog.

Every outcome comes back as a :class:`PrintResult` with a calm French sentence for the resident.
Pages are counted from the file (``pdfinfo`` for PDFs, one per image) before it is sent.
"""

from __future__ import annotations

import logging
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

JOB_TITLE = "point-numerique"
NO_PRINTER = ("Ce point numérique n’a pas d’imprimante. "
              "Demandez à l’accueil de la mairie : on peut vous aider à imprimer.")
PRINTER_DOWN = ("L’imprimante ne répond pas (éteinte, sans papier ou débranchée). "
                "Demandez de l’aide à l’accueil de la mairie.")
UNREADABLE = "Ce document ne peut pas être imprimé. Demandez de l’aide à l’accueil de la mairie."


@dataclass(frozen=True)
class PrintResult:
    ok: bool
    pages: int
    message: str


def count_pages(path: Path) -> int | None:
    if path.suffix.lower() != ".pdf":
        return 1
    try:
        output = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        log.error("pdfinfo failed on a document: %s", error)
        return None
    match = re.search(r"^Pages:\s+(\d+)", output.stdout, re.MULTILINE)
    return int(match.group(1)) if match and output.returncode == 0 else None


class CupsPrinter:
    def __init__(self, name: str | None) -> None:
        self.name = name

    def print_file(self, path: Path) -> PrintResult:
        if not self.name:
            return PrintResult(False, 0, NO_PRINTER)
        pages = count_pages(path)
        if not pages:
            return PrintResult(False, 0, UNREADABLE)
        try:
            done = subprocess.run(["lp", "-d", self.name, "-t", JOB_TITLE, "--", str(path)],
                                  capture_output=True, text=True, timeout=20, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            log.error("lp could not be run: %s", error)
            return PrintResult(False, 0, PRINTER_DOWN)
        if done.returncode != 0:
            log.error("lp refused a job for %s: %s", self.name, done.stderr.strip()[:200])
            return PrintResult(False, 0, PRINTER_DOWN)
        plural = "s" if pages > 1 else ""
        return PrintResult(True, pages, f"C’est parti : {pages} page{plural} à prendre à l’imprimante de la mairie.")

    def cancel_pending(self) -> None:
        """Cancel this kiosk's jobs still waiting (end of session). Never raises."""
        if not self.name:
            return
        try:
            subprocess.run(["cancel", "-a", self.name], capture_output=True, timeout=5, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            log.error("could not cancel pending print jobs: %s", error)
