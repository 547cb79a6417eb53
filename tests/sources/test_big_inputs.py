"""Bad inputs the readers must survive: a 50 MB single document in each line-, record- or page-oriented
format, and the two bad-input cases the per-reader test files do not cover (an HTML page in an unknown
charset, undecodable or detectable). Big inputs are generated in ``tmp_path``, never committed.

The other bad inputs of issue 4 are tested beside their readers:
- truncated gzip: test_web ``test_read_warc_truncated_gzip_yields_complete_records_then_truncated``,
  ``test_read_warc_truncated_whole_file_gzip``, ``test_read_feed_gzip_and_truncated_gzip``; test_social
  ``test_reddit_truncated_dump_yields_what_it_read_then_truncated[.gz]``, ``test_tweet_csv_gzip_truncated``;
  test_general ``test_read_jsonl_truncated[.gz]``
- truncated zst: test_social ``test_reddit_truncated_dump_yields_what_it_read_then_truncated[.zst]``;
  test_general ``test_read_jsonl_truncated[.zst]``
- truncated bz2: test_social ``...truncated...[.bz2]``; test_general ``test_read_wikipedia_truncated_bz2``
- WARC record with a wrong Content-Length: test_web ``test_read_warc_wrong_content_length_is_one_error``
- invalid JSON lines: test_social ``test_reddit_invalid_lines_are_errors_and_reading_goes_on``,
  ``test_tweet_bad_lines``; test_general ``test_read_jsonl_bad_lines``
"""

from __future__ import annotations

import gzip
import io
import json
import random
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from core.errors import RecordFailure
from core.schema import RawRecord, RecordError
from pipeline.stages.extract import extract
from sources.general import read_jsonl, read_wikipedia
from sources.html import extract_html
from sources.social import DEFAULT_MAX_DOC_BYTES, read_reddit, read_tweets
from sources.web import MAX_HTML_BYTES, read_warc

BIG = 50 * 1024 * 1024


def summary(items: list) -> list[str]:
    return [f"error:{i.kind}" if isinstance(i, RecordError) else i.id for i in items]


def read_path(reader, path: Path, **options) -> list[RawRecord | RecordError]:
    with path.open("rb") as stream:
        return list(reader(str(path), stream, options))


# ------------------------------------------------------------------------------------------------
# social: one NDJSON line with a 50 MB body
# ------------------------------------------------------------------------------------------------


def reddit_line(i: int, body: str) -> bytes:
    obj = {"id": f"c{i}", "name": f"t1_c{i}", "subreddit": "investing", "body": body, "created_utc": 1}
    return json.dumps(obj).encode() + b"\n"


@pytest.fixture
def big_reddit_dump(tmp_path: Path) -> Path:
    path = tmp_path / "RC_2024-01.ndjson"
    with path.open("wb") as out:
        out.write(reddit_line(1, "Small comment before."))
        out.write(reddit_line(2, "x" * BIG))
        out.write(reddit_line(3, "Small comment after."))
    return path


def test_reddit_50mb_line_is_too_large_and_the_rest_is_read(big_reddit_dump: Path) -> None:
    items = read_path(read_reddit, big_reddit_dump)
    assert summary(items) == ["reddit:t1_c1", "error:too_large", "reddit:t1_c3"]
    error = items[1]
    assert (error.id, error.stage, error.source) == ("line:2", "read", "social")
    assert f"max_doc_bytes={DEFAULT_MAX_DOC_BYTES}" in error.message


def test_reddit_max_doc_bytes_option(big_reddit_dump: Path) -> None:
    items = read_path(read_reddit, big_reddit_dump, max_doc_bytes=BIG + 1000)
    assert summary(items) == ["reddit:t1_c1", "reddit:t1_c2", "reddit:t1_c3"]
    assert len(items[1].content) == BIG
    small = read_path(read_reddit, big_reddit_dump, max_doc_bytes=50)
    assert summary(small) == ["error:too_large"] * 3


def test_tweets_50mb_line_is_too_large(tmp_path: Path) -> None:
    path = tmp_path / "tweets.jsonl.gz"
    lines = [
        {
            "id_str": "1",
            "text": "$AAPL earnings beat expectations again this quarter",
            "user": {"screen_name": "a"},
        },
        {"id_str": "2", "text": "y " * (BIG // 2), "user": {"screen_name": "b"}},
        {"id_str": "3", "text": "Fed minutes out today, rates unchanged", "user": {"screen_name": "c"}},
    ]
    path.write_bytes(gzip.compress(b"".join(json.dumps(t).encode() + b"\n" for t in lines), compresslevel=1))
    items = read_path(read_tweets, path)
    assert summary(items) == ["twitter:1", "error:too_large", "twitter:3"]


# ------------------------------------------------------------------------------------------------
# WARC: one record with a 50 MB HTML payload
# ------------------------------------------------------------------------------------------------


def write_warc(path: Path, bodies: list[bytes], gzipped: bool) -> None:
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=gzipped)
        for i, body in enumerate(bodies):
            headers = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
            )
            record = writer.create_warc_record(
                f"http://example.com/{i}", "response", payload=io.BytesIO(body), http_headers=headers
            )
            writer.write_record(record)


def page(text: str) -> bytes:
    return f"<html><head><title>{text}</title></head><body><p>{text}</p></body></html>".encode()


@pytest.mark.parametrize("gzipped", [True, False])
def test_warc_50mb_payload_is_too_large_and_the_rest_is_read(tmp_path: Path, gzipped: bool) -> None:
    path = tmp_path / ("big.warc.gz" if gzipped else "big.warc")
    huge = b"<html><body><p>" + b"spam " * (BIG // 5) + b"</p></body></html>"
    write_warc(path, [page("before"), huge, page("after")], gzipped)
    items = read_path(read_warc, path)
    assert [i.url.rsplit("/", 1)[-1] if isinstance(i, RawRecord) else f"error:{i.kind}" for i in items] == [
        "0",
        "error:too_large",
        "2",
    ]
    assert f"max_doc_bytes={MAX_HTML_BYTES}" in items[1].message
    assert items[1].id.startswith("urn:uuid:")


def test_warc_max_doc_bytes_option(tmp_path: Path) -> None:
    path = tmp_path / "small.warc.gz"
    write_warc(path, [page("a"), page("b" * 500)], gzipped=True)
    items = read_path(read_warc, path, max_doc_bytes=300)
    assert [type(i).__name__ for i in items] == ["RawRecord", "RecordError"]
    assert items[1].kind == "too_large"


# ------------------------------------------------------------------------------------------------
# general: a 50 MB wikitext page, a 50 MB JSONL line (sources/general.py has no size limit yet)
# ------------------------------------------------------------------------------------------------


def wiki_page(i: int, text: str) -> str:
    return (
        f"<page><title>P{i}</title><ns>0</ns><id>{i}</id><revision><id>{i}</id>"
        f"<timestamp>2024-01-01T00:00:00Z</timestamp><text>{text}</text></revision></page>"
    )


def test_wikipedia_50mb_page_is_too_large_and_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "wiki.xml"
    with path.open("w", encoding="utf-8") as out:
        out.write("<mediawiki>" + wiki_page(1, "Small article.") + wiki_page(2, "word " * (BIG // 5)))
        out.write(wiki_page(3, "Article after the big one.") + "</mediawiki>")
    items = read_path(read_wikipedia, path)
    assert summary(items) == ["wiki:1", "error:too_large", "wiki:3"]


def test_jsonl_50mb_line_is_too_large(tmp_path: Path) -> None:
    path = tmp_path / "c4.jsonl"
    rows = [{"id": "1", "text": "small"}, {"id": "2", "text": "z" * BIG}, {"id": "3", "text": "small"}]
    path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in rows))
    assert summary(read_path(read_jsonl, path)) == ["1", "error:too_large", "3"]


# ------------------------------------------------------------------------------------------------
# HTML in an unknown charset
# ------------------------------------------------------------------------------------------------

UNKNOWN_CHARSET_HEAD = b'<html><head><meta charset="x-klingon-8"><title>t</title></head><body>'


def test_unknown_declared_charset_falls_back_to_detection() -> None:
    text = "Центральный банк сохранил ключевую ставку без изменений. " * 40
    content = UNKNOWN_CHARSET_HEAD + f"<article><p>{text}</p></article></body></html>".encode("cp1251")
    raw = RawRecord(
        source="web",
        id="p1",
        url="http://example.ru/a",
        content=content,
        content_type="html",
        metadata={"content_charset": "x-klingon-8"},
    )
    doc = extract_html(raw)
    assert doc.metadata["charset_source"] == "detected"
    assert "ключевую ставку" in doc.text


def test_unknown_charset_undecodable_page_is_a_charset_error_for_the_errors_output() -> None:
    noise = random.Random(1).randbytes(4000)
    raw = RawRecord(
        source="web",
        id="p2",
        url="http://example.com/b",
        content=UNKNOWN_CHARSET_HEAD + noise,
        content_type="html",
    )
    with pytest.raises(RecordFailure) as caught:
        extract(raw, {"web": "general"})
    assert caught.value.kind == "charset"  # _ExtractFn books it as extract:errors:charset, errors/
