"""Decontaminate: drop or flag documents that share a long n-gram with an evaluation example.

Config (``decontam:``)::

    decontam:
      eval_sets:                      # CSV/TSV (column) or JSONL (key); none by default: the stage passes through
        - {name: phrasebank, path: data/financial_phrasebank.csv, field: news}
      ngram: 13                       # GPT-3's 13-gram overlap test (Brown et al. 2020, appendix C)
      mode: drop                      # drop: reject as decontam:<eval set>; flag: keep, metadata["contaminated"]

The matching rules (normalisation, examples shorter than the n-gram) are in ``filters/decontam.py``. Counters:
``decontam:hits:<eval set>`` counts the documents that match each set; with ``mode: drop`` the rejected
documents also count as ``decontam:dropped:decontam:<eval set>`` and appear in the run's funnel. A document
that matches several sets is rejected for the one with most hits (ties: by name); all of them are listed in
``metadata["contaminated"]`` (comma-separated) in both modes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import apache_beam as beam

from filters.decontam import DEFAULT_NGRAM, MIN_WORDS, Decontaminator, EvalSet
from pipeline.config import DecontamSettings
from pipeline.errors import ConfigError
from pipeline.schema import Document, Rejected
from pipeline.stage import DocumentStage, apply_stage, counter

STAGE = "decontam"
MODES = ("drop", "flag")


@dataclass(frozen=True)
class EvalSetSpec:
    name: str
    path: str
    field: str


@dataclass(frozen=True)
class DecontamConfig:
    """The ``decontam:`` config section, validated."""

    eval_sets: tuple[EvalSetSpec, ...] = ()
    ngram: int = DEFAULT_NGRAM
    mode: str = "drop"
    min_words: int = MIN_WORDS

    @classmethod
    def from_settings(cls, settings: DecontamSettings | dict[str, Any] | None) -> DecontamConfig:
        """From the typed ``decontam`` section (a plain mapping is validated by the same schema)."""
        s = DecontamSettings.of(settings)
        return cls(
            eval_sets=tuple(EvalSetSpec(e.name, e.path, e.field) for e in s.eval_sets),
            ngram=s.ngram,
            mode=s.mode,
            min_words=s.min_words,
        )

    def check_files(self) -> None:
        """Fail at once, with one clear line, on an evaluation file that is not there."""
        from apache_beam.io.filesystems import FileSystems

        for spec in self.eval_sets:
            if not FileSystems.exists(spec.path):
                raise ConfigError(
                    f"decontam.eval_sets {spec.name}: file not found: {spec.path} (fix the path or remove the entry)"
                )

    def build(self) -> Decontaminator:
        sets = [EvalSet.load(s.name, s.path, s.field) for s in self.eval_sets]
        return Decontaminator(sets, n=self.ngram, min_words=self.min_words)


def decontam_decision(doc: Document, hits: dict[str, int], mode: str) -> Document | Rejected:
    """Flag the document with the matching sets; in drop mode reject it for the set with most hits."""
    if not hits:
        return doc
    doc.metadata["contaminated"] = ",".join(sorted(hits))
    if mode == "flag":
        return doc
    worst = min(hits, key=lambda name: (-hits[name], name))
    return Rejected(stage=STAGE, reason=f"decontam:{worst}", document=doc)


class _DecontaminateFn(DocumentStage):
    stage = STAGE

    def __init__(self, config: DecontamConfig):
        self._config = config
        self._decontaminator: Decontaminator | None = None

    def setup(self):
        # Loaded once per worker: the evaluation files are read and hashed here, never pickled.
        self._decontaminator = self._config.build()

    def handle(self, doc: Document) -> Document | Rejected:
        assert self._decontaminator is not None
        hits = self._decontaminator.check(doc.text)
        for name in hits:
            counter(f"{STAGE}:hits:{name}").inc()
        return decontam_decision(doc, hits, self._config.mode)


class Decontaminate(beam.PTransform):
    """Drop (or flag) documents sharing an n-gram with an evaluation set (main, rejected, errors).

    With no evaluation sets configured the stage is a pass-through.
    """

    def __init__(self, settings: DecontamSettings | dict[str, Any] | None = None):
        super().__init__()
        self.config = DecontamConfig.from_settings(settings)
        self.config.check_files()
        self._fn = _DecontaminateFn(self.config)

    def expand(self, docs):
        return apply_stage(docs, "CheckEvalOverlap", self._fn)
