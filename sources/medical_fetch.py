"""``fetch pubmed`` and ``fetch pmc``: NLM's public bulk files into the raw cache, verified, on the shared client.

- **PubMed/MEDLINE** (``fetch_pubmed``): the directory listings ``<base>/pubmed/baseline/`` and
  ``<base>/pubmed/updatefiles/`` (NLM's HTTPS mirror of its FTP site) name ``pubmedYYnNNNN.xml.gz`` files, each
  with a ``.md5`` sibling holding ``MD5(name)= <hex>``. Every file is downloaded with ``sources.http.HttpClient``
  (declared User-Agent, rate limit, retries with backoff on 429/5xx/timeouts/truncated bodies) and its MD5 is
  checked against the sibling: a mismatch is retried like a truncated body (up to ``max_retries`` times), then
  the file is listed under ``<cache>/errors/`` with kind ``md5_mismatch``; nothing unverified enters the cache.
  Files land in ``<cache>/pubmed/<name>`` (the ``pubmed`` reader reads ``.xml.gz`` directly).
- **PMC Open Access** (``fetch_pmc``): the bulk packages under ``<base>/pub/pmc/oa_bulk/<group>/xml/``
  (``oa_comm``, ``oa_noncomm``, ``oa_other``): ``oa_comm_xml.PMC000xxxxxx.baseline.<date>.tar.gz`` and daily
  ``oa_comm_xml.incr.<date>.tar.gz``, each with a ``.filelist.csv`` listing its articles (``Article File``,
  ``AccessionID``, ``PMID``, ``License``, ...). A package is verified against its file list (a gzip tar holding
  every listed article; an MD5 sibling too when the listing has one), retried when it is not, and its articles
  are written one per file as ``<cache>/pmc/<PMCID>.nxml`` (what the ``pmc`` reader takes); the file list is
  stored last, under ``<cache>/pmc_filelists/``, and marks the package done.

A rerun requests only the listings: a file or package already in the cache is not fetched again (``--refresh``
forces it). ``--max_files N`` takes the first N files of the (sorted) listing, ``--match REGEX`` selects by name.
Politeness: NCBI asks for at most 3 requests/s without an API key (``DEFAULT_MAX_RPS``); a User-Agent naming
you (``--user_agent`` or ``$FINPILE_USER_AGENT``) is sent with every request.

Limitation: a package is held in memory while it is verified (the shared client reads whole bodies); PubMed
files are ~20-40 MB, daily PMC ``incr`` packages tens of MB, but PMC ``baseline`` packages are several GB, so
fetch those on a machine with the memory, or select ``--packages incr``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import re
import tarfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any, NoReturn
from urllib.parse import unquote, urljoin

from core.errors import ConfigError
from sources.http import FetchError, HttpClient, InvalidBody, RawCache

DEFAULT_BASE_URL = "https://ftp.ncbi.nlm.nih.gov"
DEFAULT_MAX_RPS = 3.0  # NCBI: no more than 3 requests per second without an API key
NCBI_MAX_RPS = 10.0
USER_AGENT_ENV = "FINPILE_USER_AGENT"
PUBMED_SETS = ("baseline", "updatefiles")
PMC_GROUPS = ("oa_comm", "oa_noncomm", "oa_other")
PMC_PACKAGES = ("baseline", "incr")

PUBMED_FILE_RE = re.compile(r"^pubmed\d+n\d{4}\.xml\.gz$")
MD5_RE = re.compile(r"\b([0-9a-fA-F]{32})\b")
PMC_PACKAGE_RE = re.compile(
    r"^(oa_comm|oa_noncomm|oa_other)_xml\.(?:PMC\d+x+\.)?(baseline|incr)\.[\w.-]+\.tar\.gz$"
)
PMCID_RE = re.compile(r"PMC\d+")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def listing_names(html: str) -> list[str]:
    """File names linked from a directory listing page (Apache/nginx style), in page order, without paths."""
    parser = _Links()
    parser.feed(html)
    names: list[str] = []
    for href in parser.hrefs:
        if href.startswith(("?", "#", "/")) or href.endswith("/") or "://" in href:
            continue
        name = unquote(href.rsplit("/", 1)[-1])
        if name and name not in names:
            names.append(name)
    return names


def parse_md5(text: str) -> str:
    """The hex digest of an NLM ``.md5`` file (``MD5(name)= hex`` or ``hex  name``); ValueError if none."""
    match = MD5_RE.search(text)
    if not match:
        raise ValueError(f"no MD5 digest in {text[:80]!r}")
    return match.group(1).lower()


def parse_filelist(text: str) -> list[dict[str, str]]:
    """Rows of a PMC bulk package's ``.filelist.csv`` (header ``Article File,...,AccessionID,...``)."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "Article File" not in reader.fieldnames:
        raise ValueError("not a PMC file list: no 'Article File' column")
    return [row for row in reader if (row.get("Article File") or "").strip()]


# ---------------------------------------------------------------------------------------------------------
# Configuration and summary


@dataclass
class MedicalFetchConfig:
    """What ``fetch pubmed`` / ``fetch pmc`` downloads, from where, how politely."""

    user_agent: str
    cache_dir: str = "cache"
    base_url: str = DEFAULT_BASE_URL
    sets: tuple[str, ...] = ("baseline",)  # pubmed: baseline, updatefiles
    groups: tuple[str, ...] = ("oa_comm",)  # pmc
    packages: tuple[str, ...] = PMC_PACKAGES  # pmc: baseline, incr
    max_files: int | None = None
    match: str | None = None
    refresh: bool = False
    max_rps: float = DEFAULT_MAX_RPS
    max_retries: int = 5
    backoff_base: float = 0.5
    timeout: float = 120.0

    def __post_init__(self) -> None:
        if not self.user_agent or not self.user_agent.strip():
            raise ConfigError(
                f"no User-Agent: pass --user_agent 'Name contact@example.com' or set ${USER_AGENT_ENV}"
            )
        if not 0 < self.max_rps <= NCBI_MAX_RPS:
            raise ConfigError(f"--max_rps must be in (0, {NCBI_MAX_RPS:g}], got {self.max_rps:g}")
        if self.max_retries < 0:
            raise ConfigError(f"--max_retries must be >= 0, got {self.max_retries}")
        if self.max_files is not None and self.max_files < 1:
            raise ConfigError(f"--max_files must be a positive integer, got {self.max_files}")
        for value, allowed, flag in (
            (self.sets, PUBMED_SETS, "--sets"),
            (self.groups, PMC_GROUPS, "--groups"),
            (self.packages, PMC_PACKAGES, "--packages"),
        ):
            bad = [v for v in value if v not in allowed]
            if bad or not value:
                raise ConfigError(
                    f"{flag}: choose among {', '.join(allowed)}, got {', '.join(value) or 'nothing'}"
                )
        if self.match:
            try:
                re.compile(self.match)
            except re.error as exc:
                raise ConfigError(
                    f"--match {self.match!r} is not a valid regular expression: {exc}"
                ) from None
        self.base_url = self.base_url.rstrip("/")

    def client(self) -> HttpClient:
        """An HTTP client with this config's User-Agent, rate and retry policy."""
        return HttpClient.from_settings(self)


@dataclass
class MedicalFetchSummary:
    """Counts of one fetch (files listed, fetched, cached, failed; articles written for PMC)."""

    what: str
    listed: int = 0
    fetched: int = 0
    cached: int = 0
    failed: int = 0
    articles: int = 0
    requests: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    errors_path: str | None = None

    def line(self) -> str:
        text = (
            f"fetch {self.what}: {self.listed} files listed, {self.fetched} fetched, {self.cached} already cached, "
            f"{self.failed} failed; {self.requests} requests"
        )
        if self.what == "pmc":
            text += f"; {self.articles} articles written"
        if self.errors_path:
            text += f"; failures listed in {self.errors_path}"
        return text


# ---------------------------------------------------------------------------------------------------------
# The fetch loops


def _select(names: list[str], config: MedicalFetchConfig) -> list[str]:
    if config.match:
        pattern = re.compile(config.match)
        names = [n for n in names if pattern.search(n)]
    return names[: config.max_files] if config.max_files else names


def _verified_get(client: HttpClient, url: str, check: Callable[[bytes], None]) -> bytes:
    """The body of ``url`` once the shared client's checks (length, gzip stream) and ``check`` accept it; a
    refused body is fetched again with backoff (``max_retries``), then ``FetchError`` with the check's kind."""
    return client.get(url, validate=check).content


def _md5_check(expected: str) -> Callable[[bytes], None]:
    def check(body: bytes) -> None:
        got = hashlib.md5(body, usedforsecurity=False).hexdigest()
        if got != expected:
            raise InvalidBody(f"MD5 {got} does not match the published {expected}", kind="md5_mismatch")

    return check


def _error(name: str, url: str, exc: FetchError | ValueError) -> dict[str, Any]:
    return {
        "id": name,
        "url": url,
        "kind": getattr(exc, "kind", "bad_listing"),
        "message": str(exc),
        "attempts": getattr(exc, "attempts", 1),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _write_errors(cache_dir: str, what: str, errors: list[dict[str, Any]]) -> str:
    cache = RawCache(cache_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    key = f"{what}-fetch-{stamp}-{uuid.uuid4().hex[:6]}.jsonl"
    body = "".join(json.dumps(e, sort_keys=True) + "\n" for e in errors).encode()
    cache._write_atomic(cache.path("errors", key), body)
    return cache.path("errors", key)


def fetch_pubmed(config: MedicalFetchConfig) -> MedicalFetchSummary:
    """Download the selected baseline/update files, MD5-checked, into ``<cache>/pubmed/``."""
    client, cache = config.client(), RawCache(config.cache_dir)
    summary = MedicalFetchSummary("pubmed")
    for set_name in config.sets:
        listing_url = f"{config.base_url}/pubmed/{set_name}/"
        try:
            page = client.get(listing_url).text
        except FetchError as exc:
            summary.failed += 1
            summary.errors.append(_error(f"{set_name}/", listing_url, exc))
            continue
        names = listing_names(page)
        available = set(names)
        for name in _select(sorted(n for n in names if PUBMED_FILE_RE.match(n)), config):
            summary.listed += 1
            url = urljoin(listing_url, name)
            if (
                not config.refresh
                and cache.has("pubmed", name)
                and (cache.get_meta("pubmed", name) or {}).get("md5")
            ):
                summary.cached += 1
                continue
            try:
                if name + ".md5" not in available:
                    raise FetchError(
                        "no_md5", f"{listing_url} lists no {name}.md5: cannot verify {name}", url=url
                    )
                expected = parse_md5(client.get(url + ".md5").text)
                body = _verified_get(client, url, _md5_check(expected))
            except (FetchError, ValueError) as exc:
                summary.failed += 1
                summary.errors.append(_error(name, url, exc))
                continue
            cache.put("pubmed", name, body, {"url": url, "md5": expected, "set": set_name})
            summary.fetched += 1
    summary.requests = client.requests_made
    if summary.errors:
        summary.errors_path = _write_errors(config.cache_dir, "pubmed", summary.errors)
    return summary


def _package_check(filelist: list[dict[str, str]], md5: str | None) -> Callable[[bytes], None]:
    wanted = {row["Article File"].strip() for row in filelist}

    def check(body: bytes) -> None:
        if md5:
            _md5_check(md5)(body)
        try:
            with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
                members = {m.name for m in tar.getmembers() if m.isfile()}
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise InvalidBody(
                f"not a readable .tar.gz ({type(exc).__name__}: {exc})", kind="bad_package"
            ) from None
        missing = sorted(wanted - members)
        if missing:
            raise InvalidBody(
                f"{len(missing)} articles of its file list missing, e.g. {missing[0]}",
                kind="incomplete_package",
            )

    return check


def _articles(body: bytes, filelist: list[dict[str, str]]) -> list[tuple[str, bytes]]:
    """(PMCID, JATS bytes) of every listed article of a verified package."""
    out = []
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        for row in filelist:
            name = row["Article File"].strip()
            match = PMCID_RE.search(row.get("AccessionID") or "") or PMCID_RE.search(name.rsplit("/", 1)[-1])
            member = tar.extractfile(name)
            if match and member is not None:
                out.append((match.group(0), member.read()))
    return out


def fetch_pmc(config: MedicalFetchConfig) -> MedicalFetchSummary:
    """Download the selected OA bulk packages, verified against their file lists, as one ``.nxml`` per article."""
    client, cache = config.client(), RawCache(config.cache_dir)
    summary = MedicalFetchSummary("pmc")
    for group in config.groups:
        listing_url = f"{config.base_url}/pub/pmc/oa_bulk/{group}/xml/"
        try:
            names = listing_names(client.get(listing_url).text)
        except FetchError as exc:
            summary.failed += 1
            summary.errors.append(_error(f"{group}/", listing_url, exc))
            continue
        available = set(names)
        packages = []
        for name in sorted(names):
            match = PMC_PACKAGE_RE.match(name)
            if match and match.group(1) == group and match.group(2) in config.packages:
                packages.append(name)
        for name in _select(packages, config):
            summary.listed += 1
            url = urljoin(listing_url, name)
            stem = name[: -len(".tar.gz")]
            list_key = stem + ".filelist.csv"
            if not config.refresh and cache.has("pmc_filelists", list_key):
                summary.cached += 1
                continue
            try:
                if list_key not in available:
                    raise FetchError(
                        "no_filelist", f"{listing_url} lists no {list_key}: cannot verify {name}", url=url
                    )
                list_text = client.get(urljoin(listing_url, list_key)).content.decode("utf-8", "replace")
                filelist = parse_filelist(list_text)
                md5 = parse_md5(client.get(url + ".md5").text) if name + ".md5" in available else None
                body = _verified_get(client, url, _package_check(filelist, md5))
            except (FetchError, ValueError) as exc:
                summary.failed += 1
                summary.errors.append(_error(name, url, exc))
                continue
            for pmcid, data in _articles(body, filelist):
                cache.put("pmc", f"{pmcid}.nxml", data, {"url": url, "package": name})
                summary.articles += 1
            cache.put("pmc_filelists", list_key, list_text.encode(), {"url": url, "articles": len(filelist)})
            summary.fetched += 1
    summary.requests = client.requests_made
    if summary.errors:
        summary.errors_path = _write_errors(config.cache_dir, "pmc", summary.errors)
    return summary


# ---------------------------------------------------------------------------------------------------------
# Command line


def _csv_tuple(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _parser(what: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m pipeline fetch {what}",
        description=(
            "Download PubMed/MEDLINE baseline and update files (MD5-checked) into CACHE_DIR/pubmed/; process them "
            "with: python -m pipeline run --profile medical --input 'pubmed=CACHE_DIR/pubmed/*.xml.gz'"
            if what == "pubmed"
            else "Download PMC Open Access bulk packages (verified against their file lists) as one .nxml per "
            "article into CACHE_DIR/pmc/; process them with: "
            "python -m pipeline run --profile medical --input 'pmc=CACHE_DIR/pmc/*.nxml'"
        ),
    )
    parser.add_argument(
        "--user_agent",
        default=os.environ.get(USER_AGENT_ENV, ""),
        help=f"'Name contact@email' (or ${USER_AGENT_ENV})",
    )
    parser.add_argument(
        "--cache_dir", default="cache", help="raw cache folder, local or gs:// (default: cache)"
    )
    if what == "pubmed":
        parser.add_argument("--sets", default="baseline", help="baseline,updatefiles (default: baseline)")
    else:
        parser.add_argument(
            "--groups", default="oa_comm", help="oa_comm,oa_noncomm,oa_other (default: oa_comm)"
        )
        parser.add_argument("--packages", default="baseline,incr", help="baseline,incr (default: both)")
    parser.add_argument("--max_files", type=int, default=None, help="take the first N files of the listing")
    parser.add_argument("--match", default=None, help="only files whose name matches this regular expression")
    parser.add_argument("--refresh", action="store_true", help="fetch again what is already cached")
    parser.add_argument(
        "--max_rps", type=float, default=DEFAULT_MAX_RPS, help=f"requests/s (default {DEFAULT_MAX_RPS:g})"
    )
    parser.add_argument("--max_retries", type=int, default=5, help="retries per file (default 5)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per request (default 120)")
    parser.add_argument("--base_url", default=DEFAULT_BASE_URL, help="NLM's server or a mirror")

    def error(message: str) -> NoReturn:
        raise ConfigError(f"{parser.prog}: {message}")

    parser.error = error  # type: ignore[method-assign]
    return parser


def cmd_fetch_medical(what: str, argv: list[str]) -> int:
    """``fetch pubmed|pmc [options]``: 0 when everything selected is cached, 1 when some files failed."""
    args = _parser(what).parse_args(argv)
    config = MedicalFetchConfig(
        user_agent=args.user_agent,
        cache_dir=args.cache_dir,
        base_url=args.base_url,
        sets=_csv_tuple(getattr(args, "sets", "baseline")),
        groups=_csv_tuple(getattr(args, "groups", "oa_comm")),
        packages=_csv_tuple(getattr(args, "packages", "baseline,incr")),
        max_files=args.max_files,
        match=args.match,
        refresh=args.refresh,
        max_rps=args.max_rps,
        max_retries=args.max_retries,
        timeout=args.timeout,
    )
    summary = fetch_pubmed(config) if what == "pubmed" else fetch_pmc(config)
    print(summary.line())
    return 1 if summary.failed else 0
