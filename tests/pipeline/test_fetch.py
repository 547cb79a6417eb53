"""Tests of ``python -m pipeline fetch edgar``: flags, the summary line, bad input, and kill + resume.

The EDGAR site is the small one of tests/sources/test_edgar_fetch.py, replayed by the local server of
tests/sources/test_http.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.errors import ConfigError
from pipeline.fetch import cmd_fetch, main
from tests.sources.test_edgar_fetch import MiniEdgar
from tests.sources.test_http import UA, Action, ReplayServer

REPO = Path(__file__).resolve().parents[2]


def fetch_argv(server: ReplayServer, cache: Path, *extra: str) -> list[str]:
    return [
        "edgar",
        "--user_agent",
        UA,
        "--forms",
        "10-K,10-Q",
        "--start",
        "2024-01-01",
        "--end",
        "2024-03-31",
        "--cache_dir",
        str(cache),
        "--max_rps",
        "10",
        "--max_retries",
        "1",
        "--timeout",
        "2",
        "--base_url",
        server.base_url,
        "--data_base_url",
        server.base_url + "/data",
        *extra,
    ]


def filing_counts(server: ReplayServer) -> dict[str, int]:
    return {path: n for path, n in server.counts().items() if "/Archives/edgar/data/" in path}


def test_fetch_command_prints_a_summary_and_resumes_from_the_cache(tmp_path, capsys):
    mini = MiniEdgar()
    wanted = mini.selected(("10-K", "10-Q"))
    with ReplayServer(mini.routes) as server:
        assert cmd_fetch(fetch_argv(server, tmp_path / "cache", "--workers", "2")) == 0
        out = capsys.readouterr()
        assert f"{len(wanted)} filings listed, {len(wanted)} fetched, 0 cached (skipped), 0 failed" in out.out
        assert "edgar" in out.err  # the progress bar
        assert cmd_fetch(fetch_argv(server, tmp_path / "cache", "--no_progress")) == 0
        line = capsys.readouterr().out.strip()
        assert f"0 fetched, {len(wanted)} cached (skipped), 0 failed, 0 requests" in line
        assert all(n == 1 for n in filing_counts(server).values())
        assert all(s.headers["User-Agent"] == UA for s in server.seen)


def test_failed_filings_exit_1_and_are_listed(tmp_path, capsys):
    mini = MiniEdgar()
    wanted = mini.selected(("10-K", "10-Q"))
    cik = {acc: c for acc, _, _, c, _ in mini.refs}
    with ReplayServer(mini.routes) as server:
        server.script(mini.submission_path(wanted[0], cik[wanted[0]]), *[Action(status=500)] * 5)
        assert cmd_fetch(fetch_argv(server, tmp_path / "cache", "--no_progress")) == 1
    line = capsys.readouterr().out
    assert "1 failed" in line and "errors/edgar-fetch-" in line


def test_listing_failure_is_one_line_not_a_traceback(tmp_path, capsys):
    mini = MiniEdgar()
    with ReplayServer(mini.routes) as server:
        server.script("/Archives/edgar/full-index/2024/QTR1/form.idx", *[Action(status=503)] * 5)
        assert cmd_fetch(fetch_argv(server, tmp_path / "cache", "--no_progress")) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: cannot list filings:") and "HTTP 503" in err[-1]


def test_no_user_agent_is_a_config_error(monkeypatch, tmp_path):
    monkeypatch.delenv("EDGAR_USER_AGENT", raising=False)
    argv = ["edgar", "--forms", "10-K", "--start", "2024-01-01", "--end", "2024-01-31"]
    with pytest.raises(ConfigError, match='--user_agent "Acme Research research@acme.com"'):
        cmd_fetch(argv + ["--cache_dir", str(tmp_path)])


def test_user_agent_from_the_environment(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("EDGAR_USER_AGENT", "Env Research env@example.com")
    mini = MiniEdgar(4)
    with ReplayServer(mini.routes) as server:
        argv = fetch_argv(server, tmp_path / "cache", "--no_progress")
        del argv[1:3]  # no --user_agent
        assert cmd_fetch(argv) == 0
        assert {s.headers["User-Agent"] for s in server.seen} == {"Env Research env@example.com"}


@pytest.mark.parametrize(
    "extra, match",
    [
        (["--max_rps", "11"], "at most 10 requests/s"),
        (["--start", "2024-13-01"], "YYYY-MM-DD"),
        (["--workers", "zero"], "must be an integer, got .zero."),
        (["--tickers", "AAPL", "--ciks", "320193"], "not allowed with argument"),
    ],
)
def test_bad_flags_are_config_errors(extra, match, tmp_path):
    argv = ["edgar", "--user_agent", UA, "--forms", "10-K", "--start", "2024-01-01", "--end", "2024-01-31"]
    with pytest.raises(ConfigError, match=match):
        cmd_fetch(argv + ["--cache_dir", str(tmp_path)] + extra)


def test_main_prints_one_error_line(capsys):
    assert main(["nosuchsource"]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err
        == "error: fetch: unknown source 'nosuchsource'; choose one of: edgar, feeds, evalsets, pubmed, pmc"
    )
    assert main(["edgar", "--user_agent", "no email here", "--tickers", "AAPL"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --user_agent 'no email here' has no e-mail address") and "\n" not in err


def test_killed_fetch_resumes_without_refetching_cached_filings(tmp_path):
    """SIGKILL a fetch after some filings are cached; the restart requests only the missing ones."""
    mini = MiniEdgar(n=24)
    wanted = mini.selected(("10-K", "10-Q"))  # 12 filings
    cache = tmp_path / "cache"
    with ReplayServer(mini.routes) as server:
        for acc, _, _, cik, _ in mini.refs:
            server.always[mini.submission_path(acc, cik)] = Action(delay=0.25)
        argv = [sys.executable, "-m", "pipeline.fetch", *fetch_argv(server, cache, "--no_progress")]
        env = dict(os.environ, PYTHONPATH=str(REPO))
        proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if len(list((cache / "edgar").glob("*.txt"))) >= 4:
                break
            time.sleep(0.02)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        cached_at_kill = {p.name.removesuffix(".txt") for p in (cache / "edgar").glob("*.txt")}
        assert 4 <= len(cached_at_kill) < len(wanted)
        before = filing_counts(server)

        done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        after = filing_counts(server)

    cik = {acc: c for acc, _, _, c, _ in mini.refs}
    second_run = {
        acc
        for acc in wanted
        if after.get(mini.submission_path(acc, cik[acc]), 0)
        > before.get(mini.submission_path(acc, cik[acc]), 0)
    }
    assert second_run == set(wanted) - cached_at_kill  # exactly the missing ones ...
    for acc in second_run:  # ... each requested once
        path = mini.submission_path(acc, cik[acc])
        assert after[path] - before.get(path, 0) == 1
    assert f"{len(second_run)} fetched, {len(cached_at_kill)} cached (skipped), 0 failed" in done.stdout
    assert {p.name.removesuffix(".txt") for p in (cache / "edgar").glob("*.txt")} == set(wanted)
    for acc in wanted:  # a killed write may leave a _tmp/*.part behind, never a partial .txt
        assert (cache / "edgar" / f"{acc}.txt").read_bytes() == mini.routes[
            mini.submission_path(acc, cik[acc])
        ]


# ---------------------------------------------------------------------------------------------------------
# fetch evalsets, against the local server replaying each set's published file (tests/sources/test_evalsets.py)


def evalset_routes() -> dict[str, bytes]:
    from urllib.parse import urlsplit

    from sources.evalsets import REGISTRY
    from tests.sources.test_evalsets import FIXTURES

    routes = {}
    for name, src in REGISTRY.items():
        parts = urlsplit(src.url)
        routes[f"/{parts.netloc}{parts.path}"] = FIXTURES[name]
    return routes


def evalsets_argv(server: ReplayServer, cache: Path, *names: str) -> list[str]:
    return [
        "evalsets",
        *names,
        "--cache_dir",
        str(cache),
        "--mirror",
        server.base_url,
        "--max_rps",
        "50",
        "--max_retries",
        "2",
        "--timeout",
        "5",
    ]


def test_fetch_evalsets_retries_a_truncated_download_and_writes_the_manifest(tmp_path, capsys):
    import hashlib
    import json

    from sources.evalsets import FINANCE_SETS, REGISTRY, load_cached

    routes = evalset_routes()
    pb_path = next(p for p in routes if p.endswith("FinancialPhraseBank-v1.0.zip"))
    with ReplayServer(routes) as server:
        server.script(pb_path, Action(truncate=True))  # the first download of PhraseBank is cut short
        assert cmd_fetch(evalsets_argv(server, tmp_path)) == 0
        assert len(server.requests_to(pb_path)) == 2  # truncated, then retried whole
        assert sum(server.counts().values()) == len(FINANCE_SETS) + 1
        out = capsys.readouterr()
        assert f"evalsets: {len(FINANCE_SETS)}/{len(FINANCE_SETS)} in the cache" in out.out
        assert "phrasebank: fetched (4 rows)" in out.err

        manifest = json.loads((tmp_path / "evalsets" / "manifest.json").read_text())
        entries = {e["name"]: e for e in manifest["sets"]}
        assert sorted(entries) == sorted(FINANCE_SETS)  # the finance profile by default
        pb = entries["phrasebank"]
        assert pb["source_url"] == REGISTRY["phrasebank"].url and pb["licence"] == "CC BY-NC-SA 3.0"
        assert (pb["rows"], pb["split"]) == (4, REGISTRY["phrasebank"].split)
        stored = (tmp_path / "evalsets" / "phrasebank.zip").read_bytes()
        assert (
            pb["sha256"] == hashlib.sha256(stored).hexdigest() == hashlib.sha256(routes[pb_path]).hexdigest()
        )
        items, _ = load_cached(str(tmp_path), "phrasebank")
        assert len(items) == 4

        # A second fetch finds every set in the cache (checksums match) and asks the server nothing.
        before = sum(server.counts().values())
        assert cmd_fetch(evalsets_argv(server, tmp_path)) == 0
        assert sum(server.counts().values()) == before
        assert "phrasebank: cached" in capsys.readouterr().err


def test_fetch_evalsets_medical_profile_and_failures(tmp_path, capsys):
    from sources.evalsets import MEDICAL_SETS

    routes = evalset_routes()
    medmcqa = next(p for p in routes if "medmcqa" in p)
    routes[medmcqa] = b"<html>not parquet</html>"  # a wrong file: a format error, not stored
    finqa = next(p for p in routes if p.endswith("/FinQA/main/dataset/test.json"))
    del routes[finqa]  # a 404: failed for good, not retried
    with ReplayServer(routes) as server:
        assert cmd_fetch(evalsets_argv(server, tmp_path / "m") + ["--profile", "medical"]) == 1
        err = capsys.readouterr()
        assert "pubmedqa: fetched" in err.err and "medqa: fetched" in err.err
        assert "medmcqa: failed -- bad_format" in err.err
        assert f"evalsets: {len(MEDICAL_SETS) - 1}/{len(MEDICAL_SETS)} in the cache" in err.out
        assert not (tmp_path / "m" / "evalsets" / "medmcqa.parquet").exists()
        assert cmd_fetch(evalsets_argv(server, tmp_path / "f", "finqa")) == 1
        assert len(server.requests_to(finqa)) == 1
        assert "finqa: failed -- http_404" in capsys.readouterr().err


def test_fetch_evalsets_bad_input_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="unknown evaluation set"):
        cmd_fetch(["evalsets", "mmlu", "--cache_dir", str(tmp_path)])
    assert main(["evalsets", "--profile", "legal"]) == 2
