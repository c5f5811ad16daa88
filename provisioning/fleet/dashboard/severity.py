""""À traiter d'abord": what each severity means for the staff, in plain French, and what to do.

The overview query (fleet_queries.py) gives each row a ``severity`` key, most urgent first, and ``since``
(when the machine entered that state). Rows without them (an older query) get them here from the
row's status and flags, so the page reads the same either way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

SEVERITIES = ("lost", "offline", "crash_loop", "disk_full", "outdated", "late", "ok")


@dataclass(frozen=True)
class Severity:
    key: str
    label: str      # « Hors ligne »
    todo: str       # what the staff member does about it
    urgent: bool    # shown in the "À traiter d'abord" list


SEVERITY = {s.key: s for s in (
    Severity("lost", "Disparue", "Appeler la mairie : la machine est-elle encore là et branchée ? "
             "Si elle a été rendue ou recyclée, mettre à jour son cycle de vie.", True),
    Severity("offline", "Hors ligne", "Appeler la mairie : vérifier que la machine est allumée et que la box "
             "ou la clé 4G fonctionne. Sinon, prévoir un passage.", True),
    Severity("crash_loop", "Plantages répétés", "Le kiosque redémarre souvent : prévoir un passage "
             "(mémoire, disque) et réinstaller si cela continue.", True),
    Severity("disk_full", "Disque plein", "Prévoir un passage pour libérer de la place ou changer le disque.",
             True),
    Severity("outdated", "Version ancienne", "La mise à jour ne s'est pas faite : vérifier la connexion ; "
             "la relancer lors du prochain passage.", True),
    Severity("late", "En retard", "Rien à faire tout de suite : la machine se reconnecte souvent d'elle-même. "
             "Surveiller.", False),
    Severity("ok", "En ordre", "Rien à faire.", False),
)}


def severity_of(row, flags: list[str]) -> str:
    """The row's severity key: the query's when it gives one, else derived from status and flags."""
    given = getattr(row, "severity", None)
    if given in SEVERITY:
        return given
    status = row.status
    if status == "missing":
        return "lost"
    if status == "offline":
        return "offline"
    for flag, key in (("crashes", "crash_loop"), ("disk", "disk_full"), ("outdated", "outdated")):
        if flag in flags:
            return key
    return "late" if status == "late" else "ok"


def since_of(row, severity: str) -> dt.datetime | None:
    """When the machine entered its state: the query's ``since`` when given; for the connection states,
    its last check-in (the moment it stopped being heard from); otherwise unknown (None)."""
    given = getattr(row, "since", None)
    if isinstance(given, dt.datetime):
        return given
    if isinstance(given, (int, float)):
        return dt.datetime.fromtimestamp(given, dt.timezone.utc)
    if severity in ("lost", "offline", "late") and row.last_seen_at is not None:
        return dt.datetime.fromtimestamp(row.last_seen_at, dt.timezone.utc)
    return None
