"""Tests for sources.web: URL helpers, the WARC reader (inline WARCs built with warcio, broken ones, the real
files in shared/data/web/warc) and the RSS/Atom reader."""

from __future__ import annotations

import gzip
import io
import re
import zlib
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from core.schema import RawRecord, RecordError
from sources.web import classify_url, is_denied, normalize_url, read_feed, read_warc

# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------


def html_page(n: int) -> bytes:
    return f"<html><head><title>Page {n}</title></head><body><p>Body of page {n}.</p></body></html>".encode()


def make_warc(specs: list[dict], gzipped: bool = True) -> bytes:
    """A WARC with one record per spec: {type, url, body, content_type, status, headers, warc_headers}."""
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gzipped)
    for spec in specs:
        rec_type = spec.get("type", "response")
        body = spec.get("body", b"")
        http_headers = None
        if rec_type in ("response", "request", "revisit") and spec.get("http", True):
            headers = list(spec.get("headers", []))
            if spec.get("content_type") is not None:
                headers.append(("Content-Type", spec.get("content_type", "text/html; charset=utf-8")))
            status = "GET / HTTP/1.1" if rec_type == "request" else spec.get("status", "200 OK")
            protocol = "" if rec_type == "request" else "HTTP/1.1"
            http_headers = StatusAndHeaders(
                status, headers, protocol=protocol, is_http_request=rec_type == "request"
            )
        record = writer.create_warc_record(
            spec.get("url", "http://example.com/"),
            rec_type,
            payload=io.BytesIO(body),
            http_headers=http_headers,
            warc_content_type=spec.get("warc_content_type", ""),
            warc_headers_dict=spec.get("warc_headers", {}),
        )
        writer.write_record(record)
    return buf.getvalue()


def html_specs(n: int) -> list[dict]:
    return [
        {"url": f"http://example.com/{i}", "body": html_page(i), "content_type": "text/html; charset=utf-8"}
        for i in range(n)
    ]


def split_plain_records(plain: bytes) -> list[bytes]:
    """The records of an uncompressed WARC, each with its trailing CRLFCRLF."""
    starts = [m.start() for m in re.finditer(rb"WARC/1\.[01]\r\n", plain)]
    return [plain[a:b] for a, b in zip(starts, starts[1:] + [len(plain)], strict=True)]


def with_content_length(record: bytes, delta: int) -> bytes:
    match = re.search(rb"Content-Length: (\d+)", record)
    assert match
    return record.replace(match.group(0), b"Content-Length: %d" % (int(match.group(1)) + delta), 1)


def read(path: str, data: bytes, **options) -> list[RawRecord | RecordError]:
    return list(read_warc(path, io.BytesIO(data), options))


def summary(items: list[RawRecord | RecordError]) -> list[str]:
    """The URL's last path segment for a record, the kind for an error."""
    return [f"error:{i.kind}" if isinstance(i, RecordError) else i.url.rsplit("/", 1)[-1] for i in items]


def run_counters(reader, path: str, namespace: str, options: dict | None = None) -> dict[str, int]:
    """Run a reader inside a Beam pipeline and return its counters."""

    def read_file(p: str):
        with open(p, "rb") as stream:
            yield from reader(p, stream, options or {})

    pipeline = beam.Pipeline(runner=FnApiRunner())
    _ = pipeline | beam.Create([path]) | beam.FlatMap(read_file)
    result = pipeline.run()
    result.wait_until_finish()
    counters = result.metrics().query(MetricsFilter().with_namespace(namespace))["counters"]
    return {c.key.metric.name: c.committed for c in counters}


# ------------------------------------------------------------------------------------------------
# URLs
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "HTTPS://WWW.Reuters.COM:443/markets/?utm_source=x&id=5#top",
            "https://www.reuters.com/markets/?id=5",
        ),
        ("http://example.com:80", "http://example.com/"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://ex.com/a?fbclid=1&gclid=2&utm_medium=3", "https://ex.com/a"),
        ("https://ex.com/a?q=hello%20world&UTM_Campaign=z", "https://ex.com/a?q=hello%20world"),
        ("https://ex.com/Path/Case?B=2&a=1", "https://ex.com/Path/Case?B=2&a=1"),
        ("  https://ex.com/x#frag  ", "https://ex.com/x"),
        ("https://user:pw@Ex.com/", "https://user:pw@ex.com/"),
        ("not a url", "not a url"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    ("url", "options", "expected"),
    [
        ("https://www.reuters.com/business/x", {}, "news"),
        ("https://finance.yahoo.com/news/x", {}, "news"),
        ("https://yahoo.com/news/x", {}, "web"),
        ("https://uk.finance.yahoo.com/x", {}, "news"),
        ("https://www.prnewswire.com/news-releases/x", {}, "press"),
        ("https://markets.businesswire.com/x", {}, "press"),
        ("https://example.org/", {}, "web"),
        ("https://example.org/", {"default_source": "c4"}, "c4"),
        ("https://notreuters.com/", {}, "web"),
        ("https://example.org/", {"news_domains": ["example.org"]}, "news"),
        ("https://www.reuters.com/", {"news_domains": "ft.com, wsj.com"}, "web"),
        ("https://ir.acme.com/", {"press_domains": ["ir.acme.com"]}, "press"),
    ],
)
def test_classify_url(url: str, options: dict, expected: str) -> None:
    assert classify_url(url, options) == expected


def test_is_denied_matches_host_suffix_only() -> None:
    options = {"deny_domains": ["spam.example"]}
    assert is_denied("https://a.spam.example/x", options)
    assert is_denied("http://spam.example", options)
    assert not is_denied("https://notspam.example/", options)
    assert not is_denied("https://spam.example.org/", options)
    assert not is_denied("https://spam.example/", {})


# ------------------------------------------------------------------------------------------------
# WARC: documents and skipped records
# ------------------------------------------------------------------------------------------------


def test_read_warc_response_becomes_html_record() -> None:
    data = make_warc(
        [
            {
                "url": "https://www.reuters.com/markets/a",
                "body": html_page(1),
                "content_type": "text/html; charset=ISO-8859-1",
            }
        ]
    )
    [record] = read("crawl-00001.warc.gz", data)
    assert isinstance(record, RawRecord)
    assert record.content == html_page(1)
    assert record.content_type == "html"
    assert record.source == "news"
    assert record.url == "https://www.reuters.com/markets/a"
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", record.id)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record.fetched_at)
    assert record.metadata == {
        "warc_file": "crawl-00001.warc.gz",
        "http_status": "200",
        "content_charset": "iso-8859-1",
        "host": "reuters.com",
    }


def test_read_warc_skips_everything_but_html_documents() -> None:
    specs = [
        {
            "type": "warcinfo",
            "url": "",
            "body": b"software: test\r\n",
            "warc_content_type": "application/warc-fields",
        },
        {"type": "request", "url": "http://example.com/0"},
        {"url": "http://example.com/0", "body": html_page(0), "content_type": "text/html"},
        {"type": "revisit", "url": "http://example.com/0", "content_type": "text/html"},
        {
            "type": "metadata",
            "url": "http://example.com/0",
            "body": b"via: x\r\n",
            "warc_content_type": "application/warc-fields",
        },
        {"url": "http://example.com/logo.png", "body": b"\x89PNG\r\n", "content_type": "image/png"},
        {"url": "http://example.com/r.pdf", "body": b"%PDF-1.4", "content_type": "application/pdf"},
        {"url": "http://example.com/app.js", "body": b"var x;", "content_type": "application/javascript"},
        {
            "url": "http://example.com/gone",
            "body": html_page(9),
            "content_type": "text/html",
            "status": "404 Not Found",
        },
        {"url": "http://example.com/moved", "body": b"", "content_type": "text/html", "status": "301 Moved"},
        {"url": "http://example.com/x.xhtml", "body": html_page(2), "content_type": "application/xhtml+xml"},
        {"url": "http://example.com/untyped", "body": b"<!DOCTYPE html><html><body>x</body></html>"},
        {"url": "http://example.com/untyped.bin", "body": b"\x00\x01binary"},
    ]
    items = read("x.warc.gz", make_warc(specs))
    assert summary(items) == ["0", "x.xhtml", "untyped"]


def test_read_warc_counts_skipped_records_in_beam(tmp_path: Path) -> None:
    specs = [
        {"type": "request", "url": "http://example.com/0"},
        {"type": "request", "url": "http://example.com/1"},
        {"url": "http://example.com/0", "body": html_page(0), "content_type": "text/html"},
        {"type": "revisit", "url": "http://example.com/0", "content_type": "text/html"},
        {"url": "http://example.com/logo.png", "body": b"\x89PNG", "content_type": "image/png"},
        {
            "url": "http://example.com/gone",
            "body": b"",
            "content_type": "text/html",
            "status": "404 Not Found",
        },
    ]
    path = tmp_path / "c.warc.gz"
    path.write_bytes(make_warc(specs))
    counters = run_counters(read_warc, str(path), "warc")
    assert counters == {
        "skipped:request": 2,
        "skipped:revisit": 1,
        "skipped:non_html": 1,
        "skipped:http_status": 1,
    }


def test_read_warc_decodes_chunked_and_gzip_bodies() -> None:
    page = html_page(7)
    gzipped = gzip.compress(page)
    chunked = (
        b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (gzipped[:10], gzipped[10:])) + b"0\r\n\r\n"
    )
    specs = [
        {
            "url": "http://example.com/c",
            "body": chunked,
            "content_type": "text/html",
            "headers": [("Transfer-Encoding", "chunked"), ("Content-Encoding", "gzip")],
        }
    ]
    [record] = read("x.warc.gz", make_warc(specs))
    assert record.content == page


def test_read_warc_unsupported_content_encoding_is_an_error() -> None:
    specs = [
        {
            "url": "http://example.com/br",
            "body": b"\x1b\x00binary",
            "content_type": "text/html",
            "headers": [("Content-Encoding", "br")],
        }
    ] + html_specs(1)
    items = read("x.warc.gz", make_warc(specs))
    assert summary(items) == ["error:content_encoding", "0"]


def test_read_warc_wet_conversion_becomes_text_record() -> None:
    text = "Stocks rose on Monday.\nBonds fell."
    specs = [
        {
            "type": "conversion",
            "url": "https://www.cnbc.com/a",
            "body": text.encode(),
            "http": False,
            "warc_content_type": "text/plain",
            "warc_headers": {"WARC-Identified-Content-Language": "eng"},
        }
    ]
    [record] = read("x.warc.wet.gz", make_warc(specs))
    assert (record.content, record.content_type, record.source) == (text, "text", "news")
    assert record.metadata == {"warc_file": "x.warc.wet.gz", "content_language": "eng", "host": "cnbc.com"}


def test_read_warc_denied_domain_gets_drop_reason() -> None:
    specs = [
        {"url": "https://ads.spam.example/p", "body": html_page(1), "content_type": "text/html"}
    ] + html_specs(1)
    items = read("x.warc.gz", make_warc(specs), deny_domains=["spam.example"])
    assert [i.metadata.get("drop_reason") for i in items] == ["url:denied_domain", None]


def test_read_warc_reads_uncompressed_and_whole_file_gzip_warcs() -> None:
    plain = make_warc(html_specs(4), gzipped=False)
    assert summary(read("x.warc", plain)) == ["0", "1", "2", "3"]
    assert summary(read("x.warc.gz", gzip.compress(plain))) == ["0", "1", "2", "3"]


# ------------------------------------------------------------------------------------------------
# WARC: broken input
# ------------------------------------------------------------------------------------------------


def test_read_warc_truncated_gzip_yields_complete_records_then_truncated() -> None:
    data = make_warc(html_specs(5))
    members = [m.start() for m in re.finditer(re.escape(b"\x1f\x8b\x08"), data)]
    assert len(members) == 5
    cut = data[: members[3] + 40]  # inside the 4th record's gzip member
    assert summary(read("x.warc.gz", cut)) == ["0", "1", "2", "error:truncated"]


def test_read_warc_truncated_inside_last_record() -> None:
    data = make_warc(html_specs(3), gzipped=False)
    items = read("x.warc", data[:-30])
    assert summary(items) == ["0", "1", "error:truncated"]
    assert "bytes missing" in items[-1].message


def test_read_warc_truncated_whole_file_gzip() -> None:
    whole = gzip.compress(make_warc(html_specs(40), gzipped=False), compresslevel=1)
    cut = whole[: len(whole) // 2]
    readable = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(cut)
    complete = sum(1 for record in split_plain_records(readable) if record.endswith(b"</html>\r\n\r\n"))
    assert complete > 5
    items = read("x.warc.gz", cut)
    assert summary(items) == [str(i) for i in range(complete)] + ["error:truncated"]


@pytest.mark.parametrize("gzipped", [True, False])
@pytest.mark.parametrize("delta", [-7, +25])
def test_read_warc_wrong_content_length_is_one_error(gzipped: bool, delta: int) -> None:
    records = split_plain_records(make_warc(html_specs(5), gzipped=False))
    records[2] = with_content_length(records[2], delta)
    data = b"".join(gzip.compress(r) for r in records) if gzipped else b"".join(records)
    items = read("x.warc.gz" if gzipped else "x.warc", data)
    errors = [i for i in items if isinstance(i, RecordError)]
    assert errors[0].kind == "bad_content_length"
    assert errors[0].path == ("x.warc.gz" if gzipped else "x.warc")
    # warcio re-synchronises by itself when the length is short or the file gzipped; when the record swallowed
    # the next record's header, the reader goes back to that header: the intact next record is kept (issue 16)
    assert summary(items) == ["0", "1", "error:bad_content_length", "3", "4"]


def test_read_warc_garbage_between_records_keeps_the_next_record() -> None:
    records = split_plain_records(make_warc(html_specs(4), gzipped=False))
    records[2] = b"\x00\xffgarbage that is no WARC header at all\r\n" * 3 + b"junk" + records[2]
    items = read("x.warc", b"".join(records))
    assert summary(items) == ["0", "1", "error:corrupt_record", "2", "3"]
    error = next(i for i in items if isinstance(i, RecordError))
    garbage = len(b"\x00\xffgarbage that is no WARC header at all\r\n" * 3 + b"junk")
    assert garbage <= error.lost_bytes <= garbage + 4  # + the previous record's closing CRLFCRLF
    assert f"({error.lost_bytes} bytes)" in error.message


@pytest.mark.parametrize("gzipped", [True, False])
def test_read_warc_response_without_target_uri_is_one_error(gzipped: bool) -> None:
    """warcio raises AttributeError on a response record without WARC-Target-URI: one error, not a crash."""
    records = split_plain_records(make_warc(html_specs(3), gzipped=False))
    records[1] = re.sub(rb"WARC-Target-URI: [^\r]*\r\n", b"", records[1])
    data = b"".join(gzip.compress(r) for r in records) if gzipped else b"".join(records)
    items = read("x.warc.gz" if gzipped else "x.warc", data)
    assert summary(items) == ["0", "error:corrupt_record", "2"]
    assert "AttributeError" in next(i for i in items if isinstance(i, RecordError)).message


def test_read_warc_broken_gzip_member_is_skipped() -> None:
    members = [gzip.compress(r) for r in split_plain_records(make_warc(html_specs(5), gzipped=False))]
    broken = bytearray(members[1])
    broken[30:60] = bytes(b ^ 0xFF for b in broken[30:60])
    members[1] = bytes(broken)
    items = read("x.warc.gz", b"".join(members))
    assert summary(items) == ["0", "error:corrupt_record", "2", "3", "4"]


class Unseekable(io.RawIOBase):
    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_read_warc_broken_member_in_unseekable_stream_ends_with_truncated() -> None:
    members = [gzip.compress(r) for r in split_plain_records(make_warc(html_specs(4), gzipped=False))]
    members[1] = members[1][: len(members[1]) // 2]
    items = list(read_warc("x.warc.gz", io.BufferedReader(Unseekable(b"".join(members))), {}))
    assert summary(items) == ["0", "error:truncated"]


def test_read_warc_not_a_warc_is_one_error() -> None:
    items = read("x.warc", b"<html><body>not a warc</body></html>\n" * 20)
    assert summary(items) == ["error:not_warc"]


def test_read_warc_empty_file_yields_nothing() -> None:
    assert read("x.warc.gz", b"") == []


# ------------------------------------------------------------------------------------------------
# WARC: the real files
# ------------------------------------------------------------------------------------------------


def count_documents_independently(data: bytes) -> int:
    """HTML 2xx responses plus conversion records, by parsing the decompressed WARC by hand."""
    plain = gzip.decompress(data)
    count, pos = 0, 0
    while (start := plain.find(b"WARC/1.", pos)) >= 0:
        head_end = plain.index(b"\r\n\r\n", start)
        head = plain[start:head_end].decode("latin-1")
        length = int(re.search(r"Content-Length:\s*(\d+)", head, re.I).group(1))
        block = plain[head_end + 4 : head_end + 4 + length]
        rec_type = re.search(r"WARC-Type:\s*(\S+)", head).group(1)
        if rec_type == "conversion":
            count += 1
        elif rec_type == "response":
            http_head = block.split(b"\r\n\r\n", 1)[0].decode("latin-1")
            status = int(http_head.split(" ", 2)[1])
            ctype = re.search(r"^Content-Type:\s*([^;\r\n]+)", http_head, re.I | re.M)
            if 200 <= status < 300 and ctype and ctype.group(1).strip().lower() == "text/html":
                count += 1
        pos = head_end + 4 + length
    return count


WARC_FILES = {
    "example.warc.gz": 1,
    "iana.warc.gz": 16,
    "whirlwind.warc.gz": 1,
    "whirlwind.warc.wet.gz": 1,
    "whirlwind.warc.wat.gz": 0,
}


@pytest.mark.parametrize("name", sorted(WARC_FILES))
def test_read_warc_real_files(shared_data: Path, name: str) -> None:
    path = shared_data / "web" / "warc" / name
    data = path.read_bytes()
    items = read(str(path), data)
    assert all(isinstance(i, RawRecord) for i in items), [i for i in items if isinstance(i, RecordError)]
    assert len(items) == count_documents_independently(data) == WARC_FILES[name]
    for record in items:
        assert record.content and record.url.startswith("http") and record.fetched_at
        assert record.content_type == ("text" if name.endswith(".wet.gz") else "html")


def test_iana_records_match_the_cdxj_index(shared_data: Path) -> None:
    """pywb's CDXJ index lists every capture: the HTML 200 ones are what read_warc must return."""
    cdxj = (shared_data / "web" / "warc" / "iana.cdxj").read_text()
    expected = sorted(
        re.search(r'"url": "([^"]+)"', line).group(1)
        for line in cdxj.splitlines()
        if '"mime": "text/html"' in line and '"status": "200"' in line
    )
    path = shared_data / "web" / "warc" / "iana.warc.gz"
    assert sorted(r.url for r in read(str(path), path.read_bytes())) == expected


def test_iana_skip_counters(shared_data: Path) -> None:
    counters = run_counters(read_warc, str(shared_data / "web" / "warc" / "iana.warc.gz"), "warc")
    assert counters == {
        "skipped:warcinfo": 1,
        "skipped:request": 171,
        "skipped:revisit": 123,
        "skipped:non_html": 28,
        "skipped:http_status": 4,
    }


# ------------------------------------------------------------------------------------------------
# RSS / Atom
# ------------------------------------------------------------------------------------------------

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Markets Wire</title><link>https://example.com/</link><description>d</description>
<item><title>Acme beats estimates</title><link>https://www.prnewswire.com/news-releases/acme-301.html?utm_source=rss</link>
<guid>acme-301</guid><pubDate>Tue, 02 Jan 2024 13:30:00 GMT</pubDate><dc:creator>Acme Corp</dc:creator>
<description>Short summary.</description>
<content:encoded><![CDATA[<p>Acme Corp reported revenue of $5 billion.</p><p>Second paragraph.</p>]]></content:encoded></item>
<item><title>Summary only</title><link>https://blog.example.org/post#comments</link>
<description>&lt;p&gt;Only a summary here.&lt;/p&gt;</description></item>
<item><title>No link</title><description>Text without a link.</description></item>
<item><title>No content</title><link>https://www.reuters.com/x</link></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Fed Notes</title><id>urn:feed</id><updated>2024-03-01T00:00:00Z</updated>
<entry><title>Rates held</title><id>urn:entry:1</id><link href="https://www.ft.com/content/1"/>
<updated>2024-03-01T12:00:00Z</updated><author><name>J. Doe</name></author>
<content type="html">&lt;p&gt;The committee held rates steady.&lt;/p&gt;</content></entry>
<entry><title>Plain</title><id>urn:entry:2</id><link href="https://example.net/2"/>
<updated>2024-03-02T00:00:00Z</updated><content type="text">Line one.

Line two &amp; more.</content></entry>
</feed>"""


def test_read_feed_rss_entries() -> None:
    items = list(read_feed("wire.rss", io.BytesIO(RSS), {}))
    first, second, no_link, no_content = items
    assert first.content == "<p>Acme Corp reported revenue of $5 billion.</p><p>Second paragraph.</p>"
    assert (first.id, first.source, first.content_type) == ("acme-301", "press", "html")
    assert first.url == "https://www.prnewswire.com/news-releases/acme-301.html"
    assert first.metadata == {
        "feed_title": "Markets Wire",
        "title": "Acme beats estimates",
        "author": "Acme Corp",
        "published": "2024-01-02T13:30:00Z",
        "host": "prnewswire.com",
    }
    assert (second.content, second.url, second.source) == (
        "<p>Only a summary here.</p>",
        "https://blog.example.org/post",
        "news",
    )
    assert second.id == "https://blog.example.org/post#comments"
    assert (no_link.kind, no_link.message) == ("feed_entry_empty", "feed entry has no link")
    assert (no_content.kind, no_content.id) == ("feed_entry_empty", "https://www.reuters.com/x")


def test_read_feed_language_becomes_the_declared_language() -> None:
    with_language = RSS.replace(
        b"<description>d</description>", b"<description>d</description><language>de-DE</language>"
    )
    first = next(iter(read_feed("wire.rss", io.BytesIO(with_language), {})))
    assert first.metadata["declared_lang"] == "de"
    assert "declared_lang" not in next(iter(read_feed("wire.rss", io.BytesIO(RSS), {}))).metadata


def test_read_feed_atom_entries_and_source_option() -> None:
    items = list(read_feed("fed.atom", io.BytesIO(ATOM), {"source": "press"}))
    html_entry, text_entry = items
    assert html_entry.content == "<p>The committee held rates steady.</p>"
    assert (html_entry.source, html_entry.metadata["author"], html_entry.metadata["published"]) == (
        "news",
        "J. Doe",
        "2024-03-01T12:00:00Z",
    )
    assert text_entry.source == "press"  # unknown host: the option decides
    assert text_entry.content == "<p>Line one.</p><p>Line two &amp; more.</p>"


def test_read_feed_gzip_and_truncated_gzip() -> None:
    packed = gzip.compress(RSS)
    assert len(list(read_feed("wire.rss.gz", io.BytesIO(packed), {}))) == 4
    [error] = list(read_feed("wire.rss.gz", io.BytesIO(packed[:-20]), {}))
    assert error.kind == "truncated"


def test_read_feed_unparsable_is_one_error() -> None:
    [error] = list(read_feed("bad.rss", io.BytesIO(b"\x00\x01 this is <not <a feed"), {}))
    assert (error.kind, error.path) == ("feed_unparsable", "bad.rss")


def test_read_feed_denied_domain() -> None:
    items = list(read_feed("wire.rss", io.BytesIO(RSS), {"deny_domains": ["prnewswire.com"]}))
    assert items[0].metadata["drop_reason"] == "url:denied_domain"
    assert "drop_reason" not in items[1].metadata
