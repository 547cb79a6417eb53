"""RemoveBoilerplate: per-source paragraph counts, removal, empty documents rejected, counters."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from core.schema import Document
from pipeline.stages.boilerplate import RemoveBoilerplate

FOOTER = "Sign up for our newsletter to get the latest market news delivered to your inbox every morning."
DISCLAIMER = (
    "This press release contains forward-looking statements within the meaning of the Private Securities "
    "Litigation Reform Act of 1995."
)


def counter_value(result, name: str) -> int:
    return sum(c.committed for c in result.metrics().query(MetricsFilter().with_name(name))["counters"])


def body(i: int) -> str:
    return f"Story number {i} reports that company {i} changed its outlook for fiscal year {2000 + i}."


def test_remove_boilerplate():
    docs = [Document(id=f"n{i}", text=f"{body(i)}\n\n{FOOTER}", source="news") for i in range(3)]
    docs += [Document(id="n-empty", text=FOOTER, source="news")]
    # The footer appears in 3 press docs too, but counts are per source: 3 < min_docs there.
    docs += [
        Document(id=f"p{i}", text=f"{body(i)}\n{FOOTER}\n{DISCLAIMER}", source="press") for i in range(3)
    ]
    # Wikipedia is out of scope by default even with 4 copies.
    docs += [Document(id=f"w{i}", text=f"{body(i)}\n{FOOTER}", source="wikipedia") for i in range(4)]
    p = TestPipeline()
    kept, rejected = p | beam.Create(docs) | RemoveBoilerplate({"min_docs": 4})
    expected = [(f"n{i}", body(i)) for i in range(3)]
    expected += [(f"p{i}", f"{body(i)}\n{FOOTER}\n{DISCLAIMER}") for i in range(3)]
    expected += [(f"w{i}", f"{body(i)}\n{FOOTER}") for i in range(4)]
    assert_that(kept | "K" >> beam.Map(lambda d: (d.id, d.text)), equal_to(expected), label="Kept")
    assert_that(
        rejected | "R" >> beam.Map(lambda r: (r.document.id, r.stage, r.reason)),
        equal_to([("n-empty", "boilerplate", "boilerplate:empty")]),
        label="Rejected",
    )
    result = p.run()
    result.wait_until_finish()
    assert counter_value(result, "boilerplate:paragraphs_removed") == 4
    assert counter_value(result, "boilerplate:docs_changed") == 4
    assert counter_value(result, "boilerplate:keys") == 1


def test_nothing_repeated_enough_changes_nothing():
    docs = [Document(id=f"n{i}", text=f"{body(i)}\n{FOOTER}", source="news") for i in range(9)]
    p = TestPipeline()
    kept, rejected = p | beam.Create(docs) | RemoveBoilerplate()  # default min_docs = 10
    assert_that(kept | "K" >> beam.Map(lambda d: d.text), equal_to([d.text for d in docs]), label="Kept")
    assert_that(rejected, equal_to([]), label="Rejected")
    result = p.run()
    result.wait_until_finish()
    assert counter_value(result, "boilerplate:paragraphs_removed") == 0
