"""ClassifyDomain: documents whose source does not vouch for their domain are scored and placed by a classifier.

FinPile's "Web" category is financially relevant pages picked out of the general web (BloombergGPT, Wu et al.
2023, section 2.1). Scored are the documents whose source is in ``domain.sources`` (default ``[web, c4]``:
general web pages and C4-like inputs) and any document a reader marked ``metadata["domain_hint"] = "unknown"``
(a Reddit post from a subreddit outside the finance allow-list: a post in r/MMA is not financial because it is
on Reddit). The stage stores the classifier's probability of the profile's domain as ``metadata["domain_score"]`` (a
string with 4 decimals: the Document schema keeps metadata as string pairs, so no schema bump is needed) and the
domain the document had as ``metadata["domain_before"]``, then sets ``domain`` to ``financial`` when the score
is at least ``domain.threshold`` (default 0.5) and to ``general`` otherwise. A text with fewer than
``domain.min_words`` (default 20) words after normalisation (stop words dropped) is too short to judge: a
bag-of-words model is confidently wrong on three words ("Dm me for more" scores 1.0), so such a document is
``general`` whatever its score, with ``metadata["domain_too_short"] = "true"`` (being on the web or on Reddit does
not make a text financial).

A document of ``domain.sources`` that turns out financial joins FinPile's financial *Web* category: its source
becomes ``web`` (the source it came from stays in ``metadata["source_before_domain"]`` when it was another, e.g.
``c4``), so the mixer's financial web target applies to it. A scored social post keeps its source. Nothing is
dropped (tag, then decide: the mixer does the rest).

``domain.model_path`` defaults to the model shipped in ``pipeline/profiles/models/domain-finpile.ftz`` (trained on AG News,
Financial PhraseBank, EDGAR filings, financial tweets, Wikipedia and general news; see its model card
``domain-finpile.md``); train your own with ``python -m pipeline train-domain-classifier``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

from core.errors import ConfigError
from core.schema import Document, Rejected
from filters.domain import DomainClassifier, normalise
from pipeline.config import DomainSettings
from pipeline.profiles import DEFAULT_DOMAIN
from pipeline.stages.base import NAMESPACE, DocumentStage, apply_stage, counter

STAGE = "domain"
DEFAULT_MODEL = "domain-finpile.ftz"
DEFAULT_THRESHOLD = 0.5
DEFAULT_MIN_WORDS = 20
DEFAULT_SOURCES = ("web", "c4")
FINANCIAL_WEB_SOURCE = "web"  # FinPile's financial Web category
UNKNOWN_HINT = "unknown"


def default_model_path() -> str:
    """The domain model shipped in the installed package (``pipeline/profiles/models/domain-finpile.ftz``)."""
    return str(resources.files("pipeline") / "profiles" / "models" / DEFAULT_MODEL)


@dataclass(frozen=True)
class DomainConfig:
    """The ``domain:`` config section, validated: model file, threshold, which sources are classified."""

    model_path: str
    threshold: float = DEFAULT_THRESHOLD
    min_words: int = DEFAULT_MIN_WORDS
    sources: tuple[str, ...] = DEFAULT_SOURCES
    label: str = DEFAULT_DOMAIN  # the profile's domain: the model's positive label is __label__<label>

    @classmethod
    def from_settings(
        cls, settings: DomainSettings | dict[str, Any] | None, label: str = DEFAULT_DOMAIN
    ) -> DomainConfig:
        """From the typed ``domain`` section (a plain mapping is validated by the config schema first);
        ``label``: the profile's domain, the model's positive label."""
        s = DomainSettings.of(settings)
        model_path = s.model_path or default_model_path()
        if "://" not in model_path and not os.path.isfile(model_path):
            raise ConfigError(
                f"domain.model_path: model file not found: {model_path} "
                "(train one with `python -m pipeline train-domain-classifier RUN_DIR`)"
            )
        return cls(
            model_path=model_path,
            threshold=s.threshold,
            sources=tuple(s.sources),
            min_words=s.min_words,
            label=label,
        )


def n_words(text: str, limit: int) -> int:
    """Words the classifier sees in ``text``, counted up to ``limit``."""
    return len(normalise(text, max(limit, 1)).split())


def needs_score(doc: Document, sources: frozenset[str]) -> bool:
    """Whether the classifier decides this document's domain (its source does not)."""
    return doc.source in sources or doc.metadata.get("domain_hint") == UNKNOWN_HINT


def classify(
    doc: Document,
    score: float,
    threshold: float,
    sources: frozenset[str] = frozenset(),
    too_short: bool = False,
    label: str = DEFAULT_DOMAIN,
) -> Document:
    """Record ``domain_score`` and ``domain_before``, set the domain from the score (the pure decision): the
    profile's domain ``label`` (``financial``, ``medical``) at or above the threshold, ``general`` below; a
    document of ``sources`` that joins the profile's domain takes the source ``web`` (FinPile's financial Web)."""
    doc.metadata["domain_score"] = f"{score:.4f}"
    doc.metadata["domain_before"] = doc.domain
    doc.domain = label if score >= threshold and not too_short else "general"
    if too_short:
        doc.metadata["domain_too_short"] = "true"
    if doc.domain == label and doc.source in sources and doc.source != FINANCIAL_WEB_SOURCE:
        doc.metadata["source_before_domain"] = doc.source
        doc.source = FINANCIAL_WEB_SOURCE
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
        if not needs_score(doc, self._sources):
            return doc
        assert self._classifier is not None
        score = self._classifier.score(doc.text)
        too_short = n_words(doc.text, self._config.min_words) < self._config.min_words
        before = doc.domain
        doc = classify(doc, score, self._config.threshold, self._sources, too_short, self._config.label)
        if too_short:
            counter(f"{STAGE}:too_short").inc()
        counter(f"{STAGE}:{doc.domain}").inc()
        if doc.domain != before:
            counter(f"{STAGE}:moved_to_{doc.domain}").inc()
        self._scores.update(int(round(score * 1000)))
        return doc


def check_model_label(config: DomainConfig) -> None:
    """``ConfigError`` (one line, before the run starts) when a local model lacks the profile's label, e.g. the
    financial model named in a medical config: otherwise every worker would fail in ``setup``."""
    if "://" in config.model_path:
        return  # a gs:// model is checked where it is loaded
    try:
        DomainClassifier(config.model_path, label=config.label).setup()
    except ValueError as exc:
        raise ConfigError(
            f"domain.model_path: {exc}; point domain.model_path at the profile's model "
            f"(train one with `python -m pipeline train-domain-classifier --profile ...`)"
        ) from None


class ClassifyDomain(beam.PTransform):
    """Score the financial relevance of documents whose source does not decide their domain, and set it
    (main, rejected (always empty), errors)."""

    def __init__(self, settings: DomainSettings | dict[str, Any] | None = None, label: str = DEFAULT_DOMAIN):
        super().__init__()
        self.config = DomainConfig.from_settings(settings, label)
        check_model_label(self.config)
        self._fn = _ClassifyDomainFn(self.config)

    def expand(self, docs):
        return apply_stage(docs, "ScoreDomain", self._fn)
