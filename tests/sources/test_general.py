"""Tests for sources.general: the decompression helpers, Wikipedia dumps (inline, hostile, broken, the real
enwiki excerpt), wikitext to text, and the JSONL / Parquet reader."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from core.errors import RecordFailure
from core.schema import RawRecord, RecordError, doc_id
from sources.general import (
    extract_wikitext,
    iter_lines,
    read_jsonl,
    read_wikipedia,
    wiki_url,
    wikitext_to_text,
)

ENWIKI = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.xml.bz2"

# ------------------------------------------------------------------------------------------------
# decompression helpers
# ------------------------------------------------------------------------------------------------


def test_iter_lines_numbers_lines_and_skips_blank_ones() -> None:
    data = b"a\n\n  \nb\nc"
    assert list(iter_lines("x.txt", io.BytesIO(data), "c4")) == [(1, b"a\n"), (4, b"b\n"), (5, b"c")]


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".zst", ".xz"])
def test_iter_lines_decompresses_by_extension(suffix: str) -> None:
    import lzma

    data = b"".join(b"line %d\n" % i for i in range(1000))
    pack = {
        ".gz": gzip.compress,
        ".bz2": bz2.compress,
        ".xz": lzma.compress,
        ".zst": zstandard.ZstdCompressor().compress,
    }[suffix]
    lines = list(iter_lines(f"x.jsonl{suffix}", io.BytesIO(pack(data)), "c4"))
    assert lines == [(i + 1, b"line %d\n" % i) for i in range(1000)]


def test_iter_lines_reports_a_corrupt_stream() -> None:
    [error] = list(iter_lines("x.jsonl.gz", io.BytesIO(b"this is not gzip data"), "c4"))
    assert (error.kind, error.id, error.source) == ("corrupt", "line:1", "c4")


# ------------------------------------------------------------------------------------------------
# Wikipedia
# ------------------------------------------------------------------------------------------------


def page(
    page_id: int,
    title: str,
    text: str,
    ns: int = 0,
    redirect: str | None = None,
    timestamp: str = "2016-04-22T10:19:33Z",
    revisions: int = 1,
) -> str:
    redirect_el = f'<redirect title="{redirect}" />' if redirect else ""
    revision = "".join(
        f"<revision><id>{page_id * 10 + r}</id><timestamp>{timestamp}</timestamp>"
        f'<text xml:space="preserve">{text if r == revisions - 1 else "old text"}</text></revision>'
        for r in range(revisions)
    )
    return f"<page><title>{title}</title><ns>{ns}</ns><id>{page_id}</id>{redirect_el}{revision}</page>"


def dump(pages: list[str], base: str = "https://en.wikipedia.org/wiki/Main_Page", doctype: str = "") -> bytes:
    head = (
        f'{doctype}<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10">'
        f"<siteinfo><sitename>Wikipedia</sitename><base>{base}</base></siteinfo>"
    )
    return (head + "".join(pages) + "</mediawiki>").encode()


def read_w(data: bytes, path: str = "enwiki.xml", **options) -> list[RawRecord | RecordError]:
    return list(read_wikipedia(path, io.BytesIO(data), options))


def wiki_counters(path: str) -> dict[str, int]:
    def read_file(p: str):
        with open(p, "rb") as stream:
            yield from read_wikipedia(p, stream, {})

    pipeline = beam.Pipeline(runner=FnApiRunner())
    _ = pipeline | beam.Create([path]) | beam.FlatMap(read_file)
    result = pipeline.run()
    result.wait_until_finish()
    counters = result.metrics().query(MetricsFilter().with_namespace("wikipedia"))["counters"]
    return {c.key.metric.name: c.committed for c in counters}


WIKI_PAGES = [
    page(12, "Stock market", "A '''stock market''' is where [[share (finance)|shares]] are traded."),
    page(13, "StockMarket", "#REDIRECT [[Stock market]]", redirect="Stock market"),
    page(14, "Bourse", "#redirect [[Stock market]]"),
    page(15, "Wikipedia:About", "Project page text.", ns=4),
    page(16, "Mercury", "'''Mercury''' may refer to:\n* [[Mercury (planet)]]\n\n{{disambiguation|geo}}"),
    page(17, "Dab", "'''Dab''' may refer to:\n* x\n{{Dab}}"),
    page(
        18,
        "Börse Frankfurt",
        "{{dablink|Not to be confused with Xetra.}}\nThe '''Frankfurt Stock Exchange'''.",
        revisions=2,
    ),
]


def test_read_wikipedia_keeps_articles_only() -> None:
    records = read_w(dump(WIKI_PAGES))
    assert [r.id for r in records] == ["wiki:12", "wiki:18"]
    first, second = records
    assert first == RawRecord(
        source="wikipedia",
        id="wiki:12",
        url="https://en.wikipedia.org/wiki/Stock_market",
        content="A '''stock market''' is where [[share (finance)|shares]] are traded.",
        content_type="wikitext",
        fetched_at="2016-04-22T10:19:33Z",
        metadata={
            "title": "Stock market",
            "date": "2016-04-22",
            "timestamp": "2016-04-22T10:19:33Z",
            "namespace": "0",
            "revision_id": "120",
        },
    )
    assert second.url == "https://en.wikipedia.org/wiki/B%C3%B6rse_Frankfurt"
    assert second.content.endswith("The '''Frankfurt Stock Exchange'''.")  # last revision, not "old text"
    assert second.metadata["revision_id"] == "181"


def test_read_wikipedia_skip_counters(tmp_path: Path) -> None:
    path = tmp_path / "w.xml.bz2"
    path.write_bytes(bz2.compress(dump(WIKI_PAGES)))
    assert wiki_counters(str(path)) == {
        "skipped:redirect": 2,
        "skipped:namespace": 1,
        "skipped:disambiguation": 2,
    }


def test_read_wikipedia_base_url_from_siteinfo_or_option() -> None:
    data = dump([page(1, "Börse", "Text.")], base="https://de.wikipedia.org/wiki/Wikipedia:Hauptseite")
    assert read_w(data)[0].url == "https://de.wikipedia.org/wiki/B%C3%B6rse"
    assert read_w(data, wiki_base_url="https://x.org/w/")[0].url == "https://x.org/w/B%C3%B6rse"


def test_wiki_url_keeps_mediawiki_safe_characters() -> None:
    assert wiki_url("AT&T (company), Inc.") == "https://en.wikipedia.org/wiki/AT%26T_(company),_Inc."


def test_read_wikipedia_missing_page_id_is_an_error() -> None:
    data = dump(
        [
            "<page><title>No id</title><ns>0</ns><revision><text>x</text></revision></page>",
            page(2, "Fine", "Text."),
        ]
    )
    items = read_w(data)
    assert [(type(i).__name__, getattr(i, "kind", None)) for i in items] == [
        ("RecordError", "missing_field"),
        ("RawRecord", None),
    ]


def test_read_wikipedia_does_not_expand_entities_billion_laughs() -> None:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    doctype = f"<!DOCTYPE mediawiki [{entities}]>"
    data = dump(
        [page(1, "Before", "Fine."), page(2, "Bomb", "&lol9;"), page(3, "After", "Fine.")], doctype=doctype
    )
    started = time.monotonic()
    items = read_w(data)
    assert time.monotonic() - started < 5
    assert all(len(getattr(i, "content", "")) < 100 for i in items)  # nothing expanded to 3e9 characters
    # the bomb costs its own page only: the pages before and after it are kept (issue 16)
    assert [i.id if isinstance(i, RawRecord) else i.kind for i in items] == ["wiki:1", "xml_entity", "wiki:3"]


def test_read_wikipedia_bad_spots_cost_only_themselves() -> None:
    """Issue 16: one XML error lost the rest of the dump and complete pages before it (8 of 10 articles)."""
    good = [page(i, f"Article {i}", f"Article number {i} is a complete page. " * 30) for i in range(1, 11)]
    malformed = (
        "<page><title>Broken</title><ns>0</ns><id>99</id><revision><text>never closed</revision></page>"
    )
    unclosed = "<page><title>Cut</title><ns>0</ns><id>98</id><revision><text>no end tag"
    garbage = "\x01 stray bytes & <junk> between pages "
    pages = good[:3] + [malformed] + good[3:6] + [garbage] + good[6:8] + [unclosed] + good[8:]
    items = read_w(dump(pages))
    assert [i.id for i in items if isinstance(i, RawRecord)] == [f"wiki:{i}" for i in range(1, 11)]
    errors = [i for i in items if isinstance(i, RecordError)]
    assert [e.kind for e in errors] == ["xml_syntax", "xml_syntax", "xml_syntax"]
    assert [e.lost_bytes for e in errors] == [len(malformed), len(garbage.encode()), len(unclosed)]
    assert all(f"{e.lost_bytes} bytes" in e.message for e in errors[1:])


def test_read_wikipedia_not_a_dump_is_one_error() -> None:
    items = read_w(b"<html><body>no dump here</body></html>")
    assert [(type(i).__name__, i.kind) for i in items] == [("RecordError", "xml_syntax")]


def test_read_wikipedia_does_not_read_external_entities(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    doctype = f'<!DOCTYPE mediawiki [<!ENTITY xxe SYSTEM "file://{secret}"><!ENTITY hi "HELLO">]>'
    items = read_w(dump([page(1, "X", "before &xxe; &hi; after"), page(2, "Y", "Fine.")], doctype=doctype))
    assert [(type(i).__name__, getattr(i, "kind", "")) for i in items] == [
        ("RecordError", "xml_entity"),
        ("RawRecord", ""),
    ]
    assert not any(
        "TOPSECRET" in str(getattr(i, "content", "")) or "HELLO" in str(getattr(i, "content", ""))
        for i in items
    )


def test_read_wikipedia_truncated_bz2() -> None:
    pages = [
        page(i, f"Page {i}", f"Article number {i}. " + "Lorem ipsum dolor sit amet. " * 40)
        for i in range(1, 400)
    ]
    packed = bz2.compress(
        dump(pages), compresslevel=1
    )  # 100 kB blocks: several, so some decode before the cut
    items = read_w(packed[: len(packed) * 3 // 4], path="w.xml.bz2")
    *records, last = items
    assert (last.kind, last.id) == ("truncated", f"page:{len(records) + 1}")
    assert len(records) > 100
    assert [r.id for r in records] == [f"wiki:{i}" for i in range(1, len(records) + 1)]


def test_read_wikipedia_truncated_plain_xml() -> None:
    data = dump([page(i, f"P{i}", "Text. " * 200) for i in range(1, 50)])
    *records, last = read_w(data[: len(data) // 2])
    assert last.kind == "truncated"
    assert len(records) > 10 and all(isinstance(r, RawRecord) for r in records)


# ------------------------------------------------------------------------------------------------
# wikitext to text
# ------------------------------------------------------------------------------------------------

WIKITEXT = """{{Infobox company|name=Acme|revenue=5}}
{{Use dmy dates}}
'''Acme Corporation''' (NYSE: ACME; {{lang|fr|Acmé}}) is an [[United States|American]] [[conglomerate]].<ref>{{cite web|url=http://x}}</ref> It was founded in 1920.<ref name="a"/>
[[File:Acme logo.png|thumb|The logo]]
<!-- hidden comment -->
Its shares trade on the [https://nyse.com New York Stock Exchange] and it is ''widely'' held.&nbsp;Revenue was {{convert|5|billion}} dollars.

== History ==
=== Early years ===
The company made anvils.
{| class="wikitable"
! Year !! Revenue
|-
| 1920 || 5
|}
* First item with [[link]]
* Second item

== See also ==
* [[Road Runner]]

== References ==
{{reflist}}

== External links ==
* [http://acme.example Official site]

[[Category:Companies]]
[[de:Acme Corporation]]
"""

EXPECTED_TEXT = """Acme Corporation (NYSE: ACME; Acmé) is an American conglomerate. It was founded in 1920.

Its shares trade on the New York Stock Exchange and it is widely held. Revenue was 5 billion dollars.

History

Early years

The company made anvils.

- First item with link
- Second item"""


def test_wikitext_to_text() -> None:
    assert wikitext_to_text(WIKITEXT) == EXPECTED_TEXT


def test_wikitext_text_shape_soft_breaks_lists_and_short_headings() -> None:
    """A single newline inside a paragraph is a space (as MediaWiki renders it); ``<br>``, list items and
    definition lines stay lines; a two-word heading is a block of its own."""
    wikitext = (
        "The town was founded in 1120\nby fishermen.\n\n== Early history ==\nIt grew.<br />It traded.\n"
        "* first\n** nested\n# one\n;Term\n:Its definition\n"
    )
    assert wikitext_to_text(wikitext) == (
        "The town was founded in 1120 by fishermen.\n\nEarly history\n\nIt grew.\nIt traded.\n"
        "- first\n- nested\n- one\nTerm\nIts definition"
    )


def test_wikitext_unclosed_italic_does_not_hide_later_sections() -> None:
    """mwparserfromhell nests everything after an unclosed '' in one tag; the section drop must still work."""
    text = wikitext_to_text(
        "Intro with ''unclosed italic.\n\n== Body ==\nProse.\n\n== References ==\n* A ref\n\n"
        "== Further reading ==\n* A book\n"
    )
    assert text == "Intro with unclosed italic.\n\nBody\n\nProse."


def test_wikitext_drops_a_whole_section_but_keeps_the_next_one() -> None:
    text = wikitext_to_text("Lead.\n== Notes ==\nnote\n=== Sub of notes ===\nsub\n== Economy ==\nGDP grew.")
    assert text == "Lead.\n\nEconomy\n\nGDP grew."


def test_extract_wikitext_document() -> None:
    raw = RawRecord(
        source="wikipedia",
        id="wiki:12",
        url="https://en.wikipedia.org/wiki/Acme",
        content=WIKITEXT,
        content_type="wikitext",
        metadata={"title": "Acme", "date": "2016-04-22", "namespace": "0"},
    )
    doc = extract_wikitext(raw)
    assert doc.id == doc_id("wikipedia", "wiki:12")
    assert (doc.text, doc.n_chars) == (EXPECTED_TEXT, len(EXPECTED_TEXT))
    assert (doc.source, doc.domain, doc.title, doc.date, doc.url) == (
        "wikipedia",
        "general",
        "Acme",
        "2016-04-22",
        "https://en.wikipedia.org/wiki/Acme",
    )
    assert doc.metadata == {"title": "Acme", "date": "2016-04-22", "namespace": "0"}


def test_extract_wikitext_refuses_bytes() -> None:
    raw = RawRecord(source="wikipedia", id="wiki:1", url="", content=b"x", content_type="wikitext")
    with pytest.raises(RecordFailure):
        extract_wikitext(raw)


# ------------------------------------------------------------------------------------------------
# Wikipedia: the real dump excerpt
# ------------------------------------------------------------------------------------------------


def classify_pages(path: Path) -> dict[str, list[str]]:
    """Independently, with the standard library's full-tree parser: page ids by what they are."""
    root = ET.fromstring(bz2.decompress(path.read_bytes()))
    ns = {"mw": root.tag[1:].split("}")[0]}
    kinds: dict[str, list[str]] = {"article": [], "namespace": [], "redirect": [], "disambiguation": []}
    for p in root.findall("mw:page", ns):
        text = p.findtext("mw:revision/mw:text", default="", namespaces=ns)
        if p.findtext("mw:ns", namespaces=ns) != "0":
            kind = "namespace"
        elif p.find("mw:redirect", ns) is not None:
            kind = "redirect"
        elif re.search(r"\{\{\s*(disambiguation|geodis|hndis|disambig|dab)\s*[|}]", text, re.IGNORECASE):
            kind = "disambiguation"
        else:
            kind = "article"
        kinds[kind].append(f"wiki:{p.findtext('mw:id', namespaces=ns)}")
    return kinds


def test_read_wikipedia_declares_the_dump_language() -> None:
    body = "Sofia is the capital of Bulgaria. " * 20
    data = dump([page(1, "Sofia", body)]).replace(b'version="0.10">', b'version="0.10" xml:lang="bg">', 1)
    [record] = read_w(data)
    assert record.metadata["declared_lang"] == "bg"
    [plain] = read_w(dump([page(1, "Sofia", body)]))
    assert "declared_lang" not in plain.metadata


def test_real_wikipedia_dump(shared_data: Path) -> None:
    path = shared_data / "general" / ENWIKI
    expected = classify_pages(path)["article"]
    with path.open("rb") as stream:
        records = list(read_wikipedia(str(path), stream, {}))
    assert all(isinstance(r, RawRecord) for r in records)
    assert [r.id for r in records] == expected
    assert len(records) == 98
    anarchism = records[0]
    assert all(r.metadata["declared_lang"] == "en" for r in records)  # <mediawiki xml:lang="en">
    assert (anarchism.metadata["title"], anarchism.url) == (
        "Anarchism",
        "https://en.wikipedia.org/wiki/Anarchism",
    )
    docs = [extract_wikitext(r) for r in records]
    for doc in docs:
        assert doc.n_chars > 300, doc.title
        assert not re.search(r"\{\{|\}\}|\[\[|\]\]|<ref|'''", doc.text), doc.title
        assert "\n\n\n" not in doc.text
    anarchism_text = docs[0].text
    assert anarchism_text.startswith("Anarchism is a political philosophy")
    assert "\n\nCriticisms\n\n" in anarchism_text
    assert "Further reading" not in anarchism_text and "External links" not in anarchism_text


def test_real_wikipedia_skip_counters(shared_data: Path) -> None:
    """206 pages: 98 articles; a redirect in namespace 4 counts as a namespace skip; one {{geodis}} page."""
    path = shared_data / "general" / ENWIKI
    expected = {
        f"skipped:{kind}": len(ids) for kind, ids in classify_pages(path).items() if kind != "article"
    }
    assert (
        wiki_counters(str(path))
        == expected
        == {"skipped:redirect": 99, "skipped:namespace": 1, "skipped:disambiguation": 8}
    )


# ------------------------------------------------------------------------------------------------
# JSONL / Parquet
# ------------------------------------------------------------------------------------------------


def jsonl(objects: list) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\n" for o in objects)


C4_ROWS = [
    {
        "text": "Beginners BBQ Class Taking Place in Missoula!",
        "timestamp": "2019-04-25T12:57:54Z",
        "url": "https://klyq.com/beginners-bbq-class",
    },
    {
        "text": "Discussion in 'Mac OS X Lion (10.7)' started by axboi87.",
        "timestamp": "2019-04-21T10:07:13Z",
        "url": "https://forums.macrumors.com/threads/x.1224733/",
    },
]


def test_read_jsonl_c4_layout() -> None:
    first, second = list(read_jsonl("c4-train.00000.json", io.BytesIO(jsonl(C4_ROWS)), {}))
    assert first == RawRecord(
        source="c4",
        id="https://klyq.com/beginners-bbq-class",
        url="https://klyq.com/beginners-bbq-class",
        content=C4_ROWS[0]["text"],
        content_type="text",
        fetched_at="2019-04-25T12:57:54Z",
        metadata={"date": "2019-04-25", "timestamp": "2019-04-25T12:57:54Z"},
    )
    assert second.id == C4_ROWS[1]["url"]


def test_read_jsonl_field_mapping_and_nested_fields() -> None:
    rows = [
        {
            "contents": "Dolma text.",
            "doc_id": 7,
            "metadata": {"url": "https://x.org/a", "created": 1700000000},
        },
        {"contents": "No id or url."},
    ]
    options = {
        "fields": {"text": "contents", "id": "doc_id", "url": "metadata.url", "date": "metadata.created"},
        "source": "web",
    }
    first, second = list(read_jsonl("d.jsonl", io.BytesIO(jsonl(rows)), options))
    assert (first.id, first.url, first.source, first.fetched_at) == (
        "7",
        "https://x.org/a",
        "web",
        "2023-11-14T22:13:20Z",
    )
    assert (second.id, second.url, second.metadata) == ("d.jsonl:2", "", {})


def test_read_jsonl_bad_lines() -> None:
    data = jsonl([C4_ROWS[0], {"url": "u"}, {"text": 5}, ["a"]]) + b"{broken\n" + jsonl([C4_ROWS[1]])
    items = list(read_jsonl("c4.jsonl", io.BytesIO(data), {}))
    kinds = [i.kind if isinstance(i, RecordError) else "ok" for i in items]
    assert kinds == ["ok", "missing_field", "invalid_field", "invalid_record", "invalid_json", "ok"]
    assert [i.id for i in items if isinstance(i, RecordError)] == [
        "c4.jsonl:2",
        "c4.jsonl:3",
        "c4.jsonl:4",
        "line:5",
    ]


@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_read_jsonl_truncated(suffix: str) -> None:
    rows = [{"id": str(i), "text": f"Document {i} " + "lorem ipsum " * (i % 13)} for i in range(5000)]
    pack = gzip.compress if suffix == ".gz" else zstandard.ZstdCompressor().compress
    packed = pack(jsonl(rows))
    *records, last = list(read_jsonl(f"x.jsonl{suffix}", io.BytesIO(packed[: len(packed) // 2]), {}))
    assert (last.kind, last.id) == ("truncated", f"line:{len(records) + 1}")
    assert [r.id for r in records] == [str(i) for i in range(len(records))]
    assert 0 < len(records) < 5000


def parquet_bytes(table: pa.Table, row_group_size: int) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=row_group_size)
    return sink.getvalue()


def test_read_parquet_by_row_groups() -> None:
    table = pa.table(
        {
            "text": [f"Row {i}" if i != 3 else None for i in range(2500)],
            "url": [f"https://x.org/{i}" for i in range(2500)],
            "extra": list(range(2500)),
        }
    )
    data = parquet_bytes(table, row_group_size=1000)
    assert pq.ParquetFile(io.BytesIO(data)).num_row_groups == 3
    items = list(read_jsonl("part-0.parquet", io.BytesIO(data), {}))
    assert len(items) == 2500
    assert isinstance(items[3], RecordError) and (items[3].kind, items[3].id) == (
        "missing_field",
        "part-0.parquet:4",
    )
    assert (items[2499].content, items[2499].id) == ("Row 2499", "https://x.org/2499")


def test_read_parquet_without_text_column_fails_the_file() -> None:
    data = parquet_bytes(pa.table({"body": ["x"]}), row_group_size=10)
    with pytest.raises(RecordFailure) as caught:
        list(read_jsonl("p.parquet", io.BytesIO(data), {}))
    assert caught.value.kind == "missing_column"
