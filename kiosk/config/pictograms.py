"""What a tile's pictogram may be: a small, self-contained SVG drawing, nothing that runs or fetches.

The shell serves pictograms as ``image/svg+xml`` (``<img>`` in the home page), and they now also arrive
from the fleet server inside configuration bundles, so they are checked like any hostile input: bounded
in size, parsed without a DTD or entities, and REFUSED (not cleaned) when they hold anything beyond plain
shapes — scripts, event handlers, links, embedded images or documents, external references, styles.
An allow-list of elements and attributes decides; anything unknown is refused, with a French reason.

Used by the configuration loader (so ``kiosk check-config`` refuses such a file), by the agent for
bundles, and by the fleet server before it publishes a catalog.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
MAX_PICTOGRAM_BYTES = 16 * 1024
MAX_PICTOGRAMS = 200
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}\.svg")

ELEMENTS = frozenset({"svg", "g", "path", "circle", "ellipse", "rect", "line", "polyline", "polygon", "title",
                      "desc", "defs", "linearGradient", "radialGradient", "stop", "clipPath"})
ATTRIBUTES = frozenset({
    "viewBox", "width", "height", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "fx", "fy", "d",
    "points", "transform", "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-linecap",
    "stroke-linejoin", "stroke-miterlimit", "stroke-dasharray", "stroke-dashoffset", "stroke-opacity", "opacity",
    "clip-path", "clip-rule", "id", "offset", "stop-color", "stop-opacity", "gradientUnits", "gradientTransform",
    "clipPathUnits", "aria-hidden", "role", "focusable", "preserveAspectRatio", "version",
})
# A reference is allowed only to an element of the same drawing: url(#id).
URL_REFERENCE = re.compile(r"url\(\s*([^)]*)\)", re.IGNORECASE)


class PictogramRefused(ValueError):
    """The pictogram cannot be shown; the message (French) says why."""


def _local_name(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return None, tag


def check_svg(data: bytes) -> None:
    """Raise :class:`PictogramRefused` unless ``data`` is a small SVG made of plain shapes only."""
    if len(data) > MAX_PICTOGRAM_BYTES:
        raise PictogramRefused(f"pictogramme trop gros ({len(data)} octets, {MAX_PICTOGRAM_BYTES} au plus)")
    if re.search(rb"<!(?!--)", data) or b"<?xml-stylesheet" in data:
        raise PictogramRefused("pictogramme refusé : déclaration DOCTYPE, ENTITY, CDATA ou feuille de style interdite")
    try:
        root = ElementTree.fromstring(data)
    except (ElementTree.ParseError, ValueError):
        raise PictogramRefused("pictogramme illisible : ce n'est pas un fichier SVG bien formé") from None
    if _local_name(root.tag) != (SVG_NAMESPACE, "svg"):
        raise PictogramRefused("pictogramme refusé : le fichier doit commencer par <svg xmlns=\"http://www.w3.org/2000/svg\">")
    for element in root.iter():
        namespace, name = _local_name(element.tag) if isinstance(element.tag, str) else (None, "?")
        if namespace != SVG_NAMESPACE or name not in ELEMENTS:
            raise PictogramRefused(f"pictogramme refusé : élément <{name}> interdit (seules les formes simples "
                                   "sont permises : pas de script, de lien, d'image ni de style)")
        for attribute, value in element.attrib.items():
            attribute_namespace, attribute_name = _local_name(attribute)
            if attribute_namespace is not None or attribute_name not in ATTRIBUTES:
                raise PictogramRefused(f"pictogramme refusé : attribut « {attribute_name} » interdit sur <{name}>")
            for reference in URL_REFERENCE.findall(value):
                if not reference.strip().strip("'\"").startswith("#"):
                    raise PictogramRefused(f"pictogramme refusé : référence externe « {reference[:60]} » "
                                           f"dans l'attribut « {attribute_name} »")
            if "javascript:" in value.lower() or "data:" in value.lower():
                raise PictogramRefused(f"pictogramme refusé : adresse interdite dans l'attribut « {attribute_name} »")


def check_pictogram_name(name: str) -> None:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise PictogramRefused(f"nom de pictogramme invalide « {str(name)[:70]} » : lettres minuscules, chiffres, "
                               "tirets, puis .svg")
