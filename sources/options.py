"""The options each reader kind accepts (the config's ``inputs[].options``), one pydantic model per kind.

This module is the declaration the config schema (``pipeline/config.py``) checks ``inputs[].options`` against:
an option no reader of that kind reads is refused with a "did you mean", a value of the wrong type is refused,
before anything runs. It imports no reader (a config loads without importing lxml, warcio, ...).

Adding an option to a reader: read it from the options mapping in the reader/extractor as before, and add ONE
field to that kind's model below (a shared group such as ``HtmlExtractOptions`` covers every kind that uses it).
``tests/sources/test_reader_options.py`` fails when a reader reads a key that no model declares.

A field left out of the config reaches the reader as absent (``dump_reader_options`` drops unset fields), so the
reader's own default applies; the defaults named in the descriptions are the readers' defaults.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from core.schema import SOURCES

SourceName = Literal[SOURCES]  # type: ignore[valid-type]


def _comma_list(value: Any) -> Any:
    """Readers accept a list or one comma-separated string (what ``inspect --option KEY=a,b`` gives)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


CommaList = Annotated[list[StrictStr], BeforeValidator(_comma_list)]
PositiveBytes = Annotated[StrictInt, Field(gt=0)]


class ReaderOptions(BaseModel):
    """Base of every kind's options: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class HtmlExtractOptions(ReaderOptions):
    """trafilatura settings of the HTML extractor (``sources/html.py``), for kinds whose records are HTML."""

    tables: Literal["markdown", "linearize", "drop"] | None = Field(
        None, description="tables of the page: Markdown tables (default), one line per row, or dropped"
    )
    include_comments: StrictBool | None = Field(None, description="keep user comments (default false)")
    include_tables: StrictBool | None = Field(
        None, description="false: same as `tables: drop` (older name); true: tables kept (default)"
    )
    favor_precision: StrictBool | None = Field(None, description="trafilatura: less noise (default false)")
    favor_recall: StrictBool | None = Field(None, description="trafilatura: more text (default false)")
    fallback: StrictBool | None = Field(
        None,
        description="trafilatura: compare with readability and jusText when its own extraction looks poor "
        "(default true; false is trafilatura's `fast` mode)",
    )


class UrlTagOptions(ReaderOptions):
    """Host lists that tag a page's source by its URL (``sources/web.py: classify_url, is_denied``)."""

    press_domains: CommaList | None = Field(
        None, description="hosts whose pages are `press` (default: the built-in wire services)"
    )
    news_domains: CommaList | None = Field(
        None, description="hosts whose pages are `news` (default: the built-in financial publishers)"
    )
    deny_domains: CommaList | None = Field(
        None, description="hosts whose pages are dropped as `url:denied_domain` (default: none)"
    )


class MaxDocBytesOptions(ReaderOptions):
    max_doc_bytes: PositiveBytes | None = Field(
        None, description="larger records go to errors/ as `too_large` (default: the reader's cap)"
    )


class EdgarOptions(MaxDocBytesOptions):
    """``edgar``: EDGAR full submissions and primary documents (``sources/edgar.py: EdgarOptions``)."""

    exhibits: Literal["press", "all", "none"] | None = Field(
        None, description="press (default): main document + EX-99.x; all: every text exhibit; none"
    )
    tables: Literal["markdown", "linearize", "drop", "drop_numeric"] | None = Field(
        None, description="markdown (default), linearize (keep every table as rows), drop, or drop_numeric"
    )
    split_items: StrictBool | None = Field(
        None, description="record 10-K/10-Q item offsets in metadata['items'] (default true)"
    )
    split_items_as_documents: StrictBool | None = Field(
        None, description="one document per 10-K/10-Q item (default false)"
    )


class WarcOptions(HtmlExtractOptions, UrlTagOptions, MaxDocBytesOptions):
    """``warc``: WARC/WET files (``sources/web.py: read_warc``)."""

    default_source: SourceName | None = Field(
        None, description="source of a page whose host is on no list (default web)"
    )


class RssOptions(HtmlExtractOptions, UrlTagOptions):
    """``rss``: RSS/Atom feed files (``sources/web.py: read_feed``)."""

    source: SourceName | None = Field(
        None, description="source of an entry whose host is on no list (default news)"
    )


class NewsCacheOptions(HtmlExtractOptions, UrlTagOptions, MaxDocBytesOptions):
    """``news_cache``: articles saved by ``fetch feeds`` (``sources/feeds_fetch.py: read_news_cache``)."""

    source: SourceName | None = Field(
        None, description="source of an article whose host is on no list (default news)"
    )


class RedditOptions(MaxDocBytesOptions):
    """``reddit``: Pushshift/Arctic-Shift dumps (``sources/social.py: read_reddit``)."""

    subreddits: CommaList | None = Field(
        None, description="allow-list (default: the built-in finance subreddits); '*' keeps every subreddit"
    )
    finance_subreddits: CommaList | None = Field(
        None,
        description="subreddits whose posts are financial by source; posts elsewhere are scored by the domain "
        "classifier (default: the built-in finance subreddits)",
    )
    min_score: int | float | None = Field(None, description="drop posts scored below this (default: off)")


class TweetsOptions(MaxDocBytesOptions):
    """``tweets``: tweet JSON lines or CSV (``sources/social.py: read_tweets``)."""

    min_words: Annotated[StrictInt, Field(ge=0)] | None = Field(
        None, description="fewer words besides cashtags/links/mentions: cashtag spam (default 3)"
    )
    text_column: StrictStr | None = Field(None, description="CSV column holding the text (default text)")
    id_column: StrictStr | None = Field(None, description="CSV column holding the id (default id)")


class StocktwitsOptions(MaxDocBytesOptions):
    """``stocktwits``: saved StockTwits ``streams/symbol`` responses (``sources/stocktwits.py``)."""

    min_words: Annotated[StrictInt, Field(ge=0)] | None = Field(
        None, description="fewer words besides cashtags/links/mentions: cashtag spam (default 3)"
    )


class WikipediaOptions(MaxDocBytesOptions):
    """``wikipedia``: MediaWiki XML dumps (``sources/general.py: read_wikipedia``)."""

    wiki_base_url: StrictStr | None = Field(
        None, description="base of article URLs (default: the dump's siteinfo, else English Wikipedia)"
    )
    xml_huge_tree: StrictBool | None = Field(
        None, description="lxml huge_tree for very large pages (default true)"
    )


class JsonlOptions(MaxDocBytesOptions):
    """``jsonl``: generic JSONL / JSONL.gz / Parquet (``sources/general.py: read_jsonl``)."""

    fields: dict[Literal["text", "id", "url", "date"], StrictStr] | None = Field(
        None,
        description="the file's field names (dotted for nested), default {text: text, id: id, url: url, "
        "date: timestamp}",
    )
    source: SourceName | None = Field(None, description="source of every record (default c4)")


class HtmlFileOptions(HtmlExtractOptions):
    """``html``: one saved web page per file (``sources/files.py: read_html_file``)."""

    source: SourceName | None = Field(None, description="source of the page (default web)")
    url: StrictStr | None = Field(None, description="URL of the page (default none)")


class TextFileOptions(ReaderOptions):
    """``text``: one plain-text document per file (``sources/files.py: read_text_file``)."""

    source: SourceName | None = Field(None, description="source of the document (default c4)")


class PubmedOptions(ReaderOptions):
    """``pubmed``: MEDLINE/PubMed citation XML (``sources/medical.py: read_pubmed``)."""


class PmcOptions(MaxDocBytesOptions):
    """``pmc``: PMC Open Access JATS articles (``sources/medical.py: read_pmc``)."""

    allowed_licenses: CommaList | None = Field(
        None, description="licence prefixes kept, e.g. [cc-by, cc0, public-domain] (default: every licence)"
    )


# kind -> options model; one entry per kind of ``sources.READERS`` (a test checks they agree).
READER_OPTIONS: dict[str, type[ReaderOptions]] = {
    "edgar": EdgarOptions,
    "warc": WarcOptions,
    "rss": RssOptions,
    "news_cache": NewsCacheOptions,
    "reddit": RedditOptions,
    "tweets": TweetsOptions,
    "stocktwits": StocktwitsOptions,
    "wikipedia": WikipediaOptions,
    "jsonl": JsonlOptions,
    "html": HtmlFileOptions,
    "text": TextFileOptions,
    "pubmed": PubmedOptions,
    "pmc": PmcOptions,
}


def dump_reader_options(options: ReaderOptions) -> dict[str, Any]:
    """The mapping a reader receives: only the options the config set (the reader's defaults apply otherwise)."""
    return options.model_dump(exclude_unset=True, exclude_none=True)
