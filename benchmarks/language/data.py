"""The labelled language-ID sets, read from ``../shared/data`` with the project's own readers and extractors.

Each item is a ``Document`` as the language stage receives it (reader drops such as retweets and cashtag spam
are left out and counted, as the pipeline rejects them before language ID) with a gold label: ``en`` or the
code of the other language. Sets (see README.md for the method):

- ``phrasebank``       Financial PhraseBank sentences (English), as source ``news``;
- ``tweets_csv``       the twitter-financial-news CSV through the tweets reader (source ``social``), English
                       except the rows in ``NON_ENGLISH_TWEET_ROWS`` (read and labelled by hand);
- ``stocknet``         the raw stocknet tweets through the tweets reader (``lang`` field kept as declared);
- ``web_pages``        the 36 pages of ``web/html`` through ``extract_html`` (``<html lang>`` as declared),
                       labelled by ``WEB_PAGE_LANGUAGE`` (English unless listed);
- ``web_sentences``    the sentences (>= 20 characters) of the non-English pages: short non-English texts;
- ``warc_wiki``        the Aragonese Wikipedia page in ``web/warc/whirlwind.warc.gz`` (warc reader + extract);
- ``filings``          every EDGAR document in ``edgar/`` (``read_records`` + ``extract_filing``), English;
- ``wikipedia``        the articles of the shortened English Wikipedia dump.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from core.schema import Document, RawRecord
from pipeline.stages.extract import extract

# Rows (1-based file line numbers, header = line 1) of twitter_financial_news_sentiment_valid_subset.csv
# that are not English although the set is an English sentiment set; each read by hand.
NON_ENGLISH_TWEET_ROWS = {
    212: ("fr", "Adocia annonce son calendrier financier pour l'année 2020"),
    275: ("fi", "HKScan Oyj:OMIEN OSAKKEIDEN HANKINTA (Finnish: acquisition of own shares)"),
    328: ("nl", "Samenvatting: Daisy wint AI Company of the Year bij de Canadese FinTech & AI Awards"),
    950: ("es", "Resumen: ProAmpac y nkd LIFE son reconocidos en los premios mundiales ..."),
    961: ("pl", "SolarEdge dostarczy Enfindus falowniki dla Europejskiego projektu solarnego ..."),
    1041: ("zh", "Wipro贏得Marelli的多年策略性IT協議 (Traditional Chinese)"),
    1425: ("es", "Nombrado nuevo vicepresidente de la división de cadena de suministro ..."),
    1432: ("es", "WP Engine Designa a Lisa Box Vicepresidenta Sénior de Desarrollo Corporativo"),
}
# The pages of web/html that are not English (the rest are English news, blogs, reviews and wikis).
WEB_PAGE_LANGUAGE = {
    "deutsche-wirtschafts-nachrichten.de-Industriestrompreis.html": "de",
    "finanztip.de.altersvorsorge.html": "de",
    "handelsblatt.com.grenzschliessungen.html": "de",
    "it-finanzmagazin.de.creditshelf.html": "de",
    "iwr.de.IWRpressedienst.Nordex.html": "de",
    "ultimasnoticias.com.ve-ucraina.html": "es",  # declares <html lang="en">: a wrong declaration
}
TWEETS_CSV = "social/tweets/twitter_financial_news_sentiment_valid_subset.csv"
PHRASEBANK = "labeled/financial_phrasebank_50agree_subset.csv"
WIKI_DUMP = "general/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.xml.bz2"
SOURCE_DOMAINS = {"filings": "financial", "press": "financial", "news": "financial", "social": "financial"}


@dataclass
class Item:
    """One labelled document."""

    doc: Document
    gold: str
    name: str = ""


def _documents(records, skipped: dict[str, int]) -> list[Document]:
    docs = []
    for record in records:
        if not isinstance(record, RawRecord):
            skipped["read_error"] = skipped.get("read_error", 0) + 1
            continue
        result = extract(record, SOURCE_DOMAINS)
        if isinstance(result, Document):
            docs.append(result)
        else:
            skipped[result.reason] = skipped.get(result.reason, 0) + 1
    return docs


def phrasebank(data: Path) -> list[Item]:
    import csv

    raw = (data / PHRASEBANK).read_bytes().decode("latin-1")  # the file is Latin-1, not UTF-8
    rows = list(csv.DictReader(io.StringIO(raw)))
    return [
        Item(Document(id=f"fpb:{i}", text=row["news"], source="news"), "en", f"row {i + 2}")
        for i, row in enumerate(rows)
    ]


def tweets_csv(data: Path, skipped: dict[str, int]) -> list[Item]:
    from sources.social import read_tweets

    path = data / TWEETS_CSV
    items = []
    for record in read_tweets(path.name, io.BytesIO(path.read_bytes()), {}):
        if not isinstance(record, RawRecord):
            skipped["read_error"] = skipped.get("read_error", 0) + 1
            continue
        row = int(record.id.rsplit(":", 1)[1]) + 1  # the reader counts data rows from 1; +1 for the header
        docs = _documents([record], skipped)
        if docs:
            gold = NON_ENGLISH_TWEET_ROWS.get(row, ("en", ""))[0]
            items.append(Item(docs[0], gold, f"line {row}"))
    return items


def stocknet(data: Path, skipped: dict[str, int]) -> list[Item]:
    from sources.social import read_tweets

    items = []
    for path in sorted((data / "social" / "tweets").glob("stocknet_raw_*.jsonl")):
        records = read_tweets(path.name, io.BytesIO(path.read_bytes()), {})
        items += [Item(d, "en", path.name) for d in _documents(records, skipped)]
    return items


def web_pages(data: Path) -> list[Item]:
    from sources.html import extract_html

    items = []
    for path in sorted((data / "web" / "html").glob("*.html")):
        raw = RawRecord(
            source="web",
            id=path.name,
            url=f"https://{path.stem}/",
            content=path.read_bytes(),
            content_type="html",
        )
        doc = extract_html(raw)
        if doc.text.strip():
            items.append(Item(doc, WEB_PAGE_LANGUAGE.get(path.name, "en"), path.name))
    return items


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def web_sentences(pages: list[Item], min_chars: int = 20) -> list[Item]:
    """The sentences of the non-English pages, as short web documents (no declared language)."""
    items = []
    for page in pages:
        if page.gold == "en":
            continue
        n = 0
        for line in page.doc.text.splitlines():
            for sentence in _SENTENCE_END.split(line):
                if len(sentence.strip()) >= min_chars:
                    n += 1
                    doc = Document(id=f"{page.name}:{n}", text=sentence.strip(), source="web")
                    items.append(Item(doc, page.gold, f"{page.name} #{n}"))
    return items


def warc_wiki(data: Path, skipped: dict[str, int]) -> list[Item]:
    from sources.web import read_warc

    path = data / "web" / "warc" / "whirlwind.warc.gz"
    docs = _documents(read_warc(path.name, io.BytesIO(path.read_bytes()), {}), skipped)
    return [Item(d, "an", d.url) for d in docs]  # an.wikipedia.org: Aragonese


def filings(data: Path, skipped: dict[str, int]) -> list[Item]:
    from sources.edgar import read_records

    items = []
    for folder in ("10-K", "10-Q", "8-K", "full-submission"):
        for path in sorted((data / "edgar" / folder).iterdir()):
            records = read_records(str(path), io.BytesIO(path.read_bytes()), {})
            items += [Item(d, "en", f"{folder}/{path.name}") for d in _documents(records, skipped)]
    return items


def wikipedia(data: Path, skipped: dict[str, int], limit: int = 60) -> list[Item]:
    from sources.general import read_wikipedia

    path = data / WIKI_DUMP
    with path.open("rb") as stream:
        records = []
        for record in read_wikipedia(str(path), stream, {}):
            records.append(record)
            if len(records) >= limit:
                break
    return [Item(d, "en", d.title) for d in _documents(records, skipped)]


def load(data: Path) -> tuple[dict[str, list[Item]], dict[str, int]]:
    """Every set by name, and the reader/extract drops (counted, left out)."""
    skipped: dict[str, int] = {}
    pages = web_pages(data)
    sets = {
        "phrasebank": phrasebank(data),
        "tweets_csv": tweets_csv(data, skipped),
        "stocknet": stocknet(data, skipped),
        "web_pages": pages,
        "web_sentences": web_sentences(pages),
        "warc_wiki": warc_wiki(data, skipped),
        "filings": filings(data, skipped),
        "wikipedia": wikipedia(data, skipped),
    }
    return sets, skipped
