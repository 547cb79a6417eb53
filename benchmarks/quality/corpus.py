"""The real documents of ``../shared/data`` as ``Document``s, extracted by the project's own sources.

Used by the quality benchmark (``bench.py``) and the parity test (``tests/filters/test_quality_parity.py``):

- ``web``: every page in ``web/html`` (trafilatura, ``sources.html.extract_html``);
- ``filings``/``press``: every EDGAR file in ``edgar/{10-K,10-Q,8-K,full-submission}`` (``read_records``
  + ``extract_filing``; EX-99 exhibits come out as ``press``);
- ``wikipedia``: the articles of the shortened enwiki dump (``sources.general``), the first ``wiki_limit``;
- ``social``: the tweets (``sources.social.read_tweets``: the CSV and the raw stocknet JSONL files).

Empty extractions are skipped (the pipeline rejects them before the quality stage).
"""

from __future__ import annotations

import io
from pathlib import Path

from core.schema import Document, RawRecord
from pipeline.stages.extract import extract_plain

EDGAR_FOLDERS = ("10-K", "10-Q", "8-K", "full-submission")
WIKI_DUMP = "general/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.xml.bz2"


def web_documents(data: Path) -> list[Document]:
    """Every HTML page in ``web/html``, extracted with trafilatura, as source ``web``."""
    from sources.html import extract_html

    docs = []
    for path in sorted((data / "web" / "html").glob("*.html")):
        raw = RawRecord(
            source="web",
            id=path.name,
            url=f"https://{path.stem}/",
            content=path.read_bytes(),
            content_type="html",
        )
        docs.append(extract_html(raw))
    return docs


def edgar_documents(data: Path) -> list[Document]:
    """Every document of every real EDGAR file (main documents ``filings``, EX-99 exhibits ``press``)."""
    from sources.edgar import extract_filing, read_records

    docs = []
    for folder in EDGAR_FOLDERS:
        for path in sorted((data / "edgar" / folder).iterdir()):
            for record in read_records(str(path), io.BytesIO(path.read_bytes()), {}):
                if isinstance(record, RawRecord):
                    docs.append(extract_filing(record))
    return docs


def wikipedia_documents(data: Path, limit: int | None = None) -> list[Document]:
    """The first ``limit`` articles of the shortened English Wikipedia dump."""
    from sources.general import extract_wikitext, read_wikipedia

    path = data / WIKI_DUMP
    docs = []
    with path.open("rb") as stream:
        for record in read_wikipedia(str(path), stream, {}):
            if isinstance(record, RawRecord):
                docs.append(extract_wikitext(record))
                if limit is not None and len(docs) >= limit:
                    break
    return docs


def tweet_documents(data: Path) -> list[Document]:
    """Every tweet the social source reads from ``social/tweets`` (CSV and raw JSONL), as source ``social``."""
    from sources.social import read_tweets

    docs = []
    folder = data / "social" / "tweets"
    paths = [
        folder / "twitter_financial_news_sentiment_valid_subset.csv",
        *sorted(folder.glob("stocknet_raw_*")),
    ]
    for path in paths:
        for record in read_tweets(path.name, io.BytesIO(path.read_bytes()), {}):
            if isinstance(record, RawRecord):
                docs.append(extract_plain(record))
    return docs


def load_corpus(data: Path, wiki_limit: int | None = 30) -> dict[str, list[Document]]:
    """Document type (``web``, ``filings``, ``wikipedia``, ``social``) -> non-empty documents.

    EX-99 press releases from the EDGAR files are in ``filings`` with their own source ``press``.
    """
    corpus = {
        "web": web_documents(data),
        "filings": edgar_documents(data),
        "wikipedia": wikipedia_documents(data, wiki_limit),
        "social": tweet_documents(data),
    }
    return {kind: [d for d in docs if d.text.strip()] for kind, docs in corpus.items()}
