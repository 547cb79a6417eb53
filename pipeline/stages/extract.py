"""Extract: RawRecord -> Document, by content type.

- ``html``: trafilatura (``sources.html.extract_html``), for news, press and web pages;
- ``sgml``: the filings-aware extractor (``sources.edgar.extract_filing``) for EDGAR documents;
- ``wikitext``: mwparserfromhell (``sources.general.extract_wikitext``);
- ``text``/``json``: the text as the connector gave it (social posts, generic JSONL), in the text shape's
  character rules (``core.textshape.normalize_text``: no control characters, no trailing spaces, no runs
  of blank lines); its line and paragraph breaks are the author's and stay.

Every extractor produces the one text shape of ``core.textshape`` (README "Text shape").

Per-input reader options (the config's ``inputs[].options``) reach the extractor too, e.g. the EDGAR table
policy. With the EDGAR option ``split_items_as_documents``, a 10-K/10-Q becomes one document per item; the
extra documents are counted on the ``derived`` output so that the funnel still adds up.

Every document gets its ``available_at`` here, from what its reader recorded (``core.timeinfo``), so the
conversion lives in one place for every source.

A connector may mark a record it read as a document to drop (``metadata["drop_reason"]``, e.g.
``social:deleted``): it is extracted like any other and routed to rejected/ with that reason, so it is counted.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import apache_beam as beam
from apache_beam import pvalue

from core.errors import RecordFailure
from core.schema import Document, RawRecord, RecordError, Rejected, doc_id
from core.textshape import normalize_text
from core.timeinfo import assign_time
from pipeline import progress
from pipeline.stages.base import ERRORS, REJECTED, counter, error_from_exception

_LOG = logging.getLogger(__name__)

STAGE = "extract"
DERIVED = "derived"
SPLIT_ITEMS_OPTION = "split_items_as_documents"

_EXTRACTORS: dict[str, str] = {
    "html": "sources.html:extract_html",
    "sgml": "sources.edgar:extract_filing",
    "wikitext": "sources.general:extract_wikitext",
}


def preload_extractors() -> None:
    """Import every extractor's module now (a warm worker's warm-up) rather than on the first record of its type."""
    for content_type in _EXTRACTORS:
        _extractor(content_type)


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
    content, removed = strip_control_chars(content)
    text = normalize_text(content)
    meta = dict(raw.metadata)
    if removed:
        meta["control_chars_removed"] = str(removed)
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


_LINE_BREAKS_RE = re.compile(r"\r\n?|[\x0b\x0c\x85\u2028\u2029]")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def strip_control_chars(text: str) -> tuple[str, int]:
    """The shared text normalisation every extractor's output goes through: line breaks of every kind (CR,
    CRLF, VT, FF, NEL, LS, PS) become ``\n``, and NUL, the other C0 controls, DEL and C1 controls are removed
    (tabs and newlines stay). Returns the text and how many control characters were removed."""
    # (``in`` scans for one character ~30x faster than the regex for its alternatives: it runs only on a text
    # that holds one of them; ``\x85``, LS and PS are not ASCII)
    if any(c in text for c in _ASCII_BREAKS) or (
        not text.isascii() and any(c in text for c in _OTHER_BREAKS)
    ):
        text = _LINE_BREAKS_RE.sub("\n", text)
    cleaned, removed = _CONTROL_RE.subn("", text)
    return cleaned, removed


_ASCII_BREAKS = ("\r", "\x0b", "\x0c")
_OTHER_BREAKS = ("\x85", "\u2028", "\u2029")


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
    doc.text, removed = strip_control_chars(doc.text)
    if removed:  # an extractor that does not normalise its text itself
        doc.metadata["control_chars_removed"] = str(
            int(doc.metadata.get("control_chars_removed", 0)) + removed
        )
    removed = int(doc.metadata.get("control_chars_removed", 0) or 0)
    if removed:
        counter(f"{STAGE}:control_chars_removed").inc(removed)
    if doc.metadata.get("charset_declared"):  # a declared Latin charset gave mojibake: re-decoded
        counter(f"{STAGE}:charset_redetected").inc()
    doc.domain = source_domains.get(doc.source, "general")
    doc.n_chars = len(doc.text)
    assign_time(raw, doc)
    drop_reason = raw.metadata.get("drop_reason")
    if drop_reason:
        return Rejected(stage=STAGE, reason=drop_reason, document=doc)
    if not doc.text.strip():
        return Rejected(stage=STAGE, reason="extract:empty_text", document=doc)
    return doc


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "off")
    return bool(value)


def split_documents(doc: Document, options: Mapping[str, Any]) -> list[Document]:
    """The documents one extracted document becomes (10-K/10-Q items when the input asks for it)."""
    if doc.source == "filings" and _truthy(options.get(SPLIT_ITEMS_OPTION, False)):
        from sources.edgar_items import split_item_documents

        return split_item_documents(doc)
    return [doc]


def extract_outcome(
    raw: RawRecord, source_domains: Mapping[str, str], options: Mapping[str, Any]
) -> tuple[list[Document], Rejected | None, RecordError | None]:
    """What Extract does with one record: (documents, or the Rejected, or the RecordError). Never raises:
    whatever extraction raises on one record is that record's error, and the run goes on."""
    try:
        result = extract(raw, source_domains, options)
        if isinstance(result, Rejected):
            return [], result, None
        return split_documents(result, options), None, None
    except Exception as exc:  # noqa: BLE001 - one odd record must never take the run down
        if not isinstance(exc, EXPECTED_ERRORS):
            _LOG.warning("extracting %s raised %s", raw.id, type(exc).__name__, exc_info=True)
        err = error_from_exception(STAGE, raw.source, doc_id(raw.source, raw.id), exc)
        err.path = raw.url
        return [], None, err


# What extractors are known to raise on a bad record; anything else is logged with its traceback too.
EXPECTED_ERRORS = (RecordFailure, ValueError, TypeError, KeyError, IndexError, UnicodeError, RecursionError)


class _ExtractFn(beam.DoFn):
    def __init__(self, source_domains: dict[str, str], input_options: dict[str, dict[str, Any]]):
        self._source_domains = source_domains
        self._input_options = input_options

    def process(self, raw: RawRecord) -> Iterator[Any]:
        progress.tick(STAGE)
        options = self._input_options.get(raw.input, {})
        parts, rejected, err = extract_outcome(raw, self._source_domains, options)
        if err is not None:
            counter(f"{STAGE}:errors:{err.kind}").inc()
            yield pvalue.TaggedOutput(ERRORS, err)
            return
        if rejected is not None:
            counter(f"{STAGE}:dropped:{rejected.reason}").inc()
            yield pvalue.TaggedOutput(REJECTED, rejected)
            return
        if len(parts) > 1:
            yield pvalue.TaggedOutput(DERIVED, (parts[0].source, len(parts) - 1))
        for part in parts:
            counter(f"{STAGE}:kept").inc()
            yield part

    def finish_bundle(self):
        progress.flush()


class Extract(beam.PTransform):
    """RawRecords -> Documents (main), Rejected (``rejected``), RecordErrors (``errors``) and
    ``(source, n)`` counts of documents added by splitting (``derived``)."""

    def __init__(
        self, source_domains: dict[str, str], input_options: dict[str, dict[str, Any]] | None = None
    ):
        super().__init__()
        self._source_domains = source_domains
        self._input_options = input_options or {}

    def expand(self, records):
        fn = _ExtractFn(self._source_domains, self._input_options)
        out = records | "ExtractText" >> beam.ParDo(fn).with_outputs(REJECTED, ERRORS, DERIVED, main="docs")
        return out.docs, out[REJECTED], out[ERRORS], out[DERIVED]


__all__ = ["Extract", "extract", "extract_outcome", "extract_plain", "split_documents"]
