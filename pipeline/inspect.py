"""``python -m pipeline inspect FILE``: run extraction and the per-document stages on one local file.

Prints one JSON line per record: the document after extraction, language ID, quality scoring and PII redaction,
plus what the pipeline would decide (``decision``: kept, or the stage and reason it would be rejected for).
Records the reader could not parse print as ``{"error": ...}`` lines. Corpus-level stages (dedup, mixing) need
the whole corpus and do not run here.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from typing import Any

from filters.pii import PiiRedactor
from filters.quality import QualityScorer
from pipeline.config import Config, load_config
from pipeline.errors import ConfigError, RecordFailure
from pipeline.extract import extract
from pipeline.language import LanguageConfig, language_decision, tag_language
from pipeline.mix import add_token_count
from pipeline.pii import redact_document
from pipeline.quality import quality_config
from pipeline.read import InputFile, read_file
from pipeline.schema import RecordError, Rejected
from sources import READERS
from sources.files import SNIFF_BYTES, detect_kind


class Inspector:
    """The per-document stages of a config, run in-process on records."""

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.language = LanguageConfig.from_settings(cfg.language)
        self.lid = self.language.identifier()
        self.scorer = QualityScorer(quality_config(cfg.quality))
        self.redactor = PiiRedactor(cfg.pii)

    def inspect_file(
        self, path: str, kind: str | None = None, options: dict[str, Any] | None = None
    ) -> Iterator[dict]:
        if not os.path.isfile(path):
            raise ConfigError(f"no such file: {path}")
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
        kind = kind or detect_kind(path, head)
        if kind not in READERS:
            raise ConfigError(f"unknown --kind {kind!r}; known: {', '.join(sorted(READERS))}")
        input_file = InputFile(
            input_name="inspect",
            kind=kind,
            path=path,
            size=len(head),
            options=tuple(sorted((options or {}).items())),
        )
        for item in read_file(input_file):
            if isinstance(item, RecordError):
                yield {"error": item.to_json(), "kind": kind}
                continue
            yield self.inspect_record(item) | {"kind": kind}

    def inspect_record(self, raw) -> dict[str, Any]:
        try:
            result = extract(raw, self.cfg.source_domains)
        except RecordFailure as exc:
            return {"error": {"stage": "extract", "kind": exc.kind, "message": str(exc), "id": raw.id}}
        decision = "kept"
        if isinstance(result, Rejected):
            doc, decision = result.document, f"{result.stage}/{result.reason}"
        else:
            doc = result
        if doc.text:
            tag_language(doc, self.lid.identify(doc.text, doc.metadata.get("declared_lang", "")))
            doc = self.scorer.score(doc)
            doc, _ = redact_document(self.redactor, doc)
            doc = add_token_count(doc)
            if decision == "kept":
                keep, reason = language_decision(doc, self.language)
                if keep:
                    keep, reason = self.scorer.decide(doc)
                    reason = f"quality/{reason}" if not keep else ""
                else:
                    reason = f"language/{reason}"
                decision = "kept" if keep else reason
        row = dataclasses.asdict(doc)
        row["decision"] = decision
        return row


def inspect(
    path: str,
    kind: str | None = None,
    config_path: str | None = None,
    max_chars: int | None = None,
    options: dict[str, Any] | None = None,
) -> Iterator[str]:
    """JSON lines for every record of one file (text cut to ``max_chars`` if given)."""
    inspector = Inspector(load_config(config_path))
    for row in inspector.inspect_file(path, kind, options):
        if max_chars and isinstance(row.get("text"), str) and len(row["text"]) > max_chars:
            row["text"] = row["text"][:max_chars] + "…"
        yield json.dumps(row, ensure_ascii=False)
