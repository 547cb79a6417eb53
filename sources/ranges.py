"""Byte ranges of one big file, so that several workers read it at once (issue 21).

A reader given a ``ByteRange`` reads the records whose first byte lies in ``[start, end)``: it seeks to
``start``, resynchronises at the next record boundary and stops at the first record that starts at or after
``end``. Consecutive ranges therefore read every record exactly once, whatever the cut points, and the
records (and their ids) are those of the whole-file read. Formats that allow it:

- ``gzip_members``: a WARC/WET ``.gz`` made of one gzip member per record (the norm for Common Crawl and
  CC-NEWS); a boundary is a gzip member header that decompresses to ``WARC/``. A ``.warc.gz`` compressed
  as one single gzip stream has no boundaries: ``is_splittable`` says so and it is read whole.
- ``warc``: an uncompressed WARC; a boundary is a ``WARC/1.x`` version line after a blank line whose record
  header parses and whose Content-Length leads to the next record (or the end of the file).
- ``lines``: uncompressed JSON lines (Reddit, tweets, StockTwits streams, C4-like JSONL); a line belongs to
  the range holding its first byte. Line numbers (used in ids and error ids) come from ``lines_before``.
- ``bz2_streams``: a multistream bzip2 file (Wikipedia ``*-multistream.xml.bz2``); a boundary is a bzip2
  stream header (``BZh`` + level + block magic) that decompresses.

Everything else (zstd, a single gzip member, PubMed XML, EDGAR, HTML ...) is read whole.
"""

from __future__ import annotations

import bz2
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

DEFAULT_RANGE_BYTES = 8 << 20  # per range; a file is split when it is over twice this size
SPLIT_FACTOR = 2
PROBE_BYTES = 1 << 20  # compressed bytes read to tell a multi-member gzip / multistream bz2 from a single one
COUNT_CHUNK = 8 << 20

LINE_KINDS = frozenset({"reddit", "tweets", "jsonl", "stocktwits"})
_JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
_COMPRESSED = (".gz", ".bz2", ".zst", ".xz")

BZ2_STREAM_RE = re.compile(rb"BZh[1-9]1AY&SY")
GZIP_MAGIC = b"\x1f\x8b\x08"


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``[start, end)`` of a file; ``lines_before``: newlines before ``start`` (line-numbered formats),
    None when not counted yet (the reader then counts them)."""

    start: int
    end: int
    lines_before: int | None = None

    def __str__(self) -> str:
        return f"bytes {self.start}-{self.end}"


def split_format(kind: str, path: str) -> str | None:
    """How a file of reader ``kind`` can be cut into ranges (see the module docstring), or None."""
    name = path.lower().rsplit("/", 1)[-1]
    if kind == "warc":
        if name.endswith((".warc.gz", ".wet.gz")):
            return "gzip_members"
        if name.endswith((".warc", ".wet")):
            return "warc"
        return None
    if kind == "wikipedia":
        return "bz2_streams" if name.endswith(".xml.bz2") else None
    if kind in LINE_KINDS and not name.endswith(_COMPRESSED) and not name.endswith(".parquet"):
        if kind == "stocktwits" and name.endswith(".json"):
            return None  # one response per file
        if kind == "tweets" and not name.endswith(_JSON_SUFFIXES):
            return None  # CSV: a quoted field may hold a newline
        return "lines"
    return None


def is_splittable(fmt: str, stream: BinaryIO) -> bool:
    """Whether the file's head shows the boundaries ``fmt`` needs: a first gzip member / bz2 stream that ends
    within ``PROBE_BYTES`` and is followed by another (a single-stream file is read whole)."""
    stream.seek(0)
    head = stream.read(PROBE_BYTES)
    if fmt == "gzip_members":
        if not head.startswith(GZIP_MAGIC):
            return False
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            inflate.decompress(head, 1 << 16)
            while not inflate.eof and inflate.unconsumed_tail:
                inflate.decompress(inflate.unconsumed_tail, 1 << 16)
        except zlib.error:
            return False
        return inflate.eof and inflate.unused_data.startswith(GZIP_MAGIC)
    if fmt == "bz2_streams":
        if not BZ2_STREAM_RE.match(head):
            return False
        # Streams must hold whole pages (Wikipedia's multistream dumps: the site info, then 100 pages per
        # stream); pbzip2/lbzip2 also write many streams, but cut anywhere, so a page may span two streams.
        first, rest = _one_stream(head)
        if first is None or BZ2_STREAM_RE.match(rest) is None:
            return False
        second, _ = _one_stream(rest + stream.read(PROBE_BYTES))
        return (
            first.rstrip().endswith((b"</siteinfo>", b"</page>"))
            and second is not None
            and second.lstrip().startswith(b"<page")
        )
    return fmt in ("warc", "lines")


def _one_stream(data: bytes) -> tuple[bytes | None, bytes]:
    """The decompressed first bzip2 stream of ``data`` and the bytes after it (None if it does not end there)."""
    unbz = bz2.BZ2Decompressor()
    try:
        out = unbz.decompress(data)
    except OSError:
        return None, b""
    return (out, unbz.unused_data) if unbz.eof else (None, b"")


def plan_ranges(fmt: str, stream: BinaryIO, size: int, range_bytes: int) -> list[ByteRange]:
    """Consecutive ranges covering ``[0, size)``, about ``range_bytes`` each.

    Line files get newline-aligned cuts and their ``lines_before`` counted in one pass over the file (at
    memory speed), so that line numbers are those of the whole-file read; the other formats resynchronise
    at read time."""
    cuts = list(range(0, size, range_bytes))[1:]
    bounds = [0]
    for cut in cuts:
        if fmt == "lines":  # cut after the line holding byte cut-1
            stream.seek(cut - 1)
            cut = cut - 1 + len(stream.readline())
        if bounds[-1] < cut < size:
            bounds.append(cut)
    bounds.append(size)
    if fmt != "lines":
        return [ByteRange(a, b) for a, b in zip(bounds, bounds[1:], strict=False)]
    ranges, lines = [], 0
    stream.seek(0)
    for a, b in zip(bounds, bounds[1:], strict=False):
        ranges.append(ByteRange(a, b, lines))
        left = b - a
        while left > 0 and (chunk := stream.read(min(COUNT_CHUNK, left))):
            lines += chunk.count(b"\n")
            left -= len(chunk)
    return ranges


def count_newlines(stream: BinaryIO, end: int) -> int:
    """Newlines in the first ``end`` bytes of the file."""
    stream.seek(0)
    left, n = end, 0
    while left > 0 and (chunk := stream.read(min(COUNT_CHUNK, left))):
        n += chunk.count(b"\n")
        left -= len(chunk)
    return n


def line_starts(stream: BinaryIO, byte_range: ByteRange) -> Iterator[tuple[int, bytes]]:
    """``(line number, line)`` of every line whose first byte is in the range (numbers from 1, as in the
    whole-file read), reading on past ``end`` to finish the last one."""
    start, end = byte_range.start, byte_range.end
    lines = byte_range.lines_before
    if start > 0:
        stream.seek(start - 1)
        skipped = stream.readline()  # the line holding byte start-1 belongs to the range before
        at = start - 1 + len(skipped)
        if lines is None:
            lines = count_newlines(stream, at)
            stream.seek(at)
    else:
        stream.seek(0)
        at, lines = 0, 0
    lineno = lines or 0
    while at < end:
        line = stream.readline()
        if not line:
            return
        lineno += 1
        yield lineno, line
        at += len(line)
