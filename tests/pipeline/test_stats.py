"""The statistics report: every number of stats.json on a hand-made four-document run, HTML, errors, modes."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from core.errors import ConfigError
from core.schema import Document, documents_to_table
from filters.tokens import count_tokens
from pipeline.report import stats_main, write_report
from pipeline.run import funnel_from_counts
from pipeline.stats import (
    ALL,
    LENGTH_EDGES,
    RATIO_EDGES,
    UNIT_EDGES,
    bin_index,
    compute_stats,
    document_date,
    percentiles,
    web_domain,
)

REJECTED_TEXT = "Cheap loans!!! Write to john.doe@example.com or call (212) 555-1234 today."


def _docs() -> list[Document]:
    return [
        Document(
            id="f1", text="x" * 50, source="filings", domain="financial", date="2010-03-01", lang="en",
            lang_score=0.9, quality_score=1.0, quality_signals={"mean_word_length": 4.6, "symbol_ratio": 0.015},
            n_chars=50, n_tokens=10, mix_weight=1.0,
            metadata={"company": "ACME CORP", "form_type": "10-k", "filed": "2010-03-01"},
        ),
        Document(
            id="f2", text="y" * 100, source="filings", domain="financial", date="2010-05-02", lang="en",
            lang_score=0.95, quality_score=0.5, dedup_cluster_size=2, n_chars=100, n_tokens=20, mix_weight=1.0,
            metadata={"company": "ACME CORP", "form_type": "10-Q", "domain_score": "0.8"},
        ),
        Document(
            id="s1", text="z" * 10, source="social", domain="financial", url="https://www.reddit.com/r/stocks/1",
            lang="en", lang_score=0.7, quality_score=1.0, n_chars=10, n_tokens=3, mix_weight=1.0,
            metadata={"subreddit": "stocks", "cashtags": "AAPL,tsla", "created": "2021-01-05"},
        ),
        Document(
            id="w1", text="w" * 1000, source="web", domain="general", url="https://www.example.com/a", lang="de",
            lang_score=0.99, quality_score=0.9, n_chars=1000, n_tokens=250, mix_weight=2.0,
        ),
    ]  # fmt: skip


def _write_shard(run_dir: Path, rel: str, docs: list[Document]) -> dict:
    buffer = io.BytesIO()
    pq.write_table(documents_to_table(docs), buffer)
    data = buffer.getvalue()
    path = run_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {
        "path": rel,
        "domain": docs[0].domain,
        "source": docs[0].source,
        "rows": len(docs),
        "tokens": sum(d.n_tokens for d in docs),
        "weighted_tokens": sum(d.n_tokens * d.mix_weight for d in docs),
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def make_run(run_dir: Path, docs: list[Document], with_rejected: bool = True) -> Path:
    """A tiny run folder: one shard per source, a rejected file and a manifest."""
    shards = []
    for source in sorted({d.source for d in docs}):
        group = [d for d in docs if d.source == source]
        rel = f"data/domain={group[0].domain}/source={source}/part-00000.parquet"
        shards.append(_write_shard(run_dir, rel, group))
    counts = [(("read", d.source), 1) for d in docs] + [(("kept", d.source, d.domain), 1) for d in docs]
    counts += [(("lang", d.source, d.lang), 1) for d in docs]
    rejected_files = []
    if with_rejected:
        counts += [(("read", "web"), 2), (("rejected", "web", "quality", "gopher:stop_words"), 1)]
        counts += [(("error", "web", "read", "invalid_json"), 1), (("lang", "web", "en"), 1)]
        record = {"stage": "quality", "reason": "gopher:stop_words", "duplicate_of": "",
                  **Document(id="r1", text=REJECTED_TEXT, source="web", url="https://spam.biz/x").to_row()}  # fmt: skip
        record["metadata"], record["quality_signals"] = {}, {}
        (run_dir / "rejected").mkdir()
        (run_dir / "rejected/part-00000-of-00001.jsonl").write_text(json.dumps(record) + "\n")
        rejected_files = ["rejected/part-00000-of-00001.jsonl"]
    manifest = {
        "schema_version": "1.0",
        "finpile_builder_version": "0.1.0",
        "run_name": run_dir.name,
        "created_at": "2024-01-01T00:00:00+00:00",
        "wall_seconds": 2.5,
        "runner": "DirectRunner (FnApiRunner, in_memory)",
        "config": {"run_name": run_dir.name},
        "config_file": None,
        "config_hash": "abc123",
        "minhash": "minhash(test)",
        "inputs": [{"input": "w-0", "kind": "warc", "path": "/in/a.warc.gz", "bytes": 1234}],
        "shards": shards,
        "rejected_files": rejected_files,
        "error_files": [],
        "funnel": funnel_from_counts(counts),
        "mixture": {
            "total_raw_tokens": 283,
            "max_weight": 4.0,
            "domains": {"financial": {"raw_tokens": 33, "target_share": 0.51, "achieved_share": 0.06}},
            "sources": {
                "web": {
                    "domain": "general",
                    "raw_tokens": 250,
                    "weight": 2.0,
                    "target_share": 0.49,
                    "achieved_share": 0.94,
                    "capped": False,
                    "effective_tokens": 500.0,
                },
            },  # fmt: skip
            "notes": ["a note"],
        },
    }
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    return run_dir


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Path, dict]:
    run_dir = make_run(tmp_path_factory.mktemp("runs") / "tiny", _docs())
    return run_dir, write_report(str(run_dir))


# ---------------------------------------------------------------------------------------------------------
# Pure helpers.


def test_bins_and_helpers():
    assert LENGTH_EDGES[:6] == [0.0, 1.0, 1.778, 3.162, 5.623, 10.0]
    assert bin_index(0, LENGTH_EDGES) == 0
    assert bin_index(10, LENGTH_EDGES) == 5
    assert bin_index(9.99, LENGTH_EDGES) == 4
    assert bin_index(10**12, LENGTH_EDGES) == len(LENGTH_EDGES) - 2
    assert bin_index(1.0, UNIT_EDGES) == len(UNIT_EDGES) - 2  # closed on the right
    assert bin_index(0.015, RATIO_EDGES) == 1
    assert web_domain("https://www.Example.com/a?b") == "example.com"
    assert web_domain("") == ""
    assert document_date({"date": "", "metadata": {"created": "2021-01-05"}}) == "2021-01"
    assert document_date({"date": "n/a", "metadata": {}}) == ""
    # Nearest-rank percentiles out of 101 quantile points (Beam's list for [10, 50, 100, 1000]).
    points = [10.0] * 26 + [50.0] * 25 + [100.0] * 25 + [1000.0] * 25
    assert percentiles(points) == {
        "p0": 10, "p1": 10, "p5": 10, "p10": 10, "p25": 10, "p50": 50, "p75": 100, "p90": 1000, "p95": 1000,
        "p99": 1000, "p100": 1000,
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------------------
# stats.json against hand-computed values.


def test_composition_numbers(tiny):
    _, stats = tiny
    comp = stats["composition"]
    fin, gen = comp["domains"]
    assert fin["domain"] == "financial" and gen["domain"] == "general"
    filings, social = fin["sources"]
    assert filings == {
        "name": "filings",
        "docs": 2,
        "chars": 150,
        "tokens": 30,
        "chars_per_doc": 75.0,
        "chars_per_token": 5.0,
        "token_share_pct": 10.6,
        "weighted_token_share_pct": 5.63,
        "reference_share_pct": 2.04,
    }  # fmt: skip  (30/283, 30/533)
    assert social["docs"] == 1 and social["chars_per_token"] == 3.333 and social["token_share_pct"] == 1.06
    assert social["reference_share_pct"] is None
    assert fin["subtotal"]["docs"] == 3 and fin["subtotal"]["tokens"] == 33
    assert fin["subtotal"]["chars_per_doc"] == 53.3 and fin["subtotal"]["chars_per_token"] == 4.848
    assert fin["subtotal"]["reference_share_pct"] == 51.27
    web = gen["sources"][0]
    assert (
        web["tokens"] == 250 and web["token_share_pct"] == 88.34 and web["weighted_token_share_pct"] == 93.81
    )
    assert comp["total"]["docs"] == 4 and comp["total"]["chars"] == 1160 and comp["total"]["tokens"] == 283
    assert comp["total"]["chars_per_doc"] == 290.0 and comp["total"]["chars_per_token"] == 4.099
    assert comp["languages_kept"] == {"de": 1, "en": 3}
    assert web["reference_share_pct"] == 25.90  # general web beside The Pile, not FinPile's financial web


def test_composition_splits_a_source_the_domain_classifier_moved(tmp_path):
    """Web pages moved to the financial domain are counted there, as in the Mixture table (issue 20)."""
    docs = _docs() + [
        Document(
            id="w2", text="v" * 400, source="web", domain="financial", url="https://www.example.com/b", lang="en",
            lang_score=0.9, quality_score=0.8, n_chars=400, n_tokens=100, mix_weight=1.0,
            metadata={"domain_score": "0.93"},
        ),
        Document(
            id="k1", text="k" * 40, source="wikipedia", domain="general", lang="en", lang_score=0.9,
            quality_score=0.9, n_chars=40, n_tokens=8, mix_weight=1.0,
        ),
    ]  # fmt: skip
    stats = write_report(str(make_run(tmp_path / "moved", docs)))
    fin, gen = stats["composition"]["domains"]
    rows = {(d["domain"], r["name"]): r for d in (fin, gen) for r in d["sources"]}
    assert rows[("financial", "web")]["docs"] == 1 and rows[("financial", "web")]["tokens"] == 100
    assert rows[("general", "web")]["docs"] == 1 and rows[("general", "web")]["tokens"] == 250
    assert rows[("financial", "web")]["reference_share_pct"] == 42.01
    assert rows[("general", "web")]["reference_share_pct"] == 25.90
    assert rows[("general", "wikipedia")]["reference_share_pct"] == 3.35
    # the financial total is every financial document's tokens: 30 filings + 3 social + 100 moved web
    assert fin["subtotal"]["tokens"] == 133
    assert fin["subtotal"]["token_share_pct"] == round(100 * 133 / 391, 2)


def test_report_cosmetics():
    from pipeline.report_html import _code_spans
    from pipeline.report_plots import _plain_number, _source_colours
    from pipeline.stats import short_label

    assert _code_spans("`abc` (config file: x)") == "<code>abc</code> (config file: x)"
    assert "`" not in _code_spans("`abc` (config file: `y`)")
    title = "Regional bank stocks slide as commercial real estate losses return to the spotlight again"
    assert short_label(title) == "Regional bank stocks slide as commercial real estate losses return to the…"
    assert short_label("Short title") == "Short title"
    assert (
        _plain_number(60, 0) == "60" and _plain_number(1000, 0) == "1,000" and _plain_number(0.5, 0) == "0.5"
    )
    # a source keeps its colour whatever else is in the report, and social is not the green of "kept"
    assert _source_colours(["social"])["social"] == _source_colours(["c4", "filings", "social"])["social"]
    assert _source_colours(["social"])["social"] != "#2ca02c"


def test_stage_table_lists_only_stages_that_removed_documents(tiny):
    from pipeline.stats import stage_rows

    _, stats = tiny
    rows = stage_rows(stats)
    assert rows, "the tiny run rejects and fails documents in web"
    assert all(int(r[3].replace(",", "")) or int(r[4].replace(",", "")) for r in rows)
    assert stats["tokenizer"].startswith("cl100k_base")
    assert stats["shards"] == 3 and stats["has_manifest"] is True and stats["config_hash"] == "abc123"


def test_distribution_numbers(tiny):
    _, stats = tiny
    dist = stats["distributions"]
    assert list(dist) == ["filings", "social", "web", ALL]
    everything = dist[ALL]
    assert everything["docs"] == 4
    chars = everything["n_chars"]
    assert chars["percentiles"] == {
        "p0": 10, "p1": 10, "p5": 10, "p10": 10, "p25": 10, "p50": 50, "p75": 100, "p90": 1000, "p95": 1000,
        "p99": 1000, "p100": 1000,
    }  # fmt: skip
    assert chars["mean"] == 290.0
    # 10 -> bin [10, 17.8), 50 -> [31.6, 56.2), 100 -> [100, 178), 1000 -> [1000, 1778).
    counts = chars["histogram"]["counts"]
    assert {i: n for i, n in enumerate(counts) if n} == {5: 1, 7: 1, 9: 1, 13: 1}
    assert chars["histogram"]["edges"] == LENGTH_EDGES
    tokens = everything["n_tokens"]
    assert (
        tokens["percentiles"]["p50"] == 10 and tokens["percentiles"]["p100"] == 250 and tokens["mean"] == 70.8
    )
    assert dist["filings"]["n_tokens"]["percentiles"]["p0"] == 10
    assert dist["filings"]["n_tokens"]["percentiles"]["p100"] == 20
    q = everything["quality_score"]
    assert q["mean"] == 0.85 and q["percentiles"]["p0"] == 0.5 and q["percentiles"]["p50"] == 0.9
    assert {i: n for i, n in enumerate(q["histogram"]["counts"]) if n} == {25: 1, 45: 1, 49: 2}
    assert everything["lang_score"]["mean"] == 0.885
    assert {i: n for i, n in enumerate(everything["lang_score"]["histogram"]["counts"]) if n} == {
        35: 1, 45: 1, 47: 1, 49: 1,
    }  # fmt: skip
    assert everything["domain_score"]["docs"] == 1
    assert everything["domain_score"]["histogram"]["counts"][40] == 1
    signals = everything["signals"]
    assert signals["mean_word_length"]["docs"] == 1
    assert signals["mean_word_length"]["histogram"]["counts"][18] == 1  # 4.6 in [4.5, 4.75)
    assert signals["symbol_ratio"]["histogram"]["counts"][1] == 1
    assert signals["dup_line_frac"]["docs"] == 0
    assert everything["languages"] == {"en": 3, "de": 1}
    assert everything["dedup_cluster_sizes"] == {"1": 3, "2": 1}
    assert everything["dates"] == {
        "by_year": {"2010": 2, "2021": 1},
        "by_month": {"2010-03": 1, "2010-05": 1, "2021-01": 1},
        "undated": 1,
    }
    assert dist["web"]["dates"]["undated"] == 1 and dist["web"]["dates"]["by_year"] == {}


def test_top_values(tiny):
    _, stats = tiny
    top = stats["top"]
    assert top["companies"][ALL] == {"distinct": 1, "top": [{"value": "ACME CORP", "docs": 2}]}
    assert top["form_types"][ALL]["top"] == [{"value": "10-K", "docs": 1}, {"value": "10-Q", "docs": 1}]
    assert top["cashtags"]["social"]["top"] == [{"value": "$AAPL", "docs": 1}, {"value": "$TSLA", "docs": 1}]
    assert top["subreddits"][ALL] == {"distinct": 1, "top": [{"value": "stocks", "docs": 1}]}
    # Social URLs are a platform, not a web domain.
    assert top["web_domains"] == {
        "web": {"distinct": 1, "top": [{"value": "example.com", "docs": 1}]},
        ALL: {"distinct": 1, "top": [{"value": "example.com", "docs": 1}]},
    }


def test_funnel_tokens_and_mixture(tiny):
    _, stats = tiny
    n = count_tokens(REJECTED_TEXT)
    web = stats["funnel_tokens"]["web"]
    assert web["read"] == 3 and web["kept"] == 1 and web["kept_tokens"] == 250 and web["rejected_tokens"] == n
    assert web["rejected_by_reason"] == {
        "quality/gopher:stop_words": {"docs": 1, "chars": len(REJECTED_TEXT), "tokens": n}
    }
    stages = {r["stage"]: r for r in web["stages"]}
    assert [r["stage"] for r in web["stages"]] == ["read", "extract", "language", "quality", "pii", "decontam",
                                                   "boilerplate", "unique_ids", "exact_dedup", "near_dedup", "domain"]  # fmt: skip
    assert stages["read"] == {"stage": "read", "docs_in": 3, "docs_rejected": 0, "docs_errors": 1, "docs_out": 2,
                              "tokens_in": 250 + n, "tokens_rejected": 0, "tokens_out": 250 + n}  # fmt: skip
    assert stages["quality"]["docs_in"] == 2 and stages["quality"]["docs_out"] == 1
    assert stages["quality"]["tokens_rejected"] == n and stages["quality"]["tokens_out"] == 250
    assert stages["near_dedup"]["docs_in"] == stages["near_dedup"]["docs_out"] == 1
    assert stats["funnel_tokens"]["filings"]["stages"][0]["docs_in"] == 2
    assert stats["funnel"]["totals"] == {"read": 6, "derived": 0, "kept": 4, "rejected_total": 1,
                                         "errors_total": 1, "balanced": True, "seen": 6, "skipped_total": 0,
                                         "lost_bytes": 0, "lost_records": 0}  # fmt: skip
    assert stats["languages_identified"] == {"en": 4, "de": 1}
    assert stats["mixture"]["sources"]["web"]["achieved_share"] == 0.94


def test_samples_are_redacted_and_deterministic(tiny):
    run_dir, stats = tiny
    web = stats["samples"]["web"]
    assert [s["id"] for s in web["kept"]] == ["w1"]
    assert web["kept"][0]["text"] == "w" * 300 + "…"
    (rejected,) = web["rejected"]
    assert rejected["stage"] == "quality" and rejected["reason"] == "gopher:stop_words"
    assert "<EMAIL>" in rejected["text"] and "<PHONE>" in rejected["text"]
    assert "john.doe@example.com" not in json.dumps(stats) and "555-1234" not in json.dumps(stats)
    assert [s["id"] for s in stats["samples"]["filings"]["kept"]] == sorted(
        ["f1", "f2"], key=lambda i: hashlib.sha1(f"finpile-stats-1:{i}".encode()).hexdigest()
    )
    again = compute_stats(str(run_dir), samples=1)
    assert len(again["samples"]["filings"]["kept"]) == 1
    assert again["samples"]["filings"]["kept"][0]["id"] == stats["samples"]["filings"]["kept"][0]["id"]


def test_reproducibility(tiny):
    _, stats = tiny
    r = stats["reproducibility"]
    assert r["config_hash"] == "abc123" and r["runner"].startswith("DirectRunner")
    assert r["input_files"] == 1 and r["input_bytes"] == 1234 and r["wall_seconds"] == 2.5
    assert r["docs_read_per_second"] == 2.4  # 6 read / 2.5 s
    assert r["finpile_builder_version"] == "0.1.0" and r["per_stage_seconds"] is None
    assert r["stats_seconds"] > 0


# ---------------------------------------------------------------------------------------------------------
# The files.


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[str] = []
        self.tables = 0
        self.headings: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        elif tag == "table":
            self.tables += 1
        elif tag == "h2":
            self._in_h2 = True

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data):
        if self._in_h2:
            self.headings.append(data)


def test_html_is_self_contained(tiny):
    run_dir, _ = tiny
    html = (run_dir / "stats/report.html").read_text()
    parser = _Collector()
    parser.feed(html)
    assert len(parser.images) >= 8
    for src in parser.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert parser.tables >= 10
    for heading in ("Composition", "Funnel", "Distributions", "Mixture", "Samples", "Reproducibility"):
        assert any(h.startswith(heading) for h in parser.headings), (heading, parser.headings)
    assert "http://" not in html.split("<body>")[0] and "<script" not in html


def test_markdown_and_pngs(tiny):
    run_dir, _ = tiny
    report = (run_dir / "stats/report.md").read_text()
    assert "| Dataset | Docs | Chars/Doc | Chars/Token | Tokens | % of tokens |" in report
    assert "## Funnel" in report and "## Languages identified" in report
    assert "| filings | 2 | 75 | 5.00 | 30 | 10.60 | 5.63 | 2.04 |" in report
    for name in ("composition", "funnel", "lengths", "scores", "dates", "top", "mixture"):
        assert f"]({name}.png)" in report
        assert (run_dir / f"stats/{name}.png").read_bytes()[:4] == b"\x89PNG"


# ---------------------------------------------------------------------------------------------------------
# Errors, the no-manifest mode and --compare.


def _copy(tiny, tmp_path) -> tuple[Path, dict]:
    copy = tmp_path / "copy"
    shutil.copytree(tiny[0], copy)
    return copy, json.loads((copy / "manifest.json").read_text())


def test_missing_shard_is_named(tiny, tmp_path):
    copy, manifest = _copy(tiny, tmp_path)
    shard = manifest["shards"][1]["path"]
    (copy / shard).unlink()
    with pytest.raises(ConfigError, match=f"shard {shard} listed in the manifest is missing"):
        compute_stats(str(copy))


def test_corrupt_shard_is_named(tiny, tmp_path):
    copy, manifest = _copy(tiny, tmp_path)
    shard = manifest["shards"][0]["path"]
    data = (copy / shard).read_bytes()
    (copy / shard).write_bytes(data[:-10])
    with pytest.raises(ConfigError, match=f"shard {shard} is corrupt"):
        compute_stats(str(copy))


def test_stats_main_error_is_one_line(tiny, tmp_path, capsys):
    from pipeline.cli import main

    copy, manifest = _copy(tiny, tmp_path)
    (copy / manifest["shards"][0]["path"]).write_bytes(b"not parquet")
    (copy / "manifest.json").unlink()  # no checksums: the Parquet footer check must catch it
    assert stats_main.__doc__
    with pytest.raises(ConfigError, match=f"shard {manifest['shards'][0]['path']} is corrupt"):
        stats_main([str(copy)])
    assert main(["stats", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert "has no manifest.json" in err and len(err.strip().splitlines()) == 1


def test_folder_of_shards_without_manifest(tiny, tmp_path):
    folder = tmp_path / "shards"
    shutil.copytree(tiny[0] / "data", folder / "nested")
    stats = write_report(str(folder), samples=0)
    assert stats["has_manifest"] is False
    assert stats["composition"]["total"] == tiny[1]["composition"]["total"]
    assert stats["funnel"] is None and stats["mixture"] is None and stats["samples"] == {}
    assert stats["reproducibility"]["available"] is False
    report = (folder / "stats/report.md").read_text()
    assert "Not available: no manifest.json" in report
    assert "Not available" in (folder / "stats/report.html").read_text()


def test_compare_two_runs(tiny, tmp_path, capsys):
    other = make_run(tmp_path / "other", _docs()[:2] + _docs()[3:], with_rejected=False)  # no social
    assert stats_main([str(tiny[0]), "--compare", str(other), "--samples", "0"]) == 0
    assert "vs other: +1 documents, +3 tokens" in capsys.readouterr().out
    stats = json.loads((tiny[0] / "stats/stats.json").read_text())
    cmp = stats["compare"]
    assert cmp["other_run_name"] == "other"
    assert cmp["sources"]["social"] == {
        "docs": 1, "other_docs": 0, "docs_delta": 1, "tokens": 3, "other_tokens": 0, "tokens_delta": 3,
        "tokens_delta_pct": None, "share_pct": 1.06, "other_share_pct": 0.0, "share_delta_pp": 1.06,
    }  # fmt: skip
    # other: 280 tokens, filings 30 -> 10.71 %; this: 10.60 %.
    assert (
        cmp["sources"]["filings"]["share_delta_pp"] == -0.11 and cmp["sources"]["filings"]["docs_delta"] == 0
    )
    assert cmp["total"]["tokens_delta"] == 3 and cmp["total"]["tokens_delta_pct"] == 1.07
    assert "## Compared with other" in (tiny[0] / "stats/report.md").read_text()


def test_domain_scores_per_source_and_what_each_threshold_moves():
    """Per scored source: how many the classifier moved each way, and how many each threshold calls financial."""
    from dataclasses import asdict

    from pipeline.stats import (
        ALL,
        add_document,
        distributions,
        domain_header,
        domain_rows,
        merge_summaries,
        new_summary,
        normalise_row,
    )

    def scored(i: int, source: str, score: str, before: str, domain: str) -> Document:
        return Document(
            id=f"{source}{i}", text="t", source=source, domain=domain, n_chars=1, n_tokens=1,
            metadata={"domain_score": score, "domain_before": before},
        )  # fmt: skip

    docs = [
        scored(1, "web", "0.9500", "general", "financial"),  # moved to financial
        scored(2, "web", "0.4500", "general", "general"),  # stays general
        scored(3, "web", "0.3000", "general", "general"),
        scored(4, "social", "0.1000", "financial", "general"),  # an r/MMA post moved to general
        Document(id="n", text="t", source="news", domain="financial", n_chars=1, n_tokens=1),  # not scored
    ]
    summaries: dict = {}
    for d in docs:
        row = normalise_row(asdict(d))
        add_document(summaries.setdefault(d.source, new_summary()), row)
    dist = distributions(summaries, {})
    web = dist["web"]["domain_score"]
    assert web["moved"] == {"to_financial": 1, "to_general": 0}
    assert web["at_or_above"] == {"0.3": 3, "0.4": 2, "0.5": 1, "0.6": 1, "0.7": 1}
    assert dist["social"]["domain_score"]["moved"] == {"to_financial": 0, "to_general": 1}
    assert dist[ALL]["domain_score"]["at_or_above"]["0.3"] == 3
    stats = {"distributions": dist}
    rows = domain_rows(stats)
    assert [r[0] for r in rows] == ["social", "web", "**all**"]  # news has no scored document
    assert rows[1] == ["web", "3", "1", "0", "3", "2", "1", "1", "1"]
    assert len(domain_header(stats)) == len(rows[0]) and domain_header(stats)[2] == "Moved to financial"
    assert merge_summaries(summaries.values())["domain_moved"] == {"to_financial": 1, "to_general": 1}


def test_domain_scores_of_a_medical_run_count_pages_moved_to_medical():
    """A medical run's pages moved to medical were counted as 0 moved: the table only read 'to_financial'."""
    from dataclasses import asdict

    from pipeline.stats import (
        add_document,
        distributions,
        domain_header,
        domain_rows,
        new_summary,
        normalise_row,
    )

    summaries: dict = {}
    for i, (score, domain) in enumerate([("0.9", "medical"), ("0.7", "medical"), ("0.2", "general")]):
        doc = Document(id=f"w{i}", text="t", source="web", domain=domain, n_chars=1, n_tokens=1,
                       metadata={"domain_score": score, "domain_before": "general"})  # fmt: skip
        add_document(summaries.setdefault("web", new_summary()), normalise_row(asdict(doc)))
    stats = {"domain": "medical", "distributions": distributions(summaries, {}, "medical")}
    assert stats["distributions"]["web"]["domain_score"]["moved"] == {"to_medical": 2, "to_general": 0}
    assert domain_rows(stats)[0][:4] == ["web", "3", "2", "0"]
    assert domain_header(stats)[2] == "Moved to medical"


def test_report_renders_in_headless_chromium(tiny, tmp_path):
    """What a person sees: the HTML report rendered by a real browser is a tall, non-blank page."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "screenshot_report", Path(__file__).resolve().parents[2] / "scripts" / "screenshot_report.py"
    )
    shot = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shot)
    if shot.find_browser() is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    from PIL import Image

    png = shot.screenshot(tiny[0] / "stats" / "report.html", tmp_path / "report.png", height=20000)
    with Image.open(png) as image:
        width, height = image.size
        extrema = image.convert("L").getextrema()
    assert width == 1400 and 1500 < height < 20000  # the whole report, cropped below its last line
    assert extrema[0] < 100  # text and plots drawn, not a blank page
