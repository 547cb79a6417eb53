"""Shared test fixtures: where the real third-party data lives (../shared/data beside the checkout)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("FINPILE_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real files in ../shared/data; skips the test with a reason when they are absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"real data not found at {SHARED_DATA} (set FINPILE_SHARED_DATA or put shared/ beside the checkout)"
        )
    return SHARED_DATA


@pytest.fixture(autouse=True)
def isolated_fetch_cache(tmp_path_factory, monkeypatch) -> Path:
    """Every test sees an empty fetch cache of its own (never the user's ~/.cache/finpile): runs decontaminate
    against the cached evaluation sets by default, so a user's downloads must not change test results."""
    cache = tmp_path_factory.mktemp("fetch-cache")
    monkeypatch.setenv("FINPILE_CACHE_DIR", str(cache))
    return cache
