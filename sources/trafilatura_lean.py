"""trafilatura without the work whose result we never use: the same output, less CPU.

Inside ``lean()`` (``sources.html`` enters it around its own calls; anyone else's trafilatura call in the
process runs as usual), two steps of ``trafilatura.bare_extraction`` are skipped where they cannot change
what we use:

1. Readability, when its result cannot be chosen. With its fallback on, trafilatura compares its own
   extraction with readability's on every page (``trafilatura.external.compare_extraction``) and keeps
   readability's only when ``_prefer_readability`` says so: readability's text is empty or as long as its own
   -> no; its own is over twice as long -> no; otherwise yes when its own is empty, readability's is over twice
   as long, or (readability's over twice ``min_extracted_size``) its own has no paragraph text or more tables
   than paragraphs; in recall mode also when readability's is 1.5x as long or brings headings its own lacks.
   Every "yes" needs readability's text to be longer than a bound, and that text is made of the page's own
   text nodes: readability moves and drops nodes, it never copies one (it drops ``script``, ``style`` and
   ``fencedframe`` first, and only adds ``VIDEO`` to an ``iframe`` of a video). So, with ``U`` = the
   non-space characters plus the words of the page's text nodes outside those three elements, plus 6 per
   ``iframe``, readability's whitespace-collapsed text is at most ``U`` characters long; when no "yes" can
   hold for any length up to ``U``, running readability (~a quarter of trafilatura's time on a news page,
   skipped on more than 90% of the benchmark mix's pages) changes nothing. ``compare_extraction`` then runs
   exactly as before with readability's result empty, which it already handles as "not chosen"; the jusText
   rescue and everything after it run unchanged.
2. The categories, tags and licence of a page's metadata (``extract_catstags`` twice, ``extract_license``:
   ~5% of trafilatura's time on the benchmark mix's pages): ``sources.html`` keeps only title, author,
   sitename and date, which ``extract_metadata`` finds before and without them (they only read the tree).

3. ``extract_author``'s work (~10% of trafilatura's time on the benchmark mix's pages): it copies the whole
   page (``deepcopy``), deletes from the copy what ``AUTHOR_DISCARD_XPATHS`` matches (comments, sidebars,
   ``time``, ``figure`` ...), then tries ``AUTHOR_XPATHS`` on the copy in turn, each an XPath search of the
   whole tree (libxml2 ~2 us per element, plus Python's ``re`` for every ``re:test``). ``author_in_tree``
   gives the same answer from the original tree and one pass over it (``author_scan``, the same matches as
   those XPaths, ~5x less CPU). Every predicate of ``AUTHOR_XPATHS`` tests only the element's own name and
   attributes, but ``rel='me'`` (the string value of a child element named ``rel``, which pruning inside it
   can change: the scan gives up when one of the first XPath's tags has a ``rel`` child), and none is
   positional; so the copy's matches are exactly the original's outside the pruned subtrees, in the same
   order. A match with nothing pruned inside it has the same text in the copy (pruning moves a deleted
   element's tail to its previous sibling or its parent, both outside the match). So the original's matches
   are walked as the copy's would be: a pruned one is passed over, one with something pruned inside it makes
   it give up (trafilatura's own function then runs), otherwise the first whose text fits is the author.

4. The plain text of the result (``xmltotxt`` of the body: ``result.text`` and ``raw_text``, ~4% of
   trafilatura's time on the benchmark mix's pages): ``sources.html`` renders ``result.body`` itself and never
   reads them, and ``xmltotxt`` only reads the body (it works on a copy when it rewrites formatting). In
   ``lean()`` they are ``""``.

``install()`` wraps ``trafilatura.core.compare_extraction``, ``trafilatura.external.try_readability``,
``trafilatura.metadata.extract_catstags``, ``extract_license``, ``extract_author`` and
``trafilatura.core.xmltotxt`` once per process; it
leaves trafilatura alone (returns False) when these internals are not what this module was written against
(for ``extract_author``: the source of it and of the functions it calls, and its XPaths, by digest; a
different trafilatura keeps its own ``extract_author``). The skips are per call and per thread (Beam may run
DoFns in threads).
"""

from __future__ import annotations

import hashlib
import inspect
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lxml import etree

_TEXT = etree.XPath("//text()", smart_strings=False)
_DROPPED_TEXT = etree.XPath("//script//text()|//style//text()|//fencedframe//text()", smart_strings=False)
_IFRAMES = etree.XPath("count(//iframe)")
VIDEO_TEXT = 6  # readability's sanitize sets a video iframe's text to "VIDEO" (5) + a separating space

_state = threading.local()
_installed = False
ORIGINAL: dict[str, Any] = {}  # trafilatura's own functions, once wrapped (tests compare against them)


def text_bound(tree: Any) -> int:
    """An upper bound on the length of any whitespace-collapsed text made of ``tree``'s text nodes (outside
    script, style and fencedframe) in any order, plus ``VIDEO_TEXT`` per iframe.

    Joining pieces never splits a word, so such a text has at most the pieces' words and their non-space
    characters: ``" ".join(words)`` of all pieces is that long minus one.
    """
    words = " ".join(_TEXT(tree)).split()  # the pieces' words: a space between pieces joins none of them
    dropped = " ".join(_DROPPED_TEXT(tree)).split()
    kept_chars = len(" ".join(words)) + 1 - sum(map(len, dropped)) - len(dropped)
    return kept_chars + VIDEO_TEXT * int(_IFRAMES(tree))


def readability_could_win(raw_tree: Any, body: Any, len_text: int, options: Any) -> bool:
    """False when ``_prefer_readability`` is False for every readability text of length <= the bound.

    Each of its "yes" conditions grows with readability's length (the recall heading condition is assumed
    to hold), so it is enough to test them at the bound.
    """
    if len_text == 0:
        return True
    bound = text_bound(raw_tree)
    focus = getattr(options, "focus", "balanced")
    if bound > 2 * len_text:
        return True
    if bound > 2 * options.min_extracted_size and (
        not body.xpath(".//p//text()") or len(body.findall(".//table")) > len(body.findall(".//p"))
    ):
        return True
    return focus == "recall" and bound > len_text


# What author_in_tree was proved against (module docstring, item 3): sha256 of the source of trafilatura's
# extract_author, extract_metainfo, prune_unwanted_nodes and delete_element, and of its AUTHOR_XPATHS and
# AUTHOR_DISCARD_XPATHS (one path a line), first 16 hex digits (trafilatura 2.3.1).
AUTHOR_SOURCE_DIGEST = "89f9dd39ad7bf039"
AUTHOR_XPATHS_DIGEST = "bd5f280624916a83"
AUTHOR_LEN_LIMIT = 120  # extract_author's len_limit for extract_metainfo


# trafilatura's AUTHOR_XPATHS and AUTHOR_DISCARD_XPATHS (the digest above), evaluated in one pass over the
# tree instead of four XPath searches (~5x less CPU: libxml2 spends ~2 us per element on each, and calls
# Python's re for every ``re:test``). Each test below is the XPath predicate it replaces: ``self::x`` / ``//x``
# -> the tag; ``@a='v'`` -> ``attrib.get(a) == v``; ``contains(@a, 'v')`` -> ``v in value`` (an absent
# attribute is "" for both); ``re:test(@a, regex)`` (lxml's EXSLT test: ``re.search``, case-sensitive) -> one
# literal of the regex's alternation (``-?``, ``[Aa]``, ``(?:a|b)`` spelled out) in the value, or under ``^``
# at its start. tests/sources/test_trafilatura_lean.py compares the lists with trafilatura's XPaths.
_AUTHOR_1_TAGS = frozenset({"a", "address", "div", "link", "p", "span", "strong"})
_AUTHOR_2_TAGS = frozenset({"a", "div", "h3", "h4", "p", "span"})
_DISCARD_1_TAGS = frozenset({"a", "div", "section", "span"})
_A1_CLASS = ("author-name", "authorname", "AuthorName", "authorName")  # author-?name|AuthorName|authorName
_A2_ID = ("author", "zuozhe", "bianji", "xiaobian")
_A2_CLASS = (
    *("author", "channel-name", "zuozhe", "bianji", "xiaobian", "submitted-by", "posted-by"),
    "journalist-name",
)
_A3_ID = ("Author", "author")  # [Aa]uthor
_A3_CLASS = ("Author", "author", "screenname", "writer", "Byline", "byline")  # [Aa]uthor|...|[Bb]yline
_D1_ID_START, _D1_ID = ("comments",), ("commentlist", "comment-list", "ProductReviews")
_D1_CLASS_START = ("Comments", "comments")  # ^[Cc]omments
_D1_CLASS = (
    *("commentlist", "comments-list", "sidebar", "is-hidden", "quote", "embedly-instagram"),
    *("article-share", "article-support", "print", "category", "meta-date", "meta-reviewer"),
)


def author_scan(tree: Any) -> tuple[list[Any], list[Any], list[Any], list[Any]] | None:
    """In document order: the matches of trafilatura's three AUTHOR_XPATHS and of its AUTHOR_DISCARD_XPATHS
    (both, from the original ``tree``, its document's root); None when an element of the first XPath's tags
    has a ``rel`` child (``rel='me'``: the child's text, which pruning inside it could change)."""
    first: list[Any] = []
    second: list[Any] = []
    third: list[Any] = []
    discard: list[Any] = []
    for elem in tree.iter():
        tag = elem.tag
        if not isinstance(tag, str):  # comments, processing instructions: not ``*``
            continue
        attrib = elem.attrib
        if tag == "rel":
            parent = elem.getparent()
            if parent is not None and parent.tag in _AUTHOR_1_TAGS:
                return None
        if not attrib:  # every other test reads an attribute
            if tag == "author":
                first.append(elem)
            elif tag == "time" or tag == "figure":
                discard.append(elem)
            continue
        get = attrib.get
        cls, ident, itemprop = get("class", ""), get("id", ""), get("itemprop", "")
        if tag == "author" or (
            tag in _AUTHOR_1_TAGS
            and (
                get("rel") == "author"
                or ident == "author"
                or cls == "author"
                or itemprop == "author name"
                or get("data-testid") in ("AuthorCard", "AuthorURL")
                or any(w in cls for w in _A1_CLASS)
            )
        ):
            first.append(elem)
        if tag in _AUTHOR_2_TAGS and (
            cls in ("byline", "username", "byl", "BBL")
            or "author" in itemprop
            or any(w in ident for w in _A2_ID)
            or any(w in cls for w in _A2_CLASS)
        ):
            second.append(elem)
        if (
            "Byline" in get("data-component", "")
            or "author" in itemprop
            or any(w in ident for w in _A3_ID)
            or any(w in cls for w in _A3_CLASS)
        ):
            third.append(elem)
        if tag == "time" or tag == "figure":
            discard.append(elem)
        elif (
            tag in _DISCARD_1_TAGS
            and elem is not tree  # ``.//*``: below the root
            and (
                ident == "comments"
                or cls in ("comments", "title", "date")
                or ident.startswith(_D1_ID_START)
                or any(w in ident for w in _D1_ID)
                or cls.startswith(_D1_CLASS_START)
                or any(w in cls for w in _D1_CLASS)
                or "Figure" in get("data-component", "")
            )
        ):
            discard.append(elem)
    return first, second, third, discard


def author_sources_digests(metadata: Any) -> tuple[str, str]:
    """The two digests of ``AUTHOR_*_DIGEST`` for the trafilatura ``metadata`` module in use."""
    from trafilatura import htmlprocessing, xml

    functions = (
        ORIGINAL.get("extract_author", metadata.extract_author),  # trafilatura's own, even once wrapped
        metadata.extract_metainfo,
        htmlprocessing.prune_unwanted_nodes,
        xml.delete_element,
    )
    source = "".join(inspect.getsource(f) for f in functions)
    paths = "\n".join(x.path for x in [*metadata.AUTHOR_XPATHS, *metadata.AUTHOR_DISCARD_XPATHS])
    return (
        hashlib.sha256(source.encode()).hexdigest()[:16],
        hashlib.sha256(paths.encode()).hexdigest()[:16],
    )


def author_in_tree(tree: Any, metadata: Any) -> tuple[bool, str | None]:
    """``(True, text)``: what trafilatura's ``extract_metainfo(pruned copy of tree, AUTHOR_XPATHS, 120)``
    returns (``None`` for nothing), found without the copy; ``(False, None)`` when that cannot be told from
    ``tree`` (a first-XPath match with a ``rel`` child, a match with something pruned inside it, ``tree`` not
    its document's root).
    """
    if tree.getroottree().getroot() is not tree:
        return False, None
    scanned = author_scan(tree)
    if scanned is None:
        return False, None
    *matches, discard = scanned
    if not any(matches):
        return True, None
    # the copy's pruning, read off the original: prune_unwanted_nodes deletes (delete_element) every match of
    # AUTHOR_DISCARD_XPATHS that has a parent; the second XPath runs after the first's deletions, which only
    # hides matches inside subtrees that are deleted anyway
    pruned = {e for e in discard if e.getparent() is not None}
    around_pruned: set[Any] = set()  # proper ancestors of a pruned element: their text differs in the copy
    for elem in pruned:
        for ancestor in elem.iterancestors():
            if ancestor in around_pruned:
                break
            around_pruned.add(ancestor)
    for expression, results in zip(metadata.AUTHOR_XPATHS, matches, strict=True):
        kept = [e for e in results if e not in pruned and not any(a in pruned for a in e.iterancestors())]
        for elem in kept:  # the copy's results, in the same (document) order
            if elem in around_pruned:
                return False, None
            content = metadata.trim(" ".join(elem.itertext()))
            if content and 2 < len(content) < AUTHOR_LEN_LIMIT:
                return True, content
        if len(kept) > 1:
            metadata.LOGGER.debug("more than one invalid result: %s %s", expression, len(kept))
    return True, None


@contextmanager
def lean() -> Iterator[None]:
    """Within (this thread only): trafilatura skips readability where it cannot be chosen, leaves
    categories, tags and licence out of its metadata, finds the author without copying the page and leaves
    the result's plain text (``text``, ``raw_text``) empty."""
    before = getattr(_state, "lean", False)
    _state.lean = True
    try:
        yield
    finally:
        _state.lean = before


def _lean() -> bool:
    return getattr(_state, "lean", False)


def install() -> bool:
    """Wrap trafilatura's steps (see the module docstring); True when in place."""
    global _installed
    if _installed:
        return True
    try:
        from trafilatura import core, external, metadata
    except ImportError:  # pragma: no cover - trafilatura is a dependency
        return False
    original_compare = getattr(external, "compare_extraction", None)
    original_readability = getattr(external, "try_readability", None)
    empty = getattr(external, "HtmlElement", None)
    if (
        original_compare is None
        or original_readability is None
        or empty is None
        or getattr(core, "compare_extraction", None) is not original_compare
        or not hasattr(external, "_prefer_readability")
        or not callable(getattr(metadata, "extract_catstags", None))
        or not callable(getattr(metadata, "extract_license", None))
        or not callable(getattr(core, "xmltotxt", None))
    ):
        return False
    original_catstags, original_license = metadata.extract_catstags, metadata.extract_license
    original_author, original_xmltotxt = metadata.extract_author, core.xmltotxt
    try:
        author_as_proved = author_sources_digests(metadata) == (AUTHOR_SOURCE_DIGEST, AUTHOR_XPATHS_DIGEST)
    except (AttributeError, ImportError, OSError, TypeError):  # a trafilatura without these internals
        author_as_proved = False

    def extract_author(tree):
        if _lean():
            known, author = author_in_tree(tree, metadata)
            if known:
                return metadata.normalize_authors(None, author) if author else author
        return original_author(tree)

    def extract_catstags(metatype, tree):
        return [] if _lean() else original_catstags(metatype, tree)

    def extract_license(tree):
        return None if _lean() else original_license(tree)

    def xmltotxt(xmloutput, include_formatting):
        return "" if _lean() else original_xmltotxt(xmloutput, include_formatting)

    def try_readability(htmlinput):
        if getattr(_state, "skip", False):
            return empty()  # what try_readability returns when readability fails: never chosen
        return original_readability(htmlinput)

    def compare_extraction(cleaned_tree, raw_tree, body, text, options):
        if not _lean() or readability_could_win(raw_tree, body, len(text), options):
            return original_compare(cleaned_tree, raw_tree, body, text, options)
        _state.skip = True
        try:
            return original_compare(cleaned_tree, raw_tree, body, text, options)
        finally:
            _state.skip = False

    ORIGINAL.update(
        compare_extraction=original_compare,
        try_readability=original_readability,
        extract_catstags=original_catstags,
        extract_license=original_license,
        xmltotxt=original_xmltotxt,
    )
    external.try_readability = try_readability
    core.compare_extraction = compare_extraction
    metadata.extract_catstags = extract_catstags
    metadata.extract_license = extract_license
    core.xmltotxt = xmltotxt
    if author_as_proved:
        ORIGINAL["extract_author"] = original_author
        metadata.extract_author = extract_author
    _installed = True
    return True
