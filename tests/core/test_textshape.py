"""The one text shape (``core.textshape``): the helpers, and every real non-EDGAR file kind of
``../shared/data`` (plus the sample corpus) read and extracted by the pipeline's own code path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.schema import Document, RawRecord
from core.textshape import (
    has_layout_residue,
    linearize_table,
    markdown_table,
    normalize_text,
)
from pipeline.config import load_config
from pipeline.inspect import Inspector
from pipeline.stages.extract import extract
from pipeline.stages.read import InputFile, read_file

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "pipeline" / "sample"
MARKUP_RE = re.compile(
    r"</?(?:p|div|span|br|table|tr|td|th|li|ul|ol|a|b|i|h[1-6])\b[^>]*>|\{\{|\}\}|\[\[|'''"
)
WIKI_HEADING_RE = re.compile(r"^=+[^=]+=+$", re.MULTILINE)


def test_normalize_text() -> None:
    text = "  Title \r\n\r\n\r\n\tBody\x00 text\u00a0 here.  \n   \n\n\nNext\u2028line\x0b"
    assert normalize_text(text) == "Title\n\nBody text here.\n\nNext\nline"


def test_markdown_table_drops_empty_rows_and_columns_and_escapes_pipes() -> None:
    rows = [["", "2024", "", "2023"], ["", "", "", ""], ["Revenue", "1,234", "", "(56)"], ["A|B", "-1.5"]]
    assert markdown_table(rows) == (
        "| | 2024 | 2023 |\n| --- | ---: | ---: |\n| Revenue | 1,234 | (56) |\n| A\\|B | -1.5 | |"
    )
    assert markdown_table([["", ""], [" ", ""]]) == ""
    # a column is right-aligned when most of its body cells are numbers, whatever the header
    assert markdown_table([["Name", "Role"], ["Jane", "CEO"]]).split("\n")[1] == "| --- | --- |"
    assert (
        markdown_table([["a", "b"], ["x", "12%"], ["y", "n/a"], ["z", "text"]]).split("\n")[1]
        == "| --- | ---: |"
    )


def test_linearize_table() -> None:
    rows = [["", "2024", "2023"], ["Revenue", "1,234", "(56)"]]
    assert linearize_table(rows) == "Revenue: 2024: 1,234; 2023: (56)"
    assert linearize_table(rows, header=False) == "2024; 2023\nRevenue; 1,234; (56)"


def _inputs(shared: Path) -> list[tuple[str, Path, dict[str, str]]]:
    web = shared / "web"
    inputs = [("html", p, {}) for p in sorted((web / "html").glob("*.html"))]
    inputs += [("warc", p, {}) for p in sorted((web / "warc").glob("*.warc.gz"))]
    inputs += [
        ("wikipedia", next((shared / "general").glob("enwiki*.bz2")), {}),
        ("text", shared / "general" / "lee_background.cor", {}),
        ("tweets", shared / "labeled" / "financial_phrasebank_50agree_subset.csv", {"text_column": "news"}),
        ("tweets", shared / "social" / "tweets" / "twitter_financial_news_sentiment_valid_subset.csv", {}),
    ]
    inputs += [("tweets", p, {}) for p in sorted((shared / "social" / "tweets").glob("stocknet_raw_*.jsonl"))]
    inputs += [("reddit", p, {"subreddits": "*"}) for p in sorted((shared / "social" / "reddit").glob("*"))]
    inputs += [
        ("rss", SAMPLE / "feeds" / "press-releases.xml", {}),
        ("warc", SAMPLE / "web" / "news-2024.warc.gz", {}),
        ("wikipedia", SAMPLE / "general" / "enwiki-sample.xml.bz2", {}),
    ]
    return inputs


def _documents(kind: str, path: Path, options: dict[str, str], limit: int = 400) -> list[Document]:
    docs = []
    domains = load_config().source_domains
    item = InputFile(
        input_name="t",
        kind=kind,
        path=str(path),
        size=path.stat().st_size,
        options=tuple(sorted(options.items())),
    )
    for record in read_file(item):
        if isinstance(record, RawRecord):
            result = extract(record, domains, options)
            if isinstance(result, Document):
                docs.append(result)
        if len(docs) >= limit:
            break
    return docs


def test_every_real_file_kind_is_in_the_text_shape(shared_data: Path) -> None:
    """No runs of blank lines, no trailing spaces or control characters, no HTML/wiki markup; pages, feed
    entries and articles of several paragraphs have their paragraphs separated by blank lines."""
    kinds_seen: dict[str, int] = {}
    multi_paragraph = {"html": 0, "warc": 0, "rss": 0, "wikipedia": 0}
    for kind, path, options in _inputs(shared_data):
        docs = _documents(kind, path, options)
        assert docs, path
        for doc in docs:
            assert has_layout_residue(doc.text) == [], (path.name, doc.id, has_layout_residue(doc.text))
            if (
                kind in multi_paragraph
            ):  # extracted from markup (a plain text is the author's: lee_background.cor
                # really has "<i>Diplomacy</i>" in its text)
                assert not MARKUP_RE.search(doc.text), (path.name, doc.id, MARKUP_RE.search(doc.text))
                assert not WIKI_HEADING_RE.search(doc.text), (path.name, doc.id)
            if kind in multi_paragraph and "\n\n" in doc.text:
                multi_paragraph[kind] += 1
        kinds_seen[kind] = kinds_seen.get(kind, 0) + len(docs)
    assert set(kinds_seen) == {"html", "warc", "wikipedia", "text", "tweets", "reddit", "rss"}
    assert multi_paragraph["html"] == 36  # every evaluation page
    assert multi_paragraph["rss"] == 3 and multi_paragraph["warc"] > 20 and multi_paragraph["wikipedia"] > 50


@pytest.fixture(scope="module")
def inspector() -> Inspector:
    return Inspector(load_config())


def _kept(inspector: Inspector, path: Path, **options: str) -> list[dict]:
    return [r for r in inspector.inspect_file(str(path), options=options) if r.get("decision") == "kept"]


def test_short_headings_survive_the_whole_per_document_path(inspector: Inspector, shared_data: Path) -> None:
    """Extraction, language ID, quality rules (C4 used to delete every line under 3 words) and PII:
    the headings are still lines of their own, between blank lines."""
    press = _kept(inspector, SAMPLE / "feeds" / "press-releases.xml")
    assert len(press) == 3
    assert sum("\n\nForward-Looking Statements\n\n" in r["text"] for r in press) == 2
    assert all(r["text"].count("\n\n") >= 4 for r in press)  # paragraphs, not one line per paragraph

    warc = _kept(inspector, SAMPLE / "web" / "news-2024.warc.gz")
    assert any("\n\nForward-Looking Statements\n\n" in r["text"] for r in warc)

    wiki = next((shared_data / "general").glob("enwiki*.bz2"))
    angola = [r for r in _kept(inspector, wiki) if r["title"] == "Economy of Angola"]
    assert angola and "\n\nOverview\n\nDespite its abundant natural resources" in angola[0]["text"]


# ------------------------------------------------------------------ issue 21: faster normalisation, same output

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_SHAPE_TEXT = st.text(
    alphabet="ab Z.\t\n\r\x0b\x0c\x00\x1f\x7f\x85\u00a0\u2003\u202f\u3000\u1680\u200b\u2060\ufeff\u2028\u2029é",
    max_size=60,
)


def _reference_normalize_text(text: str, collapse_spaces: bool = True) -> str:
    """normalize_text as first written: every regex on every text, inline spaces line by line."""
    from core import textshape

    text = textshape._LINE_SEPARATORS_RE.sub("\n", text)
    text = textshape._ZERO_WIDTH_RE.sub("", text.replace("\t", " "))
    text = textshape._CONTROL_RE.sub("", text)
    if collapse_spaces:
        lines = [
            re.sub(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+", " ", line).strip()
            for line in text.split("\n")
        ]
    else:
        lines = [line.rstrip() for line in text.split("\n")]
        lines = [line if line.strip() else "" for line in lines]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


@settings(max_examples=500, deadline=None)
@given(_SHAPE_TEXT, st.booleans())
def test_normalize_text_equals_the_reference(text, collapse):
    assert normalize_text(text, collapse) == _reference_normalize_text(text, collapse)
