"""Per-input options: the same keys and the same effect in a config, on `run --input ... --option` and on
`inspect --option` (``pipeline.input_options``)."""

from __future__ import annotations

import glob
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from core.errors import ConfigError
from pipeline.config import load_config, parse_config
from pipeline.input_options import group_cli_inputs, validate_options
from pipeline.inspect import Inspector
from tests.test_cli import run_cli

REPO = Path(__file__).resolve().parents[2]
MRDN_10K = REPO / "pipeline" / "sample" / "edgar" / "mrdn-10k-2023.htm"


def test_group_cli_inputs_binds_each_option_to_the_input_before_it() -> None:
    argv = [
        "--runner=DirectRunner",
        "--input",
        "edgar=cache/a?b&c=d.txt",
        "--option",
        "tables=drop",
        "--option=split_items_as_documents=true",
        "--input=html=pages/x=1.html",
        "--option",
        "url=https://example.com/?a=b",
    ]
    assert group_cli_inputs(argv) == [
        ("edgar=cache/a?b&c=d.txt", {"tables": "drop", "split_items_as_documents": "true"}),
        ("html=pages/x=1.html", {"url": "https://example.com/?a=b"}),
    ]
    with pytest.raises(ConfigError, match="comes before any --input"):
        group_cli_inputs(["--option", "tables=drop", "--input", "html=x.html"])
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        group_cli_inputs(["--input", "html=x.html", "--option", "tables"])


def test_validate_options() -> None:
    validate_options("warc", {"tables": "linearize", "deny_domains": "a.com"})
    with pytest.raises(ConfigError, match="options.tabels: unknown key; did you mean 'tables'"):
        validate_options("warc", {"tabels": "drop"})
    with pytest.raises(ConfigError, match="'csv' is not one of: markdown, linearize, drop"):
        validate_options("html", {"tables": "csv"})
    with pytest.raises(
        ConfigError, match=r"inputs\[0\].options.subreddit: unknown key; did you mean 'subreddits'"
    ):
        parse_config({"inputs": [{"kind": "reddit", "paths": "x.zst", "options": {"subreddit": "stocks"}}]})


@pytest.fixture(scope="module")
def inspector() -> Inspector:
    return Inspector(load_config())


def _texts(inspector: Inspector, path: Path, kept_only: bool = True, **options: object) -> list[str]:
    rows = inspector.inspect_file(str(path), options=options)
    return [r["text"] for r in rows if "text" in r and (r["decision"] == "kept" or not kept_only)]


def test_each_option_changes_what_inspect_shows(inspector: Inspector, shared_data: Path) -> None:
    page = shared_data / "web" / "html" / "thebalance.com.coinbase.html"
    markdown, linear, dropped = (
        _texts(inspector, page, tables=t)[0] for t in ("markdown", "linearize", "drop")
    )
    assert "| Number of cryptocurrencies supported | 170+ | 170+ |" in markdown
    assert "Number of cryptocurrencies supported: Coinbase: 170+; Coinbase Pro: 170+" in linear
    assert "170+" not in dropped
    assert _texts(inspector, page, include_tables=False) == [dropped]

    assert len(_texts(inspector, MRDN_10K, split_items_as_documents=True)) > 10
    assert len(_texts(inspector, MRDN_10K)) == 1

    phrasebank = shared_data / "labeled" / "financial_phrasebank_50agree_subset.csv"
    assert not _texts(inspector, phrasebank, kept_only=False)  # no "text" column: errors only
    assert len(_texts(inspector, phrasebank, kept_only=False, text_column="news")) > 100

    reddit = shared_data / "social" / "reddit" / "RS_sample.ndjson"
    assert len(_texts(inspector, reddit, kept_only=False, subreddits="*")) > len(
        _texts(inspector, reddit, kept_only=False)
    )


def test_run_writes_what_inspect_shows(inspector: Inspector, shared_data: Path, tmp_path: Path) -> None:
    """One run with per-input options; every document it writes is one `inspect` with the same options
    showed as kept (corpus-level dedup may drop some of them, never change them)."""
    page = shared_data / "web" / "html" / "thebalance.com.coinbase.html"
    phrasebank = shared_data / "labeled" / "financial_phrasebank_50agree_subset.csv"
    proc = run_cli(
        "run",
        "--runner=DirectRunner",
        f"--output_root={tmp_path}",
        "--run_name=opts",
        "--no_stats",
        f"--input=html={page}",
        "--option=tables=linearize",
        "--input",
        f"edgar={MRDN_10K}",
        "--option",
        "split_items_as_documents=true",
        f"--input=tweets={phrasebank}",
        "--option=text_column=news",
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    written: dict[str, list[str]] = {}
    for path in glob.glob(str(tmp_path / "opts" / "data" / "*" / "*" / "*.parquet")):
        table = pq.read_table(path, columns=["source", "text"]).to_pydict()
        for source, text in zip(table["source"], table["text"], strict=True):
            written.setdefault(source, []).append(text)
    expected = {
        "web": _texts(inspector, page, tables="linearize"),
        "filings": _texts(inspector, MRDN_10K, split_items_as_documents=True),
        "social": _texts(inspector, phrasebank, text_column="news"),
    }
    assert set(written) == set(expected)
    for source, texts in written.items():
        assert texts and set(texts) <= set(expected[source]), source
    assert written["web"] == expected["web"]
    assert len(written["filings"]) > 10


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--input=html=/tmp/x.html", "--option=tabels=drop"], "options.tabels: unknown key"),
        (["run", "--option=tables=drop"], "--option applies to the --input before it"),
        (["inspect", str(MRDN_10K), "--option", "tables"], "expected KEY=VALUE"),
        (["inspect", str(MRDN_10K), "--option", "subreddits=*"], "options.subreddits: unknown key"),
    ],
)
def test_bad_option_is_one_clear_line(args: list[str], message: str, tmp_path: Path) -> None:
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
