"""What every per-document stage shares: tagged outputs, counters, and routing of failures.

A stage's pure core takes a Document and returns it (kept, maybe changed) or a ``Rejected``. ``DocumentStage``
is the thin Beam shell around such a core: it counts ``<stage>:kept``, ``<stage>:dropped:<reason>`` and
``<stage>:errors:<kind>``, sends rejected documents to the ``rejected`` output and failures to ``errors``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.metrics import Metrics

from core.errors import RecordFailure
from core.schema import Document, RecordError, Rejected
from pipeline import progress

NAMESPACE = "finpile"
REJECTED = "rejected"
ERRORS = "errors"

_LOG = logging.getLogger(__name__)


def counter(name: str):
    """A counter in the project's namespace (Beam caches counters by name, so this is cheap)."""
    return Metrics.counter(NAMESPACE, name)


def error_from_exception(stage: str, doc_source: str, doc_id: str, exc: BaseException) -> RecordError:
    """A RecordError for an exception raised while a stage handled one record."""
    kind = exc.kind if isinstance(exc, RecordFailure) else type(exc).__name__
    return RecordError(source=doc_source, stage=stage, kind=kind, message=str(exc)[:500], id=doc_id)


class DocumentStage(beam.DoFn):
    """Adapts a per-document core to Beam: main output, ``rejected`` and ``errors`` tagged outputs.

    Subclasses implement ``handle(doc) -> Document | Rejected`` and may load resources in ``setup``.
    """

    stage = "stage"

    def handle(self, doc: Document) -> Document | Rejected:  # pragma: no cover - abstract
        raise NotImplementedError

    def process(self, doc: Document) -> Iterator[Any]:
        progress.tick(self.stage)
        try:
            result = self.handle(doc)
        except (
            RecordFailure,
            ValueError,
            TypeError,
            KeyError,
            IndexError,
            UnicodeError,
            OverflowError,
        ) as exc:
            # Specific, per-record failures: count, log with the id, route to errors/ and go on.
            err = error_from_exception(self.stage, doc.source, doc.id, exc)
            counter(f"{self.stage}:errors:{err.kind}").inc()
            _LOG.warning("%s failed on %s: %s: %s", self.stage, doc.id, err.kind, err.message)
            yield pvalue.TaggedOutput(ERRORS, err)
            return
        if isinstance(result, Rejected):
            counter(f"{self.stage}:dropped:{result.reason}").inc()
            yield pvalue.TaggedOutput(REJECTED, result)
        else:
            counter(f"{self.stage}:kept").inc()
            yield result

    def finish_bundle(self):
        progress.flush()


def apply_stage(pcoll, label: str, dofn: DocumentStage):
    """Apply a DocumentStage; returns (kept, rejected, errors) PCollections."""
    outputs = pcoll | label >> beam.ParDo(dofn).with_outputs(REJECTED, ERRORS, main="kept")
    return outputs.kept, outputs[REJECTED], outputs[ERRORS]


# ------------------------------------------------------------------ sharing work out over the workers


def balanced_bins(items: list[Any], weights: list[float], bins: int) -> list[list[Any]]:
    """``items`` in ``bins`` lists of near-equal total weight: heaviest first, each to the lightest bin so
    far (longest-processing-time first; within 4/3 of the best split). Ties are broken by position, so the
    same items give the same bins."""
    order = sorted(range(len(items)), key=lambda i: (-weights[i], i))
    loads = [0.0] * bins
    out: list[list[Any]] = [[] for _ in range(bins)]
    for i in order:
        b = min(range(bins), key=lambda k: (loads[k], k))
        loads[b] += weights[i]
        out[b].append(items[i])
    return out


def _to_bins(keyed: tuple[Any, Any], weight, bins: int) -> Iterator[tuple[int, Any]]:
    items = list(keyed[1])
    for b, group in enumerate(balanced_bins(items, [float(weight(x)) for x in items], bins)):
        for item in group:
            yield b, item


def _single(x: Any) -> tuple[int, Any]:
    return 0, x


class Spread(beam.PTransform):
    """Share elements out over ``workers`` local worker processes with equal *work*, where ``Reshuffle``
    shares them out by count: a part of filings costs several parts of tweets, and a bundle's last, short
    part costs a fraction of a full one.

    The local runner hands the k-th key of a grouped input to worker ``k % n``, so the elements (small: paths
    and file specs) are gathered under one key, put into ``workers`` bins of near-equal ``weight`` (bytes to
    read) and grouped again, one bin per worker. With one worker, or ``workers=None`` (a remote runner, whose
    workers take keys as they free up), it is a plain ``Reshuffle``. Either way it is a fusion break: what
    follows runs as its own stage.
    """

    def __init__(self, weight, workers: int | None):
        super().__init__()
        self._weight, self._workers = weight, workers

    @staticmethod
    def balances(workers: int | None) -> bool:
        """Whether ``Spread`` does more than a ``Reshuffle`` for this worker count (local, 2 or more)."""
        return bool(workers) and workers > 1

    def expand(self, pcoll):
        if not self.balances(self._workers):
            return pcoll | "Reshuffle" >> beam.Reshuffle()
        return (
            pcoll
            | "One" >> beam.Map(_single)
            | "Gather" >> beam.GroupByKey()
            | "Bins" >> beam.FlatMap(_to_bins, self._weight, self._workers)
            | "ByBin" >> beam.GroupByKey()
            | "Each" >> beam.FlatMapTuple(lambda _bin, items: items)
        )
