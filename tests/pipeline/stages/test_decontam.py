"""Decontaminate: drop or flag documents overlapping an evaluation set; counters per set; config errors."""

from __future__ import annotations

import json

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from core.errors import ConfigError
from core.schema import Document
from pipeline.stages.decontam import DecontamConfig, Decontaminate, decontam_decision

EXAMPLE = (
    "Operating profit totalled EUR 21.1 mn , up from EUR 18.6 mn in 2007 , representing 9.7 % of net sales ."
)


def counter_value(result, name: str) -> int:
    return sum(c.committed for c in result.metrics().query(MetricsFilter().with_name(name))["counters"])


@pytest.fixture
def eval_file(tmp_path) -> str:
    path = tmp_path / "fpb.jsonl"
    path.write_text(json.dumps({"sentence": EXAMPLE}) + "\n", encoding="utf-8")
    return str(path)


def docs() -> list[Document]:
    return [
        Document(id="copy", text=f"Results. {EXAMPLE} More text.", source="news"),
        Document(
            id="clean", text="Operating profit grew strongly last year, the company said.", source="news"
        ),
    ]


def test_decision_drop_and_flag():
    doc = Document(id="d", text="x", source="web")
    rejected = decontam_decision(doc, {"b": 2, "a": 2, "c": 1}, "drop")
    assert (rejected.stage, rejected.reason) == ("decontam", "decontam:a")  # most hits, ties by name
    assert rejected.document.metadata["contaminated"] == "a,b,c"
    kept = decontam_decision(Document(id="e", text="x", source="web"), {"a": 1}, "flag")
    assert kept.metadata["contaminated"] == "a"
    assert decontam_decision(doc, {}, "drop") is doc


def test_config_errors(eval_file):
    with pytest.raises(ConfigError, match="decontam.mode"):
        DecontamConfig.from_settings({"mode": "delete"})
    with pytest.raises(ConfigError, match="decontam.ngram"):
        DecontamConfig.from_settings({"ngram": 0})
    with pytest.raises(ConfigError, match=r"decontam.eval_sets\[0\].path: required key missing"):
        DecontamConfig.from_settings({"eval_sets": [{"name": "x"}]})
    with pytest.raises(ConfigError, match="file not found"):
        Decontaminate({"eval_sets": [{"name": "x", "path": eval_file + ".missing"}]})


def test_drop_mode(eval_file):
    settings = {"eval_sets": [{"name": "fpb", "path": eval_file, "field": "sentence"}], "mode": "drop"}
    p = TestPipeline()
    kept, rejected, errors = p | beam.Create(docs()) | Decontaminate(settings)
    assert_that(kept | "K" >> beam.Map(lambda d: d.id), equal_to(["clean"]), label="Kept")
    assert_that(
        rejected | "R" >> beam.Map(lambda r: (r.document.id, r.reason)),
        equal_to([("copy", "decontam:fpb")]),
        label="Rejected",
    )
    assert_that(errors, equal_to([]), label="Errors")
    result = p.run()
    result.wait_until_finish()
    assert counter_value(result, "decontam:hits:fpb") == 1
    assert counter_value(result, "decontam:dropped:decontam:fpb") == 1


def test_flag_mode_keeps_everything(eval_file):
    settings = {"eval_sets": [{"name": "fpb", "path": eval_file, "field": "sentence"}], "mode": "flag"}
    p = TestPipeline()
    kept, rejected, _ = p | beam.Create(docs()) | Decontaminate(settings)
    assert_that(
        kept | "K" >> beam.Map(lambda d: (d.id, d.metadata.get("contaminated", ""))),
        equal_to([("copy", "fpb"), ("clean", "")]),
        label="Kept",
    )
    assert_that(rejected, equal_to([]), label="Rejected")
    p.run().wait_until_finish()


def test_no_eval_sets_is_a_pass_through():
    p = TestPipeline()
    kept, rejected, _ = p | beam.Create(docs()) | Decontaminate({})
    assert_that(kept | "K" >> beam.Map(lambda d: d.id), equal_to(["copy", "clean"]), label="Kept")
    assert_that(rejected, equal_to([]), label="Rejected")
    p.run().wait_until_finish()


# ---------------------------------------------------------------------------------------------------------
# A whole run with the real labelled files of ../shared/data configured as evaluation sets


CLEAN = [
    "Quarterly revenue at the regional lender climbed on stronger mortgage origination, while deposit costs "
    "kept pressure on the net interest margin. Management reiterated full-year guidance and announced a new "
    "buyback programme worth two hundred million dollars.",
    "The central bank left its policy rate unchanged for a third consecutive meeting, citing sticky services "
    "inflation and a labour market that continues to cool only gradually. Bond yields slipped after the statement.",
    "Shipping rates on the main Asia to Europe routes doubled within a month as carriers rerouted vessels "
    "around the Cape of Good Hope, adding roughly ten days to each voyage and tightening available capacity.",
]


def _pick(texts: list[str], lo: int, hi: int, skip: int = 0) -> str:
    from filters.decontam import words

    return [t for t in texts if lo <= len(words(t)) <= hi][skip]


def test_run_drops_exactly_the_documents_with_eval_items_and_reports_counts(shared_data, tmp_path, caplog):
    from filters.decontam import EvalSet, words
    from pipeline.run import run

    pb_path = shared_data / "labeled" / "financial_phrasebank_50agree_subset.csv"
    tw_path = shared_data / "social" / "tweets" / "twitter_financial_news_sentiment_valid_subset.csv"
    if not pb_path.is_file() or not tw_path.is_file():
        pytest.skip("labelled files not found")
    pb = EvalSet.load("pb", str(pb_path), "news").texts
    tw = EvalSet.load("tw", str(tw_path), "text").texts
    long1, long2, long3, long4 = (_pick(pb, 20, 40, k) for k in range(4))
    short_pb = _pick(pb, 9, 12)  # a short sentence: matched as a whole item
    headline = _pick(tw, 9, 12)  # a 9-12 word headline tweet inside a longer page
    tiny = _pick(tw, 3, 6)  # under min_words: caught only as a whole document
    near_miss = " ".join(words(short_pb)[:-1]) + " notwithstanding"
    docs = {
        "verbatim": long1,
        "recased": long2.upper().replace(" ,", ",").replace(" .", "."),
        "in_page": f"{CLEAN[0]}\n\nIn other news, {long3.lower()}\n\n{CLEAN[1]}",
        "short_in_page": f"{CLEAN[2]}\n\nAnalysts noted: {short_pb}",
        "headline_in_page": f"Market wrap.\n\n{headline}\n\n{CLEAN[1]} Traders were cautious.",
        "tiny_alone": tiny.upper(),
        "both": f"{long4}\n\n{headline}",
        "clean0": CLEAN[0],
        "clean1": CLEAN[1] + " Equity markets were little changed.",
        "clean2": CLEAN[2],
        "near_miss": f"{CLEAN[0]} {near_miss}",
        "tiny_in_page": f"{CLEAN[2]} {tiny}",  # a tiny item inside a longer text is not enough
    }
    (tmp_path / "mix.jsonl").write_text(
        "".join(
            json.dumps({"id": k, "url": f"https://example.com/{k}", "text": v}) + "\n"
            for k, v in docs.items()
        ),
        encoding="utf-8",
    )
    (tmp_path / "run.yaml").write_text(
        f"""
run_name: decontam
output_root: {tmp_path / "out"}
inputs:
  - {{name: mix, kind: jsonl, paths: [mix.jsonl], options: {{source: news}}}}
quality: {{label_only: true}}
decontam:
  sets: [finqa]
  eval_sets:
    - {{name: phrasebank, path: {pb_path}, field: news, like: phrasebank}}
    - {{name: tfns, path: {tw_path}, field: text, like: twitter_financial_news_sentiment}}
""",
        encoding="utf-8",
    )
    with caplog.at_level("WARNING"):
        manifest = run(
            ["--config", str(tmp_path / "run.yaml"), "--runner=DirectRunner", "--progress_interval=0"]
        )
    warnings = [r.getMessage() for r in caplog.records if r.name == "pipeline.stages.decontam"]
    assert len(warnings) == 1 and "finqa" in warnings[0] and "fetch evalsets finqa" in warnings[0]

    run_dir = tmp_path / "out" / "decontam"
    rejected = [
        json.loads(line)
        for path in (run_dir / "rejected").glob("*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    dropped = {r["url"].rsplit("/", 1)[1]: r["reason"] for r in rejected if r["stage"] == "decontam"}
    assert dropped == {
        "verbatim": "decontam:phrasebank",
        "recased": "decontam:phrasebank",
        "in_page": "decontam:phrasebank",
        "short_in_page": "decontam:phrasebank",
        "both": "decontam:phrasebank",  # more phrasebank n-grams than the one whole-headline hit
        "headline_in_page": "decontam:tfns",
        "tiny_alone": "decontam:tfns",
    }
    assert manifest["funnel"]["totals"]["balanced"]
    section = manifest["decontam"]
    per_set = {s["name"]: s for s in section["sets"]}
    assert (per_set["phrasebank"]["dropped"], per_set["phrasebank"]["flagged"]) == (5, 0)
    assert (per_set["tfns"]["dropped"], per_set["tfns"]["flagged"]) == (2, 1)  # "both" also matched tfns
    assert per_set["finqa"]["status"] == "missing" and section["missing"] == ["finqa"]
    assert "Financial PhraseBank (sentences_50agree): 5 documents dropped, 0 flagged" in section["lines"]
    assert section["index"]["n_grams"] > 3000 and per_set["tfns"]["whole_doc_only"] > 0
    stats = json.loads((run_dir / "stats" / "stats.json").read_text())
    assert stats["decontam"]["totals"] == {"dropped": 7, "flagged": 1}
    report = (run_dir / "stats" / "report.md").read_text()
    assert "- Twitter financial news sentiment (zeroshot): 2 documents dropped, 1 flagged" in report


def test_cached_standard_set_is_used_and_missing_ones_are_listed(tmp_path, isolated_fetch_cache):
    from sources.evalsets import REGISTRY, fetch_set, write_manifest
    from tests.sources.test_evalsets import FIXTURES

    class Replay:
        def get(self, url):
            class R:
                content = FIXTURES["headlines"]

            return R()

    manifest: dict = {}
    assert fetch_set(REGISTRY["headlines"], str(isolated_fetch_cache), Replay(), manifest).status == "fetched"
    write_manifest(str(isolated_fetch_cache), manifest)
    stage = Decontaminate({"sets": ["headlines", "tatqa"]})  # cache_dir: $FINPILE_CACHE_DIR (the fixture)
    assert [s["status"] for s in stage.report["sets"]] == ["used", "missing"]
    assert stage.report["fetch_command"] == "python -m pipeline fetch evalsets tatqa"
    headline = "Gold futures edge up after two-session slide as dollar weakens"
    p = TestPipeline()
    kept, rejected, _ = (
        p
        | beam.Create(
            [
                Document(id="h", text=f"MARKETS: {headline.upper()}; more at 11.", source="news"),
                Document(
                    id="c", text="Gold futures edge up as the dollar weakens after a slide.", source="news"
                ),
            ]
        )
        | stage
    )
    assert_that(kept | "K" >> beam.Map(lambda d: d.id), equal_to(["c"]), label="Kept")
    assert_that(rejected | "R" >> beam.Map(lambda r: r.reason), equal_to(["decontam:headlines"]), label="Rej")
    p.run().wait_until_finish()


def test_config_rejects_unknown_standard_set():
    with pytest.raises(ConfigError, match="unknown evaluation set"):
        DecontamConfig.from_settings({"sets": ["mmlu"]})
    with pytest.raises(ConfigError, match="unique"):
        DecontamConfig.from_settings({"sets": ["finqa"], "eval_sets": [{"name": "finqa", "path": "x"}]})


def test_per_set_counts_dropped_and_flagged():
    from core.schema import Rejected
    from pipeline.stages.decontam import count_keys, finish_section, per_set_counts

    a = decontam_decision(Document(id="a", text="x", source="web"), {"pb": 5, "tw": 1}, "drop")
    b = decontam_decision(Document(id="b", text="x", source="web"), {"tw": 2}, "drop")
    c = decontam_decision(Document(id="c", text="x", source="web"), {"pb": 1}, "flag")
    clean = Document(id="d", text="x", source="web")
    other = Rejected(
        stage="quality", reason="quality:short", document=Document(id="e", text="x", source="web")
    )
    keys = [k for item in (a, b, c, clean, other) for k in count_keys(item)]
    assert sorted(keys) == [
        ("decontam", "pb", "dropped"),
        ("decontam", "pb", "flagged"),
        ("decontam", "tw", "dropped"),
        ("decontam", "tw", "flagged"),
    ]
    counts = per_set_counts([(k, 1) for k in keys] + [(("read", "web"), 9)])
    section = finish_section(
        {
            "sets": [
                {"name": "pb", "title": "PhraseBank", "status": "used"},
                {"name": "tw", "title": "Tweets", "status": "used"},
                {"name": "fq", "title": "FinQA", "status": "missing"},
            ],
            "missing": ["fq"],
            "fetch_command": "python -m pipeline fetch evalsets fq",
        },
        counts,
    )
    assert section["lines"] == [
        "PhraseBank: 1 documents dropped, 1 flagged",
        "Tweets: 1 documents dropped, 1 flagged",
        "not checked (not in the cache): fq; fetch: python -m pipeline fetch evalsets fq",
    ]
    assert section["totals"] == {"dropped": 2, "flagged": 2}
