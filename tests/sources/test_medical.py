"""PubMed/MEDLINE and PMC JATS readers: every real file in ../shared/data/medical, plus fixtures of our own."""

from __future__ import annotations

import gzip
import html
import io
import re
from pathlib import Path

from core.schema import RawRecord, RecordError
from sources.files import detect_kind
from sources.medical import license_allowed, read_pmc, read_pubmed, table_to_markdown

# A tag (not "III <I and II", real text of a MEDLINE abstract) or an undecoded entity.
MARKUP = re.compile(r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>|&#x?[0-9a-f]+;|&(?:amp|lt|gt|quot|apos|nbsp);")


def _records(reader, path: Path, options: dict | None = None) -> list:
    with open(path, "rb") as stream:
        return list(reader(str(path), stream, options or {}))


# ---------------------------------------------------------------------------------------------- MEDLINE


def test_medline_file_every_citation_with_an_abstract_is_a_document(shared_data):
    path = shared_data / "medical/medline/medline16n0902.xml.gz"
    raw = gzip.decompress(path.read_bytes()).decode("utf-8")
    citations = raw.split("<MedlineCitation ")[1:]
    with_abstract = [c for c in citations if "<AbstractText" in c.split("</MedlineCitation>")[0]]
    records = _records(read_pubmed, path)
    assert all(isinstance(r, RawRecord) for r in records)
    assert len(records) == len(with_abstract) == 526  # 604 citations, 78 without an abstract
    assert len({r.id for r in records}) == len(records)
    first = records[0]
    assert first.id == "17942999" and first.source == "pubmed"
    assert first.url == "https://pubmed.ncbi.nlm.nih.gov/17942999/"
    # structured abstract: its labels are headings on their own lines, paragraphs separated by blank lines
    blocks = first.content.split("\n\n")
    assert blocks[0].startswith("Neuroplasticity in the processing of pitch dimensions")
    assert blocks[1:3] == [
        "PURPOSE",
        "An auditory electrophysiological study was conducted to explore the influence of language "
        "experience on the saliency of dimensions underlying cortical pitch processing.",
    ]
    assert "CONCLUSIONS" in blocks
    meta = first.metadata
    assert meta["journal"] == "Restorative neurology and neuroscience" and meta["year"] == "2007"
    assert "Pitch Perception" in meta["mesh"].split("; ")
    assert meta["publication_types"].startswith("Journal Article")
    assert meta["declared_lang"] == "en"
    for record in records:
        assert not MARKUP.search(record.content), record.id
        assert "\n\n\n" not in record.content
    # the erratum in the file is read and marked for rejection by its publication type
    errata = [r for r in records if r.metadata.get("drop_reason") == "pubmed:erratum"]
    assert len(errata) == raw.count(">Published Erratum<")


PUBMED_ARTICLE_SET = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2024//EN" "pubmed_240101.dtd">
<PubmedArticleSet>
<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">111</PMID>
<Article PubModel="Print"><Journal><Title>Journal of Tests</Title><JournalIssue><PubDate><MedlineDate>1998 Dec-1999 Jan</MedlineDate></PubDate></JournalIssue></Journal>
<ArticleTitle>Aspirin and <i>stroke</i> risk.</ArticleTitle>
<Abstract><AbstractText>Aspirin lowered the risk of stroke in <sup>2</sup> trials.</AbstractText></Abstract>
<Language>eng</Language><PublicationTypeList><PublicationType UI="D016428">Journal Article</PublicationType></PublicationTypeList>
</Article></MedlineCitation>
<PubmedData><ArticleIdList><ArticleId IdType="pubmed">111</ArticleId><ArticleId IdType="doi">10.1/x</ArticleId><ArticleId IdType="pmc">PMC42</ArticleId></ArticleIdList></PubmedData>
</PubmedArticle>
<PubmedArticle><MedlineCitation><PMID Version="1">222</PMID><Article><Journal><Title>J</Title></Journal>
<ArticleTitle>No abstract here.</ArticleTitle></Article></MedlineCitation></PubmedArticle>
<PubmedArticle><MedlineCitation><PMID Version="1">333</PMID><Article><Journal><Title>J</Title></Journal>
<ArticleTitle>Retracted: a study.</ArticleTitle><Abstract><AbstractText>This article has been retracted.</AbstractText></Abstract>
<PublicationTypeList><PublicationType>Retracted Publication</PublicationType></PublicationTypeList></Article></MedlineCitation></PubmedArticle>
<DeleteCitation><PMID Version="1">444</PMID><PMID Version="1">555</PMID></DeleteCitation>
</PubmedArticleSet>
"""


def test_pubmed_article_set_layout_ids_skips_and_retractions(tmp_path):
    path = tmp_path / "pubmed24n0001.xml"
    path.write_bytes(PUBMED_ARTICLE_SET)
    assert detect_kind(str(path), PUBMED_ARTICLE_SET) == "pubmed"
    records = _records(read_pubmed, path)
    assert [r.id for r in records] == ["111", "333"]  # 222 has no abstract: skipped, not a document
    first = records[0]
    assert first.content == "Aspirin and stroke risk.\n\nAspirin lowered the risk of stroke in 2 trials."
    assert first.metadata["doi"] == "10.1/x" and first.metadata["pmcid"] == "PMC42"
    assert first.metadata["year"] == "1998" and first.metadata["journal"] == "Journal of Tests"
    assert records[1].metadata["drop_reason"] == "pubmed:retracted"


def test_skipped_citations_are_counted(tmp_path):
    from collections import Counter

    import sources as skip_api

    path = tmp_path / "pubmed24n0001.xml"
    path.write_bytes(PUBMED_ARTICLE_SET)
    sink: Counter = Counter()
    previous = skip_api.swap_skip_sink(sink)
    try:
        _records(read_pubmed, path)
    finally:
        skip_api.swap_skip_sink(previous)
    assert sink == Counter({("pubmed", "pubmed:no_abstract"): 1, ("pubmed", "pubmed:deleted"): 2})


def test_cut_gzip_keeps_the_complete_citations(shared_data, tmp_path):
    data = (shared_data / "medical/medline/medline16n0902.xml.gz").read_bytes()
    cut = tmp_path / "cut.xml.gz"
    cut.write_bytes(data[: len(data) // 2])
    records = _records(read_pubmed, cut)
    docs = [r for r in records if isinstance(r, RawRecord)]
    errors = [r for r in records if isinstance(r, RecordError)]
    assert 100 < len(docs) < 526
    assert len(errors) == 1 and errors[0].kind in ("truncated", "corrupt")
    assert "the rest is lost" in errors[0].message or "the rest of the file is lost" in errors[0].message


# ---------------------------------------------------------------------------------------------- PMC


def test_every_pmc_article_is_one_clean_document(shared_data):
    files = sorted((shared_data / "medical/pmc").glob("*.nxml"))
    assert len(files) == 6
    for path in files:
        head = path.read_bytes()[:65536]
        assert detect_kind(str(path), head) == "pmc"
        records = _records(read_pmc, path)
        assert len(records) == 1 and isinstance(records[0], RawRecord), path.name
        record = records[0]
        raw = path.read_text(encoding="utf-8")
        text = record.content
        assert not MARKUP.search(text), (path.name, MARKUP.search(text))
        assert "\n\n\n" not in text
        title = re.search(r"<article-title>(.*?)</article-title>", raw, re.S).group(1)
        expected = html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"\s+", " ", title))).strip()
        assert text.split("\n\n")[0] == expected
        # section headings of the body are kept on their own lines
        body = raw.split("<body>", 1)[1] if "<body>" in raw else ""
        for heading in re.findall(r"<sec[^>]*>\s*<title>([^<]+)</title>", body)[:5]:
            assert f"\n\n{heading.strip()}\n\n" in text, (path.name, heading)
        # references and affiliations are dropped
        refs = re.findall(r"<ref-list.*?</ref-list>", raw, re.S)
        for ref_title in re.findall(r"<article-title>([^<]{40,})</article-title>", "".join(refs))[:5]:
            assert ref_title.strip() not in text, (path.name, ref_title)
        # one Markdown table per JATS table, with its caption right above
        n_tables = len(re.findall(r"<table[\s>]", raw))
        assert text.count("\n| ---") + text.startswith("| ---") == n_tables, path.name
        assert record.metadata["pmcid"] and record.metadata["license"]
        assert record.url == f"https://www.ncbi.nlm.nih.gov/pmc/articles/PMC{record.metadata['pmcid']}/"


def test_pmc_table_and_figure_caption(shared_data):
    record = _records(read_pmc, shared_data / "medical/pmc/1472-6831-8-11.nxml")[0]
    text = record.content
    caption = "Table 1. Mean total scores and mean item scores of the total OHIP-NL and of its seven domains"
    start = text.index(caption)
    block = text[start:].split("\n\n")
    assert block[1].startswith("| | Mean total score | SD | Mean item score | SD |\n| --- | ---: |")
    assert "| Total OHIP-NL (49) | 44.1 | 40.2 | 0.9 | 0.8 |" in block[1]
    fig = _records(read_pmc, shared_data / "medical/pmc/pone.0000217.nxml")[0].content
    assert re.search(r"\n\nFigure 1\. \S", fig)


def test_pmc_licence_policy(shared_data):
    open_access = shared_data / "medical/pmc/1471-2180-11-174.nxml"  # CC BY 2.0
    no_licence = shared_data / "medical/pmc/pone.0000217.nxml"  # states none
    allowed = {"allowed_licenses": ["cc-by", "cc0", "public-domain"]}
    assert "drop_reason" not in _records(read_pmc, open_access, allowed)[0].metadata
    assert _records(read_pmc, no_licence, allowed)[0].metadata["drop_reason"] == "pmc:license"
    assert "drop_reason" not in _records(read_pmc, no_licence)[0].metadata  # default: every licence
    assert license_allowed("http://creativecommons.org/licenses/by-nc-sa/3.0/", ["cc-by-nc"])
    assert not license_allowed("http://creativecommons.org/licenses/by-nc-sa/3.0/", ["cc-by-sa"])
    assert license_allowed("http://creativecommons.org/publicdomain/zero/1.0/", ["cc0"])


def test_pmc_bad_files_are_one_error_each(tmp_path):
    broken = tmp_path / "broken.nxml"
    broken.write_bytes(b"<article><front><article-meta><title-group><article-title>x")
    not_jats = tmp_path / "other.nxml"
    not_jats.write_bytes(b"<html><body>hello</body></html>")
    (error,) = _records(read_pmc, broken)
    assert isinstance(error, RecordError) and error.kind == "xml_syntax"
    (error,) = _records(read_pmc, not_jats)
    assert error.kind == "not_jats" and "JATS" in error.message


def test_table_to_markdown_spans_and_empty_columns():
    from lxml import etree

    table = etree.fromstring(
        b"<table><thead><tr><th>Group</th><th colspan='2'>Dose</th><th></th></tr></thead>"
        b"<tbody><tr><td>A|B</td><td>1</td><td>(2.5)</td><td></td></tr></tbody></table>"
    )
    # the text shape's renderer: numeric columns right-aligned, as in filings and pages
    assert table_to_markdown(table) == "| Group | Dose | |\n| --- | ---: | ---: |\n| A\\|B | 1 | (2.5) |"


def test_entities_are_never_expanded(tmp_path):
    bomb = tmp_path / "bomb.xml"
    bomb.write_bytes(
        b'<?xml version="1.0"?><!DOCTYPE PubmedArticleSet [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><PubmedArticleSet><PubmedArticle><MedlineCitation>'
        b"<PMID>1</PMID><Article><ArticleTitle>T &b;</ArticleTitle><Abstract><AbstractText>Some text.</AbstractText>"
        b"</Abstract></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>"
    )
    records = _records(read_pubmed, bomb)
    assert all("aaaaaaaaaa" not in getattr(r, "content", "") for r in records)


def test_stream_from_bytes_io():
    records = list(read_pubmed("mem.xml", io.BytesIO(PUBMED_ARTICLE_SET), {}))
    assert [r.id for r in records] == ["111", "333"]
