"""General-domain sources: Wikipedia XML dumps and local JSONL / Parquet corpora (C4-like web text).

- ``read_wikipedia`` streams a MediaWiki XML export (``.xml`` or ``.xml.bz2``, multistream included) with
  ``lxml.etree.iterparse``: entities are never resolved, the network is never touched, and libxml2's size
  and entity-amplification limits stay on unless ``options["xml_huge_tree"]`` is set. Only namespace 0
  articles are kept; redirects, other namespaces and disambiguation pages are skipped and counted.
- ``extract_wikitext`` turns wikitext into plain text with mwparserfromhell.
- ``read_jsonl`` reads JSONL (optionally compressed) and Parquet files with a configurable field mapping.

This module also holds the small helpers the other readers share (``open_decompressed``, ``iter_lines``,
``stream_error``, ``counter``); they would sit better in a ``sources/_io.py`` of their own.
"""

from __future__ import annotations

import bz2
import functools
import gzip
import io
import json
import lzma
import os
import re
import zlib
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, BinaryIO
from urllib.parse import quote

import mwparserfromhell
import zstandard
from apache_beam.metrics import Metrics
from lxml import etree
from mwparserfromhell.nodes import (
    ExternalLink,
    Heading,
    HTMLEntity,
    Tag,
    Template,
    Text,
    Wikilink,
)
from mwparserfromhell.wikicode import Wikicode

from core.errors import RecordFailure
from core.schema import Document, RawRecord, RecordError, doc_id
from core.textshape import join_blocks, normalize_text
from filters.language import normalize_language_tag
from sources import note_skipped
from sources.ranges import BZ2_STREAM_RE, ByteRange, line_starts

# --------------------------------------------------------------------------------------------------
# Decompression shared by the line-oriented readers
# --------------------------------------------------------------------------------------------------

# Pushshift / Arctic-Shift .zst dumps are written with --long=31: the decoder needs a 2 GiB window.
ZSTD_MAX_WINDOW = 2**31
READ_CHUNK = 1 << 16
COMPRESSION_SUFFIXES = (".gz", ".bz2", ".zst", ".xz")

# What a broken or cut-off compressed stream raises while we read it.
DECOMPRESSION_ERRORS: tuple[type[BaseException], ...] = (
    EOFError,
    OSError,
    zlib.error,
    zstandard.ZstdError,
    lzma.LZMAError,
)


class _ZstdReader(io.RawIOBase):
    """A streaming zstd decoder that, unlike ``ZstdDecompressor.stream_reader``, notices a cut-off frame.

    ``stream_reader`` ends silently on a truncated file (the last line comes out half-written). Here the
    frames are fed to ``decompressobj`` chunk by chunk, consecutive frames are followed, and a stream that
    ends inside a frame raises ``EOFError`` like gzip and bz2 do.
    """

    def __init__(self, stream: BinaryIO):
        super().__init__()
        self._stream = stream
        self._dctx = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
        self._obj = self._dctx.decompressobj()
        self._in_frame = False
        self._out = b""
        self._pos = 0
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._pos >= len(self._out) and not self._eof:
            self._fill()
        n = min(len(buffer), len(self._out) - self._pos)
        buffer[:n] = self._out[self._pos : self._pos + n]
        self._pos += n
        return n

    def _fill(self) -> None:
        chunk = self._stream.read(READ_CHUNK)
        if not chunk:
            self._eof = True
            if self._in_frame:
                raise EOFError("zstd stream ended inside a frame (file truncated)")
            return
        parts = []
        while chunk:
            parts.append(self._obj.decompress(chunk))
            self._in_frame = True
            if not self._obj.eof:
                break
            # End of one frame: the rest of the chunk belongs to the next one.
            chunk = self._obj.unused_data
            self._obj = self._dctx.decompressobj()
            self._in_frame = False
        self._out, self._pos = b"".join(parts), 0


@functools.cache
def counter(namespace: str, name: str) -> Any:
    """The Beam counter ``namespace/name``, created once per process (a no-op outside a pipeline)."""
    return Metrics.counter(namespace, name)


def split_compression(path: str) -> tuple[str, str]:
    """``("x.ndjson", ".zst")`` for ``"x.ndjson.zst"``; ``(path, "")`` when the path has no compression suffix."""
    lowered = path.lower()
    for suffix in COMPRESSION_SUFFIXES:
        if lowered.endswith(suffix):
            return path[: -len(suffix)], suffix
    return path, ""


def open_decompressed(path: str, stream: BinaryIO) -> BinaryIO:
    """A buffered binary stream of the decompressed bytes, chosen by the path's extension.

    The caller's stream is not closed by closing the wrapper (gzip/bz2/lzma never close a fileobj they
    were given), so the Beam shell that opened it stays its owner.
    """
    compression = split_compression(path)[1]
    if compression == ".gz":
        return gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[return-value]
    if compression == ".bz2":
        return bz2.BZ2File(stream, mode="rb")  # type: ignore[return-value]
    if compression == ".xz":
        return lzma.LZMAFile(stream, mode="rb")  # type: ignore[return-value]
    if compression == ".zst":
        return io.BufferedReader(_ZstdReader(stream), buffer_size=READ_CHUNK)  # type: ignore[return-value]
    return stream if hasattr(stream, "readline") else io.BufferedReader(stream)  # type: ignore[arg-type]


def stream_error(source: str, path: str, exc: BaseException, where: str) -> RecordError:
    """The final error for a stream that broke off: kind ``truncated`` for a cut-off file, else ``corrupt``."""
    kind = "truncated" if isinstance(exc, EOFError) else "corrupt"
    message = f"input ended or broke at {where}; everything before was read, the rest is lost: {exc}"
    return RecordError(source=source, stage="read", kind=kind, message=message, id=where, path=path)


def iter_lines(
    path: str, stream: BinaryIO, source: str, byte_range: ByteRange | None = None
) -> Iterator[tuple[int, bytes] | RecordError]:
    """``(line number, line)`` for every non-blank line of the decompressed file, then a ``RecordError``
    (``truncated``/``corrupt``) if the compressed stream broke off. Line numbers start at 1.

    With ``byte_range`` (an uncompressed file, see ``sources.ranges``): only the lines whose first byte is in
    the range, numbered as in the whole-file read."""
    lineno = 0
    if byte_range is not None:
        for lineno, line in line_starts(stream, byte_range):  # FileSystems streams are buffered (readline)
            if line.strip():
                yield lineno, line
        return
    try:
        for lineno, line in enumerate(open_decompressed(path, stream), start=1):
            if line.strip():
                yield lineno, line
    except DECOMPRESSION_ERRORS as exc:
        yield stream_error(source, path, exc, f"line:{lineno + 1}")


def parse_json_line(line: bytes) -> Any:
    """``json.loads`` that reports every malformed line (bad JSON, bad UTF-8, absurd nesting) as ValueError."""
    try:
        return json.loads(line)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc


def iso_from_epoch(value: Any) -> str:
    """``2024-02-01T00:00:00Z`` from epoch seconds (int, float or numeric string); ``""`` if not a time."""
    try:
        return datetime.fromtimestamp(float(value), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError, OverflowError, OSError):
        return ""


# --------------------------------------------------------------------------------------------------
# Wikipedia dumps
# --------------------------------------------------------------------------------------------------

WIKI_NAMESPACE = "wikipedia"  # Beam counter namespace
DEFAULT_WIKI_BASE_URL = "https://en.wikipedia.org/wiki/"
# Characters MediaWiki leaves unescaped in article URLs (wfUrlencode).
WIKI_URL_SAFE = ";:@$!*(),/~'"
ARTICLE_NAMESPACE = "0"
REDIRECT_RE = re.compile(r"^\s*#REDIRECT\b", re.IGNORECASE)
# {{disambiguation}}, {{Disambiguation|geo}}, {{disambig}}, {{dab}}, {{hndis}}, {{geodis}}, and the
# specialised "{{school disambiguation}}" family; "{{dablink}}" and "{{about|..}}" hatnotes do not match.
DISAMBIGUATION_RE = re.compile(
    r"\{\{\s*(?:[\w ]*disambiguation|disambig|dab|hndis|geodis|numberdis|mathdab)\s*(?:\|[^{}]*)?\}\}",
    re.IGNORECASE,
)


def _localname(elem: etree._Element) -> str:
    tag = elem.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def wiki_url(title: str, base_url: str = DEFAULT_WIKI_BASE_URL) -> str:
    """The article URL for a page title: ``https://en.wikipedia.org/wiki/Title_with_underscores``."""
    return base_url + quote(title.replace(" ", "_"), safe=WIKI_URL_SAFE)


def _base_url_from_siteinfo(base: str | None) -> str | None:
    """``https://en.wikipedia.org/wiki/`` from the dump's ``<base>https://en.wikipedia.org/wiki/Main_Page``."""
    if not base or "/" not in base:
        return None
    return base.rsplit("/", 1)[0] + "/"


# The largest record a general reader accepts (``options["max_doc_bytes"]``): the longest real Wikipedia
# articles are ~1 MB of wikitext, so a bigger page or JSON line is a broken or hostile record.
DEFAULT_MAX_DOC_BYTES = 10_000_000


def too_large(source: str, what: str, size: int, limit: int, record_id: str, path: str) -> RecordError:
    return RecordError(
        source=source,
        stage="read",
        kind="too_large",
        message=f"{what} is {size} bytes, over max_doc_bytes={limit} (raise the reader option to keep it)",
        id=record_id,
        path=path,
    )


def _wiki_skip(reason: str) -> None:
    counter(WIKI_NAMESPACE, f"skipped:{reason}").inc()
    note_skipped("wikipedia", f"wikipedia:{reason}")


def wiki_page_record(
    page: etree._Element, base_url: str, path: str, max_bytes: int = DEFAULT_MAX_DOC_BYTES
) -> RawRecord | RecordError | None:
    """The RawRecord for one ``<page>`` element, a RecordError, or None for a page that is not an article
    (other namespace, redirect, disambiguation; each counted as ``skipped:<reason>``)."""
    title = page.findtext("{*}title") or ""
    page_id = (page.findtext("{*}id") or "").strip()
    namespace = (page.findtext("{*}ns") or "").strip()
    if namespace != ARTICLE_NAMESPACE:
        _wiki_skip("namespace")
        return None
    if page.find("{*}redirect") is not None:
        _wiki_skip("redirect")
        return None
    revisions = page.findall("{*}revision")
    if not page_id or not revisions:
        what = "page id" if not page_id else "revision"
        return RecordError(
            source="wikipedia",
            stage="read",
            kind="missing_field",
            message=f"page {title!r} has no {what}",
            id=f"wiki:{page_id or title}",
            path=path,
        )
    revision = revisions[-1]  # full-history dumps list revisions oldest first
    text_elem = revision.find("{*}text")
    if text_elem is not None and len(text_elem):
        # Children of <text> are unexpanded custom entities (never in real dumps): the text would be cut short.
        return RecordError(
            source="wikipedia",
            stage="read",
            kind="xml_entity",
            message=f"page {title!r} uses custom XML entities, which are never expanded",
            id=f"wiki:{page_id}",
            path=path,
        )
    text = (text_elem.text or "") if text_elem is not None else ""
    if len(text) > max_bytes:
        return too_large("wikipedia", f"page {title!r}", len(text), max_bytes, f"wiki:{page_id}", path)
    if REDIRECT_RE.match(text):
        _wiki_skip("redirect")
        return None
    if DISAMBIGUATION_RE.search(text):
        _wiki_skip("disambiguation")
        return None
    timestamp = (revision.findtext("{*}timestamp") or "").strip()
    metadata = {
        "title": title,
        "date": timestamp[:10],
        "timestamp": timestamp,
        "namespace": namespace,
        "revision_id": (revision.findtext("{*}id") or "").strip(),
    }
    return RawRecord(
        source="wikipedia",
        id=f"wiki:{page_id}",
        url=wiki_url(title, base_url),
        content=text,
        content_type="wikitext",
        fetched_at=timestamp,
        metadata=metadata,
    )


_DUMP_LANG_RE = re.compile(rb"<mediawiki\b[^>]*?\sxml:lang\s*=\s*[\"']([^\"']+)[\"']")


def _dump_language(head: bytes) -> str:
    """The wiki's language from the dump's root ``<mediawiki xml:lang="en">`` (a prior for language ID)."""
    found = _DUMP_LANG_RE.search(head)
    return normalize_language_tag(found.group(1).decode("ascii", "replace")) if found else ""


_PAGE_OPEN_RE = re.compile(rb"<page[\s>]")
_PAGE_CLOSE = b"</page>"
_BASE_RE = re.compile(rb"<base>([^<]*)</base>")
_PAGE_SLACK = 1 << 16  # page bytes beyond its text: title, ids, contributor, comment


def _page_parser(huge_tree: bool) -> etree.XMLParser:
    """One page parsed alone: entities never resolved, no DTD, no network."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=huge_tree)


def _page_error(kind: str, message: str, number: int, path: str, lost: int, at: str = "") -> RecordError:
    error = RecordError(
        source="wikipedia", stage="read", kind=kind, message=message, id=f"{at}page:{number}", path=path
    )
    error.lost_bytes = lost
    return error


def _split_pages(stream: BinaryIO, max_page_bytes: int) -> Iterator[tuple[str, bytes, int]]:
    """The dump cut at ``<page>`` boundaries, streamed: ``("head", bytes, 0)`` (what precedes the first page),
    then ``("page", bytes, offset)`` per complete page, ``("garbage", bytes, offset)`` for non-blank bytes
    between pages (or a page cut short by the next ``<page>``), ``("too_large", b"", size)`` for a page over
    ``max_page_bytes`` (skipped without being held), and ``("truncated", bytes, offset)`` for a last page
    the file ends inside. Text inside a page cannot contain ``<page`` or ``</page>`` (XML escapes ``<``),
    so one bad page never costs its neighbours."""
    reader = getattr(stream, "read1", stream.read)
    buf = b""
    offset = 0  # of buf[0] in the decompressed stream
    eof = False
    head_done = False

    def more() -> bool:
        nonlocal buf, eof
        # read1: a cut-off compressed stream raises on the read that reaches the cut, losing what that read
        # had decompressed; small reads lose little of the pages before it
        chunk = reader(READ_CHUNK)
        if not chunk:
            eof = True
            return False
        buf += chunk
        return True

    while True:
        opening = _PAGE_OPEN_RE.search(buf)
        if opening is None:
            if eof:
                break
            if head_done and buf.strip() and len(buf) > max_page_bytes:  # garbage without any page: drop it
                keep = buf[-16:]
                yield "garbage", buf[:-16], offset
                offset += len(buf) - len(keep)
                buf = keep
            more()
            continue
        before, buf = buf[: opening.start()], buf[opening.start() :]
        if not head_done:
            yield "head", before, 0
            head_done = True
        elif before.strip():
            yield "garbage", before, offset
        offset += len(before)
        # the page runs to the first </page>, unless another <page> opens before it
        search_from = 5
        while True:
            close = buf.find(_PAGE_CLOSE, search_from)
            reopen = _PAGE_OPEN_RE.search(buf, search_from)
            if reopen is not None and (close < 0 or reopen.start() < close):
                yield "garbage", buf[: reopen.start()], offset
                offset += reopen.start()
                buf = buf[reopen.start() :]
                break
            if close >= 0:
                end = close + len(_PAGE_CLOSE)
                yield "page", buf[:end], offset
                offset += end
                buf = buf[end:]
                break
            if len(buf) > max_page_bytes:  # skip to its end without holding it
                size = len(buf)
                buf = buf[-16:]
                while not eof:
                    if not more():
                        break
                    close = buf.find(_PAGE_CLOSE)
                    if close >= 0:
                        size += close + len(_PAGE_CLOSE) - 16
                        buf = buf[close + len(_PAGE_CLOSE) :]
                        break
                    size += len(buf) - 16
                    buf = buf[-16:]
                yield "too_large", b"", size
                offset += size
                break
            search_from = max(len(buf) - len(_PAGE_CLOSE), 5)
            if not more():
                yield "truncated", buf, offset
                offset += len(buf)
                buf = b""
                break
    if not head_done:
        yield "head", buf, 0
    else:
        tail = buf.strip()
        if tail and not tail.startswith(b"</mediawiki>"):
            yield "garbage", buf, offset


class DecodedStream(io.RawIOBase):
    """A raw stream of bytes decoded chunk by chunk: a subclass's ``_fill`` appends to ``self._out`` and sets
    ``self._done`` at the end of its input (used by the WARC gzip guard and the bz2 stream ranges)."""

    def __init__(self):
        super().__init__()
        self._out = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._out and not self._done:
            self._fill()
        n = min(len(buffer), len(self._out))
        buffer[:n], self._out = self._out[:n], self._out[n:]
        return n

    def _fill(self) -> None:
        raise NotImplementedError


class _Bz2Streams(DecodedStream):
    """The decompressed bytes of the consecutive bzip2 streams that start in ``[first, end)`` of ``stream``
    (``first`` is a stream start); raises ``EOFError`` when the file ends inside a stream."""

    def __init__(self, stream: BinaryIO, first: int, end: int):
        super().__init__()
        self._stream, self._end = stream, end
        stream.seek(first)
        self._offset = first  # compressed bytes consumed so far, as a file offset
        self._unbz = bz2.BZ2Decompressor()

    def _fill(self) -> None:
        chunk = self._stream.read(READ_CHUNK)
        if not chunk:
            self._done = True
            if self._in_stream:
                raise EOFError("bz2 stream ended inside a stream (file truncated)")
            return
        while chunk:
            self._out += self._unbz.decompress(chunk)
            if not self._unbz.eof:
                self._offset += len(chunk)
                self._in_stream = True
                return
            rest = self._unbz.unused_data
            self._offset += len(chunk) - len(rest)
            self._in_stream = False
            if self._offset >= self._end:  # the next stream belongs to the next range
                self._done = True
                return
            self._unbz = bz2.BZ2Decompressor()
            chunk = rest

    _in_stream = False


def _first_bz2_stream(stream: BinaryIO, start: int, end: int) -> int | None:
    """Offset of the first bzip2 stream header at or after ``start`` and before ``end``."""
    stream.seek(start)
    carry, base = b"", start
    while base - len(carry) < end and (block := stream.read(1 << 20)):
        data = carry + block
        found = BZ2_STREAM_RE.search(data)
        if found:
            at = base - len(carry) + found.start()
            return at if at < end else None
        carry = data[-10:]
        base += len(block)
    return None


def _dump_head(stream: BinaryIO) -> bytes:
    """What precedes the first ``<page>`` in the dump's first bzip2 stream (``<mediawiki>``, ``<siteinfo>``)."""
    stream.seek(0)
    unbz, out = bz2.BZ2Decompressor(), b""
    while not unbz.eof and (chunk := stream.read(READ_CHUNK)):
        out += unbz.decompress(chunk)
        if found := _PAGE_OPEN_RE.search(out):
            return out[: found.start()]
    return out


def read_wikipedia(
    path: str, stream: BinaryIO, options: Mapping[str, Any], byte_range: ByteRange | None = None
) -> Iterator[RawRecord | RecordError]:
    """Articles of a MediaWiki XML dump (``.xml``, ``.xml.bz2``): one RawRecord (wikitext) per ns-0 page.

    The dump is cut at ``<page>`` boundaries and each page parsed on its own, so a malformed page, an entity
    bomb or garbage between pages costs that page only: the complete pages before and after it are kept, and
    the error says how many bytes were lost. Entities are never expanded and DTDs never loaded (a page using
    a custom entity is an ``xml_entity`` error).

    options: ``wiki_base_url`` (default: from the dump's ``<siteinfo><base>``, else English Wikipedia),
    ``max_doc_bytes`` (default 10 MB: a bigger page becomes one ``too_large`` error and the dump goes on),
    ``xml_huge_tree`` (default True: lift libxml2's 10 MB text-node limit inside one page).

    ``byte_range`` (a multistream ``.xml.bz2``, see ``sources.ranges``): the pages of the bzip2 streams that
    start in the range, with the site info (base URL, language) of the dump's first stream. Their records are
    those of the whole-file read; page numbers in error ids count from the range's first stream
    (``bytes:<offset>:page:<n>``), since the pages before it are not decompressed.
    """
    base_url = options.get("wiki_base_url")
    max_bytes = int(options.get("max_doc_bytes") or DEFAULT_MAX_DOC_BYTES)
    parser = _page_parser(bool(options.get("xml_huge_tree", True)))
    pages = 0
    language = ""
    at = ""  # error id prefix: where page numbering starts
    source: BinaryIO = stream
    if byte_range is not None:
        first = _first_bz2_stream(stream, byte_range.start, byte_range.end)
        if first is None:
            return
        if first > 0:
            site = _dump_head(stream)
            if base_url is None and (found := _BASE_RE.search(site)):
                base_url = _base_url_from_siteinfo(found.group(1).decode("utf-8", "replace"))
            language = _dump_language(site)
            at = f"bytes:{first}:"
        source = io.BufferedReader(_Bz2Streams(stream, first, byte_range.end), READ_CHUNK)  # type: ignore[assignment]
    try:
        pieces = _split_pages(
            source if byte_range is not None else open_decompressed(path, stream), max_bytes + _PAGE_SLACK
        )
        for what, data, where in pieces:
            if what == "head" and at:
                continue  # whitespace before the range's first page: the site info came from the first stream
            if what == "head":
                if base_url is None and (found := _BASE_RE.search(data)):
                    base_url = _base_url_from_siteinfo(found.group(1).decode("utf-8", "replace"))
                language = _dump_language(data)
                if (
                    pages == 0
                    and data.strip()
                    and b"<mediawiki" not in data
                    and not _PAGE_OPEN_RE.search(data)
                ):
                    head = data.strip()[:60].decode("utf-8", "replace")
                    yield _page_error(
                        "xml_syntax", f"not a MediaWiki XML dump (no <page> element; starts {head!r})", 1, path,
                        len(data), at,
                    )  # fmt: skip
                continue
            pages += 1
            if what == "page":
                for item in _page_record(
                    data, pages, base_url or DEFAULT_WIKI_BASE_URL, path, max_bytes, parser, at
                ):
                    if isinstance(item, RawRecord) and language:
                        item.metadata["declared_lang"] = language
                    yield item
            elif what == "too_large":
                yield _page_error(
                    "too_large", f"page {pages} is {where} bytes, over max_doc_bytes={max_bytes}: skipped", pages,
                    path, where, at,
                )  # fmt: skip
            elif what == "truncated":
                yield _page_error(
                    "truncated", f"the file ends inside page {pages}: its {len(data)} bytes are lost", pages,
                    path, len(data), at,
                )  # fmt: skip
            else:  # garbage between pages, or a page that never closed before the next one
                pages -= not data.lstrip().startswith(b"<page")
                yield _page_error(
                    "xml_syntax",
                    f"{len(data)} bytes at offset {where} are no complete <page> (malformed page or garbage)"
                    " and were skipped; the pages around them are kept",
                    pages + 1, path, len(data), at,
                )  # fmt: skip
    except DECOMPRESSION_ERRORS as exc:
        yield stream_error("wikipedia", path, exc, f"{at}page:{pages + 1}")


def _page_record(
    data: bytes, number: int, base_url: str, path: str, max_bytes: int, parser: etree.XMLParser, at: str = ""
) -> Iterator[RawRecord | RecordError]:
    try:
        page = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        kind = "xml_entity" if "Entity" in str(exc) else "xml_syntax"
        yield _page_error(
            kind, f"page {number} is malformed XML ({exc}); skipped", number, path, len(data), at
        )
        return
    record = wiki_page_record(page, base_url, path, max_bytes)
    if record is not None:
        yield record


# --------------------------------------------------------------------------------------------------
# Wikitext to plain text
# --------------------------------------------------------------------------------------------------

# Sections that hold no prose (dropped with everything under them, down to the next heading of the same level).
DROP_SECTIONS = frozenset(
    {
        "see also",
        "references",
        "external links",
        "further reading",
        "notes",
        "footnotes",
        "citations",
        "sources",
        "notes and references",
    }
)
# Link targets that are media or page furniture, not prose.
DROP_LINK_PREFIXES = frozenset({"file", "image", "media", "category"})
# Interlanguage links ([[de:Foo]]) without display text.
INTERLANGUAGE_RE = re.compile(r"^[a-z]{2,3}(?:-[a-z]{2,8})*$")
# Tags whose content is not running text.
DROP_TAGS = frozenset(
    {
        "ref",
        "references",
        "table",
        "gallery",
        "math",
        "chem",
        "ce",
        "score",
        "timeline",
        "imagemap",
        "graph",
        "mapframe",
        "maplink",
        "templatedata",
        "syntaxhighlight",
        "source",
        "templatestyles",
        "noinclude",
        "onlyinclude",
        "includeonly",
    }
)
# Inline templates whose parameters are the text itself: name -> indexes of the positional params to keep.
INLINE_TEMPLATES = {"lang": (2,), "nowrap": (1,), "convert": (1, 2), "cvt": (1, 2)}
HEADING_LINE_RE = re.compile(r"^(={1,6})(.+?)(={1,6})\s*$")
BEHAVIOR_SWITCH_RE = re.compile(r"__[A-Z]+__")
EMPTY_PARENS_RE = re.compile(r"\(\s*[,;\s]*\)")  # "(; )" left where a template was
LEFTOVER_QUOTES_RE = re.compile(r"'{2,}")
LIST_MARK = "\x02"  # a wiki list item's marker, "- " once per item in _tidy
LIST_MARKS_RE = re.compile("\x02+[ \t]*")
HARD_BREAK = "\x01"  # marks a line break that is not a soft wrap (``<br>``, ``;``/``:`` lines) until _tidy
# A link mwparserfromhell left as text (e.g. inside "[[[...]]]"): keep its label.
LEFTOVER_LINK_RE = re.compile(r"\[\[(?:[^\[\]|]*\|)?([^\[\]|]*)\]\]")


def _render(code: Wikicode | None) -> str:
    return "".join(_render_node(node) for node in code.nodes) if code is not None else ""


def _render_link(node: Wikilink) -> str:
    target = str(node.title).strip()
    prefix = target.split(":", 1)[0].strip().lower() if ":" in target else ""
    if prefix in DROP_LINK_PREFIXES:
        return ""
    if node.text is None and prefix and INTERLANGUAGE_RE.match(prefix):
        return ""
    return _render(node.text) if node.text is not None else target.lstrip(":")


def _render_template(node: Template) -> str:
    keep = INLINE_TEMPLATES.get(str(node.name).strip().lower())
    if not keep:
        return ""
    values = [_render(node.get(i).value).strip() for i in keep if node.has(i)]
    return " ".join(v for v in values if v)


def _render_node(node: Any) -> str:
    """Plain text of one wikitext node: link and markup text kept, templates/refs/tables/files dropped."""
    if isinstance(node, Text):
        return str(node.value)
    if isinstance(node, Wikilink):
        return _render_link(node)
    if isinstance(node, ExternalLink):
        if node.title is not None:
            return _render(node.title)
        return "" if node.brackets else str(node.url)
    if isinstance(node, Tag):
        tag = str(node.tag).strip().lower()
        if tag == "br":
            return "\n" + HARD_BREAK
        if tag == "li" and node.wiki_markup:  # "*" / "#" list items: "- " on a line of their own
            return LIST_MARK  # (wiki list markup always starts a line; "**" nests: one mark per level)
        if tag in ("dt", "dd") and node.wiki_markup:  # ";" / ":" definition lines stay lines
            return HARD_BREAK
        if tag in DROP_TAGS or node.contents is None:
            return ""
        return _render(node.contents)
    if isinstance(node, Heading):
        return f"\n\n{_render(node.title).strip()}\n\n"
    if isinstance(node, HTMLEntity):
        return node.normalize()
    if isinstance(node, Template):
        return _render_template(node)
    return ""  # comments, template arguments


def drop_sections(wikitext: str) -> str:
    """The wikitext without the DROP_SECTIONS, each up to the next heading of its level or higher.

    Done on heading lines, before parsing: mwparserfromhell nests later headings inside an unclosed
    ``''`` (MediaWiki closes it at the end of the line), so its node tree cannot be trusted for sections.
    """
    kept: list[str] = []
    skip_level = 0
    for line in wikitext.splitlines(keepends=True):
        match = HEADING_LINE_RE.match(line)
        if match:
            level = min(len(match.group(1)), len(match.group(3)))
            if skip_level and level > skip_level:
                continue
            title = LEFTOVER_QUOTES_RE.sub("", match.group(2)).strip().lower()
            skip_level = level if title in DROP_SECTIONS else 0
        if not skip_level:
            kept.append(line)
    return "".join(kept)


def _join_soft_breaks(block: str) -> str:
    """One paragraph's lines as MediaWiki renders them: a single newline inside running text is a space;
    list items and ``<br>`` / definition lines (marked ``HARD_BREAK``) stay on lines of their own."""
    lines: list[str] = []
    for line in block.split("\n"):
        hard = line.startswith((HARD_BREAK, "- "))
        line = line.replace(HARD_BREAK, "").strip()
        if not line:
            continue
        if lines and not hard and not lines[-1].startswith("- "):
            lines[-1] = f"{lines[-1]} {line}"
        else:
            lines.append(line)
    return "\n".join(lines)


def _tidy(text: str) -> str:
    """Whitespace and leftover-markup clean-up in the text shape (``core.textshape``): one paragraph,
    heading or list per block, a blank line between blocks, soft line breaks inside a paragraph joined."""
    text = LIST_MARKS_RE.sub("- ", BEHAVIOR_SWITCH_RE.sub("", text))
    text = LEFTOVER_LINK_RE.sub(r"\1", text)
    text = EMPTY_PARENS_RE.sub("", text)
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r" ([,.;:])", r"\1", text)
    blocks = [_join_soft_breaks(block) for block in re.split(r"\n\s*\n", text)]
    return normalize_text(join_blocks(blocks))


def wikitext_to_text(wikitext: str) -> str:
    """Plain text of a wikitext article (the pure core of ``extract_wikitext``)."""
    # Bold/italic quotes go before parsing: one unbalanced '' (MediaWiki closes it at the end of the line)
    # makes mwparserfromhell give up on the refs, links and templates around it and return them as text.
    wikitext = LEFTOVER_QUOTES_RE.sub("", drop_sections(wikitext))
    return _tidy(_render(mwparserfromhell.parse(wikitext)))


def extract_wikitext(raw: RawRecord, options: Mapping[str, Any] | None = None) -> Document:
    """The Document for a wikitext RawRecord (``read_wikipedia`` output). Raises ``RecordFailure`` if the
    content is not text."""
    if not isinstance(raw.content, str):
        raise RecordFailure("content_type", f"wikitext record {raw.id} has bytes content, expected str")
    text = wikitext_to_text(raw.content)
    return Document(
        id=doc_id(raw.source, raw.id),
        text=text,
        source=raw.source or "wikipedia",
        domain="general",
        url=raw.url,
        title=raw.metadata.get("title", ""),
        date=raw.metadata.get("date", ""),
        n_chars=len(text),
        metadata=dict(raw.metadata),
    )


# --------------------------------------------------------------------------------------------------
# Generic JSONL / Parquet
# --------------------------------------------------------------------------------------------------

DEFAULT_FIELDS = {"text": "text", "id": "id", "url": "url", "date": "timestamp"}
DEFAULT_JSONL_SOURCE = "c4"
PARQUET_BATCH_ROWS = 1024  # rows per Arrow batch: bounds memory within a large row group


def _get_field(obj: Mapping[str, Any], dotted: str) -> Any:
    """``obj["a"]["b"]`` for ``"a.b"`` (Dolma keeps fields under ``metadata``); None if absent."""
    value: Any = obj
    for key in dotted.split("."):
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def _date_value(value: Any) -> str:
    """An ISO timestamp from a string date (kept as is) or epoch seconds."""
    if value is None:
        return ""
    if isinstance(value, int | float):
        return iso_from_epoch(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def jsonl_record(
    obj: Any, where: str, fields: Mapping[str, str], source: str, path: str
) -> RawRecord | RecordError:
    """The RawRecord for one JSON object / Parquet row under the field mapping, or a RecordError."""

    def error(kind: str, message: str) -> RecordError:
        return RecordError(source=source, stage="read", kind=kind, message=message, id=where, path=path)

    if not isinstance(obj, Mapping):
        return error("invalid_record", f"expected a JSON object, got {type(obj).__name__}")
    text = _get_field(obj, fields["text"])
    if text is None:
        return error("missing_field", f"no text field {fields['text']!r}")
    if not isinstance(text, str):
        return error("invalid_field", f"text field {fields['text']!r} is {type(text).__name__}, not a string")
    url = _get_field(obj, fields["url"])
    url = str(url) if url is not None else ""
    native_id = _get_field(obj, fields["id"])
    native_id = str(native_id) if native_id not in (None, "") else (url or where)
    date = _date_value(_get_field(obj, fields["date"]))
    metadata = {"date": date[:10], "timestamp": date} if date else {}
    return RawRecord(
        source=source,
        id=native_id,
        url=url,
        content=text,
        content_type="text",
        fetched_at=date,
        metadata=metadata,
    )


def _jsonl_items(
    path: str,
    stream: BinaryIO,
    fields: Mapping[str, str],
    source: str,
    max_bytes: int = DEFAULT_MAX_DOC_BYTES,
    byte_range: ByteRange | None = None,
) -> Iterator[RawRecord | RecordError]:
    name = os.path.basename(path)
    for item in iter_lines(path, stream, source, byte_range):
        if isinstance(item, RecordError):
            yield item
            continue
        lineno, line = item
        where = f"{name}:{lineno}"
        if len(line) > max_bytes:
            yield too_large(source, f"line {lineno}", len(line), max_bytes, f"line:{lineno}", path)
            continue
        try:
            obj = parse_json_line(line)
        except ValueError as exc:
            yield RecordError(
                source=source,
                stage="read",
                kind="invalid_json",
                message=f"line {lineno}: {exc}",
                id=f"line:{lineno}",
                path=path,
            )
            continue
        yield jsonl_record(obj, where, fields, source, path)


def _parquet_items(
    path: str, stream: BinaryIO, fields: Mapping[str, str], source: str
) -> Iterator[RawRecord | RecordError]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(stream)
    except (pa.ArrowException, OSError) as exc:
        raise RecordFailure("corrupt", f"{path} is not a readable Parquet file: {exc}") from exc
    present = set(parquet.schema_arrow.names)
    wanted = [f.split(".", 1)[0] for f in fields.values()]
    if fields["text"].split(".", 1)[0] not in present:
        raise RecordFailure(
            "missing_column", f"{path} has no column {fields['text']!r} (columns: {sorted(present)})"
        )
    name, row = os.path.basename(path), 0
    try:
        for batch in parquet.iter_batches(
            batch_size=PARQUET_BATCH_ROWS, columns=sorted(set(wanted) & present)
        ):
            for obj in batch.to_pylist():
                row += 1
                yield jsonl_record(obj, f"{name}:{row}", fields, source, path)
    except (pa.ArrowException, OSError) as exc:
        yield RecordError(
            source=source,
            stage="read",
            kind="corrupt",
            message=f"Parquet read failed after row {row}: {exc}",
            id=f"row:{row + 1}",
            path=path,
        )


def read_jsonl(
    path: str, stream: BinaryIO, options: Mapping[str, Any], byte_range: ByteRange | None = None
) -> Iterator[RawRecord | RecordError]:
    """Plain-text records from JSONL (``.jsonl``/``.json``, optionally ``.gz``/``.bz2``/``.zst``/``.xz``) or
    ``.parquet`` files.

    options: ``fields`` (mapping of text/id/url/date to the file's field names, dotted for nested fields;
    defaults ``DEFAULT_FIELDS``), ``source`` (default ``"c4"``). A record without an id gets its url, else
    ``<file>:<line>``.
    """
    fields = {**DEFAULT_FIELDS, **dict(options.get("fields") or {})}
    source = str(options.get("source", DEFAULT_JSONL_SOURCE))
    if split_compression(path)[0].lower().endswith(".parquet"):
        yield from _parquet_items(path, stream, fields, source)
    else:
        max_bytes = int(options.get("max_doc_bytes") or DEFAULT_MAX_DOC_BYTES)
        yield from _jsonl_items(path, stream, fields, source, max_bytes, byte_range)
