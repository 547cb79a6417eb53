"""Point in time: available_at from every source (real files), the --as_of cut, period partitions, the audit.

Expected times were read off the raw files by hand (SEC headers, JSON fields, page markup) and converted
independently: EDGAR times are US Eastern (EST in winter, EDT in summer).
"""

from __future__ import annotations

import bz2
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from core.errors import ConfigError
from core.schema import Document, RawRecord, Rejected, entries_to_dict
from core.timeinfo import (
    AFTER_CUTOFF,
    UNKNOWN_TIME,
    TimeConfig,
    cut,
    later_years,
    page_published,
    parse_as_of,
    parse_time,
    period_of,
    sec_acceptance_utc,
)
from pipeline.config import DEFAULT_SOURCE_DOMAINS
from pipeline.stages.extract import extract
from sources import get_reader
from tests.conftest import run_cli

# ---------------------------------------------------------------------------------------------------------
# Pure conversions


def test_sec_acceptance_is_eastern_time_with_daylight_saving():
    assert sec_acceptance_utc("20241227162940") == "2024-12-27T21:29:40Z"  # EST, UTC-5
    assert sec_acceptance_utc("20240715090000") == "2024-07-15T13:00:00Z"  # EDT, UTC-4
    # the DST switch of 2024-03-10 at 02:00 local: before it UTC-5, after it UTC-4
    assert sec_acceptance_utc("20240310013000") == "2024-03-10T06:30:00Z"
    assert sec_acceptance_utc("20240310040000") == "2024-03-10T08:00:00Z"
    assert sec_acceptance_utc("2024122") == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-04-10T17:58:15+01:00", "2020-04-10T16:58:15Z"),
        ("2019-12-30T05:03-0500", "2019-12-30T10:03:00Z"),
        ("Wed, 10 Jan 2024 16:05:00 -0500", "2024-01-10T21:05:00Z"),  # RSS pubDate (RFC 822)
        ("2023-11-08 17:19:12", "2023-11-08T17:19:12Z"),  # no offset: UTC
        ("2019-12-23", "2019-12-23T23:59:59Z"),  # a day: its end
        ("1706745600", "2024-02-01T00:00:00Z"),
        ("yesterday", ""),
        ("0001-01-01T00:00:00Z", ""),
    ],
)
def test_parse_time(value, expected):
    assert parse_time(value) == expected


def test_parse_as_of_and_policy_errors_are_config_errors():
    assert parse_as_of("2024-01-20") == "2024-01-20T00:00:00Z"
    assert parse_as_of("2024-01-20T12:00:00+02:00") == "2024-01-20T10:00:00Z"
    with pytest.raises(ConfigError, match="as_of"):
        parse_as_of("next tuesday")
    with pytest.raises(ConfigError, match="keep, drop, flag"):
        TimeConfig.from_settings({"as_of": "2024-01-01", "unknown": "ignore"})


def _doc(available_at: str) -> Document:
    return Document(id="d", text="x", source="news", available_at=available_at)


def test_cut_rejects_after_cutoff_and_applies_the_unknown_policy():
    as_of = "2024-01-20T00:00:00Z"
    flag = TimeConfig(as_of=as_of, unknown="flag")
    assert cut(_doc("2024-01-20T00:00:00Z"), flag).available_at == as_of  # at the cut: kept
    rejected = cut(_doc("2024-01-20T00:00:01Z"), flag)
    assert isinstance(rejected, Rejected) and (rejected.stage, rejected.reason) == ("time", AFTER_CUTOFF)
    assert cut(_doc(""), flag).metadata == {"available_at_unknown": "true"}
    assert cut(_doc(""), TimeConfig(as_of=as_of, unknown="keep")).metadata == {}
    dropped = cut(_doc(""), TimeConfig(as_of=as_of, unknown="drop"))
    assert isinstance(dropped, Rejected) and dropped.reason == UNKNOWN_TIME
    assert cut(_doc("2030-01-01T00:00:00Z"), TimeConfig()).available_at  # no cut: nothing happens


def test_periods_and_later_years():
    assert period_of("2019-08-01T00:00:00Z", "year") == "2019"
    assert period_of("2019-08-01T00:00:00Z", "quarter") == "2019-Q3"
    assert period_of("2019-12-31T23:59:59Z", "quarter") == "2019-Q4"
    assert period_of("", "quarter") == "unknown"
    assert later_years("Guidance for 2025 and 2031; founded 1998; in 2024.", "2024-06-30T00:00:00Z") == [
        2025,
        2031,
    ]


def test_page_published_prefers_article_meta_then_json_ld():
    html = (
        '<html><head><meta name="sailthru.date" content="2023-11-08 17:19:12">'
        '<meta property="article:published_time" content="2023-11-08T22:19:12+00:00"></head>'
        '<body><script type="application/ld+json">{"datePublished": "2023-01-01T00:00:00Z"}</script></body></html>'
    )
    assert page_published(html) == "2023-11-08T22:19:12+00:00"
    assert page_published('<script>{"datePublished":"2020-02-24T12:57:13+0000"}</script>') == (
        "2020-02-24T12:57:13+0000"
    )
    assert page_published("<html><head><title>x</title></head></html>") == ""


# ---------------------------------------------------------------------------------------------------------
# Real files: every reader


def _pairs(kind: str, path: Path, options: dict | None = None) -> list[tuple[str, Document]]:
    """(native record id, extracted document) for every record a reader yields from a real file."""
    out = []
    with open(path, "rb") as f:
        for record in get_reader(kind)(str(path), f, options or {}):
            if isinstance(record, RawRecord):
                result = extract(record, DEFAULT_SOURCE_DOMAINS, {})
                out.append((record.id, result.document if isinstance(result, Rejected) else result))
    return out


def _documents(kind: str, path: Path, options: dict | None = None) -> list[Document]:
    return [doc for _, doc in _pairs(kind, path, options)]


@pytest.mark.parametrize(
    ("name", "available_at", "how", "date"),
    [
        # 1995, no SEC header: the cover's "As filed with the Securities and Exchange Commission on May 25, 1995"
        ("0000899681-95-000096.txt", "1995-05-26T03:59:59Z", "filing_date", "1995-05-25"),
        # 1998 headers have no ACCEPTANCE-DATETIME: end of FILED AS OF DATE 19980827, EDT (not the period 19980812)
        ("0000891020-98-001352.txt", "1998-08-28T03:59:59Z", "filing_date", "1998-08-27"),
        ("0001011438-98-000429.txt", "1999-01-01T04:59:59Z", "filing_date", "1998-12-31"),  # EST
        ("0000092122-05-000042.txt", "2005-01-25T14:26:50Z", "sec_acceptance", "2005-01-25"),  # 09:26:50 EST
        ("0001193125-11-009392.txt", "2011-01-18T21:30:27Z", "sec_acceptance", "2011-01-18"),  # 16:30:27 EST
        ("0000943374-24-000509.txt", "2024-12-27T21:29:40Z", "sec_acceptance", "2024-12-27"),  # 16:29:40 EST
    ],
)
def test_edgar_full_submissions_of_every_era(shared_data, name, available_at, how, date):
    docs = _documents("edgar", shared_data / "edgar" / "full-submission" / name)
    assert docs
    for doc in docs:  # the main document and its exhibits share the submission's time
        assert (doc.available_at, doc.metadata["available_at_source"], doc.date) == (available_at, how, date)


def test_edgar_primary_document_without_header_has_no_time_and_no_period_as_date(shared_data):
    (doc,) = _documents("edgar", shared_data / "edgar" / "10-K" / "aapl-10-k-2024-11-01.html")
    assert doc.metadata["period"] == "2024-09-28"
    assert (doc.date, doc.available_at) == ("", "")  # the filing date is not in the document: unknown
    assert "available_at_source" not in doc.metadata


def test_reddit_created_utc(shared_data):
    for name in ("RC_sample.ndjson", "RS_sample.ndjson"):
        path = shared_data / "social" / "reddit" / name
        expected = {}
        for line in path.read_text().splitlines():
            obj = json.loads(line)
            fullname = obj.get("name") or f"{'t3' if 'title' in obj else 't1'}_{obj['id']}"
            when = datetime.fromtimestamp(float(obj["created_utc"]), tz=UTC)
            expected[f"reddit:{fullname}"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        pairs = _pairs("reddit", path, {"subreddits": "*"})
        assert len(pairs) == len(expected)
        for native, doc in pairs:
            assert (doc.available_at, doc.metadata["available_at_source"]) == (expected[native], "post_time")


def test_tweets_created_at_and_csv_without_time(shared_data):
    path = shared_data / "social" / "tweets" / "stocknet_raw_AAPL_2014-01-02.jsonl"
    expected = {}
    for line in path.read_text().splitlines():
        tweet = json.loads(line)
        when = datetime.strptime(tweet["created_at"], "%a %b %d %H:%M:%S %z %Y")
        expected[f"{tweet['id_str']}"] = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    pairs = _pairs("tweets", path)
    assert len(pairs) == len(expected)
    for native, doc in pairs:
        assert (doc.available_at, doc.metadata["available_at_source"]) == (
            expected[native.removeprefix("twitter:")],
            "post_time",
        )
    csv_docs = _documents(
        "tweets", shared_data / "social" / "tweets" / "twitter_financial_news_sentiment_valid_subset.csv"
    )
    assert csv_docs and all(d.available_at == "" for d in csv_docs)  # the CSV has no time column


def test_wikipedia_revision_timestamp(shared_data):
    path = next((shared_data / "general").glob("enwiki-*.xml.bz2"))
    stamps = re.findall(r"<timestamp>([^<]+)</timestamp>", bz2.decompress(path.read_bytes()).decode())
    docs = _documents("wikipedia", path)
    assert docs
    for doc in docs:
        assert doc.available_at in stamps
        assert doc.available_at == doc.metadata["timestamp"]
        assert doc.metadata["available_at_source"] == "revision"


@pytest.mark.parametrize(
    ("name", "available_at", "how"),
    [
        ("bbc.com.52241221.html", "2020-04-10T16:58:15Z", "page_meta"),  # JSON-LD 17:58:15+01:00
        ("politico.com.retirement.html", "2019-12-30T10:03:00Z", "page_meta"),  # JSON-LD 05:03-0500
        ("theverge.com.ios13.html", "2019-07-03T08:22:07Z", "page_meta"),  # article:published_time -04:00
        ("newrepublic.com.neoliberalism.html", "2019-12-23T23:59:59Z", "page_meta"),  # a day only
        ("axios.com.future.html", "2019-01-18T23:59:59Z", "htmldate"),  # no date markup: htmldate's day
        ("iwr.de.IWRpressedienst.Nordex.html", "", ""),  # no date anywhere
    ],
)
def test_pages_with_and_without_date_metadata(shared_data, name, available_at, how):
    (doc,) = _documents("html", shared_data / "web" / "html" / name)
    assert doc.available_at == available_at
    assert doc.metadata.get("available_at_source", "") == how


def test_warc_page_without_date_uses_the_crawl_time_as_upper_bound(shared_data):
    docs = _documents("warc", shared_data / "web" / "warc" / "example.warc.gz")
    assert [(d.available_at, d.metadata["available_at_source"]) for d in docs] == [
        ("2017-03-06T04:02:06Z", "crawl_date")  # WARC-Date: 2017-03-06T04:02:06Z
    ]


def test_pubmed_publication_year_counts_as_its_end(shared_data):
    import gzip

    path = shared_data / "medical" / "medline" / "medline16n0902.xml.gz"
    blocks = re.findall(r"<PubDate>.*?</PubDate>", gzip.decompress(path.read_bytes()).decode(), re.DOTALL)
    years = {y for block in blocks for y in re.findall(r"\b(\d{4})\b", block)}  # <Year> or <MedlineDate>
    docs = _documents("pubmed", path)
    assert docs
    for doc in docs:
        if doc.date:
            assert doc.date in years
            assert (doc.available_at, doc.metadata["available_at_source"]) == (
                f"{doc.date}-12-31T23:59:59Z",
                "record_date",
            )


def test_end_of_period():
    from core.timeinfo import end_of_period

    assert end_of_period("2019") == "2019-12-31T23:59:59Z"
    assert end_of_period("2019-12") == "2019-12-31T23:59:59Z"
    assert end_of_period("2020-02") == "2020-02-29T23:59:59Z"
    assert end_of_period("2020-02-03") == "2020-02-03T23:59:59Z"
    assert end_of_period("spring 2020") == ""


def test_feed_publication_time():
    path = Path(__file__).resolve().parents[2] / "pipeline" / "sample" / "feeds" / "press-releases.xml"
    pub_dates = re.findall(r"<pubDate>([^<]+)</pubDate>", path.read_text())
    expected = {parse_time(v) for v in pub_dates}
    docs = _documents("rss", path)
    assert docs and {d.metadata["available_at_source"] for d in docs} == {"feed"}
    assert {d.available_at for d in docs} <= expected


def test_available_at_is_a_utc_timestamp_column():
    from core.schema import documents_to_table, table_to_documents

    table = documents_to_table([_doc("2024-12-27T21:29:40Z"), _doc("")])
    assert str(table.schema.field("available_at").type) == "timestamp[us, tz=UTC]"
    assert table.column("available_at").null_count == 1
    assert [d.available_at for d in table_to_documents(table)] == ["2024-12-27T21:29:40Z", ""]


# ---------------------------------------------------------------------------------------------------------
# A cut-off run of the sample, partitioned by quarter

AS_OF = "2024-01-20T00:00:00Z"  # the middle of the sample's January 2024 posts, feeds and news


@pytest.fixture(scope="module")
def cut_run(tmp_path_factory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("cut-run")
    proc = run_cli(
        "run", "--runner=DirectRunner", f"--output_root={root}", "--run_name=cut", "--as_of=2024-01-20",
        "--partition_by_period=quarter", "--progress_interval=0",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root / "cut", proc.stdout


def _kept(run_dir: Path) -> pd.DataFrame:
    frame = pd.read_parquet(run_dir / "data")
    frame["meta"] = frame["metadata"].map(entries_to_dict)
    return frame


def _rejected(run_dir: Path) -> list[dict]:
    return [json.loads(line) for f in sorted((run_dir / "rejected").glob("*.jsonl")) for line in f.open()]


def test_as_of_run_keeps_exactly_the_documents_before_the_cutoff(cut_run, sample_run):
    base_dir, _ = sample_run
    cut_run, summary = cut_run
    cut_off = pd.Timestamp(AS_OF)
    kept, base = _kept(cut_run), _kept(base_dir)
    # every kept document was public by the cut-off, or has no time and carries the flag (default policy)
    known = kept[kept.available_at.notna()]
    assert (known.available_at <= cut_off).all()
    unknown = kept[kept.available_at.isna()]
    assert len(unknown) >= 1 and all(m.get("available_at_unknown") == "true" for m in unknown.meta)
    # exactly the uncut run's documents from before the cut-off (and its undated ones)
    expected = set(base[base.available_at.isna() | (base.available_at <= cut_off)].id)
    assert set(kept.id) == expected
    # every document after the cut-off is in rejected/ with stage time, reason after_cutoff
    after = [r for r in _rejected(cut_run) if r["stage"] == "time"]
    assert after and {r["reason"] for r in after} == {AFTER_CUTOFF}
    assert all(datetime.fromisoformat(r["available_at"].replace("Z", "+00:00")) > cut_off for r in after)
    assert set(base[base.available_at > cut_off].id) <= {r["id"] for r in after}
    manifest = json.loads((cut_run / "manifest.json").read_text())
    assert manifest["config"]["time"] == {"as_of": AS_OF, "unknown": "flag"}
    funnel = manifest["funnel"]["sources"]
    assert sum(e["rejected"].get("time/after_cutoff", 0) for e in funnel.values()) == len(after)
    assert manifest["funnel"]["totals"]["balanced"]
    assert funnel["filings"]["available_at"]["unknown"] == 1  # the standalone 10-K of the sample
    assert f"time/after_cutoff={len(after)}" in summary
    assert (
        "point in time: as_of 2024-01-20T00:00:00Z (unknown time: flag); documents without a known time: filings=1"
        in summary
    )


def test_period_partitions_and_manifest_agree(cut_run):
    cut_run, _ = cut_run
    manifest = json.loads((cut_run / "manifest.json").read_text())
    totals: dict[tuple[str, str], list[int]] = {}
    for shard in manifest["shards"]:
        path = cut_run / shard["path"]
        assert path.parent.name == shard["period"]  # data/<domain>/<source>/<period>/part-NNNNN.parquet
        assert "=" not in shard["path"]
        rows = pq.read_table(path).to_pylist()
        for row in rows:
            at = row["available_at"]
            assert period_of(at.strftime("%Y-%m-%dT%H:%M:%SZ") if at else "", "quarter") == shard["period"]
        entry = totals.setdefault((shard["period"], shard["source"]), [0, 0])
        entry[0] += len(rows)
        entry[1] += sum(r["n_tokens"] for r in rows)
    listed = {
        (p, s): [v["rows"], v["tokens"]] for p, by in manifest["periods"].items() for s, v in by.items()
    }
    assert listed == totals
    assert {"2024-Q1", "unknown"} <= set(manifest["periods"])
    rows = sum(v[0] for v in totals.values())
    # the period folders keep the layout readable with every reader's defaults (no Hive key=value names)
    assert len(pd.read_parquet(cut_run / "data")) == pq.read_table(cut_run / "data").num_rows == rows
    polars = pytest.importorskip("polars")
    assert polars.read_parquet(cut_run / "data").height == rows


def test_leakage_audit_in_the_report(cut_run):
    cut_run, _ = cut_run
    stats = json.loads((cut_run / "stats" / "stats.json").read_text())
    audit = stats["time"]
    kept = _kept(cut_run)
    assert audit["as_of"] == AS_OF
    assert audit["without_time"] == int(kept.available_at.isna().sum())
    mentions = [t for t in kept.text if later_years(t, AS_OF)]
    assert audit["later_year_mentions"]["docs"] == len(mentions) >= 1
    assert all(int(y) > 2024 for e in audit["later_year_mentions"]["examples"] for y in e["years"])
    assert (cut_run / "stats" / "time.png").exists()
    assert "Point in time (leakage audit)" in (cut_run / "stats" / "report.html").read_text()


def test_bad_as_of_is_one_line_exit_2(tmp_path):
    proc = run_cli("run", f"--output_root={tmp_path}", "--as_of=soon", "--progress_interval=0")
    assert proc.returncode == 2
    assert "as_of" in proc.stderr and "Traceback" not in proc.stderr


def test_stocktwits_created_at(tmp_path):
    # A saved streams/symbol response, in the API's layout (created_at is ISO 8601 UTC).
    body = {
        "response": {"status": 200},
        "symbol": {"id": 686, "symbol": "AAPL"},
        "cursor": {"more": False, "since": 2, "max": 1},
        "messages": [
            {
                "id": i,
                "body": f"$AAPL holding into the print, note {i} on margins and guidance",
                "created_at": created,
                "user": {"id": 7, "username": "trader1"},
                "symbols": [{"symbol": "AAPL"}],
                "entities": {"sentiment": None},
            }
            for i, created in ((1, "2024-01-03T14:30:00Z"), (2, "2024-07-09T20:01:59Z"))
        ],
    }
    path = tmp_path / "AAPL.json"
    path.write_text(json.dumps(body))
    assert {(d.available_at, d.metadata["available_at_source"]) for d in _documents("stocktwits", path)} == {
        ("2024-01-03T14:30:00Z", "post_time"),
        ("2024-07-09T20:01:59Z", "post_time"),
    }


def test_cut_at_time_stage_in_beam_counts_every_path():
    import apache_beam as beam
    from apache_beam.metrics.metric import MetricsFilter
    from apache_beam.testing.test_pipeline import TestPipeline
    from apache_beam.testing.util import assert_that, equal_to

    from pipeline.stages.base import apply_stage
    from pipeline.stages.timecut import CutAtTime

    docs = [
        Document(id="before", text="x", source="news", available_at="2019-12-31T23:59:59Z"),
        Document(id="after", text="x", source="news", available_at="2020-01-01T00:00:01Z"),
        Document(id="undated", text="x", source="web"),
    ]
    p = TestPipeline()
    kept, rejected, errors = apply_stage(
        p | beam.Create(docs), "CutAtTime", CutAtTime({"as_of": "2020-01-01", "unknown": "drop"})
    )
    assert_that(kept | "KeptIds" >> beam.Map(lambda d: d.id), equal_to(["before"]), label="Kept")
    assert_that(
        rejected | "Reasons" >> beam.Map(lambda r: (r.document.id, r.stage, r.reason)),
        equal_to([("after", "time", "after_cutoff"), ("undated", "time", "unknown_time")]),
        label="Rejected",
    )
    assert_that(errors, equal_to([]), label="NoErrors")
    result = p.run()
    result.wait_until_finish()
    counters = {
        c.key.metric.name: c.committed
        for c in result.metrics().query(MetricsFilter().with_namespace("finpile"))["counters"]
    }
    assert counters["time:kept"] == 1
    assert counters["time:dropped:after_cutoff"] == 1
    assert counters["time:dropped:unknown_time"] == 1
