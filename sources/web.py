"""Web, news and press sources: WARC/WET files and RSS/Atom feeds, with URL normalisation and source tagging.

- ``read_warc`` streams WARC files (``.warc``, ``.warc.gz`` with one gzip member per record, WET) with
  warcio. HTML responses become ``html`` RawRecords (the raw body bytes; ``sources.html.extract_html``
  decodes and extracts them); WET conversion records become ``text`` RawRecords. Every other record
  (request, revisit, metadata, warcinfo, non-HTML payloads, non-2xx responses) is skipped and counted as
  ``warc/skipped:<reason>``.
- ``read_feed`` reads an RSS or Atom document with feedparser: one ``html`` RawRecord per entry.
- ``classify_url`` maps a URL onto the FinPile sources ``news`` / ``press`` / ``web`` by host suffix;
  ``normalize_url`` gives the canonical form used for ids and deduplication.

WARC integrity: warcio itself reads through a record whose Content-Length is wrong when it can (one gzip
member per record), but it only prints a warning, and it ends silently on a truncated gzip file. The reader
checks each record against its Content-Length and the file's end against the last complete record, reports
each problem as a ``RecordError``, and after a record warcio cannot parse it seeks to the next record
boundary (seekable inputs) and goes on.
"""

from __future__ import annotations

import functools
import html
import io
import os
import re
import time
import zlib
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit, urlunsplit

import feedparser
from warcio.archiveiterator import ArchiveIterator, WARCIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord

from core.schema import RawRecord, RecordError
from filters.language import normalize_language_tag
from sources import note_skipped
from sources.general import DECOMPRESSION_ERRORS, DecodedStream, counter, open_decompressed
from sources.ranges import ByteRange

WARC_NAMESPACE = "warc"  # Beam counter namespaces
FEED_NAMESPACE = "rss"
DEFAULT_SOURCE = "web"
DEFAULT_FEED_SOURCE = "news"

# Financial news publishers (host suffixes).
DEFAULT_NEWS_DOMAINS = (
    "reuters.com",
    "bloomberg.com",
    "cnbc.com",
    "wsj.com",
    "ft.com",
    "marketwatch.com",
    "finance.yahoo.com",
    "barrons.com",
    "economist.com",
    "fool.com",
    "seekingalpha.com",
    "investopedia.com",
    "thestreet.com",
    "forbes.com",
    "businessinsider.com",
    "morningstar.com",
    "kiplinger.com",
    "investors.com",
    "zacks.com",
    "benzinga.com",
    "nasdaq.com",
    "fortune.com",
    "money.cnn.com",
    "bloomberglaw.com",
    "handelsblatt.com",
    "finanzen.net",
    "boerse.de",
    "economictimes.indiatimes.com",
    "livemint.com",
    "business-standard.com",
    "scmp.com",
    "nikkei.com",
    "asia.nikkei.com",
    "afr.com",
    "theglobeandmail.com",
    "financialpost.com",
    "cityam.com",
    "investing.com",
    "fxstreet.com",
    "coindesk.com",
    "americanbanker.com",
    "risk.net",
    "institutionalinvestor.com",
    "pionline.com",
    "bankrate.com",
    "nerdwallet.com",
    "thebalancemoney.com",
    "thebalance.com",
)
# Press-release wires (host suffixes).
DEFAULT_PRESS_DOMAINS = (
    "prnewswire.com",
    "businesswire.com",
    "globenewswire.com",
    "accesswire.com",
    "newswire.ca",
    "ots.at",
    "newsfilecorp.com",
    "einpresswire.com",
    "prweb.com",
    "marketwired.com",
    "cision.com",
    "newswire.com",
    "issuerdirect.com",
    "dgap.de",
    "eqs-news.com",
    "pressat.co.uk",
    "openpr.com",
    "presseportal.de",
)

# Query parameters that only track the visitor.
TRACKING_PARAM_PREFIXES = ("utm_",)
TRACKING_PARAMS = frozenset(
    {
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "fbclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "yclid",
        "igshid",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "ref_src",
        "cmpid",
        "ncid",
        "guccounter",
        "guce_referrer",
        "guce_referrer_sig",
        "spm",
        "scid",
        "s_cid",
        "at_medium",
        "at_campaign",
    }
)
DEFAULT_PORTS = {"http": 80, "https": 443}

HTML_MEDIA_TYPES = frozenset({"text/html", "application/xhtml+xml"})
HTML_SNIFF_BYTES = 1024  # bytes looked at to recognise HTML served without a Content-Type
RESYNC_PROBE_BYTES = 1024  # bytes of a candidate gzip member decompressed to check it starts a WARC record
DOCUMENT_STATUS = range(200, 300)  # responses outside 2xx are redirects/errors, not documents
MAX_HTML_BYTES = 20_000_000  # trafilatura's own max_file_size
TAIL_BYTES = 64  # end-of-file bytes kept to tell trailing padding from a lost record
READ_CHUNK = 1 << 16
HEADER_PROBE_BYTES = 1 << 16  # bytes after a plain ``WARC/1.x`` line searched for its record header fields
RESYNC_BLOCK = 1 << 20  # bytes scanned per step when looking for the next record after a broken one
GZIP_MAGIC = b"\x1f\x8b\x08"
WARC_MAGIC = b"WARC/"
MAX_FEED_BYTES = 64 * 1024 * 1024


# --------------------------------------------------------------------------------------------------
# URLs
# --------------------------------------------------------------------------------------------------


def _is_tracking(param: str) -> bool:
    name = unquote(param.split("=", 1)[0]).lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PARAM_PREFIXES)


def normalize_url(url: str) -> str:
    """Canonical URL: scheme and host lower-cased, default port, fragment and tracking parameters
    (``utm_*``, ``gclid``, ``fbclid``, ...) dropped, empty path as ``/``. The rest is left byte for byte."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a malformed port or IPv6 literal: leave the URL alone
        return url
    scheme = parts.scheme.lower()
    if not parts.netloc:
        return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and DEFAULT_PORTS.get(scheme) != port:
        netloc += f":{port}"
    if parts.username is not None:
        userinfo = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{userinfo}@{netloc}"
    query = "&".join(p for p in parts.query.split("&") if p and not _is_tracking(p))
    path = parts.path or ("/" if scheme in DEFAULT_PORTS else "")
    return urlunsplit((scheme, netloc, path, query, ""))


def url_host(url: str) -> str:
    """The lower-case host of a URL without ``www.``; ``""`` when there is none."""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return host.rstrip(".").removeprefix("www.")


@functools.lru_cache(maxsize=64)
def _domain_set(domains: tuple[str, ...]) -> frozenset[str]:
    return frozenset(d.strip().lower().removeprefix("www.") for d in domains if d.strip())


def _option_domains(options: Mapping[str, Any], key: str, default: tuple[str, ...]) -> frozenset[str]:
    value = options.get(key)
    if value is None:
        return _domain_set(default)
    return _domain_set(tuple(value.split(",")) if isinstance(value, str) else tuple(value))


def _matches(host: str, domains: frozenset[str]) -> bool:
    """True if the host or one of its parent domains is listed (``a.reuters.com`` matches ``reuters.com``)."""
    labels = host.split(".")
    return any(".".join(labels[i:]) in domains for i in range(len(labels)))


def classify_url(url: str, options: Mapping[str, Any]) -> str:
    """The FinPile source of a URL: ``"press"`` (wire hosts), ``"news"`` (financial publishers) or
    ``options.get("default_source", "web")``. Lists: ``options["press_domains"]``, ``options["news_domains"]``
    (host suffixes; defaults ``DEFAULT_PRESS_DOMAINS`` / ``DEFAULT_NEWS_DOMAINS``)."""
    host = url_host(url)
    if host:
        if _matches(host, _option_domains(options, "press_domains", DEFAULT_PRESS_DOMAINS)):
            return "press"
        if _matches(host, _option_domains(options, "news_domains", DEFAULT_NEWS_DOMAINS)):
            return "news"
    return str(options.get("default_source", DEFAULT_SOURCE))


def is_denied(url: str, options: Mapping[str, Any]) -> bool:
    """True if the URL's host is under one of ``options["deny_domains"]`` (default: none)."""
    host = url_host(url)
    return bool(host) and _matches(host, _option_domains(options, "deny_domains", ()))


def _tag_url(url: str, options: Mapping[str, Any], metadata: dict[str, str]) -> str:
    """Source of the URL; records ``host`` and, for a denied host, the drop reason in ``metadata``."""
    metadata["host"] = url_host(url)
    if is_denied(url, options):
        metadata["drop_reason"] = "url:denied_domain"
    return classify_url(url, options)


# --------------------------------------------------------------------------------------------------
# WARC
# --------------------------------------------------------------------------------------------------


class _TrackingReader(io.RawIOBase):
    """Pass-through reader that knows its absolute position and keeps the last bytes it read.

    warcio reads ahead, so its own offsets say nothing about what is left of the file; this wrapper lets
    the WARC reader compare the end of the last complete record with the real end of the input.
    """

    def __init__(self, stream: BinaryIO):
        super().__init__()
        self._stream = stream
        try:
            self.position = stream.tell()
        except (AttributeError, OSError):
            self.position = 0
        self.tail = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        try:
            return bool(self._stream.seekable())
        except (AttributeError, OSError):
            return False

    def read(self, size: int | None = -1) -> bytes:
        data = self._stream.read(size if size is not None else -1) or b""
        self.position += len(data)
        self.tail = (self.tail + data[-TAIL_BYTES:])[-TAIL_BYTES:]
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.position = self._stream.seek(offset, whence)
        self.tail = b""
        return self.position

    def drain(self) -> None:
        """Read to the end of the input (to learn its size)."""
        while self.read(RESYNC_BLOCK):
            pass


def _media_type(rec: ArcWarcRecord) -> str:
    headers = rec.http_headers if rec.http_headers is not None else rec.rec_headers
    value = headers.get_header("Content-Type") or ""
    return value.split(";", 1)[0].strip().lower()


def _charset(rec: ArcWarcRecord) -> str:
    value = rec.http_headers.get_header("Content-Type") if rec.http_headers is not None else None
    for param in (value or "").split(";")[1:]:
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset":
            return val.strip().strip("\"'").lower()
    return ""


def _looks_like_html(body: bytes) -> bool:
    head = body[:HTML_SNIFF_BYTES].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


class _WarcScan:
    """State of one pass over a WARC file: counts, the end of the last complete record, a record that came up short."""

    def __init__(self, path: str, stream: BinaryIO, options: Mapping[str, Any]):
        self.path = path
        self.options = options
        self.warc_file = os.path.basename(path)
        self.gzipped = path.lower().endswith(".gz")
        self.default_source = str(options.get("default_source", DEFAULT_SOURCE))
        self.max_bytes = int(options.get("max_doc_bytes") or MAX_HTML_BYTES)
        self.input = _TrackingReader(stream)
        self.last_end = self.input.position
        self.records_seen = 0
        self.short: tuple[str, int] | None = None  # (record id, missing bytes) of a record that ended early
        self.end: int | None = None  # reading a byte range: stop at the first record starting at or after it

    def skip(self, reason: str) -> None:
        """Count a record left out on purpose (request, metadata, non-HTML ...) in the counters and the funnel."""
        counter(WARC_NAMESPACE, f"skipped:{reason}").inc()
        note_skipped(self.default_source, f"warc:{reason}")

    def error(self, kind: str, message: str, record_id: str = "") -> RecordError:
        return RecordError(
            source=self.default_source, stage="read", kind=kind, message=message, id=record_id, path=self.path
        )

    # -- one record ------------------------------------------------------------------------------

    def record(self, rec: ArcWarcRecord, archive: ArchiveIterator) -> Iterator[RawRecord | RecordError]:
        """The RawRecord/RecordError for one WARC record (nothing for a skipped one), after checking its length."""
        if self.end is not None and archive.offset >= self.end:
            raise _RangeEnd
        self.records_seen += 1
        if self.short is not None:  # a record followed the short one, so its Content-Length was wrong
            record_id, missing = self.short
            self.short = None
            yield self.error(
                "bad_content_length", f"record ended {missing} bytes before its Content-Length", record_id
            )
        record_id = (rec.rec_headers.get_header("WARC-Record-ID") or "").strip("<>")
        result = self._document(rec, record_id)
        warnings_before = archive.err_count
        archive.read_to_end()
        missing = getattr(rec.raw_stream, "limit", 0)
        self.last_end = archive.get_record_offset() + archive.get_record_length()
        if archive.err_count > warnings_before:
            inner = self._record_start_inside(archive.get_record_offset(), self.last_end)
            yield self.error(
                "bad_content_length", "no record boundary where the Content-Length ends the record", record_id
            )
            if inner is not None:  # the Content-Length ran over the next record: read it from its header
                raise _Resync(inner)
        elif missing > 0:
            self.short = (record_id, missing)
        elif result is not None:
            yield result

    def _document(self, rec: ArcWarcRecord, record_id: str) -> RawRecord | RecordError | None:
        if rec.rec_type == "conversion":
            return self._text_record(rec, record_id)
        if rec.rec_type not in ("response", "resource"):
            self.skip(rec.rec_type or "unknown")
            return None
        status = rec.http_headers.get_statuscode() if rec.http_headers is not None else "200"
        if not status.isdigit() or int(status) not in DOCUMENT_STATUS:
            self.skip("http_status")
            return None
        media_type = _media_type(rec)
        if media_type and media_type not in HTML_MEDIA_TYPES:
            self.skip("non_html")
            return None
        return self._html_record(rec, record_id, status, media_type)

    def _html_record(
        self, rec: ArcWarcRecord, record_id: str, status: str, media_type: str
    ) -> RawRecord | RecordError | None:
        encoding = rec.http_headers.get_header("Content-Encoding") if rec.http_headers is not None else None
        if encoding and encoding.strip().lower() not in ("gzip", "deflate", "identity"):
            return self.error("content_encoding", f"unsupported Content-Encoding {encoding!r}", record_id)
        body = rec.content_stream().read(self.max_bytes + 1)
        if len(body) > self.max_bytes:
            return self.error("too_large", f"HTML payload over max_doc_bytes={self.max_bytes}", record_id)
        if not media_type and not _looks_like_html(body):
            self.skip("non_html")
            return None
        url = rec.rec_headers.get_header("WARC-Target-URI") or ""
        metadata = {"warc_file": self.warc_file, "http_status": status}
        if charset := _charset(rec):
            metadata["content_charset"] = charset
        source = _tag_url(url, self.options, metadata)
        return RawRecord(
            source=source,
            id=record_id or url,
            url=url,
            content=body,
            content_type="html",
            fetched_at=rec.rec_headers.get_header("WARC-Date") or "",
            metadata=metadata,
        )

    def _text_record(self, rec: ArcWarcRecord, record_id: str) -> RawRecord | RecordError:
        url = rec.rec_headers.get_header("WARC-Target-URI") or ""
        data = rec.content_stream().read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            return self.error("too_large", f"WET text over max_doc_bytes={self.max_bytes}", record_id)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return self.error("charset", f"WET text is not UTF-8: {exc}", record_id)
        metadata = {"warc_file": self.warc_file}
        if language := rec.rec_headers.get_header("WARC-Identified-Content-Language"):
            metadata["content_language"] = language
        source = _tag_url(url, self.options, metadata)
        return RawRecord(
            source=source,
            id=record_id or url,
            url=url,
            content=text,
            content_type="text",
            fetched_at=rec.rec_headers.get_header("WARC-Date") or "",
            metadata=metadata,
        )

    # -- the end of the input and broken records ---------------------------------------------------

    def finish(self) -> Iterator[RecordError]:
        """Errors for a record that ended early at the end of the file, or bytes after the last complete record."""
        if self.short is not None:
            record_id, missing = self.short
            yield self.error(
                "truncated", f"file ends inside the last record ({missing} bytes missing)", record_id
            )
            return
        self.input.drain()
        trailing = self.input.position - self.last_end
        padding = trailing <= TAIL_BYTES and not self.input.tail[-trailing:].strip(b"\r\n\t \x00")
        if trailing > 0 and not padding:
            error = self.error(
                "truncated",
                f"{trailing} bytes after the last complete record (offset {self.last_end}) "
                "could not be read: the file is truncated or its last record is broken",
                f"offset:{self.last_end}",
            )
            error.lost_bytes = trailing
            yield error

    def range_end(self) -> Iterator[RecordError]:
        """At the end of a byte range: the record before the next range's first one came up short."""
        if self.short is not None:
            record_id, missing = self.short
            self.short = None
            yield self.error(
                "bad_content_length", f"record ended {missing} bytes before its Content-Length", record_id
            )

    def at_boundary(self, offset: int) -> bool:
        """Whether a record starts at ``offset`` (what a range starting there resynchronises on)."""
        return self.boundary_from(offset) == offset

    def bytes_after_last_record(self) -> int:
        """How many bytes follow the last complete record (0 when the input cannot seek)."""
        if not self.input.seekable():
            return 0
        self.input.seek(self.last_end)
        self.input.drain()
        return max(self.input.position - self.last_end, 0)

    def next_boundary(self) -> int | None:
        """Offset of the next plausible record start after the last complete record; None if there is none
        or the input cannot seek."""
        if not self.input.seekable():
            return None
        start = self.last_end + 1
        if not self.gzipped:  # step over the header of the record that failed, after the separator lines
            self.input.seek(self.last_end)
            head = self.input.read(RESYNC_PROBE_BYTES)
            start = self.last_end + len(head) - len(head.lstrip(b"\r\n\t ")) + 1
        return self.boundary_from(start)

    def boundary_from(self, start: int) -> int | None:
        """Offset of the first plausible record start at or after ``start`` (None: there is none)."""
        self.input.seek(start)
        carry = b""
        offset = start
        while block := self.input.read(RESYNC_BLOCK):
            data = carry + block
            base = offset - len(carry)
            found = self._first_record_start(data, base)
            if found is not None:
                return found
            carry = data[-16:]
            offset += len(block)
        return None

    def _record_start_inside(self, start: int, end: int) -> int | None:
        """In an uncompressed seekable WARC, the first record header strictly inside ``[start, end)`` (where a
        record whose Content-Length was too long swallowed the next record), else None."""
        if self.gzipped or not self.input.seekable() or end - start > RESYNC_BLOCK * 64:
            return None
        here = self.input.tell()
        self.input.seek(start + 1)
        data = self.input.read(end - start - 1)
        self.input.seek(here)
        found = _WARC_HEADER_RE.search(data)
        return start + 1 + found.start() if found else None

    def _first_record_start(self, data: bytes, base: int) -> int | None:
        """Absolute offset of the first record start in ``data`` (read from ``base``): a gzip member that
        decompresses to ``WARC/`` in a ``.gz`` file, a line starting with ``WARC/`` otherwise."""
        if not self.gzipped:  # a "WARC/1.x" version line, wherever garbage before it ends ...
            for found in _WARC_HEADER_RE.finditer(data):
                if self._plain_header_is_warc(base + found.start()):  # ... heading a real record header
                    return base + found.start()
            return None
        index = data.find(GZIP_MAGIC)
        while index >= 0:
            if self._gzip_member_is_warc(base + index):
                return base + index
            index = data.find(GZIP_MAGIC, index + 1)
        return None

    def _plain_header_is_warc(self, offset: int) -> bool:
        """Whether the ``WARC/1.x`` line at ``offset`` heads a header block with the mandatory WARC-Type and
        Content-Length fields (not a payload that merely quotes a version line)."""
        here = self.input.tell()
        self.input.seek(offset)
        head = self.input.read(HEADER_PROBE_BYTES)
        self.input.seek(here)
        block = re.split(rb"\r?\n\r?\n", head, maxsplit=1)[0].lower()
        return b"\nwarc-type:" in block and b"\ncontent-length:" in block

    def _gzip_member_is_warc(self, offset: int) -> bool:
        here = self.input.tell()
        self.input.seek(offset)
        head = self.input.read(RESYNC_PROBE_BYTES)
        self.input.seek(here)
        try:
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head).startswith(WARC_MAGIC)
        except zlib.error:
            return False


_WARC_HEADER_RE = re.compile(rb"WARC/1\.[01]\r?\n")


class _Resync(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Restart reading at ``offset``: a record header was found inside the previous record's extent."""

    def __init__(self, offset: int):
        super().__init__(offset)
        self.offset = offset


class _RangeEnd(Exception):  # noqa: N818 - a control-flow signal, not an error
    """The next record starts at or after the end of the byte range being read: the next range reads it."""


class _Truncated(Exception):
    """A cut-off gzip stream; not an EOFError, which warcio takes for a clean end of the archive."""


class _GzipGuard(DecodedStream):
    """Decompresses a whole-file gzip stream as far as it goes, then raises ``_Truncated`` if it was cut off.

    (``gzip.GzipFile`` raises ``EOFError`` on the read that reaches a cut, losing the data before it in that
    read; and warcio would take an ``EOFError`` for a clean end of the archive.)
    """

    def __init__(self, stream: BinaryIO):
        super().__init__()
        self._stream = stream
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._in_member = False

    def _fill(self) -> None:
        chunk = self._stream.read(READ_CHUNK)
        if not chunk:
            self._done = True
            if self._in_member:
                raise _Truncated("gzip stream ended inside a member (file truncated)")
            return
        while chunk:
            self._out += self._inflate.decompress(chunk)
            self._in_member = True
            if not self._inflate.eof:
                break
            chunk = self._inflate.unused_data
            self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self._in_member = False


def _is_whole_file_gzip(exc: ArchiveLoadFailed) -> bool:
    return "non-chunked gzip" in str(exc)


def _archive(stream: Any, path: str) -> ArchiveIterator:
    """warcio's iterator; WARC-only unless the file is an ARC (else any text parses as ARC headers)."""
    is_arc = path.lower().removesuffix(".gz").endswith(".arc")
    return ArchiveIterator(stream) if is_arc else WARCIterator(stream)


def _read_whole_gzip(scan: _WarcScan, skip: int) -> Iterator[RawRecord | RecordError]:
    """Re-read a WARC compressed as one gzip stream (not one member per record), skipping the records done."""
    scan.input.seek(0)
    archive = _archive(
        _GzipGuard(scan.input), scan.path
    )  # unbuffered: a buffer would drop data read before a cut
    complete = 0
    try:
        for rec in archive:
            if complete >= skip:
                yield from scan.record(rec, archive)
            complete += 1
    except (ArchiveLoadFailed, _Truncated, *DECOMPRESSION_ERRORS) as exc:
        kind = "truncated" if isinstance(exc, EOFError | _Truncated) else "corrupt"
        yield scan.error(
            kind,
            f"stream broke after {complete} complete records; the rest is lost: {exc}",
            f"record:{complete + 1}",
        )
        return
    if scan.short is not None:
        yield from scan.finish()


def read_warc(
    path: str, stream: BinaryIO, options: Mapping[str, Any], byte_range: ByteRange | None = None
) -> Iterator[RawRecord | RecordError]:
    """HTML responses (``html``, body bytes) and WET conversions (``text``) of a WARC file.

    options: ``default_source`` (``"web"``), ``news_domains``, ``press_domains``, ``deny_domains``
    (see ``classify_url``), ``max_doc_bytes`` (default ``MAX_HTML_BYTES``: a longer payload is a
    ``too_large`` error and the next record is read). RawRecord metadata: ``warc_file``, ``http_status``, ``content_charset`` (from
    the HTTP Content-Type, if any), ``host``, and ``drop_reason`` ``url:denied_domain`` for denied hosts.

    ``byte_range`` (a seekable ``.warc`` or one-member-per-record ``.warc.gz``, see ``sources.ranges``): only
    the records starting in the range. Bytes that cannot be read after the range's last record (up to the next
    record start) are reported by this range, whether they reach past its end or not.
    """
    scan = _WarcScan(path, stream, options)
    if byte_range is not None:
        scan.end = byte_range.end
        if byte_range.start > 0:
            first = scan.boundary_from(byte_range.start)
            if first is None or first >= byte_range.end:
                return
            scan.input.seek(first)
            scan.last_end = first
    while True:
        archive = _archive(scan.input, path)
        try:
            for rec in archive:
                yield from scan.record(rec, archive)
        except _RangeEnd:
            yield from scan.range_end()
            return
        except _Resync as jump:
            if scan.end is not None and jump.offset >= scan.end:
                return
            scan.input.seek(jump.offset)
            scan.last_end = jump.offset
            scan.short = None
            continue
        except Exception as exc:  # noqa: BLE001 - warcio raises anything on a malformed record (AttributeError
            # on a response without WARC-Target-URI): skip to the next record header, never stop the run
            if isinstance(exc, ArchiveLoadFailed) and _is_whole_file_gzip(exc) and scan.end is not None:
                yield scan.error(
                    "not_splittable",
                    f"a gzip member at offset {scan.last_end} holds several records, so the file cannot be read "
                    f"in byte ranges ({byte_range}): the records from there to the end of the range are lost; "
                    "read it whole with --range_bytes=0",
                    f"offset:{scan.last_end}",
                )
                return
            if isinstance(exc, ArchiveLoadFailed) and _is_whole_file_gzip(exc) and scan.input.seekable():
                yield from _read_whole_gzip(scan, skip=scan.records_seen)
                return
            if scan.end is not None and scan.last_end >= scan.end and scan.at_boundary(scan.last_end):
                return  # a broken record that starts in the next range: that range reports it
            reason = f"{type(exc).__name__}: {str(exc).strip()}"
            resume = scan.next_boundary()
            if resume is None and scan.records_seen == 0 and isinstance(exc, ArchiveLoadFailed):
                yield scan.error("not_warc", f"no WARC record could be read: {str(exc).strip()}", "offset:0")
                return
            if resume is None:
                lost = scan.bytes_after_last_record()
                broken = isinstance(exc, ArchiveLoadFailed | _Truncated | EOFError)
                error = scan.error(
                    "truncated" if broken else "corrupt_record",
                    f"cannot read past offset {scan.last_end} and found no later record "
                    f"to resume from; the rest of the file ({lost or 'an unknown number of'} bytes) is lost: "
                    f"{reason}",
                    f"offset:{scan.last_end}",
                )
                error.lost_bytes = lost
                yield error
                return
            error = scan.error(
                "corrupt_record",
                f"unreadable bytes {scan.last_end}-{resume} ({resume - scan.last_end} bytes) skipped: {reason}",
                f"offset:{scan.last_end}",
            )
            error.lost_bytes = resume - scan.last_end
            yield error
            if scan.end is not None and resume >= scan.end:
                return
            scan.input.seek(resume)
            scan.last_end = resume
            scan.short = None
            continue
        break
    yield from scan.finish()


# --------------------------------------------------------------------------------------------------
# RSS / Atom
# --------------------------------------------------------------------------------------------------


def _iso_time(parsed: time.struct_time | None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", parsed) if parsed else ""


def _entry_html(entry: Mapping[str, Any]) -> str:
    """The entry's HTML: ``content:encoded`` / Atom ``content`` first, then the summary; plain text is escaped."""
    candidates = [(c.get("value") or "", c.get("type") or "") for c in entry.get("content") or []]
    detail = entry.get("summary_detail") or {}
    candidates.append((entry.get("summary") or "", detail.get("type") or "text/html"))
    for value, media_type in candidates:
        if value.strip():
            if media_type == "text/plain":
                return "<p>" + html.escape(value).replace("\n\n", "</p><p>") + "</p>"
            return value
    return ""


def feed_entry_record(
    entry: Mapping[str, Any], feed_title: str, options: Mapping[str, Any], where: str, path: str = ""
) -> RawRecord | RecordError:
    """The RawRecord for one feedparser entry, or ``feed_entry_empty`` when it has no content or no link."""
    link = str(entry.get("link") or "").strip()
    content = _entry_html(entry)
    native_id = str(entry.get("id") or link or where)
    if not content or not link:
        missing = "content" if not content else "link"
        return RecordError(
            source=str(options.get("source", DEFAULT_FEED_SOURCE)),
            stage="read",
            kind="feed_entry_empty",
            message=f"feed entry has no {missing}",
            id=native_id,
            path=path,
        )
    url = normalize_url(link)
    metadata = {
        "feed_title": feed_title,
        "title": str(entry.get("title") or ""),
        "author": str(entry.get("author") or ""),
        "published": _iso_time(entry.get("published_parsed") or entry.get("updated_parsed")),
    }
    source = _tag_url(
        url, {**options, "default_source": options.get("source", DEFAULT_FEED_SOURCE)}, metadata
    )
    return RawRecord(
        source=source, id=native_id, url=url, content=content, content_type="html", metadata=metadata
    )


def read_feed(path: str, stream: BinaryIO, options: Mapping[str, Any]) -> Iterator[RawRecord | RecordError]:
    """One ``html`` RawRecord per entry of an RSS/Atom file (optionally compressed).

    options: ``source`` (default ``"news"``, used when a link's host is on no list), plus the
    ``classify_url`` / ``deny_domains`` lists. A feed too broken to give any entry yields one RecordError.
    """
    source = str(options.get("source", DEFAULT_FEED_SOURCE))
    try:
        data = open_decompressed(path, stream).read(MAX_FEED_BYTES + 1)
    except DECOMPRESSION_ERRORS as exc:
        yield RecordError(
            source=source, stage="read", kind="truncated", message=f"feed file unreadable: {exc}", path=path
        )
        return
    if len(data) > MAX_FEED_BYTES:
        yield RecordError(
            source=source,
            stage="read",
            kind="too_large",
            message=f"feed over {MAX_FEED_BYTES} bytes",
            path=path,
        )
        return
    # A file object, never a string: feedparser fetches strings that look like URLs.
    parsed = feedparser.parse(io.BytesIO(data))
    if not parsed.entries:
        if parsed.get("bozo"):
            yield RecordError(
                source=source,
                stage="read",
                kind="feed_unparsable",
                message=f"not a parsable RSS/Atom feed: {parsed.get('bozo_exception')}",
                path=path,
            )
        else:
            counter(FEED_NAMESPACE, "skipped:empty_feed").inc()
        return
    feed_title = str(parsed.feed.get("title") or "")
    feed_language = normalize_language_tag(parsed.feed.get("language"))  # RSS <language>, Atom xml:lang
    for index, entry in enumerate(parsed.entries, start=1):
        record = feed_entry_record(entry, feed_title, options, f"entry:{index}", path)
        if feed_language and isinstance(record, RawRecord):
            record.metadata["declared_lang"] = feed_language
        yield record
