"""A configuration directory whose one tile opens a service on loopback: used by the window tests and by
bench/kiosk_window.py (which adds this folder to its import path), so both run the same kiosk."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TEST_PRINTER = {"name": "mairie", "uri": "ipp://127.0.0.1:9/ipp/print"}


def write_config(directory: Path, service_url: str, *, printer: dict | None = TEST_PRINTER,
                 hosts: tuple[str, ...] = ("127.0.0.1",)) -> Path:
    """Write catalog, kiosk.yaml and the one pictogram into ``directory``; the tile allows ``hosts``."""
    (directory / "pictograms").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "config" / "pictograms" / "sante.svg", directory / "pictograms" / "sante.svg")
    catalog = {"version": 1, "categories": [{"id": "sante", "label": "Santé"}], "services": [{
        "id": "service-test", "label": "Service de test", "site_name": "le site de test",
        "description": "Un service public pour les tests.",
        "category": "sante", "url": service_url, "pictogram": "sante.svg", "pictogram_alt": "Une croix",
        "hosts": list(hosts)}]}
    site = {"commune": {"name": "Testville", "insee": "31042", "postal_code": "31110", "address": "Mairie de Testville"},
            "help": {"mediator": {"name": "Claire, médiatrice numérique", "phone": "05 36 49 12 34"}},
            "tiles": [{"service": "service-test"}]}
    if printer is not None:
        site["printer"] = printer
    (directory / "services.yaml").write_text(yaml.safe_dump(catalog, allow_unicode=True))
    (directory / "kiosk.yaml").write_text(yaml.safe_dump(site, allow_unicode=True))
    return directory
