"""ClassifyDomain: general-web pages the domain classifier finds financial join the financial domain.

FinPile's "Web" category is financially relevant pages picked out of the general web (BloombergGPT, Wu et al.
2023, section 2.1). For each document whose source is in ``domain.sources`` (default ``[web]``) the stage
stores the classifier's probability of "financial" as ``metadata["domain_score"]`` (a string with 4 decimals:
the Document schema keeps metadata as string pairs, so no schema bump is needed), then sets ``domain`` to
``financial`` when the score is at least ``domain.threshold`` (default 0.5) and to ``general`` otherwise. The
``source`` stays ``web``, so shards and the mixture tell financial web from general web by (domain, source).
Documents of other sources pass unchanged. Nothing is dropped (tag, then decide: the mixer does the rest).

``domain.model_path`` defaults to the small model shipped in ``pipeline/models/domain-sample.ftz`` (trained on
the embedded sample corpus; see its model card ``domain-sample.md``); train your own with
``python -m pipeline train-domain-classifier RUN_DIR``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

from filters.domain import DomainClassifier
from pipeline.errors import ConfigError
from pipeline.schema import Document, Rejected
from pipeline.stage import NAMESPACE, DocumentStage, apply_stage, counter

STAGE = "domain"
DEFAULT_MODEL = "domain-sample.ftz"
DEFAULT_THRESHOLD = 0.5
DEFAULT_SOURCES = ("web",)


def default_model_path() -> str:
    """The domain model shipped in the installed package (``pipeline/models/domain-sample.ftz``)."""
    return str(resources.files("pipeline") / "models" / DEFAULT_MODEL)


@dataclass(frozen=True)
class DomainConfig:
    """The ``domain:`` config section, validated: model file, threshold, which sources are classified."""

    model_path: str
    threshold: float = DEFAULT_THRESHOLD
    sources: tuple[str, ...] = DEFAULT_SOURCES
    label: str = "financial"  # the profile's domain: the model's positive label is __label__<label>

    @classmethod
    def from_settings(cls, settings: dict[str, Any] | None) -> DomainConfig:
        settings = settings or {}
        model_path = settings.get("model_path") or default_model_path()
        threshold = settings.get("threshold", DEFAULT_THRESHOLD)
        if not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
            raise ConfigError(f"domain.threshold must be a number in [0, 1], got {threshold!r}")
        sources = settings.get("sources", list(DEFAULT_SOURCES))
        if isinstance(sources, str):
            sources = [sources]
        if "://" not in model_path and not os.path.isfile(model_path):
            raise ConfigError(
                f"domain.model_path: model file not found: {model_path} "
                "(train one with `python -m pipeline train-domain-classifier RUN_DIR`)"
            )
        label = str(settings.get("label") or "financial")
        return cls(model_path=model_path, threshold=float(threshold), sources=tuple(sources), label=label)


def classify(doc: Document, score: float, threshold: float, label: str = "financial") -> Document:
    """Record ``domain_score`` and set the domain from it (the pure decision): the profile's domain ``label``
    at or above the threshold, ``general`` below."""
    doc.metadata["domain_score"] = f"{score:.4f}"
    doc.domain = label if score >= threshold else "general"
    return doc


class _ClassifyDomainFn(DocumentStage):
    stage = STAGE

    def __init__(self, config: DomainConfig):
        self._config = config
        self._sources = frozenset(config.sources)
        self._classifier: DomainClassifier | None = None

    def setup(self):
        self._classifier = DomainClassifier(self._config.model_path, label=self._config.label)
        self._classifier.setup()
        self._scores = Metrics.distribution(NAMESPACE, f"{STAGE}:score_permille")

    def handle(self, doc: Document) -> Document | Rejected:
        if doc.source not in self._sources:
            return doc
        assert self._classifier is not None
        score = self._classifier.score(doc.text)
        doc = classify(doc, score, self._config.threshold, self._config.label)
        counter(f"{STAGE}:{doc.domain}").inc()
        self._scores.update(int(round(score * 1000)))
        return doc


class ClassifyDomain(beam.PTransform):
    """Score web pages' financial relevance and set their domain (main, rejected (always empty), errors)."""

    def __init__(self, settings: dict[str, Any] | None = None):
        super().__init__()
        self.config = DomainConfig.from_settings(settings)
        self._fn = _ClassifyDomainFn(self.config)

    def expand(self, docs):
        return apply_stage(docs, "ScoreDomain", self._fn)
