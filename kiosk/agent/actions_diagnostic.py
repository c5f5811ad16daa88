"""The diagnostic a remote action collects (issue 12): the journal of the kiosk's units over the last
day, with nothing of the residents in it.

The journal is read by a command (a setting, ``journalctl`` by default, run by the agent's user, which
the playbooks put in the ``systemd-journal`` group), bounded in time and size, then filtered line by
line (:func:`scrub_line`): every address (``https://…``, ``www.…``, ``host.tld/path``), e-mail address,
phone or card-like number and quoted text (what a page showed or a resident typed, as a log may quote it)
is replaced by a marker. What is left is the units' own messages: starts, stops, errors, memory,
printing failures. Only the newest lines are kept when the whole does not fit in ``max_chars``.
"""

from __future__ import annotations

import re
import subprocess
from typing import Sequence

UNITS = ("kiosk-session.service", "kiosk-agent.service", "kiosk-screen.service", "kiosk-printer.service",
         "kiosk-fleet-address.service", "cups.service")
DEFAULT_COMMAND = ("journalctl", "--no-pager", "--quiet", "--output=short-iso", "--since=-24h",
                   *(f"--unit={unit}" for unit in UNITS))
MAX_READ_BYTES = 8 * 1024 * 1024
MAX_CHARS = 200 * 1024
MAX_LINE_CHARS = 400

_PATTERNS = (
    (re.compile(r"\b[a-z][a-z0-9+.-]{1,15}://\S+", re.IGNORECASE), "[adresse masquée]"),
    (re.compile(r"\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b"), "[courriel masqué]"),
    (re.compile(r"\bwww\.\S+", re.IGNORECASE), "[adresse masquée]"),
    # host.tld/... or host.tld?... : a site and a path, even without a scheme
    (re.compile(r"\b(?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d+)?[/?]\S*", re.IGNORECASE), "[adresse masquée]"),
    (re.compile(r"«[^»]*»|\"[^\"]*\"|'[^']*'|“[^”]*”"), "[texte masqué]"),
    (re.compile(r"(?<![\w.:-])\+?\d(?:[ .]?\d){7,}\b"), "[numéro masqué]"),
    (re.compile(r"\b(?:query|q|search|text|texte|saisie|input|value|title|titre|url|uri|path|chemin)=\S*",
                re.IGNORECASE), "[texte masqué]"),
)


# A bare host name (``ameli.fr``) says which site a resident visited: masked too, except the names of the
# kiosk's own files and units (``run.py``, ``kiosk-agent.service``).
_HOST = re.compile(r"\b(?:[a-z0-9-]+\.)+([a-z]{2,24})\b", re.IGNORECASE)
_OWN_SUFFIXES = {"py", "service", "socket", "timer", "target", "mount", "slice", "scope", "so", "conf", "yaml",
                 "yml", "json", "log", "txt", "db", "sqlite", "gz", "svg", "html", "css", "js", "sh", "pid", "lock"}


def _host_or_file(match: re.Match) -> str:
    return match.group(0) if match.group(1).lower() in _OWN_SUFFIXES else "[adresse masquée]"


def scrub_line(line: str) -> str:
    """One journal line with every address, host name, quoted text and long number masked."""
    line = "".join(char if char.isprintable() or char == "\t" else " " for char in line)[:MAX_LINE_CHARS * 4]
    for pattern, marker in _PATTERNS:
        line = pattern.sub(marker, line)
    line = _HOST.sub(_host_or_file, line)
    return line[:MAX_LINE_CHARS]


def scrub(text: str, max_chars: int = MAX_CHARS) -> str:
    """Every line scrubbed; the newest lines that fit in ``max_chars`` (a first line says what was cut)."""
    lines = [scrub_line(line) for line in text.splitlines() if line.strip()]
    kept, size = [], 0
    for line in reversed(lines):
        if size + len(line) + 1 > max_chars - 100:
            break
        kept.append(line)
        size += len(line) + 1
    kept.reverse()
    if len(kept) < len(lines):
        kept.insert(0, f"[{len(lines) - len(kept)} ligne(s) plus anciennes omises : taille limitée]")
    return "\n".join(kept) + "\n"


def collect(command: Sequence[str] = DEFAULT_COMMAND, max_chars: int = MAX_CHARS, timeout_s: float = 60) -> tuple[bool, str, str]:
    """(ok, detail in French, the scrubbed journal)."""
    try:
        process = subprocess.run(list(command), check=False, timeout=timeout_s, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except (OSError, subprocess.SubprocessError) as error:
        return False, f"journal illisible : {type(error).__name__}", ""
    raw = process.stdout[-MAX_READ_BYTES:].decode("utf-8", "replace")
    if process.returncode != 0 and not raw.strip():
        return False, f"journal illisible (code {process.returncode})", ""
    text = scrub(raw, max_chars)
    lines = text.count("\n")
    return True, f"journal du dernier jour : {lines} ligne(s), {len(text.encode()) // 1024 + 1} Ko, filtré", text
