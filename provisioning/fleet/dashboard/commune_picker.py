"""The commune picker of the overview, usage and report pages, as one piece of markup.

A national fleet has thousands of communes: written by a Jinja loop, their ``<option>`` elements were a
good part of each page's time (an attribute lookup and an escape per value, in template code). Here they
are joined in Python, every value escaped, and kept for as long as the list of communes is the same
(it changes when a commune is added or renamed): a page then only marks its selected commune.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from markupsafe import Markup, escape


@functools.lru_cache(maxsize=8)
def _options(choices: tuple[tuple[str, str], ...]) -> str:
    return "".join(f'<option value="{escape(insee)}">{escape(name)} ({escape(insee)})</option>'
                   for insee, name in choices)


def commune_options(choices: Iterable, selected: str | None) -> Markup:
    """``<option>`` per commune (``insee``, ``name``), ``selected`` marked; the caller writes the ``<select>``
    and its first, "whole fleet" option."""
    markup = _options(tuple((str(insee), str(name)) for insee, name in choices))
    if selected:
        value = f'<option value="{escape(selected)}">'
        markup = markup.replace(value, f'<option value="{escape(selected)}" selected>', 1)
    return Markup(markup)


def init_app(app) -> None:
    app.jinja_env.globals["commune_options"] = commune_options
