"""``python -m pipeline fetch edgar ...``: the download step alone, before or apart from processing.

    python -m pipeline fetch edgar --user_agent "Acme Research research@acme.com" \\
        --forms 10-K,10-Q --start 2024-01-01 --end 2024-03-31 --cache_dir cache --workers 4
    python -m pipeline run --input edgar=cache/edgar/*.txt

Prints a progress bar on stderr and one summary line on stdout; filings that failed after all retries are
listed in ``<cache_dir>/errors/edgar-fetch-*.jsonl`` (exit code 1 when there are any). Bad input ends with
one line (``ConfigError``). ``python -m pipeline.fetch edgar ...`` runs the same command directly.
"""

from __future__ import annotations

import argparse
import sys

from core.argtypes import non_negative_int, parse_args_or_config_error, positive_float, positive_int
from core.errors import ConfigError
from sources.http import FetchError

SOURCES = ("edgar", "feeds", "evalsets", "pubmed", "pmc")


def _edgar_parser() -> argparse.ArgumentParser:
    from sources.edgar_fetch import DEFAULT_MAX_RPS, DOCUMENTS, SEC_MAX_RPS

    parser = argparse.ArgumentParser(
        prog="python -m pipeline fetch edgar",
        description="List SEC EDGAR filings by form and date range (full/daily indexes) or by ticker/CIK "
        "(submissions JSON) and download them into a raw cache, politely: a declared User-Agent, at most "
        f"{SEC_MAX_RPS:g} requests/s, backoff on 429/5xx. Cached filings are never requested again "
        "(--refresh to force). Process them with: python -m pipeline run --input edgar=CACHE_DIR/edgar/*.txt",
    )
    parser.add_argument(
        "--user_agent",
        default=None,
        help='"Company or Name contact@email" (default: $EDGAR_USER_AGENT); required by SEC',
    )
    parser.add_argument(
        "--forms", default="", help="comma-separated form types, exact match (e.g. 10-K,10-K/A)"
    )
    parser.add_argument("--start", default=None, help="first filing date, YYYY-MM-DD")
    parser.add_argument("--end", default=None, help="last filing date, YYYY-MM-DD")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--tickers", default="", help="comma-separated tickers, e.g. AAPL,MSFT")
    who.add_argument("--ciks", default="", help="comma-separated CIKs, e.g. 320193")
    parser.add_argument(
        "--cache_dir", default="cache", help="raw cache folder, local or gs:// (default: cache)"
    )
    parser.add_argument(
        "--max_rps",
        type=positive_float,
        default=DEFAULT_MAX_RPS,
        help=f"requests/s for the whole process (default {DEFAULT_MAX_RPS:g}, at most {SEC_MAX_RPS:g})",
    )
    parser.add_argument(
        "--workers", type=positive_int, default=1, help="download threads sharing the rate (default 1)"
    )
    parser.add_argument(
        "--document",
        choices=DOCUMENTS,
        default="submission",
        help="full submission .txt (default) or the primary document (needs --tickers/--ciks)",
    )
    parser.add_argument("--index", dest="index_name", choices=("form", "master"), default="form")
    parser.add_argument("--refresh", action="store_true", help="refetch filings already in the cache")
    parser.add_argument(
        "--max_retries", type=non_negative_int, default=5, help="retries per request, 0 or more (default 5)"
    )
    parser.add_argument(
        "--timeout", type=positive_float, default=30.0, help="seconds per request, above 0 (default 30)"
    )
    parser.add_argument("--no_progress", action="store_true", help="no progress bar")
    parser.add_argument("--base_url", default="https://www.sec.gov", help="www.sec.gov or a mirror")
    parser.add_argument("--data_base_url", default="https://data.sec.gov", help="data.sec.gov or a mirror")
    return parser


def cmd_fetch(argv: list[str]) -> int:
    """``fetch SOURCE [options]``: 0 when everything listed is cached, 1 when some filings failed."""
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: python -m pipeline fetch {{{','.join(SOURCES)}}} [options]  (see fetch edgar --help)")
        return 0 if argv else 2
    if argv[0] not in SOURCES:
        raise ConfigError(f"fetch: unknown source {argv[0]!r}; choose one of: {', '.join(SOURCES)}")
    if argv[0] == "feeds":
        from sources.feeds_fetch import cmd_fetch_feeds

        return cmd_fetch_feeds(argv[1:])
    if argv[0] == "evalsets":
        from sources.evalsets import cmd_fetch_evalsets

        return cmd_fetch_evalsets(argv[1:])
    if argv[0] in ("pubmed", "pmc"):
        from sources.medical_fetch import cmd_fetch_medical

        return cmd_fetch_medical(argv[0], argv[1:])
    from sources.edgar_fetch import EdgarFetchConfig, resolve_user_agent, run_fetch

    args = parse_args_or_config_error(_edgar_parser(), argv[1:])
    config = EdgarFetchConfig(
        user_agent=resolve_user_agent(args.user_agent),
        forms=args.forms,
        start=args.start,
        end=args.end,
        ciks=args.ciks,
        tickers=args.tickers,
        document=args.document,
        cache_dir=args.cache_dir,
        refresh=args.refresh,
        max_rps=args.max_rps,
        base_url=args.base_url,
        data_base_url=args.data_base_url,
        workers=args.workers,
        index_name=args.index_name,
        max_retries=args.max_retries,
        timeout=args.timeout,
    )
    try:
        summary = run_fetch(config, progress=not args.no_progress)
    except FetchError as exc:  # an index or listing file could not be read: nothing to fetch
        print(f"error: cannot list filings: {exc}", file=sys.stderr)
        return 1
    print(summary.line())
    return 1 if summary.failed else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m pipeline.fetch`` (the same handling of bad input as ``pipeline.cli``)."""
    try:
        return cmd_fetch(list(sys.argv[1:] if argv is None else argv))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
