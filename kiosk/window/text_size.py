"""The toolbar's "Texte plus grand" / "Texte plus petit": one text level per session, shown two ways.

- On the shell's own pages, the level is the shell's display setting (``kiosk.shell.display``,
  sizes in order up to 200 %): the page re-lays itself out (tiles reflow), nothing is zoomed.
  The window applies it from inside the shell page: a same-origin POST to ``/affichage`` (the
  shell's own form endpoint, whose Origin check it passes), then a reload.
- On every other page, the level is WebKit's page zoom, from 1.0 (normal) to 2.0 (largest),
  spread evenly over the shell's sizes.

The level belongs to the session: the wipe resets it (and the shell's setting lives in the
session's cookie, which the wipe erases too). Pure logic here; the window applies it.
"""

from __future__ import annotations

import json

from kiosk.shell.display import TEXT_SIZES

LEVELS: tuple[str, ...] = tuple(TEXT_SIZES)
MAX_PAGE_ZOOM = 2.0


def page_zoom(level: int, levels: int = len(LEVELS)) -> float:
    """WebKit zoom for third-party pages at ``level`` (0: 1.0, last: MAX_PAGE_ZOOM)."""
    if levels < 2:
        return 1.0
    level = min(max(level, 0), levels - 1)
    return round(1.0 + (MAX_PAGE_ZOOM - 1.0) * level / (levels - 1), 3)


class TextSize:
    def __init__(self, levels: tuple[str, ...] = LEVELS) -> None:
        self.levels = levels
        self.level = 0

    @property
    def key(self) -> str:
        return self.levels[self.level]

    @property
    def largest(self) -> bool:
        return self.level == len(self.levels) - 1

    def step(self, delta: int) -> bool:
        """Move one size up (+1) or down (-1); False when already at the end."""
        wanted = min(max(self.level + delta, 0), len(self.levels) - 1)
        changed = wanted != self.level
        self.level = wanted
        return changed

    def set_largest(self) -> None:
        self.level = len(self.levels) - 1

    def reset(self) -> None:
        self.level = 0

    @property
    def zoom(self) -> float:
        return page_zoom(self.level, len(self.levels))


def shell_display_script(text_key: str | None, contrast: bool | None = None, *, push: bool = True,
                         page: str | None = None) -> str:
    """JavaScript run in a shell page: if its display differs from what is wanted, POST the change to
    the shell and reload; answers "ok" (nothing to do) or "pushed" (or "differs" when ``push`` is
    False: a second try would only loop).

    ``page``: the shell page the window means (its address, fragment ignored). The script runs in
    whatever document the view shows *now*, which is not always the one ``get_uri()`` names: while a
    new load is pending (the refusal page after a refused redirect), ``get_uri()`` already gives the
    new address but the old (third-party) page is still shown. Run there, the POST would go to that
    site and the reload would bring it back over the pending page. So when the document is not
    ``page`` the script does nothing and answers "elsewhere" (the pending page is applied when it loads).
    """
    return """(function (key, contrast, page) {
  if (page !== null && location.href.split('#')[0] !== page.split('#')[0]) return 'elsewhere';
  var root = document.documentElement, body = new URLSearchParams();
  if (key && !root.classList.contains('texte-' + key)) body.append('texte', key);
  if (contrast !== null && root.classList.contains('contraste') !== contrast) body.append('contraste', contrast ? 'oui' : 'non');
  if (!body.has('texte') && !body.has('contraste')) return 'ok';
  if (!%s) return 'differs';
  body.append('retour', '/');
  fetch('/affichage', {method: 'POST', body: body, credentials: 'same-origin', redirect: 'manual'})
    .then(function () { location.reload(); }, function () { location.reload(); });
  return 'pushed';
})(%s, %s, %s)""" % (json.dumps(push), json.dumps(text_key), json.dumps(contrast), json.dumps(page))
