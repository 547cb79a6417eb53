"""Tests for sources.stocktwits: the offline reader on saved API responses, and the live client against a
real local HTTP server replaying responses written here."""

from __future__ import annotations

import gzip
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from core.schema import RawRecord, RecordError
from sources import get_reader
from sources.http import HttpClient, RawCache
from sources.stocktwits import fetch_symbol_stream, read_stocktwits, stream_url

# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------


def message(mid: int, body: str, username: str = "trader1", sentiment: str | None = "Bullish") -> dict:
    return {
        "id": mid,
        "body": body,
        "created_at": "2024-01-03T14:30:00Z",
        "user": {"id": 7, "username": username, "name": "T One"},
        "symbols": [{"id": 686, "symbol": "AAPL", "title": "Apple Inc."}, {"symbol": "msft"}],
        "entities": {"sentiment": {"basic": sentiment} if sentiment else None},
        "likes": {"total": 3, "user_ids": [1, 2, 3]},
    }


def response(ids: list[int], more: bool = True) -> dict:
    messages = [message(i, f"$AAPL looks strong into earnings, message {i} &amp; more") for i in ids]
    return {
        "response": {"status": 200},
        "symbol": {"id": 686, "symbol": "AAPL", "title": "Apple Inc."},
        "cursor": {"more": more, "since": max(ids) if ids else 0, "max": min(ids) if ids else 0},
        "messages": messages,
    }


def read(data: bytes, path: str = "AAPL.json", **options) -> list[RawRecord | RecordError]:
    return list(read_stocktwits(path, io.BytesIO(data), options))


# ------------------------------------------------------------------------------------------------
# offline reader
# ------------------------------------------------------------------------------------------------


def test_message_becomes_a_social_record() -> None:
    [record] = read(json.dumps(response([501])).encode())
    assert record == RawRecord(
        source="social",
        id="stocktwits:501",
        url="https://stocktwits.com/trader1/message/501",
        content="$AAPL looks strong into earnings, message 501 & more",
        content_type="text",
        fetched_at="2024-01-03T14:30:00Z",
        metadata={
            "platform": "stocktwits",
            "user": "trader1",
            "created": "2024-01-03",
            "created_at": "2024-01-03T14:30:00Z",
            "cashtags": "AAPL,MSFT",
            "sentiment": "Bullish",
            "likes": "3",
        },
    )


def test_no_sentiment_and_cashtag_spam() -> None:
    data = response([1, 2])
    data["messages"][0]["entities"] = {"sentiment": None}
    data["messages"][1]["body"] = "$AAPL $TSLA $NVDA 🚀🚀 https://t.co/x"
    first, second = read(json.dumps(data).encode())
    assert first.metadata["sentiment"] == "" and "drop_reason" not in first.metadata
    assert second.metadata["drop_reason"] == "social:cashtag_spam"


def test_json_lines_of_responses_compressed_with_bad_lines() -> None:
    lines = [
        json.dumps(response([3, 2])),
        "{not json",
        json.dumps({"errors": ["x"]}),
        json.dumps(response([1])),
    ]
    items = read(gzip.compress("\n".join(lines).encode()), path="aapl.jsonl.gz")
    kinds = [r.id if isinstance(r, RawRecord) else f"error:{r.kind}:{r.id}" for r in items]
    assert kinds == [
        "stocktwits:3",
        "stocktwits:2",
        "error:invalid_json:line:2",
        "error:invalid_record:line:3",
        "stocktwits:1",
    ]


def test_malformed_messages_are_errors_and_the_rest_is_read() -> None:
    data = response([1, 2])
    data["messages"].insert(1, {"id": 9})  # no body
    data["messages"].insert(2, "oops")
    items = read(json.dumps(data).encode())
    assert [r.id if isinstance(r, RawRecord) else r.kind for r in items] == [
        "stocktwits:1",
        "missing_field",
        "invalid_record",
        "stocktwits:2",
    ]


def test_whole_file_errors() -> None:
    assert [(e.kind, e.id) for e in read(b"{broken")] == [("invalid_json", "AAPL.json")]
    assert [e.kind for e in read(b"x" * 200, max_doc_bytes=100)] == ["too_large"]
    truncated = gzip.compress(json.dumps(response(list(range(1, 200)))).encode())[:-40]
    assert [e.kind for e in read(truncated, path="AAPL.json.gz")] == ["truncated"]


def test_registered_as_reader_kind() -> None:
    assert get_reader("stocktwits") is read_stocktwits


# ------------------------------------------------------------------------------------------------
# live client against a local server
# ------------------------------------------------------------------------------------------------


class StreamServer:
    """Serves ``/api/2/streams/symbol/AAPL.json`` pages by their ``max`` parameter; records every request."""

    def __init__(self, pages: dict[str | None, tuple[int, bytes]]):
        self.pages = pages
        self.requests: list[tuple[str, dict[str, str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                outer.requests.append((self.path, dict(self.headers)))
                query = parse_qs(urlsplit(self.path).query)
                status, body = outer.pages.get(query.get("max", [None])[0], (404, b"{}"))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/2"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> StreamServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def client() -> HttpClient:
    return HttpClient("FinPile tests test@example.com", max_rps=100, max_retries=0, backoff_base=0.01)


def page_bytes(ids: list[int], more: bool = True) -> tuple[int, bytes]:
    return 200, json.dumps(response(ids, more)).encode()


@pytest.fixture
def pages() -> dict[str | None, tuple[int, bytes]]:
    return {None: page_bytes([30, 29, 28]), "28": page_bytes([27, 26]), "26": page_bytes([25], more=False)}


def test_stream_url() -> None:
    assert stream_url("aapl") == "https://api.stocktwits.com/api/2/streams/symbol/AAPL.json"
    assert stream_url("BRK.B", max_id=5, since=2, api_base="http://h/api/2/").endswith(
        "/streams/symbol/BRK.B.json?since=2&max=5"
    )


def test_fetch_pages_back_with_the_max_cursor_into_the_cache(client, pages, tmp_path: Path) -> None:
    cache = RawCache(str(tmp_path))
    with StreamServer(pages) as server:
        result = fetch_symbol_stream(client, "aapl", cache, max_pages=10, api_base=server.base)
    assert [p for p, _ in server.requests] == [
        "/api/2/streams/symbol/AAPL.json",
        "/api/2/streams/symbol/AAPL.json?max=28",
        "/api/2/streams/symbol/AAPL.json?max=26",
    ]
    assert all(h["User-Agent"] == "FinPile tests test@example.com" for _, h in server.requests)
    assert (result.pages_fetched, result.pages_cached, result.messages, result.error) == (3, 0, 6, None)
    files = sorted((tmp_path / "stocktwits").iterdir())
    assert [f.name for f in files if not f.name.startswith("AAPL_latest_")] == [
        "AAPL_max26.json",
        "AAPL_max28.json",
    ]
    meta = cache.get_meta("stocktwits", "AAPL_max28.json")
    assert meta["url"].endswith("?max=28") and meta["symbol"] == "aapl"
    # The cache is what the offline reader reads.
    ids = []
    for f in files:
        with f.open("rb") as stream:
            ids += [r.id for r in read_stocktwits(str(f), stream, {})]
    assert sorted(ids) == [f"stocktwits:{i}" for i in range(25, 31)]


def test_cached_pages_are_not_refetched(client, pages, tmp_path: Path) -> None:
    cache = RawCache(str(tmp_path))
    with StreamServer(pages) as server:
        fetch_symbol_stream(client, "AAPL", cache, max_pages=10, api_base=server.base)
        server.requests.clear()
        again = fetch_symbol_stream(client, "AAPL", cache, max_pages=10, api_base=server.base)
    assert [p for p, _ in server.requests] == ["/api/2/streams/symbol/AAPL.json"]  # only the newest page
    assert (again.pages_fetched, again.pages_cached, again.messages) == (1, 2, 6)


def test_max_pages_and_since(client, pages, tmp_path: Path) -> None:
    with StreamServer(pages) as server:
        result = fetch_symbol_stream(
            client, "AAPL", RawCache(str(tmp_path)), max_pages=1, since=20, api_base=server.base
        )
    assert [p for p, _ in server.requests] == ["/api/2/streams/symbol/AAPL.json?since=20"]
    assert result.pages_fetched == 1


def test_a_failed_page_ends_the_walk_and_is_reported(client, pages, tmp_path: Path) -> None:
    pages["26"] = (404, b'{"errors": []}')
    with StreamServer(pages) as server:
        result = fetch_symbol_stream(
            client, "AAPL", RawCache(str(tmp_path)), max_pages=10, api_base=server.base
        )
    assert result.pages_fetched == 2 and result.messages == 5
    assert result.error is not None and result.error.kind == "http_404"


def test_a_non_json_page_is_an_error_and_not_cached(client, pages, tmp_path: Path) -> None:
    pages["28"] = (200, b"<html>maintenance</html>")
    cache = RawCache(str(tmp_path))
    with StreamServer(pages) as server:
        result = fetch_symbol_stream(client, "AAPL", cache, max_pages=10, api_base=server.base)
    assert result.error is not None and result.error.kind == "invalid_json"
    assert not cache.has("stocktwits", "AAPL_max28.json")
