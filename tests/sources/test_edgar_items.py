"""Tests of 10-K/10-Q items emitted as separate documents (sources/edgar_items.py)."""

from __future__ import annotations

import json

from core.schema import Document, RawRecord
from sources.edgar import extract_filing, read_records, split_items
from sources.edgar_items import SPLIT_OPTION, item_label, split_if_requested, split_item_documents

TEXT = (
    "ACME CORP FORM 10-K\n\n"
    "Item 1. Business\n\nAcme makes anvils for customers worldwide.\n\n"
    "Item 1A. Risk Factors\n\nDemand for anvils may fall.\n\n"
    "Item 7. Management's Discussion and Analysis of Financial Condition and Results of Operations\n\n"
    "Revenue rose 5 percent on higher anvil volumes.\n"
)


def make_doc(text: str = TEXT, form: str = "10-K", **metadata: str) -> Document:
    items = split_items(text, form)
    meta = {"form_type": form, "company": "ACME CORP", "items": json.dumps(items)} | metadata
    return Document(
        id="abc123", text=text, source="filings", domain="financial", title="ACME CORP 10-K", metadata=meta
    )


def test_one_document_per_item_plus_cover():
    parts = split_item_documents(make_doc())
    assert [p.metadata["item"] for p in parts] == ["cover", "1", "1A", "7"]
    assert [p.id for p in parts] == ["abc123:cover", "abc123:1", "abc123:1A", "abc123:7"]
    risk = parts[2]
    assert risk.text == "Item 1A. Risk Factors\n\nDemand for anvils may fall."
    assert risk.metadata["item_title"] == "Risk Factors"
    assert risk.metadata["parent_id"] == "abc123"
    assert risk.title == "ACME CORP 10-K Item 1A Risk Factors"
    assert risk.n_chars == len(risk.text)
    assert "items" not in risk.metadata and risk.metadata["company"] == "ACME CORP"
    assert TEXT[int(risk.metadata["item_start"]) : int(risk.metadata["item_end"])].strip() == risk.text
    assert parts[0].text == "ACME CORP FORM 10-K"
    assert (risk.source, risk.domain) == ("filings", "financial")


def test_no_items_means_the_document_unchanged():
    doc = Document(id="x", text="An 8-K about a merger.", source="filings", metadata={"form_type": "8-K"})
    assert split_item_documents(doc) == [doc]
    doc.metadata["items"] = "not json"
    assert split_item_documents(doc) == [doc]


def test_split_only_when_the_option_flag_is_set():
    assert len(split_if_requested(make_doc())) == 1
    parts = split_if_requested(make_doc(**{SPLIT_OPTION: "true"}))
    assert len(parts) == 4 and all(SPLIT_OPTION not in p.metadata for p in parts)


def test_item_labels():
    assert item_label("1A") == "Item 1A"
    assert item_label("part1_item2") == "Part I Item 2"
    assert item_label("part2_item1a") == "Part II Item 1A"
    assert item_label("cover") == "Cover page"


def test_real_10k_items_become_documents(shared_data):
    path = shared_data / "edgar/10-K/aapl-10-k-2024-11-01.html"
    with open(path, "rb") as stream:
        raw = next(r for r in read_records(str(path), stream, {}) if isinstance(r, RawRecord))
    doc = extract_filing(raw)
    parts = split_item_documents(doc)
    by_item = {p.metadata["item"]: p for p in parts}
    assert {"1", "1A", "7", "8"} <= by_item.keys()
    assert by_item["1A"].text.lower().startswith("item 1a")
    assert "risk" in by_item["1A"].text[:200].lower()
    assert by_item["7"].text.lower().startswith("item 7")
    assert len({p.id for p in parts}) == len(parts)
    # the parts partition the filing text: only the blank lines between sections are lost
    assert sum(p.n_chars for p in parts) >= len(doc.text) - 4 * len(parts)


def test_labelled_sections_after_the_items_become_documents():
    text = (
        TEXT
        + "\nSIGNATURES\n\nPursuant to the requirements of the Securities Exchange Act, the registrant has duly "
        "caused this report to be signed.\n\n/s/ Wile E. Coyote\n\n"
        "REPORT OF INDEPENDENT REGISTERED PUBLIC ACCOUNTING FIRM\n\nWe have audited the balance sheets of Acme.\n"
    )
    parts = split_item_documents(make_doc(text))
    assert [p.metadata["item"] for p in parts] == ["cover", "1", "1A", "7", "signatures", "auditor_report"]
    seven, signatures, report = parts[3:]
    assert seven.text.endswith("higher anvil volumes.")  # Item 7 stops before SIGNATURES
    assert signatures.text.startswith("SIGNATURES\n\nPursuant") and signatures.text.endswith("Coyote")
    assert signatures.title == "ACME CORP 10-K Signatures"
    assert report.title == "ACME CORP 10-K Report of Independent Registered Public Accounting Firm"
    assert item_label("signatures_2") == "Signatures 2"


def test_real_10k_last_item_stops_before_signatures(shared_data):
    path = shared_data / "edgar/10-K/aapl-10-k-2024-11-01.html"
    with open(path, "rb") as stream:
        raw = next(r for r in read_records(str(path), stream, {}) if isinstance(r, RawRecord))
    parts = {p.metadata["item"]: p for p in split_item_documents(extract_filing(raw))}
    assert "SIGNATURES" not in parts["16"].text and "SIGNATURES" not in parts["15"].text
    assert parts["signatures"].text.startswith("SIGNATURES\n\nPursuant to the requirements of Section 13")
    assert "/s/ Timothy D. Cook" in parts["signatures"].text
