"""The pictograms of the catalog and of the demo: small, flat, self-contained SVG drawings."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CATALOG = REPO / "config" / "services.yaml"
SVG = "{http://www.w3.org/2000/svg}"
ALLOWED_ELEMENTS = {"svg", "rect", "circle", "ellipse", "path", "line", "polyline", "polygon", "g"}


def pictogram_files() -> list[Path]:
    names = {service["pictogram"] for service in yaml.safe_load(CATALOG.read_text())["services"]}
    return sorted(REPO / "config" / "pictograms" / name for name in names) + [REPO / "config" / "demo" / "pictograms" / "mairie.svg"]


def test_every_catalog_pictogram_exists():
    missing = [path.name for path in pictogram_files() if not path.is_file()]
    assert missing == []
    assert len(pictogram_files()) == 24


@pytest.mark.parametrize("path", pictogram_files(), ids=lambda path: path.name)
def test_pictogram_is_a_small_self_contained_80x80_drawing(path):
    data = path.read_text()
    assert len(data.encode()) < 2048
    root = ET.fromstring(data)
    assert root.tag == f"{SVG}svg" and root.get("viewBox") == "0 0 80 80"
    elements = {element.tag.removeprefix(SVG) for element in root.iter()}
    assert elements <= ALLOWED_ELEMENTS, elements - ALLOWED_ELEMENTS  # no text, image, script, style, use
    body = data.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert not re.search(r"href|url\(|https?:|@import|<!", body)
