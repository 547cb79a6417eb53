"""Social sources: Reddit dump files and tweet datasets.

- ``read_reddit`` reads Pushshift / Arctic-Shift dumps (``RS_*``/``RC_*``: zstd NDJSON, or plain/gzip NDJSON),
  line by line, keeping the finance subreddits of ``DEFAULT_SUBREDDITS`` (``options["subreddits"]``; ``"*"``
  keeps all). A post from a subreddit outside the finance list (``options["finance_subreddits"]``, default
  ``DEFAULT_SUBREDDITS``) gets ``metadata["domain_hint"] = "unknown"``: being on Reddit does not make it
  financial, so ClassifyDomain scores it. Deleted/removed posts and low-score posts are still documents: they are yielded with
  ``metadata["drop_reason"]`` so the pipeline routes them to ``rejected/`` with that reason.
- ``read_tweets`` reads Twitter API v1.1 JSON lines (StockNet layout) or CSV files with a text column.
  Retweets and cashtag-only spam are yielded with a ``drop_reason`` the same way.

Reddit and the v1.1 API escape ``&``, ``<`` and ``>`` as HTML entities in post text; both readers unescape
them, so the corpus holds the text a reader saw.
"""

from __future__ import annotations

import csv
import html
import io
import os
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, BinaryIO

from core.errors import RecordFailure
from core.schema import RawRecord, RecordError
from filters.language import normalize_language_tag
from sources import note_skipped
from sources.files import decode_legacy
from sources.general import (
    DECOMPRESSION_ERRORS,
    DEFAULT_MAX_DOC_BYTES,  # a JSON line longer than this is a "too_large" error, not a document
    counter,
    iso_from_epoch,
    iter_lines,
    open_decompressed,
    parse_json_line,
    split_compression,
    stream_error,
    too_large,
)
from sources.ranges import ByteRange

SOURCE = "social"

# --------------------------------------------------------------------------------------------------
# Reddit
# --------------------------------------------------------------------------------------------------

REDDIT_NAMESPACE = "reddit"  # Beam counter namespace
REDDIT_URL = "https://www.reddit.com"
# Finance and investing communities (compared case-insensitively).
DEFAULT_SUBREDDITS = frozenset(
    s.lower()
    for s in (
        "wallstreetbets",
        "investing",
        "stocks",
        "StockMarket",
        "SecurityAnalysis",
        "ValueInvesting",
        "options",
        "personalfinance",
        "financialindependence",
        "economics",
        "finance",
        "dividends",
        "Bogleheads",
        "CryptoCurrency",
        "BitcoinMarkets",
        "algotrading",
        "FluentInFinance",
        "fatFIRE",
        "leanfire",
        "povertyfinance",
        "RealEstate",
        "realestateinvesting",
        "AskEconomics",
        "Forex",
        "Daytrading",
        "pennystocks",
        "FinancialPlanning",
        "tax",
        "Accounting",
        "CFA",
        "quant",
        "badeconomics",
        "eupersonalfinance",
        "UKPersonalFinance",
        "PersonalFinanceCanada",
        "AusFinance",
        "IndiaInvestments",
        "ETFs",
        "thetagang",
        "SPACs",
        "economy",
    )
)
ALL_SUBREDDITS = "*"
# Bodies Reddit puts in place of text a user deleted or a moderator/admin removed.
DELETED_BODIES = frozenset({"[deleted]", "[removed]", "[deleted by user]", "[ removed by reddit ]"})


def max_doc_bytes(options: Mapping[str, Any]) -> int:
    """The largest record, in bytes of its JSON line, a social reader accepts (``options["max_doc_bytes"]``)."""
    return int(options.get("max_doc_bytes") or DEFAULT_MAX_DOC_BYTES)


def too_large_error(line: bytes, limit: int, lineno: int, path: str) -> RecordError | None:
    """A ``too_large`` RecordError for a line over ``limit`` bytes (checked before parsing it); else None.

    The largest real posts are ~40 KB (Reddit's selftext limit), so a multi-megabyte line is a broken or
    hostile record: holding it as one document would stall every later stage for nothing.
    """
    if len(line) <= limit:
        return None
    return too_large(SOURCE, f"line {lineno}", len(line), limit, f"line:{lineno}", path)


def subreddit_allow_list(options: Mapping[str, Any]) -> frozenset[str] | None:
    """Lower-cased allowed subreddits from ``options["subreddits"]`` (list or comma-separated string);
    None when every subreddit is allowed (``"*"``)."""
    value = options.get("subreddits")
    if value is None:
        return DEFAULT_SUBREDDITS
    names = (
        [s.strip() for s in value.split(",")] if isinstance(value, str) else [str(s).strip() for s in value]
    )
    if ALL_SUBREDDITS in names:
        return None
    return frozenset(n.lower().removeprefix("r/") for n in names if n)


def finance_subreddits(options: Mapping[str, Any]) -> frozenset[str]:
    """Lower-cased subreddits whose posts are financial by source (``options["finance_subreddits"]``)."""
    value = options.get("finance_subreddits")
    if value is None:
        return DEFAULT_SUBREDDITS
    names = value.split(",") if isinstance(value, str) else [str(s) for s in value]
    return frozenset(n.strip().lower().removeprefix("r/") for n in names if n.strip())


def _reddit_text(obj: Mapping[str, Any], is_submission: bool) -> tuple[str, bool]:
    """The post text (title + blank line + selftext, or the comment body) and whether it was deleted."""
    body = str((obj.get("selftext") if is_submission else obj.get("body")) or "")
    body = html.unescape(body).strip()
    deleted = body.lower() in DELETED_BODIES
    if not is_submission:
        return body, deleted
    title = html.unescape(str(obj.get("title") or "")).strip()
    if deleted or not body:
        return title, deleted
    return f"{title}\n\n{body}", deleted


def _reddit_url(obj: Mapping[str, Any], is_submission: bool) -> str:
    """The permalink; built from the ids for early dumps that have none."""
    permalink = obj.get("permalink")
    if permalink:
        return REDDIT_URL + str(permalink)
    post_id = str(obj.get("id") or "")
    link_id = str(obj.get("link_id") or "").removeprefix("t3_")
    if is_submission and post_id:
        return f"{REDDIT_URL}/comments/{post_id}/"
    if link_id and post_id:
        return f"{REDDIT_URL}/comments/{link_id}/_/{post_id}/"
    return ""


def _low_score(obj: Mapping[str, Any], min_score: float | None) -> bool:
    if min_score is None:
        return False
    try:
        return float(obj.get("score") or 0) < float(min_score)
    except (TypeError, ValueError):
        return False


def reddit_record(
    obj: Any,
    allow: frozenset[str] | None,
    min_score: float | None,
    where: str,
    path: str = "",
    finance: frozenset[str] = DEFAULT_SUBREDDITS,
) -> RawRecord | RecordError | None:
    """The RawRecord for one dump object; None if its subreddit is not allowed (counted); RecordError if
    the object is not a submission or comment. A post outside ``finance`` gets ``domain_hint`` ``unknown``."""
    if not isinstance(obj, Mapping) or not ("body" in obj or "title" in obj):
        return RecordError(
            source=SOURCE,
            stage="read",
            kind="invalid_record",
            message="not a Reddit submission or comment (no 'title' or 'body')",
            id=where,
            path=path,
        )
    subreddit = str(obj.get("subreddit") or "")
    if allow is not None and subreddit.lower() not in allow:
        counter(REDDIT_NAMESPACE, "skipped:subreddit").inc()
        note_skipped(SOURCE, "reddit:subreddit")
        return None
    is_submission = "title" in obj
    kind, prefix = ("submission", "t3") if is_submission else ("comment", "t1")
    # Early dumps have no "name": rebuild the fullname so the id is the same in every dump vintage.
    name = str(obj.get("name") or f"{prefix}_{obj.get('id', where)}")
    text, deleted = _reddit_text(obj, is_submission)
    fetched_at = iso_from_epoch(obj.get("created_utc"))
    metadata = {
        "platform": "reddit",
        "subreddit": subreddit,
        "author": str(obj.get("author") or ""),
        "score": str(obj.get("score", "")),
        "created": fetched_at[:10],
        "created_at": fetched_at,
        "kind": kind,
    }
    for key in ("link_id", "parent_id"):
        if obj.get(key):
            metadata[key] = str(obj[key])
    if subreddit.lower() not in finance:
        metadata["domain_hint"] = "unknown"
        counter(REDDIT_NAMESPACE, "domain_hint:unknown").inc()
    if deleted:
        metadata["drop_reason"] = "social:deleted"
    elif _low_score(obj, min_score):
        metadata["drop_reason"] = "social:low_score"
    return RawRecord(
        source=SOURCE,
        id=f"reddit:{name}",
        url=_reddit_url(obj, is_submission),
        content=text,
        content_type="text",
        fetched_at=fetched_at,
        metadata=metadata,
    )


def read_reddit(
    path: str, stream: BinaryIO, options: Mapping[str, Any], byte_range: ByteRange | None = None
) -> Iterator[RawRecord | RecordError]:
    """Submissions and comments of a Reddit dump (``.zst``, ``.gz``, ``.bz2`` or plain NDJSON).

    options: ``subreddits`` (allow-list, default ``DEFAULT_SUBREDDITS``, ``"*"`` for all),
    ``finance_subreddits`` (posts elsewhere are scored by ClassifyDomain; default ``DEFAULT_SUBREDDITS``), ``min_score``
    (default None; lower scores get ``drop_reason`` ``social:low_score``), ``max_doc_bytes`` (default
    ``DEFAULT_MAX_DOC_BYTES``; a longer line is a ``too_large`` error).
    """
    allow = subreddit_allow_list(options)
    finance = finance_subreddits(options)
    min_score = options.get("min_score")
    limit = max_doc_bytes(options)
    for item in iter_lines(path, stream, SOURCE, byte_range):
        if isinstance(item, RecordError):
            yield item
            continue
        lineno, line = item
        if (too_large := too_large_error(line, limit, lineno, path)) is not None:
            yield too_large
            continue
        try:
            obj = parse_json_line(line)
        except ValueError as exc:
            yield RecordError(
                source=SOURCE,
                stage="read",
                kind="invalid_json",
                message=f"line {lineno}: {exc}",
                id=f"line:{lineno}",
                path=path,
            )
            continue
        record = reddit_record(obj, allow, min_score, f"line:{lineno}", path, finance)
        if record is not None:
            yield record


# --------------------------------------------------------------------------------------------------
# Tweets
# --------------------------------------------------------------------------------------------------

TWITTER_URL = "https://twitter.com"
DEFAULT_MIN_WORDS = 3  # fewer words than this besides cashtags, links and mentions: cashtag spam
DEFAULT_TEXT_COLUMN = "text"
DEFAULT_ID_COLUMN = "id"
TWITTER_TIME_FORMAT = "%a %b %d %H:%M:%S %z %Y"  # "Wed Jan 08 14:02:34 +0000 2014"
JSON_SUFFIXES = (".jsonl", ".json", ".ndjson")
CASHTAG_RE = re.compile(r"(?<![\w$])\$[A-Za-z][A-Za-z0-9._]{0,9}\b")
URL_RE = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
MENTION_RE = re.compile(r"(?<!\w)@\w+")
WORD_RE = re.compile(r"\w*[^\W\d_]\w*")  # a token with at least one letter
RETWEET_PREFIX = "RT @"


def is_cashtag_spam(text: str, min_words: int = DEFAULT_MIN_WORDS) -> bool:
    """True when, without cashtags, links and @mentions, the text has fewer than ``min_words`` words."""
    rest = MENTION_RE.sub(" ", URL_RE.sub(" ", CASHTAG_RE.sub(" ", text)))
    return len(WORD_RE.findall(rest)) < min_words


def _cashtags(tweet: Mapping[str, Any], text: str) -> str:
    symbols = (tweet.get("entities") or {}).get("symbols")
    tags = (
        [str(s.get("text", "")) for s in symbols]
        if isinstance(symbols, list)
        else [t[1:] for t in CASHTAG_RE.findall(text)]
    )
    return ",".join(dict.fromkeys(t.upper() for t in tags if t))


def _tweet_text(tweet: Mapping[str, Any]) -> Any:
    extended = tweet.get("extended_tweet")
    if isinstance(extended, Mapping) and extended.get("full_text"):
        return extended["full_text"]
    return tweet.get("full_text") or tweet.get("text")


def _tweet_time(value: Any) -> str:
    """ISO timestamp from the API's ``created_at`` (or an ISO / epoch value from CSV files)."""
    if value in (None, ""):
        return ""
    try:
        return datetime.strptime(str(value), TWITTER_TIME_FORMAT).strftime("%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        pass
    return iso_from_epoch(value) or str(value)


def tweet_record(
    tweet: Any, where: str, options: Mapping[str, Any], path: str = ""
) -> RawRecord | RecordError:
    """The RawRecord for one tweet object (API v1.1 layout, or a CSV row mapped to ``id``/``text``)."""

    def error(kind: str, message: str) -> RecordError:
        return RecordError(source=SOURCE, stage="read", kind=kind, message=message, id=where, path=path)

    if not isinstance(tweet, Mapping):
        return error("invalid_record", f"expected a tweet object, got {type(tweet).__name__}")
    raw_text = _tweet_text(tweet)
    if isinstance(raw_text, list):
        return error("tokenized_text", "tweet text is a token list (preprocessed dataset), not raw text")
    if not isinstance(raw_text, str):
        return error("missing_field", "tweet has no 'text' or 'full_text'")
    text = html.unescape(raw_text).strip()
    tweet_id = str(tweet.get("id_str") or tweet.get("id") or "")
    user = tweet.get("user") if isinstance(tweet.get("user"), Mapping) else {}
    screen_name = str(user.get("screen_name") or tweet.get("screen_name") or "")
    fetched_at = _tweet_time(tweet.get("created_at"))
    metadata = {
        "platform": "twitter",
        "user": screen_name,
        "created": fetched_at[:10],
        "created_at": fetched_at,
        "cashtags": _cashtags(tweet, text),
        "lang": str(tweet.get("lang") or ""),
    }
    if declared := normalize_language_tag(tweet.get("lang")):
        metadata["declared_lang"] = declared  # Twitter's own language call: a prior for language ID
    if tweet.get("retweeted_status") or text.startswith(RETWEET_PREFIX):
        metadata["drop_reason"] = "social:retweet"
    elif is_cashtag_spam(text, int(options.get("min_words", DEFAULT_MIN_WORDS))):
        metadata["drop_reason"] = "social:cashtag_spam"
    url = f"{TWITTER_URL}/{screen_name}/status/{tweet_id}" if screen_name and tweet_id else ""
    return RawRecord(
        source=SOURCE,
        id=f"twitter:{tweet_id or where}",
        url=url,
        content=text,
        content_type="text",
        fetched_at=fetched_at,
        metadata=metadata,
    )


def _tweet_json_items(
    path: str, stream: BinaryIO, options: Mapping[str, Any], byte_range: ByteRange | None = None
) -> Iterator[RawRecord | RecordError]:
    limit = max_doc_bytes(options)
    for item in iter_lines(path, stream, SOURCE, byte_range):
        if isinstance(item, RecordError):
            yield item
            continue
        lineno, line = item
        if (too_large := too_large_error(line, limit, lineno, path)) is not None:
            yield too_large
            continue
        try:
            tweet = parse_json_line(line)
        except ValueError as exc:
            yield RecordError(
                source=SOURCE,
                stage="read",
                kind="invalid_json",
                message=f"line {lineno}: {exc}",
                id=f"line:{lineno}",
                path=path,
            )
            continue
        yield tweet_record(tweet, f"{os.path.basename(path)}:{lineno}", options, path)


TWEETS_NAMESPACE = "tweets"


def _legacy_value(value: str) -> str:
    """A CSV field read with surrogateescape, re-read as cp1252 if it held bytes that are not UTF-8."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    return decode_legacy(value.encode("utf-8", "surrogateescape"))


def _csv_row(
    row: Mapping[str | None, Any], rowno: int, options: Mapping[str, Any], path: str
) -> RawRecord | RecordError:
    where = f"{os.path.basename(path)}:{rowno}"
    if None in row or None in row.values():
        # More or fewer fields than the header: broken quoting, so no column can be trusted to be the text.
        return RecordError(
            source=SOURCE,
            stage="read",
            kind="malformed_row",
            message=f"row {rowno} has more or fewer fields than the header (broken quoting?)",
            id=where,
            path=path,
        )
    if any("\udc80" <= ch <= "\udcff" for value in row.values() for ch in value):
        # a row in Latin-1 / cp1252 in a UTF-8 file: that row is read as cp1252 (counted), not lost
        row = {key: _legacy_value(value) for key, value in row.items()}
        fallback = True
        counter(TWEETS_NAMESPACE, "charset_fallback_rows").inc()
    else:
        fallback = False
    text_column = options.get("text_column", DEFAULT_TEXT_COLUMN)
    tweet = {
        "text": row.get(text_column),
        "id": row.get(options.get("id_column", DEFAULT_ID_COLUMN)) or None,
        "screen_name": row.get("screen_name") or row.get("user"),
        "created_at": row.get("created_at"),
        "lang": row.get("lang"),
    }
    record = tweet_record(tweet, where, options, path)
    if fallback and isinstance(record, RawRecord):
        record.metadata["charset_fallback"] = "cp1252"
    return record


def _tweet_csv_items(
    path: str, stream: BinaryIO, options: Mapping[str, Any]
) -> Iterator[RawRecord | RecordError]:
    # surrogateescape: one bad byte marks one row as invalid_utf8 instead of ending the file.
    text = io.TextIOWrapper(
        open_decompressed(path, stream), encoding="utf-8", errors="surrogateescape", newline=""
    )
    rowno = 0
    try:
        reader = csv.DictReader(text)
        text_column = options.get("text_column", DEFAULT_TEXT_COLUMN)
        if reader.fieldnames is not None and text_column not in reader.fieldnames:
            raise RecordFailure(
                "missing_column",
                f"{path} has no column {text_column!r} (columns: {reader.fieldnames}); "
                "set options['text_column']",
            )
        for rowno, row in enumerate(reader, start=1):
            yield _csv_row(row, rowno, options, path)
    except csv.Error as exc:
        yield RecordError(
            source=SOURCE,
            stage="read",
            kind="invalid_csv",
            message=f"CSV parsing stopped at row {rowno + 1}: {exc}",
            id=f"row:{rowno + 1}",
            path=path,
        )
    except DECOMPRESSION_ERRORS as exc:
        yield stream_error(SOURCE, path, exc, f"row:{rowno + 1}")
    finally:
        if not text.closed:  # the caller may have closed the stream before dropping a half-read generator
            text.detach()  # leave the caller's stream open


def read_tweets(
    path: str, stream: BinaryIO, options: Mapping[str, Any], byte_range: ByteRange | None = None
) -> Iterator[RawRecord | RecordError]:
    """Tweets from JSON lines (``.jsonl``/``.json``/``.ndjson``, API v1.1 objects) or CSV (any other name),
    optionally compressed.

    options: ``text_column`` (CSV, default ``"text"``), ``id_column`` (CSV, default ``"id"``; else the row
    number), ``min_words`` (cashtag-spam threshold, default ``DEFAULT_MIN_WORDS``), ``max_doc_bytes`` (JSON
    lines; default ``DEFAULT_MAX_DOC_BYTES``).
    """
    if split_compression(path)[0].lower().endswith(JSON_SUFFIXES):
        yield from _tweet_json_items(path, stream, options, byte_range)
    else:
        yield from _tweet_csv_items(path, stream, options)
