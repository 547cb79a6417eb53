"""Tests of the shared HTTP client against a real local HTTP server that replays scripted responses.

``ReplayServer`` (also used by the EDGAR fetch tests) runs ``http.server.ThreadingHTTPServer`` on
127.0.0.1 in a thread, serves a dict of path -> bytes, records every request (path, headers, server-side
time) and plays per-path scripts: a status with headers (429 + Retry-After, 500), a hang past the client's
timeout, a truncated body (Content-Length larger than the data, then the connection closes) or a delay.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from core.errors import RecordFailure
from sources import http
from sources.http import FetchError, HttpClient, RateLimiter, RawCache, parse_retry_after, robots_allowed

UA = "FinPile Tests tests@example.com"

# ---------------------------------------------------------------------------------------------------------
# The replay server


@dataclass
class Seen:
    """One request as the server saw it."""

    path: str
    headers: dict[str, str]
    time: float  # time.monotonic() when the request line was read


@dataclass
class Action:
    """A scripted response: ``status`` (with ``headers``), ``hang`` seconds, ``truncate`` or a ``delay``."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0
    truncate: bool = False
    delay: float = 0.0
    body: bytes | None = None  # served instead of the route's bytes (e.g. a cut gzip stream)
    no_length: bool = False  # no Content-Length: the body ends where the connection closes


class ReplayServer:
    """A local HTTP server replaying ``routes`` (path -> bytes) with per-path scripted failures."""

    def __init__(self, routes: dict[str, bytes] | None = None):
        self.routes: dict[str, bytes] = dict(routes or {})
        self.scripts: dict[str, deque[Action]] = defaultdict(deque)
        self.always: dict[str, Action] = {}  # path -> action played on every request (e.g. a delay)
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def script(self, path: str, *actions: Action) -> None:
        self.scripts[path].extend(actions)

    def requests_to(self, path: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.path == path]

    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(s.path for s in self.seen)

    def times(self) -> list[float]:
        with self._lock:
            return sorted(s.time for s in self.seen)

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_action(self, path: str) -> Action | None:
        with self._lock:
            queue = self.scripts.get(path)
            if queue:
                return queue.popleft()
            return self.always.get(path)

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                now = time.monotonic()
                path = self.path.split("?", 1)[0]
                with server._lock:
                    server.seen.append(Seen(path, dict(self.headers.items()), now))
                action = server._next_action(path) or Action()
                try:
                    self._respond(path, action)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def _respond(self, path: str, action: Action) -> None:
                if action.hang:
                    time.sleep(action.hang)
                    return  # close without a response
                if action.delay:
                    time.sleep(action.delay)
                body = server.routes.get(path)
                status = action.status if action.status != 200 or body is not None else 404
                payload = body if status == 200 and body is not None else f"status {status}\n".encode()
                if action.body is not None:
                    payload = action.body
                self.send_response(status)
                for key, value in action.headers.items():
                    self.send_header(key, value)
                declared = len(payload) + 1000 if action.truncate else len(payload)
                if not action.no_length:
                    self.send_header("Content-Length", str(declared))
                self.end_headers()
                self.wfile.write(payload)
                self.wfile.flush()

        return Handler


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most request times falling in any half-open window ``[t, t + window)``."""
    times = sorted(times)
    best, j = 0, 0
    for i in range(len(times)):
        while times[i] - times[j] >= window:
            j += 1
        best = max(best, i - j + 1)
    return best


@pytest.fixture
def server():
    with ReplayServer() as srv:
        yield srv


def fast_client(**kwargs) -> HttpClient:
    params: dict[str, Any] = {
        "max_rps": 200.0,
        "max_retries": 3,
        "backoff_base": 0.01,
        "backoff_max": 0.05,
        "timeout": 2.0,
    }
    params.update(kwargs)
    return HttpClient(UA, **params)


# ---------------------------------------------------------------------------------------------------------
# Client behaviour


def test_user_agent_is_sent_and_cannot_be_overridden(server):
    server.routes["/a"] = b"hello"
    client = fast_client()
    assert client.get(server.url("/a")).content == b"hello"
    assert client.get(server.url("/a"), headers={"User-Agent": "python-requests", "X-Test": "1"}).content
    seen = server.requests_to("/a")
    assert [s.headers["User-Agent"] for s in seen] == [UA, UA]
    assert seen[1].headers["X-Test"] == "1"


def test_rate_limit_holds_across_threads(server):
    """30 requests from 4 threads at max_rps=10: no 1-second window (server clock) holds more than 10."""
    server.routes["/r"] = b"x"
    client = HttpClient(UA, max_rps=10, backoff_base=0.01)
    threads = [
        threading.Thread(target=lambda n=n: [client.get(server.url("/r")) for _ in range(n)])
        for n in (8, 8, 7, 7)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    times = server.times()
    assert len(times) == 30
    assert max_in_window(times, window=1.0 - 0.005) <= 10
    assert client.requests_made == 30


def test_rate_limit_is_shared_by_clients_of_one_host_group(server):
    """Two clients at 10 r/s each still share one 10 r/s budget for the host."""
    server.routes["/r"] = b"x"
    clients = [HttpClient(UA, max_rps=10), HttpClient(UA, max_rps=10)]
    threads = [
        threading.Thread(target=lambda c=c: [c.get(server.url("/r")) for _ in range(8)]) for c in clients
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert max_in_window(server.times(), window=1.0 - 0.005) <= 10


def test_sec_hosts_share_one_group_with_a_hard_cap():
    assert http.host_group("https://www.sec.gov/Archives/x") == "sec.gov"
    assert http.host_group("https://data.sec.gov/submissions/x.json") == "sec.gov"
    assert http.host_group("http://127.0.0.1:8080/x") == "127.0.0.1"
    assert http.limiter_for("sec.gov") is http.limiter_for("sec.gov")
    assert http.limiter_for("sec.gov").max_rps == 10.0


def test_limiter_spaces_starts_windows_them_and_pause_delays_everyone():
    limiter = RateLimiter()
    tickets = []
    for _ in range(25):
        tickets.append(limiter.acquire(20.0))
        limiter.release(tickets[-1])
    starts = [t.start for t in tickets]
    assert all(b - a >= 0.05 for a, b in zip(starts, starts[1:], strict=False))
    # the 21st request starts only after the 1st one's response plus one second
    assert all(tickets[i + 20].start >= tickets[i].end + 1.0 for i in range(5))
    limiter.pause(0.2)
    paused_at = time.monotonic()
    ticket = limiter.acquire(1000.0)
    assert ticket.start >= paused_at + 0.2
    capped = RateLimiter(max_rps=10.0)
    first = capped.acquire(1000.0)  # asked for 1000/s, capped at 10/s
    capped.release(first)
    assert capped.acquire(1000.0).start - first.start >= 0.1


def test_limiter_waits_for_requests_in_flight():
    """With 2 requests/s, the 3rd request waits for the 1st one's response, however late it comes."""
    limiter = RateLimiter()
    first, second = limiter.acquire(2.0), limiter.acquire(2.0)
    limiter.release(second)
    threading.Timer(0.3, limiter.release, args=(first,)).start()
    third = limiter.acquire(2.0)
    assert first.end is not None and third.start >= first.end + 1.0


def test_429_retry_after_is_honoured(server):
    server.routes["/x"] = b"ok"
    server.script("/x", Action(status=429, headers={"Retry-After": "1"}))
    client = fast_client()
    assert client.get(server.url("/x")).content == b"ok"
    first, second = server.requests_to("/x")
    assert second.time - first.time >= 1.0
    assert client.status_counts["429"] == 1


def test_retry_after_as_http_date():
    now = time.time()
    assert parse_retry_after(formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30, abs=1)
    assert parse_retry_after(formatdate(now - 30, usegmt=True), now=now) == 0.0
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_500s_are_retried_then_succeed(server):
    server.routes["/x"] = b"ok"
    server.script("/x", Action(status=500), Action(status=503))
    assert fast_client().get(server.url("/x")).content == b"ok"
    assert len(server.requests_to("/x")) == 3


def test_permanent_500_gives_up_after_max_retries_plus_one(server):
    server.routes["/x"] = b"ok"
    server.script("/x", *[Action(status=500)] * 10)
    client = fast_client(max_retries=3)
    with pytest.raises(FetchError) as info:
        client.get(server.url("/x"))
    assert isinstance(info.value, RecordFailure)
    assert info.value.kind == "http_500"
    assert info.value.attempts == 4
    assert len(server.requests_to("/x")) == 4


def test_404_is_not_retried(server):
    with pytest.raises(FetchError) as info:
        fast_client().get(server.url("/missing"))
    assert info.value.kind == "http_404"
    assert info.value.status == 404
    assert len(server.requests_to("/missing")) == 1


def test_timeout_is_retried(server):
    server.routes["/slow"] = b"finally"
    server.script("/slow", Action(hang=0.8))
    client = fast_client(timeout=0.3)
    assert client.get(server.url("/slow")).content == b"finally"
    assert len(server.requests_to("/slow")) == 2
    assert client.status_counts["timeout"] == 1


def test_timeout_for_good_is_a_fetch_error(server):
    server.script("/slow", *[Action(hang=0.6)] * 3)
    with pytest.raises(FetchError) as info:
        fast_client(timeout=0.2, max_retries=1).get(server.url("/slow"))
    assert info.value.kind == "timeout"
    assert len(server.requests_to("/slow")) == 2


def test_truncated_body_is_retried(server):
    server.routes["/t"] = b"0123456789" * 100
    server.script("/t", Action(truncate=True))
    client = fast_client()
    assert client.get(server.url("/t")).content == b"0123456789" * 100
    assert len(server.requests_to("/t")) == 2
    assert client.status_counts["truncated"] == 1


def test_truncated_for_good_is_kind_truncated(server):
    server.routes["/t"] = b"abc"
    server.script("/t", *[Action(truncate=True)] * 2)
    with pytest.raises(FetchError) as info:
        fast_client(max_retries=1).get(server.url("/t"))
    assert info.value.kind == "truncated"


def test_connection_refused_is_kind_connection():
    with ReplayServer() as srv:
        url = srv.url("/gone")
    with pytest.raises(FetchError) as info:
        fast_client(max_retries=1).get(url)
    assert info.value.kind == "connection"


def test_backoff_is_full_jitter_bounded():
    client = HttpClient(UA, max_rps=1, backoff_base=0.5, backoff_max=4.0)
    delays = [client.backoff(attempt) for attempt in range(10) for _ in range(20)]
    assert all(0.0 <= d <= 4.0 for d in delays)
    assert max(client.backoff(0) for _ in range(50)) <= 0.5
    assert client.backoff(0, retry_after=2.0) >= 2.0


def test_client_refuses_bad_arguments():
    with pytest.raises(ValueError):
        HttpClient("", max_rps=1)
    with pytest.raises(ValueError):
        HttpClient(UA, max_rps=0)


# ---------------------------------------------------------------------------------------------------------
# Raw cache


def test_raw_cache_roundtrip_and_atomic_layout(tmp_path):
    cache = RawCache(str(tmp_path))
    assert cache.get("edgar", "0000320193-24-000123.txt") is None
    assert not cache.has("edgar", "0000320193-24-000123.txt")
    path = cache.put("edgar", "0000320193-24-000123.txt", b"<SEC-DOCUMENT>", {"url": "u"})
    assert path == str(tmp_path / "edgar" / "0000320193-24-000123.txt")
    assert cache.has("edgar", "0000320193-24-000123.txt")
    assert cache.get("edgar", "0000320193-24-000123.txt") == b"<SEC-DOCUMENT>"
    meta = cache.get_meta("edgar", "0000320193-24-000123.txt")
    assert meta["url"] == "u" and meta["size"] == len(b"<SEC-DOCUMENT>")
    assert sorted(p.name for p in (tmp_path / "edgar").iterdir()) == ["0000320193-24-000123.txt"]
    assert list((tmp_path / "_tmp").iterdir()) == []  # temporary files were renamed away


def test_raw_cache_sanitises_keys(tmp_path):
    cache = RawCache(str(tmp_path))
    cache.put("ns", "../../etc/passwd", b"x")
    assert [p.name for p in (tmp_path / "ns").iterdir()] == ["_.._etc_passwd"]
    assert http.sanitize_key("a b/c?d") == "a_b_c_d"
    with pytest.raises(ValueError):
        http.sanitize_key("...")


def test_raw_cache_overwrite_is_whole(tmp_path):
    cache = RawCache(str(tmp_path))
    cache.put("ns", "k", b"first version")
    cache.put("ns", "k", b"2nd")
    assert cache.get("ns", "k") == b"2nd"


# ---------------------------------------------------------------------------------------------------------
# robots.txt


def test_robots_allowed_with_per_host_cache(server):
    server.routes["/robots.txt"] = b"User-agent: *\nDisallow: /private/\n"
    client = fast_client()
    assert robots_allowed(server.url("/news/1"), UA, client)
    assert not robots_allowed(server.url("/private/x"), UA, client)
    assert len(server.requests_to("/robots.txt")) == 1


def test_robots_missing_allows_and_server_error_disallows():
    client = fast_client(max_retries=0)
    with ReplayServer() as missing:
        assert robots_allowed(missing.url("/a"), UA, client)
    with ReplayServer() as broken:
        broken.script("/robots.txt", Action(status=503))
        assert not robots_allowed(broken.url("/a"), UA, client)


def test_replay_server_records_json_routes(server):
    server.routes["/j"] = json.dumps({"a": 1}).encode()
    assert fast_client().get(server.url("/j")).json() == {"a": 1}
    assert server.counts()["/j"] == 1


# ---------------------------------------------------------------------------------------------------------
# Every body is verified before a caller (and so a cache) sees it (issue 16 item 6)

SUBMISSION_PATH = "/Archives/edgar/data/320193/0000320193-24-000123.txt"
SUBMISSION = (
    b"<SEC-DOCUMENT>0000320193-24-000123.txt : 20240101\n<DOCUMENT>\n<TYPE>10-K\n<TEXT>\n"
    + (b"Annual report text.\n" * 200)
    + b"</TEXT>\n</DOCUMENT>\n</SEC-DOCUMENT>\n"
)


def test_gzip_body_cut_short_with_a_consistent_length_is_retried(server):
    """A gzip body cut short whose Content-Length matches the cut bytes was returned (and cached) as good."""
    data = json.dumps({"filings": list(range(2000))}).encode()
    server.routes["/s.json"] = gzip.compress(data)
    server.always["/s.json"] = Action(headers={"Content-Encoding": "gzip"})
    server.script("/s.json", Action(headers={"Content-Encoding": "gzip"}, body=gzip.compress(data)[:-40]))
    client = fast_client()
    assert client.get(server.url("/s.json")).content == data
    assert len(server.requests_to("/s.json")) == 2 and client.status_counts["truncated"] == 1


def test_body_without_content_length_cut_by_a_closed_connection_is_retried(server):
    """No Content-Length and the connection closed early: the submission lacks its </SEC-DOCUMENT>."""
    server.routes[SUBMISSION_PATH] = SUBMISSION
    server.script(SUBMISSION_PATH, Action(body=SUBMISSION[: len(SUBMISSION) // 2], no_length=True))
    client = fast_client()
    assert client.get(server.url(SUBMISSION_PATH)).content == SUBMISSION
    assert len(server.requests_to(SUBMISSION_PATH)) == 2 and client.status_counts["invalid_body"] == 1


@pytest.mark.parametrize(
    ("path", "bad", "kind"),
    [
        ("/files/company_tickers.json", b'{"0": {"cik_str": 320193, "tic', "invalid_json"),
        (
            "/Archives/edgar/full-index/2024/QTR1/form.idx",
            b"<html>Your request was rate limited</html>",
            "invalid_body",
        ),
        (SUBMISSION_PATH, SUBMISSION[:-30], "invalid_body"),
        # mtime=0: the bytes are part of the test id, which must be the same in every xdist worker
        ("/dumps/RC_2024-01.ndjson.gz", gzip.compress(b'{"id": 1}\n' * 500, mtime=0)[:-50], "truncated"),
    ],
    ids=["json", "index", "submission", "gzip"],
)
def test_a_body_that_never_verifies_is_an_error_and_never_returned(server, path, bad, kind):
    server.routes[path] = bad
    with pytest.raises(FetchError) as info:
        fast_client(max_retries=1).get(server.url(path))
    assert info.value.kind == kind and info.value.attempts == 2


def test_real_edgar_files_pass_their_body_checks(shared_data):
    from sources.http import body_check

    index = (shared_data / "edgar" / "index" / "form.20200318.idx").read_bytes()
    body_check("https://www.sec.gov/Archives/edgar/daily-index/2020/QTR1/form.20200318.idx")(index)
    body_check("https://www.sec.gov/Archives/edgar/full-index/1993/QTR4/master.idx")(
        (shared_data / "edgar" / "index" / "master.idx").read_bytes()
    )
    for path in sorted((shared_data / "edgar" / "full-submission").glob("*.txt")):
        url = f"https://www.sec.gov/Archives/edgar/data/1/{path.name}"
        body_check(url)(path.read_bytes())
    body_check("https://data.sec.gov/submissions/CIK0000320193.json")(
        (shared_data / "edgar" / "submissions" / "CIK0000320193.json").read_bytes()
    )
