"""Reading one big file in byte ranges (issue 21): every record exactly once, in order, with the ids and errors
of the whole-file read, whatever the cut points."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from core.schema import RawRecord, RecordError
from pipeline.stages.read import InputFile, read_file, split_input_files
from sources import get_reader
from sources.ranges import ByteRange, is_splittable, plan_ranges, split_format
from tests.conftest import run_cli

# ------------------------------------------------------------------ helpers


def _summary(item) -> tuple:
    if isinstance(item, RawRecord):
        content = item.content if isinstance(item.content, bytes) else item.content.encode()
        return ("record", item.source, item.id, item.url, hashlib.sha1(content).hexdigest(), item.metadata)
    if isinstance(item, RecordError):
        return ("error", item.kind, item.id, item.message, getattr(item, "lost_bytes", None))
    return ("other", repr(item))


def _read(kind: str, name: str, data: bytes, byte_range: ByteRange | None = None, **options) -> list[tuple]:
    reader = get_reader(kind)
    kw = {} if byte_range is None else {"byte_range": byte_range}
    return [_summary(i) for i in reader(name, io.BytesIO(data), options, **kw)]


def _read_cut(kind: str, name: str, data: bytes, cuts: list[int], **options) -> list[tuple]:
    bounds = [0, *sorted(set(c for c in cuts if 0 < c < len(data))), len(data)]
    out: list[tuple] = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        out += _read(kind, name, data, ByteRange(a, b), **options)
    return out


def _cuts(size: int):
    return st.lists(st.integers(min_value=1, max_value=max(size - 1, 1)), max_size=12)


def _warc(n: int, gzipped: bool, seed: int = 0) -> bytes:
    """n HTML responses of varied sizes (some bigger than a 64 KB read block), each with a request record."""
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gzipped)
    for i in range(n):
        url = f"http://news.example.com/{seed}/{i}"
        writer.write_record(
            writer.create_warc_record(url, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n"))
        )
        words = " ".join(f"word{(i * 7 + j) % 101}" for j in range(20 + (i * 997) % (9000 if i % 5 else 30)))
        body = f"<html><head><title>Page {i}</title></head><body><p>{words}</p></body></html>".encode()
        headers = StatusAndHeaders(
            "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
        )
        writer.write_record(
            writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers)
        )
    return buf.getvalue()


def _member_starts(data: bytes) -> list[int]:
    starts, i = [], 0
    while i < len(data):
        starts.append(i)
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        inflate.decompress(data[i:])
        i = len(data) - len(inflate.unused_data)
    return starts


WARC_GZ = _warc(30, gzipped=True)
WARC_PLAIN = _warc(30, gzipped=False)


# ------------------------------------------------------------------ WARC


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_warc_gz_any_cuts_read_every_record_once_in_order(data):
    cuts = data.draw(_cuts(len(WARC_GZ)))
    whole = _read("warc", "x.warc.gz", WARC_GZ)
    assert len([w for w in whole if w[0] == "record"]) == 30
    assert _read_cut("warc", "x.warc.gz", WARC_GZ, cuts) == whole


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_plain_warc_any_cuts_read_every_record_once_in_order(data):
    cuts = data.draw(_cuts(len(WARC_PLAIN)))
    whole = _read("warc", "x.warc", WARC_PLAIN)
    assert len([w for w in whole if w[0] == "record"]) == 30
    assert _read_cut("warc", "x.warc", WARC_PLAIN, cuts) == whole


@pytest.mark.parametrize("range_bytes", [1, 97, 1000, 4096, 65536])
def test_warc_ranges_smaller_than_a_record(range_bytes):
    """Most ranges hold no record start at all (they read nothing); each record is read by one range."""
    cuts = list(range(range_bytes, len(WARC_GZ), range_bytes))
    assert _read_cut("warc", "x.warc.gz", WARC_GZ, cuts) == _read("warc", "x.warc.gz", WARC_GZ)


@pytest.mark.parametrize(
    "name", ["iana.warc.gz", "whirlwind.warc.gz", "example.warc.gz", "whirlwind.warc.wet.gz"]
)
def test_real_warc_files_read_in_ranges_equal_the_whole_read(shared_data, name):
    data = (shared_data / "web" / "warc" / name).read_bytes()
    whole = _read("warc", name, data)
    assert whole
    for n in (2, 3, 7, 40):
        cuts = [len(data) * k // n for k in range(1, n)]
        assert _read_cut("warc", name, data, cuts) == whole, n
    starts = _member_starts(data)  # cuts right at and right after member starts
    assert _read_cut("warc", name, data, starts) == whole
    assert _read_cut("warc", name, data, [s + 1 for s in starts]) == whole


def test_garbage_between_members_is_reported_once_by_the_range_before_it():
    starts = _member_starts(WARC_GZ)
    k = len(starts) // 2
    bad = WARC_GZ[: starts[k]] + b"GARBAGE" * 500 + WARC_GZ[starts[k + 1] :]  # one record replaced by garbage
    whole = _read("warc", "x.warc.gz", bad)
    errors = [w for w in whole if w[0] == "error"]
    assert [e[1] for e in errors] == ["corrupt_record"] and errors[0][4] == 3500
    assert f"unreadable bytes {starts[k]}-{starts[k] + 3500}" in errors[0][3]
    lost = [w for w in _read("warc", "x.warc.gz", WARC_GZ) if w not in whole]
    assert len(lost) <= 1  # the replaced member (a request record is skipped, a response lost)
    g0, g1 = starts[k], starts[k] + 3500
    for cuts in (
        [g0],
        [g0 + 1],
        [g0 + 1700],
        [g1],
        [g1 - 1],
        [g0 - 5, g0 + 5, g1 - 5, g1 + 5],
        list(range(50, len(bad), 333)),
    ):
        assert _read_cut("warc", "x.warc.gz", bad, cuts) == whole, cuts


def test_single_member_warc_gz_is_not_splittable_and_read_whole(tmp_path):
    single = gzip.compress(WARC_PLAIN)
    assert not is_splittable("gzip_members", io.BytesIO(single))
    assert is_splittable("gzip_members", io.BytesIO(WARC_GZ))
    path = tmp_path / "one.warc.gz"
    path.write_bytes(single)
    files = [InputFile("web", "warc", str(path), len(single))]
    assert split_input_files(files, range_bytes=1000) == files
    multi = tmp_path / "many.warc.gz"
    multi.write_bytes(WARC_GZ)
    split = split_input_files([InputFile("web", "warc", str(multi), len(WARC_GZ))], range_bytes=5000)
    assert len(split) == -(-len(WARC_GZ) // 5000)
    assert [f.byte_range.start for f in split[1:]] == [f.byte_range.end for f in split[:-1]]
    assert split[0].byte_range.start == 0 and split[-1].byte_range.end == len(WARC_GZ)


# ------------------------------------------------------------------ JSON lines


def _reddit_lines(n: int) -> bytes:
    rows = []
    for i in range(n):
        obj = {
            "id": f"c{i}",
            "subreddit": "stocks",
            "body": "x" * (i * 37 % 500) + f" comment {i}",
            "created_utc": 1600000000 + i,
        }
        rows.append(json.dumps(obj))
        if i % 7 == 3:
            rows.append("")  # blank line: skipped but counted in line numbers
        if i % 11 == 5:
            rows.append('{"broken json')
    return ("\n".join(rows) + "\n").encode()


REDDIT = _reddit_lines(80)


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_json_lines_any_cuts_read_every_line_once_with_its_line_number(data):
    cuts = data.draw(_cuts(len(REDDIT)))
    whole = _read("reddit", "RC.ndjson", REDDIT)
    assert any(w[0] == "error" and w[2].startswith("line:") for w in whole)  # line numbers in error ids
    assert _read_cut("reddit", "RC.ndjson", REDDIT, cuts) == whole
    jsonl = _read("jsonl", "c4.jsonl", REDDIT, fields={"text": "body", "id": "nope"})
    assert any(w[0] == "record" and w[2].startswith("c4.jsonl:") for w in jsonl)  # <file>:<line> ids
    assert _read_cut("jsonl", "c4.jsonl", REDDIT, cuts, fields={"text": "body", "id": "nope"}) == jsonl


@pytest.mark.parametrize("range_bytes", [1, 10, 100, 1000, 5000])
def test_planned_line_ranges_are_newline_aligned_and_number_lines_like_the_whole_read(range_bytes):
    ranges = plan_ranges("lines", io.BytesIO(REDDIT), len(REDDIT), range_bytes)
    assert ranges[0].start == 0 and ranges[-1].end == len(REDDIT)
    for a, b in zip(ranges, ranges[1:], strict=False):
        assert a.end == b.start and REDDIT[b.start - 1 : b.start] == b"\n"
        assert b.lines_before == REDDIT[: b.start].count(b"\n")
    out = []
    for r in ranges:
        out += _read("reddit", "RC.ndjson", REDDIT, r)
    assert out == _read("reddit", "RC.ndjson", REDDIT)


@pytest.mark.parametrize(
    "kind, rel",
    [
        ("reddit", "social/reddit/RS_sample.ndjson"),
        ("reddit", "social/reddit/RC_sample.ndjson"),
        ("tweets", "social/tweets/stocknet_raw_AAPL_2014-01-02.jsonl"),
        ("tweets", "social/tweets/stocknet_raw_AAPL_2014-01-03.jsonl"),
    ],
)
def test_real_json_lines_files_read_in_ranges_equal_the_whole_read(shared_data, kind, rel):
    data = (shared_data / rel).read_bytes()
    name = Path(rel).name
    options = {"subreddits": "*"} if kind == "reddit" else {}
    whole = _read(kind, name, data, **options)
    assert [w for w in whole if w[0] == "record"]
    for n in (2, 5, 17, 200):
        cuts = [len(data) * k // n for k in range(1, n)]
        assert _read_cut(kind, name, data, cuts, **options) == whole, n


def test_split_format_only_for_formats_read_record_by_record():
    assert split_format("reddit", "RS_2024-01.zst") is None
    assert split_format("reddit", "RS_2024-01.ndjson") == "lines"
    assert split_format("tweets", "tweets.csv") is None  # a quoted CSV field may hold a newline
    assert split_format("stocktwits", "AAPL.json") is None  # one response per file
    assert split_format("jsonl", "x.parquet") is None
    assert split_format("warc", "CC-NEWS-1.warc.gz") == "gzip_members"
    assert split_format("warc", "a.warc") == "warc"
    assert split_format("edgar", "big.txt") is None
    assert split_format("wikipedia", "enwiki-pages-articles-multistream.xml.bz2") == "bz2_streams"
    assert split_format("pubmed", "pubmed24n0001.xml.gz") is None


# ------------------------------------------------------------------ planning and the Beam shell


def test_read_file_errors_name_the_file_and_the_range(tmp_path):
    path = tmp_path / "gone.ndjson"
    path.write_bytes(REDDIT)
    split = split_input_files([InputFile("s", "reddit", str(path), len(REDDIT))], range_bytes=1000)
    assert len(split) > 2
    path.unlink()
    items = list(read_file(split[1]))
    assert [i.kind for i in items] == ["FileNotFoundError"] or [i.kind for i in items][0] in (
        "BeamIOError",
        "OSError",
    )
    r = split[1].byte_range
    assert (
        f"gone.ndjson bytes {r.start}-{r.end} before any record, the rest of the range is lost"
        in items[0].message
    )


def test_zero_range_bytes_and_small_files_stay_whole(tmp_path):
    path = tmp_path / "RC.ndjson"
    path.write_bytes(REDDIT)
    f = InputFile("s", "reddit", str(path), len(REDDIT))
    assert split_input_files([f], range_bytes=0) == [f]
    assert split_input_files([f], range_bytes=(len(REDDIT) + 1) // 2) == [f]  # not over twice the range size
    assert len(split_input_files([f], range_bytes=len(REDDIT) // 3)) >= 3


def _html_pages(shared_data: Path) -> list[tuple[str, bytes]]:
    pages = sorted((shared_data / "web" / "html").glob("*.html"))
    return [(f"https://www.reuters.com/markets/{p.stem}", p.read_bytes()) for p in pages]


def test_run_over_one_big_warc_in_small_ranges_writes_the_same_shards(shared_data, tmp_path):
    """End to end: --range_bytes splits the WARC over ranges (cut inside records); shards are byte-identical."""
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    for url, body in _html_pages(shared_data):
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(
            writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers)
        )
    warc = tmp_path / "big.warc.gz"
    warc.write_bytes(buf.getvalue())
    manifests = []
    for rb in ("0", "150000"):
        proc = run_cli(
            "run", f"--input=warc={warc}", "--workers=1", "--no_stats", f"--range_bytes={rb}",
            f"--output_root={tmp_path}", f"--run_name=rb{rb}",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
        manifests.append(json.loads((tmp_path / f"rb{rb}" / "manifest.json").read_text()))
    a, b = manifests
    assert warc.stat().st_size > 2 * 150000
    assert a["shards"] and [(s["path"], s["sha256"]) for s in a["shards"]] == [
        (s["path"], s["sha256"]) for s in b["shards"]
    ]
    assert a["funnel"] == b["funnel"]


# ------------------------------------------------------------------ bz2 multistream (Wikipedia)

WIKI_HEAD = (
    '<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" xml:lang="de">\n  <siteinfo>\n'
    "    <sitename>Wikipedia</sitename>\n    <base>https://de.wikipedia.org/wiki/Wikipedia:Hauptseite</base>\n"
    "  </siteinfo>\n"
)


def _wiki_page(i: int) -> str:
    ns = "4" if i % 9 == 4 else "0"
    text = (
        "#REDIRECT [[Elsewhere]]"
        if i % 7 == 6
        else f"'''Article {i}''' is about [[finance]]. " * (1 + i % 13)
    )
    return (
        f"  <page>\n    <title>Article {i}</title>\n    <ns>{ns}</ns>\n    <id>{1000 + i}</id>\n    <revision>\n"
        f"      <id>{5000 + i}</id>\n      <timestamp>2024-01-0{1 + i % 9}T00:00:00Z</timestamp>\n"
        f'      <text xml:space="preserve">{text}</text>\n    </revision>\n  </page>\n'
    )


def _multistream(n_pages: int, per_stream: int, cut_anywhere: bool = False) -> bytes:
    """A Wikipedia-style multistream dump: the head in stream 1, ``per_stream`` pages per stream, the end tag
    in the last one (``cut_anywhere``: streams cut every 700 bytes of XML, as pbzip2 would)."""
    pages = [_wiki_page(i) for i in range(n_pages)]
    if cut_anywhere:
        xml = (WIKI_HEAD + "".join(pages) + "</mediawiki>\n").encode()
        return b"".join(bz2.compress(xml[i : i + 700]) for i in range(0, len(xml), 700))
    chunks = (
        [WIKI_HEAD]
        + ["".join(pages[i : i + per_stream]) for i in range(0, n_pages, per_stream)]
        + ["</mediawiki>\n"]
    )
    return b"".join(bz2.compress(c.encode()) for c in chunks)


WIKI = _multistream(40, 3)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_multistream_bz2_any_cuts_read_every_page_once_with_the_site_info(data):
    cuts = data.draw(_cuts(len(WIKI)))
    whole = _read("wikipedia", "dewiki-multistream.xml.bz2", WIKI)
    records = [w for w in whole if w[0] == "record"]
    assert len(records) == len([i for i in range(40) if i % 9 != 4 and i % 7 != 6])  # ns 4, redirects skipped
    assert all(
        r[3].startswith("https://de.wikipedia.org/wiki/") and r[5]["declared_lang"] == "de" for r in records
    )
    assert _read_cut("wikipedia", "dewiki-multistream.xml.bz2", WIKI, cuts) == whole


def test_multistream_bz2_planning_and_streams_cut_mid_page(shared_data):
    assert is_splittable("bz2_streams", io.BytesIO(WIKI))
    assert not is_splittable("bz2_streams", io.BytesIO(bz2.compress(b"x" * 1000)))  # one stream
    assert not is_splittable("bz2_streams", io.BytesIO(_multistream(40, 3, cut_anywhere=True)))  # pbzip2-like
    real = (shared_data / "general").glob("*.xml.bz2")
    for path in real:  # the real test dump is one single stream: read whole
        with open(path, "rb") as f:
            assert not is_splittable("bz2_streams", f)


def test_a_broken_page_in_a_range_is_one_error_named_by_the_range_stream():
    pages = [_wiki_page(i) for i in range(12)]
    pages[7] = pages[7].replace("<title>", "<title><broken", 1)
    chunks = [WIKI_HEAD] + ["".join(pages[i : i + 3]) for i in range(0, 12, 3)] + ["</mediawiki>\n"]
    streams = [bz2.compress(c.encode()) for c in chunks]
    data = b"".join(streams)
    whole = _read("wikipedia", "w.xml.bz2", data)
    third = sum(len(s) for s in streams[:3])  # the stream holding pages 6-8
    split = _read_cut("wikipedia", "w.xml.bz2", data, [third])
    assert [w for w in split if w[0] == "record"] == [w for w in whole if w[0] == "record"]
    assert [(e[1], e[2]) for e in whole if e[0] == "error"] == [("xml_syntax", "page:8")]
    assert [(e[1], e[2]) for e in split if e[0] == "error"] == [("xml_syntax", f"bytes:{third}:page:2")]


def test_real_wikipedia_dump_recompressed_as_multistream_reads_the_same_in_ranges(shared_data):
    """The real dump (one bz2 stream) re-cut the way Wikipedia's multistream dumps are: the head, then 10
    pages per stream."""
    (path,) = (shared_data / "general").glob("enwiki-*.xml.bz2")
    xml = bz2.decompress(path.read_bytes())
    starts: list[int] = []
    pos = xml.find(b"<page>")
    while pos >= 0:
        starts.append(xml.rfind(b"\n", 0, pos) + 1)
        pos = xml.find(b"<page>", pos + 1)
    bounds = [0, *starts[::10], len(xml)]
    data = b"".join(bz2.compress(xml[a:b]) for a, b in zip(bounds, bounds[1:], strict=False) if b > a)
    assert is_splittable("bz2_streams", io.BytesIO(data))
    name = "enwiki-multistream.xml.bz2"
    whole = _read("wikipedia", name, data)
    assert len([w for w in whole if w[0] == "record"]) > 50
    assert whole == _read("wikipedia", path.name, path.read_bytes())  # same records as the original file
    for n in (2, 3, 9, 50):
        assert _read_cut("wikipedia", name, data, [len(data) * k // n for k in range(1, n)]) == whole, n


def test_plain_warc_payload_quoting_a_version_line_is_not_taken_for_a_record_start():
    """A page that shows WARC syntax ("WARC/1.0" on a line of its own) inside a plain WARC: a range starting
    inside that payload must not resynchronise on it."""
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=False)
    for i in range(4):
        body = f"<html><body><pre>\r\n\r\nWARC/1.0\r\nnot a header {i}\r\n\r\n</pre><p>text {i}</p></body></html>"
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(
            writer.create_warc_record(
                f"http://a.example/{i}", "response", payload=io.BytesIO(body.encode()), http_headers=headers
            )
        )
    data = buf.getvalue()
    whole = _read("warc", "q.warc", data)
    assert len(whole) == 4
    quoted = [i for i in range(len(data)) if data.startswith(b"WARC/1.0\r\nnot a header", i)]
    assert len(quoted) == 4
    assert _read_cut("warc", "q.warc", data, [q - 1 for q in quoted]) == whole
    assert _read_cut("warc", "q.warc", data, list(range(40, len(data), 40))) == whole
