"""Process-wide memory housekeeping for long-running servers.

A web worker holds a large, long-lived heap: the address and division indexes, the ORM's
mappers, compiled templates. CPython's cycle collector walks every tracked object of the oldest
generation on each full collection, and with the city-scale indexes loaded one such pass took
110–130 ms — several times a minute under dashboard load, each one a pause of the worker
(bench/dashboard.py; a leadership page saw up to three). ``settle_heap`` moves the objects alive
now out of its view (``gc.freeze``): later full collections walk only what was made since,
2–8 ms. Frozen objects are still freed by reference counting when nothing refers to them.
"""

from __future__ import annotations

import ctypes
import gc
import threading

_lock = threading.Lock()


def release_memory() -> None:
    """Hand freed memory (a build's row buffers, a replaced index) back to the OS (glibc keeps
    it otherwise)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def settle_heap() -> None:
    """Call once a large long-lived structure has been built or replaced (an index rebuild, the
    end of start-up). The objects frozen before come back into view, one full collection frees
    the cycles among what was replaced, and everything still alive is frozen again: one pause
    per rebuild instead of one per full collection."""
    with _lock:
        gc.unfreeze()
        gc.collect()
        gc.freeze()


__all__ = ["release_memory", "settle_heap"]
