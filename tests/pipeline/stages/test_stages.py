"""One TestPipeline test per per-document stage transform: outputs, reasons and counters."""

from __future__ import annotations

import io

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from core.schema import Document
from pipeline.stages.language import IdentifyLanguage
from pipeline.stages.mix import AssignDomainAndMix
from pipeline.stages.pii import RedactPII
from pipeline.stages.quality import ScoreQuality
from pipeline.stages.read import InputFile, ReadSources

ENGLISH = (
    "The central bank kept interest rates unchanged on Wednesday and said it would watch inflation closely "
    "before deciding whether to cut borrowing costs later in the year, according to a statement."
)
GERMAN = (
    "Die Zentralbank hat die Zinsen am Mittwoch unverändert gelassen und erklärt, sie werde die Inflation "
    "genau beobachten, bevor sie über eine Senkung der Kreditkosten im Laufe des Jahres entscheidet."
)


def _counter(result, name: str) -> int:
    counters = result.metrics().query(MetricsFilter().with_name(name))["counters"]
    return sum(c.committed for c in counters)


def test_identify_language_rejects_other_languages():
    docs = [Document(id="en", text=ENGLISH, source="news"), Document(id="de", text=GERMAN, source="news")]
    p = TestPipeline()
    kept, rejected, errors = p | beam.Create(docs) | IdentifyLanguage({"allowed": ["en"], "min_score": 0.5})
    assert_that(
        kept | "KeptIds" >> beam.Map(lambda d: (d.id, d.lang)), equal_to([("en", "en")]), label="Kept"
    )
    assert_that(
        rejected | "Reasons" >> beam.Map(lambda r: (r.document.id, r.stage, r.reason)),
        equal_to([("de", "language", "language:de")]),
        label="Rejected",
    )
    assert_that(errors, equal_to([]), label="NoErrors")
    result = p.run()
    result.wait_until_finish()
    assert _counter(result, "language:kept") == 1
    assert _counter(result, "language:dropped:language:de") == 1


def test_identify_language_short_texts_thresholds_and_evidence():
    docs = [
        Document(id="tap", text="$TAP: Barclays cuts to Equal Weight", source="social"),
        Document(id="spam", text="$AAPL $TSLA +5% https://t.co/x1", source="social"),
        Document(id="long", text=(GERMAN + "\n\n") * 12 + (ENGLISH + "\n\n") * 150, source="filings"),
    ]
    p = TestPipeline()
    kept, rejected, errors = (
        p | beam.Create(docs) | IdentifyLanguage({"min_score_by_source": {"social": 0.3}})
    )
    assert_that(
        kept | "Kept" >> beam.Map(lambda d: (d.id, d.lang, "lang_windows" in d.metadata)),
        equal_to([("tap", "en", False), ("long", "en", True)]),
        label="KeptTagged",
    )
    assert_that(
        rejected | "Why" >> beam.Map(lambda r: (r.document.id, r.reason)),
        equal_to([("spam", "language:too_little_text")]),
        label="TooLittle",
    )
    assert_that(errors, equal_to([]), label="NoErrors")
    result = p.run()
    result.wait_until_finish()
    assert _counter(result, "language:kept") == 2
    assert _counter(result, "language:dropped:language:too_little_text") == 1


def test_identify_language_label_only_keeps_everything():
    docs = [Document(id="de", text=GERMAN, source="news")]
    with TestPipeline() as p:
        kept, rejected, _ = p | beam.Create(docs) | IdentifyLanguage({"allowed": ["en"]}, label_only=True)
        assert_that(kept | beam.Map(lambda d: d.lang), equal_to(["de"]), label="Tagged")
        assert_that(rejected, equal_to([]), label="NothingDropped")


def test_score_quality_per_source_policy():
    tweet = "Fed minutes at 2pm ET. Expect volatility in $TLT and $SPY into the close."
    docs = [Document(id="tweet", text=tweet, source="social"), Document(id="page", text=tweet, source="web")]
    p = TestPipeline()
    kept, rejected, errors = p | beam.Create(docs) | ScoreQuality({})
    assert_that(kept | "KeptIds" >> beam.Map(lambda d: d.id), equal_to(["tweet"]), label="Kept")
    assert_that(
        rejected | "Reasons" >> beam.Map(lambda r: (r.document.id, r.reason)),
        equal_to([("page", "gopher:short_doc")]),
        label="Rejected",
    )
    assert_that(errors, equal_to([]), label="NoErrors")
    result = p.run()
    result.wait_until_finish()
    assert _counter(result, "quality:dropped:gopher:short_doc") == 1


def test_redact_pii_counts_per_kind():
    text = "Write to jane.doe@example.com or call (212) 555-0147 for the filing."
    docs = [Document(id="n", text=text, source="news"), Document(id="f", text=text, source="filings")]
    p = TestPipeline()
    kept, rejected, _ = p | beam.Create(docs) | RedactPII({})
    assert_that(
        kept | beam.Map(lambda d: (d.id, d.text, d.metadata.get("pii_redacted", ""))),
        equal_to(
            [
                ("n", "Write to <EMAIL> or call <PHONE> for the filing.", "email:1,phone:1"),
                ("f", text, ""),  # filings: company contact lines are public, not PII
            ]
        ),
    )
    assert_that(rejected, equal_to([]), label="NothingDropped")
    result = p.run()
    result.wait_until_finish()
    assert _counter(result, "pii:email") == 1 and _counter(result, "pii:phone") == 1


def test_assign_domain_and_mix_weights():
    docs = [
        Document(id="f", text="Revenue rose. " * 50, source="filings", domain="financial"),
        Document(id="w", text="The river flows. " * 50, source="wikipedia", domain="general"),
    ]
    settings = {
        "domain_targets": {"financial": 0.5, "general": 0.5},
        "source_targets": {"financial": "natural", "general": "natural"},
    }
    with TestPipeline() as p:
        weighted, mixture = (
            p
            | beam.Create(docs)
            | AssignDomainAndMix({"filings": "financial", "wikipedia": "general"}, settings)
        )
        assert_that(
            weighted | beam.Map(lambda d: (d.id, d.n_tokens > 0, d.mix_weight > 0)),
            equal_to([("f", True, True), ("w", True, True)]),
            label="Weighted",
        )
        assert_that(
            mixture | beam.Map(lambda m: round(m["domains"]["financial"]["achieved_share"], 3)),
            equal_to([0.5]),
            label="Mixture",
        )


def test_read_sources_routes_broken_records(tmp_path):
    path = tmp_path / "tweets.jsonl"
    good = '{"id": 1, "id_str": "1", "text": "Shares of $ACME rose after strong quarterly results today", "user": {"screen_name": "a"}, "created_at": "Wed Jan 03 14:30:00 +0000 2024", "entities": {"symbols": [{"text": "ACME"}]}}'
    path.write_text(good + "\n{not json\n", encoding="utf-8")
    files = [InputFile(input_name="t", kind="tweets", path=str(path), size=path.stat().st_size)]
    with TestPipeline() as p:
        records, errors = p | ReadSources(files)
        assert_that(
            records | beam.Map(lambda r: (r.id, r.input)), equal_to([("twitter:1", "t")]), label="Records"
        )
        assert_that(
            errors | beam.Map(lambda e: (e.stage, e.kind)),
            equal_to([("read", "invalid_json")]),
            label="Errors",
        )


def test_read_sources_unreadable_file_is_one_error(tmp_path):
    path = tmp_path / "broken.warc.gz"
    path.write_bytes(io.BytesIO(b"\x1f\x8b\x08\x00garbage").getvalue())
    files = [InputFile(input_name="w", kind="warc", path=str(path), size=path.stat().st_size)]
    with TestPipeline() as p:
        records, errors = p | ReadSources(files)
        assert_that(records, equal_to([]), label="NoRecords")
        assert_that(errors | beam.Map(lambda e: e.source), equal_to(["web"]), label="OneError")
