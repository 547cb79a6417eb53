"""StockTwits symbol streams: an offline reader for saved API responses and a live client that saves them.

- ``read_stocktwits(path, stream, options)`` reads saved StockTwits API v2 ``streams/symbol/{SYMBOL}.json``
  responses (``{"symbol": {...}, "cursor": {"more", "since", "max"}, "messages": [...]}``): one response
  per file (what ``fetch_symbol_stream`` writes), or JSON lines of responses; optionally compressed. One
  ``text`` RawRecord per message, source ``social``. Cashtag-only messages (``sources.social.is_cashtag_spam``)
  are yielded with ``drop_reason`` ``social:cashtag_spam``, so the pipeline routes them to ``rejected/``.
- ``fetch_symbol_stream(client, symbol, cache, max_pages, since=None)`` pages back through a symbol's
  stream with the ``max`` cursor (each page holds messages older than the last one's oldest id), through
  the shared ``sources.http.HttpClient`` (User-Agent, rate limit, retries), and stores every response in
  the ``RawCache`` namespace ``stocktwits``. Pages below a ``max`` cursor never change, so a page already in
  the cache is read from there, not refetched; the newest page (no cursor) is stored under the time it was
  fetched. The same message can so appear in two snapshots: corpus-level exact dedup removes the copy.

StockTwits' public API allows 200 unauthenticated requests per hour per IP: pass a client with
``max_rps=0.05`` (the ``DEFAULT_MAX_RPS`` here) unless you have an authenticated quota.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO
from urllib.parse import quote, urlencode

from core.schema import RawRecord, RecordError
from sources.general import (
    DECOMPRESSION_ERRORS,
    iter_lines,
    open_decompressed,
    parse_json_line,
    stream_error,
    too_large,
)
from sources.http import FetchError, HttpClient, RawCache
from sources.ranges import ByteRange
from sources.social import DEFAULT_MIN_WORDS, is_cashtag_spam, max_doc_bytes

SOURCE = "social"
PLATFORM = "stocktwits"
CACHE_NAMESPACE = "stocktwits"
STOCKTWITS_URL = "https://stocktwits.com"
DEFAULT_API_BASE = "https://api.stocktwits.com/api/2"
DEFAULT_MAX_RPS = 200 / 3600  # the public API's unauthenticated quota: 200 requests per hour
WHOLE_FILE_SUFFIXES = (".json",)  # one response per file; any other name is read as JSON lines

_LOG = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------------
# Offline reader
# --------------------------------------------------------------------------------------------------


def _iso(value: Any) -> str:
    """``2024-01-03T14:30:00Z`` from the API's ``created_at`` (already ISO 8601 UTC); ``""`` if absent."""
    return str(value or "").strip()


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def message_record(
    message: Any, where: str, options: Mapping[str, Any], path: str = ""
) -> RawRecord | RecordError:
    """The RawRecord for one message of a stream response, or a RecordError for a malformed one."""

    def error(kind: str, text: str) -> RecordError:
        return RecordError(source=SOURCE, stage="read", kind=kind, message=text, id=where, path=path)

    if not isinstance(message, Mapping):
        return error("invalid_record", f"expected a message object, got {type(message).__name__}")
    message_id = str(message.get("id") or "")
    body = message.get("body")
    if not message_id or not isinstance(body, str):
        return error("missing_field", "message has no 'id' or no string 'body'")
    user = _mapping(message.get("user"))
    username = str(user.get("username") or "")
    symbols = message.get("symbols")
    symbols = symbols if isinstance(symbols, list) else []
    cashtags = ",".join(
        dict.fromkeys(
            str(s.get("symbol", "")).upper() for s in symbols if isinstance(s, Mapping) and s.get("symbol")
        )
    )
    sentiment = _mapping(_mapping(message.get("entities")).get("sentiment"))  # null when the user set none
    likes = _mapping(message.get("likes"))
    text = html.unescape(body).strip()
    created = _iso(message.get("created_at"))
    metadata = {
        "platform": PLATFORM,
        "user": username,
        "created": created[:10],
        "created_at": created,
        "cashtags": cashtags,
        "sentiment": str(sentiment.get("basic") or ""),
        "likes": str(likes.get("total", "")),
    }
    if is_cashtag_spam(text, int(options.get("min_words", DEFAULT_MIN_WORDS))):
        metadata["drop_reason"] = "social:cashtag_spam"
    url = f"{STOCKTWITS_URL}/{quote(username)}/message/{message_id}" if username else ""
    return RawRecord(
        source=SOURCE,
        id=f"stocktwits:{message_id}",
        url=url,
        content=text,
        content_type="text",
        fetched_at=created,
        metadata=metadata,
    )


def _response_records(
    response: Any, where: str, options: Mapping[str, Any], path: str
) -> Iterator[RawRecord | RecordError]:
    messages = response.get("messages") if isinstance(response, Mapping) else None
    if not isinstance(messages, list):
        yield RecordError(
            source=SOURCE,
            stage="read",
            kind="invalid_record",
            message="not a StockTwits stream response (no 'messages' list)",
            id=where,
            path=path,
        )
        return
    for index, message in enumerate(messages, start=1):
        yield message_record(message, f"{where}:message:{index}", options, path)


def _invalid_json(where: str, exc: ValueError, path: str) -> RecordError:
    return RecordError(
        source=SOURCE, stage="read", kind="invalid_json", message=f"{where}: {exc}", id=where, path=path
    )


def read_stocktwits(
    path: str, stream: BinaryIO, options: Mapping[str, Any], byte_range: ByteRange | None = None
) -> Iterator[RawRecord | RecordError]:
    """Messages of saved StockTwits stream responses: a ``.json`` file holds one response, any other name
    (``.jsonl``, ``.ndjson``) one response per line; ``.gz``/``.zst``/``.bz2``/``.xz`` are decompressed.

    options: ``min_words`` (cashtag-spam threshold, default ``sources.social.DEFAULT_MIN_WORDS``),
    ``max_doc_bytes`` (largest response, default ``sources.social.DEFAULT_MAX_DOC_BYTES``). RawRecord
    metadata: ``platform``, ``user``, ``created``, ``cashtags``, ``sentiment`` (``Bullish``/``Bearish``/``""``),
    ``likes``, and ``drop_reason`` for cashtag-only messages.
    """
    limit = max_doc_bytes(options)
    name = path.rsplit("/", 1)[-1]
    bare = name.lower()
    for suffix in (".gz", ".zst", ".bz2", ".xz"):
        bare = bare.removesuffix(suffix)
    if bare.endswith(WHOLE_FILE_SUFFIXES):
        try:
            data = open_decompressed(path, stream).read(limit + 1)
        except DECOMPRESSION_ERRORS as exc:
            yield stream_error(SOURCE, path, exc, "file")
            return
        if len(data) > limit:
            yield RecordError(
                source=SOURCE,
                stage="read",
                kind="too_large",
                message=f"response over max_doc_bytes={limit}",
                id=name,
                path=path,
            )
            return
        try:
            response = parse_json_line(data)
        except ValueError as exc:
            yield _invalid_json(name, exc, path)
            return
        yield from _response_records(response, name, options, path)
        return
    for item in iter_lines(path, stream, SOURCE, byte_range):
        if isinstance(item, RecordError):
            yield item
            continue
        lineno, line = item
        where = f"line:{lineno}"
        if len(line) > limit:
            yield too_large(SOURCE, f"line {lineno}", len(line), limit, where, path)
            continue
        try:
            response = parse_json_line(line)
        except ValueError as exc:
            yield _invalid_json(where, exc, path)
            continue
        yield from _response_records(response, where, options, path)


# --------------------------------------------------------------------------------------------------
# Live client
# --------------------------------------------------------------------------------------------------


@dataclass
class StreamFetch:
    """What one ``fetch_symbol_stream`` call did: pages requested and read from the cache, messages seen,
    the cache paths written or reused, and the error that stopped it, if any."""

    symbol: str
    pages_fetched: int = 0
    pages_cached: int = 0
    messages: int = 0
    paths: list[str] = field(default_factory=list)
    error: FetchError | None = None


def stream_url(
    symbol: str, max_id: int | None = None, since: int | None = None, api_base: str = DEFAULT_API_BASE
) -> str:
    """The API URL of one page of a symbol's stream."""
    params = {k: v for k, v in (("since", since), ("max", max_id)) if v is not None}
    query = f"?{urlencode(params)}" if params else ""
    return f"{api_base.rstrip('/')}/streams/symbol/{quote(symbol.upper(), safe='.')}.json{query}"


def _page_key(symbol: str, max_id: int | None, since: int | None) -> str | None:
    """Cache key of a page that never changes (below a ``max`` cursor); None for the newest page."""
    if max_id is None:
        return None
    return f"{symbol.upper()}_max{max_id}" + (f"_since{since}" if since is not None else "") + ".json"


def _parse_page(data: bytes, url: str) -> Mapping[str, Any]:
    try:
        page = json.loads(data)
    except ValueError as exc:
        raise FetchError("invalid_json", f"GET {url}: response is not JSON: {exc}", url=url) from None
    if not isinstance(page, Mapping) or not isinstance(page.get("messages"), list):
        raise FetchError("invalid_response", f"GET {url}: no 'messages' list in the response", url=url)
    return page


def fetch_symbol_stream(
    client: HttpClient,
    symbol: str,
    cache: RawCache,
    max_pages: int,
    since: int | None = None,
    api_base: str = DEFAULT_API_BASE,
) -> StreamFetch:
    """Fetch up to ``max_pages`` pages of ``symbol``'s stream, newest first, into ``cache`` (namespace
    ``stocktwits``); with ``since``, only messages newer than that id. Stops early when the cursor says
    there is no more. A failed request ends the walk and is returned in ``StreamFetch.error`` (the pages
    before it are kept); the caller counts it.
    """
    result = StreamFetch(symbol=symbol.upper())
    max_id: int | None = None
    for _ in range(max_pages):
        url = stream_url(symbol, max_id, since, api_base)
        key = _page_key(symbol, max_id, since)
        data = cache.get(CACHE_NAMESPACE, key) if key is not None else None
        try:
            if key is not None and data is not None:
                page = _parse_page(data, url)
                result.pages_cached += 1
                result.paths.append(cache.path(CACHE_NAMESPACE, key))
            else:
                response = client.get(url, headers={"Accept": "application/json"})
                data = response.content
                page = _parse_page(data, url)
                fetched_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                key = key or f"{symbol.upper()}_latest_{fetched_at.replace(':', '')}.json"
                result.paths.append(
                    cache.put(
                        CACHE_NAMESPACE, key, data, {"url": url, "fetched_at": fetched_at, "symbol": symbol}
                    )
                )
                result.pages_fetched += 1
        except FetchError as exc:
            _LOG.warning("stocktwits %s: %s", symbol, exc)
            result.error = exc
            break
        result.messages += len(page["messages"])
        cursor: Mapping[str, Any] = page["cursor"] if isinstance(page.get("cursor"), Mapping) else {}
        next_max = cursor.get("max")
        if not cursor.get("more") or not isinstance(next_max, int) or next_max == max_id:
            break
        max_id = next_max
    return result
