"""Every setting is declared once with a help text, and the reference in docs/ is generated from it."""

from pathlib import Path

from pydantic import BaseModel

from kiosk.config import models
from kiosk.config.reference import BEGIN, END, render

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_setting_has_a_help_text():
    undocumented = []
    for name in dir(models):
        model = getattr(models, name)
        if isinstance(model, type) and issubclass(model, BaseModel) and model.__module__ == models.__name__:
            undocumented += [f"{name}.{field}" for field, info in model.model_fields.items() if not info.description]
    assert undocumented == []


def test_reference_in_docs_is_up_to_date():
    text = DOC.read_text(encoding="utf-8")
    current = text[text.index(BEGIN): text.index(END) + len(END)]
    assert current == render(), "run: python -m kiosk.config.reference docs/configuration.md"
    assert "`idle.warning_after_s` | `300`" in current
