"""Tests for sources.feeds_fetch against a real local HTTP server: politeness (robots.txt, User-Agent, per-host
rate), errors counted, the cache reused, and cached articles read back like WARC pages."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from core.schema import RawRecord, RecordError
from sources import get_reader
from sources.feeds_fetch import article_key, cmd_fetch_feeds, fetch_feeds, read_news_cache, sidecar_path
from sources.html import extract_html
from sources.http import HttpClient, RawCache

USER_AGENT = "FinPile feed tests feeds@example.com"


class Site:
    """A local web site: ``routes`` maps a path to (status, content type, body); every request is logged
    with its time and User-Agent."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, str, bytes]] = {}
        self.log: list[tuple[float, str, str]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                site.log.append((time.monotonic(), self.path, self.headers.get("User-Agent", "")))
                status, content_type, body = site.routes.get(self.path, (404, "text/plain", b"not found"))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def paths(self) -> list[str]:
        return [p for _, p, _ in self.log]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def article_html(n: int) -> bytes:
    paragraph = f"Shares of Example Corp rose {n} percent after the company raised its annual guidance. " * 6
    return (
        f"<html><head><meta charset='utf-8'><title>Story {n}</title></head><body><nav>Home | Markets</nav>"
        f"<article><h1>Story {n}</h1><p>{paragraph}</p><p>{paragraph}</p></article></body></html>"
    ).encode()


def rss(base: str, paths: list[str]) -> bytes:
    items = "".join(
        f"<item><title>Story {i}</title><link>{base}{p}?utm_source=rss</link>"
        f"<pubDate>Wed, 03 Jan 2024 14:30:00 GMT</pubDate><author>desk@example.com</author></item>"
        for i, p in enumerate(paths)
    )
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>Example Markets</title>{items}</channel></rss>".encode()


@pytest.fixture
def site():
    site = Site()
    site.routes["/robots.txt"] = (200, "text/plain", b"User-agent: *\nDisallow: /private/\n")
    site.routes["/feed.xml"] = (
        200,
        "application/rss+xml",
        rss(site.base, ["/news/1", "/news/2", "/private/3", "/news/missing"]),
    )
    site.routes["/news/1"] = (200, "text/html; charset=utf-8", article_html(1))
    site.routes["/news/2"] = (200, "text/html", article_html(2))
    site.routes["/private/3"] = (200, "text/html", article_html(3))
    yield site
    site.close()


def client(max_rps: float = 200.0) -> HttpClient:
    return HttpClient(USER_AGENT, max_rps=max_rps, max_retries=0, backoff_base=0.01)


def test_fetch_feeds_politeness_errors_and_cache(site: Site, tmp_path: Path) -> None:
    cache = RawCache(str(tmp_path))
    result = fetch_feeds([site.base + "/feed.xml"], client(), cache, workers=3)
    assert "/private/3" not in site.paths()  # robots.txt honoured
    assert site.paths().count("/robots.txt") == 1  # fetched once per host
    assert {ua for _, _, ua in site.log} == {USER_AGENT}
    assert dict(result.counts) == {
        "feeds": 1,
        "entries": 4,
        "fetched": 2,
        "robots_denied": 1,
        "errors:http_404": 1,
    }
    assert [(url.rsplit("/", 1)[-1], kind) for url, kind, _ in result.errors] == [("missing", "http_404")]
    key = article_key(site.base + "/news/1")
    assert cache.get("news", key) == article_html(1)
    meta = cache.get_meta("news", key)
    assert meta["url"] == site.base + "/news/1"  # normalised: tracking parameter gone
    assert (meta["feed_title"], meta["title"], meta["published"]) == (
        "Example Markets",
        "Story 0",
        "2024-01-03T14:30:00Z",
    )
    assert meta["content_charset"] == "utf-8" and meta["fetched_at"]

    # A second run fetches the feed again but no cached article.
    site.log.clear()
    again = fetch_feeds([site.base + "/feed.xml"], client(), cache)
    assert site.paths() == ["/feed.xml", "/news/missing"]
    assert (again.counts["cached"], again.counts["fetched"]) == (2, 0)
    # refresh=True refetches them.
    site.log.clear()
    fetch_feeds([site.base + "/feed.xml"], client(), cache, refresh=True)
    assert sorted(site.paths()) == ["/feed.xml", "/news/1", "/news/2", "/news/missing"]


def test_per_host_rate_is_respected(site: Site, tmp_path: Path) -> None:
    for i in range(4, 9):
        site.routes[f"/news/{i}"] = (200, "text/html", article_html(i))
    site.routes["/feed.xml"] = (
        200,
        "application/rss+xml",
        rss(site.base, [f"/news/{i}" for i in range(4, 9)]),
    )
    max_rps = 10.0
    fetch_feeds([site.base + "/feed.xml"], client(max_rps), RawCache(str(tmp_path)), workers=4)
    times = sorted(t for t, _, _ in site.log)
    assert len(times) == 7  # robots.txt, the feed, 5 articles
    # 4 threads, one host: still serialised at max_rps. The times are taken where the server sees each request,
    # so one gap can shrink when the machine is loaded (a request delayed in transit arrives close to the next);
    # the span of the 7 requests cannot shrink below 6 intervals without the limiter letting requests through.
    span = times[-1] - times[0]
    assert span >= 6 / max_rps * 0.9, times


def test_feed_errors_are_counted(site: Site, tmp_path: Path) -> None:
    site.routes["/broken.xml"] = (200, "application/rss+xml", b"<html>this is not a feed")
    result = fetch_feeds(
        [site.base + "/broken.xml", site.base + "/gone.xml"], client(), RawCache(str(tmp_path))
    )
    assert result.counts["feeds"] == 2
    assert sorted(kind for _, kind, _ in result.errors) == ["feed_unparsable", "http_404"]


def test_non_html_article_is_skipped(site: Site, tmp_path: Path) -> None:
    site.routes["/news/1"] = (200, "application/pdf", b"%PDF-1.4")
    result = fetch_feeds([site.base + "/feed.xml"], client(), RawCache(str(tmp_path)))
    assert result.counts["skipped:non_html"] == 1 and result.counts["fetched"] == 1


def test_cached_article_reads_like_a_warc_page(site: Site, tmp_path: Path) -> None:
    cache = RawCache(str(tmp_path))
    fetch_feeds([site.base + "/feed.xml"], client(), cache)
    path = cache.path("news", article_key(site.base + "/news/1"))
    assert sidecar_path(path) == cache.meta_path("news", article_key(site.base + "/news/1"))
    reader = get_reader("news_cache")
    assert reader is read_news_cache
    with open(path, "rb") as stream:
        [record] = list(reader(path, stream, {}))
    assert isinstance(record, RawRecord)
    assert (record.source, record.url, record.content_type) == ("news", site.base + "/news/1", "html")
    assert record.content == article_html(1)
    assert record.metadata["content_charset"] == "utf-8" and record.metadata["host"] == "127.0.0.1"
    assert record.metadata["feed_title"] == "Example Markets"
    doc = extract_html(record)
    assert "raised its annual guidance" in doc.text and "Home | Markets" not in doc.text
    assert doc.source == "news"  # its domain is the profile's (Extract), not the extractor's
    with open(path, "rb") as stream:
        [press] = list(reader(path, stream, {"press_domains": "127.0.0.1", "deny_domains": "127.0.0.1"}))
    assert press.source == "press" and press.metadata["drop_reason"] == "url:denied_domain"


def test_cached_article_without_sidecar_or_too_large(tmp_path: Path) -> None:
    path = tmp_path / "news" / "abc.html"
    path.parent.mkdir()
    path.write_bytes(b"<html></html>")
    with path.open("rb") as stream:
        [error] = list(read_news_cache(str(path), stream, {}))
    assert isinstance(error, RecordError) and error.kind == "missing_sidecar"
    cache = RawCache(str(tmp_path))
    stored = cache.put("news", "big.html", b"x" * 100, {"url": "https://www.reuters.com/a"})
    with open(stored, "rb") as stream:
        [error] = list(read_news_cache(stored, stream, {"max_doc_bytes": 50}))
    assert error.kind == "too_large"


def test_cmd_fetch_feeds(site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feeds = tmp_path / "feeds.txt"
    feeds.write_text(f"# markets\n{site.base}/feed.xml\n\n")
    cache_dir = tmp_path / "cache"
    argv = [
        "--feeds",
        str(feeds),
        "--user_agent",
        USER_AGENT,
        "--cache_dir",
        str(cache_dir),
        "--max_rps",
        "50",
    ]
    assert cmd_fetch_feeds(argv) == 0
    out = capsys.readouterr().out
    assert "fetched=2" in out and "errors:http_404=1" in out
    assert len(list((cache_dir / "news").glob("*.html"))) == 2
    [errors_file] = list((cache_dir / "_errors").glob("news_fetch_*.jsonl"))
    assert "http_404" in errors_file.read_text()


def test_cmd_fetch_feeds_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.delenv("FINPILE_USER_AGENT", raising=False)
    assert cmd_fetch_feeds(["--feeds", "http://x/feed", "--cache_dir", str(tmp_path)]) == 2
    assert "no User-Agent" in capsys.readouterr().err
    assert (
        cmd_fetch_feeds(["--feeds", "nofile.txt", "--user_agent", "a b@c", "--cache_dir", str(tmp_path)]) == 2
    )
    assert "neither an existing file nor an http(s) URL" in capsys.readouterr().err
