"""Live SEC EDGAR: list filings, then download them into a raw cache that the ``edgar`` reader reads offline.

Fair access (https://www.sec.gov/os/accessing-edgar-data) is a hard requirement here:

- a declared User-Agent ``"Company or Name contact@email"`` (``--user_agent``, the config, or the
  ``EDGAR_USER_AGENT`` environment variable); without one nothing starts (``resolve_user_agent``);
- at most 10 requests/s across all threads of a process: ``max_rps`` defaults to 8 and a value above 10
  is refused; every request (index files, JSON, filings, retries) goes through the process-wide ``sec.gov``
  limiter of ``sources.http``, shared by the ``workers`` download threads;
- backoff with full jitter on 429/5xx/timeouts/truncated bodies honouring ``Retry-After``, bounded retries;
  a filing that still fails is written to ``<cache_dir>/errors/edgar-fetch-<UTC time>.jsonl`` (and returned),
  never lost and never a crash;
- a raw cache keyed by accession: a cached filing costs zero requests on a rerun or a resumed run
  (``refresh=True`` / ``--refresh`` refetches).

Enumeration (``list_filings``):

- by form types and date range: ``full-index/{Y}/QTR{q}/form.idx`` for every quarter touching
  ``[start, end]``; when a quarter's full index is missing (404: the current quarter before SEC builds it, or
  a partial mirror) the ``daily-index/{Y}/QTR{q}/form.{YYYYMMDD}.idx`` files of its weekdays up to today are
  read instead (404 days, i.e. holidays, are skipped). ``index_name="master"`` reads the pipe-separated
  ``master.idx`` files instead. Index files of past quarters and days never change, so they are cached too.
- by tickers/CIKs: ``https://www.sec.gov/files/company_tickers.json`` maps tickers to CIKs, then
  ``data.sec.gov/submissions/CIK##########.json`` (columnar ``filings.recent``) and those of its paginated
  ``filings.files[*]`` (``CIK##########-submissions-001.json`` ...) whose date range meets ``[start, end]``.
- form filter: an exact, case-insensitive match against the list (``10-K`` does not select ``10-K/A`` or
  ``10-K405``: name every variant you want). An empty list selects every form.
- a filing listed under several filers (one index row per CIK) is fetched once.

Fetching (``fetch_filings``): the full submission ``/Archives/edgar/data/{cik}/{accession}.txt``
(``document="submission"``, default) or the primary document (``document="primary"``; it needs
tickers/CIKs, because only the submissions JSON names the primary document). Cache layout (``RawCache``,
local folder or ``gs://``)::

    <cache_dir>/edgar/<accession>.txt                 full submissions
    <cache_dir>/edgar/<accession>-<primary document>  primary documents (e.g. ...-aapl-20240928.htm)
    <cache_dir>/_meta/edgar/<key>.json                where and when each one was fetched
    <cache_dir>/edgar-index/...                       cached index files and submissions pages
    <cache_dir>/errors/edgar-fetch-*.jsonl            filings that failed after all retries

Offline processing of what was fetched is the ordinary ``edgar`` reader, with the same parsing code::

    python -m pipeline run --input edgar=<cache_dir>/edgar/*.txt

Dataflow: the limit is per process, and Dataflow runs many worker processes at once, so a fetch step
running on Dataflow must give each one ``per_worker_rps(global_rps, num_workers)`` = the global budget
divided by the number of workers (``worker_rps_from_options`` reads ``--max_num_workers``, else
``--num_workers``, from the pipeline options: autoscaling may reach the maximum). Python workers run one
SDK process per vCPU unless told otherwise (``--experiments=no_use_multiple_sdk_containers``): pass
``processes_per_worker`` to divide by those too. All workers share one egress IP only behind Cloud NAT; the
budget is divided anyway, since SEC counts per client, not per address.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from apache_beam.io.filesystems import FileSystems
from tqdm import tqdm

from core.errors import ConfigError
from sources.http import FetchError, HttpClient, RawCache

__all__ = [
    "DOCUMENTS",
    "SEC_MAX_RPS",
    "EdgarFetchConfig",
    "FetchSummary",
    "FilingRef",
    "fetch_filings",
    "list_filings",
    "parse_index",
    "parse_submissions",
    "per_worker_rps",
    "quarters",
    "resolve_user_agent",
    "run_fetch",
    "worker_rps_from_options",
]

_LOG = logging.getLogger(__name__)

SEC_MAX_RPS = 10.0  # SEC fair-access limit per client
DEFAULT_MAX_RPS = 8.0
DOCUMENTS = ("submission", "primary")
INDEX_NAMES = ("form", "master")
NAMESPACE = "edgar"
INDEX_NAMESPACE = "edgar-index"
USER_AGENT_ENV = "EDGAR_USER_AGENT"
USER_AGENT_HELP = (
    'set a User-Agent naming you and a contact e-mail, e.g. --user_agent "Acme Research research@acme.com" '
    'or export EDGAR_USER_AGENT="Acme Research research@acme.com" (SEC fair-access rule)'
)

_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_ACCESSION_RE = re.compile(r"^\d{10}-\d{2}-\d{6}$")


# ---------------------------------------------------------------------------------------------------------
# Configuration


def resolve_user_agent(flag_value: str | None, config_value: str | None = None) -> str:
    """The EDGAR User-Agent from the flag, else the config, else ``EDGAR_USER_AGENT``; ``ConfigError`` when
    there is none or it is not "Company or Name contact@email" (a name and an e-mail address)."""
    for origin, value in (
        ("--user_agent", flag_value),
        ("the config's user_agent", config_value),
        (USER_AGENT_ENV, os.environ.get(USER_AGENT_ENV)),
    ):
        if value and value.strip():
            return validate_user_agent(value, origin)
    raise ConfigError(f"EDGAR needs a User-Agent: {USER_AGENT_HELP}")


def validate_user_agent(value: str, origin: str = "user agent") -> str:
    """``value`` stripped, if it holds a name and an e-mail address; else ``ConfigError``."""
    value = " ".join(value.split())
    email = _EMAIL_RE.search(value)
    name = _EMAIL_RE.sub("", value).strip(" <>()[],;-")
    if not email or not name:
        missing = "no e-mail address" if not email else "no name before the e-mail address"
        raise ConfigError(f"{origin} {value!r} has {missing}: {USER_AGENT_HELP}")
    return value


def _parse_date(value: str | date | None, what: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{what} {value!r} is not a date; use YYYY-MM-DD") from None


def _split_list(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(item).strip() for item in items if str(item).strip()]


@dataclass
class EdgarFetchConfig:
    """What to list and fetch, and how politely. ``ConfigError`` for any bad value (see the module doc)."""

    user_agent: str
    forms: list[str] = field(default_factory=list)
    start: date | None = None
    end: date | None = None
    ciks: list[str] = field(default_factory=list)
    tickers: list[str] = field(default_factory=list)
    document: str = "submission"
    cache_dir: str = "cache"
    refresh: bool = False
    max_rps: float = DEFAULT_MAX_RPS
    base_url: str = "https://www.sec.gov"
    data_base_url: str = "https://data.sec.gov"
    workers: int = 1
    index_name: str = "form"
    max_retries: int = 5
    backoff_base: float = 0.5
    timeout: float = 30.0

    def __post_init__(self) -> None:
        self.user_agent = validate_user_agent(self.user_agent or "", "user_agent")
        if not 0 < self.max_rps <= SEC_MAX_RPS:
            raise ConfigError(
                f"max_rps {self.max_rps:g} is not allowed: SEC fair access permits at most "
                f"{SEC_MAX_RPS:g} requests/s (default {DEFAULT_MAX_RPS:g})"
            )
        if self.workers < 1:
            raise ConfigError(f"workers must be >= 1, got {self.workers}")
        if self.document not in DOCUMENTS:
            raise ConfigError(f"document {self.document!r} is not one of {', '.join(DOCUMENTS)}")
        if self.index_name not in INDEX_NAMES:
            raise ConfigError(f"index_name {self.index_name!r} is not one of {', '.join(INDEX_NAMES)}")
        self.start = _parse_date(self.start, "start")
        self.end = _parse_date(self.end, "end")
        if self.start and self.end and self.start > self.end:
            raise ConfigError(f"start {self.start} is after end {self.end}")
        self.forms = [form.upper() for form in _split_list(self.forms)]
        self.tickers = [ticker.upper() for ticker in _split_list(self.tickers)]
        ciks = _split_list(self.ciks)
        bad = [cik for cik in ciks if not cik.isdigit()]
        if bad:
            raise ConfigError(f"CIK {bad[0]!r} is not a number (e.g. --ciks 320193)")
        self.ciks = [str(int(cik)) for cik in ciks]
        if not (self.ciks or self.tickers):
            if not (self.start and self.end):
                raise ConfigError("give --start and --end (YYYY-MM-DD), or --tickers/--ciks")
            if self.document == "primary":
                raise ConfigError(
                    "document=primary needs --tickers or --ciks (only the submissions JSON names the primary "
                    "document); use document=submission for an index-wide crawl"
                )
        self.base_url = self.base_url.rstrip("/")
        self.data_base_url = self.data_base_url.rstrip("/")

    def client(self) -> HttpClient:
        """An HTTP client with this config's User-Agent, rate and retry policy."""
        return HttpClient.from_settings(self)


def per_worker_rps(global_rps: float, num_workers: int, processes_per_worker: int = 1) -> float:
    """The request rate each worker process may use so that all of them together stay within ``global_rps``."""
    if global_rps <= 0:
        raise ConfigError(f"the global request rate must be > 0, got {global_rps}")
    return global_rps / (max(1, int(num_workers)) * max(1, int(processes_per_worker)))


def worker_rps_from_options(global_rps: float, options: Any, processes_per_worker: int = 1) -> float:
    """``per_worker_rps`` with the worker count of Beam pipeline options (``PipelineOptions``, a dict or an
    argv list): ``--max_num_workers``, else ``--num_workers``, else 1 (the DirectRunner's single process)."""
    if isinstance(options, list | tuple):
        from apache_beam.options.pipeline_options import PipelineOptions

        options = PipelineOptions(list(options))
    if hasattr(options, "get_all_options"):
        options = options.get_all_options()
    workers = options.get("max_num_workers") or options.get("num_workers") or 1
    return per_worker_rps(global_rps, int(workers), processes_per_worker)


# ---------------------------------------------------------------------------------------------------------
# Enumeration


@dataclass(frozen=True)
class FilingRef:
    """One filing to fetch. ``cik`` without leading zeros, ``filed`` as YYYY-MM-DD; ``url_primary`` is ""
    when the listing did not name the primary document (index files do not)."""

    cik: str
    company: str
    form: str
    filed: str
    accession: str
    url_submission_txt: str
    url_primary: str = ""

    def cache_key(self, document: str) -> str:
        """The cache file name: ``<accession>.txt``, or ``<accession>-<primary document name>``."""
        if document == "primary" and self.url_primary:
            return f"{self.accession}-{self.url_primary.rsplit('/', 1)[-1]}"
        return f"{self.accession}.txt"

    def url(self, document: str) -> str:
        return self.url_primary if document == "primary" else self.url_submission_txt


def quarters(start: date, end: date) -> list[tuple[int, int]]:
    """The (year, quarter) pairs covering ``[start, end]``, in order."""
    result = []
    year, quarter = start.year, (start.month - 1) // 3 + 1
    while (year, quarter) <= (end.year, (end.month - 1) // 3 + 1):
        result.append((year, quarter))
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return result


def _quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    first = date(year, 3 * quarter - 2, 1)
    next_first = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return first, next_first - timedelta(days=1)


def _index_date(value: str) -> str:
    """YYYY-MM-DD from an index's ``20200318`` or ``2020-03-18``; "" when neither."""
    value = value.strip()
    if re.fullmatch(r"\d{8}", value):
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return value if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else ""


def _archives_url(base_url: str, file_name: str) -> str:
    return f"{base_url}/Archives/{file_name.lstrip('/')}"


def parse_index(text: str, base_url: str = "https://www.sec.gov") -> Iterator[FilingRef]:
    """Filings of an EDGAR index file: ``form.idx`` (fixed-width columns Form Type, Company Name, CIK, Date
    Filed, File Name) or ``master.idx`` (``CIK|Company Name|Form Type|Date Filed|Filename``), full or daily.
    Rows that do not parse (headers, separators, blank lines) are skipped."""
    lines = text.splitlines()
    pipe = any(line.startswith("CIK|") for line in lines[:50])
    company_col = -1
    in_rows = False
    for line in lines:
        if not in_rows:
            if line.startswith("Form Type") and "Company Name" in line:
                company_col = line.index("Company Name")
            in_rows = line.startswith("-----")
            continue
        if not line.strip():
            continue
        if pipe:
            parts = line.split("|")
            if len(parts) != 5:
                continue
            cik, company, form, filed, file_name = (part.strip() for part in parts)
        else:
            parts = line.rstrip().rsplit(None, 3)
            if len(parts) != 4 or company_col < 0:
                continue
            prefix, cik, filed, file_name = parts
            form, company = prefix[:company_col].strip(), prefix[company_col:].strip()
        filed = _index_date(filed)
        accession = file_name.rsplit("/", 1)[-1].removesuffix(".txt")
        if not (cik.isdigit() and filed and form and _ACCESSION_RE.match(accession)):
            continue
        yield FilingRef(
            cik=str(int(cik)),
            company=company,
            form=form,
            filed=filed,
            accession=accession,
            url_submission_txt=_archives_url(base_url, file_name),
        )


def parse_submissions(
    data: dict[str, Any], cik: str, company: str = "", base_url: str = "https://www.sec.gov"
) -> list[FilingRef]:
    """Filings of a submissions JSON: the whole document (``filings.recent``) or one paginated
    ``-submissions-NNN.json`` page (the same columnar arrays at the top level)."""
    columns = data.get("filings", {}).get("recent", data) if "filings" in data else data
    company = company or str(data.get("name", ""))
    cik = str(int(cik))
    refs = []
    accessions = columns.get("accessionNumber") or []
    for i, accession in enumerate(accessions):
        form = _column(columns, "form", i)
        primary = _column(columns, "primaryDocument", i)
        folder = f"{base_url}/Archives/edgar/data/{cik}"
        refs.append(
            FilingRef(
                cik=cik,
                company=company,
                form=form,
                filed=_column(columns, "filingDate", i),
                accession=accession,
                url_submission_txt=f"{folder}/{accession}.txt",
                url_primary=f"{folder}/{accession.replace('-', '')}/{primary}" if primary else "",
            )
        )
    return refs


def _column(columns: dict[str, Any], name: str, i: int) -> str:
    values = columns.get(name) or []
    return str(values[i]) if i < len(values) and values[i] is not None else ""


def _selected(ref: FilingRef, config: EdgarFetchConfig) -> bool:
    if config.forms and ref.form.upper() not in config.forms:
        return False
    if config.start and ref.filed < config.start.isoformat():
        return False
    return not (config.end and ref.filed > config.end.isoformat())


class _Lister:
    """Enumeration state of one run: the client, the cache and the listing requests made."""

    def __init__(self, config: EdgarFetchConfig, client: HttpClient, cache: RawCache, today: date):
        self.config = config
        self.client = client
        self.cache = cache
        self.today = today

    def get(self, url: str, cache_key: str | None = None) -> bytes:
        """A listing file; immutable ones (``cache_key`` given) come from / go to the cache."""
        if cache_key and not self.config.refresh:
            cached = self.cache.get(INDEX_NAMESPACE, cache_key)
            if cached is not None:
                return cached
        data = self.client.get(url).content
        if cache_key:
            self.cache.put(INDEX_NAMESPACE, cache_key, data, {"url": url})
        return data

    def from_indexes(self) -> Iterator[FilingRef]:
        cfg = self.config
        assert cfg.start and cfg.end
        name = cfg.index_name
        for year, quarter in quarters(cfg.start, cfg.end):
            q_first, q_last = _quarter_bounds(year, quarter)
            closed = q_last < self.today
            url = f"{cfg.base_url}/Archives/edgar/full-index/{year}/QTR{quarter}/{name}.idx"
            key = f"full-index_{year}_QTR{quarter}_{name}.idx" if closed else None
            try:
                text = self.get(url, key).decode("latin-1")
            except FetchError as exc:
                if exc.status != 404:
                    raise
                _LOG.info("no full index for %d QTR%d; reading the daily indexes", year, quarter)
                yield from self._daily(year, quarter, max(cfg.start, q_first), min(cfg.end, q_last))
                continue
            yield from parse_index(text, cfg.base_url)

    def _daily(self, year: int, quarter: int, first: date, last: date) -> Iterator[FilingRef]:
        cfg = self.config
        day = first
        while day <= min(last, self.today):
            if day.weekday() < 5:  # EDGAR publishes no index for weekends
                stamp = day.strftime("%Y%m%d")
                url = f"{cfg.base_url}/Archives/edgar/daily-index/{year}/QTR{quarter}/{cfg.index_name}.{stamp}.idx"
                key = f"daily-index_{cfg.index_name}.{stamp}.idx" if day < self.today else None
                try:
                    yield from parse_index(self.get(url, key).decode("latin-1"), cfg.base_url)
                except FetchError as exc:
                    if exc.status != 404:
                        raise
                    _LOG.info("no daily index for %s (holiday?)", day)
            day += timedelta(days=1)

    def ciks(self) -> list[tuple[str, str]]:
        """(CIK, company) for the configured CIKs and tickers; ``ConfigError`` for an unknown ticker."""
        result = [(cik, "") for cik in self.config.ciks]
        if self.config.tickers:
            data = json.loads(self.get(f"{self.config.base_url}/files/company_tickers.json"))
            by_ticker = {
                str(row["ticker"]).upper(): (str(row["cik_str"]), str(row.get("title", "")))
                for row in (data.values() if isinstance(data, dict) else data)
            }
            for ticker in self.config.tickers:
                if ticker not in by_ticker:
                    raise ConfigError(f"unknown ticker {ticker!r} (not in SEC's company_tickers.json)")
                result.append(by_ticker[ticker])
        unique: dict[str, str] = {}
        for cik, name in result:
            unique.setdefault(cik, name)
        return list(unique.items())

    def from_submissions(self) -> Iterator[FilingRef]:
        cfg = self.config
        for cik, company in self.ciks():
            url = f"{cfg.data_base_url}/submissions/CIK{int(cik):010d}.json"
            data = json.loads(self.get(url))
            company = str(data.get("name") or company)
            yield from parse_submissions(data, cik, company, cfg.base_url)
            for page in data.get("filings", {}).get("files", []):
                if not self._page_overlaps(page):
                    continue
                page_url = f"{cfg.data_base_url}/submissions/{page['name']}"
                page_data = json.loads(self.get(page_url, page["name"]))
                yield from parse_submissions(page_data, cik, company, cfg.base_url)

    def _page_overlaps(self, page: dict[str, Any]) -> bool:
        """Whether a paginated submissions file may hold filings in ``[start, end]``."""
        first, last = str(page.get("filingFrom", "")), str(page.get("filingTo", ""))
        if self.config.start and last and last < self.config.start.isoformat():
            return False
        return not (self.config.end and first and first > self.config.end.isoformat())


def list_filings(
    config: EdgarFetchConfig, client: HttpClient, cache: RawCache | None = None, today: date | None = None
) -> list[FilingRef]:
    """Every selected filing, once per accession, sorted by filing date then accession."""
    cache = cache or RawCache(config.cache_dir)
    lister = _Lister(config, client, cache, today or datetime.now(UTC).date())
    source = lister.from_submissions() if (config.ciks or config.tickers) else lister.from_indexes()
    refs: dict[str, FilingRef] = {}
    for ref in source:
        if _selected(ref, config):
            refs.setdefault(ref.accession, ref)
    return sorted(refs.values(), key=lambda ref: (ref.filed, ref.accession))


# ---------------------------------------------------------------------------------------------------------
# Fetching


@dataclass
class FetchSummary:
    """What one fetch run did. ``cached``: filings already in the cache (no request made)."""

    listed: int = 0
    fetched: int = 0
    cached: int = 0
    failed: int = 0
    requests: int = 0
    elapsed: float = 0.0
    errors: list[dict[str, Any]] = field(default_factory=list)
    errors_path: str = ""

    def line(self) -> str:
        """The one-line summary the ``fetch`` command prints."""
        text = (
            f"edgar: {self.listed} filings listed, {self.fetched} fetched, {self.cached} cached (skipped), "
            f"{self.failed} failed, {self.requests} requests, {self.elapsed:.1f}s"
        )
        return text + (f"; failures in {self.errors_path}" if self.errors_path else "")


def _fetch_one(
    ref: FilingRef, config: EdgarFetchConfig, client: HttpClient, cache: RawCache
) -> tuple[str, dict[str, Any] | None]:
    """("cached" | "fetched" | "failed", the error record when failed)."""
    key = ref.cache_key(config.document)
    if not config.refresh and cache.has(NAMESPACE, key):
        return "cached", None
    url = ref.url(config.document)
    if not url:
        return "failed", _error_record(
            ref, url, "no_primary_document", "the listing names no primary document", 0
        )
    try:
        response = client.get(url)
        meta = {"url": url, "status": response.status_code, **asdict(ref)}
        meta["fetched_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        cache.put(NAMESPACE, key, response.content, meta)
    except FetchError as exc:
        return "failed", _error_record(ref, url, exc.kind, str(exc), exc.attempts)
    except OSError as exc:  # the cache could not be written (disk full, permissions, bucket)
        return "failed", _error_record(ref, url, "cache_write", f"{type(exc).__name__}: {exc}", 0)
    return "fetched", None


def _error_record(ref: FilingRef, url: str, kind: str, message: str, attempts: int) -> dict[str, Any]:
    return {
        "source": "filings",
        "stage": "fetch",
        "kind": kind,
        "message": message,
        "id": ref.accession,
        "url": url,
        "attempts": attempts,
        "cik": ref.cik,
        "form": ref.form,
        "filed": ref.filed,
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def fetch_filings(
    refs: Sequence[FilingRef],
    config: EdgarFetchConfig,
    client: HttpClient,
    cache: RawCache | None = None,
    progress: bool = True,
    on_done: Callable[[FilingRef, str], None] | None = None,
) -> FetchSummary:
    """Download the filings not yet cached with ``config.workers`` threads sharing the rate limit.

    Failures are collected (and written to ``<cache_dir>/errors/edgar-fetch-<time>.jsonl``), never raised.
    """
    cache = cache or RawCache(config.cache_dir)
    summary = FetchSummary(listed=len(refs))
    lock = threading.Lock()
    bar = tqdm(total=len(refs), unit="filing", desc="edgar", file=sys.stderr, disable=not progress)

    def work(ref: FilingRef) -> None:
        outcome, error = _fetch_one(ref, config, client, cache)
        with lock:
            if outcome == "cached":
                summary.cached += 1
            elif outcome == "fetched":
                summary.fetched += 1
            else:
                summary.failed += 1
                summary.errors.append(error or {})
            bar.update(1)
        if on_done is not None:
            on_done(ref, outcome)

    try:
        if config.workers == 1:
            for ref in refs:
                work(ref)
        else:
            with ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="edgar-fetch") as pool:
                for future in as_completed([pool.submit(work, ref) for ref in refs]):
                    future.result()
    finally:
        bar.close()
    if summary.errors:
        summary.errors_path = _write_errors(config.cache_dir, summary.errors)
    return summary


def _write_errors(cache_dir: str, errors: list[dict[str, Any]]) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = FileSystems.join(cache_dir.rstrip("/"), "errors", f"edgar-fetch-{stamp}.jsonl")
    with FileSystems.create(path) as out:
        for error in errors:
            out.write((json.dumps(error, sort_keys=True) + "\n").encode())
    return path


def run_fetch(config: EdgarFetchConfig, progress: bool = True, today: date | None = None) -> FetchSummary:
    """List, then fetch; the whole download step of ``python -m pipeline fetch edgar``."""
    started = time.monotonic()
    client = config.client()
    cache = RawCache(config.cache_dir)
    refs = list_filings(config, client, cache, today)
    summary = fetch_filings(refs, config, client, cache, progress=progress)
    summary.requests = client.requests_made
    summary.elapsed = time.monotonic() - started
    return summary
