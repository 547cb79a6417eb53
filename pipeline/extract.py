"""Extract: RawRecord -> Document, by content type.

- ``html``: trafilatura (``sources.html.extract_html``), for news, press and web pages;
- ``sgml``: the filings-aware extractor (``sources.edgar.extract_filing``) for EDGAR documents;
- ``wikitext``: mwparserfromhell (``sources.general.extract_wikitext``);
- ``text``/``json``: the text as the connector gave it (social posts, generic JSONL).

A connector may mark a record it read as a document to drop (``metadata["drop_reason"]``, e.g.
``social:deleted``): it is extracted like any other and routed to rejected/ with that reason, so it is counted.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import apache_beam as beam
from apache_beam import pvalue

from pipeline.errors import RecordFailure
from pipeline.schema import Document, RawRecord, RecordError, Rejected, doc_id
from pipeline.stage import ERRORS, REJECTED, counter, error_from_exception

STAGE = "extract"

_EXTRACTORS: dict[str, str] = {
    "html": "sources.html:extract_html",
    "sgml": "sources.edgar:extract_filing",
    "wikitext": "sources.general:extract_wikitext",
}


def _extractor(content_type: str) -> Callable[[RawRecord, Mapping[str, Any] | None], Document] | None:
    target = _EXTRACTORS.get(content_type)
    if target is None:
        return None
    module_name, func_name = target.split(":")
    return getattr(importlib.import_module(module_name), func_name)


def extract_plain(raw: RawRecord) -> Document:
    """A Document from a record whose content is already plain text."""
    content = raw.content
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RecordFailure(
                "charset", f"text record is not UTF-8 ({exc.reason} at byte {exc.start})"
            ) from None
    text = content.strip()
    meta = dict(raw.metadata)
    return Document(
        id=doc_id(raw.source, raw.id),
        text=text,
        source=raw.source,
        url=raw.url,
        title=meta.get("title", ""),
        date=meta.get("date") or meta.get("created") or raw.fetched_at[:10],
        n_chars=len(text),
        metadata=meta,
    )


def extract(
    raw: RawRecord, source_domains: Mapping[str, str], options: Mapping[str, Any] | None = None
) -> Document | Rejected:
    """The pure core: extract one record; an empty result or a connector's drop mark becomes a Rejected."""
    if raw.content_type not in ("text", "json", *_EXTRACTORS):
        raise RecordFailure(
            "content_type", f"unknown content type {raw.content_type!r} from source {raw.source}"
        )
    fn = _extractor(raw.content_type)
    doc = fn(raw, options) if fn is not None else extract_plain(raw)
    doc.domain = source_domains.get(doc.source, "general")
    doc.n_chars = len(doc.text)
    drop_reason = raw.metadata.get("drop_reason")
    if drop_reason:
        return Rejected(stage=STAGE, reason=drop_reason, document=doc)
    if not doc.text.strip():
        return Rejected(stage=STAGE, reason="extract:empty_text", document=doc)
    return doc


class _ExtractFn(beam.DoFn):
    def __init__(self, source_domains: dict[str, str], options: dict[str, Any]):
        self._source_domains = source_domains
        self._options = options

    def process(self, raw: RawRecord) -> Iterator[Any]:
        try:
            result = extract(raw, self._source_domains, self._options)
        except (
            RecordFailure,
            ValueError,
            TypeError,
            KeyError,
            IndexError,
            UnicodeError,
            RecursionError,
        ) as exc:
            err = error_from_exception(STAGE, raw.source, doc_id(raw.source, raw.id), exc)
            err.path = raw.url
            counter(f"{STAGE}:errors:{err.kind}").inc()
            yield pvalue.TaggedOutput(ERRORS, err)
            return
        if isinstance(result, Rejected):
            counter(f"{STAGE}:dropped:{result.reason}").inc()
            yield pvalue.TaggedOutput(REJECTED, result)
        else:
            counter(f"{STAGE}:kept").inc()
            yield result


class Extract(beam.PTransform):
    """RawRecords -> Documents (main), Rejected (``rejected``) and RecordErrors (``errors``)."""

    def __init__(self, source_domains: dict[str, str], options: dict[str, Any] | None = None):
        super().__init__()
        self._source_domains = source_domains
        self._options = options or {}

    def expand(self, records):
        out = records | "ExtractText" >> beam.ParDo(
            _ExtractFn(self._source_domains, self._options)
        ).with_outputs(REJECTED, ERRORS, main="docs")
        return out.docs, out[REJECTED], out[ERRORS]


__all__ = ["Extract", "extract", "extract_plain", "RecordError"]
