"""Single local files that are one document each (a saved web page), and input-kind detection for ``inspect``."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from core.errors import ConfigError
from core.schema import RawRecord, RecordError
from sources.general import counter

SNIFF_BYTES = 64 * 1024

_EDGAR_MARKERS = re.compile(
    rb"<SEC-DOCUMENT>|<SEC-HEADER>|<IMS-HEADER>|<DOCUMENT>\s*<TYPE>|ix:header|SECURITIES AND EXCHANGE COMMISSION"
    rb"|Securities and Exchange Commission",
)


def read_html_file(
    path: str, stream: BinaryIO, options: Mapping[str, Any]
) -> Iterator[RawRecord | RecordError]:
    """One saved HTML page -> one RawRecord (source from ``options['source']``, default ``web``)."""
    content = stream.read()
    name = os.path.basename(path)
    yield RawRecord(
        source=str(options.get("source") or "web"),
        id=name,
        url=str(options.get("url") or ""),
        content=content,
        content_type="html",
        metadata={"file": name},
    )


def read_text_file(
    path: str, stream: BinaryIO, options: Mapping[str, Any]
) -> Iterator[RawRecord | RecordError]:
    """One plain-text file -> one RawRecord (source from ``options['source']``, default ``c4``)."""
    content = stream.read()
    name = os.path.basename(path)
    text, fallback_lines = decode_lines(content)
    metadata = {"file": name}
    if fallback_lines:
        metadata["charset_fallback_lines"] = str(fallback_lines)
        counter("text", "charset_fallback_lines").inc(fallback_lines)
    yield RawRecord(
        source=str(options.get("source") or "c4"),
        id=name,
        url="",
        content=text,
        content_type="text",
        metadata=metadata,
    )


def decode_legacy(data: bytes) -> str:
    """Bytes that are not UTF-8 read as Windows-1252 (what "Latin-1" text files almost always are), with
    ISO-8859-1 for the five bytes cp1252 leaves undefined."""
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def decode_lines(content: bytes) -> tuple[str, int]:
    """UTF-8 text, where each line that is not valid UTF-8 is read as cp1252 on its own (a file with a few
    Latin-1 lines is not lost whole); returns the text and how many lines fell back."""
    try:
        return content.decode("utf-8"), 0
    except UnicodeDecodeError:
        pass
    lines, fallback = [], 0
    for line in content.splitlines(keepends=True):
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(decode_legacy(line))
            fallback += 1
    return "".join(lines), fallback


# Files that are not documents: inspect says what they are instead of guessing.
NOT_DOCUMENTS = {
    ".idx": "an EDGAR index (a list of filings, not a filing)",
    ".cdxj": "a CDXJ index of a WARC file (open the .warc.gz itself)",
    ".cdx": "a CDX index of a WARC file (open the .warc.gz itself)",
    ".md": "a Markdown file",
}


_PUBMED_MARKERS = re.compile(rb"<(?:MedlineCitationSet|PubmedArticleSet|MedlineCitation|PubmedArticle)[\s>]")
_JATS_MARKERS = re.compile(
    rb"JATS|//NLM//DTD [^\n]*(?:Journal|Archiving|Publishing)|<article[^>]*\bxmlns:(?:xlink|mml)="
)


def _sniff_head(head: bytes) -> bytes:
    """The first bytes as text: a gzip file's head is decompressed as far as it goes."""
    if head[:2] != b"\x1f\x8b":
        return head
    import zlib

    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, SNIFF_BYTES)
    except zlib.error:
        return head


def detect_kind(path: str, head: bytes) -> str:
    """Guess the reader kind of a local file from its name and first bytes (for ``inspect`` and ``run``).

    MEDLINE/PubMed citation files and PMC JATS articles are recognised by their root element or DTD, whatever
    their name (``.xml``, ``.nxml``, gzipped or not)."""
    name = os.path.basename(path).lower()
    text_head = _sniff_head(head)[:8192]
    if _PUBMED_MARKERS.search(text_head):
        return "pubmed"
    if name.endswith((".nxml", ".nxml.gz")) or (b"<article" in text_head and _JATS_MARKERS.search(text_head)):
        return "pmc"
    for suffix, what in NOT_DOCUMENTS.items():
        if name.endswith(suffix):
            raise ConfigError(f"{path} is {what}; pass a document file, or --kind to force a reader")
    if name.endswith((".warc", ".warc.gz", ".wet", ".wet.gz", ".warc.wet.gz")):
        return "warc"
    if name.endswith((".xml.bz2",)) or b"<mediawiki" in head[:4096]:
        return "wikipedia"
    if name.endswith((".zst",)) or name.startswith(("rs_", "rc_")):
        return "reddit"
    if name.endswith((".rss", ".atom")) or re.search(rb"<rss|<feed[\s>]", head[:4096]):
        return "rss"
    if name.endswith((".jsonl", ".ndjson", ".json", ".jsonl.gz", ".csv")):
        if b'"subreddit"' in head:
            return "reddit"
        if b'"messages"' in head and b'"symbol' in head:
            return "stocktwits"
        if b'"user"' in head or b'"screen_name"' in head or name.endswith(".csv"):
            return "tweets"
        return "jsonl"
    if name.endswith((".txt", ".htm", ".html", ".txt.gz")) and _EDGAR_MARKERS.search(head):
        return "edgar"
    if name.endswith((".htm", ".html")):
        return "html"
    if name.endswith(".parquet"):
        return "jsonl"
    if name.endswith((".txt", ".cor", ".text")):
        return "text"
    return "html"
