#!/usr/bin/env python
"""Benchmark corpus generator: N documents in the formats and sizes of the real sources.

    .venv/bin/python benchmarks/corpus.py --docs 1000 --mix "web=0.5,filings=0.05,social=0.35,news=0.1" --out DIR

Per source (``--mix`` keys; shares are normalised, counts rounded by largest remainder):

- ``web``: 5-50 KB HTML pages (log-uniform size, page chrome included) in ``web/web-NNNNN.warc.gz``
  (WARC/1.0, warcinfo + request + response records), on non-news hosts -> source ``web``;
- ``news``: the same kind of pages on news hosts (reuters.com, cnbc.com, ...) in ``web/news-NNNNN.warc.gz``
  -> source ``news``;
- ``filings``: one EDGAR full-submission ``.txt`` per filing (SGML header + the real primary HTML document),
  100 KB-2 MB, in ``edgar/``;
- ``social``: 60% tweets (Twitter API v1.1 JSON lines, ``social/tweets-NNNNN.jsonl``, ~1-3 KB a line) and
  40% Reddit comments (Pushshift fields, zstd NDJSON, ``social/RC_bench-NNNNN.ndjson.zst``);
- ``wiki``: MediaWiki export XML pages (``general/enwiki-bench-NNNNN.xml.bz2``).

Text comes from the real pages in ``/work/shared/data`` when present (web/html extracted once with
trafilatura, edgar/10-K, 10-Q, 8-K HTML, stocknet tweets, the Reddit sample, the enwiki dump) and else
from the project's own sample texts (``scripts/sample_texts``). Documents are varied by deterministic edits
(about one word in six replaced by another word of the same text, digits re-drawn, paragraphs re-ordered
and mixed from other texts of the same language), so they are not duplicates of each other; on purpose
~3% of web/news pages are exact copies and ~3% near copies of an earlier page (what dedup is for).

Deterministic: everything is drawn from ``random.Random(seed)`` per source, WARC dates and record ids are
derived from the document number, gzip/bz2/zstd streams carry no timestamps. Writes ``corpus.json``
(counts and bytes per source) and ``finpile.yaml`` (a pipeline config reading this corpus).
"""

from __future__ import annotations

import argparse
import bz2
import datetime as dt
import hashlib
import html
import io
import json
import math
import random
import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE_TEXTS = REPO / "scripts" / "sample_texts"
SAMPLE = REPO / "pipeline" / "sample"
SHARED = Path("/work/shared/data")
DEFAULT_MIX = "web=0.5,filings=0.05,social=0.35,news=0.1"
SOURCES = ("web", "news", "filings", "social", "wiki")
UUID_NS = uuid.UUID("0b6c2a51-7f0e-4d0c-9a53-3f1e2d9c8b71")
START = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
PER_WARC = 500
PER_SOCIAL_FILE = 5000
PER_WIKI_FILE = 1000

WEB_HOSTS = (
    "www.gardenersguild.example",
    "blog.homebrewfinance.example",
    "www.travelnotes.example",
    "www.localcouncil.example",
    "techreview.example",
    "www.cookingcorner.example",
    "www.smallbizhelp.example",
    "community.diyforum.example",
    "www.outdoorgear.example",
    "www.parentsweekly.example",
)
NEWS_HOSTS = (
    "www.reuters.com",
    "www.cnbc.com",
    "www.marketwatch.com",
    "www.ft.com",
    "www.wsj.com",
    "www.bloomberg.com",
)
SUBREDDITS = (
    "wallstreetbets",
    "investing",
    "stocks",
    "StockMarket",
    "personalfinance",
    "ValueInvesting",
    "options",
)
WORD = re.compile(r"[^\W\d_]{3,}")
DIGIT = re.compile(r"\d")


# ------------------------------------------------------------------------------------------------
# text pools and deterministic edits
# ------------------------------------------------------------------------------------------------


def _sample_article(name: str) -> str:
    raw = (SAMPLE_TEXTS / name).read_text(encoding="utf-8")
    return raw.split("\n---\n", 1)[1] if "\n---\n" in raw else raw


def _paragraphs(text: str) -> list[str]:
    paras = [re.sub(r"\s+", " ", p).strip() for p in re.split(r"\n\s*\n|\n", text)]
    return [p for p in paras if len(p) > 40]


def _is_german(text: str) -> bool:
    words = re.findall(r"\w+", text.lower())[:400]
    de = sum(w in ("der", "die", "und", "das", "nicht", "mit", "ist", "für", "auf") for w in words)
    en = sum(w in ("the", "and", "of", "to", "is", "in", "that", "for", "with") for w in words)
    return de > en


def page_texts() -> list[tuple[str, list[str]]]:
    """(language, paragraphs) of every source text for web/news pages: real pages first, then samples."""
    texts: list[str] = []
    html_dir = SHARED / "web" / "html"
    if html_dir.is_dir():
        import trafilatura

        for path in sorted(html_dir.glob("*.htm*")):
            out = trafilatura.extract(path.read_text(encoding="utf-8", errors="replace"), deduplicate=False)
            if out and len(out) > 1500:
                texts.append(out)
    for path in sorted(SAMPLE_TEXTS.glob("*.txt")):
        if path.name.startswith(("news_", "press_", "web_")):
            texts.append(_sample_article(path.name))
    pool = []
    for text in texts:
        paras = _paragraphs(text)
        if len(paras) >= 3:
            pool.append(("de" if _is_german(text) else "en", paras))
    return pool


class Varier:
    """Deterministic edits: replace ~``rate`` of the words by other words of the same text, re-draw digits."""

    def __init__(self, rng: random.Random, rate: float = 1 / 6):
        self.rng = rng
        self.rate = rate

    def vary(self, text: str, vocab: list[str]) -> str:
        rng, rate = self.rng, self.rate

        def word(m: re.Match[str]) -> str:
            if rng.random() >= rate or not vocab:
                return m.group(0)
            w = vocab[rng.randrange(len(vocab))]
            return w.capitalize() if m.group(0)[0].isupper() else w

        text = WORD.sub(word, text)
        return DIGIT.sub(lambda m: str(rng.randrange(10)) if rng.random() < 0.5 else m.group(0), text)


def _vocab(paras: list[str]) -> list[str]:
    return [w.lower() for w in WORD.findall(" ".join(paras))][:5000]


# ------------------------------------------------------------------------------------------------
# web and news pages in WARC
# ------------------------------------------------------------------------------------------------


def page_html(host: str, url: str, title: str, paras: list[str], lang: str, n: int) -> str:
    nav = "".join(
        f'<li><a href="/{s}/">{s.title()}</a></li>'
        for s in ("news", "markets", "business", "tech", "life", "opinion", "video")
    )
    related = "".join(
        f'<li><a href="/story/{n * 7 + k}">Related story {n * 7 + k}</a></li>' for k in range(6)
    )
    body = "\n".join(
        f"<p>{html.escape(p, quote=False)}</p>"
        if i % 9
        else f"<h2>{html.escape(p[:60], quote=False)}</h2>\n<p>{html.escape(p, quote=False)}</p>"
        for i, p in enumerate(paras)
    )
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} | {host}</title>
<meta property="og:title" content="{html.escape(title)}">
<link rel="canonical" href="{url}">
<link rel="stylesheet" href="/static/css/main.{n % 97:02x}.css">
<script async src="/static/js/analytics.js"></script>
</head>
<body>
<div class="cookie-banner" role="dialog"><p>We use cookies to improve your experience, measure audiences and show relevant ads. By continuing you accept our use of cookies.</p><button>Accept all</button> <button>Settings</button></div>
<header class="site-header"><a class="logo" href="/">{host}</a><nav><ul>{nav}</ul></nav><a href="/subscribe">Subscribe</a> <a href="/login">Sign in</a></header>
<main>
<article>
<h1>{html.escape(title)}</h1>
<p class="byline">By Staff Writer · {(START + dt.timedelta(minutes=n)).strftime("%B %d, %Y")}</p>
<div class="article-body">
{body}
</div>
</article>
<aside><h2>Read next</h2><ul>{related}</ul></aside>
<div class="newsletter"><h3>Get the morning briefing</h3><form action="/newsletter"><input type="email" placeholder="Email address"><button>Sign up</button></form></div>
</main>
<footer><ul><li><a href="/about">About</a></li><li><a href="/contact">Contact</a></li><li><a href="/privacy">Privacy</a></li><li><a href="/terms">Terms</a></li></ul><p>© 2024 {host}. All rights reserved.</p></footer>
</body>
</html>
"""


def make_pages(
    kind: str, count: int, seed: int, pool: list[tuple[str, list[str]]]
) -> Iterator[tuple[str, bytes]]:
    """(url, html bytes) of ``count`` pages of 5-50 KB."""
    rng = random.Random(f"{seed}:{kind}")
    varier = Varier(rng)
    hosts = NEWS_HOSTS if kind == "news" else WEB_HOSTS
    vocabs = [_vocab(p) for _, p in pool]
    by_lang: dict[str, list[int]] = {}
    for i, (lang, _) in enumerate(pool):
        by_lang.setdefault(lang, []).append(i)
    made: list[tuple[str, bytes]] = []
    for n in range(count):
        host = hosts[rng.randrange(len(hosts))]
        url = f"https://{host}/{kind}/2024/03/{n:07d}-{rng.randrange(16**6):06x}.html"
        r = rng.random()
        if made and r < 0.03:  # an exact copy (syndicated, same article text, another url)
            yield (
                url,
                made[rng.randrange(len(made))][1].replace(b'<link rel="canonical"', b'<link rel="alternate"'),
            )
            continue
        if made and r < 0.06:  # a near copy: an earlier page with ~2% of its words edited
            src = made[rng.randrange(len(made))][1].decode("utf-8")
            near = Varier(rng, rate=0.02)
            vocab = _vocab(TEXT_NODE.findall(src)[:50])
            yield (
                url,
                TEXT_NODE.sub(
                    lambda m, near=near, vocab=vocab: ">" + near.vary(m.group(1), vocab) + "<", src
                ).encode("utf-8"),
            )
            continue
        base = rng.randrange(len(pool))
        lang, paras = pool[base]
        text_paras: list[str] = []
        target = int(math.exp(rng.uniform(math.log(5_000), math.log(50_000))))
        chrome = 2_600
        if not text_paras:
            order = list(range(len(paras)))
            start = rng.randrange(len(order))
            order = order[start:] + order[:start]
            text_paras = [varier.vary(paras[i], vocabs[base]) for i in order]
        size = sum(len(p) + 8 for p in text_paras)
        while size > target - chrome and len(text_paras) > 2:
            size -= len(text_paras.pop()) + 8
        guard = 0
        while size < target - chrome and guard < 200:  # fill from other texts of the same language
            guard += 1
            other = by_lang[lang][rng.randrange(len(by_lang[lang]))]
            p = pool[other][1][rng.randrange(len(pool[other][1]))]
            p = varier.vary(p, vocabs[other])
            text_paras.append(p)
            size += len(p) + 8
        title = text_paras[0][:90].rsplit(" ", 1)[0]
        page = page_html(host, url, title, text_paras, lang, n).encode("utf-8")
        made.append((url, page))
        if len(made) > 200:
            made.pop(0)
        yield url, page


def write_warc(path: Path, pages: list[tuple[str, bytes]], first: int, kind: str) -> int:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True, warc_version="1.0")
    info = b"software: finpile-benchmark-corpus\r\nformat: WARC File Format 1.0\r\n"
    writer.write_record(
        writer.create_warc_record(
            "",
            "warcinfo",
            payload=io.BytesIO(info),
            length=len(info),
            warc_headers=StatusAndHeaders(
                "",
                [
                    ("WARC-Type", "warcinfo"),
                    ("WARC-Date", START.strftime("%Y-%m-%dT%H:%M:%SZ")),
                    ("WARC-Record-ID", f"<urn:uuid:{uuid.uuid5(UUID_NS, f'{kind}:info:{first}')}>"),
                    ("WARC-Filename", path.name),
                ],
                protocol="WARC/1.0",
            ),
            warc_content_type="application/warc-fields",
        )
    )
    for k, (url, body) in enumerate(pages):
        n = first + k
        date = (START + dt.timedelta(seconds=7 * n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        host = url.split("/")[2]
        req = f"GET /{url.split('/', 3)[3]} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: FinPileBench/1.0\r\nAccept: text/html\r\n\r\n".encode()
        writer.write_record(
            writer.create_warc_record(
                url,
                "request",
                payload=io.BytesIO(req),
                length=len(req),
                warc_headers=StatusAndHeaders(
                    "",
                    [
                        ("WARC-Type", "request"),
                        ("WARC-Target-URI", url),
                        ("WARC-Date", date),
                        ("WARC-Record-ID", f"<urn:uuid:{uuid.uuid5(UUID_NS, f'{kind}:req:{n}')}>"),
                    ],
                    protocol="WARC/1.0",
                ),
                warc_content_type="application/http; msgtype=request",
            )
        )
        http_headers = StatusAndHeaders(
            "200 OK",
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("Server", "nginx"),
            ],
            protocol="HTTP/1.1",
        )
        writer.write_record(
            writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                length=len(body),
                http_headers=http_headers,
                warc_headers=StatusAndHeaders(
                    "",
                    [
                        ("WARC-Type", "response"),
                        ("WARC-Target-URI", url),
                        ("WARC-Date", date),
                        ("WARC-Record-ID", f"<urn:uuid:{uuid.uuid5(UUID_NS, f'{kind}:resp:{n}')}>"),
                    ],
                    protocol="WARC/1.0",
                ),
            )
        )
    data = _zero_gzip_mtime(buf.getvalue())
    path.write_bytes(data)
    return len(data)


def _zero_gzip_mtime(data: bytes) -> bytes:
    """warcio writes one gzip member per record with the current time as mtime: zero every member's mtime."""
    out = bytearray()
    pos = 0
    while pos < len(data):
        d = __import__("zlib").decompressobj(31)
        d.decompress(data[pos:])
        end = len(data) - len(d.unused_data)
        member = bytearray(data[pos:end])
        member[4:8] = b"\0\0\0\0"
        out += member
        pos = end
    return bytes(out)


# ------------------------------------------------------------------------------------------------
# filings: full-submission .txt around real primary documents
# ------------------------------------------------------------------------------------------------


def filing_bases() -> list[tuple[str, str, list[tuple[str, str, str]]]]:
    """(form, period, [(type, filename, html)]) per base filing."""
    bases: list[tuple[str, str, list[tuple[str, str, str]]]] = []
    edgar = SHARED / "edgar"
    if edgar.is_dir():
        for form in ("10-K", "10-Q"):
            for path in sorted((edgar / form).glob("*.htm*")):
                bases.append(
                    (
                        form,
                        "20231231",
                        [(form, path.name, path.read_text(encoding="utf-8", errors="replace"))],
                    )
                )
        k8 = edgar / "8-K"
        if (k8 / "BuckleInc.8-K.html").exists() and (k8 / "BuckleInc.8-K.EX99.1.html").exists():
            bases.append(
                (
                    "8-K",
                    "20231130",
                    [
                        (
                            "8-K",
                            "buckle-8k.htm",
                            (k8 / "BuckleInc.8-K.html").read_text(encoding="utf-8", errors="replace"),
                        ),
                        (
                            "EX-99.1",
                            "buckle-ex991.htm",
                            (k8 / "BuckleInc.8-K.EX99.1.html").read_text(encoding="utf-8", errors="replace"),
                        ),
                    ],
                )
            )
    if (
        not bases
    ):  # the project's sample: its inline-XBRL 10-K, padded to >= 100 KB by repeating its body varied
        text = (SAMPLE / "edgar" / "mrdn-10k-2023.htm").read_text(encoding="utf-8")
        bases.append(("10-K", "20231231", [("10-K", "mrdn-10k.htm", text)]))
    return bases


TEXT_NODE = re.compile(r">([^<]{12,})<")


def _primary(text: str) -> str:
    """The document itself when a saved file still has its ``<DOCUMENT>``/``<TEXT>`` wrapper."""
    m = re.search(r"<TEXT>\s*(.*?)\s*</TEXT>", text, flags=re.S)
    return m.group(1) if m and text.lstrip().startswith("<DOCUMENT>") else text


def make_filing(n: int, rng: random.Random, bases) -> bytes:
    form, period, docs = bases[rng.randrange(len(bases))]
    varier = Varier(rng, rate=0.12)
    cik = f"{1_900_000 + n:010d}"
    accession = f"{cik}-24-{n % 1_000_000:06d}"
    company = f"BENCHMARK HOLDINGS {n:05d} CORP"
    filed = (START + dt.timedelta(days=n % 300)).strftime("%Y%m%d")
    header = "\n".join(
        [
            f"<SEC-DOCUMENT>{accession}.txt : {filed}",
            f"<SEC-HEADER>{accession}.hdr.sgml : {filed}",
            f"<ACCEPTANCE-DATETIME>{filed}160512",
            f"ACCESSION NUMBER:\t\t{accession}",
            f"CONFORMED SUBMISSION TYPE:\t{form}",
            f"PUBLIC DOCUMENT COUNT:\t\t{len(docs)}",
            f"CONFORMED PERIOD OF REPORT:\t{period}",
            f"FILED AS OF DATE:\t\t{filed}",
            f"DATE AS OF CHANGE:\t\t{filed}",
            "",
            "FILER:",
            "",
            "\tCOMPANY DATA:",
            f"\t\tCOMPANY CONFORMED NAME:\t\t\t{company}",
            f"\t\tCENTRAL INDEX KEY:\t\t\t{cik}",
            "\t\tSTANDARD INDUSTRIAL CLASSIFICATION:\tSERVICES-PREPACKAGED SOFTWARE [7372]",
            f"\t\tIRS NUMBER:\t\t\t\t{rng.randrange(10**8, 10**9)}",
            "\t\tSTATE OF INCORPORATION:\t\t\tDE",
            "\t\tFISCAL YEAR END:\t\t\t1231",
            "",
            "\tFILING VALUES:",
            f"\t\tFORM TYPE:\t\t{form}",
            "\t\tSEC ACT:\t\t1934 Act",
            f"\t\tSEC FILE NUMBER:\t001-{rng.randrange(10000, 99999)}",
            f"\t\tFILM NUMBER:\t\t{rng.randrange(10**7, 10**8)}",
            "",
            "\tBUSINESS ADDRESS:",
            "\t\tSTREET 1:\t\tONE BENCHMARK WAY",
            "\t\tCITY:\t\t\tWILMINGTON",
            "\t\tSTATE:\t\t\tDE",
            "\t\tZIP:\t\t\t19801",
            "</SEC-HEADER>",
        ]
    )
    parts = [header]
    for seq, (doc_type, filename, text) in enumerate(docs, 1):
        text = _primary(text)
        vocab = _vocab(TEXT_NODE.findall(text[:200_000])[:400])
        body = TEXT_NODE.sub(lambda m, vocab=vocab: ">" + varier.vary(m.group(1), vocab) + "<", text)
        if len(body) < 100_000:  # the sample fallback: pad with a varied copy of the body
            while len(body) < 100_000:
                body = body.replace(
                    "</body>",
                    TEXT_NODE.sub(
                        lambda m, vocab=vocab: ">" + varier.vary(m.group(1), vocab) + "<",
                        text.split("<body", 1)[-1].split(">", 1)[-1].rsplit("</body>", 1)[0],
                    )
                    + "</body>",
                    1,
                )
        parts.append(
            "\n".join(
                [
                    "<DOCUMENT>",
                    f"<TYPE>{doc_type}",
                    f"<SEQUENCE>{seq}",
                    f"<FILENAME>{filename}",
                    f"<DESCRIPTION>{doc_type}",
                    "<TEXT>",
                    body,
                    "</TEXT>",
                    "</DOCUMENT>",
                ]
            )
        )
    parts.append("</SEC-DOCUMENT>\n")
    return "\n".join(parts).encode("utf-8")


# ------------------------------------------------------------------------------------------------
# social: tweets (v1.1 JSON lines) and Reddit comments (zstd NDJSON)
# ------------------------------------------------------------------------------------------------


def _social_texts() -> list[str]:
    texts = []
    raw = (SAMPLE_TEXTS / "social_tweets.txt").read_text(encoding="utf-8")
    texts += [b.split("\n", 1)[1].strip() for b in raw.split("=== ")[1:] if "\n" in b]
    raw = (SAMPLE_TEXTS / "social_reddit_comments.txt").read_text(encoding="utf-8")
    texts += [b.split("\n", 1)[1].strip() for b in raw.split("=== ")[1:] if "\n" in b]
    tweets_dir = SHARED / "social" / "tweets"
    if tweets_dir.is_dir():
        for path in sorted(tweets_dir.glob("stocknet_raw_*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    texts.append(html.unescape(json.loads(line)["text"]))
                except (ValueError, KeyError):
                    pass
    return [t for t in texts if len(t) > 15]


def _tweet_templates() -> list[dict]:
    out = []
    tweets_dir = SHARED / "social" / "tweets"
    paths = sorted(tweets_dir.glob("stocknet_raw_*.jsonl")) if tweets_dir.is_dir() else []
    paths.append(SAMPLE / "social" / "tweets-2024-01.jsonl")
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if "user" in obj and "text" in obj and not obj.get("retweeted_status"):
                out.append(obj)
    return out


def _reddit_templates() -> list[dict]:
    import zstandard

    lines: list[str] = []
    rc = SHARED / "social" / "reddit" / "RC_sample.ndjson"
    if rc.exists():
        lines += rc.read_text(encoding="utf-8").splitlines()
    data = (
        zstandard.ZstdDecompressor()
        .decompressobj()
        .decompress((SAMPLE / "social" / "RC_2024-01.ndjson.zst").read_bytes())
    )
    lines += data.decode("utf-8").splitlines()
    out = []
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if "body" in obj:
            out.append(obj)
    return out


def _b36(n: int) -> str:
    chars = "0123456789abcdefghijklmnopqrstuvwxyz"
    s = ""
    while n:
        n, r = divmod(n, 36)
        s = chars[r] + s
    return s or "0"


def make_social(count: int, seed: int) -> tuple[list[str], list[str]]:
    """(tweet lines, reddit comment lines): 60% tweets, 40% comments."""
    rng = random.Random(f"{seed}:social")
    varier = Varier(rng, rate=0.2)
    texts = _social_texts()
    vocab = _vocab(texts)
    tweets_t, reddit_t = _tweet_templates(), _reddit_templates()
    n_tweets = round(count * 0.6)
    tweets, comments = [], []
    for n in range(n_tweets):
        obj = json.loads(json.dumps(tweets_t[rng.randrange(len(tweets_t))]))
        text = varier.vary(texts[rng.randrange(len(texts))], vocab)
        if rng.random() < 0.5:
            text = f"{text} {varier.vary(texts[rng.randrange(len(texts))], vocab)}"
        text = text[:280]
        when = START + dt.timedelta(seconds=13 * n)
        tid = ((int(when.timestamp() * 1000) - 1288834974657) << 22) | n
        obj.update(
            id=tid,
            id_str=str(tid),
            created_at=when.strftime("%a %b %d %H:%M:%S +0000 %Y"),
            text=text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
            lang="en",
        )
        obj.pop("retweeted_status", None)
        obj["entities"] = {
            "hashtags": [
                {"text": m.group(1), "indices": [m.start(), m.end()]} for m in re.finditer(r"#(\w+)", text)
            ],
            "symbols": [
                {"text": m.group(1), "indices": [m.start(), m.end()]}
                for m in re.finditer(r"\$([A-Z]{1,5})\b", text)
            ],
            "urls": [],
            "user_mentions": [],
        }
        tweets.append(json.dumps(obj, separators=(",", ":")))
    for n in range(count - n_tweets):
        obj = json.loads(json.dumps(reddit_t[rng.randrange(len(reddit_t))]))
        sentences = " ".join(
            varier.vary(texts[rng.randrange(len(texts))], vocab) for _ in range(rng.randint(1, 4))
        )
        cid = _b36(36**6 + n * 7919 + seed)
        sub = SUBREDDITS[rng.randrange(len(SUBREDDITS))]
        link = _b36(36**5 + n // 20)
        obj.update(
            body="[deleted]" if rng.random() < 0.02 else sentences,
            id=cid,
            name=f"t1_{cid}",
            subreddit=sub,
            subreddit_name_prefixed=f"r/{sub}",
            link_id=f"t3_{link}",
            parent_id=f"t3_{link}",
            created_utc=int((START + dt.timedelta(seconds=11 * n)).timestamp()),
            permalink=f"/r/{sub}/comments/{link}/bench/{cid}/",
            score=rng.randint(-5, 500),
        )
        comments.append(json.dumps(obj, ensure_ascii=True))
    return tweets, comments


# ------------------------------------------------------------------------------------------------
# Wikipedia
# ------------------------------------------------------------------------------------------------


def make_wiki(count: int, seed: int) -> Iterator[tuple[str, bytes]]:
    rng = random.Random(f"{seed}:wiki")
    varier = Varier(rng, rate=0.12)
    dumps = sorted((SHARED / "general").glob("enwiki-*.xml.bz2")) if (SHARED / "general").is_dir() else []
    source = dumps[0] if dumps else SAMPLE / "general" / "enwiki-sample.xml.bz2"
    xml = bz2.decompress(source.read_bytes()).decode("utf-8")
    head = xml.split("<page>", 1)[0]
    pages = [
        p
        for p in re.findall(r"<page>.*?</page>", xml, flags=re.S)
        if "<ns>0</ns>" in p and "<redirect" not in p and len(p) > 3000
    ]
    for first in range(0, count, PER_WIKI_FILE):
        out = [head]
        for n in range(first, min(count, first + PER_WIKI_FILE)):
            page = pages[rng.randrange(len(pages))]
            m = re.search(r"(<text[^>]*>)(.*?)(</text>)", page, flags=re.S)
            text = html.unescape(m.group(2))
            new = varier.vary(text, _vocab([text[:20000]]))
            title = re.search(r"<title>(.*?)</title>", page).group(1)
            page = page.replace(m.group(0), m.group(1) + html.escape(new, quote=False) + m.group(3))
            page = re.sub(r"<title>.*?</title>", f"<title>{title} (bench {n})</title>", page, count=1)
            page = re.sub(r"<id>\d+</id>", f"<id>{10_000_000 + n}</id>", page, count=1)
            page = re.sub(
                r"<sha1>\w*</sha1>", f"<sha1>{hashlib.sha1(new.encode()).hexdigest()[:31]}</sha1>", page
            )
            out.append("  " + page + "\n")
        out.append("</mediawiki>\n")
        yield (
            f"enwiki-bench-{first // PER_WIKI_FILE:05d}.xml.bz2",
            bz2.compress("".join(out).encode("utf-8"), 9),
        )


# ------------------------------------------------------------------------------------------------
# driver
# ------------------------------------------------------------------------------------------------


def parse_mix(spec: str) -> dict[str, float]:
    mix: dict[str, float] = {}
    for item in spec.split(","):
        if not item.strip():
            continue
        key, _, value = item.partition("=")
        key = key.strip()
        if key not in SOURCES:
            raise SystemExit(f"--mix: unknown source {key!r}; known: {', '.join(SOURCES)}")
        mix[key] = float(value)
    total = sum(mix.values())
    if total <= 0:
        raise SystemExit("--mix: shares must add up to more than 0")
    return {k: v / total for k, v in mix.items()}


def counts_for(docs: int, mix: dict[str, float]) -> dict[str, int]:
    """Largest-remainder rounding: counts add up to ``docs``."""
    raw = {k: docs * v for k, v in mix.items()}
    counts = {k: int(v) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: (-(raw[k] - counts[k]), k))[: docs - sum(counts.values())]:
        counts[k] += 1
    return counts


CONFIG_TEMPLATE = """# Pipeline config for the benchmark corpus written by benchmarks/corpus.py (paths relative to this file).
run_name: bench
output_root: output

inputs:
{inputs}
language:
  allowed: [en]
  min_score: 0.65

quality:
  label_only: false

pii: {{}}

dedup:
  exact: true
  near:
    ngram: 5
    num_perm: 128
    threshold: 0.8
    seed: 1
  priority: [filings, press, news, web, social, wikipedia, c4]
  cc_rounds: 8

mix:
  domain_targets: {{financial: 0.51, general: 0.49}}
  max_weight: 4.0

shards:
  max_rows: 50000
"""


def generate(docs: int, mix_spec: str, out: Path, seed: int = 1234) -> dict:
    import zstandard

    mix = parse_mix(mix_spec)
    counts = counts_for(docs, mix)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict = {"docs": docs, "mix": mix_spec, "seed": seed, "counts": counts, "bytes": {}, "files": {}}
    inputs = []
    pool = page_texts() if counts.get("web") or counts.get("news") else []
    for kind in ("web", "news"):
        n = counts.get(kind, 0)
        if not n:
            continue
        (out / "web").mkdir(exist_ok=True)
        total, files, batch, first = 0, 0, [], 0
        for url, page in make_pages(kind, n, seed, pool):
            batch.append((url, page))
            if len(batch) == PER_WARC:
                total += write_warc(out / "web" / f"{kind}-{files:05d}.warc.gz", batch, first, kind)
                files, first, batch = files + 1, first + len(batch), []
        if batch:
            total += write_warc(out / "web" / f"{kind}-{files:05d}.warc.gz", batch, first, kind)
            files += 1
        summary["bytes"][kind], summary["files"][kind] = total, files
        inputs.append(f'  - name: {kind}\n    kind: warc\n    paths: ["web/{kind}-*.warc.gz"]\n')
    if counts.get("filings"):
        (out / "edgar").mkdir(exist_ok=True)
        rng = random.Random(f"{seed}:filings")
        bases = filing_bases()
        total = 0
        for n in range(counts["filings"]):
            data = make_filing(n, rng, bases)
            (out / "edgar" / f"{1_900_000 + n:010d}-24-{n:06d}.txt").write_bytes(data)
            total += len(data)
        summary["bytes"]["filings"], summary["files"]["filings"] = total, counts["filings"]
        inputs.append('  - name: filings\n    kind: edgar\n    paths: ["edgar/*.txt"]\n')
    if counts.get("social"):
        (out / "social").mkdir(exist_ok=True)
        tweets, comments = make_social(counts["social"], seed)
        total = 0
        for i in range(0, len(tweets), PER_SOCIAL_FILE):
            data = ("\n".join(tweets[i : i + PER_SOCIAL_FILE]) + "\n").encode("utf-8")
            (out / "social" / f"tweets-{i // PER_SOCIAL_FILE:05d}.jsonl").write_bytes(data)
            total += len(data)
        cctx = zstandard.ZstdCompressor(level=3, write_checksum=True)
        for i in range(0, len(comments), PER_SOCIAL_FILE):
            data = cctx.compress(("\n".join(comments[i : i + PER_SOCIAL_FILE]) + "\n").encode("utf-8"))
            (out / "social" / f"RC_bench-{i // PER_SOCIAL_FILE:05d}.ndjson.zst").write_bytes(data)
            total += len(data)
        summary["bytes"]["social"] = total
        summary["counts_social"] = {"tweets": len(tweets), "reddit_comments": len(comments)}
        if tweets:
            inputs.append('  - name: tweets\n    kind: tweets\n    paths: ["social/tweets-*.jsonl"]\n')
        if comments:
            inputs.append('  - name: reddit\n    kind: reddit\n    paths: ["social/RC_bench-*.ndjson.zst"]\n')
    if counts.get("wiki"):
        (out / "general").mkdir(exist_ok=True)
        total = 0
        for name, data in make_wiki(counts["wiki"], seed):
            (out / "general" / name).write_bytes(data)
            total += len(data)
        summary["bytes"]["wiki"] = total
        inputs.append('  - name: wikipedia\n    kind: wikipedia\n    paths: ["general/*.xml.bz2"]\n')
    (out / "finpile.yaml").write_text(CONFIG_TEMPLATE.format(inputs="".join(inputs)), encoding="utf-8")
    summary["real_data"] = SHARED.is_dir()
    (out / "corpus.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--docs", type=int, default=1000, help="number of documents (1000, 10000, 100000, or any)"
    )
    ap.add_argument(
        "--mix", default=DEFAULT_MIX, help=f"source shares, keys {', '.join(SOURCES)} (default {DEFAULT_MIX})"
    )
    ap.add_argument("--out", type=Path, required=True, help="output folder")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args(argv)
    summary = generate(args.docs, args.mix, args.out, args.seed)
    mb = {k: round(v / 1e6, 2) for k, v in summary["bytes"].items()}
    print(
        f"wrote {args.docs} documents to {args.out}: {summary['counts']} ({mb} MB on disk)", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
