"""ScoreQuality: tag quality signals and a score on every document, then drop by the per-source policy.

The rules (Gopher, C4, FineWeb and source-aware signals) and their thresholds live in ``filters.quality``;
this stage only adapts them to Beam. ``quality.label_only: true`` (or ``--label_only``) keeps everything.
"""

from __future__ import annotations

import apache_beam as beam

from core.schema import Document, Rejected
from filters.quality import QualityConfig, QualityScorer
from pipeline.config import QualitySettings
from pipeline.stages.base import DocumentStage, apply_stage

STAGE = "quality"


def quality_config(settings: QualitySettings | dict | None) -> QualityConfig:
    """The rules' typed config from the config's ``quality`` section."""
    return QualitySettings.of(settings).rules()


class _ScoreQualityFn(DocumentStage):
    stage = STAGE

    def __init__(self, settings: QualitySettings):
        self._settings = settings
        self._label_only = settings.label_only
        self._scorer: QualityScorer | None = None

    def setup(self):
        self._scorer = QualityScorer(quality_config(self._settings))

    def handle(self, doc: Document) -> Document | Rejected:
        assert self._scorer is not None
        doc = self._scorer.score(doc)
        keep, reason = self._scorer.decide(doc)  # a kept document leaves with C4-cleaned text
        doc.n_chars = len(doc.text)
        if keep or self._label_only:
            return doc
        return Rejected(stage=STAGE, reason=reason, document=doc)


class ScoreQuality(beam.PTransform):
    """Score every document; reject those that fail their source's quality policy."""

    def __init__(self, settings: QualitySettings | dict | None = None):
        super().__init__()
        self._fn = _ScoreQualityFn(QualitySettings.of(settings))

    def expand(self, docs):
        return apply_stage(docs, "ScoreAndFilter", self._fn)
