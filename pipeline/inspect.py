"""``python -m pipeline inspect FILE``: run extraction and the per-document stages on one local file.

Prints one JSON line per record: the document after extraction, language ID, quality scoring and PII redaction,
plus what the pipeline would decide (``decision``: kept, or the stage and reason it would be rejected for).
Records the reader could not parse print as ``{"error": ...}`` lines. Corpus-level stages (dedup, mixing) need
the whole corpus and do not run here.

Options (``--option KEY=VALUE``) are validated and applied exactly as ``run`` applies an input's options: the
same mapping goes to the reader (``read_file``), the extractor (``extract``) and the item splitting
(``split_documents``), so what ``inspect`` prints is what ``run`` writes for that input.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from typing import Any

from core.errors import ConfigError, RecordFailure
from core.schema import RecordError, Rejected, Skipped
from filters.pii import PiiRedactor
from filters.quality import QualityScorer
from pipeline.config import Config, load_config, make_input
from pipeline.stages.extract import extract, split_documents
from pipeline.stages.language import LanguageConfig, language_decision, tag_language
from pipeline.stages.mix import add_token_count
from pipeline.stages.pii import redact_document
from pipeline.stages.quality import quality_config
from pipeline.stages.read import InputFile, read_file
from sources import READERS
from sources.files import SNIFF_BYTES, detect_kind


class Inspector:
    """The per-document stages of a config, run in-process on records."""

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.language = LanguageConfig.from_settings(cfg.language)
        self.lid = self.language.identifier()
        self.scorer = QualityScorer(quality_config(cfg.quality))
        self.redactor = PiiRedactor(cfg.pii.policy())

    def inspect_file(
        self, path: str, kind: str | None = None, options: dict[str, Any] | None = None
    ) -> Iterator[dict]:
        if os.path.isdir(path):
            raise ConfigError(f"{path} is a folder: inspect reads one file (give a file in it)")
        if not os.path.isfile(path):
            raise ConfigError(f"no such file: {path}")
        try:
            with open(path, "rb") as f:
                head = f.read(SNIFF_BYTES)
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror or exc} (check its permissions)") from None
        kind = kind or detect_kind(path, head)
        if kind not in READERS:
            raise ConfigError(f"unknown --kind {kind!r}; known: {', '.join(sorted(READERS))}")
        spec = make_input(
            kind, [path], name="inspect", options=options, where=f"inspect --kind {kind} --option"
        )
        options = spec.reader_options()
        input_file = InputFile(
            input_name="inspect",
            kind=kind,
            path=path,
            size=len(head),
            options=tuple(sorted(options.items())),
        )
        for item in read_file(input_file):
            if isinstance(item, Skipped):
                yield {"skipped": dataclasses.asdict(item), "kind": kind}
                continue
            if isinstance(item, RecordError):
                yield {"error": item.to_json(), "kind": kind}
                continue
            for row in self.inspect_record(item, options):
                yield row | {"kind": kind}

    def inspect_record(self, raw, options: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The rows of one record: one per document it becomes (several for a split 10-K), or one error."""
        options = options or {}
        try:
            result = extract(raw, self.cfg.source_domains, options)
            if isinstance(result, Rejected):
                return [self._row(result.document, f"{result.stage}/{result.reason}")]
            parts = split_documents(result, options)
        except RecordFailure as exc:
            return [{"error": {"stage": "extract", "kind": exc.kind, "message": str(exc), "id": raw.id}}]
        return [self._row(doc, "kept") for doc in parts]

    def _row(self, doc, decision: str) -> dict[str, Any]:
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
