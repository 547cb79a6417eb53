"""trafilatura without work whose result is never used (sources/trafilatura_lean.py): readability only where
its result could be chosen, no categories, tags or licence in the metadata we read; the same output."""

from __future__ import annotations

from pathlib import Path

import pytest
import trafilatura
from lxml import etree
from lxml.etree import tostring
from trafilatura import core, external, metadata, readability_lxml
from trafilatura.settings import Extractor
from trafilatura.utils import load_html, trim

import sources.html  # noqa: F401  (installs the wrapper)
from core.schema import RawRecord
from sources import trafilatura_lean as lean_module
from sources.html import extract_html
from tests.conftest import SHARED_DATA

ARTICLE = " ".join(
    f"Paragraph {i} of the quarterly report says revenue rose {i} percent, margins held and the outlook was kept."
    for i in range(12)
)


def _page(article_paragraphs: str, chrome: str = "", extra_head: str = "") -> str:
    paragraphs = "".join(f"<p>{s.strip()}.</p>" for s in article_paragraphs.split(".") if s.strip())
    return (
        f"<html><head><title>Quarterly report</title>{extra_head}</head><body>{chrome}"
        f"<article><h1>Quarterly report</h1>{paragraphs}</article></body></html>"
    )


NAV = (
    "<nav><ul>"
    + "".join(f'<li><a href="/s{i}">Section number {i}</a></li>' for i in range(40))
    + "</ul></nav>"
)
SIDEBAR = (
    '<div class="sidebar">'
    + "".join(
        f"<div><p>Related story {i}: markets moved today as traders weighed the latest data on prices.</p></div>"
        for i in range(30)
    )
    + "</div>"
)
SYNTHETIC = {
    "article only": _page(ARTICLE),
    "nav and sidebar": _page(ARTICLE, NAV + SIDEBAR),
    "script and style": _page(ARTICLE, "<script>" + "var x = 1;" * 2000 + "</script>", "<style>p{}</style>"),
    "video iframes": "<html><body><div>"
    + "".join(
        f"<p>Paragraph {i}, with commas, says revenue rose, margins held, and the outlook was kept.</p>"
        f'<iframe src="https://www.youtube.com/embed/v{i}"></iframe>'
        for i in range(20)
    )
    + "</div></body></html>",
    "div soup": "<html><body>"
    + "".join(
        f"<div>Loose text number {i}, with commas, in a div.<br>and a tail {i}</div>" for i in range(60)
    )
    + "</body></html>",
    "short": "<html><body><p>Too short to matter.</p></body></html>",
}


def _pages(shared: Path | None) -> dict[str, str]:
    pages = dict(SYNTHETIC)
    if shared is not None:
        for path in sorted((shared / "web" / "html").glob("*.html")):
            pages[path.name] = path.read_bytes().decode("utf-8", "replace")
    return pages


def _readability_text(html: str) -> str:
    tree = load_html(html)
    algo = lean_module.ORIGINAL["try_readability"](tree)
    return trim(tostring(algo, method="text", encoding="utf-8").decode("utf-8"))


@pytest.mark.parametrize("focus", ["balanced", "precision", "recall"])
def test_bound_holds_and_skipped_pages_never_prefer_readability(focus):
    """On synthetic and real pages: readability's text never exceeds the bound, and wherever the wrapper
    would skip readability, trafilatura's own rule would not have chosen its result."""
    shared = SHARED_DATA if SHARED_DATA.is_dir() else None  # the real pages when present
    options = Extractor(precision=focus == "precision", recall=focus == "recall")
    skipped = 0
    for name, html in _pages(shared).items():
        tree = load_html(html)
        if tree is None:
            continue
        algo_text = _readability_text(html)
        assert len(algo_text) <= lean_module.text_bound(tree), name
        for own in ("", ARTICLE[:300], ARTICLE, algo_text, algo_text[: len(algo_text) // 2 + 1]):
            body = load_html(f"<html><body><p>{own}</p></body></html>").find(".//body")
            if not lean_module.readability_could_win(tree, body, len(own), options):
                skipped += 1
                algo = lean_module.ORIGINAL["try_readability"](load_html(html))
                assert not external._prefer_readability(
                    body, algo, algo_text, len(own), len(algo_text), options
                ), (
                    name,
                    len(own),
                )
    assert skipped > 0


def test_wrapper_is_installed():
    """Importing sources.html put the wrapper in place."""
    assert lean_module.ORIGINAL, "sources.html did not install the wrappers"
    assert metadata.extract_catstags is not lean_module.ORIGINAL["extract_catstags"]
    assert metadata.extract_license is not lean_module.ORIGINAL["extract_license"]
    assert core.compare_extraction is not lean_module.ORIGINAL["compare_extraction"]
    assert external.try_readability is not lean_module.ORIGINAL["try_readability"]
    assert core.xmltotxt is not lean_module.ORIGINAL["xmltotxt"]


def _extract(html: str, **options) -> str:
    raw = RawRecord(
        id="t", source="news", url="https://example.com/a", content=html, content_type="html", metadata={}
    )
    return extract_html(raw, options).text


def test_readability_skipped_only_where_it_cannot_win(monkeypatch):
    calls = []
    summary = readability_lxml.Document.summary

    def counting(self):
        calls.append(1)
        return summary(self)

    monkeypatch.setattr(readability_lxml.Document, "summary", counting)
    text = _extract(SYNTHETIC["article only"])
    assert "Paragraph 11 of the quarterly report" in text
    assert calls == []  # the article is all the page's text: readability cannot be longer
    _extract(SYNTHETIC["nav and sidebar"])
    assert calls  # the sidebar's text could make readability's result twice as long: it runs


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_same_text_as_trafilatura_unwrapped(name, monkeypatch):
    wrapped = _extract(SYNTHETIC[name])
    monkeypatch.setattr(core, "compare_extraction", lean_module.ORIGINAL["compare_extraction"])
    monkeypatch.setattr(external, "try_readability", lean_module.ORIGINAL["try_readability"])
    assert _extract(SYNTHETIC[name]) == wrapped


TAGGED = (
    '<html><head><title>Rates hold | Example News</title><meta name="author" content="Ann Writer">'
    '<meta property="og:site_name" content="Example News">'
    '<meta property="article:published_time" content="2024-03-05T10:00:00Z"></head><body>'
    '<div class="entry-meta"><a href="/category/markets/">Markets</a></div>'
    '<div class="tags"><a href="/tag/rates/">Rates</a></div>'
    f"<article><h1>Rates hold</h1>{''.join(f'<p>{s.strip()}.</p>' for s in ARTICLE.split('.') if s.strip())}"
    '</article><footer><a rel="license" href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>'
    "</footer></body></html>"
)


def test_lean_leaves_out_only_categories_tags_licence_and_plain_text():
    full = trafilatura.bare_extraction(TAGGED, with_metadata=True)
    assert full.categories and full.tags and full.license  # outside lean(): as trafilatura gives them
    assert "Paragraph 11 of the quarterly report" in full.text and full.raw_text == full.text
    with lean_module.lean():
        lean = trafilatura.bare_extraction(TAGGED, with_metadata=True)
    assert not lean.categories and not lean.tags and not lean.license
    assert lean.text == "" and lean.raw_text == ""
    for key in ("title", "author", "sitename", "date"):
        assert getattr(lean, key) == getattr(full, key), key
    assert tostring(lean.body) == tostring(full.body)  # what sources.html renders
    assert lean_module.ORIGINAL["xmltotxt"](lean.body, False) == full.text  # xmltotxt left the body alone
    again = trafilatura.bare_extraction(TAGGED, with_metadata=True)
    assert again.categories and again.text == full.text  # the skips ended with the block


@pytest.mark.parametrize("formatting", [False, True])
def test_xmltotxt_leaves_the_body_as_it_was(formatting):
    """Skipping it cannot change the body: trafilatura's xmltotxt only reads it (a copy when formatting)."""
    html = _byline_page(
        "<p>Code: <code>a = 1<br>b = 2</code> and <a href='/x'>a link</a> and <b>bold</b>.</p>"
    )
    body = trafilatura.bare_extraction(html, include_formatting=formatting, include_links=True).body
    before = tostring(body)
    assert lean_module.ORIGINAL["xmltotxt"](body, formatting)
    assert tostring(body) == before


def test_page_metadata_we_keep_is_unchanged(monkeypatch):
    raw = RawRecord(
        id="t", source="news", url="https://example.com/a", content=TAGGED, content_type="html", metadata={}
    )
    doc = extract_html(raw)
    assert (doc.title, doc.date, doc.metadata["author"], doc.metadata["sitename"]) == (
        "Rates hold",
        "2024-03-05",
        "Ann Writer",
        "Example News",
    )
    for name in ("extract_catstags", "extract_license"):
        monkeypatch.setattr(metadata, name, lean_module.ORIGINAL[name])
    again = extract_html(raw)
    assert (again.text, again.title, again.date, again.metadata) == (
        doc.text,
        doc.title,
        doc.date,
        doc.metadata,
    )


# -- extract_author without the pruned copy ---------------------------------------------------------------

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _byline_page(body: str) -> str:
    return f"<html><head><title>Rates hold</title></head><body>{body}<article><p>{ARTICLE}</p></article></body></html>"


AUTHOR_PAGES = {
    # the first byline in document order sits in a pruned sidebar; the copy finds the second one
    "found after pruning": (
        _byline_page(
            '<div class="sidebar"><span class="author">Sidebar Person</span></div>'
            '<p class="byline">Jane Doe</p>'
        ),
        "Jane Doe",
    ),
    "only candidate pruned": (
        _byline_page('<section class="comments"><a rel="author" href="/u/1">Commenter Name</a></section>'),
        None,
    ),
    "no candidate": (_byline_page("<p>Nothing about who wrote this.</p>"), None),
    "too short, then a generic one": (
        _byline_page('<span class="author">JD</span><div id="article-author">John Smith</div>'),
        "John Smith",
    ),
    "candidate inside time is pruned": (
        _byline_page('<time datetime="2024-01-01"><span class="byline">Time Writer</span></time>'),
        None,
    ),
}


def _author(html: str) -> str | None:
    return metadata.extract_author(load_html(html))


@pytest.fixture
def no_copy(monkeypatch):
    """extract_author's deepcopy fails the test if it runs."""

    def refuse(tree):
        raise AssertionError("extract_author copied the tree")

    monkeypatch.setattr(metadata, "deepcopy", refuse)


def test_author_wrapper_is_installed():
    assert metadata.extract_author is not lean_module.ORIGINAL["extract_author"]
    assert lean_module.author_sources_digests(metadata) == (
        lean_module.AUTHOR_SOURCE_DIGEST,
        lean_module.AUTHOR_XPATHS_DIGEST,
    )


@pytest.mark.parametrize("name", sorted(AUTHOR_PAGES))
def test_author_found_without_the_copy_as_trafilatura_finds_it(name):
    html, expected = AUTHOR_PAGES[name]
    assert lean_module.ORIGINAL["extract_author"](load_html(html)) == expected  # the fixtures are right
    with lean_module.lean():
        assert lean_module.author_in_tree(load_html(html), metadata)[0]  # told without the copy
        assert _author(html) == expected


@pytest.mark.parametrize("name", sorted(AUTHOR_PAGES))
def test_author_lookup_in_lean_makes_no_copy(name, no_copy):
    html, expected = AUTHOR_PAGES[name]
    with lean_module.lean():
        assert _author(html) == expected


def test_author_outside_lean_is_trafilaturas_own(no_copy):
    with pytest.raises(AssertionError, match="copied"):
        _author(AUTHOR_PAGES["no candidate"][0])


@pytest.mark.parametrize(
    "body",
    [
        # pruning inside the byline changes its text in the copy ("By Jane Doe" without the date)
        '<div class="byline">By <time>March 5</time> Jane Doe</div>',
        # a child element <rel>: the rel='me' test reads its text, which pruning inside it could change
        '<span class="x"><rel>m<time>x</time>e</rel></span><span class="author">Ann Writer</span>',
    ],
)
def test_author_falls_back_to_the_copy_when_pruning_could_change_a_match(body):
    html = _byline_page(body)
    assert lean_module.author_in_tree(load_html(html), metadata) == (False, None)
    with lean_module.lean():
        assert _author(html) == lean_module.ORIGINAL["extract_author"](load_html(html))


def test_author_on_a_subtree_falls_back():
    """``//`` in the copy of a subtree searches only the subtree; on the original it would search the page."""
    tree = load_html(AUTHOR_PAGES["found after pruning"][0])
    assert lean_module.author_in_tree(tree.find("body/article"), metadata) == (False, None)


TAGS = [
    *("div", "span", "a", "p", "section", "time", "figure", "h3", "h4", "strong", "author", "address", "rel"),
    *("link", "li", "header"),
]
# pieces of attribute values: every literal of the XPaths' tests, parts of them and neighbours
PIECES = [
    *(
        "author",
        "Author",
        "-name",
        "name",
        "authorName",
        "AuthorName",
        "author name",
        "byline",
        "Byline",
        "BBL",
    ),
    *(
        "byl",
        "username",
        "comments",
        "Comments",
        "comment-",
        "list",
        "commentlist",
        "ProductReviews",
        "sidebar",
    ),
    *(
        "quote",
        "print",
        "article-",
        "share",
        "support",
        "category",
        "meta-date",
        "meta-reviewer",
        "is-hidden",
    ),
    *("embedly-instagram", "title", "date", "writer", "screenname", "zuozhe", "bianji", "xiaobian", "me"),
    *("channel-name", "submitted-by", "posted-by", "journalist-name", "AuthorCard", "AuthorURL", "Figure"),
    *(" ", "x", "-", "Y", "é"),
]
ATTRIBUTES = ["class", "id", "rel", "itemprop", "data-testid", "data-component"]
attribute = st.tuples(
    st.sampled_from(ATTRIBUTES),
    st.one_of(st.sampled_from(PIECES), st.lists(st.sampled_from(PIECES), max_size=3).map("".join)),
)
attrs = st.lists(attribute, max_size=3, unique_by=lambda a: a[0]).map(
    lambda pairs: "".join(f' {name}="{value}"' for name, value in pairs)
)
WORDS = ["", "Jane Doe", "By", "JD", " ", "Sidebar Guy", "me", "m", "e", "x" * 130, "Ann  Writer\n"]


def _fragment(depth: int) -> st.SearchStrategy[str]:
    leaf = st.sampled_from(WORDS)
    if depth == 0:
        return leaf
    element = st.builds(
        lambda tag, attrs, text, children, tail: f"<{tag}{attrs}>{text}{''.join(children)}</{tag}>{tail}",
        st.sampled_from(TAGS),
        attrs,
        leaf,
        st.lists(_fragment(depth - 1), max_size=3),
        leaf,
    )
    return st.one_of(leaf, element)


def _assert_scan_is_trafilaturas(tree) -> None:
    scanned = lean_module.author_scan(tree)
    if scanned is None:  # only for a rel child of one of the first XPath's tags
        assert tree.xpath(
            "//rel/parent::*[self::a or self::address or self::div or self::link or self::p or "
            "self::span or self::strong]"
        )
        return
    *matches, discard = scanned
    for xpath, found in zip(metadata.AUTHOR_XPATHS, matches, strict=True):
        assert found == xpath(tree)  # the same elements in the same order
    first, second = metadata.AUTHOR_DISCARD_XPATHS
    assert set(discard) == set(first(tree)) | set(second(tree))


def test_author_scan_leaves_out_the_root_as_the_first_discard_xpath_does():
    """``.//*`` is below the context node; ``//time`` includes it (a bare element as the root)."""
    tree = etree.fromstring('<div class="comments"><span class="author">Jane Doe</span><time>x</time></div>')
    _assert_scan_is_trafilaturas(tree)
    assert [e.tag for e in lean_module.author_scan(tree)[3]] == ["time"]


@settings(max_examples=1000, deadline=None)
@given(st.lists(_fragment(3), min_size=1, max_size=4))
def test_author_scan_equals_trafilaturas_xpaths_on_random_pages(fragments):
    _assert_scan_is_trafilaturas(load_html(_byline_page("".join(fragments))))


def test_author_scan_equals_trafilaturas_xpaths_on_the_real_pages(shared_data):
    pages = sorted((shared_data / "web" / "html").glob("*.html"))
    assert pages
    for path in pages:
        _assert_scan_is_trafilaturas(load_html(path.read_bytes().decode("utf-8", "replace")))


@settings(max_examples=400, deadline=None)
@given(st.lists(_fragment(3), min_size=1, max_size=4))
def test_author_equals_trafilaturas_on_random_pages(fragments):
    html = _byline_page("".join(fragments))
    expected = lean_module.ORIGINAL["extract_author"](load_html(html))
    with lean_module.lean():
        assert _author(html) == expected


def test_author_equals_trafilaturas_on_the_real_pages(shared_data):
    pages = sorted((shared_data / "web" / "html").glob("*.html"))
    assert pages
    known = 0
    for path in pages:
        html = path.read_bytes().decode("utf-8", "replace")
        expected = lean_module.ORIGINAL["extract_author"](load_html(html))
        known += lean_module.author_in_tree(load_html(html), metadata)[0]
        with lean_module.lean():
            assert _author(html) == expected, path.name
    assert known > len(pages) // 2  # the copy-free path is the common one
