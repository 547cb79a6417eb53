"""Tests for sources.social: Reddit dumps (plain, gzip, zstd, broken) and tweet files (v1.1 JSON lines, CSV),
inline and over the real files in shared/data/social."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import apache_beam as beam
import pytest
import zstandard
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from core.errors import RecordFailure
from core.schema import RawRecord, RecordError
from sources.social import (
    DEFAULT_SUBREDDITS,
    is_cashtag_spam,
    read_reddit,
    read_tweets,
    subreddit_allow_list,
)

# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------


def comment(i: int, subreddit: str = "investing", body: str | None = None, **extra) -> dict:
    return {
        "id": f"c{i}",
        "name": f"t1_c{i}",
        "subreddit": subreddit,
        "author": f"user{i}",
        "score": i,
        "created_utc": 1706745600 + i,
        "body": body if body is not None else f"Comment number {i} on index funds.",
        "link_id": "t3_abc",
        "parent_id": "t3_abc",
        "permalink": f"/r/{subreddit}/comments/abc/t/c{i}/",
        **extra,
    }


def submission(i: int, subreddit: str = "stocks", selftext: str = "", **extra) -> dict:
    return {
        "id": f"s{i}",
        "name": f"t3_s{i}",
        "subreddit": subreddit,
        "author": "op",
        "score": 10,
        "created_utc": "1409529600",
        "title": f"Title {i}",
        "selftext": selftext,
        "permalink": f"/r/{subreddit}/comments/s{i}/title/",
        **extra,
    }


def ndjson(objects: list) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\n" for o in objects)


def read_r(data: bytes, path: str = "RC_2024-01.ndjson", **options) -> list[RawRecord | RecordError]:
    return list(read_reddit(path, io.BytesIO(data), options))


def read_t(data: bytes, path: str = "tweets.jsonl", **options) -> list[RawRecord | RecordError]:
    return list(read_tweets(path, io.BytesIO(data), options))


def kinds(items: list) -> list[str]:
    return [
        f"error:{i.kind}" if isinstance(i, RecordError) else i.metadata.get("drop_reason", "ok")
        for i in items
    ]


def count_skips(path: Path, options: dict) -> dict[str, int]:
    def read_file(p: str):
        with open(p, "rb") as stream:
            yield from read_reddit(p, stream, options)

    pipeline = beam.Pipeline(runner=FnApiRunner())
    _ = pipeline | beam.Create([str(path)]) | beam.FlatMap(read_file)
    result = pipeline.run()
    result.wait_until_finish()
    counters = result.metrics().query(MetricsFilter().with_namespace("reddit"))["counters"]
    return {c.key.metric.name: c.committed for c in counters}


# ------------------------------------------------------------------------------------------------
# Reddit
# ------------------------------------------------------------------------------------------------


def test_reddit_comment_record() -> None:
    [record] = read_r(ndjson([comment(3)]))
    assert record == RawRecord(
        source="social",
        id="reddit:t1_c3",
        url="https://www.reddit.com/r/investing/comments/abc/t/c3/",
        content="Comment number 3 on index funds.",
        content_type="text",
        fetched_at="2024-02-01T00:00:03Z",
        metadata={
            "platform": "reddit",
            "subreddit": "investing",
            "author": "user3",
            "score": "3",
            "created": "2024-02-01",
            "created_at": "2024-02-01T00:00:03Z",
            "kind": "comment",
            "link_id": "t3_abc",
            "parent_id": "t3_abc",
        },
    )


def test_reddit_submission_text_is_title_and_selftext() -> None:
    self_post, link_post = read_r(ndjson([submission(1, selftext="Is &amp; was &gt; 5%?"), submission(2)]))
    assert self_post.content == "Title 1\n\nIs & was > 5%?"
    assert link_post.content == "Title 2"
    assert (self_post.id, self_post.metadata["kind"], self_post.fetched_at) == (
        "reddit:t3_s1",
        "submission",
        "2014-09-01T00:00:00Z",
    )


def test_reddit_deleted_and_removed_are_yielded_with_drop_reason() -> None:
    objects = [
        comment(1, body="[deleted]"),
        comment(2, body="[removed]"),
        comment(3),
        submission(4, selftext="[removed]"),
        submission(5, selftext="[deleted]"),
    ]
    assert kinds(read_r(ndjson(objects))) == [
        "social:deleted",
        "social:deleted",
        "ok",
        "social:deleted",
        "social:deleted",
    ]


def test_reddit_min_score() -> None:
    objects = [comment(1), comment(5), comment(9, body="[deleted]")]
    assert kinds(read_r(ndjson(objects), min_score=5)) == ["social:low_score", "ok", "social:deleted"]


def test_reddit_subreddit_allow_list() -> None:
    objects = [
        comment(1, "WallStreetBets"),
        comment(2, "pics"),
        comment(3, "personalfinance"),
        comment(4, ""),
    ]
    assert [r.metadata["subreddit"] for r in read_r(ndjson(objects))] == ["WallStreetBets", "personalfinance"]
    assert len(read_r(ndjson(objects), subreddits="*")) == 4
    assert [r.metadata["subreddit"] for r in read_r(ndjson(objects), subreddits=["r/PICS"])] == ["pics"]
    assert [r.metadata["subreddit"] for r in read_r(ndjson(objects), subreddits="pics, personalfinance")] == [
        "pics",
        "personalfinance",
    ]


def test_posts_outside_the_finance_subreddits_are_left_to_the_domain_classifier() -> None:
    objects = [comment(1, "WallStreetBets"), comment(2, "MMA"), comment(3, "woodworking")]
    hints = {
        r.metadata["subreddit"]: r.metadata.get("domain_hint")
        for r in read_r(ndjson(objects), subreddits="*")
    }
    assert hints == {"WallStreetBets": None, "MMA": "unknown", "woodworking": "unknown"}
    # a custom finance list decides which subreddits are financial by source
    custom = read_r(ndjson(objects), subreddits="*", finance_subreddits="woodworking")
    assert [r.metadata.get("domain_hint") for r in custom] == ["unknown", "unknown", None]


def test_real_dump_posts_outside_the_finance_list_are_marked(shared_data: Path) -> None:
    path = shared_data / "social" / "reddit" / "RS_sample.ndjson"
    records = list(read_reddit(str(path), io.BytesIO(path.read_bytes()), {"subreddits": "*"}))
    posts = [r for r in records if isinstance(r, RawRecord)]
    assert posts and all(
        r.metadata.get("domain_hint") == "unknown" for r in posts if r.metadata["subreddit"] == "nba"
    )
    assert any(r.metadata["subreddit"] == "nba" for r in posts)


def test_subreddit_allow_list_parsing() -> None:
    assert subreddit_allow_list({}) is DEFAULT_SUBREDDITS
    assert subreddit_allow_list({"subreddits": "*"}) is None
    assert subreddit_allow_list({"subreddits": ["Stocks", " options "]}) == {"stocks", "options"}


def test_reddit_old_dump_layout_without_name_and_permalink() -> None:
    old = {
        "id": "c0cmuoo",
        "subreddit": "economics",
        "body": "Old comment",
        "created_utc": "1251763202",
        "link_id": "t3_9fyq4",
        "author": "a",
        "score": 1,
    }
    [record] = read_r(ndjson([old]))
    assert (record.id, record.url) == (
        "reddit:t1_c0cmuoo",
        "https://www.reddit.com/comments/9fyq4/_/c0cmuoo/",
    )
    assert record.metadata["created"] == "2009-09-01"


def test_reddit_invalid_lines_are_errors_and_reading_goes_on() -> None:
    data = (
        ndjson([comment(1)])
        + b'{"body": "cut off\n'
        + b"\n"
        + b"[1, 2]\n"
        + b"\xff\xfe{}\n"
        + ndjson([comment(2)])
    )
    items = read_r(data)
    assert kinds(items) == ["ok", "error:invalid_json", "error:invalid_record", "error:invalid_json", "ok"]
    assert [i.id for i in items if isinstance(i, RecordError)] == ["line:2", "line:4", "line:5"]
    assert items[1].path == "RC_2024-01.ndjson" and "line 2" in items[1].message


def test_reddit_zstd_multi_frame_dump() -> None:
    objects = [comment(i) for i in range(300)]
    compressor = zstandard.ZstdCompressor(level=3)
    data = compressor.compress(ndjson(objects[:100])) + compressor.compress(ndjson(objects[100:]))
    items = read_r(data, path="RC_2024-01.zst")
    assert [r.id for r in items] == [f"reddit:t1_c{i}" for i in range(300)]


@pytest.mark.parametrize("suffix", [".zst", ".gz", ".bz2"])
def test_reddit_truncated_dump_yields_what_it_read_then_truncated(suffix: str) -> None:
    import bz2

    objects = [comment(i, body=f"Comment {i} " + "x" * (i % 97)) for i in range(4000)]
    plain = ndjson(objects)
    packed = {
        ".zst": zstandard.ZstdCompressor().compress,
        ".gz": gzip.compress,
        ".bz2": lambda b: bz2.compress(b, compresslevel=1),
    }[suffix](plain)
    items = read_r(packed[: len(packed) * 3 // 4], path=f"RC_2024-01.ndjson{suffix}")
    *records, last = items
    assert isinstance(last, RecordError) and last.kind == "truncated"
    assert last.id == f"line:{len(records) + 1}"
    assert 0 < len(records) < 4000
    assert all(isinstance(r, RawRecord) for r in records)  # no half line parsed as a broken record
    assert [r.id for r in records] == [f"reddit:t1_c{i}" for i in range(len(records))]


def test_reddit_skip_counter_in_beam(tmp_path: Path) -> None:
    path = tmp_path / "RC.ndjson"
    path.write_bytes(ndjson([comment(1, "pics"), comment(2, "stocks"), comment(3, "aww")]))
    assert count_skips(path, {}) == {"skipped:subreddit": 2}


# ------------------------------------------------------------------------------------------------
# Reddit: the real files
# ------------------------------------------------------------------------------------------------


def real_objects(shared_data: Path, name: str) -> list[dict]:
    return [
        json.loads(line)
        for line in (shared_data / "social" / "reddit" / name).read_text().splitlines()
        if line
    ]


@pytest.mark.parametrize(
    ("name", "lines", "deleted", "in_default_list"),
    [("RC_sample.ndjson", 20, 4, 1), ("RC_sample.ndjson.zst", 20, 4, 1), ("RS_sample.ndjson", 24, 0, 0)],
)
def test_reddit_real_files(
    shared_data: Path, name: str, lines: int, deleted: int, in_default_list: int
) -> None:
    objects = real_objects(shared_data, name.removesuffix(".zst"))
    assert len(objects) == lines
    expected_deleted = sum(
        (o.get("body") or o.get("selftext")) in ("[deleted]", "[removed]") for o in objects
    )
    expected_default = sum(o["subreddit"].lower() in DEFAULT_SUBREDDITS for o in objects)
    path = shared_data / "social" / "reddit" / name
    everything = list(read_reddit(str(path), path.open("rb"), {"subreddits": "*"}))
    assert len(everything) == lines and all(isinstance(r, RawRecord) for r in everything)
    assert (
        sum(r.metadata.get("drop_reason") == "social:deleted" for r in everything)
        == expected_deleted
        == deleted
    )
    assert len({r.id for r in everything}) == lines
    assert all(r.content for r in everything)
    assert [r.metadata["subreddit"] for r in everything] == [o["subreddit"] for o in objects]
    assert len(list(read_reddit(str(path), path.open("rb"), {}))) == expected_default == in_default_list


def test_reddit_real_zst_equals_plain(shared_data: Path) -> None:
    folder = shared_data / "social" / "reddit"
    plain = list(
        read_reddit("RC_sample.ndjson", (folder / "RC_sample.ndjson").open("rb"), {"subreddits": "*"})
    )
    packed = list(
        read_reddit("RC_sample.ndjson.zst", (folder / "RC_sample.ndjson.zst").open("rb"), {"subreddits": "*"})
    )
    assert plain == packed


def test_reddit_real_skip_counter(shared_data: Path) -> None:
    assert count_skips(shared_data / "social" / "reddit" / "RC_sample.ndjson.zst", {}) == {
        "skipped:subreddit": 19
    }


# ------------------------------------------------------------------------------------------------
# Tweets
# ------------------------------------------------------------------------------------------------


def tweet(i: int, text: str, **extra) -> dict:
    return {
        "id": 420000000000000000 + i,
        "id_str": str(420000000000000000 + i),
        "text": text,
        "lang": "en",
        "created_at": "Wed Jan 08 14:02:34 +0000 2014",
        "user": {"screen_name": f"trader{i}"},
        "entities": {"symbols": [{"text": "aapl"}, {"text": "MSFT"}, {"text": "AAPL"}]},
        **extra,
    }


def test_tweet_record() -> None:
    [record] = read_t(ndjson([tweet(1, "$AAPL &amp; $MSFT both beat &gt; expectations today, says analyst")]))
    assert record == RawRecord(
        source="social",
        id="twitter:420000000000000001",
        url="https://twitter.com/trader1/status/420000000000000001",
        content="$AAPL & $MSFT both beat > expectations today, says analyst",
        content_type="text",
        fetched_at="2014-01-08T14:02:34Z",
        metadata={
            "platform": "twitter",
            "user": "trader1",
            "created": "2014-01-08",
            "created_at": "2014-01-08T14:02:34Z",
            "cashtags": "AAPL,MSFT",
            "lang": "en",
            "declared_lang": "en",  # Twitter's own language call: a prior for language ID
        },
    )


@pytest.mark.parametrize(("lang", "declared"), [("de", "de"), ("und", None), ("in", "id"), (None, None)])
def test_tweet_lang_becomes_the_declared_language(lang, declared) -> None:
    obj = tweet(1, "Die Aktie steigt heute deutlich nach den Zahlen")
    obj["lang"] = lang
    [record] = read_t(ndjson([obj]))
    assert record.metadata.get("declared_lang") == declared


def test_tweet_full_text_wins() -> None:
    [a, b] = read_t(
        ndjson(
            [
                tweet(1, "short…", full_text="The full text of a long tweet about $SPY"),
                tweet(2, "short…", extended_tweet={"full_text": "Extended text of a streamed tweet"}),
            ]
        )
    )
    assert (a.content, b.content) == (
        "The full text of a long tweet about $SPY",
        "Extended text of a streamed tweet",
    )


def test_tweet_retweets_and_spam_get_drop_reasons() -> None:
    objects = [
        tweet(1, "RT @someone: Apple earnings look strong this quarter"),
        tweet(2, "Apple earnings look strong", retweeted_status={"id": 1}),
        tweet(3, "$AAPL $MSFT $GOOG https://t.co/x @bot"),
        tweet(4, "$AAPL to moon!"),
        tweet(5, "$AAPL up big today"),
    ]
    assert kinds(read_t(ndjson(objects))) == [
        "social:retweet",
        "social:retweet",
        "social:cashtag_spam",
        "social:cashtag_spam",
        "ok",
    ]
    assert kinds(read_t(ndjson(objects[3:]), min_words=2)) == ["ok", "ok"]


@pytest.mark.parametrize(
    ("text", "spam"),
    [
        ("$TSLA $NIO $XPEV", True),
        ("$TSLA short", True),
        ("Buy $TSLA now please", False),
        ("@a @b @c https://x.y/z hello", True),
        ("S&P 500 closes higher", False),
        ("$ES_F $SPY https://t.co/BJ", True),
    ],
)
def test_is_cashtag_spam(text: str, spam: bool) -> None:
    assert is_cashtag_spam(text) is spam


def test_tweet_bad_lines() -> None:
    data = (
        ndjson([tweet(1, "A normal tweet about $AAPL earnings")])
        + b"not json\n"
        + ndjson([{"text": ["tokenized", "$", "aapl"], "user_id_str": "1"}, {"id_str": "5"}, "a string"])
    )
    items = read_t(data)
    assert kinds(items) == [
        "ok",
        "error:invalid_json",
        "error:tokenized_text",
        "error:missing_field",
        "error:invalid_record",
    ]
    assert items[1].id == "line:2" and items[2].id == "tweets.jsonl:3"


def test_tweet_csv_with_custom_columns() -> None:
    data = 'tweet_id,body,label\n1,Fed holds rates steady as expected,2\n2,"Multi-line\ntweet text here",1\n,$TSLA,0\n'
    items = read_t(data.encode(), path="s.csv", text_column="body", id_column="tweet_id")
    assert [(i.id, i.content) for i in items] == [
        ("twitter:1", "Fed holds rates steady as expected"),
        ("twitter:2", "Multi-line\ntweet text here"),
        ("twitter:s.csv:3", "$TSLA"),
    ]
    assert kinds(items) == ["ok", "ok", "social:cashtag_spam"]
    assert items[0].url == ""  # no screen name: no status URL


def test_tweet_csv_missing_text_column_fails_the_file() -> None:
    with pytest.raises(RecordFailure) as caught:
        read_t(b"a,b\n1,2\n", path="s.csv")
    assert caught.value.kind == "missing_column"


def test_tweet_csv_broken_rows_are_errors() -> None:
    data = b"text,label\nGood row about markets today,1\nCaf\xe9 owners \x93cheer\x94 the rate cut,2\ntoo,many,fields\n"
    data += b"lonely\nAnother good row about bonds,0\n"
    items = read_t(data, path="s.csv")
    assert kinds(items) == ["ok", "ok", "error:malformed_row", "error:malformed_row", "ok"]
    # a cp1252 row in a UTF-8 file is read as cp1252 (issue 16), counted in its metadata
    assert items[1].content == "Café owners \u201ccheer\u201d the rate cut"
    assert items[1].metadata["charset_fallback"] == "cp1252"
    assert "charset_fallback" not in items[0].metadata


def test_real_phrasebank_rows_in_latin_1_are_read(shared_data: Path) -> None:
    """Issue 16: 25 PhraseBank rows with Latin-1 bytes were invalid_utf8 errors."""
    path = shared_data / "labeled" / "financial_phrasebank_50agree_subset.csv"
    with path.open("rb") as stream:
        items = list(read_tweets(str(path), stream, {"text_column": "news", "min_words": 0}))
    assert items and not [i for i in items if isinstance(i, RecordError)]
    fallback = [i for i in items if i.metadata.get("charset_fallback")]
    assert fallback and not any("\udc80" <= ch <= "\udcff" for i in fallback for ch in i.content)


def test_tweet_csv_gzip_truncated() -> None:
    rows = "".join(f"Row number {i} about the market {i * 7919 % 1000}\n" for i in range(5000))
    packed = gzip.compress(("text\n" + rows).encode())
    items = read_t(packed[: len(packed) // 2], path="t.csv.gz")
    *records, last = items
    assert last.kind == "truncated" and last.id == f"row:{len(records) + 1}"
    assert [r.content for r in records] == [
        f"Row number {i} about the market {i * 7919 % 1000}" for i in range(len(records))
    ]


# ------------------------------------------------------------------------------------------------
# Tweets: the real files
# ------------------------------------------------------------------------------------------------

RAW_TWEET_FILES = {
    "stocknet_raw_AAPL_2014-01-02.jsonl": (33, 12),
    "stocknet_raw_AAPL_2014-01-03.jsonl": (21, 9),
    "stocknet_raw_GOOG_2014-01-08.jsonl": (9, 2),
    "stocknet_raw_JPM_2014-01-08.jsonl": (10, 2),
    "stocknet_raw_WFC_2014-01-14.jsonl": (16, 4),
    "stocknet_raw_XOM_2014-01-08.jsonl": (2, 1),
}


@pytest.mark.parametrize("name", sorted(RAW_TWEET_FILES))
def test_real_raw_tweets(shared_data: Path, name: str) -> None:
    path = shared_data / "social" / "tweets" / name
    objects = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    retweets = sum("retweeted_status" in o or o["text"].startswith("RT @") for o in objects)
    assert (len(objects), retweets) == RAW_TWEET_FILES[name]
    records = read_t(path.read_bytes(), path=name)
    assert all(isinstance(r, RawRecord) for r in records)
    assert [r.id for r in records] == [f"twitter:{o['id_str']}" for o in objects]
    assert sum(r.metadata.get("drop_reason") == "social:retweet" for r in records) == retweets
    assert all(r.content and r.metadata["created"].startswith("2014-01") for r in records)
    assert all("&amp;" not in r.content and "&gt;" not in r.content for r in records)


def test_real_preprocessed_tweets_are_refused(shared_data: Path) -> None:
    path = shared_data / "social" / "tweets" / "stocknet_preprocessed_AAPL_2014-01-02.jsonl"
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    items = read_t(path.read_bytes(), path=path.name)
    assert len(items) == len(lines) == 33
    assert {i.kind for i in items} == {"tokenized_text"}


def test_real_csv_tweets(shared_data: Path) -> None:
    """The file keeps every 4th *line* out, so a few quoted multi-line tweets lost their closing quote."""
    path = shared_data / "social" / "tweets" / "twitter_financial_news_sentiment_valid_subset.csv"
    with path.open(newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    well_formed = sum(len(r) == len(header) for r in rows)
    malformed = sum(0 < len(r) != len(header) for r in rows)
    items = read_t(path.read_bytes(), path=path.name)
    records = [i for i in items if isinstance(i, RawRecord)]
    errors = [i for i in items if isinstance(i, RecordError)]
    assert (len(records), len(errors)) == (well_formed, malformed) == (1780, 10)
    assert {e.kind for e in errors} == {"malformed_row"}
    assert all(r.content for r in records)
    assert records[0].content == "$ALLY - Ally Financial pulls outlook https://t.co/G9Zdi1boy5"
    assert records[0].metadata["cashtags"] == "ALLY"
