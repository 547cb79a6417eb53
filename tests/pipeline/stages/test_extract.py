"""The Extract stage: per-input options reach the extractor, items can become documents, drops are counted."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from hypothesis import given, settings
from hypothesis import strategies as st

from core.schema import RawRecord, Rejected
from pipeline.config import DEFAULT_SOURCE_DOMAINS
from pipeline.stages.extract import Extract, extract

TENK = """<html><body>
<p>ACME CORP ANNUAL REPORT ON FORM 10-K</p>
<p>Item 1. Business</p>
<p>{business}</p>
<p>Item 1A. Risk Factors</p>
<p>{risks}</p>
<p>Item 7. Management's Discussion and Analysis of Financial Condition and Results of Operations</p>
<p>{mdna}</p>
</body></html>"""


def _tenk() -> RawRecord:
    business = "Acme designs and sells industrial sensors to manufacturers in North America. " * 30
    risks = "Our results depend on the capital spending of a small number of large customers. " * 30
    mdna = "Revenue increased because shipments of our pressure sensors grew in every region. " * 30
    return RawRecord(
        source="filings",
        id="0000000001-24-000001:1",
        url="",
        content=TENK.format(business=business, risks=risks, mdna=mdna),
        content_type="sgml",
        metadata={"form_type": "10-K", "company": "ACME CORP", "doc_type": "10-K", "cik": "1"},
        input="edgar-test",
    )


def test_plain_text_and_drop_reasons():
    raw = RawRecord(source="social", id="t1", url="u", content="  hello markets  ", content_type="text")
    doc = extract(raw, DEFAULT_SOURCE_DOMAINS)
    assert doc.text == "hello markets" and doc.domain == "financial" and doc.n_chars == 13
    raw.metadata["drop_reason"] = "social:retweet"
    rejected = extract(raw, DEFAULT_SOURCE_DOMAINS)
    assert isinstance(rejected, Rejected) and rejected.reason == "social:retweet"
    empty = RawRecord(source="news", id="n1", url="u", content="   ", content_type="text")
    assert extract(empty, DEFAULT_SOURCE_DOMAINS).reason == "extract:empty_text"


def test_items_as_documents_and_derived_count():
    options = {"edgar-test": {"split_items_as_documents": True}}
    with TestPipeline() as p:
        docs, rejected, errors, derived = (
            p | beam.Create([_tenk()]) | Extract(DEFAULT_SOURCE_DOMAINS, options)
        )
        assert_that(
            docs | "Items" >> beam.Map(lambda d: d.metadata.get("item")),
            equal_to(["cover", "1", "1A", "7"]),
            label="ItemDocs",
        )
        assert_that(derived, equal_to([("filings", 3)]), label="Derived")
        assert_that(rejected, equal_to([]), label="NoRejected")
        assert_that(errors, equal_to([]), label="NoErrors")


def test_whole_filing_without_the_option_and_counters():
    p = TestPipeline()
    docs, _, _, derived = p | beam.Create([_tenk()]) | Extract(DEFAULT_SOURCE_DOMAINS, {})
    assert_that(docs | beam.Map(lambda d: ":" in d.id), equal_to([False]), label="OneDoc")
    assert_that(derived, equal_to([]), label="NoDerived")
    result = p.run()
    result.wait_until_finish()
    kept = result.metrics().query(MetricsFilter().with_name("extract:kept"))["counters"]
    assert sum(c.committed for c in kept) == 1


def test_control_characters_are_stripped_and_counted():
    """Issue 16 item 9: NUL and C0 control characters reached the stored text."""
    from pipeline.stages.extract import strip_control_chars

    assert strip_control_chars("a\x00b\x07c\tok\r\nnext\x0cpage\x1b[0m\x7f\x9d") == (
        "abc\tok\nnext\npage[0m",
        5,
    )
    raw = RawRecord(source="social", id="t1", url="", content="Bought\x00 more\x01 index funds today.\r\n",
                    content_type="text")  # fmt: skip
    doc = extract(raw, DEFAULT_SOURCE_DOMAINS)
    assert doc.text == "Bought more index funds today." and doc.metadata["control_chars_removed"] == "2"


@settings(max_examples=500, deadline=None, derandomize=True)
@given(
    st.text(alphabet=st.sampled_from(list("ab \t\n\r\x0b\x0c\x85\u2028\u2029\x00\x1b\x7f\x9d\u00e9\u4e2d")))
)
def test_strip_control_chars_equals_its_two_substitutions(text):
    """The fast path (the line-break pass only on a text holding a line break other than \\n) gives what the two
    substitutions give on every text."""
    from pipeline.stages.extract import _CONTROL_RE, _LINE_BREAKS_RE, strip_control_chars

    assert strip_control_chars(text) == _CONTROL_RE.subn("", _LINE_BREAKS_RE.sub("\n", text))


def test_text_file_with_latin_1_lines_is_read_line_by_line(shared_data, tmp_path):
    """Issue 16 item 9: a text file with a few Latin-1 lines (here: the real lee_background.cor with two such
    lines added) failed whole as a charset error."""
    from sources.files import read_text_file

    real = (shared_data / "general" / "lee_background.cor").read_bytes()
    path = tmp_path / "lee.cor"
    path.write_bytes(
        real + "Zürich's café owners welcome the €5 rebate.\n".encode("cp1252") + "Ünïcödé ok.\n".encode()
    )
    with path.open("rb") as stream:
        (record,) = list(read_text_file(str(path), stream, {}))
    assert isinstance(record, RawRecord) and record.content.startswith(real.decode()[:1000])
    assert record.content.endswith("Zürich's café owners welcome the €5 rebate.\nÜnïcödé ok.\n")
    assert record.metadata["charset_fallback_lines"] == "1"
