"""Tests of live EDGAR listing and fetching against a local replay server (tests/sources/test_http.py).

``mini_edgar`` builds a small EDGAR site written here (a quarter's full ``form.idx``, daily indexes,
submissions JSON with a paginated page, a tickers file and SGML submissions modelled on the real ones); the
real index files, submissions JSON, company_tickers.json and filings of ../shared/data/edgar are replayed
through the ``shared_data`` fixture (skipped when absent).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from core.errors import ConfigError
from core.schema import RawRecord, Skipped
from pipeline.config import InputSpec
from pipeline.stages.read import list_input_files, read_file
from sources.edgar import read_records
from sources.edgar_fetch import (
    EdgarFetchConfig,
    FilingRef,
    fetch_filings,
    list_filings,
    parse_index,
    parse_submissions,
    per_worker_rps,
    quarters,
    resolve_user_agent,
    run_fetch,
    worker_rps_from_options,
)
from sources.http import RawCache
from tests.sources.test_http import UA, Action, ReplayServer, max_in_window

# ---------------------------------------------------------------------------------------------------------
# A small EDGAR site written for these tests

FORM_IDX_HEADER = """\
Description:           Master Index of EDGAR Dissemination Feed by Form Type
Last Data Received:    March 31, 2024
Comments:              webmaster@sec.gov
Anonymous FTP:         ftp://ftp.sec.gov/edgar/
Cloud HTTP:            https://www.sec.gov/Archives/




Form Type   Company Name                                                  CIK         Date Filed  File Name
---------------------------------------------------------------------------------------------------------------------------------------------
"""


def form_idx_row(form: str, company: str, cik: int, filed: str, accession: str) -> str:
    return f"{form:<12}{company:<62}{cik:<12}{filed:<12}edgar/data/{cik}/{accession}.txt         \n"


def submission_txt(accession: str, form: str, company: str, cik: int, filed: str) -> bytes:
    """A modern full-submission file (SGML header + one plain-text document)."""
    return f"""<SEC-DOCUMENT>{accession}.txt : {filed.replace("-", "")}
<SEC-HEADER>{accession}.hdr.sgml : {filed.replace("-", "")}
ACCESSION NUMBER:\t\t{accession}
CONFORMED SUBMISSION TYPE:\t{form}
PUBLIC DOCUMENT COUNT:\t\t1
FILED AS OF DATE:\t\t{filed.replace("-", "")}

FILER:

\tCOMPANY DATA:\t
\t\tCOMPANY CONFORMED NAME:\t\t\t{company}
\t\tCENTRAL INDEX KEY:\t\t\t{cik:010d}
\t\tSTANDARD INDUSTRIAL CLASSIFICATION:\tSERVICES-PREPACKAGED SOFTWARE [7372]
</SEC-HEADER>
<DOCUMENT>
<TYPE>{form}
<SEQUENCE>1
<FILENAME>report.txt
<DESCRIPTION>{form}
<TEXT>
{company} filed this {form} report. Revenue grew because customers bought more of what the company sells,
and management discusses the results of operations and the outlook for the coming year in this report.
</TEXT>
</DOCUMENT>
</SEC-DOCUMENT>
""".encode()


class MiniEdgar:
    """Routes of a small EDGAR site: 2024 QTR1 full index with ``n`` 10-K/10-Q/8-K filings, and more."""

    def __init__(self, n: int = 12):
        self.routes: dict[str, bytes] = {}
        self.refs: list[tuple[str, str, str, int, str]] = []  # accession, form, company, cik, filed
        rows = []
        forms = ("10-K", "10-Q", "8-K", "10-K/A")
        for i in range(n):
            cik = 1000 + i % 5
            accession = f"{cik:010d}-24-{i + 1:06d}"
            form, company, filed = forms[i % 4], f"TEST COMPANY {cik} INC", f"2024-01-{(i % 28) + 2:02d}"
            rows.append(form_idx_row(form, company, cik, filed, accession))
            self.refs.append((accession, form, company, cik, filed))
            self.routes[self.submission_path(accession, cik)] = submission_txt(
                accession, form, company, cik, filed
            )
        # a multi-filer filing listed once per filer
        rows.append(form_idx_row("10-K", "CO-REGISTRANT LLC", 2999, "2024-01-02", self.refs[0][0]))
        self.routes["/Archives/edgar/full-index/2024/QTR1/form.idx"] = (
            FORM_IDX_HEADER + "".join(rows)
        ).encode()

    @staticmethod
    def submission_path(accession: str, cik: int) -> str:
        return f"/Archives/edgar/data/{cik}/{accession}.txt"

    def selected(self, forms: tuple[str, ...]) -> list[str]:
        return sorted(acc for acc, form, *_ in self.refs if form in forms)


def make_config(server: ReplayServer, tmp_path: Path, **kwargs) -> EdgarFetchConfig:
    params: dict[str, Any] = {
        "user_agent": UA,
        "forms": ["10-K", "10-Q"],
        "start": date(2024, 1, 1),
        "end": date(2024, 3, 31),
        "cache_dir": str(tmp_path / "cache"),
        "max_rps": 10.0,
        "base_url": server.base_url,
        "data_base_url": server.base_url + "/data",
        "max_retries": 2,
        "backoff_base": 0.01,
        "timeout": 2.0,
    }
    params.update(kwargs)
    return EdgarFetchConfig(**params)


def filing_requests(server: ReplayServer) -> dict[str, int]:
    return {path: n for path, n in server.counts().items() if "/Archives/edgar/data/" in path}


@pytest.fixture
def site():
    mini = MiniEdgar()
    with ReplayServer(mini.routes) as server:
        yield mini, server


# ---------------------------------------------------------------------------------------------------------
# User agent and config


def test_resolve_user_agent_precedence(monkeypatch):
    monkeypatch.setenv("EDGAR_USER_AGENT", "Env Co env@example.com")
    assert (
        resolve_user_agent("Flag Co flag@example.com", "Cfg Co cfg@example.com") == "Flag Co flag@example.com"
    )
    assert resolve_user_agent(None, "Cfg Co cfg@example.com") == "Cfg Co cfg@example.com"
    assert resolve_user_agent(None, None) == "Env Co env@example.com"


def test_missing_user_agent_says_how_to_set_it(monkeypatch):
    monkeypatch.delenv("EDGAR_USER_AGENT", raising=False)
    with pytest.raises(ConfigError) as info:
        resolve_user_agent(None, None)
    message = str(info.value)
    assert "\n" not in message
    assert '--user_agent "Acme Research research@acme.com"' in message and "EDGAR_USER_AGENT" in message


@pytest.mark.parametrize("value", ["Acme Research", "research@acme.com", "python-requests/2.31", "Acme a@b"])
def test_user_agent_needs_a_name_and_an_email(value):
    with pytest.raises(ConfigError, match="EDGAR_USER_AGENT"):
        resolve_user_agent(value)


def test_config_refuses_more_than_10_rps(tmp_path):
    with pytest.raises(ConfigError, match="at most 10 requests/s"):
        EdgarFetchConfig(user_agent=UA, max_rps=11, start="2024-01-01", end="2024-01-31")
    assert EdgarFetchConfig(user_agent=UA, max_rps=10, start="2024-01-01", end="2024-01-31").max_rps == 10
    assert EdgarFetchConfig(user_agent=UA, tickers="aapl").max_rps == 8.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"start": "2024-02-01", "end": "2024-01-01"}, "after"),
        ({"start": "01/02/2024", "end": "2024-01-31"}, "YYYY-MM-DD"),
        ({}, "--start and --end"),
        ({"ciks": "AAPL"}, "not a number"),
        ({"start": "2024-01-01", "end": "2024-01-31", "document": "primary"}, "needs --tickers"),
        ({"tickers": "AAPL", "document": "exhibits"}, "document"),
        ({"tickers": "AAPL", "workers": 0}, "workers"),
    ],
)
def test_config_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        EdgarFetchConfig(user_agent=UA, **kwargs)


def test_per_worker_rps_divides_the_global_budget():
    assert per_worker_rps(8.0, 4) == 2.0
    assert per_worker_rps(8.0, 0) == 8.0
    assert per_worker_rps(8.0, 4, processes_per_worker=2) == 1.0
    assert worker_rps_from_options(8.0, ["--runner=DataflowRunner", "--max_num_workers=16"]) == 0.5
    assert worker_rps_from_options(8.0, ["--num_workers=2"]) == 4.0
    assert worker_rps_from_options(8.0, {"num_workers": 2, "max_num_workers": 8}) == 1.0
    assert worker_rps_from_options(8.0, []) == 8.0


# ---------------------------------------------------------------------------------------------------------
# Index and submissions parsing


def test_quarters():
    assert quarters(date(2023, 11, 5), date(2024, 4, 1)) == [(2023, 4), (2024, 1), (2024, 2)]
    assert quarters(date(2024, 1, 1), date(2024, 1, 1)) == [(2024, 1)]


def test_parse_full_form_idx_fixture():
    mini = MiniEdgar(4)
    refs = list(
        parse_index(mini.routes["/Archives/edgar/full-index/2024/QTR1/form.idx"].decode(), "https://x")
    )
    assert len(refs) == 5
    first = refs[0]
    assert first == FilingRef(
        cik="1000",
        company="TEST COMPANY 1000 INC",
        form="10-K",
        filed="2024-01-02",
        accession="0000001000-24-000001",
        url_submission_txt="https://x/Archives/edgar/data/1000/0000001000-24-000001.txt",
    )
    assert refs[3].form == "10-K/A"


def test_parse_real_daily_form_idx(shared_data):
    text = (shared_data / "edgar/index/form.20200318.idx").read_text(encoding="latin-1")
    refs = list(parse_index(text))
    rows = [line for line in text.splitlines()[10:] if line.strip()]
    assert len(refs) == len(rows) > 1000
    tenk = [r for r in refs if r.form == "10-K"]
    assert len(tenk) == sum(1 for line in rows if line.startswith("10-K "))
    assert tenk[0] == FilingRef(
        cik="1785173",
        company="89bio, Inc.",
        form="10-K",
        filed="2020-03-18",
        accession="0001564590-20-011636",
        url_submission_txt="https://www.sec.gov/Archives/edgar/data/1785173/0001564590-20-011636.txt",
    )
    assert {r.form for r in refs} >= {"1-A POS", "8-K", "10-Q", "SC 13G/A"}
    # the daily index lists what was disseminated that day: a few rows (CORRESP, EFFECT ...) are older
    assert sum(r.filed == "2020-03-18" for r in refs) > 0.9 * len(refs)
    assert all(r.filed == "2020-03-18" for r in tenk)


def test_parse_real_master_idx(shared_data):
    full = list(parse_index((shared_data / "edgar/index/master.idx").read_text(encoding="latin-1")))
    disney = [r for r in full if r.cik == "29082"]
    assert disney and disney[0].form == "10-K" and disney[0].filed == "1993-12-22"
    assert disney[0].company == "DISNEY WALT CO"
    daily = list(parse_index((shared_data / "edgar/index/master.20181231.idx").read_text(encoding="latin-1")))
    assert daily and all(r.filed == "2018-12-31" for r in daily)
    assert any(r.form == "8-K" and r.company == "NOVAVAX INC" for r in daily)


def test_parse_real_submissions_json(shared_data):
    data = json.loads((shared_data / "edgar/submissions/CIK0000320193.json").read_text())
    refs = parse_submissions(data, "0000320193")
    assert len(refs) == len(data["filings"]["recent"]["accessionNumber"])
    assert {r.company for r in refs} == {"Apple Inc."}
    tenk = next(r for r in refs if r.form == "10-K")
    assert tenk.url_primary.startswith("https://www.sec.gov/Archives/edgar/data/320193/")
    assert tenk.url_primary.endswith(".htm") and tenk.cache_key("primary").startswith(tenk.accession + "-")
    page = json.loads((shared_data / "edgar/submissions/CIK0000320193-submissions-001.json").read_text())
    older = parse_submissions(page, "320193", "Apple Inc.")
    assert len(older) == 988
    assert any(r.accession == "0001193125-11-009392" and r.form == "8-K" for r in older)


# ---------------------------------------------------------------------------------------------------------
# Listing against the server


def test_list_by_full_index_filters_forms_exactly_and_dedups(site, tmp_path):
    mini, server = site
    config = make_config(server, tmp_path)
    refs = list_filings(config, config.client(), today=date(2024, 6, 1))
    assert sorted(r.accession for r in refs) == mini.selected(("10-K", "10-Q"))  # no 10-K/A, no 8-K
    assert len({r.accession for r in refs}) == len(refs)  # the co-registrant row did not double a filing
    assert all(s.headers["User-Agent"] == UA for s in server.seen)


def test_closed_quarter_index_is_cached(site, tmp_path):
    mini, server = site
    config = make_config(server, tmp_path)
    list_filings(config, config.client(), today=date(2024, 6, 1))
    list_filings(config, config.client(), today=date(2024, 6, 1))
    assert server.counts()["/Archives/edgar/full-index/2024/QTR1/form.idx"] == 1


def test_missing_full_index_falls_back_to_daily_indexes(shared_data, tmp_path):
    real = (shared_data / "edgar/index/form.20200318.idx").read_bytes()
    with ReplayServer({"/Archives/edgar/daily-index/2020/QTR1/form.20200318.idx": real}) as server:
        config = make_config(server, tmp_path, forms=["10-K"], start="2020-03-13", end="2020-03-23")
        refs = list_filings(config, config.client(), today=date(2020, 3, 20))
        assert len(refs) == 68
        paths = [s.path for s in server.seen]
    assert paths[0] == "/Archives/edgar/full-index/2020/QTR1/form.idx"  # 404: not there
    days = sorted(p.rsplit(".", 2)[-2] for p in paths[1:])
    # weekdays from the 13th to "today" (the 20th); no weekend, nothing after today
    assert days == ["20200313", "20200316", "20200317", "20200318", "20200319", "20200320"]


def apple_ticker_routes(shared_data) -> dict[str, bytes]:
    """The real tickers file and Apple's paginated submissions JSON, as the replay server serves them."""
    return {
        "/files/company_tickers.json": (shared_data / "edgar/company_tickers.json").read_bytes(),
        "/data/submissions/CIK0000320193.json": (
            shared_data / "edgar/submissions/CIK0000320193.json"
        ).read_bytes(),
        "/data/submissions/CIK0000320193-submissions-001.json": (
            shared_data / "edgar/submissions/CIK0000320193-submissions-001.json"
        ).read_bytes(),
    }


def test_list_by_tickers_reads_paginated_submissions(shared_data, tmp_path):
    routes = apple_ticker_routes(shared_data)
    with ReplayServer(routes) as server:
        config = make_config(
            server, tmp_path, tickers="aapl", forms=["8-K"], start="2011-01-01", end="2011-01-31"
        )
        refs = list_filings(config, config.client())
        assert [r.accession for r in refs] == ["0001181431-11-003847", "0001193125-11-009392"]
        assert {r.company for r in refs} == {"Apple Inc."}
        recent_only = make_config(
            server, tmp_path, ciks="320193", forms=["10-K"], start="2022-01-01", end=None
        )
        assert [r.filed[:4] for r in list_filings(recent_only, recent_only.client())] == ["2022"]
        counts = server.counts()
    assert counts["/data/submissions/CIK0000320193-submissions-001.json"] == 1  # only for the 2011 range


def test_unknown_ticker_is_a_config_error(shared_data, tmp_path):
    routes = {"/files/company_tickers.json": (shared_data / "edgar/company_tickers.json").read_bytes()}
    with ReplayServer(routes) as server:
        config = make_config(server, tmp_path, tickers="NOSUCHTICKER1", forms=[])
        with pytest.raises(ConfigError, match="NOSUCHTICKER1"):
            list_filings(config, config.client())


# ---------------------------------------------------------------------------------------------------------
# Fetching


def test_fetch_caches_by_accession_and_a_rerun_requests_nothing(site, tmp_path):
    mini, server = site
    config = make_config(server, tmp_path)
    first = run_fetch(config, progress=False, today=date(2024, 6, 1))
    wanted = mini.selected(("10-K", "10-Q"))
    assert (first.listed, first.fetched, first.cached, first.failed) == (len(wanted), len(wanted), 0, 0)
    cached = sorted(p.name for p in (tmp_path / "cache/edgar").iterdir())
    assert cached == [f"{acc}.txt" for acc in wanted]
    assert all(n == 1 for n in filing_requests(server).values())
    assert all(s.headers["User-Agent"] == UA for s in server.seen)
    second = run_fetch(config, progress=False, today=date(2024, 6, 1))
    assert (second.fetched, second.cached, second.requests) == (0, len(wanted), 0)
    assert all(n == 1 for n in filing_requests(server).values())
    config.refresh = True
    third = run_fetch(config, progress=False, today=date(2024, 6, 1))
    assert third.fetched == len(wanted)
    assert all(n == 2 for n in filing_requests(server).values())


def test_failures_go_to_the_errors_list_not_a_crash(site, tmp_path):
    mini, server = site
    config = make_config(server, tmp_path, max_retries=2)
    wanted = mini.selected(("10-K", "10-Q"))
    broken = {acc: cik for acc, _, _, cik, _ in mini.refs if acc in wanted[:2]}
    paths = {acc: mini.submission_path(acc, cik) for acc, cik in broken.items()}
    server.script(paths[wanted[0]], *[Action(status=500)] * 10)  # permanent 500
    del server.routes[paths[wanted[1]]]  # 404
    summary = run_fetch(config, progress=False, today=date(2024, 6, 1))
    assert (summary.fetched, summary.failed) == (len(wanted) - 2, 2)
    by_id = {e["id"]: e for e in summary.errors}
    assert by_id[wanted[0]]["kind"] == "http_500" and by_id[wanted[0]]["attempts"] == 3
    assert by_id[wanted[1]]["kind"] == "http_404" and by_id[wanted[1]]["attempts"] == 1
    assert len(server.requests_to(paths[wanted[0]])) == 3  # max_retries + 1
    assert len(server.requests_to(paths[wanted[1]])) == 1
    lines = Path(summary.errors_path).read_text().splitlines()
    assert Path(summary.errors_path).parent == tmp_path / "cache/errors"
    assert sorted(json.loads(line)["id"] for line in lines) == sorted(wanted[:2])
    assert not (tmp_path / "cache/edgar" / f"{wanted[0]}.txt").exists()


def test_retryable_failures_of_filings_end_fetched(site, tmp_path):
    mini, server = site
    config = make_config(server, tmp_path, max_retries=3, timeout=0.3)
    wanted = mini.selected(("10-K", "10-Q"))
    cik = {acc: c for acc, _, _, c, _ in mini.refs}
    server.script(
        mini.submission_path(wanted[0], cik[wanted[0]]), Action(status=429, headers={"Retry-After": "1"})
    )
    server.script(mini.submission_path(wanted[1], cik[wanted[1]]), Action(status=503), Action(status=502))
    server.script(mini.submission_path(wanted[2], cik[wanted[2]]), Action(hang=0.8))
    server.script(mini.submission_path(wanted[3], cik[wanted[3]]), Action(truncate=True))
    summary = run_fetch(config, progress=False, today=date(2024, 6, 1))
    assert (summary.fetched, summary.failed) == (len(wanted), 0)
    first, retry = server.requests_to(mini.submission_path(wanted[0], cik[wanted[0]]))
    assert retry.time - first.time >= 1.0
    for acc in wanted:
        assert (tmp_path / "cache/edgar" / f"{acc}.txt").read_bytes() == mini.routes[
            mini.submission_path(acc, cik[acc])
        ]


def test_threaded_fetch_shares_the_rate_limit(tmp_path):
    mini = MiniEdgar(n=40)
    with ReplayServer(mini.routes) as server:
        config = make_config(server, tmp_path, forms=[], workers=4, max_rps=10.0)
        summary = run_fetch(config, progress=False, today=date(2024, 6, 1))
        times = server.times()
    assert summary.fetched == 40 and summary.requests == 41
    assert max_in_window(times, window=1.0 - 0.005) <= 10


def test_cached_filings_are_read_by_the_edgar_reader_offline(site, tmp_path):
    mini, server = site
    config = make_config(server, tmp_path)
    run_fetch(config, progress=False, today=date(2024, 6, 1))
    spec = InputSpec(name="edgar", kind="edgar", paths=(str(tmp_path / "cache/edgar/*.txt"),))
    files = list_input_files([spec])
    assert len(files) == len(mini.selected(("10-K", "10-Q")))
    records = [item for f in files for item in read_file(f) if not isinstance(item, Skipped)]
    assert records and all(isinstance(r, RawRecord) for r in records)
    assert {r.metadata["form_type"] for r in records} == {"10-K", "10-Q"}
    assert all(r.metadata["company"].startswith("TEST COMPANY") for r in records)


def test_real_filing_fetched_by_ticker_then_parsed(shared_data, tmp_path):
    routes = {
        **apple_ticker_routes(shared_data),
        "/Archives/edgar/data/320193/0001193125-11-009392.txt": (
            shared_data / "edgar/full-submission/0001193125-11-009392.txt"
        ).read_bytes(),
    }
    with ReplayServer(routes) as server:
        config = make_config(
            server, tmp_path, tickers="AAPL", forms=["8-K"], start="2011-01-18", end="2011-01-18"
        )
        summary = run_fetch(config, progress=False)
    assert (summary.listed, summary.fetched, summary.failed) == (2, 1, 1)
    assert summary.errors[0]["id"] == "0001181431-11-003847" and summary.errors[0]["kind"] == "http_404"
    cache = RawCache(str(tmp_path / "cache"))
    path = tmp_path / "cache/edgar/0001193125-11-009392.txt"
    assert cache.get("edgar", path.name) == routes["/Archives/edgar/data/320193/0001193125-11-009392.txt"]
    assert cache.get_meta("edgar", path.name)["cik"] == "320193"
    with open(path, "rb") as stream:
        records = [r for r in read_records(str(path), stream, {}) if isinstance(r, RawRecord)]
    assert records[0].metadata["company"].upper().startswith("APPLE")
    assert records[0].metadata["form_type"] == "8-K"


def test_primary_documents_are_cached_under_their_own_name(shared_data, tmp_path):
    routes = {
        "/data/submissions/CIK0000320193.json": (
            shared_data / "edgar/submissions/CIK0000320193.json"
        ).read_bytes(),
        "/data/submissions/CIK0000320193-submissions-001.json": (
            shared_data / "edgar/submissions/CIK0000320193-submissions-001.json"
        ).read_bytes(),
        "/Archives/edgar/data/320193/000119312511009392/d8k.htm": (
            shared_data / "edgar/8-K/0001193125-11-009392_d8k.htm"
        ).read_bytes(),
    }
    with ReplayServer(routes) as server:
        config = make_config(
            server,
            tmp_path,
            ciks="320193",
            forms=["8-K"],
            start="2011-01-18",
            end="2011-01-18",
            document="primary",
        )
        refs = list_filings(config, config.client())
        summary = fetch_filings(refs[1:], config, config.client(), progress=False)
    assert summary.fetched == 1
    assert (tmp_path / "cache/edgar/0001193125-11-009392-d8k.htm").read_bytes() == routes[
        "/Archives/edgar/data/320193/000119312511009392/d8k.htm"
    ]
