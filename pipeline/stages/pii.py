"""RedactPII: replace e-mail addresses, phone numbers, IPs, SSNs and card numbers by placeholder tokens.

The detection rules and per-source policies live in ``filters.pii``; counts per kind go to
``metadata["pii_redacted"]`` on the document and to ``pii:<kind>`` counters. Nothing is dropped here.
"""

from __future__ import annotations

import apache_beam as beam

from core.schema import Document
from filters.pii import PiiRedactor
from pipeline.config import PiiSettings
from pipeline.stages.base import DocumentStage, apply_stage, counter

STAGE = "pii"


def redact_document(redactor: PiiRedactor, doc: Document) -> tuple[Document, dict[str, int]]:
    """The pure core: redact one document in place and note what was replaced."""
    text, counts = redactor.redact(doc.text, doc.source)
    found = {kind: n for kind, n in counts.items() if n}
    if found:
        doc.text = text
        doc.n_chars = len(text)
        doc.metadata["pii_redacted"] = ",".join(f"{k}:{v}" for k, v in sorted(found.items()))
    return doc, found


class _RedactPiiFn(DocumentStage):
    stage = STAGE

    def __init__(self, settings: PiiSettings):
        self._policy = settings.policy()
        self._redactor: PiiRedactor | None = None

    def setup(self):
        self._redactor = PiiRedactor(self._policy)

    def handle(self, doc: Document) -> Document:
        assert self._redactor is not None
        doc, found = redact_document(self._redactor, doc)
        for kind, n in found.items():
            counter(f"pii:{kind}").inc(n)
        return doc


class RedactPII(beam.PTransform):
    """Redact personal data in every document (main, rejected (always empty), errors)."""

    def __init__(self, settings: PiiSettings | dict | None = None):
        super().__init__()
        self._fn = _RedactPiiFn(PiiSettings.of(settings))

    def expand(self, docs):
        return apply_stage(docs, "Redact", self._fn)
