"""Point-in-time: when a document became public (``available_at``), the ``--as_of`` cut and time periods.

``available_at`` is when the text became public, not what it is about. One pure function,
``resolve_available_at``, turns what a reader recorded into a UTC time and names where it came from
(``metadata["available_at_source"]``), first match wins:

==================  ==================================================================  ===========
source              from                                                                precision
==================  ==================================================================  ===========
``sec_acceptance``  EDGAR ``<ACCEPTANCE-DATETIME>`` (US Eastern, DST-aware) -> UTC        second
``filing_date``     EDGAR ``FILED AS OF DATE`` (or a no-header filing's "As filed with   day
                    the Securities and Exchange Commission on <date>"): the END of that
                    day, US Eastern, so a cut never keeps a filing made later that day
``feed``            RSS/Atom ``pubDate`` / ``published`` / ``updated`` (feed, news cache)  second
``page_meta``       the page's ``article:published_time`` and kin, or JSON-LD             second/day
                    ``datePublished``
``htmldate``        trafilatura's date (htmldate), a day: the end of that day, UTC         day
``post_time``       Reddit ``created_utc``, tweet / StockTwits ``created_at``              second
``revision``        Wikipedia revision ``timestamp``                                       second
``record_date``     the date field of a generic JSONL/Parquet record (``fields.date``),    as given
                    else a record's ``date`` (PubMed/PMC: the publication year): its end
``crawl_date``      WARC-Date / fetch time, for a page with no publication time           second
==================  ==================================================================  ===========

WARC-Date is when the crawler saw the page: an upper bound of its publication, not the publication. It is used
only when a page gives no date at all, and it caps a stated date that is later than the crawl (a page cannot be
published after it was fetched: such a date is a mis-dating). Using the upper bound is the conservative choice for
a cut: a page crawled before the cut was certainly public before it; one crawled after is treated as after it.
A day-precision date counts as the end of that day for the same reason.

The ``time`` stage (``pipeline.stages.timecut.CutAtTime``, a Beam shell around ``cut``) applies ``--as_of`` /
``time.as_of``: a document available after the cut is rejected with reason ``after_cutoff``; one with no known
time follows ``time.unknown`` (``keep``, ``drop`` with reason ``unknown_time``, or ``flag``: kept with
``metadata["available_at_unknown"] = "true"``).
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.errors import ConfigError
from core.schema import Document, RawRecord, Rejected, format_utc, parse_utc

STAGE = "time"
AFTER_CUTOFF = "after_cutoff"
UNKNOWN_TIME = "unknown_time"
UNKNOWN_POLICIES = ("keep", "drop", "flag")
PERIODS = ("year", "quarter")
SOURCE_KEY = "available_at_source"
UNKNOWN_FLAG = "available_at_unknown"
UNKNOWN_PERIOD = "unknown"  # the partition of documents with no known time

EASTERN = ZoneInfo("America/New_York")  # EDGAR times and dates are US Eastern (EST/EDT)
_MIN_YEAR, _MAX_YEAR = 1970, 2100  # outside: a parse error, not a date
_HEAD_BYTES = 256 * 1024


# ---------------------------------------------------------------------------------------------------------
# Parsing times


def _utc(value: datetime) -> str:
    if not _MIN_YEAR <= value.year <= _MAX_YEAR:
        return ""
    return format_utc(value)


def end_of_day(day: str, tz: Any = UTC) -> str:
    """The last second of ``YYYY-MM-DD`` in ``tz``, in UTC; "" when ``day`` is not such a date."""
    try:
        parsed = datetime.strptime(day[:10], "%Y-%m-%d")
    except ValueError:
        return ""
    return _utc(datetime.combine(parsed.date(), time(23, 59, 59), tzinfo=tz))


def sec_acceptance_utc(value: str) -> str:
    """UTC from an EDGAR ``<ACCEPTANCE-DATETIME>`` (``YYYYMMDDHHMMSS``, US Eastern local time); "" if malformed.

    ``20241227162940`` is 16:29:40 EST (UTC-5) -> ``2024-12-27T21:29:40Z``; in summer, EDT (UTC-4).
    """
    try:
        local = datetime.strptime(value.strip()[:14], "%Y%m%d%H%M%S")
    except ValueError:
        return ""
    return _utc(local.replace(tzinfo=EASTERN))


_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EPOCH_RE = re.compile(r"^\d{9,11}(?:\.\d+)?$")


def parse_time(value: str, day_tz: Any = UTC) -> str:
    """UTC ISO time from ISO 8601 (offset or ``Z``; naive = UTC), RFC 822 (RSS ``pubDate``), epoch seconds or a
    bare ``YYYY-MM-DD`` (the end of that day in ``day_tz``); "" when unparseable or outside 1970-2100."""
    value = (value or "").strip()
    if not value:
        return ""
    if _DAY_RE.match(value):
        return end_of_day(value, day_tz)
    if _EPOCH_RE.match(value):
        return _utc(datetime.fromtimestamp(float(value), tz=UTC))
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return ""
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return _utc(parsed)


def parse_as_of(value: Any) -> str:
    """The cut-off as a UTC ISO string; a bare date means 00:00 UTC of that day. ``ConfigError`` if unparseable."""
    if isinstance(value, datetime):
        return format_utc(value)
    text = str(value).strip()
    if _DAY_RE.match(text):
        text += "T00:00:00Z"
    parsed = parse_time(text)
    if not parsed:
        raise ConfigError(
            f"time.as_of / --as_of: cannot read {value!r} as a date-time; use ISO 8601, e.g. 2020-01-01 "
            "or 2020-01-01T00:00:00Z (no offset means UTC)"
        )
    return parsed


# ---------------------------------------------------------------------------------------------------------
# Where the time comes from


_META_TAG_RE = re.compile(rb"<meta\b[^>]*>", re.IGNORECASE)
_ATTR_RE = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
# Meta names/properties that state the publication time, most specific first.
PAGE_META_NAMES = (
    b"article:published_time",
    b"og:article:published_time",
    b"datepublished",
    b"parsely-pub-date",
    b"sailthru.date",
    b"publish-date",
    b"publishdate",
    b"pubdate",
    b"dc.date.issued",
    b"dcterms.issued",
    b"dc.date",
)
_JSONLD_RE = re.compile(rb""""datePublished"\s*:\s*"([^"]{8,40})\"""")
_ITEMPROP_TIME_RE = re.compile(
    rb"""<time\b[^>]*\bitemprop\s*=\s*["']datePublished["'][^>]*\bdatetime\s*=\s*["']([^"']+)""",
    re.IGNORECASE,
)


def page_published(html: bytes | str) -> str:
    """The publication time a page states in its markup (raw value), "" when it states none.

    ``<meta property="article:published_time">`` and its kin (see ``PAGE_META_NAMES``), then JSON-LD
    ``datePublished``, then ``<time itemprop="datePublished" datetime=...>``. Only the first 256 KB are read.
    """
    data = html.encode("utf-8", "replace") if isinstance(html, str) else html
    data = data[:_HEAD_BYTES]
    found: dict[bytes, str] = {}
    for tag in _META_TAG_RE.findall(data):
        attrs = {m.group(1).lower(): (m.group(2) or m.group(3) or b"") for m in _ATTR_RE.finditer(tag)}
        key = (attrs.get(b"property") or attrs.get(b"name") or attrs.get(b"itemprop") or b"").lower()
        if key in PAGE_META_NAMES and attrs.get(b"content", b"").strip() and key not in found:
            found[key] = attrs[b"content"].strip().decode("utf-8", "replace")
    for key in PAGE_META_NAMES[:3]:
        if key in found:
            return found[key]
    for regex in (_JSONLD_RE, _ITEMPROP_TIME_RE):
        match = regex.search(data)
        if match:
            return match.group(1).decode("utf-8", "replace").strip()
    return next((found[key] for key in PAGE_META_NAMES if key in found), "")


_COVER_FILED_RE = re.compile(
    r"filed\s+with\s+the\s+securities\s+and\s+exchange\s+commission\s+on\s+"
    r"([A-Z][a-z]{2,8}\.?\s+\d{1,2}\s*,\s*\d{4})",
    re.IGNORECASE,
)


def cover_filing_date(text: str) -> str:
    """``YYYY-MM-DD`` from a cover page's "As filed with the Securities and Exchange Commission on <date>"
    (registration statements state it), searched in the first 5,000 characters; "" otherwise."""
    match = _COVER_FILED_RE.search(text[:5000])
    if not match:
        return ""
    value = re.sub(r"\s+", " ", match.group(1)).replace(" ,", ",")
    for fmt in ("%B %d, %Y", "%b %d, %Y", "%b. %d, %Y"):
        try:
            return datetime.strptime(value, fmt).strftime("%Y-%m-%d")
        except ValueError:
            continue
    return ""


def resolve_available_at(raw: RawRecord, doc: Document) -> tuple[str, str]:
    """(UTC ISO time, source name) of when ``doc`` became public, from what its reader recorded; ("", "")
    when nothing says. See the module docstring for the order of the sources."""
    meta = raw.metadata
    if raw.content_type == "sgml":
        accepted = sec_acceptance_utc(meta.get("acceptance_datetime", ""))
        if accepted:
            return accepted, "sec_acceptance"
        filed = end_of_day(meta.get("filed", ""), EASTERN)
        if filed:
            return filed, "filing_date"
        filed = end_of_day(cover_filing_date(doc.text), EASTERN)
        return (filed, "filing_date") if filed else ("", "")
    if raw.content_type == "html":
        found, source = "", ""
        for value, name in (
            (meta.get("published", ""), "feed"),
            (page_published(raw.content) if raw.content else "", "page_meta"),
            (doc.date, "htmldate"),
        ):
            found = parse_time(value)
            if found:
                source = name
                break
        crawled = parse_time(raw.fetched_at)
        if crawled and (not found or found > crawled):
            return crawled, "crawl_date"  # an upper bound: the page was public when it was fetched
        return found, source
    for key, name in (("created_at", "post_time"), ("timestamp", "revision")):
        found = parse_time(meta.get(key, ""))
        if found:
            return found, name if raw.source == "wikipedia" or key != "timestamp" else "record_date"
    found = end_of_period(meta.get("date", ""))
    return (found, "record_date") if found else ("", "")


def end_of_period(value: str) -> str:
    """The last second (UTC) of ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (e.g. a journal issue's year); "" else."""
    value = (value or "").strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return end_of_day(value)
    try:
        if re.fullmatch(r"\d{4}-\d{2}", value):
            start = datetime.strptime(value, "%Y-%m").replace(tzinfo=UTC)
            following = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
        elif re.fullmatch(r"\d{4}", value):
            start = datetime(int(value), 1, 1, tzinfo=UTC)
            following = start.replace(year=start.year + 1)
        else:
            return ""
    except ValueError:
        return ""
    return _utc(following - timedelta(seconds=1))


def assign_time(raw: RawRecord, doc: Document) -> Document:
    """Set ``doc.available_at`` and ``metadata["available_at_source"]`` (left unset when unknown).

    An EDGAR document without a header filing date but with a cover-page "As filed ... on" date gets that date
    as its ``date`` too (``date`` is the filing date across EDGAR).
    """
    available_at, source = resolve_available_at(raw, doc)
    doc.available_at = available_at
    if source:
        doc.metadata[SOURCE_KEY] = source
    if source == "filing_date" and not doc.date:
        doc.date = raw.metadata.get("filed") or cover_filing_date(doc.text)
    return doc


# ---------------------------------------------------------------------------------------------------------
# The cut and the periods


@dataclass(frozen=True)
class TimeConfig:
    """``time`` config section: ``as_of`` (UTC ISO string, "" = no cut) and the ``unknown`` policy."""

    as_of: str = ""
    unknown: str = "flag"

    @classmethod
    def from_settings(cls, settings: Any) -> TimeConfig:
        """From the ``time`` config section (``pipeline.config.TimeSettings``) or a plain mapping."""
        if hasattr(settings, "model_dump"):
            settings = settings.model_dump()
        settings = settings or {}
        as_of = settings.get("as_of")
        unknown = str(settings.get("unknown") or "flag")
        if unknown not in UNKNOWN_POLICIES:
            raise ConfigError(
                f"time.unknown / --time_unknown must be one of {', '.join(UNKNOWN_POLICIES)}, got {unknown!r}"
            )
        return cls(as_of=parse_as_of(as_of) if as_of not in (None, "") else "", unknown=unknown)


def cut(doc: Document, cfg: TimeConfig) -> Document | Rejected:
    """The pure core of the ``time`` stage."""
    if not cfg.as_of:
        return doc
    if not doc.available_at:
        if cfg.unknown == "drop":
            return Rejected(stage=STAGE, reason=UNKNOWN_TIME, document=doc)
        if cfg.unknown == "flag":
            doc.metadata[UNKNOWN_FLAG] = "true"
        return doc
    if parse_utc(doc.available_at) > parse_utc(cfg.as_of):
        return Rejected(stage=STAGE, reason=AFTER_CUTOFF, document=doc)
    return doc


def period_of(available_at: str, by: str) -> str:
    """``2019`` (year) or ``2019-Q3`` (quarter) of a UTC time; ``unknown`` without one."""
    if not available_at:
        return UNKNOWN_PERIOD
    year, month = int(available_at[:4]), int(available_at[5:7])
    return str(year) if by == "year" else f"{year}-Q{(month - 1) // 3 + 1}"


def validate_period(value: Any) -> str:
    """``shards.partition_by_period``: "" (off), ``year`` or ``quarter``."""
    if value in (None, "", False, "none"):
        return ""
    if value not in PERIODS:
        raise ConfigError(
            f"shards.partition_by_period / --partition_by_period must be year or quarter, got {value!r}"
        )
    return str(value)


# ---------------------------------------------------------------------------------------------------------
# Leakage signal for the report


_YEAR_RE = re.compile(r"\b(19[7-9]\d|20\d\d)\b")


def later_years(text: str, as_of: str) -> list[int]:
    """Years after the cut-off year mentioned in ``text`` (sorted, distinct): a cheap sign of mis-dated text.

    A forward-looking statement ("notes due 2030") also matches: this is a signal to inspect, not a verdict.
    """
    if not as_of:
        return []
    cutoff_year = int(as_of[:4])
    return sorted({int(y) for y in _YEAR_RE.findall(text) if int(y) > cutoff_year})


def shift(iso: str, seconds: int) -> str:
    """``iso`` moved by ``seconds`` (for tests and cut-offs between two documents)."""
    return format_utc(parse_utc(iso) + timedelta(seconds=seconds))
