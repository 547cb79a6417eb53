"""RSS/Atom feeds, live: fetch the feeds, then the articles they link, into the raw cache; read them back.

- ``fetch_feeds(feed_urls, client, cache)`` fetches each feed with the shared ``sources.http.HttpClient``
  (declared User-Agent, per-host rate limit shared by all threads, retries with backoff), parses it with
  feedparser, and fetches every linked article that robots.txt allows (``sources.http.robots_allowed``,
  fetched through the same client) into ``RawCache`` namespace ``news``: the HTML under
  ``<cache>/news/<sha1 of the normalised URL>.html`` and a JSON sidecar (``url``, ``final_url``,
  ``fetched_at``, ``feed_url``, ``feed_title``, ``published``, ``title``, ``author``, ``content_charset``)
  under ``<cache>/_meta/news/<same>.html.json``, the layout EDGAR's cache uses. An article already in the
  cache is not requested again (``refresh=True`` forces it). Each failure is counted by kind and listed,
  never raised: one dead link does not stop a crawl.
- ``read_news_cache(path, stream, options)`` (reader kind ``news_cache``) turns one cached article and its
  sidecar into the same ``html`` RawRecord ``read_warc`` makes of a WARC response (raw body bytes,
  ``content_charset`` from the HTTP header, source from ``classify_url``, ``url:denied_domain`` for denied
  hosts), so fetched articles and crawled pages go through one extraction path.
- ``cmd_fetch_feeds(argv)`` is the ``fetch feeds`` command.

Politeness defaults: 1 request/s per host (``DEFAULT_MAX_RPS``), 4 worker threads (the per-host limiter
serialises requests to one host whatever the thread count; threads only overlap different hosts).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO

import feedparser
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from core.argtypes import non_negative_int, parse_args_or_config_error, positive_float, positive_int
from core.schema import RawRecord, RecordError
from sources.http import FetchError, HttpClient, RawCache, robots_allowed
from sources.web import (
    DEFAULT_FEED_SOURCE,
    HTML_MEDIA_TYPES,
    MAX_HTML_BYTES,
    classify_url,
    is_denied,
    normalize_url,
    url_host,
)

CACHE_NAMESPACE = "news"
DEFAULT_MAX_RPS = 1.0
DEFAULT_WORKERS = 4
USER_AGENT_ENV = "FINPILE_USER_AGENT"
ARTICLE_SUFFIX = ".html"
KEY_HASH_CHARS = 24  # hex digits of sha1(url): no collision in any realistic crawl, short file names

_LOG = logging.getLogger(__name__)


def article_key(url: str) -> str:
    """The cache key of an article: a hash of its normalised URL (URLs are too long and too odd for file names)."""
    return hashlib.sha1(normalize_url(url).encode()).hexdigest()[:KEY_HASH_CHARS] + ARTICLE_SUFFIX


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _media_type_and_charset(content_type: str) -> tuple[str, str]:
    media_type, _, params = content_type.partition(";")
    charset = ""
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'").lower()
    return media_type.strip().lower(), charset


# --------------------------------------------------------------------------------------------------
# Fetch
# --------------------------------------------------------------------------------------------------


@dataclass
class FeedFetch:
    """What ``fetch_feeds`` did. ``counts`` keys: ``feeds``, ``entries``, ``fetched``, ``cached``,
    ``robots_denied``, ``skipped:<reason>``, ``errors:<kind>``; ``errors`` lists ``(url, kind, message)``."""

    counts: Counter[str] = field(default_factory=Counter)
    errors: list[tuple[str, str, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    def error(self, url: str, kind: str, message: str) -> None:
        self.counts[f"errors:{kind}"] += 1
        self.errors.append((url, kind, message))

    @property
    def error_count(self) -> int:
        return sum(n for key, n in self.counts.items() if key.startswith("errors:"))


@dataclass(frozen=True)
class _Article:
    url: str
    meta: Mapping[str, str]


def _feed_articles(feed_url: str, data: bytes, result: FeedFetch) -> list[_Article]:
    parsed = feedparser.parse(
        io.BytesIO(data)
    )  # a file object: feedparser fetches strings that look like URLs
    if not parsed.entries:
        if parsed.get("bozo"):
            result.error(feed_url, "feed_unparsable", f"not a parsable feed: {parsed.get('bozo_exception')}")
        else:
            result.counts["skipped:empty_feed"] += 1
        return []
    feed_title = str(parsed.feed.get("title") or "")
    articles = []
    for entry in parsed.entries:
        result.counts["entries"] += 1
        link = str(entry.get("link") or "").strip()
        if not link.lower().startswith(("http://", "https://")):
            result.counts["skipped:no_link"] += 1
            continue
        published = entry.get("published_parsed") or entry.get("updated_parsed")
        meta = {
            "feed_url": feed_url,
            "feed_title": feed_title,
            "title": str(entry.get("title") or ""),
            "author": str(entry.get("author") or ""),
            "published": time.strftime("%Y-%m-%dT%H:%M:%SZ", published) if published else "",
        }
        articles.append(_Article(normalize_url(link), meta))
    return articles


def _fetch_article(
    article: _Article, client: HttpClient, cache: RawCache, refresh: bool, result: FeedFetch
) -> None:
    key = article_key(article.url)
    if not refresh and cache.has(CACHE_NAMESPACE, key):
        result.counts["cached"] += 1
        return
    if not robots_allowed(article.url, client.user_agent, client):
        result.counts["robots_denied"] += 1
        return
    try:
        response = client.get(article.url, headers={"Accept": "text/html,application/xhtml+xml"})
    except FetchError as exc:
        result.error(article.url, exc.kind, str(exc))
        return
    media_type, charset = _media_type_and_charset(response.headers.get("Content-Type", ""))
    if media_type and media_type not in HTML_MEDIA_TYPES:
        result.counts["skipped:non_html"] += 1
        return
    if len(response.content) > MAX_HTML_BYTES:
        result.error(article.url, "too_large", f"{len(response.content)} bytes, over {MAX_HTML_BYTES}")
        return
    meta = {**article.meta, "url": article.url, "final_url": response.url, "fetched_at": _now()}
    meta["content_charset"] = charset
    result.paths.append(cache.put(CACHE_NAMESPACE, key, response.content, meta))
    result.counts["fetched"] += 1


def fetch_feeds(
    feed_urls: Iterable[str],
    client: HttpClient,
    cache: RawCache,
    *,
    refresh: bool = False,
    max_articles_per_feed: int | None = None,
    workers: int = DEFAULT_WORKERS,
) -> FeedFetch:
    """Fetch every feed, then every article they link (once per normalised URL), into ``cache``.

    Feeds are always fetched (they change); articles only when absent from the cache or with ``refresh``.
    robots.txt is honoured for feeds and articles alike. Returns the counts and the failed URLs.
    """
    result = FeedFetch()
    articles: dict[str, _Article] = {}
    for feed_url in dict.fromkeys(u.strip() for u in feed_urls if u.strip()):
        result.counts["feeds"] += 1
        if not robots_allowed(feed_url, client.user_agent, client):
            result.counts["robots_denied"] += 1
            continue
        try:
            response = client.get(
                feed_url, headers={"Accept": "application/rss+xml, application/atom+xml, */*"}
            )
        except FetchError as exc:
            result.error(feed_url, exc.kind, str(exc))
            continue
        found = _feed_articles(feed_url, response.content, result)
        for article in found[:max_articles_per_feed] if max_articles_per_feed else found:
            articles.setdefault(article.url, article)
    # Counter updates from threads: += on a Counter is not atomic, so each worker gets its own result.
    partials = [FeedFetch() for _ in articles]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(
            pool.map(
                lambda job: _fetch_article(job[0], client, cache, refresh, job[1]),
                zip(articles.values(), partials, strict=True),
            )
        )
    for partial in partials:
        result.counts.update(partial.counts)
        result.errors += partial.errors
        result.paths += partial.paths
    return result


# --------------------------------------------------------------------------------------------------
# Read the cache
# --------------------------------------------------------------------------------------------------


def sidecar_path(path: str) -> str:
    """``<root>/_meta/news/<key>.json`` for the article ``<root>/news/<key>`` (the RawCache layout)."""
    folder, key = path.rstrip("/").rsplit("/", 1)
    root, namespace = folder.rsplit("/", 1) if "/" in folder else ("", folder)
    return FileSystems.join(root or ".", "_meta", namespace, key + ".json")


def _read_sidecar(path: str) -> dict[str, Any]:
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as stream:
        meta = json.loads(stream.read())
    if not isinstance(meta, dict):
        raise ValueError("sidecar is not a JSON object")
    return meta


def read_news_cache(
    path: str, stream: BinaryIO, options: Mapping[str, Any]
) -> Iterator[RawRecord | RecordError]:
    """One ``html`` RawRecord for a cached article (``<cache>/news/*.html``) and its sidecar, shaped like a
    ``read_warc`` record.

    options: ``source`` (default ``"news"``, the source of a host on no list), ``news_domains``,
    ``press_domains``, ``deny_domains`` (see ``sources.web.classify_url``), ``max_doc_bytes`` (default
    ``MAX_HTML_BYTES``). Metadata: ``host``, ``content_charset``, ``feed_title``, ``title``, ``author``,
    ``published``, ``final_url``.
    """
    source = str(options.get("source", DEFAULT_FEED_SOURCE))
    limit = int(options.get("max_doc_bytes") or MAX_HTML_BYTES)

    def error(kind: str, message: str) -> RecordError:
        return RecordError(source=source, stage="read", kind=kind, message=message, id=path, path=path)

    try:
        meta = _read_sidecar(sidecar_path(path))
    except (OSError, ValueError) as exc:
        yield error("missing_sidecar", f"no readable sidecar at {sidecar_path(path)}: {exc}")
        return
    body = stream.read(limit + 1)
    if len(body) > limit:
        yield error("too_large", f"HTML payload over max_doc_bytes={limit}")
        return
    url = str(meta.get("url") or "")
    if not url:
        yield error("missing_field", "sidecar has no 'url'")
        return
    metadata = {
        k: str(meta.get(k) or "") for k in ("feed_title", "title", "author", "published", "final_url")
    }
    metadata["host"] = url_host(url)
    if meta.get("content_charset"):
        metadata["content_charset"] = str(meta["content_charset"])
    if is_denied(url, options):
        metadata["drop_reason"] = "url:denied_domain"
    yield RawRecord(
        source=classify_url(url, {**options, "default_source": source}),
        id=url,
        url=url,
        content=body,
        content_type="html",
        fetched_at=str(meta.get("fetched_at") or ""),
        metadata=metadata,
    )


# --------------------------------------------------------------------------------------------------
# Command
# --------------------------------------------------------------------------------------------------


def _feed_list(value: str) -> list[str]:
    """URLs from a file (one per line, ``#`` comments) or a comma-separated list."""
    if not value.lower().startswith(("http://", "https://")) and FileSystems.exists(value):
        with FileSystems.open(value, compression_type=CompressionTypes.UNCOMPRESSED) as stream:
            lines = stream.read().decode("utf-8").splitlines()
        return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]
    urls = [u.strip() for u in value.split(",") if u.strip()]
    bad = [u for u in urls if not u.lower().startswith(("http://", "https://"))]
    if bad:
        raise ValueError(f"--feeds: {bad[0]!r} is neither an existing file nor an http(s) URL")
    return urls


def _write_errors(cache_dir: str, errors: list[tuple[str, str, str]]) -> str:
    path = FileSystems.join(cache_dir, "_errors", f"news_fetch_{_now().replace(':', '')}.jsonl")
    lines = "".join(json.dumps({"url": u, "kind": k, "message": m}) + "\n" for u, k, m in errors)
    if not cache_dir.startswith("gs://"):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as out:
        out.write(lines.encode())
    return path


def cmd_fetch_feeds(argv: list[str] | None = None) -> int:
    """``fetch feeds``: fetch feeds and their articles into the raw cache; 0 on success, 2 on bad input,
    1 when no feed could be fetched."""
    parser = argparse.ArgumentParser(
        prog="python -m pipeline fetch feeds", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--feeds", required=True, help="a file of feed URLs (one per line) or comma-separated URLs"
    )
    parser.add_argument(
        "--user_agent", default=os.environ.get(USER_AGENT_ENV, ""), help=f"or ${USER_AGENT_ENV}"
    )
    parser.add_argument("--cache_dir", required=True, help="raw cache root (local or gs://)")
    parser.add_argument(
        "--max_rps", type=positive_float, default=DEFAULT_MAX_RPS, help="requests per second per host"
    )
    parser.add_argument("--workers", type=positive_int, default=DEFAULT_WORKERS)
    parser.add_argument("--max_articles_per_feed", type=positive_int, default=None)
    parser.add_argument(
        "--max_retries", type=non_negative_int, default=3, help="retries per request (0 or more)"
    )
    parser.add_argument("--timeout", type=positive_float, default=30.0, help="seconds per request (above 0)")
    parser.add_argument("--refresh", action="store_true", help="refetch articles already in the cache")
    args = parse_args_or_config_error(parser, argv)
    if not args.user_agent.strip():
        print(
            f"error: no User-Agent: pass --user_agent 'Name contact@example.com' or set {USER_AGENT_ENV}",
            file=sys.stderr,
        )
        return 2
    if args.max_rps <= 0:
        print(f"error: --max_rps must be > 0, got {args.max_rps}", file=sys.stderr)
        return 2
    try:
        feeds = _feed_list(args.feeds)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not feeds:
        print(f"error: --feeds {args.feeds!r} lists no feed URL", file=sys.stderr)
        return 2
    client = HttpClient(args.user_agent, args.max_rps, max_retries=args.max_retries, timeout=args.timeout)
    result = fetch_feeds(
        feeds,
        client,
        RawCache(args.cache_dir),
        refresh=args.refresh,
        max_articles_per_feed=args.max_articles_per_feed,
        workers=args.workers,
    )
    summary = ", ".join(f"{k}={v}" for k, v in sorted(result.counts.items()))
    print(f"fetch feeds: {summary}")
    if result.errors:
        print(
            f"fetch feeds: {len(result.errors)} failures listed in {_write_errors(args.cache_dir, result.errors)}"
        )
    feed_failures = sum(1 for url, _, _ in result.errors if url in set(feeds))
    return 1 if feed_failures == len(feeds) else 0
