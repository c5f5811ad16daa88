"""Giving back to the system the memory the window process freed while it started (issue 17).

Start-up allocates and frees a lot (imports, the configuration's models, the first page of the
shell, Babel's locale data read once for its few French words: ``kiosk.window.babel_memory``). glibc's
``malloc`` keeps freed memory in its arenas, where it still counts as the process's anonymous
memory, i.e. as used memory on a 2 GB PC. Once the home is shown, a full garbage collection then
``malloc_trim(0)`` returns the free pages of every arena to the kernel: ~3 MB measured on the
window process (``bench/kiosk_window.py``; the figures are in ``docs/performance-boot.md``).
Nothing is lost: memory is asked for again as needed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging

log = logging.getLogger(__name__)


def release_freed_memory() -> bool:
    """Collect garbage and return free heap pages to the system; False where there is no glibc."""
    gc.collect()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim): nothing to give back this way
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    trim(0)
    return True
