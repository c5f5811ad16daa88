"""The kiosk window keeps CLDR's few French words, not all of Babel's French data (issue 17).

The home shows the date, so the window process formats French dates and times for its whole life.
Read through Babel, that kept all of CLDR's French in memory (the ``root``, ``fr`` and ``fr_FR``
locale data merged, ~4.7 MB of Python objects, plus Babel's 2.2 MB of global data), of which the
shell uses a few dozen words. :func:`keep_only_french_words` reads those words once
(:func:`kiosk.text.french.words`, which every formatting function of that module uses from then
on) and then empties Babel's caches, so the data is freed.

Window-only: ``kiosk run`` calls it before GTK, WebKit and the shell allocate (the freed memory is
then reused by what follows instead of adding to the process's high-water mark). It only touches
the Babel state of the process it runs in; the fleet server, which also imports
:mod:`kiosk.text.french` and uses Babel for the dashboard, never calls it. Nothing breaks if
something in the window process asks Babel again later: Babel reloads what it needs from its files
(and the memory is used again, which ``tests/window/test_window_babel_memory.py`` would show).
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def keep_only_french_words() -> bool:
    """Read the French words the kiosk formats with, then empty Babel's caches in this process.

    True when every cache was emptied; False when this Babel release keeps its data where this
    function does not know to look (nothing breaks: the memory is simply not given back)."""
    from babel import core as babel_core
    from babel import localedata

    from kiosk.text import french

    french.words()
    with localedata._cache_lock:  # the lock Babel's own loading holds
        if callable(getattr(localedata, "clear_caches", None)):  # Babel ≥ 2.17
            localedata.clear_caches()
        else:
            for name in ("_cache", "_dict_cache"):
                cache = getattr(localedata, name, None)
                if isinstance(cache, dict):
                    cache.clear()
        emptied = not getattr(localedata, "_cache", None) and not getattr(localedata, "_dict_cache", None)
    if hasattr(babel_core, "_global_data"):  # likely subtags, time zones, currencies...: reloaded on demand
        babel_core._global_data = None
    else:
        emptied = False
    # french.LOCALE keeps the data it loaded (a shared reference to the cache's) until told to forget it.
    if hasattr(french.LOCALE, "_Locale__data"):
        french.LOCALE._Locale__data = None
    else:
        emptied = False
    if not emptied:
        log.warning("Babel's French data could not all be released: this Babel keeps it elsewhere")
    return emptied
