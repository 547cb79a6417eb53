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

3. The copy of the whole page that ``extract_author`` prunes (``deepcopy`` of the tree, then deleting what
   ``AUTHOR_DISCARD_XPATHS`` matches: comments, sidebars, ``time``, ``figure`` ...) before it looks for a
   byline with ``AUTHOR_XPATHS`` (~10% of trafilatura's time on the benchmark mix's pages). Every predicate
   of ``AUTHOR_XPATHS`` tests only the element's own name and attributes, but ``rel='me'`` (the string value
   of a child element named ``rel``, which pruning inside it can change), and has no positional predicate; so
   on a page without a ``rel`` element the copy's matches are exactly the original's matches outside the
   pruned subtrees, in the same order. A match with nothing pruned inside it has the same text in the copy
   (pruning moves a deleted element's tail to its previous sibling or parent, both outside the match). So
   ``author_in_tree`` walks the original's matches: a pruned one is passed over, one with something pruned
   inside it makes it give up (trafilatura's own function then runs), otherwise the first whose text fits
   is the author, as in the copy; no match at all (most pages) costs three XPath searches.

``install()`` wraps ``trafilatura.core.compare_extraction``, ``trafilatura.external.try_readability``,
``trafilatura.metadata.extract_catstags``, ``extract_license`` and ``extract_author`` once per process; it
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
_REL_ELEMENT = etree.XPath("boolean(//rel)")


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
    ``tree`` (a ``rel`` element, a match with something pruned inside it, ``tree`` not its document's root).
    """
    if tree.getroottree().getroot() is not tree or _REL_ELEMENT(tree):
        return False, None
    matches = [expression(tree) for expression in metadata.AUTHOR_XPATHS]
    if not any(matches):
        return True, None
    # the copy's pruning, read off the original: prune_unwanted_nodes deletes (delete_element) every match of
    # AUTHOR_DISCARD_XPATHS that has a parent; the second XPath runs after the first's deletions, which only
    # hides matches inside subtrees that are deleted anyway
    pruned = {e for x in metadata.AUTHOR_DISCARD_XPATHS for e in x(tree) if e.getparent() is not None}
    around_pruned = set()  # proper ancestors of a pruned element: their text differs in the copy
    for elem in pruned:
        for ancestor in elem.iterancestors():
            if ancestor in around_pruned:
                break
            around_pruned.add(ancestor)
    for expression, results in zip(metadata.AUTHOR_XPATHS, matches, strict=True):
        kept = [
            e for e in results if e not in pruned and not any(a in pruned for a in e.iterancestors())
        ]  # the copy's results
        for elem in kept:
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
    """Within (this thread only): trafilatura skips readability where it cannot be chosen and leaves
    categories, tags and licence out of its metadata."""
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
    ):
        return False
    original_catstags, original_license = metadata.extract_catstags, metadata.extract_license
    original_author = metadata.extract_author
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
    )
    external.try_readability = try_readability
    core.compare_extraction = compare_extraction
    metadata.extract_catstags = extract_catstags
    metadata.extract_license = extract_license
    if author_as_proved:
        ORIGINAL["extract_author"] = original_author
        metadata.extract_author = extract_author
    _installed = True
    return True
