"""IdentifyLanguage: fastText lid.176 (``filters.language``) tags ``lang``/``lang_score``, then the drop decision.

The identification (cleaning, windows over long documents, the declared-language prior) is described in
``filters/language.py``; this module holds the config and the keep/drop rule. In order:

1. ``language:too_little_text``: fewer than ``language.min_letters`` letters left once URLs, cashtags,
   numbers, emoji and markup are removed (``lang`` is ``und``);
2. ``language:low_confidence``: the score is under the source's threshold, ``language.min_score_by_source``
   (e.g. ``social: 0.3``) or else ``language.min_score``;
3. ``language:<code>``: the document's language is not in ``language.allowed``;
4. ``language:mixed``: its language holds less than ``language.min_share`` of the judged letters (no single
   language dominates a long document; a filing that is 80% English with a foreign exhibit has share 0.8
   and is kept).

The declared language comes from ``metadata["declared_lang"]`` (tweets' ``lang``, ``<html lang>``/
``og:locale``, a feed's ``<language>``, the Wikipedia dump's ``xml:lang``; EDGAR documents are ``en`` by
Regulation S-T). Evidence goes to metadata: ``lang_share`` and ``lang_windows`` (``code:score`` per window)
when a document had more than one window, ``lang_model_score`` (the model's score without the prior) when a
language was declared. With ``quality.label_only`` nothing is dropped. Defaults and why:
``benchmarks/language/README.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import apache_beam as beam

from core.schema import Document, Rejected
from filters.language import (
    MAX_WINDOWS,
    MIN_LETTERS,
    PRIOR_WEIGHT,
    WINDOW_CHARS,
    LanguageIdentifier,
    LanguageResult,
)
from pipeline.config import LanguageSettings
from pipeline.stages.base import DocumentStage, apply_stage

STAGE = "language"
DECLARED_KEY = "declared_lang"

DEFAULT_MIN_SCORE = 0.6
# Short texts score low even when plainly English (a headline is 5-10 words): per-source thresholds
# measured on the real tweet and filing sets in benchmarks/language/README.md.
DEFAULT_MIN_SCORE_BY_SOURCE = {"social": 0.3}
DEFAULT_MIN_SHARE = 0.5


@dataclass(frozen=True)
class LanguageConfig:
    """The ``language`` section of the run config (see the module docstring for each key)."""

    allowed: frozenset[str] = frozenset({"en"})
    min_score: float = DEFAULT_MIN_SCORE
    min_score_by_source: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_MIN_SCORE_BY_SOURCE), hash=False
    )
    min_letters: int = MIN_LETTERS
    min_share: float = DEFAULT_MIN_SHARE
    window_chars: int = WINDOW_CHARS
    max_windows: int = MAX_WINDOWS
    prior_weight: float = PRIOR_WEIGHT
    model_path: str | None = None

    @classmethod
    def from_settings(cls, settings: LanguageSettings | Mapping[str, Any] | None) -> LanguageConfig:
        """From the typed ``language`` section (a plain mapping is validated by the config schema first)."""
        s = LanguageSettings.of(dict(settings) if isinstance(settings, Mapping) else settings)
        return cls(
            allowed=frozenset(s.allowed),
            min_score=s.min_score,
            min_score_by_source=dict(s.min_score_by_source),
            min_letters=s.min_letters,
            min_share=s.min_share,
            window_chars=s.window_chars,
            max_windows=s.max_windows,
            prior_weight=s.prior_weight,
            model_path=s.model_path,
        )

    def min_score_for(self, source: str) -> float:
        """The confidence threshold of one source."""
        return float(self.min_score_by_source.get(source, self.min_score))

    def identifier(self) -> LanguageIdentifier:
        """A (lazily loading) identifier with this config's windows, minimum and prior."""
        return LanguageIdentifier(
            self.model_path,
            window_chars=self.window_chars,
            max_windows=self.max_windows,
            min_letters=self.min_letters,
            prior_weight=self.prior_weight,
        )


def tag_language(doc: Document, result: LanguageResult) -> Document:
    """Write the result into the document: ``lang``, ``lang_score`` and the evidence in metadata."""
    doc.lang, doc.lang_score = result.lang, float(result.score)
    if len(result.windows) > 1:
        doc.metadata["lang_share"] = f"{result.share:.3f}"
        doc.metadata["lang_windows"] = ",".join(f"{w.lang}:{w.score:.2f}" for w in result.windows)
    if result.declared and not result.too_little:
        doc.metadata["lang_model_score"] = f"{result.model_score:.3f}"
    return doc


def language_decision(doc: Document, cfg: LanguageConfig) -> tuple[bool, str]:
    """Keep/drop for an already tagged document (the rule in the module docstring)."""
    if doc.lang == "und":
        return False, "language:too_little_text"
    if doc.lang_score < cfg.min_score_for(doc.source):
        return False, "language:low_confidence"
    if cfg.allowed and doc.lang not in cfg.allowed:
        return False, f"language:{doc.lang}"
    share = doc.metadata.get("lang_share")
    if share is not None and float(share) < cfg.min_share:
        return False, "language:mixed"
    return True, ""


def identify_language(
    lid: LanguageIdentifier, cfg: LanguageConfig, doc: Document, label_only: bool = False
) -> Document | Rejected:
    """The pure core of the stage: tag one document, then keep it or reject it with the reason."""
    result = lid.identify(doc.text, doc.metadata.get(DECLARED_KEY, ""))
    tag_language(doc, result)
    keep, reason = language_decision(doc, cfg)
    if keep or label_only:
        return doc
    return Rejected(stage=STAGE, reason=reason, document=doc)


class _IdentifyLanguageFn(DocumentStage):
    stage = STAGE

    def __init__(self, settings: LanguageSettings, label_only: bool):
        self._cfg = LanguageConfig.from_settings(settings)
        self._label_only = label_only
        self._lid: LanguageIdentifier | None = None

    def setup(self):
        self._lid = self._cfg.identifier()
        self._lid.setup()

    def handle(self, doc: Document) -> Document | Rejected:
        assert self._lid is not None
        return identify_language(self._lid, self._cfg, doc, self._label_only)


class IdentifyLanguage(beam.PTransform):
    """Tag language; reject documents outside the allowed languages (main, rejected, errors)."""

    def __init__(
        self, settings: LanguageSettings | Mapping[str, Any] | None = None, label_only: bool = False
    ):
        super().__init__()
        self._fn = _IdentifyLanguageFn(
            LanguageSettings.of(dict(settings) if isinstance(settings, Mapping) else settings), label_only
        )

    def expand(self, docs):
        return apply_stage(docs, "TagLanguage", self._fn)
