"""The Document schema round-trips through Parquet unchanged."""

from __future__ import annotations

import dataclasses
import io

import pyarrow.parquet as pq

from core.schema import (
    DOCUMENT_SCHEMA,
    SCHEMA_VERSION,
    Document,
    Rejected,
    doc_id,
    documents_to_table,
    table_to_documents,
)


def test_doc_id_is_stable_and_source_scoped():
    assert doc_id("news", "a") == doc_id("news", "a")
    assert doc_id("news", "a") != doc_id("press", "a")
    assert len(doc_id("news", "a")) == 20


def test_documents_round_trip_through_parquet():
    docs = [
        Document(
            id="x1",
            text="Revenue rose 12% to $4.1 billion.",
            source="filings",
            domain="financial",
            lang="en",
            lang_score=0.98,
            quality_signals={"n_words": 6.0},
            metadata={"cik": "0000320193", "form_type": "10-K"},
            n_tokens=11,
        ),
        Document(id="x2", text="Zweiter Text", source="news"),
    ]
    buf = io.BytesIO()
    pq.write_table(documents_to_table(docs), buf, compression="zstd")
    table = pq.read_table(io.BytesIO(buf.getvalue()))
    assert table.schema.metadata[b"finpile.schema_version"] == SCHEMA_VERSION.encode()
    assert table.schema.equals(DOCUMENT_SCHEMA, check_metadata=False)
    back = table_to_documents(table)
    assert back[0].metadata == {"cik": "0000320193", "form_type": "10-K"}
    assert back[0].quality_signals == {"n_words": 6.0}
    assert back[0].lang_score == docs[0].lang_score or abs(back[0].lang_score - 0.98) < 1e-6
    assert [d.id for d in back] == ["x1", "x2"]


def test_fields_dict_and_to_row_equal_the_dataclasses_deep_copy():
    """``fields_dict``/``to_row`` build the row without ``dataclasses.asdict`` (CPU): same value, still a copy."""
    doc = Document(
        id="news/1",
        text="Revenue rose.",
        source="news",
        available_at="2024-12-27T21:29:40Z",
        quality_signals={"b": 0.5, "a": 1.0},
        metadata={"host": "example.com", "author": "A. Writer"},
        n_tokens=3,
    )
    assert doc.fields_dict() == dataclasses.asdict(doc)
    copy = doc.fields_dict()
    copy["metadata"]["host"] = "changed"
    copy["quality_signals"]["a"] = 0.0
    assert doc.metadata["host"] == "example.com" and doc.quality_signals["a"] == 1.0
    row = doc.to_row()
    expected = dataclasses.asdict(doc)
    expected.update(
        quality_signals=[{"key": "a", "value": 1.0}, {"key": "b", "value": 0.5}],
        metadata=[{"key": "author", "value": "A. Writer"}, {"key": "host", "value": "example.com"}],
        available_at=row["available_at"],
    )
    assert row == expected and row["available_at"] is not None
    assert Document.from_row(row) == doc
    rejected = Rejected(stage="quality", reason="quality:short", document=doc)
    assert rejected.to_json() == {
        "stage": "quality",
        "reason": "quality:short",
        "duplicate_of": "",
        **dataclasses.asdict(doc),
    }


def test_beam_infers_documents_as_documents():
    """Beam reads any object with an ``as_dict`` method as a schema Row: a Document must stay a Document."""
    from apache_beam.typehints import trivial_inference

    assert trivial_inference.instance_to_type(Document(id="x", text="t", source="news")) is Document
