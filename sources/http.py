"""The shared HTTP client of the live connectors (EDGAR now; news feeds and StockTwits later).

- ``HttpClient.get(url)``: a declared User-Agent on every request, a process-wide rate limit per host group
  (shared by every thread and every client of the process), retries with exponential backoff and full
  jitter on 429, 5xx, 408, connection errors, timeouts and truncated bodies, honouring ``Retry-After``
  (seconds or an HTTP date); after ``max_retries`` retries, or at once for another 4xx (404, 403 ...),
  it raises ``FetchError`` (a ``RecordFailure``: the caller books the record under ``errors/`` and goes on).
- ``RawCache``: raw responses on Beam ``FileSystems`` (a local folder or ``gs://``), written atomically
  (temporary file, then rename), so a killed run never leaves a half-written entry behind.
- ``robots_allowed(url, user_agent)``: robots.txt check with a per-host cache (for feeds and web pages).

Every body is verified before a caller sees it (and so before it can enter a cache): the bytes on the wire
must match ``Content-Length``; a ``Content-Encoding: gzip``/``deflate`` body, and a ``.gz`` file, must be a
complete compressed stream; and the body must parse as what the URL says it is (``body_check``: JSON parses,
an EDGAR index has its header, an EDGAR full submission ends with ``</SEC-DOCUMENT>``), or what the caller's
``validate`` says. A failed check is retried like a truncated body, then raised as ``FetchError``
(``truncated`` or ``invalid_body``): a response whose connection closed early without a Content-Length is
caught by the parse check.

Rate limiting: every request (retries included) first waits for its host group's limiter, which keeps
request starts at least ``1 / max_rps`` seconds apart and lets a request start only when the one
``floor(max_rps)`` places earlier got its response over a second ago, so that the server, whatever the
network delays and the number of threads, never sees more than ``max_rps`` requests in one second
(see ``RateLimiter``). A client asking for a
lower rate than another spaces its own requests wider; a ``429`` with ``Retry-After`` pauses the whole host
group, because servers such as SEC rate-limit the client IP, not the
thread. Host groups: every ``*.sec.gov`` host is one group ``sec.gov`` (www and data.sec.gov share SEC's
10 requests/s budget, and ``GROUP_MAX_RPS`` caps it there whatever a caller asks); other hosts are their
own group. Backoff: attempt ``n`` (0-based) waits ``uniform(0, min(backoff_max, backoff_base * 2**n))``
("full jitter", AWS Architecture Blog, 2015), or the server's ``Retry-After`` if that is longer.
"""

from __future__ import annotations

import email.utils
import gzip
import json
import logging
import random
import re
import threading
import time
import urllib.robotparser
import uuid
import zlib
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from core.errors import RecordFailure

__all__ = [
    "GROUP_MAX_RPS",
    "FetchError",
    "HttpClient",
    "body_check",
    "check_edgar_index",
    "check_edgar_submission",
    "check_json",
    "RateLimiter",
    "RawCache",
    "Ticket",
    "host_group",
    "limiter_for",
    "parse_retry_after",
    "robots_allowed",
    "sanitize_key",
]

_LOG = logging.getLogger(__name__)

# Hard caps per host group, whatever a caller asks for (SEC fair access: 10 requests/s per client).
GROUP_MAX_RPS = {"sec.gov": 10.0}
WINDOW_MARGIN = 0.02  # seconds added to the 1-s window: clock granularity (see RateLimiter)
WINDOW_LOG_MAX = 1024  # start times remembered per group (rates above this are only spaced, not windowed)
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
RETRY_AFTER_MAX = 600.0  # a longer Retry-After is capped: the run should fail visibly, not sleep for hours


class FetchError(RecordFailure):
    """A request that failed for good. ``kind``: ``http_<status>``, ``timeout``, ``connection`` or ``truncated``."""

    def __init__(self, kind: str, message: str, url: str = "", status: int | None = None, attempts: int = 0):
        super().__init__(kind, message)
        self.url = url
        self.status = status
        self.attempts = attempts


class _Retryable(Exception):
    """One failed attempt worth retrying (internal)."""

    def __init__(self, kind: str, message: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after


# ---------------------------------------------------------------------------------------------------------
# Rate limiting


@dataclass
class Ticket:
    """One request's use of a limiter: when it started and when its response came back (None meanwhile)."""

    start: float
    end: float | None = None


class RateLimiter:
    """Thread-safe limiter: request starts at least ``1 / rate`` s apart, and a request starts only once
    the request ``floor(rate)`` places before it *finished* at least ``1 + WINDOW_MARGIN`` s ago.

    Why finished and not started: the server receives a request somewhere between its start and its
    response, and that delay varies (connection set-up, a thread that lost the CPU). Counting from the
    response makes the guarantee hold on the server's clock, not only on ours: no window of one second
    there holds more than ``rate`` requests. The cost is throughput, ``rate / (1 + latency)``: about 9
    requests/s at rate 10 with 100 ms responses. Callers ``release`` every ticket (``HttpClient`` does).
    """

    def __init__(self, max_rps: float | None = None):
        self.max_rps = max_rps  # a hard cap for the group (None: only the callers' own rates)
        self._cond = threading.Condition()
        self._tickets: deque[Ticket] = deque(maxlen=WINDOW_LOG_MAX)
        self._not_before = float("-inf")  # set by a Retry-After: nobody starts before this

    def acquire(self, rate: float) -> Ticket:
        """Block until this caller may start a request at ``rate`` requests/s; returns its ticket."""
        if rate <= 0:
            raise ValueError(f"rate must be > 0, got {rate}")
        if self.max_rps is not None:
            rate = min(rate, self.max_rps)
        per_window = max(1, min(int(rate), WINDOW_LOG_MAX))
        with self._cond:
            while True:
                now = time.monotonic()
                earliest = self._not_before
                if self._tickets:
                    earliest = max(earliest, self._tickets[-1].start + 1.0 / rate)
                if len(self._tickets) >= per_window:
                    previous = self._tickets[-per_window]
                    if previous.end is None:  # still in flight: wait for its response
                        self._cond.wait(timeout=1.0)
                        continue
                    earliest = max(earliest, previous.end + 1.0 + WINDOW_MARGIN)
                if now >= earliest:
                    break
                self._cond.wait(timeout=earliest - now)
            ticket = Ticket(start=now)
            self._tickets.append(ticket)
            return ticket

    def release(self, ticket: Ticket) -> None:
        """The ticket's request is over (response read, or failed)."""
        with self._cond:
            ticket.end = time.monotonic()
            self._cond.notify_all()

    def pause(self, seconds: float) -> None:
        """No request of the group starts during the next ``seconds`` (a server's Retry-After)."""
        with self._cond:
            self._not_before = max(self._not_before, time.monotonic() + seconds)
            self._cond.notify_all()


_LIMITERS: dict[str, RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def host_group(url: str) -> str:
    """The rate-limit group of a URL: ``sec.gov`` for every SEC host, else the host name."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "sec.gov" or host.endswith(".sec.gov"):
        return "sec.gov"
    return host


def limiter_for(group: str) -> RateLimiter:
    """The process-wide limiter of a host group (created on first use)."""
    with _LIMITERS_LOCK:
        limiter = _LIMITERS.get(group)
        if limiter is None:
            limiter = _LIMITERS[group] = RateLimiter(GROUP_MAX_RPS.get(group))
        return limiter


# ---------------------------------------------------------------------------------------------------------
# The client


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


class HttpClient:
    """GET with a User-Agent, the process-wide rate limit of the URL's host group, retries and backoff.

    Thread-safe: one ``requests.Session`` per thread. ``requests_made`` counts every attempt (retries
    included) and ``status_counts`` every status (or failure kind) seen.
    """

    @classmethod
    def from_settings(cls, settings: Any) -> HttpClient:
        """A client with the User-Agent, rate and retry policy of a fetch command's settings (any object with
        ``user_agent``, ``max_rps``, ``max_retries``, ``backoff_base`` and ``timeout``)."""
        return cls(
            settings.user_agent,
            settings.max_rps,
            max_retries=settings.max_retries,
            backoff_base=settings.backoff_base,
            timeout=settings.timeout,
        )

    def __init__(
        self,
        user_agent: str,
        max_rps: float,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 60.0,
        timeout: float = 30.0,
    ):
        if not user_agent or not user_agent.strip():
            raise ValueError("HttpClient needs a User-Agent")
        if max_rps <= 0:
            raise ValueError(f"max_rps must be > 0, got {max_rps}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self.user_agent = user_agent.strip()
        self.max_rps = float(max_rps)
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.timeout = timeout
        self._local = threading.local()
        self._stats_lock = threading.Lock()
        self.requests_made = 0
        self.status_counts: Counter[str] = Counter()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _count(self, outcome: str) -> None:
        with self._stats_lock:
            self.requests_made += 1
            self.status_counts[outcome] += 1

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt + 1``: full jitter, at least ``retry_after``."""
        delay = random.uniform(0.0, min(self.backoff_max, self.backoff_base * (2**attempt)))
        if retry_after is not None:
            delay = max(delay, min(retry_after, RETRY_AFTER_MAX))
        return delay

    def get(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        validate: Callable[[bytes], None] | None = None,
    ) -> requests.Response:
        """The response to ``GET url`` with its body read and verified; ``FetchError`` once retries run out.

        ``validate(body)`` raises ``ValueError`` for a body that is not what it should be (default:
        ``body_check(url)``, chosen by the URL); such a body is retried, never returned."""
        validate = validate if validate is not None else body_check(url)
        limiter = limiter_for(host_group(url))
        request_headers = {"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"}
        request_headers.update(headers or {})
        request_headers["User-Agent"] = self.user_agent  # never overridden: fair-access rules need it
        for attempt in range(self.max_retries + 1):
            ticket = limiter.acquire(self.max_rps)
            try:
                return self._attempt(url, request_headers, validate)
            except _Retryable as exc:
                failure = exc
            finally:
                limiter.release(ticket)  # also for FetchError (404 ...) and unexpected errors
            if failure.retry_after is not None:
                limiter.pause(min(failure.retry_after, RETRY_AFTER_MAX))
            if attempt == self.max_retries:
                raise FetchError(
                    failure.kind,
                    f"GET {url}: {failure} (gave up after {attempt + 1} attempts)",
                    url=url,
                    status=failure.status,
                    attempts=attempt + 1,
                )
            delay = self.backoff(attempt, failure.retry_after)
            _LOG.info("GET %s: %s; retry %d in %.2fs", url, failure, attempt + 1, delay)
            time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(
        self, url: str, headers: Mapping[str, str], validate: Callable[[bytes], None] | None = None
    ) -> requests.Response:
        """One request; returns a good response, raises ``_Retryable`` or (not retryable) ``FetchError``."""
        try:
            response = self._session().get(url, headers=dict(headers), timeout=self.timeout, stream=True)
        except requests.Timeout as exc:
            self._count("timeout")
            raise _Retryable("timeout", f"timed out after {self.timeout}s ({type(exc).__name__})") from None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
            self._count("truncated")
            raise _Retryable("truncated", f"body cut short ({type(exc).__name__})") from None
        except requests.ConnectionError as exc:
            self._count("connection")
            raise _Retryable("connection", f"connection failed ({type(exc).__name__}: {exc})") from None
        status = response.status_code
        self._count(str(status))
        if status in RETRYABLE_STATUS or 500 <= status < 600:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise _Retryable(f"http_{status}", f"HTTP {status}", status=status, retry_after=retry_after)
        if status >= 400:
            raise FetchError(
                f"http_{status}", f"GET {url}: HTTP {status}", url=url, status=status, attempts=1
            )
        response._content = self._verified_body(url, response, validate)  # noqa: SLF001 - what .content returns
        return response

    def _verified_body(
        self, url: str, response: requests.Response, validate: Callable[[bytes], None] | None
    ) -> bytes:
        """The body, decoded, once it passed every check (see the module docstring)."""
        status = response.status_code
        try:
            wire = response.raw.read(decode_content=False)  # the bytes as sent, before Content-Encoding
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            self._count("truncated")
            raise _Retryable("truncated", f"body cut short ({type(exc).__name__})", status=status) from None
        finally:
            response.close()
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and len(wire) != int(declared):
            raise _Retryable("truncated", f"body has {len(wire)} of {declared} bytes", status=status)
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        try:
            body = _decode_content(wire, encoding)
            if urlsplit(url).path.lower().endswith(".gz"):
                check_gzip(body)
            if validate is not None:
                validate(body)
        except ValueError as exc:
            kind = getattr(exc, "kind", "invalid_body")
            self._count(kind)
            raise _Retryable(kind, f"{exc}", status=status) from None
        return body


# ---------------------------------------------------------------------------------------------------------
# Body checks


class InvalidBody(ValueError):
    """A body that is not what it should be; ``kind`` names the failure (``FetchError.kind`` once retries
    run out)."""

    kind = "invalid_body"

    def __init__(self, message: str, kind: str | None = None):
        super().__init__(message)
        if kind:
            self.kind = kind


class TruncatedBody(InvalidBody):
    """A compressed body that ends before its stream does."""

    kind = "truncated"


def _inflate_all(data: bytes, wbits: int, what: str) -> bytes:
    """Every member of a gzip/zlib stream; ``TruncatedBody`` if the last one is incomplete."""
    out = []
    while data:
        inflater = zlib.decompressobj(wbits)
        try:
            out.append(inflater.decompress(data))
        except zlib.error as exc:
            raise ValueError(f"{what} body is corrupt ({exc})") from None
        if not inflater.eof:
            raise TruncatedBody(f"{what} stream is incomplete (cut short after {len(data)} bytes)")
        data = inflater.unused_data
        if not data.strip(b"\x00"):
            break
    return b"".join(out)


def _decode_content(wire: bytes, encoding: str) -> bytes:
    """The body under its Content-Encoding (identity, gzip, deflate), checked complete."""
    if encoding in ("", "identity"):
        return wire
    if encoding in ("gzip", "x-gzip"):
        return _inflate_all(wire, 16 + zlib.MAX_WBITS, "gzip")
    if encoding == "deflate":  # zlib-wrapped per the RFC; some servers send raw deflate
        try:
            return _inflate_all(wire, zlib.MAX_WBITS, "deflate")
        except TruncatedBody:
            raise
        except ValueError:
            return _inflate_all(wire, -zlib.MAX_WBITS, "deflate")
    raise ValueError(f"unsupported Content-Encoding {encoding!r}")


def check_gzip(body: bytes) -> None:
    """A ``.gz`` file must be a complete gzip stream."""
    if body[:2] == b"\x1f\x8b":
        _inflate_all(body, 16 + zlib.MAX_WBITS, "gzip file")


def check_json(body: bytes) -> None:
    """The body parses as JSON."""
    try:
        json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise InvalidBody(f"body is not valid JSON ({str(exc)[:120]})", "invalid_json") from None


_INDEX_HEADER_RE = re.compile(rb"^(?:CIK\|Company Name\||Form Type\s|Company Name\s)", re.MULTILINE)


def check_edgar_index(body: bytes) -> None:
    """An EDGAR full-/daily-index file (``form.idx``, ``master.idx``, ``company.idx``) has its header line
    and the dashed line under it."""
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    header = _INDEX_HEADER_RE.search(body[:16384])
    if header is None or b"\n---" not in body[header.start() : header.start() + 2048]:
        raise ValueError("EDGAR index without its column header and dashed line (cut short or not an index)")


_SUBMISSION_ENDS = (
    b"</SEC-DOCUMENT>",
    b"</IMS-DOCUMENT>",
    b"-----END PRIVACY-ENHANCED MESSAGE-----",
    b"</DOCUMENT>",
)


def check_edgar_submission(body: bytes) -> None:
    """An EDGAR full-submission ``.txt`` ends with ``</SEC-DOCUMENT>`` (or the PEM trailer / the IMS era's end)."""
    if not body.rstrip().endswith(_SUBMISSION_ENDS):
        raise ValueError("EDGAR submission does not end with </SEC-DOCUMENT> (cut short)")


_SUBMISSION_PATH_RE = re.compile(r"/Archives/edgar/data/\d+/(?:\d+/)?\d{10}-\d{2}-\d{6}\.txt$")


def body_check(url: str) -> Callable[[bytes], None] | None:
    """The parse check a URL's body must pass, chosen by what the URL names (None: no format check)."""
    path = urlsplit(url).path
    if path.endswith(".json"):
        return check_json
    if path.endswith((".idx", ".idx.gz")):
        return check_edgar_index
    if _SUBMISSION_PATH_RE.search(path):
        return check_edgar_submission
    return None


# ---------------------------------------------------------------------------------------------------------
# Raw cache

_KEY_UNSAFE_RE = re.compile(r"[^A-Za-z0-9._-]+")
KEY_MAX_CHARS = 200


def sanitize_key(key: str) -> str:
    """A safe file name for a cache key: unsafe characters become ``_``; no leading dot; bounded length."""
    name = _KEY_UNSAFE_RE.sub("_", key.strip()).lstrip(".")[:KEY_MAX_CHARS]
    if not name:
        raise ValueError(f"cache key {key!r} is empty once sanitised")
    return name


class RawCache:
    """Raw responses under ``root`` on Beam FileSystems: ``<root>/<namespace>/<key>``, metadata as JSON in
    ``<root>/_meta/<namespace>/<key>.json``, temporary files in ``<root>/_tmp/``.

    ``put`` writes the metadata, then the data to a temporary file renamed into place, so an entry exists
    only once complete; keeping the data files alone in their folder lets a glob such as
    ``<root>/edgar/*.txt`` read them directly.
    """

    def __init__(self, root: str):
        self.root = root.rstrip("/") or "/"
        self._made_dirs: set[str] = set()
        self._lock = threading.Lock()

    def path(self, namespace: str, key: str) -> str:
        """Where the data of an entry lives."""
        return FileSystems.join(self.root, sanitize_key(namespace), sanitize_key(key))

    def meta_path(self, namespace: str, key: str) -> str:
        return FileSystems.join(self.root, "_meta", sanitize_key(namespace), sanitize_key(key) + ".json")

    def has(self, namespace: str, key: str) -> bool:
        return FileSystems.exists(self.path(namespace, key))

    def get(self, namespace: str, key: str) -> bytes | None:
        """The cached bytes, or None when the entry is absent."""
        path = self.path(namespace, key)
        if not FileSystems.exists(path):
            return None
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as stream:
            return stream.read()

    def get_meta(self, namespace: str, key: str) -> dict[str, Any] | None:
        path = self.meta_path(namespace, key)
        if not FileSystems.exists(path):
            return None
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as stream:
            return json.loads(stream.read())

    def put(self, namespace: str, key: str, data: bytes, meta: Mapping[str, Any] | None = None) -> str:
        """Store an entry atomically (tmp + rename); returns its path."""
        final = self.path(namespace, key)
        record = {"namespace": namespace, "key": key, "size": len(data)}
        record["stored_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        record.update(meta or {})
        self._write_atomic(self.meta_path(namespace, key), json.dumps(record, sort_keys=True).encode())
        self._write_atomic(final, data)
        return final

    def _write_atomic(self, final: str, data: bytes) -> None:
        tmp = FileSystems.join(self.root, "_tmp", f"{uuid.uuid4().hex}.part")
        with FileSystems.create(tmp, compression_type=CompressionTypes.UNCOMPRESSED) as out:
            out.write(data)
        self._ensure_dir(final.rsplit("/", 1)[0])
        FileSystems.rename([tmp], [final])

    def _ensure_dir(self, directory: str) -> None:
        """Create a local destination folder once (object stores have no folders; mkdirs is a no-op there)."""
        with self._lock:
            if directory in self._made_dirs:
                return
            if not FileSystems.exists(directory):
                try:
                    FileSystems.mkdirs(directory)
                except OSError:
                    pass  # another thread or process made it meanwhile
            self._made_dirs.add(directory)


# ---------------------------------------------------------------------------------------------------------
# robots.txt

_ROBOTS: dict[tuple[str, str], urllib.robotparser.RobotFileParser] = {}
_ROBOTS_LOCK = threading.Lock()


def robots_allowed(url: str, user_agent: str, client: HttpClient | None = None) -> bool:
    """Whether robots.txt of the URL's host lets ``user_agent`` fetch it (fetched once per host and process).

    As RFC 9309 says: a robots.txt answering 4xx allows everything; 5xx or unreachable disallows everything
    (until the process restarts). ``client`` (default: a 1 request/s client) fetches it politely.
    """
    parts = urlsplit(url)
    site = (parts.scheme, parts.netloc.lower())
    with _ROBOTS_LOCK:
        parser = _ROBOTS.get(site)
    if parser is None:
        parser = _fetch_robots(f"{parts.scheme}://{parts.netloc}/robots.txt", user_agent, client)
        with _ROBOTS_LOCK:
            parser = _ROBOTS.setdefault(site, parser)
    return parser.can_fetch(user_agent, url)


def _fetch_robots(
    robots_url: str, user_agent: str, client: HttpClient | None
) -> urllib.robotparser.RobotFileParser:
    parser = urllib.robotparser.RobotFileParser(robots_url)
    client = client or HttpClient(user_agent, max_rps=1.0, max_retries=2, timeout=10.0)
    try:
        response = client.get(robots_url)
    except FetchError as exc:
        if exc.status is not None and 400 <= exc.status < 500:
            parser.allow_all = True  # type: ignore[attr-defined]  # set by read() in the standard library too
        else:
            parser.disallow_all = True  # type: ignore[attr-defined]
        _LOG.info("robots.txt %s: %s", robots_url, exc.kind)
        return parser
    parser.parse(response.content.decode("utf-8", errors="replace").splitlines())
    parser.modified()
    return parser
