"""Give freed heap memory back to the operating system between big steps of a long run.

CPython frees objects to its allocator, and glibc's malloc keeps the freed pages of its heaps for reuse: after a
stage that made and dropped millions of small objects (a part of documents, a shard's row group, a sketch
merge), the process's RSS stays at its high-water mark although the memory is free. ``trim()`` asks glibc to
return what it can (``malloc_trim(0)``); on other C libraries it does nothing. It costs about a millisecond per
hundred MB of heap, so it is called once per part or shard, never per document.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _malloc_trim():
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None


def trim() -> bool:
    """Return freed heap pages to the OS where the C library can; True if it released any."""
    fn = _malloc_trim()
    return bool(fn(0)) if fn is not None else False
