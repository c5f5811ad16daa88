"""The commune picker of the overview, usage and report pages, as one piece of markup.

A national fleet has thousands of communes: written by a Jinja loop, their ``<option>`` elements were a
good part of each page's time (an attribute lookup and an escape per value, in template code). Here they
are joined once in Python, every value escaped.
"""

from __future__ import annotations

from collections.abc import Iterable

from markupsafe import Markup, escape


def commune_options(choices: Iterable, selected: str | None) -> Markup:
    """``<option>`` per commune (``insee``, ``name``), ``selected`` marked; the caller writes the ``<select>``
    and its first, "whole fleet" option."""
    return Markup("".join(
        f'<option value="{escape(insee)}"{" selected" if insee == selected else ""}>{escape(name)} ({escape(insee)})</option>'
        for insee, name in choices))


def init_app(app) -> None:
    app.jinja_env.globals["commune_options"] = commune_options
