"""kiosk.window.heap: freed heap memory really goes back to the system (glibc's malloc_trim)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_freed_memory_in_the_middle_of_the_heap_is_given_back():
    # In a fresh interpreter: 60 MB of 4 KiB blocks (glibc's heap, not mmap), then nine in ten freed, so
    # the free memory lies between live blocks where glibc keeps it; release_freed_memory returns it.
    script = textwrap.dedent("""
        import ctypes
        from kiosk.window.heap import release_freed_memory

        def anonymous_mb():
            for line in open("/proc/self/smaps_rollup"):
                if line.startswith("Anonymous:"):
                    return int(line.split()[1]) / 1024

        libc = ctypes.CDLL("libc.so.6")
        libc.malloc.restype = ctypes.c_void_p
        libc.free.argtypes = [ctypes.c_void_p]
        blocks = [libc.malloc(4096) for _ in range(15000)]
        for address in blocks:
            ctypes.memset(address, 1, 4096)
        for index, address in enumerate(blocks):
            if index % 10:
                libc.free(address)
        before = anonymous_mb()
        assert release_freed_memory() is True
        print(before - anonymous_mb())
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) > 30  # of the ~53 MB freed between live blocks
