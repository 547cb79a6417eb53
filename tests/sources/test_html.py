"""Tests for sources.html: charset decoding, trafilatura extraction into Documents, the real pages in
shared/data/web/html against trafilatura's own evaluation snippets, and WARC records end to end."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from core.errors import ConfigError, RecordFailure
from core.schema import RawRecord, doc_id
from sources.html import declared_language, decode_html, extract_html
from sources.web import read_warc

CYRILLIC = (
    "Центральный банк России повысил ключевую ставку до шестнадцати процентов годовых, "
    "сообщила пресс-служба регулятора. Аналитики ожидали такого решения после роста инфляции. "
)

ARTICLE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Acme Corp beats estimates | Example News</title>
<meta name="author" content="Jane Smith">
<meta property="og:site_name" content="Example News">
<meta property="article:published_time" content="2024-01-16T09:30:00Z">
</head><body>
<nav><a href="/">Home</a> <a href="/markets">Markets</a> <a href="/login">Sign in</a></nav>
<article><h1>Acme Corp beats estimates</h1>
<p>Acme Corp reported quarterly revenue of $5.2 billion on Tuesday, ahead of analyst estimates of $4.9 billion,
as demand for its industrial sensors rose in North America and Europe.</p>
<p>Net income rose 12 percent to $810 million, or $1.45 a share. The company raised its full-year outlook and said
it expects margins to widen as supply-chain costs ease through the second half of the year.</p>
<p>Shares of Acme rose 6 percent in after-hours trading. The stock has gained 18 percent this year, outpacing the
broader industrial index, which is up 7 percent over the same period.</p>
</article>
<footer><p>Copyright 2024 Example News. All rights reserved.</p><a href="/privacy">Privacy policy</a></footer>
</body></html>"""


def raw(
    content: bytes | str, source: str = "news", url: str = "https://www.example.com/markets/acme", **metadata
) -> RawRecord:
    return RawRecord(
        source=source, id="rec-1", url=url, content=content, content_type="html", metadata=metadata
    )


def cyrillic_page(declare: str | None) -> bytes:
    meta = f'<meta charset="{declare}">' if declare else ""
    html = f"<html><head>{meta}<title>Новости</title></head><body><article><p>{CYRILLIC * 3}</p></article></body></html>"
    return html.encode("cp1251")


# ------------------------------------------------------------------------------------------------
# decoding
# ------------------------------------------------------------------------------------------------


def test_decode_utf8() -> None:
    text, info = decode_html("<p>Grüße, €5</p>".encode())
    assert text == "<p>Grüße, €5</p>"
    assert info == {"charset": "utf-8", "charset_source": "utf8"}


def test_decode_uses_http_charset() -> None:
    text, info = decode_html(cyrillic_page(None), http_charset="windows-1251")
    assert CYRILLIC in text
    assert info == {"charset": "cp1251", "charset_source": "http"}


def test_decode_uses_meta_charset() -> None:
    text, info = decode_html(cyrillic_page("windows-1251"))
    assert CYRILLIC in text
    assert info == {"charset": "cp1251", "charset_source": "meta"}


def test_decode_skips_a_wrong_http_charset_for_the_meta_one() -> None:
    text, info = decode_html(cyrillic_page("windows-1251"), http_charset="utf-8")
    assert CYRILLIC in text and info["charset_source"] == "meta"


def test_decode_undeclared_cp1251_is_detected() -> None:
    text, info = decode_html(cyrillic_page(None))
    assert CYRILLIC in text
    assert info == {"charset": "cp1251", "charset_source": "detected"}


RUSSIAN = "Центральный банк России повысил ключевую ставку до шестнадцати процентов годовых. " * 4
FRENCH = "La Banque centrale européenne a relevé ses taux à la surprise générale des marchés. " * 4


@pytest.mark.parametrize("declared", ["http", "meta"])
def test_decode_cp1251_declared_as_latin1_is_redetected(declared: str) -> None:
    """Issue 16: a cp1251 page declared ISO-8859-1 became silent mojibake ("Öåíòðàëüíûé")."""
    meta = '<meta charset="iso-8859-1">' if declared == "meta" else ""
    page = f"<html><head>{meta}</head><body><p>{RUSSIAN}</p></body></html>".encode("cp1251")
    text, info = decode_html(page, "iso-8859-1" if declared == "http" else None)
    assert RUSSIAN in text
    assert info == {"charset": "cp1251", "charset_source": "detected", "charset_declared": "cp1252"}


def test_decode_real_latin1_page_keeps_its_declared_charset() -> None:
    page = f'<html><head><meta charset="iso-8859-1"></head><body><p>{FRENCH}</p></body></html>'.encode(
        "cp1252"
    )
    text, info = decode_html(page)
    assert FRENCH in text and info == {"charset": "cp1252", "charset_source": "meta"}


def test_deeply_nested_html_is_a_parse_error_not_silent_empty_text() -> None:
    """Issue 16: 200k unclosed <div>s gave empty text with no hint of a parse failure."""
    html = "<html><body>" + "<div>" * 200_000 + "<p>" + "Real article text. " * 30 + "</p></body></html>"
    with pytest.raises(RecordFailure) as failure:
        extract_html(raw(html.encode()))
    assert failure.value.kind == "html_parse" and "depth" in str(failure.value)
    # an ordinary empty page is still just empty text (rejected later), not a parse error
    assert extract_html(raw(b"<html><body><div></div></body></html>")).text == ""


def test_decode_valid_utf8_wins_over_a_stale_latin1_header() -> None:
    text, info = decode_html("<p>Ümsatz: 5 €</p>".encode(), http_charset="iso-8859-1")
    assert text == "<p>Ümsatz: 5 €</p>" and info["charset"] == "utf-8"


def test_decode_latin1_label_means_windows_1252() -> None:
    text, info = decode_html("<p>“Quoted” café</p>".encode("cp1252"), http_charset="ISO-8859-1")
    assert text == "<p>“Quoted” café</p>"
    assert info == {"charset": "cp1252", "charset_source": "http"}


def test_decode_tolerates_a_cut_off_last_character() -> None:
    content = ("<p>" + "Gewinn steigt um fünf Prozent. " * 200 + "€").encode()[:-1]
    text, info = decode_html(content)
    assert text.endswith("\ufffd") and info == {
        "charset": "utf-8",
        "charset_source": "utf8",
        "charset_errors": "1",
    }


def test_decode_bom() -> None:
    text, info = decode_html(b"\xef\xbb\xbf<p>x</p>")
    assert (text, info["charset_source"]) == ("<p>x</p>", "bom")


def test_decode_undecodable_bytes_raise_charset_failure() -> None:
    noise = random.Random(0).randbytes(3000)
    with pytest.raises(RecordFailure) as caught:
        decode_html(noise)
    assert caught.value.kind == "charset"


# ------------------------------------------------------------------------------------------------
# extraction
# ------------------------------------------------------------------------------------------------


def test_extract_article() -> None:
    doc = extract_html(raw(ARTICLE.encode(), warc_file="a.warc.gz", http_status="200"))
    assert doc.id == doc_id("news", "rec-1")
    assert (doc.source, doc.url) == ("news", "https://www.example.com/markets/acme")
    assert doc.title == "Acme Corp beats estimates"
    assert doc.date == "2024-01-16"
    assert doc.text.startswith(
        "Acme Corp beats estimates\n\nAcme Corp reported quarterly revenue of $5.2 billion"
    )
    assert "Shares of Acme rose 6 percent" in doc.text
    assert "Sign in" not in doc.text and "Privacy policy" not in doc.text and "Copyright" not in doc.text
    assert doc.n_chars == len(doc.text)
    assert doc.metadata == {
        "warc_file": "a.warc.gz",
        "http_status": "200",
        "extractor": "trafilatura",
        "charset": "utf-8",
        "charset_source": "utf8",
        "author": "Jane Smith",
        "sitename": "Example News",
        "host": "example.com",
        "declared_lang": "en",  # <html lang="en">
    }


def test_the_domain_comes_from_the_profile_not_the_extractor() -> None:
    """The HTML extractor named press and news "financial" itself; the profile's source map decides."""
    from core.schema import SOURCES
    from pipeline.config import DEFAULT_SOURCE_DOMAINS
    from pipeline.profiles import load_profile, source_domains_of
    from pipeline.stages.extract import extract

    medical = source_domains_of(load_profile("medical"), SOURCES)
    assert extract(raw(ARTICLE, source="press"), DEFAULT_SOURCE_DOMAINS).domain == "financial"
    assert extract(raw(ARTICLE, source="web"), DEFAULT_SOURCE_DOMAINS).domain == "general"
    assert extract(raw(ARTICLE, source="press"), medical).domain == "general"


def test_extract_is_deterministic_across_documents() -> None:
    """deduplicate=False: trafilatura's cache would drop paragraphs it has seen twice before."""
    texts = {extract_html(raw(ARTICLE)).text for _ in range(4)}
    assert len(texts) == 1


def test_extract_undeclared_cp1251_page() -> None:
    doc = extract_html(raw(cyrillic_page(None)))
    assert CYRILLIC.strip() in doc.text
    assert doc.metadata["charset_source"] == "detected"


def test_extract_undecodable_page_raises_charset_failure() -> None:
    with pytest.raises(RecordFailure) as caught:
        extract_html(raw(random.Random(1).randbytes(4000)))
    assert caught.value.kind == "charset"


def test_extract_empty_page_gives_empty_text() -> None:
    for content in (
        b"",
        b"<html><body></body></html>",
        "<html><head><title>T</title></head><body> </body></html>",
    ):
        doc = extract_html(raw(content))
        assert (doc.text, doc.n_chars, doc.metadata["extractor"]) == ("", 0, "trafilatura")


def test_extract_feed_fragment() -> None:
    fragment = "<p>Acme Corp reported revenue of $5 billion.</p><p>Second paragraph.</p>"
    doc = extract_html(raw(fragment, published="2024-01-02T13:30:00Z", title="Acme beats"))
    assert doc.text == "Acme Corp reported revenue of $5 billion.\n\nSecond paragraph."
    assert (doc.title, doc.date, doc.metadata["html_fragment"]) == ("Acme beats", "2024-01-02", "true")


TABLE = (
    "<table><caption>Quarterly results</caption>"
    "<tr><th>Metric</th><th>Q4 2023</th><th></th><th>Q4 2022</th></tr>"
    "<tr><td>Revenue</td><td>$5.2 bn</td><td></td><td>$4.8 bn</td></tr>"
    "<tr><td>Net loss</td><td>(12.5)</td><td></td><td>(3.1)</td></tr>"
    "<tr><td>EPS | diluted</td><td>-0.45</td><td></td><td>1.02</td></tr></table>"
)
TABLE_PAGE = ARTICLE.replace(
    "</article>", TABLE + "<p>The company repeated its outlook for the year.</p></article>"
)


def test_tables_are_markdown_by_default() -> None:
    """Caption right above the table, header rule, signs and parentheses intact, the empty spacer column
    removed, a ``|`` inside a cell escaped; the table is a block between blank lines."""
    text = extract_html(raw(TABLE_PAGE)).text
    expected = (
        "Quarterly results\n"
        "| Metric | Q4 2023 | Q4 2022 |\n"
        "| --- | ---: | ---: |\n"
        "| Revenue | $5.2 bn | $4.8 bn |\n"
        "| Net loss | (12.5) | (3.1) |\n"
        "| EPS \\| diluted | -0.45 | 1.02 |"
    )
    assert "\n\n" + expected + "\n\nThe company repeated its outlook" in text


def test_tables_option_linearize_and_drop() -> None:
    linear = extract_html(raw(TABLE_PAGE), {"tables": "linearize"}).text
    assert (
        "Quarterly results\nRevenue: Q4 2023: $5.2 bn; Q4 2022: $4.8 bn\nNet loss: Q4 2023: (12.5);" in linear
    )
    assert "| --- |" not in linear
    for options in ({"tables": "drop"}, {"include_tables": "false"}, {"include_tables": False}):
        dropped = extract_html(raw(TABLE_PAGE), options).text
        assert "5.2 bn" not in dropped and "Quarterly results" not in dropped, options  # caption goes too
        assert "The company repeated its outlook" in dropped


def test_tables_option_errors() -> None:
    with pytest.raises(ConfigError, match="not one of markdown, linearize, drop"):
        extract_html(raw(TABLE_PAGE), {"tables": "html"})
    with pytest.raises(ConfigError, match="contradicts"):
        extract_html(raw(TABLE_PAGE), {"tables": "markdown", "include_tables": "false"})


def test_layout_table_is_unwrapped() -> None:
    """A one-column table (page layout) gives its cells' text as paragraphs, not a Markdown table."""
    layout = (
        "<table><tr><td><p>First paragraph of the story, set in a layout table as old sites do.</p></td></tr>"
        "<tr><td><p>Second paragraph of the story, in the next row of that same layout table.</p></td></tr>"
        "</table>"
    )
    text = extract_html(raw(ARTICLE.replace("</article>", layout + "</article>"))).text
    assert "|" not in text
    assert (
        "First paragraph of the story, set in a layout table as old sites do.\n\n"
        "Second paragraph of the story, in the next row of that same layout table." in text
    )


def test_layout_table_around_data_tables() -> None:
    """A wrapper table (one column) holding paragraphs and data tables, as trafilatura gives a wiki's
    collapsible schedule box: unwrapped into its blocks, the data tables inside it stay Markdown tables."""
    from lxml import etree

    from sources.html import render_body

    def schedule(place: str) -> str:
        return (
            "<table><row><cell role='head'> Time </cell><cell role='head'> Location </cell></row>"
            f"<row><cell>8:10 AM</cell><cell>Leaves home.<p> </p></cell></row>"
            f"<row><cell>1:00 PM</cell><cell>Goes to the {place}.</cell></row></table>"
        )

    body = etree.fromstring(
        "<body><p>Her schedule changes with the season.</p>"
        "<table><row><cell role='head'>\u00a0Spring</cell></row><row><cell>"
        f"<p>Monday, Thursday</p>{schedule('museum')}<p>Tuesday</p>{schedule('beach')}"
        "</cell></row></table></body>"
    )

    def block(place: str) -> str:
        return f"| Time | Location |\n| --- | --- |\n| 8:10 AM | Leaves home. |\n| 1:00 PM | Goes to the {place}. |"

    assert render_body(body) == (
        f"Her schedule changes with the season.\n\nSpring\n\nMonday, Thursday\n\n{block('museum')}\n\n"
        f"Tuesday\n\n{block('beach')}"
    )


def test_text_shape_headings_lists_and_paragraphs() -> None:
    """Short headings survive on their own line, list items one per line, blank lines between blocks."""
    body = (
        "<article><h1>Acme Corp beats estimates</h1>"
        "<p>Acme Corp reported quarterly revenue of $5.2 billion on Tuesday, ahead of analyst estimates of "
        "$5.0 billion, helped by strong demand for its industrial products.</p>"
        "<h2>Management Commentary</h2>"
        "<p>The chief executive said demand held up in every region<br>and that orders rose again.</p>"
        "<ul><li>Revenue up 12%</li><li>Margin 21.4%</li></ul>"
        "<ol><li>First step</li><li>Second step</li></ol>"
        "<h3>Overview</h3><p>Shares rose 4 percent in early trading after the results were published.</p>"
        "</article>"
    )
    page = f"<html><head><title>Acme</title></head><body>{body}</body></html>"
    text = extract_html(raw(page)).text
    assert text == (
        "Acme Corp beats estimates\n\n"
        "Acme Corp reported quarterly revenue of $5.2 billion on Tuesday, ahead of analyst estimates of "
        "$5.0 billion, helped by strong demand for its industrial products.\n\n"
        "Management Commentary\n\n"
        "The chief executive said demand held up in every region\nand that orders rose again.\n\n"
        "- Revenue up 12%\n- Margin 21.4%\n\n"
        "1. First step\n2. Second step\n\n"
        "Overview\n\n"
        "Shares rose 4 percent in early trading after the results were published."
    )


# ------------------------------------------------------------------------------------------------
# the real pages
# ------------------------------------------------------------------------------------------------

# Pages where trafilatura finds every "with" snippet of its own evaluation set and none of the "without" ones.
EVAL_PAGES = [
    "bbc.com.52241221.html",
    "cbsnews.com.carolina.html",
    "economist.com.thinking.html",
    "handelsblatt.com.grenzschliessungen.html",
    "it-finanzmagazin.de.creditshelf.html",
    "newrepublic.com.neoliberalism.html",
    "nytimes.com.blackouts.html",
    "politico.com.retirement.html",
]


def html_files(shared_data: Path) -> list[Path]:
    return sorted((shared_data / "web" / "html").glob("*.html"))


def test_every_real_page_gives_text(shared_data: Path) -> None:
    pages = html_files(shared_data)
    assert len(pages) == 36
    for page in pages:
        doc = extract_html(raw(page.read_bytes(), source="web", url=f"https://{page.stem}/"))
        assert doc.n_chars > 200, page.name
        assert doc.title, page.name
        assert doc.metadata["charset"] == "utf-8", page.name


@pytest.mark.parametrize("name", EVAL_PAGES)
def test_real_page_matches_evaluation_snippets(shared_data: Path, name: str) -> None:
    evaldata = json.loads((shared_data / "web" / "trafilatura_evaldata_subset.json").read_text())
    [(url, entry)] = [(u, e) for u, e in evaldata.items() if e["file"] == name]
    doc = extract_html(raw((shared_data / "web" / "html" / name).read_bytes(), url=url))
    for snippet in entry["with"]:
        assert snippet in doc.text, snippet
    for snippet in entry["without"]:
        assert snippet not in doc.text, snippet


def test_real_warc_records_extract(shared_data: Path) -> None:
    path = shared_data / "web" / "warc" / "iana.warc.gz"
    with path.open("rb") as stream:
        docs = [extract_html(r) for r in read_warc(str(path), stream, {})]
    assert len(docs) == 16
    assert all(d.n_chars > 100 and d.title for d in docs)
    home = next(d for d in docs if d.url == "http://www.iana.org/")
    assert home.title == "Internet Assigned Numbers Authority"
    assert home.metadata["content_charset"] == "utf-8" and home.metadata["host"] == "iana.org"


def test_real_finance_page_keeps_its_comparison_table(shared_data: Path) -> None:
    """thebalance.com's Coinbase page: the "At a Glance" comparison and the fee table are Markdown tables
    (the pipeline used to drop them, missing the evaluation snippet "1 GBP withdrawal")."""
    page = shared_data / "web" / "html" / "thebalance.com.coinbase.html"
    text = extract_html(raw(page.read_bytes(), source="news")).text
    assert (
        "\n\nAt a Glance\n\n| | Coinbase | Coinbase Pro |\n| --- | --- | --- |\n"
        "| Features | Simple interface Buy, sell, and exchange crypto. Price quoted in USD. |" in text
    )
    assert "| Number of cryptocurrencies supported | 170+ | 170+ |" in text
    assert "| SWIFT (GBP) | Free deposit, 1 GBP withdrawal |" in text
    assert "| Account | Fees |\n| --- | --- |\n| Card Buy | A fee will apply |" in text


def test_rendering_keeps_trafilaturas_text_on_every_real_page(shared_data: Path) -> None:
    """``render_body`` changes only the layout of trafilatura's own plain text (blank lines, list numbers,
    table pipes and rules, ``---:`` included), never its words: the two agree once whitespace, ``|``/``-``,
    the rules' alignment colons and ``1.`` markers are removed."""
    import trafilatura

    from sources.html import render_body

    def letters(text: str) -> str:
        text = re.sub(r"(?m)^\|(?: -+:? \|)+$", "", text)  # a Markdown table's rule line
        return re.sub(r"[\s|\-]+", "", re.sub(r"(?m)^\d+\. ", "", text))

    for page in html_files(shared_data):
        html_text = page.read_text(encoding="utf-8", errors="replace")
        result = trafilatura.bare_extraction(html_text, deduplicate=False, include_tables=True)
        assert letters(render_body(result.body)) == letters(result.text), page.name


def test_canonical_url_names_the_original_of_a_syndicated_copy():
    from sources.html import canonical_url

    page = (
        '<html><head><title>T</title><LINK href="https://www.reuters.com/a/b?utm_source=x" REL="canonical">'
        "</head><body><p>text</p></body></html>"
    )
    assert (
        canonical_url(page, "https://finance.yahoo.com/x.html") == "https://www.reuters.com/a/b?utm_source=x"
    )
    # a page that is its own canonical (tracking parameters and case aside) names no other page
    assert canonical_url(page, "https://WWW.reuters.com/a/b") == ""
    # relative hrefs resolve against the page's URL; no canonical link, no answer
    assert (
        canonical_url("<head><link rel=canonical href=/orig></head>", "https://x.com/copy")
        == "https://x.com/orig"
    )
    assert canonical_url("<head><link rel=stylesheet href=/a.css></head>", "https://x.com/copy") == ""
    # a canonical link in the body (user content) is not the page's declaration
    assert (
        canonical_url("<head></head><body><link rel=canonical href=https://y.com/></body>", "https://x.com")
        == ""
    )


@pytest.mark.parametrize(
    ("html", "code"),
    [
        ('<html lang="de-DE"><head></head><body></body></html>', "de"),
        ("<html class='x' xml:lang='fr'><head>", "fr"),
        ('<html><head><meta http-equiv="Content-Language" content="es"></head>', "es"),
        ('<html><head><meta content="pt_BR" property="og:locale"></head>', "pt"),
        ('<html lang="und"><head><meta property="og:locale" content="en_US"></head>', "en"),
        ("<html><head><title>x</title></head>", ""),
        ('<p lang="de">fragment</p>', ""),
    ],
)
def test_declared_language(html: str, code: str) -> None:
    assert declared_language(html) == code


def test_real_pages_declared_language(shared_data: Path) -> None:
    folder = shared_data / "web" / "html"
    read = lambda name: (folder / name).read_text(encoding="utf-8", errors="replace")  # noqa: E731
    assert declared_language(read("handelsblatt.com.grenzschliessungen.html")) == "de"
    assert declared_language(read("bbc.com.52241221.html")) == "en"
    # A Spanish page whose template says lang="en": language ID must not trust it blindly.
    assert declared_language(read("ultimasnoticias.com.ve-ucraina.html")) == "en"
