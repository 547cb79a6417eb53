"""Shared test fixtures: where the real third-party data lives (../shared/data beside the checkout)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
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


@pytest.fixture(scope="session", autouse=True)
def _session_fetch_cache(tmp_path_factory) -> Iterator[Path]:
    """An empty fetch cache for the session (set before session fixtures such as ``sample_run`` start)."""
    cache = tmp_path_factory.mktemp("session-fetch-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FINPILE_CACHE_DIR", str(cache))
        yield cache


@pytest.fixture(autouse=True)
def isolated_fetch_cache(tmp_path_factory, monkeypatch) -> Path:
    """Every test sees an empty fetch cache of its own (never the user's ~/.cache/finpile): runs decontaminate
    against the cached evaluation sets by default, so a user's downloads must not change test results."""
    cache = tmp_path_factory.mktemp("fetch-cache")
    monkeypatch.setenv("FINPILE_CACHE_DIR", str(cache))
    return cache


def run_cli(*args: str, cwd: Path | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    """``python -m pipeline ARGS`` in a subprocess with this checkout first on the path."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=cwd or REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The README's main job (embedded sample, with stats) run once per test session (per xdist worker).

    Tests that only read a finished run share it instead of each running the pipeline again.
    Returns the run folder and the finished process (its stdout holds the summary).
    """
    root = tmp_path_factory.mktemp("sample-run")
    proc = run_cli("run", "--runner=DirectRunner", f"--output_root={root}", "--run_name=e2e")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root / "e2e", proc
