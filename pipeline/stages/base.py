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
