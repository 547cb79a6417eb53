"""HTML to text: ``extract_html`` turns an ``html`` RawRecord (WARC body bytes or feed HTML) into a Document.

Decoding: a byte-order mark wins; bytes that are valid UTF-8 are UTF-8 (non-ASCII text in a legacy
charset is practically never valid UTF-8, while servers often send a stale ``iso-8859-1`` header for UTF-8
pages); otherwise the HTTP charset (``metadata["content_charset"]``), then ``<meta charset>`` / the XML
declaration, then charset_normalizer's detection. A declared charset is used only if the bytes decode with
it (allowing ``MAX_REPLACEMENT_RATIO`` bad bytes, e.g. a cut-off last character); labels are read the
WHATWG way (``iso-8859-1`` means windows-1252). Bytes nothing can decode raise ``RecordFailure("charset")``.

Extraction: trafilatura with ``deduplicate=False`` (its cache makes output depend on document order;
boilerplate repeated across pages is removed by the corpus-level dedup stage instead), comments off, tables
on. When trafilatura finds no main text the Document has empty text and the pipeline rejects it: no fallback
invents text from the page. HTML fragments (feed summaries, no ``<html>``/``<body>``) are wrapped in
``<article>`` first, because trafilatura discards a bare fragment however long it is.

Text: rendered by ``render_body`` from trafilatura's XML tree (not its plain-text output, which joins
paragraphs with single newlines), in the text shape of ``core.textshape``: one block per paragraph,
heading, list and table, blank lines between blocks, headings and list items on their own lines. Tables
follow the ``tables`` option: ``markdown`` (default; a caption becomes a line right above the table),
``linearize`` (one line per row) or ``drop`` (trafilatura then runs with ``include_tables=False``). A table
used for layout (one column or one row, or a cell holding a heading, list or table) is unwrapped: its cells'
text becomes ordinary paragraphs. The legacy option ``include_tables: false`` means ``tables: drop``.

Declared language: ``<html lang>`` (or ``xml:lang``), else ``<meta http-equiv="content-language">``, else
``og:locale``, read from the first ``LANG_SCAN_CHARS`` characters, becomes ``metadata["declared_lang"]``
(primary ISO 639 code), replacing one a reader set (a feed's ``<language>``). Language ID uses it as a prior.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import charset_normalizer
import trafilatura
from lxml import etree
from lxml import html as lxml_html

from core.errors import ConfigError, RecordFailure
from core.schema import Document, RawRecord, doc_id
from core.textshape import (
    DEFAULT_TABLE_MODE,
    TABLE_MODES,
    join_blocks,
    linearize_table,
    markdown_table,
    normalize_line,
    normalize_text,
)
from filters.language import normalize_language_tag
from sources import trafilatura_lean

trafilatura_lean.install()  # _extract skips work whose result we never use: same output, less CPU

EXTRACTOR = "trafilatura"
DEFAULT_EXTRACT_OPTIONS = {
    "include_comments": False,
    "tables": DEFAULT_TABLE_MODE,
    "favor_precision": False,
    "favor_recall": False,
    "fallback": True,
}
EXTRACT_OPTION_KEYS = (
    "include_comments",
    "include_tables",
    "tables",
    "favor_precision",
    "favor_recall",
    "fallback",
)

META_SCAN_BYTES = 8192  # the HTML spec prescans 1024 bytes; real pages put <meta charset> later
MAX_REPLACEMENT_RATIO = 0.001  # bad bytes tolerated under a declared or UTF-8 charset
META_CHARSET_RE = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
XML_ENCODING_RE = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
DOCUMENT_TAG_RE = re.compile(r"<(?:html|body|head)[\s>]", re.IGNORECASE)
LANG_SCAN_CHARS = 65536  # <html> and <head>; real pages put og:locale after kilobytes of scripts
HTML_LANG_RE = re.compile(r"""<html\b[^>]*?\s(?:xml:)?lang\s*=\s*["']?([A-Za-z0-9_-]+)""", re.IGNORECASE)
META_TAG_RE = re.compile(r"<meta\b[^>]*>", re.IGNORECASE)
META_ATTR_RE = re.compile(r"""([a-zA-Z:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# WHATWG Encoding Standard: these labels mean the superset encoding browsers actually use.
WHATWG_SUPERSETS = {
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso-8859-9": "cp1254",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "sjis": "cp932",
    "euc-kr": "cp949",
    "x-sjis": "cp932",
}


def _codec(label: str | None) -> list[str]:
    """Python codec names to try for a charset label, superset first; [] for an unknown label."""
    if not label:
        return []
    label = label.strip().strip("\"'").lower()
    names = [WHATWG_SUPERSETS[label]] if label in WHATWG_SUPERSETS else []
    names.append(label)
    found = []
    for name in names:
        try:
            found.append(codecs.lookup(name).name)
        except LookupError:
            continue
    return list(dict.fromkeys(found))


def _try_decode(content: bytes, codec: str) -> tuple[str, int] | None:
    """``(text, bad bytes)`` if ``content`` decodes under ``codec`` with at most MAX_REPLACEMENT_RATIO errors."""
    try:
        return content.decode(codec), 0
    except UnicodeDecodeError:
        pass
    except LookupError:
        return None
    text = content.decode(codec, errors="replace")
    bad = text.count("\ufffd")
    return (text, bad) if bad <= MAX_REPLACEMENT_RATIO * len(content) else None


def _declared_charsets(content: bytes, http_charset: str | None) -> list[tuple[str, str]]:
    """``(origin, codec)`` of the declared charsets in order of authority: HTTP header, then the page's
    XML declaration / ``<meta charset>``; UTF-8 (tolerating a few bad bytes) last."""
    candidates = [("http", c) for c in _codec(http_charset)]
    head = content[:META_SCAN_BYTES]
    for pattern in (XML_ENCODING_RE, META_CHARSET_RE):
        match = pattern.search(head)
        if match:
            candidates += [("meta", c) for c in _codec(match.group(1).decode("ascii", "replace"))]
    candidates.append(("utf8", "utf-8"))
    return candidates


def decode_html(content: bytes, http_charset: str | None = None) -> tuple[str, dict[str, str]]:
    """The page as text, and how it was decoded (``charset``, ``charset_source``, maybe ``charset_errors``).

    Raises ``RecordFailure("charset", ...)`` when no declared charset fits and detection finds none.
    """
    for bom, codec in BOMS:
        if content.startswith(bom):
            return content[len(bom) :].decode(codec, errors="replace"), {
                "charset": codec,
                "charset_source": "bom",
            }
    try:
        return content.decode("utf-8"), {"charset": "utf-8", "charset_source": "utf8"}
    except UnicodeDecodeError:
        pass
    for origin, codec in _declared_charsets(content, http_charset):
        decoded = _try_decode(content, codec)
        if decoded is not None:
            text, bad = decoded
            info = {"charset": codec, "charset_source": origin}
            if bad:
                info["charset_errors"] = str(bad)
            if codec in LATIN_CODECS and _looks_misdecoded(text):
                redetected = _redetect(content)
                if redetected is not None:
                    return redetected[0], {
                        "charset": redetected[1],
                        "charset_source": "detected",
                        "charset_declared": codec,
                    }
            return text, info
    best = charset_normalizer.from_bytes(content).best()
    if best is None or best.encoding is None:
        raise RecordFailure("charset", "no declared charset fits the bytes and charset detection found none")
    return str(best), {"charset": best.encoding, "charset_source": "detected"}


# Single-byte Latin charsets decode any byte, so a page in another script declared as one of them decodes
# "fine" into mojibake (cp1251 Russian declared iso-8859-1 reads "Öåíòðàëüíûé").
LATIN_CODECS = frozenset({"cp1252", "latin-1", "iso8859-1", "iso8859-15", "cp1254", "iso8859-9"})
MISDECODED_MIN_LETTERS = 40
MISDECODED_SHARE = 0.3  # French, German ...: a few % of letters are accented; mojibake: nearly all of them
_TAG_RE = re.compile(r"<[^>]*>|&[#\w]+;")


def _high_latin_share(text: str) -> tuple[float, int]:
    """Share of letters in U+00C0-U+00FF among the letters of the text outside tags; and how many letters."""
    visible = _TAG_RE.sub(" ", text[:200_000])
    letters = [ch for ch in visible if ch.isalpha()]
    if not letters:
        return 0.0, 0
    high = sum(1 for ch in letters if "\u00c0" <= ch <= "\u00ff")
    return high / len(letters), len(letters)


def _looks_misdecoded(text: str) -> bool:
    share, letters = _high_latin_share(text)
    return letters >= MISDECODED_MIN_LETTERS and share >= MISDECODED_SHARE


def _redetect(content: bytes) -> tuple[str, str] | None:
    """The text under the detected charset, if detection finds one whose text no longer looks misdecoded."""
    best = charset_normalizer.from_bytes(content).best()
    if best is None or best.encoding is None:
        return None
    text = str(best)
    if _high_latin_share(text)[0] >= MISDECODED_SHARE / 3:
        return None
    return text, best.encoding


def _as_document_html(text: str) -> tuple[str, bool]:
    """The HTML, wrapped in ``<html><body><article>`` if it is a fragment; and whether it was one."""
    if DOCUMENT_TAG_RE.search(text):
        return text, False
    return f"<html><body><article>{text}</article></body></html>", True


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "off")
    return bool(value)


def resolve_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The extraction settings for an input's options: defaults, ``include_tables`` folded into ``tables``,
    flags parsed from strings (``"false"``). Raises ``ConfigError`` for a bad ``tables`` value or for
    ``include_tables: false`` with a ``tables`` mode that keeps tables."""
    given = dict(options or {})
    settings = dict(DEFAULT_EXTRACT_OPTIONS)
    for key in ("include_comments", "favor_precision", "favor_recall", "fallback"):
        if key in given:
            settings[key] = _flag(given[key])
    tables = str(given.get("tables", "")).strip().lower()
    if tables and tables not in TABLE_MODES:
        raise ConfigError(f"tables={given['tables']!r} is not one of {', '.join(TABLE_MODES)}")
    if "include_tables" in given:
        include = _flag(given["include_tables"])
        if tables and (tables != "drop") == (not include):
            raise ConfigError(
                f"include_tables={given['include_tables']!r} contradicts tables={tables!r}; give only 'tables'"
            )
        tables = tables or ("markdown" if include else "drop")
    settings["tables"] = tables or DEFAULT_TABLE_MODE
    return settings


# -- rendering trafilatura's XML tree in the text shape ---------------------------------------------------

_CONTAINERS = frozenset({"body", "div", "doc", "main", "article", "section", "text", "done"})
_SKIP = frozenset({"graphic", "fw", "note"})
_BLOCK_IN_INLINE = frozenset({"p", "head", "quote", "list", "item", "table", "row", "cell", "code"})


def _inline(elem: etree._Element) -> str:
    """The text of an element and its children, ``<lb/>`` as a newline, block children set off by a space."""
    parts = [elem.text or ""]
    for child in elem:
        if not isinstance(child.tag, str) or child.tag in _SKIP or child.tag == "del":
            pass
        elif child.tag == "lb":
            parts.append("\n")
        else:
            text = _inline(child)
            if child.tag in _BLOCK_IN_INLINE and parts and not parts[-1][-1:].isspace():
                parts.append(" ")
            parts.append(text)
            if child.tag in _BLOCK_IN_INLINE:
                parts.append(" ")
        parts.append(child.tail or "")
    return "".join(parts)


def _paragraph(elem: etree._Element) -> str:
    return normalize_text(_inline(elem))


def _one_line(elem: etree._Element) -> str:
    return normalize_line(_inline(elem).replace("\n", " "))


def _list_lines(lst: etree._Element) -> list[str]:
    ordered = (lst.get("rend") or "").lower() in ("ol", "decimal", "numbered")
    lines: list[str] = []
    number = 0
    for item in lst:
        if item.tag != "item":
            if item.tag == "list":
                lines += _list_lines(item)
            continue
        number += 1
        nested = [c for c in item if c.tag == "list"]
        text = _one_line_without(item, nested)
        if text:
            lines.append(f"{number}. {text}" if ordered else f"- {text}")
        for sub in nested:
            lines += _list_lines(sub)
    return lines


def _one_line_without(elem: etree._Element, excluded: list[etree._Element]) -> str:
    if not excluded:
        return _one_line(elem)
    parts = [elem.text or ""]
    for child in elem:
        if child not in excluded:
            parts.append(" " + _inline(child) + " " if child.tag in _BLOCK_IN_INLINE else _inline(child))
        parts.append(child.tail or "")
    return normalize_line("".join(parts).replace("\n", " "))


def _is_layout_table(rows: list[list[etree._Element]]) -> bool:
    """A table used for page layout: fewer than two rows or columns with text, or structure (a heading,
    list or table) inside a cell."""
    filled = [[c for c in row if _one_line(c)] for row in rows]
    filled = [row for row in filled if row]
    if len(filled) < 2 or max(len(row) for row in filled) < 2:
        return True
    return any(
        c.find(".//head") is not None or c.find(".//list") is not None or c.find(".//table") is not None
        for row in rows
        for c in row
    )


def _table_blocks(table: etree._Element, mode: str) -> list[str]:
    rows = [[c for c in row if c.tag == "cell"] for row in table if row.tag == "row"]
    rows = [row for row in rows if row]
    caption = ""
    # trafilatura turns <caption> into a first row of one header cell padded with empty cells
    if len(rows) > 1 and len(rows[0]) > 1 and rows[0][0].get("role") == "head":
        if _one_line(rows[0][0]) and not any(_one_line(c) for c in rows[0][1:]):
            caption, rows = _one_line(rows[0][0]), rows[1:]
    if _is_layout_table(rows):  # unwrapped: its cells are ordinary blocks (nested tables follow ``mode``)
        blocks = [caption] if caption else []
        for row in rows:
            for cell in row:
                blocks += _blocks(cell, mode)
        return blocks
    if mode == "drop":
        return []
    cells = [[_one_line(c) for c in row] for row in rows]
    if mode == "linearize":
        header = any(c.get("role") == "head" for c in rows[0]) or not cells[0][0]
        body = linearize_table(cells, header=header)
    else:
        body = markdown_table(cells)
    return [caption + "\n" + body if caption and body else caption or body]


def _blocks(elem: etree._Element, mode: str) -> list[str]:
    """The blocks of a container: block children (paragraphs, headings, lists, tables) each one block,
    runs of loose text and inline children (``hi``, ``ref``, ``lb``) between them one paragraph."""
    blocks: list[str] = []
    loose: list[str] = [elem.text or ""]

    def flush() -> None:
        text = "".join(loose)
        if text and not text.isspace():  # mostly the whitespace between two block children: nothing to keep
            text = normalize_text(text)
            if text:
                blocks.append(text)
        loose.clear()

    for child in elem:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag in _CONTAINERS or tag in ("table", "list", "head", "p", "quote", "code"):
            flush()
            if tag in _CONTAINERS:
                blocks += _blocks(child, mode)
            elif tag == "table":
                blocks += _table_blocks(child, mode)
            elif tag == "list":
                blocks.append("\n".join(_list_lines(child)))
            elif tag == "head":
                blocks.append(_one_line(child))
            else:
                blocks.append(_paragraph(child))
        elif tag == "lb":
            loose.append("\n")
        elif tag and tag not in _SKIP and tag != "del":
            loose.append(_inline(child))
        loose.append(child.tail or "")
    flush()
    return [b for b in blocks if b]


def render_body(body: etree._Element | None, tables: str = DEFAULT_TABLE_MODE) -> str:
    """trafilatura's XML body (``bare_extraction(...).body``) as text in the text shape."""
    if body is None:
        return ""
    return normalize_text(join_blocks(_blocks(body, tables)))


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").removeprefix("www.")
    except ValueError:
        return ""


DATE_SEARCH = {"extensive_search": False, "original_date": True}


def _extract(html_text: str, url: str, settings: Mapping[str, Any]) -> Any:
    """trafilatura's result object (``body`` and metadata; its plain ``text`` is left empty, see
    ``trafilatura_lean``) or None when it finds no main text."""
    try:
        with trafilatura_lean.lean():  # no readability where it cannot win, nothing we do not keep
            return trafilatura.bare_extraction(
                html_text,
                url=url or None,
                with_metadata=True,
                deduplicate=False,
                include_comments=bool(settings["include_comments"]),
                include_tables=settings["tables"] != "drop",
                favor_precision=bool(settings["favor_precision"]),
                favor_recall=bool(settings["favor_recall"]),
                fast=not settings["fallback"],
                # htmldate's extensive search falls back to dateparser over every locale: ~1.9 s on a page without
                # a machine-readable date (benchmarks/README.md); the fast search still dated 144 of 150 pages.
                date_extraction_params=DATE_SEARCH,
            )
    except (ValueError, TypeError, etree.LxmlError) as exc:
        raise RecordFailure("html_parse", f"trafilatura could not parse the page: {exc}") from exc


def _check_parse_limits(html_text: str) -> None:
    """Raise ``RecordFailure("html_parse")`` when libxml2 stopped parsing the page at one of its resource limits
    (e.g. more than 256 nested elements): the empty text is then a parse failure, not an empty page."""
    parser = lxml_html.HTMLParser()
    try:
        lxml_html.document_fromstring(html_text, parser=parser)
    except (ValueError, etree.LxmlError):
        return  # an empty or unparsable document: trafilatura's verdict (no text) stands
    for entry in parser.error_log:
        if entry.type_name == "ERR_RESOURCE_LIMIT":
            raise RecordFailure(
                "html_parse", f"the HTML parser stopped at line {entry.line}: {entry.message}"
            )


_LINK_TAG = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
_REL_CANONICAL = re.compile(r"""\brel\s*=\s*["']?\s*canonical\b""", re.IGNORECASE)
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)


def canonical_url(html_text: str, url: str) -> str:
    """The page's ``<link rel="canonical">`` when it names another page than ``url`` (a syndicated copy,
    e.g. Yahoo Finance republishing Reuters); ``""`` otherwise. Dedup prefers the canonical page's copy.

    Only the ``<head>`` is searched (the first 256 KB when there is no ``</head>``); a relative href is
    resolved against ``url``.
    """
    from urllib.parse import urljoin

    from sources.web import normalize_url  # sources.web pulls in warcio and feedparser; only needed here

    end = html_text.find("</head")
    head = html_text[: end if end >= 0 else 256 * 1024]
    for tag in _LINK_TAG.findall(head):
        if not _REL_CANONICAL.search(tag):
            continue
        href = _HREF.search(tag)
        declared = next((g for g in href.groups() if g), "").strip() if href else ""
        if not declared:
            return ""
        declared = urljoin(url, declared) if url else declared
        if "://" not in declared or not url:
            return ""
        return declared if normalize_url(declared) != normalize_url(url) else ""
    return ""


def declared_language(html_text: str) -> str:
    """The page's declared language as a primary ISO 639 code (``"de"``), or ``""`` (see the module docstring)."""
    head = html_text[:LANG_SCAN_CHARS]
    match = HTML_LANG_RE.search(head)
    if match and (code := normalize_language_tag(match.group(1))):
        return code
    found: dict[str, str] = {}
    for tag in META_TAG_RE.findall(head):
        attrs = {
            k.lower(): next(v for v in values if v) for k, *values in META_ATTR_RE.findall(tag) if any(values)
        }
        key = (attrs.get("http-equiv") or attrs.get("property") or attrs.get("name") or "").lower()
        if key in ("content-language", "og:locale", "language") and attrs.get("content"):
            found.setdefault(key, attrs["content"].split(",")[0])
    for key in ("content-language", "language", "og:locale"):
        if code := normalize_language_tag(found.get(key)):
            return code
    return ""


def extract_html(raw: RawRecord, options: Mapping[str, Any] | None = None) -> Document:
    """The Document for an ``html`` RawRecord.

    options: ``tables`` (``markdown`` | ``linearize`` | ``drop``), ``include_comments``, ``include_tables``
    (legacy: false means ``tables: drop``), ``favor_precision``, ``favor_recall`` (trafilatura; defaults
    ``DEFAULT_EXTRACT_OPTIONS``). Other keys (reader options of the same input) are ignored. Document
    metadata: the record's metadata plus ``extractor``, ``charset``/``charset_source`` (bytes input),
    ``author``, ``sitename``, ``host``, ``declared_lang``, ``canonical_url`` (when the page declares another
    page as its canonical one: a syndicated copy).
    """
    settings = resolve_options({k: v for k, v in (options or {}).items() if k in EXTRACT_OPTION_KEYS})
    metadata = dict(raw.metadata)
    metadata["extractor"] = EXTRACTOR
    if isinstance(raw.content, bytes):
        html_text, charset_info = decode_html(raw.content, raw.metadata.get("content_charset"))
        metadata.update(charset_info)
    else:
        html_text = raw.content
    if declared := declared_language(html_text):
        metadata["declared_lang"] = declared
    html_text, fragment = _as_document_html(html_text)
    if fragment:
        metadata["html_fragment"] = "true"
    result = _extract(html_text, raw.url, settings) if html_text.strip() else None
    text = render_body(result.body, settings["tables"]) if result is not None else ""
    if not text and html_text.strip():
        _check_parse_limits(html_text)
    for key in ("author", "sitename"):
        value = getattr(result, key, None) if result is not None else None
        if value:
            metadata[key] = str(value)
    metadata["host"] = metadata.get("host") or _host(raw.url)
    canonical = canonical_url(html_text, raw.url)
    if canonical:
        metadata["canonical_url"] = canonical
    title = (getattr(result, "title", None) or "") if result is not None else ""
    date = (getattr(result, "date", None) or "") if result is not None else ""
    return Document(
        id=doc_id(raw.source, raw.id),
        text=text,
        source=raw.source,  # its domain is the profile's choice, set by Extract from the source
        url=raw.url,
        title=title or raw.metadata.get("title", ""),
        date=str(date)[:10] or raw.metadata.get("published", "")[:10],
        n_chars=len(text),
        metadata=metadata,
    )
