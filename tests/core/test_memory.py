"""core.memory.trim: freed heap pages go back to the OS (glibc), a no-op elsewhere."""

from __future__ import annotations

import platform

import pytest

from core.memory import _malloc_trim, trim


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_trim_releases_the_pages_of_freed_objects():
    junk = [bytearray(200) for _ in range(300_000)]  # ~80 MB of small blocks from malloc's heap
    del junk
    assert _malloc_trim() is not None
    assert trim() is True  # something was given back


def test_trim_is_a_no_op_without_glibc(monkeypatch):
    monkeypatch.setattr("core.memory._malloc_trim", lambda: None)
    assert trim() is False
