"""The residents' web shell: the home screen of tiles, the help page and the pages the window shows.

Routes (other parts of the kiosk code against these paths):

- ``/`` home: the tiles by category; ``/aide`` help (who to call, bus visits, France services, guides);
- ``/ouvrir/<tile_id>``: records TILE_OPENED and redirects (302) to the tile's URL, or to
  ``/hors-ligne?tuile=<tile_id>`` when there is no Internet;
- ``/non-autorise?hote=HOST`` refused page (names HOST only if it is a valid host name);
- ``/session-terminee`` session ended; ``/hors-ligne[?tuile=ID]`` no Internet (or a portal) with a retry;
- ``/injoignable?hote=HOST&cause=C[&code=5xx][&tuile=ID][&adresse=URL]``: a page of a service could not be
  shown; after a connectivity check made now: no Internet, a portal asking for something, or "<the
  service> ne répond pas pour le moment" (``kiosk/shell/unreachable.py``);
- ``/etat`` JSON ``{"online": bool, "connection": "online"|"portal"|"offline", "checked_at": ISO 8601 UTC,
  "date": "...", "time": "..."}``;
- ``/pictogrammes/<tile_id>.svg`` a tile's pictogram; ``POST /affichage`` text size / contrast;
- ``/static/...`` the shell's CSS, script and icon.

Extend it with ``create_app(config, blueprints=[...])`` and :class:`kiosk.shell.app.ShellState`
(``shell_state(app).add_nav_link(...)``, ``.add_page_script(...)``).
"""

from kiosk.shell.app import create_app, shell_state
from kiosk.shell.settings import ShellSettings

__all__ = ["ShellSettings", "create_app", "shell_state"]
