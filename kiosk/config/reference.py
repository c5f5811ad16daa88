"""Render the configuration reference (docs/configuration.md) from the declarations in models.py.

Each setting is declared once, with its default and help text, in :mod:`kiosk.config.models`; this
module turns those declarations into the tables of the reference, so the documentation cannot drift.
Run ``python -m kiosk.config.reference docs/configuration.md`` to refresh the generated part.
"""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from kiosk.config.models import Catalog, Site

BEGIN = "<!-- BEGIN GENERATED REFERENCE -->"
END = "<!-- END GENERATED REFERENCE -->"


def _models_in(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for argument in typing.get_args(annotation):
        found.extend(_models_in(argument))
    return found


def _default(field) -> str:
    if field.is_required():
        return "obligatoire"
    if field.default_factory is not None:
        value = field.default_factory()
        return "vide" if value in ([], {}) or isinstance(value, BaseModel) else repr(value)
    if field.default is None or field.default is PydanticUndefined:
        return "absent"
    return f"`{field.default}`"


def _table(model: type[BaseModel], prefix: str, seen: set) -> list[str]:
    lines: list[str] = []
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, field in model.model_fields.items():
        lines.append(f"| `{prefix}{name}` | {_default(field)} | {field.description} |")
        for child in _models_in(field.annotation):
            if child not in seen:
                seen.add(child)
                origin = typing.get_origin(field.annotation)
                suffix = {list: "[]", dict: ".<id>"}.get(origin, "")
                nested.append((f"{prefix}{name}{suffix}.", child))
    for child_prefix, child in nested:
        lines.extend(_table(child, child_prefix, seen))
    return lines


def render() -> str:
    parts = [BEGIN, ""]
    for title, model in (("kiosk.yaml", Site), ("services.yaml", Catalog)):
        parts += [f"### `{title}`", "", "| Clé | Défaut | Rôle |", "| --- | --- | --- |"]
        parts += _table(model, "", {model})
        parts.append("")
    parts.append(END)
    return "\n".join(parts)


def refresh(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    path.write_text(text[:start] + render() + text[end:], encoding="utf-8")


if __name__ == "__main__":
    refresh(Path(sys.argv[1]))
