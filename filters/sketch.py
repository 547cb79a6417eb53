"""A count-min sketch (Cormode & Muthukrishnan 2005) of 64-bit keys, used to pre-filter boilerplate candidates.

Counting documents per paragraph exactly needs one entry per distinct paragraph of the corpus (most paragraphs
are unique), which is what made the boilerplate count grow with the corpus. A count-min sketch has a fixed size
and never under-counts: a paragraph whose estimate is below ``min_docs`` is certainly below it, so only the
keys whose estimate reaches ``min_docs`` (the real boilerplate plus a few hash-collision false candidates) need
an exact count. Counts are ``uint8`` and saturate at 255 (an estimate of 255 means "at least 255").

Width: with ``n`` insertions and width ``w``, each row over-counts a key by ``n / w`` on average; a unique
paragraph becomes a false candidate only if all ``depth`` rows over-count by ``min_docs - 1``. For 10^8
insertions (about 1.5M documents of the benchmark mix) at ``w = 2**24`` that is ~6 per row, and with
``min_docs = 10`` and depth 3 about 0.3% of unique paragraphs become candidates (they are then counted exactly
and dropped). ``width_for(n)`` picks the width from the expected insertions.

Sparse, then dense: a sketch keeps the keys it was given (8 bytes each) until they would take more room than
its counters; only then are the counters allocated. So a sketch that saw few keys (one bundle's accumulator on
Dataflow, a small run) pickles small. With ``width_log2=None`` the width is not fixed in advance but chosen from
the keys actually seen (``counters_per_key`` counters a key, within ``2**lo_log2..2**hi_log2``) when the counters
are first needed: merged sparse accumulators choose it from their total, and an accumulator that must go dense
before the merge (its keys outgrew the largest table) takes the largest width, which the others then follow.
"""

from __future__ import annotations

import numpy as np

# Odd 64-bit multipliers (multiply-shift hashing, Dietzfelbinger et al. 1997), one per row.
_MULTIPLIERS = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD],
    dtype=np.uint64,
)
MAX_DEPTH = len(_MULTIPLIERS)
FLUSH_KEYS = 1 << 20
COMPACT_ARRAYS = 4096  # a sparse sketch joins its pending key arrays this many at a time


def width_for(insertions: int, lo_log2: int = 16, hi_log2: int = 24) -> int:
    """log2 of a width with at most ~1 insertion per counter, within [2**lo_log2, 2**hi_log2]."""
    need = max(int(insertions), 1).bit_length()
    return max(lo_log2, min(hi_log2, need))


class CountMinSketch:
    """``depth`` rows of ``2**width_log2`` saturating uint8 counters; ``add`` keys, ``estimate`` keys, ``merge``."""

    def __init__(
        self,
        width_log2: int | None = 20,
        depth: int = 3,
        *,
        counters_per_key: int = 4,
        lo_log2: int = 16,
        hi_log2: int = 24,
    ):
        if not 1 <= depth <= MAX_DEPTH:
            raise ValueError(f"depth must be 1..{MAX_DEPTH}, got {depth}")
        self.width_log2 = width_log2  # None: chosen from the keys (see the module doc)
        self.depth = depth
        self._per_key, self._lo, self._hi = counters_per_key, lo_log2, hi_log2
        # The counters are allocated at the first flush: a sketch that saw few keys (one bundle's on Dataflow)
        # travels as its keys (8 bytes each) rather than as 3 x 2**width_log2 counters.
        self.counts: np.ndarray | None = None
        self._pending: list[np.ndarray] = []
        self._n_pending = 0
        self._small = 0  # arrays added since the last compaction

    def _dense(self) -> np.ndarray:
        if self.counts is None:
            if self.width_log2 is None:
                self.width_log2 = width_for(self._n_pending * self._per_key, self._lo, self._hi)
            self.counts = np.zeros((self.depth, 1 << self.width_log2), dtype=np.uint8)
        return self.counts

    def _dense_bytes(self) -> int:
        return self.depth << (self._hi if self.width_log2 is None else self.width_log2)

    def _index(self, keys: np.ndarray, row: int) -> np.ndarray:
        with np.errstate(over="ignore"):
            return ((keys * _MULTIPLIERS[row]) >> np.uint64(64 - self.width_log2)).astype(np.int64)

    def add(self, keys: np.ndarray) -> None:
        """Count each key once (pass a document's distinct keys)."""
        if len(keys):
            self._pending.append(np.asarray(keys, dtype=np.uint64))
            self._n_pending += len(keys)
            self._small += 1
            if self._small >= COMPACT_ARRAYS:  # one array of the last few thousand: ~100 bytes less per array
                tail = self._pending[-self._small :]
                del self._pending[-self._small :]
                self._pending.append(np.concatenate(tail))
                self._small = 0
            if self._n_pending >= self._flush_at():
                if self.counts is None and self.width_log2 is None:
                    self.width_log2 = self._hi  # outgrew the largest table: every such sketch takes it
                self.flush()

    def _flush_at(self) -> int:
        # Sparse (the keys themselves) until they would take more bytes than the counters, then in batches.
        return FLUSH_KEYS if self.counts is not None else self._dense_bytes() // 8

    def flush(self) -> None:
        if not self._pending:
            return
        counts = self._dense()
        pending = self._pending
        self._pending, self._n_pending, self._small = [], 0, 0
        # FLUSH_KEYS keys at a time: the temporaries (indexes, a sorted copy, counts) are ~5 x 8 bytes a key, so
        # a sparse sketch of millions of keys going dense at once would briefly need hundreds of MB. Saturating
        # sums in steps equal the sum saturated once (all terms are non-negative).
        # A pending array may itself hold millions of keys (a sparse sketch restored from its pickle holds them as
        # one array): arrays are cut into FLUSH_KEYS slices (views, not copies).
        batch: list[np.ndarray] = []
        size = 0
        for i, keys in enumerate(pending):
            pending[i] = None  # freed once its last slice is counted
            for start in range(0, len(keys), FLUSH_KEYS):
                piece = keys[start : start + FLUSH_KEYS]
                batch.append(piece)
                size += len(piece)
                if size >= FLUSH_KEYS:
                    self._count(counts, np.concatenate(batch) if len(batch) > 1 else batch[0])
                    batch, size = [], 0
        if batch:
            self._count(counts, np.concatenate(batch) if len(batch) > 1 else batch[0])

    def _count(self, counts: np.ndarray, keys: np.ndarray) -> None:
        for row in range(self.depth):
            # per distinct counter, not a bincount over the whole width: memory follows the keys
            index, added = np.unique(self._index(keys, row), return_counts=True)
            total = counts[row][index].astype(np.int64) + added
            counts[row][index] = np.minimum(total, 255).astype(np.uint8)

    def merge(self, other: CountMinSketch) -> CountMinSketch:
        if other.depth != self.depth:
            raise ValueError("cannot merge sketches of different shapes")
        if other.counts is None:  # a sparse sketch: its keys are added (flushed once enough are pending)
            for keys in other._pending:
                self.add(keys)
            return self
        if self.counts is None and self.width_log2 is None:
            self.width_log2 = other.width_log2  # a dense one fixes the width of a still undecided one
        if other.width_log2 != self.width_log2:
            raise ValueError("cannot merge sketches of different shapes")
        self.flush()
        counts = self._dense()
        for row in range(self.depth):  # uint16 sums: a row at a time, 2 bytes a counter
            total = counts[row].astype(np.uint16) + other.counts[row]
            counts[row] = np.minimum(total, 255).astype(np.uint8)
        return self

    def estimate(self, keys: np.ndarray) -> np.ndarray:
        """Upper bounds of the keys' counts (exact when no other key shares all their counters)."""
        self.flush()
        counts = self._dense()
        keys = np.asarray(keys, dtype=np.uint64)
        est = np.full(len(keys), 255, dtype=np.uint8)
        for row in range(self.depth):
            np.minimum(est, counts[row][self._index(keys, row)], out=est)
        return est

    def __getstate__(self):
        state = {
            "width_log2": self.width_log2,
            "depth": self.depth,
            "sizing": (self._per_key, self._lo, self._hi),
        }
        if self.counts is None and self._n_pending * 8 < self._dense_bytes():
            # sparse: fewer bytes as keys than as counters
            keys = np.concatenate(self._pending) if self._pending else np.zeros(0, dtype=np.uint64)
            return {**state, "counts": None, "keys": keys}
        if self.counts is None and self.width_log2 is None:
            self.width_log2 = state["width_log2"] = self._hi
        self.flush()
        return {**state, "counts": self._dense()}

    def __setstate__(self, state):
        self.width_log2, self.depth, self.counts = state["width_log2"], state["depth"], state["counts"]
        self._per_key, self._lo, self._hi = state["sizing"]
        self._pending, self._n_pending, self._small = [], 0, 0
        keys = state.get("keys")
        if keys is not None and len(keys):
            self._pending, self._n_pending = [keys], len(keys)
