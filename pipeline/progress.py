"""Live progress of a local run: documents per stage, rate and elapsed time, printed to stderr.

Beam's local runner exposes metrics only when a pipeline has finished, so stages also tick a small
process-local tally that each worker process (in_memory, multi_threading or multi_processing mode) flushes
at most once a second to ``$FINPILE_PROGRESS_DIR/progress-<pid>.json``. The driver's ``ProgressReporter``
thread sums those files and prints one line every few seconds. On Dataflow the driver polls the job's
metrics instead (see ``pipeline.run``). With no FINPILE_PROGRESS_DIR set, ticking costs one dict update.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import Counter

ENV_DIR = "FINPILE_PROGRESS_DIR"
FLUSH_SECONDS = 1.0

_lock = threading.Lock()
_counts: Counter[str] = Counter()
_last_flush = 0.0

# Stages in pipeline order, for a stable line.
ORDER = ("read", "extract", "language", "quality", "pii", "written")


def reset() -> None:
    """Forget this process's tally (a new run in the same process)."""
    global _last_flush
    with _lock:
        _counts.clear()
        _last_flush = 0.0


def tick(stage: str, n: int = 1) -> None:
    """Count n documents through ``stage`` in this process."""
    global _last_flush
    with _lock:
        _counts[stage] += n
        now = time.monotonic()
        if now - _last_flush < FLUSH_SECONDS:
            return
        _last_flush = now
        snapshot = dict(_counts)
    _write(snapshot)


def flush() -> None:
    """Write this process's tally now (end of a bundle)."""
    with _lock:
        snapshot = dict(_counts)
    if snapshot:
        _write(snapshot)


def _write(snapshot: dict[str, int]) -> None:
    folder = os.environ.get(ENV_DIR)
    if not folder:
        return
    path = os.path.join(folder, f"progress-{os.getpid()}.json")
    tmp = f"{path}.{threading.get_ident()}.tmp"
    try:
        with open(tmp, "w") as f:
            json.dump(snapshot, f)
        os.replace(tmp, path)
    except OSError:
        pass  # progress is best-effort; the run's own outputs are what counts


def read_totals(folder: str) -> Counter[str]:
    """Sum the tallies of every process that wrote one."""
    totals: Counter[str] = Counter()
    try:
        names = os.listdir(folder)
    except OSError:
        return totals
    for name in names:
        if name.startswith("progress-") and name.endswith(".json"):
            try:
                with open(os.path.join(folder, name)) as f:
                    totals.update(json.load(f))
            except (OSError, ValueError):
                continue
    return totals


def format_line(totals: Counter[str], elapsed: float, previous: Counter[str] | None, interval: float) -> str:
    parts = [f"[{int(elapsed) // 60:02d}:{int(elapsed) % 60:02d}]"]
    for stage in [s for s in ORDER if s in totals] + sorted(set(totals) - set(ORDER)):
        rate = ""
        if previous is not None and interval > 0:
            rate = f" ({(totals[stage] - previous.get(stage, 0)) / interval:,.0f}/s)"
        parts.append(f"{stage} {totals[stage]:,}{rate}")
    return " | ".join(parts)


class ProgressReporter(threading.Thread):
    """Prints a progress line to stderr every ``interval`` seconds until stopped."""

    def __init__(self, folder: str, interval: float = 5.0, stream=None):
        super().__init__(daemon=True)
        self.folder = folder
        self.interval = interval
        self.stream = stream or sys.stderr
        self._stop_event = threading.Event()
        self._t0 = time.monotonic()

    def run(self) -> None:
        previous: Counter[str] | None = None
        while not self._stop_event.wait(self.interval):
            totals = read_totals(self.folder)
            if totals:
                line = format_line(totals, time.monotonic() - self._t0, previous, self.interval)
                print(line, file=self.stream, flush=True)
                previous = totals

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=2)
