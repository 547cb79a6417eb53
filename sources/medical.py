"""Medical sources: PubMed/MEDLINE citation XML and PubMed Central Open Access (JATS) articles.

- ``read_pubmed``: MEDLINE/PubMed baseline and update files, both layouts (``MedlineCitationSet`` of
  ``MedlineCitation``, as in the 2016 and earlier files, and ``PubmedArticleSet`` of ``PubmedArticle`` =
  ``MedlineCitation`` + ``PubmedData``), ``.xml`` or ``.xml.gz``, streamed citation by citation. One document
  per citation: the title, then the abstract; a structured abstract keeps its section labels (``PURPOSE``,
  ``METHODS`` ...) as headings on their own lines. Metadata: ``pmid``, ``journal``, ``year``, ``mesh``
  (descriptor names joined by ``; ``), ``publication_types``, ``doi``, ``pmcid`` (when the file gives them),
  ``article_language`` and ``declared_lang`` (ISO 639-1, for the language gate). Citations without an abstract
  are counted as skipped (``pubmed:no_abstract``), as are ``DeleteCitation`` entries of update files
  (``pubmed:deleted``). Retractions and errata are read and routed to rejected/ by publication type
  (``pubmed:retracted`` for "Retracted Publication" / "Retraction of Publication" / "Retraction Notice",
  ``pubmed:erratum`` for "Published Erratum"): their text is a notice, or withdrawn science.
- ``read_pmc``: one JATS article per file (``.nxml``, ``.xml``, optionally ``.gz``), as in PMC's OA packages.
  The text: title, abstract (with its section titles), body sections with their headings, tables as Markdown
  (label and caption right above), figure captions; references, author lists, affiliations, formulas and
  citation markers are dropped. Metadata: ``pmcid``, ``pmid``, ``doi``, ``journal``, ``year``,
  ``article_type``, ``license`` (the licence URL or type; ``unknown`` when the article states none). Option
  ``allowed_licenses``: a list of licence prefixes (e.g. ``[cc-by, cc0, public-domain]``, matched against the
  licence URL's ``licenses/<name>`` part or the licence type); an article outside it is rejected with
  ``pmc:license`` (a corpus that will be shared may only take what its licence allows). Default: every licence.

Both produce text in the project's one shape (DESIGN.md): paragraphs separated by a blank line, headings on
their own lines. The XML is parsed with entities unresolved and no network or DTD loading.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from lxml import etree

from core.schema import RawRecord, RecordError
from core.textshape import clean_rows, markdown_table
from sources import note_skipped  # skipped records are counted per file by pipeline.stages.read
from sources.general import DECOMPRESSION_ERRORS, open_decompressed, stream_error

PUBMED_SOURCE = "pubmed"
PMC_SOURCE = "pmc"
PUBMED_URL = "https://pubmed.ncbi.nlm.nih.gov/{}/"
PMC_URL = "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC{}/"
DEFAULT_MAX_DOC_BYTES = 20 * 1024 * 1024

RETRACTION_TYPES = frozenset({"retracted publication", "retraction of publication", "retraction notice"})
ERRATUM_TYPES = frozenset({"published erratum"})
# MEDLINE gives the article language as ISO 639-2 (``eng``); the language gate reads ISO 639-1.
ISO639_2_TO_1 = {
    "eng": "en", "ger": "de", "deu": "de", "fre": "fr", "fra": "fr", "spa": "es", "ita": "it", "por": "pt",
    "rus": "ru", "jpn": "ja", "chi": "zh", "zho": "zh", "pol": "pl", "dut": "nl", "nld": "nl", "swe": "sv",
    "dan": "da", "nor": "no", "fin": "fi", "cze": "cs", "ces": "cs", "hun": "hu", "tur": "tr", "kor": "ko",
    "gre": "el", "ell": "el", "heb": "he", "ara": "ar", "per": "fa", "fas": "fa", "ukr": "uk", "rum": "ro",
}  # fmt: skip

_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
# What is left of a citation marker once its <xref> is gone: "[]", "[, ]", "(; )", "[–]".
_EMPTY_BRACKETS = re.compile(r"\s?[\[(][\s,;–\-]*[\])]")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])")


def _parser_kwargs() -> dict[str, Any]:
    return {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": True}


def _local(elem: Any) -> str:
    tag = elem.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _clean(text: str) -> str:
    """One paragraph: whitespace runs to one space, citation leftovers and spaces before punctuation gone."""
    text = _SPACES.sub(" ", text.replace("\n", " "))
    text = _EMPTY_BRACKETS.sub("", text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    return text.strip()


def _text(elem: Any | None) -> str:
    return _clean("".join(elem.itertext())) if elem is not None else ""


def _join_blocks(blocks: list[str]) -> str:
    return "\n\n".join(b for b in (b.strip() for b in blocks) if b)


# --------------------------------------------------------------------------------------------------
# PubMed / MEDLINE
# --------------------------------------------------------------------------------------------------


def _pub_year(article: Any) -> str:
    date = article.find("Journal/JournalIssue/PubDate")
    if date is None:
        return ""
    year = date.findtext("Year") or ""
    if not year:  # <MedlineDate>1998 Dec-1999 Jan</MedlineDate>
        match = re.search(r"\b(1[89]\d\d|20\d\d)\b", date.findtext("MedlineDate") or "")
        year = match.group(1) if match else ""
    return year.strip()


def medline_citation(citation: Any, pubmed_data: Any | None = None) -> tuple[dict[str, str], str] | str:
    """``(metadata, text)`` for one ``MedlineCitation`` element, or a skip reason (``no_abstract``, ...)."""
    pmid = (citation.findtext("PMID") or "").strip()
    article = citation.find("Article")
    if not pmid or article is None:
        return "no_article"
    title = _text(article.find("ArticleTitle")) or _text(article.find("VernacularTitle"))
    abstract = article.find("Abstract")
    parts = [p for p in (abstract.findall("AbstractText") if abstract is not None else []) if _text(p)]
    if not parts:
        return "no_abstract"
    blocks = [title]
    for part in parts:
        label = (part.get("Label") or "").strip()
        if label and label.upper() != "UNLABELLED":
            blocks.append(label)
        blocks.append(_text(part))
    copyright_ = abstract.findtext("CopyrightInformation") if abstract is not None else None
    meta: dict[str, str] = {"pmid": pmid}
    journal = (article.findtext("Journal/Title") or article.findtext("Journal/ISOAbbreviation") or "").strip()
    if journal:
        meta["journal"] = journal
    year = _pub_year(article)
    if year:
        meta["year"] = year
    mesh = [d.text.strip() for d in citation.iterfind("MeshHeadingList/MeshHeading/DescriptorName") if d.text]
    if mesh:
        meta["mesh"] = "; ".join(mesh)
    types = [t.text.strip() for t in article.iterfind("PublicationTypeList/PublicationType") if t.text]
    if types:
        meta["publication_types"] = "; ".join(types)
    language = (article.findtext("Language") or "").strip().lower()
    if language:
        meta["article_language"] = language
        if language in ISO639_2_TO_1:
            meta["declared_lang"] = ISO639_2_TO_1[language]
    for loc in article.iterfind("ELocationID"):
        if loc.get("EIdType") == "doi" and loc.text:
            meta["doi"] = loc.text.strip()
    if pubmed_data is not None:
        for aid in pubmed_data.iterfind("ArticleIdList/ArticleId"):
            kind, value = aid.get("IdType"), (aid.text or "").strip()
            if kind == "doi" and value:
                meta.setdefault("doi", value)
            elif kind == "pmc" and value:
                meta["pmcid"] = value
    created = citation.find("DateCreated")
    if created is None:
        created = citation.find("DateCompleted")
    if created is not None and created.findtext("Year"):
        meta["date_created"] = "-".join(
            (created.findtext(k) or "01").strip().zfill(2 if k != "Year" else 4)
            for k in ("Year", "Month", "Day")
        )
    lowered = {t.lower() for t in types}
    if lowered & RETRACTION_TYPES:
        meta["drop_reason"] = "pubmed:retracted"
    elif lowered & ERRATUM_TYPES:
        meta["drop_reason"] = "pubmed:erratum"
    if copyright_:
        meta["copyright"] = _clean(copyright_)
    if title:
        meta["title"] = title
    return meta, _join_blocks(blocks)


def _release(elem: Any) -> None:
    elem.clear(keep_tail=False)
    parent = elem.getparent()
    while parent is not None and elem.getprevious() is not None:
        del parent[0]


def read_pubmed(path: str, stream: BinaryIO, options: Mapping[str, Any]) -> Iterator[RawRecord | RecordError]:
    """Citations of a MEDLINE/PubMed XML file (``.xml``/``.xml.gz``): one text RawRecord per citation with an
    abstract (see the module docstring for skips, retractions and metadata)."""
    citations = 0
    events = etree.iterparse(
        open_decompressed(path, stream), events=("end",), tag=("{*}MedlineCitation", "{*}PubmedArticle",
                                                               "{*}DeleteCitation", "{*}PubmedBookArticle"),
        **_parser_kwargs(),
    )  # fmt: skip
    try:
        for _, elem in events:
            name = _local(elem)
            parent = elem.getparent()
            if name == "MedlineCitation" and parent is not None and _local(parent) == "PubmedArticle":
                continue  # handled with its PubmedData when the PubmedArticle ends
            if name == "DeleteCitation":
                note_skipped(PUBMED_SOURCE, "pubmed:deleted", len(elem.findall("PMID")))
                _release(elem)
                continue
            if name == "PubmedBookArticle":
                note_skipped(PUBMED_SOURCE, "pubmed:book")
                _release(elem)
                continue
            citations += 1
            if name == "PubmedArticle":
                citation, data = elem.find("MedlineCitation"), elem.find("PubmedData")
            else:
                citation, data = elem, None
            result = medline_citation(citation, data) if citation is not None else "no_article"
            _release(elem)
            if isinstance(result, str):
                note_skipped(PUBMED_SOURCE, f"pubmed:{result}")
                continue
            meta, text = result
            meta["medline_file"] = path.rsplit("/", 1)[-1]
            yield RawRecord(
                source=PUBMED_SOURCE,
                id=meta["pmid"],
                url=PUBMED_URL.format(meta["pmid"]),
                content=text,
                content_type="text",
                metadata={**meta, "date": meta.get("year", "")},
            )
    except etree.XMLSyntaxError as exc:
        kind = "truncated" if "Premature end" in str(exc) or "EndTag" in str(exc) else "xml_syntax"
        yield RecordError(
            source=PUBMED_SOURCE, stage="read", kind=kind, id=f"citation:{citations + 1}", path=path,
            message=f"XML stopped parsing after {citations} citations, the rest of the file is lost: {exc}",
        )  # fmt: skip
    except DECOMPRESSION_ERRORS as exc:
        yield stream_error(PUBMED_SOURCE, path, exc, f"citation:{citations + 1}")


# --------------------------------------------------------------------------------------------------
# PubMed Central (JATS)
# --------------------------------------------------------------------------------------------------

# Elements whose content is not running text (dropped with everything inside).
_JATS_DROP = frozenset(
    {
        "ref-list", "contrib-group", "aff", "author-notes", "fn-group", "xref", "disp-formula",
        "inline-formula", "graphic", "inline-graphic", "media", "supplementary-material", "object-id",
        "alternatives", "tex-math", "math", "permissions", "table-wrap-foot", "ack", "glossary", "app-group",
        "notes", "funding-group", "counts", "custom-meta-group", "kwd-group", "history",
    }
)  # fmt: skip


def _cell_text(cell: Any) -> str:
    return _clean(" ".join(cell.itertext()))


def table_to_markdown(table: Any) -> str:
    """A JATS/HTML ``<table>`` as a Markdown table: header from ``thead`` (else the first row), ``colspan``
    cells repeated empty, several header rows merged column by column; rendered by the text shape's
    ``markdown_table`` (rows padded, empty columns removed, numeric columns right-aligned)."""
    rows: list[list[str]] = []
    header_rows = 0
    for section in ("thead", "tbody", "tfoot", None):
        trs = table.findall(f"{section}/tr") if section else table.findall("tr")
        for tr in trs:
            cells: list[str] = []
            for cell in tr:
                if _local(cell) not in ("td", "th"):
                    continue
                cells.append(_cell_text(cell))
                try:
                    span = int(cell.get("colspan") or 1)
                except ValueError:
                    span = 1
                cells.extend([""] * (max(span, 1) - 1))
            if any(cells):
                rows.append(cells)
                if section == "thead":
                    header_rows += 1
    rows = clean_rows(rows)
    if header_rows > 1:  # several header rows: one header line, the rest joined column by column
        merged = [" ".join(p for p in col if p) for col in zip(*rows[:header_rows], strict=True)]
        rows = [merged, *rows[header_rows:]]
    return markdown_table(rows)


def _caption(elem: Any) -> str:
    label = _text(elem.find("label"))
    caption = elem.find("caption")
    parts = []
    if caption is not None:
        title = _text(caption.find("title"))
        paras = [_text(p) for p in caption.findall("p")]
        parts = [t for t in (title, *paras) if t]
        if not parts:
            parts = [_text(caption)]
    text = " ".join(p if p.endswith((".", ":", "?", "!")) else p + "." for p in parts if p).strip()
    if label:
        text = f"{label.rstrip('.:')}. {text}".strip()
    return text


def _jats_blocks(elem: Any, blocks: list[str], level: int = 0) -> None:
    """Append the text blocks of a JATS section-like element (sec, abstract, body, boxed-text) in order."""
    for child in elem:
        name = _local(child)
        if not name or name in _JATS_DROP:
            continue
        if name == "title":
            title = _text(child)
            if title:
                blocks.append(title)
        elif name == "sec" or name == "boxed-text":
            _jats_blocks(child, blocks, level + 1)
        elif name == "p":
            # a table, figure or list inside a paragraph is its own block after the paragraph's text
            inner = [c for c in child if _local(c) in _BLOCKS_IN_P]
            text = _strip_dropped_text(child, _BLOCKS_IN_P)
            if text:
                blocks.append(text)
            for c in inner:
                _jats_blocks_one(c, blocks, level)
        else:
            _jats_blocks_one(child, blocks, level)


def _jats_blocks_one(child: Any, blocks: list[str], level: int) -> None:
    name = _local(child)
    if name == "table-wrap":
        caption = _caption(child)
        tables = [table_to_markdown(t) for t in child.iter("{*}table", "table")]
        tables = [t for t in tables if t]
        if tables:  # a caption without its table would be an orphan
            if caption:
                blocks.append(caption)
            blocks.extend(tables)
    elif name == "fig":
        caption = _caption(child)
        if caption:
            blocks.append(caption)
    elif name == "list":
        for item in child.iterfind("list-item"):
            text = _strip_dropped_text(item)
            if text:
                blocks.append(f"- {text}")
    elif name in ("disp-quote", "statement", "def-list", "verse-group", "speech"):
        text = _strip_dropped_text(child)
        if text:
            blocks.append(text)
    elif name in ("sec", "boxed-text"):
        _jats_blocks(child, blocks, level + 1)


_BLOCKS_IN_P = frozenset({"table-wrap", "fig", "list"})


def _strip_dropped_text(elem: Any, skip: frozenset[str] = frozenset()) -> str:
    """The running text of an element without the content of dropped inline elements (xref, formulas) and
    of ``skip`` elements (their tails, the text after them, are kept)."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if node.text and _local(node) not in _JATS_DROP:
            parts.append(node.text)
        for c in node:
            if _local(c) not in _JATS_DROP and _local(c) not in skip:
                walk(c)
            if c.tail:
                parts.append(c.tail)

    walk(elem)
    return _clean("".join(parts))


def _license(meta_elem: Any) -> str:
    lic = meta_elem.find(".//permissions/license")
    if lic is None:
        return "unknown"
    href = next((v for k, v in lic.attrib.items() if k.endswith("href")), "") or ""
    return href.strip() or (lic.get("license-type") or "").strip() or "unknown"


def license_allowed(license_: str, allowed: list[str] | None) -> bool:
    """Whether a licence (URL or type) matches one of the ``allowed`` prefixes (``None``: everything).

    ``http://creativecommons.org/licenses/by/2.0`` is ``cc-by``; ``.../by-nc-sa/3.0`` is ``cc-by-nc-sa``;
    ``.../publicdomain/zero/1.0`` is ``cc0``; ``.../publicdomain/mark/1.0`` and the type ``public-domain`` are
    ``public-domain``; anything else is compared as given (lower-case)."""
    if allowed is None:
        return True
    lowered = license_.lower()
    match = re.search(r"creativecommons\.org/licenses/([a-z-]+)", lowered)
    if match:
        name = f"cc-{match.group(1)}"
    elif "publicdomain/zero" in lowered:
        name = "cc0"
    elif "publicdomain" in lowered or lowered == "public-domain":
        name = "public-domain"
    else:
        name = lowered
    return any(name == a.lower() or name.startswith(a.lower() + "-") for a in allowed)


def jats_article(root: Any) -> tuple[dict[str, str], str]:
    """``(metadata, text)`` of one JATS ``<article>`` element."""
    front = root.find("front")
    meta_elem = front.find("article-meta") if front is not None else None
    meta: dict[str, str] = {}
    if root.get("article-type"):
        meta["article_type"] = root.get("article-type")
    if front is not None:
        journal = front.findtext("journal-meta/journal-title-group/journal-title") or front.findtext(
            "journal-meta/journal-title"
        )
        if journal:
            meta["journal"] = _clean(journal)
    blocks: list[str] = []
    if meta_elem is not None:
        for aid in meta_elem.iterfind("article-id"):
            kind, value = aid.get("pub-id-type"), (aid.text or "").strip()
            if kind in ("pmc", "pmcid") and value:
                meta["pmcid"] = value.removeprefix("PMC")
            elif kind == "pmid" and value:
                meta["pmid"] = value
            elif kind == "doi" and value:
                meta["doi"] = value
        years = [d.findtext("year") for d in meta_elem.iterfind("pub-date") if d.findtext("year")]
        if years:
            meta["year"] = min(y.strip() for y in years)
        meta["license"] = _license(meta_elem)
        title = _text(meta_elem.find("title-group/article-title"))
        if title:
            meta["title"] = title
            blocks.append(title)
        for abstract in meta_elem.iterfind("abstract"):
            if abstract.get("abstract-type") in ("graphical", "teaser", "toc"):
                continue
            before = len(blocks)
            _jats_blocks(abstract, blocks)
            if len(blocks) > before and abstract.find("title") is None:
                blocks.insert(before, "Abstract")
    body = root.find("body")
    if body is not None:
        _jats_blocks(body, blocks)
    for floats in root.iterfind("floats-group"):
        _jats_blocks(floats, blocks)
    lang = (root.get("{http://www.w3.org/XML/1998/namespace}lang") or "").lower()
    if lang:
        meta["declared_lang"] = lang.split("-")[0]
    return meta, _join_blocks(blocks)


def read_pmc(path: str, stream: BinaryIO, options: Mapping[str, Any]) -> Iterator[RawRecord | RecordError]:
    """One PMC Open Access JATS article (``.nxml``/``.xml``, optionally ``.gz``) as one text RawRecord.

    options: ``allowed_licenses`` (see the module docstring), ``max_doc_bytes`` (default 20 MB).
    """
    max_bytes = int(options.get("max_doc_bytes") or DEFAULT_MAX_DOC_BYTES)
    allowed = options.get("allowed_licenses")
    allowed_list = [str(a) for a in allowed] if allowed else None
    try:
        data = open_decompressed(path, stream).read(max_bytes + 1)
    except DECOMPRESSION_ERRORS as exc:
        yield stream_error(PMC_SOURCE, path, exc, "article")
        return
    if len(data) > max_bytes:
        yield RecordError(
            PMC_SOURCE, "read", "too_large", f"article larger than {max_bytes} bytes", path, path
        )
        return
    try:
        root = etree.fromstring(data, etree.XMLParser(recover=False, **_parser_kwargs()))
    except etree.XMLSyntaxError as exc:
        yield RecordError(
            PMC_SOURCE, "read", "xml_syntax", f"not a well-formed JATS article: {exc}", path, path
        )
        return
    if _local(root) != "article":
        articles = [a for a in root.iter("{*}article", "article")]
        if not articles:
            yield RecordError(
                PMC_SOURCE, "read", "not_jats",
                f"root element <{_local(root)}> is not a JATS <article> (is it a PMC .nxml file?)", path, path,
            )  # fmt: skip
            return
        root = articles[0]
    meta, text = jats_article(root)
    native = meta.get("pmcid") or meta.get("doi") or path.rsplit("/", 1)[-1]
    if not license_allowed(meta.get("license", "unknown"), allowed_list):
        meta["drop_reason"] = "pmc:license"
    url = PMC_URL.format(meta["pmcid"]) if meta.get("pmcid") else (f"https://doi.org/{meta['doi']}" if
                                                                    meta.get("doi") else "")  # fmt: skip
    yield RawRecord(
        source=PMC_SOURCE,
        id=native,
        url=url,
        content=text,
        content_type="text",
        metadata={**meta, "date": meta.get("year", ""), "pmc_file": path.rsplit("/", 1)[-1]},
    )
