"""read_file: the reader contract the Beam shell relies on (issue 16: nothing a reader meets stops a run)."""

from __future__ import annotations

import gzip
import io
import re
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from core.schema import RawRecord, RecordError, Skipped
from pipeline.run import funnel_from_counts
from pipeline.stages.read import InputFile, ReadSources, read_file
from sources import READERS


def _warc(n: int, without_uri: int | None = None) -> bytes:
    """An uncompressed WARC of n HTML responses; record ``without_uri`` lacks its WARC-Target-URI."""
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=False)
    for i in range(n):
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        body = f"<html><body><p>Page {i} has a paragraph of text.</p></body></html>".encode()
        writer.write_record(
            writer.create_warc_record(
                f"http://example.com/{i}", "response", payload=io.BytesIO(body), http_headers=headers
            )
        )
    data = buf.getvalue()
    if without_uri is not None:
        starts = [m.start() for m in re.finditer(rb"WARC/1\.[01]\r\n", data)] + [len(data)]
        a, b = starts[without_uri], starts[without_uri + 1]
        data = data[:a] + re.sub(rb"WARC-Target-URI: [^\r]*\r\n", b"", data[a:b]) + data[b:]
    return data


def _input(path: Path, kind: str, **options) -> InputFile:
    return InputFile("in", kind, str(path), path.stat().st_size, tuple(sorted(options.items())))


def test_warc_response_without_target_uri_is_one_error_and_the_file_goes_on(tmp_path):
    """Issue 16 item 1: warcio raised AttributeError out of read_file and the run died with a traceback."""
    path = tmp_path / "x.warc"
    path.write_bytes(_warc(3, without_uri=1))
    items = list(read_file(_input(path, "warc")))
    records = [i for i in items if isinstance(i, RawRecord)]
    errors = [i for i in items if isinstance(i, RecordError)]
    assert [r.url for r in records] == ["http://example.com/0", "http://example.com/2"]
    assert [e.kind for e in errors] == ["corrupt_record"]
    assert "AttributeError" in errors[0].message and errors[0].lost_bytes > 0


def test_a_reader_that_raises_anything_becomes_one_error_for_the_file(tmp_path):
    """Whatever escapes a reader (here a ZeroDivisionError from a reader option it cannot use) is one
    counted error naming the file and how far it got, not a crash."""
    path = tmp_path / "tweets.jsonl"
    path.write_text('{"id": 1, "text": "Shares of ACME rose after strong results today"}\n', encoding="utf-8")
    items = list(read_file(_input(path, "tweets", min_words=object())))
    assert len(items) == 1 and isinstance(items[0], RecordError)
    assert items[0].kind == "TypeError" and str(path) in items[0].message
    assert "before any record" in items[0].message


@pytest.mark.parametrize("kind", sorted(READERS))
@pytest.mark.parametrize("name", ["empty.txt", "empty.gz"])
def test_an_empty_file_is_one_empty_file_error_for_every_reader(tmp_path, kind, name):
    path = tmp_path / name
    path.write_bytes(b"")
    items = list(read_file(_input(path, kind)))
    assert [(type(i).__name__, i.kind) for i in items] == [("RecordError", "empty_file")]


def test_records_skipped_on_purpose_are_counted_by_reason(tmp_path):
    path = tmp_path / "RC_2024-01.ndjson"
    lines = [
        '{"id": "a", "subreddit": "stocks", "body": "Bought more index funds today, long term view."}',
        '{"id": "b", "subreddit": "cats", "body": "My cat sleeps all day long on the sofa."}',
        '{"id": "c", "subreddit": "cats", "body": "Another cat picture for you all."}',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = list(read_file(_input(path, "reddit")))
    assert [i.id for i in items if isinstance(i, RawRecord)] == ["reddit:t1_a"]
    assert [i for i in items if isinstance(i, Skipped)] == [
        Skipped(source="social", reason="reddit:subreddit", count=2, path=str(path))
    ]


def test_read_sources_routes_skipped_counts(tmp_path):
    path = tmp_path / "x.warc.gz"
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    writer.write_record(writer.create_warcinfo_record("x.warc.gz", {"software": "test"}))
    path.write_bytes(buf.getvalue() + gzip.compress(_warc(1)))
    files = [_input(path, "warc")]
    with TestPipeline() as p:
        records, errors, skipped = p | ReadSources(files, with_skipped=True)
        assert_that(records | beam.Map(lambda r: r.url), equal_to(["http://example.com/0"]), label="Records")
        assert_that(skipped | beam.Map(lambda s: (s.reason, s.count)), equal_to([("warc:warcinfo", 1)]))


def test_funnel_counts_skipped_and_lost_and_still_balances():
    rows = [
        (("read", "web"), 5),
        (("kept", "web", "general"), 3),
        (("rejected", "web", "extract", "extract:empty_text"), 1),
        (("error", "web", "read", "corrupt_record"), 1),
        (("skipped", "web", "warc:request"), 7),
        (("lost_bytes", "web"), 1234),
    ]
    funnel = funnel_from_counts(rows)
    web = funnel["sources"]["web"]
    assert web["skipped"] == {"warc:request": 7} and web["skipped_total"] == 7 and web["seen"] == 12
    assert web["lost_bytes"] == 1234 and web["balanced"]
    assert funnel["totals"]["skipped_total"] == 7 and funnel["totals"]["lost_bytes"] == 1234
