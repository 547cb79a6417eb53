"""Decontaminate: drop or flag documents overlapping an evaluation set; counters per set; config errors."""

from __future__ import annotations

import json

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipeline.decontam import DecontamConfig, Decontaminate, decontam_decision
from pipeline.errors import ConfigError
from pipeline.schema import Document

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
