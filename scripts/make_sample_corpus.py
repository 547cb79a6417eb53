#!/usr/bin/env python
"""Write the embedded sample corpus into ``pipeline/sample/`` (or another directory).

Every text in the sample corpus is original and fictional (companies, people, quotes and figures),
written for this project and modelled on the *formats* of the real sources: EDGAR full-submission
SGML files and inline-XBRL 10-Ks, Common Crawl style WARC files, RSS 2.0 press-release feeds,
Pushshift/Arctic-Shift Reddit dumps (zstd NDJSON), Twitter API v1.1 tweet JSON and MediaWiki XML dumps.
The texts live in ``scripts/sample_texts/`` beside this script: prose (``.txt`` articles with a ``key: value``
header, ``.wiki`` pages), fixed documents (``.html``, ``.txt``) and the tables and facts the formats need
(``.json``: company facts, financial tables, site furniture, accounts, the wiki dump's pages, each with an
``about`` line), and the news sites' page templates (``web_page_*.html``, ``{name}`` marks what is filled in);
this script only turns them into the source formats.

The output is deterministic: no clocks, no random numbers, fixed WARC dates and record ids, gzip/bz2/zstd
without timestamps. Re-running the script gives byte-identical files (with the same compression
libraries). ``pipeline/sample/README.md`` lists what each file holds and the expected counts.

Usage:  python scripts/make_sample_corpus.py [--out DIR]
From Python:  ``build(out_dir: Path) -> list[Path]``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import bz2
import datetime as dt
import hashlib
import html
import io
import json
import re
import struct
import textwrap
import uuid
import zlib
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

HERE = Path(__file__).resolve().parent
TEXTS = HERE / "sample_texts"
REPO = HERE.parent
DEFAULT_OUT = REPO / "pipeline" / "sample"

# Names of the generated files, relative to the output directory.
EDGAR_8K = "edgar/0001999001-24-000011.txt"
EDGAR_10K_1997 = "edgar/0001999002-24-000005.txt"
EDGAR_IXBRL_10K = "edgar/mrdn-10k-2023.htm"
WARC_FILE = "web/news-2024.warc.gz"
FEED_FILE = "feeds/press-releases.xml"
REDDIT_RS = "social/RS_2024-01.ndjson.zst"
REDDIT_RC = "social/RC_2024-01.ndjson.zst"
TWEETS_FILE = "social/tweets-2024-01.jsonl"
WIKI_FILE = "general/enwiki-sample.xml.bz2"

ALL_FILES = (
    EDGAR_8K,
    EDGAR_10K_1997,
    EDGAR_IXBRL_10K,
    WARC_FILE,
    FEED_FILE,
    REDDIT_RS,
    REDDIT_RC,
    TWEETS_FILE,
    WIKI_FILE,
)

# Namespace for deterministic UUIDs (WARC record ids).
UUID_NS = uuid.UUID("6f1d3c2a-9b7e-4c55-8e0f-2a4b6c8d0e1f")


# ---------------------------------------------------------------------------------------------
# Template helpers
# ---------------------------------------------------------------------------------------------


def read_text(name: str) -> str:
    return (TEXTS / name).read_text(encoding="utf-8")


def fill(template: str, **values: str) -> str:
    """``template`` with each ``{name}`` of ``values`` replaced, in one pass (other braces, and braces in the
    values, are left as they are)."""
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), template)


def read_json(name: str) -> dict:
    """A data file of ``sample_texts/`` (tables and facts the generator turns into the source formats)."""
    return json.loads(read_text(name))


def read_article(name: str) -> tuple[dict[str, str], str]:
    """A ``key: value`` header, a ``---`` line, then the body."""
    raw = read_text(name)
    head, body = raw.split("\n---\n", 1)
    meta = {}
    for line in head.splitlines():
        key, value = line.split(":", 1)
        meta[key.strip()] = value.strip()
    return meta, body.strip("\n")


def blocks(body: str) -> list[str]:
    """Blank-line separated blocks; a run of ``* `` lines stays one block."""
    return [b.strip("\n") for b in re.split(r"\n\s*\n", body) if b.strip()]


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def body_to_html(body: str, *, heading_tag: str = "h2", table_html: str = "") -> str:
    """Render a template body: ``## `` headings, ``* `` bullet lists, ``{{TABLE}}`` and paragraphs."""
    out = []
    for block in blocks(body):
        if block == "{{TABLE}}":
            out.append(table_html)
        elif block.startswith("## "):
            out.append(f"<{heading_tag}>{esc(block[3:])}</{heading_tag}>")
        elif block.startswith("* "):
            items = "".join(f"<li>{esc(line[2:])}</li>" for line in block.splitlines())
            out.append(f"<ul>{items}</ul>")
        else:
            out.append(f"<p>{esc(' '.join(block.splitlines()))}</p>")
    return "\n".join(out)


def iso_to_dt(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def http_date(value: dt.datetime) -> str:
    return value.strftime("%a, %d %b %Y %H:%M:%S GMT")


def stable_hex(*parts: str, n: int = 8) -> str:
    return hashlib.sha1("\x00".join(parts).encode()).hexdigest()[:n]


def shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    """Word n-grams of lower-cased ``\\w+`` tokens (the measure the README quotes)."""
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def jaccard(a: str, b: str, n: int = 5) -> float:
    sa, sb = shingles(a, n), shingles(b, n)
    return len(sa & sb) / len(sa | sb) if sa | sb else 1.0


# ---------------------------------------------------------------------------------------------
# EDGAR: 8-K full submission with an earnings release (EX-99.1) and a uuencoded GRAPHIC
# ---------------------------------------------------------------------------------------------

EDGAR_8K_PELLWORTH = read_json("edgar_8k_pellworth.json")
PELLWORTH = EDGAR_8K_PELLWORTH["company"]

# Financial highlights table of the release (in thousands, except per share and percentages):
# three months ended Dec 31 2023 / 2022, twelve months ended Dec 31 2023 / 2022.
PELLWORTH_HIGHLIGHTS = EDGAR_8K_PELLWORTH["highlights"]


def _fmt_thousands(value: float, kind: str) -> str:
    if kind == "eps":
        return f"{value:.2f}"
    if kind == "pct":
        return f"{value:.1f}%"
    text = f"{abs(int(value)):,}"
    return f"({text})" if value < 0 else text


def pellworth_table_html(style: str = "filing") -> str:
    """The income statement table of the earnings release (filing style or wire style markup)."""
    head_cells = ["Three Months Ended<br/>December 31,", "Twelve Months Ended<br/>December 31,"]
    rows = []
    if style == "filing":
        rows.append(
            '<tr><td style="width:52%"></td>'
            + "".join(
                f'<td colspan="4" style="text-align:center;font-weight:bold;border-bottom:1px solid #000">{h}</td>'
                for h in head_cells
            )
            + "</tr>"
        )
        rows.append(
            "<tr><td></td>"
            + "".join(
                f'<td colspan="2" style="text-align:center;font-weight:bold">{y}</td>'
                for y in ("2023", "2022", "2023", "2022")
            )
            + "</tr>"
        )
        for label, values, kind in PELLWORTH_HIGHLIGHTS:
            cells = []
            for v in values:
                dollar = "$" if kind in ("money", "eps") else ""
                cells.append(
                    f'<td style="width:2%">{dollar}</td><td style="text-align:right;width:10%">{_fmt_thousands(v, kind)}</td>'
                )
            weight = "font-weight:bold;" if kind == "money" else ""
            rows.append(f'<tr><td style="{weight}">{esc(label)}</td>{"".join(cells)}</tr>')
        caption = (
            '<p style="text-align:center;font-weight:bold;margin-top:18pt">PELLWORTH INSTRUMENTS, INC.<br/>'
            "FINANCIAL HIGHLIGHTS<br/>(Unaudited; in thousands, except per share amounts and percentages)</p>"
        )
        return (
            caption
            + '\n<table style="width:100%;border-collapse:collapse;font-size:9pt">\n'
            + "\n".join(rows)
            + "\n</table>"
        )
    # wire style: a plain prnewswire table
    rows.append(
        '<tr><td class="prntac"></td>'
        + "".join(f'<td class="prntac" colspan="2"><b>{h}</b></td>' for h in head_cells)
        + "</tr>"
    )
    rows.append(
        '<tr><td class="prntac"></td>'
        + "".join(f'<td class="prntac"><b>{y}</b></td>' for y in ("2023", "2022", "2023", "2022"))
        + "</tr>"
    )
    for label, values, kind in PELLWORTH_HIGHLIGHTS:
        dollar = "$" if kind in ("money", "eps") else ""
        cells = "".join(f'<td class="prntar">{dollar}{_fmt_thousands(v, kind)}</td>' for v in values)
        rows.append(f'<tr><td class="prntal">{esc(label)}</td>{cells}</tr>')
    caption = (
        "<p><b>PELLWORTH INSTRUMENTS, INC.<br/>FINANCIAL HIGHLIGHTS<br/>"
        "(Unaudited; in thousands, except per share amounts and percentages)</b></p>"
    )
    return (
        caption
        + '\n<div class="table-responsive"><table class="prnbcc" cellspacing="0" cellpadding="0">\n'
        + "\n".join(rows)
        + "\n</table></div>"
    )


def pellworth_release() -> tuple[dict[str, str], str]:
    return read_article("press_pellworth_q4_2023.txt")


# The wire copy differs from the exhibit: a wire dateline, the two sentences of the conference-call paragraph
# reworded, a SOURCE line, and its own page chrome and table markup. README/tests quote the resulting word-5-gram Jaccard.
WIRE_DATELINE = EDGAR_8K_PELLWORTH["wire_dateline"]
WIRE_EDITS = EDGAR_8K_PELLWORTH["wire_edits"]


def pellworth_wire_body() -> str:
    _, body = pellworth_release()
    first, rest = body.split("\n", 1)
    body = WIRE_DATELINE + first + "\n" + rest
    for old, new in WIRE_EDITS:
        assert old in body, old
        body = body.replace(old, new)
    return body.replace("{{TABLE}}", "{{TABLE}}\n\nSOURCE Pellworth Instruments, Inc.")


def build_ex991_html() -> str:
    meta, body = pellworth_release()
    inner = body_to_html(body, heading_tag="h3", table_html=pellworth_table_html("filing"))
    # filing agents style headings as bold underlined paragraphs rather than <h3>
    inner = re.sub(r"<h3>(.*?)</h3>", r'<p style="margin-top:12pt"><b><u>\1</u></b></p>', inner)
    inner = inner.replace("<p>", '<p style="text-align:justify">')
    # filing agents set bullets as indented paragraphs with a bullet character, not as <ul>
    inner = re.sub(
        r"<ul>(.*?)</ul>",
        lambda m: "\n".join(
            f'<p style="margin-left:24pt;text-indent:-12pt">&#8226;&#160;&#160;{item}</p>'
            for item in re.findall(r"<li>(.*?)</li>", m.group(1))
        ),
        inner,
    )
    return (
        "<html>\n<head>\n<title>Exhibit 99.1</title>\n</head>\n"
        "<body style=\"font-family:'Times New Roman',serif;font-size:10pt\">\n"
        '<p style="text-align:right"><b>Exhibit 99.1</b></p>\n'
        '<p style="text-align:center"><img src="logo.jpg" alt="Pellworth Instruments logo" style="width:160px"/></p>\n'
        f'<p style="text-align:center"><b>{esc(meta["title"])}</b></p>\n'
        f'<p style="text-align:center"><i>{esc(meta["dek"])}</i></p>\n'
        f"{inner}\n"
        '<p style="text-align:center">###</p>\n'
        "</body>\n</html>"
    )


def build_8k_main_html() -> str:
    """The 8-K's primary document (``sample_texts/edgar_8k_main.html``; ``{box}``: an empty check box)."""
    return fill(read_text("edgar_8k_main.html")[:-1], box="&#9744;")


def fake_jpeg(seed: str, size: int = 420) -> bytes:
    """A small byte string shaped like a JPEG (SOI, JFIF APP0, filler, EOI) for the GRAPHIC document."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x01\x00\x48\x00\x48\x00\x00"
    filler = b""
    counter = 0
    while len(filler) < size:
        filler += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return b"\xff\xd8" + app0 + b"\xff\xdb" + filler[:size] + b"\xff\xd9"


def uuencode(data: bytes, filename: str) -> str:
    lines = [f"begin 644 {filename}"]
    for i in range(0, len(data), 45):
        lines.append(binascii.b2a_uu(data[i : i + 45]).decode("ascii").rstrip("\n"))
    lines.append("")
    lines.append("end")
    return "\n".join(lines)


def sec_header(
    *,
    accession: str,
    filed: str,
    form: str,
    period: str,
    doc_count: int,
    company: dict[str, str],
    items: list[str],
    acceptance: str | None,
    sec_act: str,
    sros: str | None = None,
    date_of_change: str | None = None,
    org_line: bool = True,
) -> str:
    """An EDGAR ``<SEC-HEADER>`` block laid out like the real ones (tabs included)."""
    lines = [f"<SEC-DOCUMENT>{accession}.txt : {filed}", f"<SEC-HEADER>{accession}.hdr.sgml : {filed}"]
    if acceptance:
        lines.append(f"<ACCEPTANCE-DATETIME>{acceptance}")
    lines += [
        f"ACCESSION NUMBER:\t\t{accession}",
        f"CONFORMED SUBMISSION TYPE:\t{form}",
        f"PUBLIC DOCUMENT COUNT:\t\t{doc_count}",
        f"CONFORMED PERIOD OF REPORT:\t{period}",
    ]
    lines += [f"ITEM INFORMATION:\t\t{item}" for item in items]
    lines.append(f"FILED AS OF DATE:\t\t{filed}")
    if date_of_change:
        lines.append(f"DATE AS OF CHANGE:\t\t{date_of_change}")
    if sros:
        lines.append(f"SROS:\t\t\t{sros}")
    c = company
    lines += [
        "",
        "FILER:",
        "",
        "\tCOMPANY DATA:",
        f"\t\tCOMPANY CONFORMED NAME:\t\t\t{c['name']}",
        f"\t\tCENTRAL INDEX KEY:\t\t\t{c['cik']}",
        f"\t\tSTANDARD INDUSTRIAL CLASSIFICATION:\t{c['sic']}",
    ]
    if org_line and c.get("org"):
        lines.append(f"\t\tORGANIZATION NAME:           \t{c['org']}")
    lines += [
        f"\t\tIRS NUMBER:\t\t\t\t{c['irs']}",
        f"\t\tSTATE OF INCORPORATION:\t\t\t{c['state']}",
        f"\t\tFISCAL YEAR END:\t\t\t{c['fye']}",
        "",
        "\tFILING VALUES:",
        f"\t\tFORM TYPE:\t\t{form}",
        f"\t\tSEC ACT:\t\t{sec_act}",
        f"\t\tSEC FILE NUMBER:\t{c['file_no']}",
        f"\t\tFILM NUMBER:\t\t{c['film']}",
        "",
        "\tBUSINESS ADDRESS:",
        f"\t\tSTREET 1:\t\t{c['street']}",
        f"\t\tCITY:\t\t\t{c['city']}",
        f"\t\tSTATE:\t\t\t{c['st']}",
        f"\t\tZIP:\t\t\t{c['zip']}",
        f"\t\tBUSINESS PHONE:\t\t{c['phone']}",
        "",
        "\tMAIL ADDRESS:",
        f"\t\tSTREET 1:\t\t{c['street']}",
        f"\t\tCITY:\t\t\t{c['city']}",
        f"\t\tSTATE:\t\t\t{c['st']}",
        f"\t\tZIP:\t\t\t{c['zip']}",
        "</SEC-HEADER>",
    ]
    return "\n".join(lines)


def sec_document(doc_type: str, sequence: int, filename: str | None, description: str, text: str) -> str:
    lines = ["<DOCUMENT>", f"<TYPE>{doc_type}", f"<SEQUENCE>{sequence}"]
    if filename:
        lines.append(f"<FILENAME>{filename}")
    lines += [f"<DESCRIPTION>{description}", "<TEXT>", text, "</TEXT>", "</DOCUMENT>"]
    return "\n".join(lines)


def build_8k_submission() -> str:
    header = sec_header(
        accession=PELLWORTH["accession"],
        filed="20240208",
        form="8-K",
        period="20240208",
        doc_count=3,
        company=PELLWORTH,
        items=["Results of Operations and Financial Condition", "Financial Statements and Exhibits"],
        acceptance="20240208070512",
        sec_act="1934 Act",
        date_of_change="20240208",
    )
    docs = [
        sec_document("8-K", 1, "plwi-20240208.htm", "8-K", build_8k_main_html()),
        sec_document("EX-99.1", 2, "plwi-ex99_1.htm", "EX-99.1", build_ex991_html()),
        sec_document("GRAPHIC", 3, "logo.jpg", "GRAPHIC", uuencode(fake_jpeg("pellworth-logo"), "logo.jpg")),
    ]
    return header + "\n" + "\n".join(docs) + "\n</SEC-DOCUMENT>\n"


# ---------------------------------------------------------------------------------------------
# EDGAR: a 1990s-style plain-text 10-K full submission (PEM wrapper, <PAGE> markers, EX-27)
# ---------------------------------------------------------------------------------------------

TENK_CHESSAWAY_1997 = read_json("tenk_chessaway_1997.json")
CHESSAWAY = TENK_CHESSAWAY_1997["company"]

PAGE_WIDTH = 78
LINES_PER_PAGE = 64

TOC_1997 = TENK_CHESSAWAY_1997["toc"]


def _toc_lines(pages: dict[str, int]) -> list[str]:
    out = [" " * 72 + "Page", " " * 72 + "----", ""]
    for label, key in TOC_1997:
        if key is None:
            if out[-1] != "":
                out.append("")
            out.append(label.center(PAGE_WIDTH - 6).rstrip())
            out.append("")
            continue
        page = pages.get(key, 0)
        parts = label.split("|")
        for part in parts[:-1]:
            out.append(part)
        last = parts[-1] if len(parts) == 1 else "            " + parts[-1]
        dots = "." * max(3, 70 - len(last))
        out.append(f"{last}{dots}{page:>6}")
    return out


def _render_1997(pages_for_toc: dict[str, int]) -> tuple[list[list[str]], dict[str, int]]:
    """Lay the template out into pages of text lines; return the pages and where each heading landed."""
    src = read_text("tenk_chessaway_1997.txt").splitlines()
    # 1) logical lines with forced page breaks marked as None
    logical: list[str | None] = []
    i = 0
    para: list[str] = []

    def flush_para() -> None:
        if para:
            text = " ".join(s.strip() for s in para)
            logical.extend(
                textwrap.wrap(text, width=PAGE_WIDTH - 4, initial_indent="     ", break_on_hyphens=False)
            )
            logical.append("")
            para.clear()

    while i < len(src):
        line = src[i]
        if line.startswith("@pre"):
            flush_para()
            i += 1
            while not src[i].startswith("@end"):
                logical.append(src[i].rstrip())
                i += 1
            logical.append("")
        elif line.startswith("@page"):
            flush_para()
            logical.append(None)
        elif line.startswith("@c"):
            flush_para()
            text = line[2:].strip()
            logical.append(text.center(PAGE_WIDTH).rstrip() if text else "")
            if text == "TABLE OF CONTENTS":
                logical.append("")
                logical.extend(_toc_lines(pages_for_toc))
        elif line.startswith("# "):
            flush_para()
            if logical and logical[-1]:
                logical.append("")
            logical.extend(
                textwrap.wrap(line[2:].strip(), width=PAGE_WIDTH - 4, subsequent_indent="          ")
            )
            logical.append("")
        elif not line.strip():
            flush_para()
        else:
            if not para and logical and logical[-1]:
                logical.append("")
            para.append(line)
        i += 1
    flush_para()
    # 2) paginate: forced breaks plus a maximum page length
    pages: list[list[str]] = [[]]
    for item in logical:
        if item is None:
            if pages[-1]:
                pages.append([])
            continue
        if len(pages[-1]) >= LINES_PER_PAGE and item == "":
            pages.append([])
            continue
        if not pages[-1] and item == "":
            continue
        pages[-1].append(item)
    where: dict[str, int] = {}
    for number, page in enumerate(pages, start=1):
        for text in page:
            stripped = text.strip()
            for _, key in TOC_1997:
                if key and key != "@SIGNATURES" and stripped.startswith(key) and key not in where:
                    where[key] = number
            if stripped == "SIGNATURES" and "@SIGNATURES" not in where:
                where["@SIGNATURES"] = number
    return pages, where


EX27_1997 = read_text("tenk_chessaway_1997_ex27.txt")[:-1]  # without the final newline


def pem_block(seed: str) -> tuple[str, str]:
    """A PRIVACY-ENHANCED MESSAGE wrapper with made-up key material, as 1990s EDGAR files carry."""

    def b64(tag: str, n: int) -> str:
        raw = hashlib.sha512(f"{seed}:{tag}".encode()).digest()
        return base64.b64encode((raw * 2)[:n]).decode("ascii")

    key = b64("key", 96)
    mic = b64("mic", 64)
    head = "\n".join(
        [
            "-----BEGIN PRIVACY-ENHANCED MESSAGE-----",
            "Proc-Type: 2001,MIC-CLEAR",
            "Originator-Name: webmaster@www.sec.gov",
            "Originator-Key-Asymmetric:",
            f" {key[:64]}",
            f" {key[64:]}",
            "MIC-Info: RSA-MD5,RSA,",
            f" {mic[:64]}",
            f" {mic[64:]}",
            "",
        ]
    )
    return head, "-----END PRIVACY-ENHANCED MESSAGE-----"


def build_10k_1997_submission() -> str:
    pages, where = _render_1997({})
    pages, where2 = _render_1997(where)
    assert where == where2, "table of contents changed the pagination"
    out_lines: list[str] = []
    for number, page in enumerate(pages, start=1):
        out_lines.append("<PAGE>")
        out_lines.extend(page)
        while out_lines and out_lines[-1] == "":
            out_lines.pop()
        out_lines.append("")
        if number > 1:
            out_lines.append(str(number).center(PAGE_WIDTH).rstrip())
            out_lines.append("")
    text = "\n".join(out_lines)
    header = sec_header(
        accession=CHESSAWAY["accession"],
        filed="19980326",
        form="10-K",
        period="19971231",
        doc_count=2,
        company=CHESSAWAY,
        items=[],
        acceptance=None,
        sec_act="",
        sros="NASD",
        org_line=False,
    )
    docs = [
        sec_document("10-K", 1, None, "FORM 10-K FOR FISCAL YEAR ENDED DECEMBER 31, 1997", "\n" + text),
        sec_document("EX-27", 2, None, "FINANCIAL DATA SCHEDULE", "\n<TABLE> <S> <C>\n\n" + EX27_1997),
    ]
    pem_head, pem_tail = pem_block(CHESSAWAY["accession"])
    return pem_head + "\n" + header + "\n" + "\n".join(docs) + "\n</SEC-DOCUMENT>\n" + pem_tail + "\n"


# ---------------------------------------------------------------------------------------------
# EDGAR: a modern inline-XBRL 10-K primary document (Meridian Harbor Financial Corp.)
# ---------------------------------------------------------------------------------------------

MRDN_CIK = "0001999003"
MRDN_FOOTER = "Meridian Harbor Financial Corp. | 2023 Form 10-K | {n}"

TENK_MERIDIAN_2023 = read_json("tenk_meridian_2023.json")
MRDN_INCOME = TENK_MERIDIAN_2023["income"]
MRDN_LOANS = TENK_MERIDIAN_2023["loans"]
MRDN_NII = TENK_MERIDIAN_2023["nii"]
MRDN_EXHIBITS = TENK_MERIDIAN_2023["exhibits"]

_FACT_COUNTER = [0]


def _fact_id() -> str:
    _FACT_COUNTER[0] += 1
    return f"f-{_FACT_COUNTER[0]}"


def smart_quotes(text: str) -> str:
    """Typographic quotes and apostrophes as the filing agents emit them (as character references)."""
    text = re.sub(r"(\w)'(\w)", "\\1&#8217;\\2", text)
    text = re.sub(r"(\s|^|\()\"", "\\1&#8220;", text)
    text = text.replace('"', "&#8221;")
    text = re.sub(r"(\w)'", "\\1&#8217;", text)
    return text


SPAN = "color:#000000;font-family:'Times New Roman',serif;font-size:10pt;line-height:120%"


def _div(
    text: str,
    *,
    bold: bool = False,
    align: str = "justify",
    top: int = 6,
    size: int = 10,
    italic: bool = False,
    anchor: str = "",
) -> str:
    weight = "700" if bold else "400"
    style = SPAN.replace("font-size:10pt", f"font-size:{size}pt") + f";font-weight:{weight}"
    if italic:
        style += ";font-style:italic"
    ident = f' id="{anchor}"' if anchor else ""
    return (
        f'<div{ident} style="margin-top:{top}pt;text-align:{align}"><span style="{style}">{text}</span></div>'
    )


def _nonfraction(name: str, ctx: str, value: float, kind: str) -> str:
    if kind == "eps":
        shown, unit, dec, scale = f"{value:.2f}", "usdPerShare", "2", "0"
    elif kind == "shares":
        shown, unit, dec, scale = f"{int(value):,}", "shares", "-3", "3"
    else:
        shown, unit, dec, scale = f"{int(value):,}", "usd", "-3", "3"
    return (
        f'<ix:nonFraction unitRef="{unit}" contextRef="{ctx}" decimals="{dec}" name="{name}" '
        f'format="ixt:num-dot-decimal" scale="{scale}" id="{_fact_id()}">{shown}</ix:nonFraction>'
    )


def _fin_table(header: list[str], rows: list[str]) -> str:
    th = "".join(
        f'<td colspan="3" style="padding:2px 1pt;text-align:center;border-bottom:1pt solid #000000"><span style="{SPAN};font-weight:700">{h}</span></td>'
        for h in header
    )
    return (
        '<div style="margin-top:8pt"><table style="border-collapse:collapse;display:inline-table;width:100%">'
        f'<tr><td style="width:58%"></td>{th}</tr>' + "".join(rows) + "</table></div>"
    )


def _money_cells(values: list[str], dollar: bool) -> str:
    out = ""
    for v in values:
        sign = "$" if dollar else ""
        out += (
            f'<td style="padding:2px 1pt;width:1%"><span style="{SPAN}">{sign}</span></td>'
            f'<td style="padding:2px 1pt;text-align:right;width:17%"><span style="{SPAN}">{v}</span></td>'
            '<td style="width:3%"></td>'
        )
    return out


def mrdn_income_table() -> str:
    rows = []
    for label, concept, v23, v22, kind in MRDN_INCOME:
        cells = _money_cells(
            [_nonfraction(concept, "c-1", v23, kind), _nonfraction(concept, "c-2", v22, kind)],
            dollar=kind in ("money", "eps"),
        )
        weight = "700" if kind in ("total", "money") else "400"
        rows.append(
            f'<tr><td style="padding:2px 1pt"><span style="{SPAN};font-weight:{weight}">{label}</span></td>{cells}</tr>'
        )
    title = _div(
        "MERIDIAN HARBOR FINANCIAL CORP. AND SUBSIDIARY<br/>CONSOLIDATED STATEMENTS OF INCOME<br/>(In thousands, except per share data)",
        bold=True,
        align="center",
        top=12,
    )
    return title + _fin_table(["Year Ended December 31, 2023", "Year Ended December 31, 2022"], rows)


def mrdn_loans_table() -> str:
    rows = []
    total23 = sum(r[1] for r in MRDN_LOANS)
    total22 = sum(r[2] for r in MRDN_LOANS)
    for i, (label, v23, v22) in enumerate(MRDN_LOANS):
        cells = _money_cells([f"{v23:,}", f"{v22:,}"], dollar=i == 0)
        rows.append(f'<tr><td style="padding:2px 1pt"><span style="{SPAN}">{label}</span></td>{cells}</tr>')
    cells = _money_cells(
        [
            f'<ix:nonFraction unitRef="usd" contextRef="c-3" decimals="-3" name="us-gaap:FinancingReceivableExcludingAccruedInterestBeforeAllowanceForCreditLoss" format="ixt:num-dot-decimal" scale="3" id="{_fact_id()}">{total23:,}</ix:nonFraction>',
            f'<ix:nonFraction unitRef="usd" contextRef="c-4" decimals="-3" name="us-gaap:FinancingReceivableExcludingAccruedInterestBeforeAllowanceForCreditLoss" format="ixt:num-dot-decimal" scale="3" id="{_fact_id()}">{total22:,}</ix:nonFraction>',
        ],
        dollar=True,
    )
    rows.append(
        f'<tr><td style="padding:2px 1pt"><span style="{SPAN};font-weight:700">Total loans</span></td>{cells}</tr>'
    )
    return _fin_table(["December 31, 2023<br/>(In thousands)", "December 31, 2022<br/>(In thousands)"], rows)


def mrdn_nii_table() -> str:
    rows = []
    for shift, change in MRDN_NII:
        rows.append(
            f'<tr><td style="padding:2px 1pt"><span style="{SPAN}">{shift} basis points</span></td>'
            f'<td colspan="3" style="text-align:center"><span style="{SPAN}">{change}%</span></td></tr>'
        )
    th = f'<td colspan="3" style="text-align:center;border-bottom:1pt solid #000000"><span style="{SPAN};font-weight:700">Estimated change in net interest income over 12 months</span></td>'
    head = f'<tr><td style="width:58%;border-bottom:1pt solid #000000"><span style="{SPAN};font-weight:700">Change in interest rates</span></td>{th}</tr>'
    return (
        '<div style="margin-top:8pt"><table style="border-collapse:collapse;width:100%">'
        + head
        + "".join(rows)
        + "</table></div>"
    )


def mrdn_exhibits_table() -> str:
    rows = [
        f'<tr><td style="padding:2px 1pt;width:12%;vertical-align:top"><span style="{SPAN}">{num}</span></td>'
        f'<td style="padding:2px 1pt"><span style="{SPAN}">{desc}</span></td></tr>'
        for num, desc in MRDN_EXHIBITS
    ]
    head = f'<tr><td style="border-bottom:1pt solid #000000"><span style="{SPAN};font-weight:700">Exhibit No.</span></td><td style="border-bottom:1pt solid #000000"><span style="{SPAN};font-weight:700">Description</span></td></tr>'
    note = _div("* Management contract or compensatory plan or arrangement.", top=4, size=9)
    return (
        '<div style="margin-top:8pt"><table style="border-collapse:collapse;width:100%">'
        + head
        + "".join(rows)
        + "</table></div>"
        + note
    )


def mrdn_signatures() -> str:
    people = [
        (
            "/s/ Elaine M. Trask",
            "President, Chief Executive Officer and Director (Principal Executive Officer)",
        ),
        (
            "/s/ Raymond K. Ostrowski",
            "Executive Vice President and Chief Financial Officer (Principal Financial Officer)",
        ),
        (
            "/s/ Lucinda P. Farrow",
            "Senior Vice President and Chief Accounting Officer (Principal Accounting Officer)",
        ),
        ("/s/ Gideon A. Marsh", "Chairman of the Board"),
    ]
    rows = "".join(
        f'<tr><td style="width:35%;padding:4px 1pt"><span style="{SPAN}">{sig}</span></td>'
        f'<td style="padding:4px 1pt"><span style="{SPAN}">{title}</span></td>'
        f'<td style="width:18%;padding:4px 1pt"><span style="{SPAN}">February 28, 2024</span></td></tr>'
        for sig, title in people
    )
    return (
        '<div style="margin-top:8pt"><table style="border-collapse:collapse;width:100%">'
        + rows
        + "</table></div>"
    )


def mrdn_cover() -> str:
    on, off = "&#9746;", "&#9744;"
    fid = _fact_id
    parts = [
        _div("UNITED STATES", bold=True, align="center", size=13, top=0),
        _div("SECURITIES AND EXCHANGE COMMISSION", bold=True, align="center", size=13, top=0),
        _div("Washington, D.C. 20549", bold=True, align="center", top=0),
        _div(
            f'FORM <ix:nonNumeric contextRef="c-1" name="dei:DocumentType" id="{fid()}">10-K</ix:nonNumeric>',
            bold=True,
            align="center",
            size=16,
            top=10,
        ),
        _div(
            f'<ix:nonNumeric contextRef="c-1" name="dei:DocumentAnnualReport" format="ixt-sec:boolballotbox" id="{fid()}">{on}</ix:nonNumeric> '
            "ANNUAL REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE SECURITIES EXCHANGE ACT OF 1934",
            bold=True,
            top=10,
        ),
        _div(
            f'For the fiscal year ended <ix:nonNumeric contextRef="c-1" name="dei:DocumentPeriodEndDate" format="ixt:date-monthname-day-year-en" id="{fid()}">December 31, 2023</ix:nonNumeric>',
            align="center",
        ),
        _div("or", align="center"),
        _div(
            f'<ix:nonNumeric contextRef="c-1" name="dei:DocumentTransitionReport" format="ixt-sec:boolballotbox" id="{fid()}">{off}</ix:nonNumeric> '
            "TRANSITION REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE SECURITIES EXCHANGE ACT OF 1934",
            bold=True,
        ),
        _div(
            f'Commission File Number: <ix:nonNumeric contextRef="c-1" name="dei:EntityFileNumber" id="{fid()}">001-36218</ix:nonNumeric>',
            align="center",
        ),
        _div(
            f'<ix:nonNumeric contextRef="c-1" name="dei:EntityRegistrantName" id="{fid()}">Meridian Harbor Financial Corp.</ix:nonNumeric>',
            bold=True,
            align="center",
            size=16,
            top=10,
        ),
        _div("(Exact name of registrant as specified in its charter)", align="center", size=8, top=0),
        '<div style="margin-top:8pt"><table style="border-collapse:collapse;width:100%"><tr>'
        f'<td style="width:50%;text-align:center"><span style="{SPAN};font-weight:700"><ix:nonNumeric contextRef="c-1" name="dei:EntityIncorporationStateCountryCode" format="ixt-sec:stateprovnameen" id="{fid()}">Delaware</ix:nonNumeric></span></td>'
        f'<td style="width:50%;text-align:center"><span style="{SPAN};font-weight:700"><ix:nonNumeric contextRef="c-1" name="dei:EntityTaxIdentificationNumber" id="{fid()}">02-0561234</ix:nonNumeric></span></td></tr>'
        f'<tr><td style="text-align:center"><span style="{SPAN};font-size:8pt">(State or other jurisdiction of incorporation or organization)</span></td>'
        f'<td style="text-align:center"><span style="{SPAN};font-size:8pt">(I.R.S. Employer Identification No.)</span></td></tr></table></div>',
        _div(
            f'<ix:nonNumeric contextRef="c-1" name="dei:EntityAddressAddressLine1" id="{fid()}">200 Market Street</ix:nonNumeric>, '
            f'<ix:nonNumeric contextRef="c-1" name="dei:EntityAddressCityOrTown" id="{fid()}">Portsmouth</ix:nonNumeric>, '
            f'<ix:nonNumeric contextRef="c-1" name="dei:EntityAddressStateOrProvince" format="ixt-sec:stateprovnameen" id="{fid()}">New Hampshire</ix:nonNumeric> '
            f'<ix:nonNumeric contextRef="c-1" name="dei:EntityAddressPostalZipCode" id="{fid()}">03801</ix:nonNumeric>',
            bold=True,
            align="center",
            top=10,
        ),
        _div("(Address of principal executive offices) (Zip Code)", align="center", size=8, top=0),
        _div(
            f'(<ix:nonNumeric contextRef="c-1" name="dei:CityAreaCode" id="{fid()}">603</ix:nonNumeric>) '
            f'<ix:nonNumeric contextRef="c-1" name="dei:LocalPhoneNumber" id="{fid()}">555-0142</ix:nonNumeric>',
            bold=True,
            align="center",
        ),
        _div("(Registrant&#8217;s telephone number, including area code)", align="center", size=8, top=0),
        _div("Securities registered pursuant to Section 12(b) of the Act:", top=10),
        '<div style="margin-top:4pt"><table style="border-collapse:collapse;width:100%">'
        f'<tr><td style="border-bottom:1pt solid #000000;text-align:center"><span style="{SPAN};font-weight:700">Title of each class</span></td>'
        f'<td style="border-bottom:1pt solid #000000;text-align:center"><span style="{SPAN};font-weight:700">Trading Symbol(s)</span></td>'
        f'<td style="border-bottom:1pt solid #000000;text-align:center"><span style="{SPAN};font-weight:700">Name of each exchange on which registered</span></td></tr>'
        f'<tr><td style="text-align:center"><span style="{SPAN}"><ix:nonNumeric contextRef="c-1" name="dei:Security12bTitle" id="{fid()}">Common Stock, par value $0.01 per share</ix:nonNumeric></span></td>'
        f'<td style="text-align:center"><span style="{SPAN}"><ix:nonNumeric contextRef="c-1" name="dei:TradingSymbol" id="{fid()}">MRDN</ix:nonNumeric></span></td>'
        f'<td style="text-align:center"><span style="{SPAN}"><ix:nonNumeric contextRef="c-1" name="dei:SecurityExchangeName" format="ixt-sec:exchnameen" id="{fid()}">The Nasdaq Stock Market LLC</ix:nonNumeric></span></td></tr></table></div>',
        _div("Securities registered pursuant to Section 12(g) of the Act: None", top=6),
        _div(
            f"Indicate by check mark if the registrant is a well-known seasoned issuer, as defined in Rule 405 of the Securities Act. Yes {off} No "
            f'<ix:nonNumeric contextRef="c-1" name="dei:EntityWellKnownSeasonedIssuer" format="ixt:fixed-false" id="{fid()}">{on}</ix:nonNumeric>'
        ),
        _div(
            "Indicate by check mark whether the registrant (1) has filed all reports required to be filed by Section 13 or 15(d) of the Securities Exchange Act of 1934 during the preceding 12 months (or for such shorter period that the registrant was required to file such reports), and (2) has been subject to such filing requirements for the past 90 days. "
            f'Yes <ix:nonNumeric contextRef="c-1" name="dei:EntityCurrentReportingStatus" format="ixt:fixed-true" id="{fid()}">{on}</ix:nonNumeric> No {off}'
        ),
        _div(
            f"Large accelerated filer {off} Accelerated filer {on} Non-accelerated filer {off} Smaller reporting company {off} Emerging growth company "
            f'<ix:nonNumeric contextRef="c-1" name="dei:EntityEmergingGrowthCompany" format="ixt:fixed-false" id="{fid()}">{off}</ix:nonNumeric>'
        ),
        _div(
            f'Indicate by check mark whether the registrant is a shell company (as defined in Rule 12b-2 of the Act). Yes {off} No <ix:nonNumeric contextRef="c-1" name="dei:EntityShellCompany" format="ixt:fixed-false" id="{fid()}">{on}</ix:nonNumeric>'
        ),
        _div(
            "The aggregate market value of the voting common equity held by non-affiliates of the registrant, computed by reference to the closing price of the common stock on the Nasdaq Global Select Market on June 30, 2023, was approximately $"
            f'<ix:nonFraction unitRef="usd" contextRef="c-5" decimals="-6" name="dei:EntityPublicFloat" format="ixt:num-dot-decimal" scale="6" id="{fid()}">612</ix:nonFraction> million.'
        ),
        _div(
            "As of February 16, 2024, there were "
            f'<ix:nonFraction unitRef="shares" contextRef="c-6" decimals="INF" name="dei:EntityCommonStockSharesOutstanding" format="ixt:num-dot-decimal" scale="0" id="{fid()}">26,512,884</ix:nonFraction>'
            " shares of the registrant&#8217;s common stock outstanding."
        ),
        _div("DOCUMENTS INCORPORATED BY REFERENCE", bold=True, align="center", top=10),
        _div(
            "Portions of the registrant&#8217;s definitive proxy statement for its 2024 Annual Meeting of Shareholders are incorporated by reference into Part III of this Annual Report on Form 10-K."
        ),
    ]
    return "\n".join(parts)


def mrdn_toc(pages: dict[str, int], entries: list[tuple[str, str, str]]) -> str:
    rows = [
        f'<tr><td colspan="3" style="padding:2px 1pt;text-align:center"><span style="{SPAN};font-weight:700">TABLE OF CONTENTS</span></td></tr>',
        f'<tr><td style="width:14%"></td><td style="width:76%"></td><td style="width:10%;text-align:right"><span style="{SPAN};font-weight:700">Page</span></td></tr>',
    ]
    for kind, label, anchor in entries:
        if kind == "part":
            rows.append(
                f'<tr><td colspan="3" style="padding:6px 1pt 2px"><span style="{SPAN};font-weight:700">{label}</span></td></tr>'
            )
            continue
        item, _, title = smart_quotes(esc(label)).partition(". ")
        rows.append(
            f'<tr><td style="padding:2px 1pt"><span style="{SPAN}"><a href="#{anchor}" style="color:#0000ff;text-decoration:underline">{item}.</a></span></td>'
            f'<td style="padding:2px 1pt"><span style="{SPAN}"><a href="#{anchor}" style="color:#0000ff;text-decoration:underline">{title}</a></span></td>'
            f'<td style="padding:2px 1pt;text-align:right"><span style="{SPAN}">{pages[anchor]}</span></td></tr>'
        )
    return '<div><table style="border-collapse:collapse;width:100%">' + "".join(rows) + "</table></div>"


def _mrdn_anchor(title: str) -> str:
    item = title.split(".")[0].replace("Item ", "item").lower()
    return f"i_{item}"


def ixbrl_header() -> str:
    hidden = [
        ("dei:AmendmentFlag", "false", ""),
        ("dei:DocumentFiscalYearFocus", "2023", ""),
        ("dei:DocumentFiscalPeriodFocus", "FY", ""),
        ("dei:EntityCentralIndexKey", MRDN_CIK, ""),
        ("dei:CurrentFiscalYearEndDate", "--12-31", ""),
        ("dei:EntityFilerCategory", "Accelerated Filer", ""),
        ("dei:EntitySmallBusiness", "false", ""),
        ("dei:IcfrAuditorAttestationFlag", "true", ""),
        ("dei:DocumentFinStmtErrorCorrectionFlag", "false", ""),
        ("dei:AuditorName", "Calder &amp; Voss LLP", ""),
        ("dei:AuditorLocation", "Boston, Massachusetts", ""),
        ("dei:AuditorFirmId", "4127", ""),
    ]
    facts = "".join(
        f'<ix:nonNumeric contextRef="c-1" name="{name}" id="h-{i}">{value}</ix:nonNumeric>'
        for i, (name, value, _) in enumerate(hidden, start=1)
    )
    ident = f'<xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">{MRDN_CIK}</xbrli:identifier></xbrli:entity>'

    def ctx(cid: str, period: str) -> str:
        return f'<xbrli:context id="{cid}">{ident}<xbrli:period>{period}</xbrli:period></xbrli:context>'

    contexts = "".join(
        [
            ctx(
                "c-1",
                "<xbrli:startDate>2023-01-01</xbrli:startDate><xbrli:endDate>2023-12-31</xbrli:endDate>",
            ),
            ctx(
                "c-2",
                "<xbrli:startDate>2022-01-01</xbrli:startDate><xbrli:endDate>2022-12-31</xbrli:endDate>",
            ),
            ctx("c-3", "<xbrli:instant>2023-12-31</xbrli:instant>"),
            ctx("c-4", "<xbrli:instant>2022-12-31</xbrli:instant>"),
            ctx("c-5", "<xbrli:instant>2023-06-30</xbrli:instant>"),
            ctx("c-6", "<xbrli:instant>2024-02-16</xbrli:instant>"),
        ]
    )
    units = (
        '<xbrli:unit id="usd"><xbrli:measure>iso4217:USD</xbrli:measure></xbrli:unit>'
        '<xbrli:unit id="shares"><xbrli:measure>xbrli:shares</xbrli:measure></xbrli:unit>'
        '<xbrli:unit id="usdPerShare"><xbrli:divide><xbrli:unitNumerator><xbrli:measure>iso4217:USD</xbrli:measure></xbrli:unitNumerator>'
        "<xbrli:unitDenominator><xbrli:measure>xbrli:shares</xbrli:measure></xbrli:unitDenominator></xbrli:divide></xbrli:unit>"
    )
    return (
        '<div style="display:none"><ix:header>'
        f"<ix:hidden>{facts}</ix:hidden>"
        '<ix:references xml:lang="en-US"><link:schemaRef xlink:type="simple" xlink:href="mrdn-20231231.xsd"/></ix:references>'
        f"<ix:resources>{contexts}{units}</ix:resources>"
        "</ix:header></div>"
    )


def build_mrdn_10k() -> str:
    _FACT_COUNTER[0] = 0
    template = read_text("tenk_meridian_2023.txt")
    # pass 1: which page each item lands on
    lines = template.splitlines()
    page = 1
    pages: dict[str, int] = {}
    toc_entries: list[tuple[str, str, str]] = []
    for line in lines:
        if line.strip() == "{{PAGE}}":
            page += 1
        elif line.startswith("# "):
            toc_entries.append(("part", line[2:].strip(), ""))
        elif line.startswith("## "):
            anchor = _mrdn_anchor(line[3:].strip())
            pages[anchor] = page
            toc_entries.append(("item", line[3:].strip(), anchor))
    # pass 2: render
    out: list[str] = []
    page = 1
    para: list[str] = []

    def flush() -> None:
        if para:
            out.append(_div(smart_quotes(esc(" ".join(para)))))
            para.clear()

    for line in lines:
        s = line.strip()
        if not s:
            flush()
            continue
        if s.startswith("{{") and s.endswith("}}"):
            flush()
            key = s[2:-2]
            if key == "PAGE":
                out.append(
                    '<div style="margin-top:12pt;text-align:center"><span style="'
                    + SPAN.replace("10pt", "8pt")
                    + '">'
                    + esc(MRDN_FOOTER.format(n=page))
                    + '</span></div><hr style="page-break-after:always"/>'
                )
                page += 1
            elif key == "COVER":
                out.append(mrdn_cover())
            elif key == "TOC":
                out.append(mrdn_toc(pages, toc_entries))
            elif key == "SIGNATURES":
                out.append(mrdn_signatures())
            elif key == "TABLE:income":
                out.append(mrdn_income_table())
            elif key == "TABLE:loans":
                out.append(mrdn_loans_table())
            elif key == "TABLE:nii":
                out.append(mrdn_nii_table())
            elif key == "TABLE:exhibits":
                out.append(mrdn_exhibits_table())
            else:
                raise ValueError(f"unknown directive {key}")
        elif s.startswith("### "):
            flush()
            out.append(_div(smart_quotes(esc(s[4:])), bold=True, top=10))
        elif s.startswith("## "):
            flush()
            title = s[3:]
            out.append(_div(smart_quotes(esc(title)), bold=True, top=14, size=11, anchor=_mrdn_anchor(title)))
        elif s.startswith("# "):
            flush()
            out.append(_div(esc(s[2:]), bold=True, align="center", top=14, size=11))
        else:
            para.append(s)
    flush()
    namespaces = (
        'xmlns="http://www.w3.org/1999/xhtml" xmlns:xbrli="http://www.xbrl.org/2003/instance" '
        'xmlns:link="http://www.xbrl.org/2003/linkbase" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'xmlns:ix="http://www.xbrl.org/2013/inlineXBRL" xmlns:ixt="http://www.xbrl.org/inlineXBRL/transformation/2020-02-12" '
        'xmlns:ixt-sec="http://www.sec.gov/inlineXBRL/transformation/2015-08-31" xmlns:iso4217="http://www.xbrl.org/2003/iso4217" '
        'xmlns:us-gaap="http://fasb.org/us-gaap/2023" xmlns:dei="http://xbrl.sec.gov/dei/2023" '
        'xmlns:xbrldi="http://xbrl.org/2006/xbrldi" xmlns:mrdn="http://www.meridianharborfinancial.com/20231231"'
    )
    doc = (
        "<?xml version='1.0' encoding='ASCII'?>\n"
        "<!-- Document prepared for the FinPile Builder sample corpus; all content is fictional. -->\n"
        f'<html {namespaces} xml:lang="en-US"><head><meta http-equiv="Content-Type" content="text/html"/>\n'
        "<title>mrdn-20231231</title></head><body>"
        + ixbrl_header()
        + "\n"
        + "\n".join(out)
        + "\n</body></html>\n"
    )
    return doc.encode("ascii", "xmlcharrefreplace").decode("ascii")


# ---------------------------------------------------------------------------------------------
# Web: WARC file with news, a wire press release, duplicates, German, spam, a general page, PII ...
# ---------------------------------------------------------------------------------------------

WEB_SITES = read_json("web_sites.json")
SITES = WEB_SITES["sites"]

COOKIE_EN = WEB_SITES["cookie_en"]


def news_page_html(
    site_key: str,
    url: str,
    meta: dict[str, str],
    body_html: str,
    *,
    lang: str = "en",
    canonical: str | None = None,
) -> str:
    site = SITES[site_key]
    date = iso_to_dt(meta["date"])
    human = date.strftime("%B %d, %Y %I:%M %p UTC").replace(" 0", " ")
    if lang == "de":
        human = f"{date.day:02d}.{date.month:02d}.{date.year} - {date:%H:%M} Uhr"
    nav = "".join(
        f'<li><a href="/{n.lower().replace(" ", "-").replace(chr(39), "")}/">{n}</a></li>'
        for n in site["nav"]
    )
    related = "".join(
        f'<li><a href="/related/{stable_hex(site_key, r)}">{r}</a></li>' for r in site["related"]
    )
    cookie = site.get("cookie", COOKIE_EN)
    accept = site.get("accept", "Accept all")
    by = site.get("by", "By")
    ld = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": meta["title"],
            "datePublished": meta["date"],
            "author": [
                {"@type": "Person", "name": n.strip()}
                for n in re.split(r",| and | und ", meta.get("byline", ""))
                if n.strip()
            ],
            "publisher": {"@type": "Organization", "name": site["name"]},
        },
        ensure_ascii=False,
    )
    dek = f'<p class="article-dek">{esc(meta["dek"])}</p>' if meta.get("dek") else ""
    byline = (
        f'<p class="article-byline">{by} <a href="/authors/{stable_hex(meta.get("byline", ""))}">{esc(meta["byline"])}</a></p>'
        if meta.get("byline")
        else ""
    )
    return fill(
        read_text("web_page_news.html"),
        lang=lang,
        title=esc(meta["title"]),
        site_name=site["name"],
        description=html.escape(meta.get("dek", "")),
        og_title=html.escape(meta["title"]),
        canonical_url=canonical or url,
        date=meta["date"],
        css_hash=stable_hex(site_key, "css"),
        ld=ld,
        js_hash=stable_hex(site_key, "js"),
        cookie=cookie,
        accept=accept,
        nav=nav,
        dek=dek,
        byline=byline,
        human=human,
        body_html=body_html,
        related=related,
        footer=site["footer"],
    )


def article_body_html(name: str) -> tuple[dict[str, str], str]:
    meta, body = read_article(name)
    return meta, body_to_html(body)


def shared_article_html(meta: dict[str, str], body_html: str) -> str:
    """The <article> element shared verbatim by the Reuters page and its syndicated copy."""
    dek = f'<p class="article-dek">{esc(meta["dek"])}</p>'
    return f"""<article class="article">
<header class="article-header">
<h1 class="article-headline">{esc(meta["title"])}</h1>
{dek}
<p class="article-byline">By {esc(meta["byline"])}</p>
<time datetime="{meta["date"]}">February 8, 2024 1:47 PM UTC</time>
</header>
<div class="article-body">
{body_html}
</div>
</article>"""


def syndicated_page_html(url: str, canonical: str, meta: dict[str, str], article: str) -> str:
    """Yahoo Finance chrome around the verbatim Reuters article (the exact-duplicate pair)."""
    site = SITES["yahoo"]
    nav = "".join(f'<li><a href="/{n.lower().replace(" ", "-")}/">{n}</a></li>' for n in site["nav"])
    related = "".join(
        f'<li><a href="/news/{stable_hex("yahoo", r)}.html">{r}</a></li>' for r in site["related"]
    )
    return fill(
        read_text("web_page_yahoo.html"),
        title=esc(meta["title"]),
        description=html.escape(meta["dek"]),
        url=url,
        canonical=canonical,
        css_hash=stable_hex("yahoo", "css"),
        nav=nav,
        article=article,
        related=related,
        footer=site["footer"],
    )


def reuters_page_html(url: str, meta: dict[str, str], article: str) -> str:
    site = SITES["reuters"]
    nav = "".join(f'<li><a href="/{n.lower()}/">{n}</a></li>' for n in site["nav"])
    related = "".join(
        f'<li><a href="/business/{stable_hex("reuters", r)}/">{r}</a></li>' for r in site["related"]
    )
    return fill(
        read_text("web_page_reuters.html"),
        title=esc(meta["title"]),
        description=html.escape(meta["dek"]),
        url=url,
        date=meta["date"],
        cookie_en=COOKIE_EN,
        nav=nav,
        article=article,
        related=related,
        footer=site["footer"],
    )


def prnewswire_page_html(url: str) -> str:
    meta, _ = pellworth_release()
    body = pellworth_wire_body()
    inner = body_to_html(body, heading_tag="p", table_html=pellworth_table_html("wire"))
    inner = re.sub(
        r"<p>([^<]{3,80})</p>\n",
        lambda m: f"<p><b>{m.group(1)}</b></p>\n" if m.group(1) in _HEADINGS else m.group(0),
        inner,
    )
    return fill(
        read_text("web_page_prnewswire.html"),
        title=esc(meta["title"]),
        description=html.escape(meta["dek"]),
        url=url,
        cookie_en=COOKIE_EN,
        dek=esc(meta["dek"]),
        inner=inner,
    )


_HEADINGS = set(WEB_SITES["release_headings"])


SPAM_LINES = WEB_SITES["spam_lines"]
SPAM_KEYWORDS = WEB_SITES["spam_keywords"]


def spam_page_html() -> str:
    stuffing = " ".join(SPAM_KEYWORDS * 6)
    repeated = "\n".join(f"<p>{line}</p>" for _ in range(12) for line in SPAM_LINES)
    links = "".join(
        f'<li><a href="/{k.replace(" ", "-")}-{i}.html">{k}</a></li>' for i in range(3) for k in SPAM_KEYWORDS
    )
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>Cheap Loans No Credit Check Fast Approval | Best Payday Loans 24/7</title>
<meta name="keywords" content="{", ".join(SPAM_KEYWORDS)}">
</head>
<body>
<div class="main">
<h1>BEST PAYDAY LOANS ONLINE NO CREDIT CHECK FAST APPROVAL</h1>
{repeated}
<p>{stuffing}</p>
<h2>Payday loans near me</h2>
<ul>{links}</ul>
<p>{stuffing}</p>
{repeated}
</div>
<div class="footer">payday loans | cheap loans | fast loans | bad credit loans | loans online | &copy; best-payday-loans-247</div>
</body>
</html>
"""


EMPTY_PAGE_HTML = read_text("web_empty_page.html")[:-1]  # without the final newline


def tiny_png(width: int = 24, height: int = 12) -> bytes:
    """A valid PNG (a small bar chart in two colours)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    heights = [3, 5, 4, 7, 6, 9, 8, 11]
    rows = b""
    for y in range(height):
        row = b"\x00"
        for x in range(width):
            bar = x // 3
            filled = height - y <= heights[bar % len(heights)]
            row += b"\x1f\x5f\xa8" if filled else b"\xff\xff\xff"
        rows += row
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


# (key, url, kind) in crawl order; build_warc renders each.
WARC_PAGES = WEB_SITES["warc_pages"]
WARC_START = dt.datetime(2024, 2, 9, 3, 14, 7, tzinfo=dt.UTC)
REVISIT_AT = dt.datetime(2024, 2, 10, 4, 2, 51, tzinfo=dt.UTC)
WARC_FILENAME = "news-2024.warc.gz"

WARC_URLS = dict(WARC_PAGES)


def warc_page_payloads() -> list[tuple[str, str, bytes, str]]:
    """(key, url, body bytes, content type) for every response record, in crawl order."""
    reuters_meta, reuters_body = article_body_html("news_reuters_pellworth.txt")
    shared = shared_article_html(reuters_meta, reuters_body)
    out = []
    for key, url in WARC_PAGES:
        ctype = "text/html; charset=utf-8"
        if key == "reuters":
            page = reuters_page_html(url, reuters_meta, shared)
        elif key == "yahoo":
            page = syndicated_page_html(url, WARC_URLS["reuters"], reuters_meta, shared)
        elif key == "cnbc":
            meta, body = article_body_html("news_cnbc_regional_banks.txt")
            page = news_page_html("cnbc", url, meta, body)
        elif key == "marketwatch":
            meta, body = article_body_html("news_marketwatch_treasuries.txt")
            page = news_page_html("marketwatch", url, meta, body)
        elif key == "barrons":
            meta, body = article_body_html("news_barrons_oil.txt")
            page = news_page_html("barrons", url, meta, body)
        elif key == "ft":
            meta, body = article_body_html("news_ft_private_credit.txt")
            page = news_page_html("ft", url, meta, body)
        elif key == "taxhelp":
            meta, body = article_body_html("news_marketwatch_taxhelp.txt")
            page = news_page_html("marketwatch", url, meta, body)
        elif key == "handelsblatt":
            meta, body = article_body_html("news_handelsblatt_brenntal.txt")
            page = news_page_html("handelsblatt", url, meta, body, lang="de")
        elif key == "garden":
            meta, body = article_body_html("web_garden_garlic.txt")
            page = news_page_html("garden", url, meta, body)
        elif key == "prnewswire":
            page = prnewswire_page_html(url)
        elif key == "spam":
            page = spam_page_html()
        elif key == "empty":
            page = EMPTY_PAGE_HTML
        elif key == "png":
            out.append((key, url, tiny_png(), "image/png"))
            continue
        else:
            raise ValueError(key)
        out.append((key, url, page.encode("utf-8"), ctype))
    return out


def _warc_id(*parts: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(UUID_NS, '|'.join(parts))}>"


def _warc_date(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ip_for(host: str) -> str:
    digest = hashlib.sha1(host.encode()).digest()
    return f"198.51.100.{digest[0] % 250 + 2}"


def build_warc() -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True, warc_version="1.0")
    info_id = _warc_id("warcinfo", WARC_FILENAME)
    fields = (
        b"software: finpile-sample-generator/1.0 (warcio WARCWriter)\r\n"
        b"format: WARC File Format 1.0\r\n"
        b"conformsTo: http://bibnum.bnf.fr/WARC/WARC_ISO_28500_version1_latestdraft.pdf\r\n"
        b"isPartOf: FINPILE-SAMPLE-2024-02\r\n"
        b"description: Fictional sample crawl of financial news, press and general web pages for FinPile Builder tests\r\n"
        b"robots: obey\r\n"
        b"http-header-user-agent: FinPileSampleBot/1.0 (+https://example.org/finpile-sample)\r\n"
    )
    info_headers = StatusAndHeaders(
        "",
        [
            ("WARC-Type", "warcinfo"),
            ("WARC-Date", _warc_date(WARC_START)),
            ("WARC-Record-ID", info_id),
            ("WARC-Filename", WARC_FILENAME),
        ],
        protocol="WARC/1.0",
    )
    writer.write_record(
        writer.create_warc_record(
            "",
            "warcinfo",
            payload=io.BytesIO(fields),
            length=len(fields),
            warc_headers=info_headers,
            warc_content_type="application/warc-fields",
        )
    )
    when = WARC_START
    payload_digests: dict[str, str] = {}
    for key, url, body, ctype in warc_page_payloads():
        when = when + dt.timedelta(seconds=41 + len(url) % 17)
        host = url.split("/")[2]
        path = "/" + url.split("/", 3)[3] if url.count("/") >= 3 else "/"
        req_id = _warc_id("request", url, _warc_date(when))
        resp_id = _warc_id("response", url, _warc_date(when))
        req_http = StatusAndHeaders(
            f"GET {path} HTTP/1.1",
            [
                ("User-Agent", "FinPileSampleBot/1.0 (+https://example.org/finpile-sample)"),
                ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                ("Accept-Language", "en-US,en;q=0.5"),
                ("Accept-Encoding", "identity"),
                ("Host", host),
                ("Connection", "Keep-Alive"),
            ],
            is_http_request=True,
        )
        req = writer.create_warc_record(
            url,
            "request",
            http_headers=req_http,
            warc_headers_dict={
                "WARC-Date": _warc_date(when),
                "WARC-Record-ID": req_id,
                "WARC-Warcinfo-ID": info_id,
                "WARC-IP-Address": _ip_for(host),
            },
        )
        resp_headers = [
            ("Date", http_date(when)),
            ("Content-Type", ctype),
            ("Content-Length", str(len(body))),
            ("Server", "nginx" if key not in ("reuters", "png") else "Arc-Publishing"),
            ("Cache-Control", "max-age=300, public"),
            ("Last-Modified", http_date(when - dt.timedelta(hours=7))),
            ("Vary", "Accept-Encoding"),
        ]
        if key in ("yahoo", "cnbc", "reuters", "marketwatch"):
            resp_headers.append(
                ("Set-Cookie", f"session_id={stable_hex(url, n=16)}; Path=/; Secure; HttpOnly")
            )
        resp_http = StatusAndHeaders("200 OK", resp_headers, protocol="HTTP/1.1")
        payload_digest = "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")
        payload_digests[url] = payload_digest
        resp = writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            length=len(body),
            http_headers=resp_http,
            warc_headers_dict={
                "WARC-Date": _warc_date(when),
                "WARC-Record-ID": resp_id,
                "WARC-Warcinfo-ID": info_id,
                "WARC-Concurrent-To": req_id,
                "WARC-IP-Address": _ip_for(host),
                "WARC-Identified-Payload-Type": ctype.split(";")[0],
            },
        )
        writer.write_record(req)
        writer.write_record(resp)
        if key == "reuters":
            first_capture = when
    # A second capture of the Reuters article, stored as a revisit (identical payload digest).
    url = WARC_URLS["reuters"]
    host = url.split("/")[2]
    req_id = _warc_id("request", url, _warc_date(REVISIT_AT))
    req_http = StatusAndHeaders(
        "GET /" + url.split("/", 3)[3] + " HTTP/1.1",
        [
            ("User-Agent", "FinPileSampleBot/1.0 (+https://example.org/finpile-sample)"),
            ("Accept", "text/html,*/*;q=0.8"),
            ("Host", host),
            ("Connection", "Keep-Alive"),
        ],
        is_http_request=True,
    )
    writer.write_record(
        writer.create_warc_record(
            url,
            "request",
            http_headers=req_http,
            warc_headers_dict={
                "WARC-Date": _warc_date(REVISIT_AT),
                "WARC-Record-ID": req_id,
                "WARC-Warcinfo-ID": info_id,
            },
        )
    )
    revisit_http = StatusAndHeaders(
        "200 OK",
        [
            ("Date", http_date(REVISIT_AT)),
            ("Content-Type", "text/html; charset=utf-8"),
            ("Server", "Arc-Publishing"),
            ("Vary", "Accept-Encoding"),
        ],
        protocol="HTTP/1.1",
    )
    revisit = writer.create_revisit_record(
        url,
        payload_digests[url],
        url,
        _warc_date(first_capture),
        http_headers=revisit_http,
        warc_headers_dict={
            "WARC-Date": _warc_date(REVISIT_AT),
            "WARC-Record-ID": _warc_id("revisit", url, _warc_date(REVISIT_AT)),
            "WARC-Warcinfo-ID": info_id,
            "WARC-Concurrent-To": req_id,
        },
    )
    writer.write_record(revisit)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# Press: RSS 2.0 feed with content:encoded
# ---------------------------------------------------------------------------------------------

FEED_ITEMS = ["press_rss_brightwater.txt", "press_rss_aldercrest.txt", "press_rss_kestrel.txt"]


ABBREVIATIONS = {"Inc.", "Co.", "Corp.", "Ltd.", "Mass.", "N.Y.", "Jan.", "Feb.", "Dec.", "Mr.", "Ms.", "Dr."}


def first_sentence(text: str) -> str:
    words = text.split(" ")
    for i, word in enumerate(words):
        if (
            word.endswith(".")
            and word not in ABBREVIATIONS
            and i + 1 < len(words)
            and words[i + 1][:1].isupper()
        ):
            return " ".join(words[: i + 1])
    return text


def build_feed() -> str:
    items = []
    for name in FEED_ITEMS:
        meta, body = read_article(name)
        paragraphs = blocks(body)
        content = "\n".join(
            f"<p><b>{esc(p)}</b></p>"
            if len(p) < 40 and not p.endswith(".")
            else f"<p>{esc(' '.join(p.splitlines()))}</p>"
            for p in paragraphs
        )
        summary = first_sentence(" ".join(paragraphs[0].split()))
        creator = "GlobeNewswire" if "globenewswire" in meta["link"] else "Business Wire"
        items.append(
            f"""    <item>
      <title>{xml_escape(meta["title"])}</title>
      <link>{xml_escape(meta["link"])}</link>
      <guid isPermaLink="true">{xml_escape(meta["link"])}</guid>
      <pubDate>{meta["date"]}</pubDate>
      <dc:creator>{creator}</dc:creator>
      <category>{xml_escape(meta["category"])}</category>
      <description>{xml_escape(summary)}</description>
      <content:encoded><![CDATA[{content}]]></content:encoded>
    </item>"""
        )
    # a malformed entry: no link, no guid, empty description and content
    items.append(
        """    <item>
      <title>Corvane Mining Provides Exploration Update</title>
      <pubDate>Wed, 24 Jan 2024 12:00:00 +0000</pubDate>
      <dc:creator>GlobeNewswire</dc:creator>
      <description></description>
      <content:encoded><![CDATA[]]></content:encoded>
    </item>"""
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">\n'
        "  <channel>\n"
        "    <title>Investor Wire Digest: Press Releases</title>\n"
        "    <link>https://www.investorwire-digest.com/press-releases/</link>\n"
        '    <atom:link href="https://www.investorwire-digest.com/rss/press-releases.xml" rel="self" type="application/rss+xml"/>\n'
        "    <description>Corporate press releases from Business Wire and GlobeNewswire: earnings, dividends, offerings and funds.</description>\n"
        "    <language>en-us</language>\n"
        "    <lastBuildDate>Wed, 24 Jan 2024 12:05:00 +0000</lastBuildDate>\n"
        "    <ttl>15</ttl>\n" + "\n".join(items) + "\n  </channel>\n</rss>\n"
    )


# ---------------------------------------------------------------------------------------------
# Social: Reddit dumps (Pushshift / Arctic-Shift layout) and Twitter API v1.1 JSON lines
# ---------------------------------------------------------------------------------------------

SOCIAL_ACCOUNTS = read_json("social_accounts.json")
SUBREDDIT_IDS = SOCIAL_ACCOUNTS["subreddit_ids"]
SUBREDDIT_SUBSCRIBERS = SOCIAL_ACCOUNTS["subreddit_subscribers"]
RETRIEVED_2ND = 1706875209


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


def _epoch(value: str) -> int:
    return int(iso_to_dt(value).timestamp())


def _parse_records(name: str) -> list[tuple[dict[str, str], str]]:
    """``=== key=value ...`` headers followed by a free-text body, as used by the social templates."""
    records = []
    for chunk in read_text(name).split("=== ")[1:]:
        head, _, body = chunk.partition("\n")
        attrs: dict[str, str] = {}
        for m in re.finditer(r"(\w+)=(\S*(?: (?!\w+=)\S+)*)", head):
            attrs[m.group(1)] = m.group(2)
        if head.startswith("RAW"):
            attrs["RAW"] = "1"
        records.append((attrs, body.rstrip("\n")))
    return records


def _author_fullname(author: str) -> str | None:
    if author == "[deleted]":
        return None
    return "t2_" + _b36(int(hashlib.sha1(author.encode()).hexdigest(), 16) % (36**8))


def reddit_submission(attrs: dict[str, str], title: str, selftext: str) -> dict:
    sub = attrs["sub"]
    sid = attrs["id"]
    created = _epoch(attrs["created"])
    slug = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:48].rstrip("_")
    permalink = f"/r/{sub}/comments/{sid}/{slug}/"
    removed = attrs.get("removed")
    author = attrs["author"]
    flair = attrs.get("flair") or None
    record = {
        "_meta": {"retrieved_2nd_on": RETRIEVED_2ND},
        "all_awardings": [],
        "allow_live_comments": False,
        "approved_at_utc": None,
        "approved_by": None,
        "archived": False,
        "author": author,
        "author_flair_background_color": None,
        "author_flair_css_class": None,
        "author_flair_richtext": [],
        "author_flair_template_id": None,
        "author_flair_text": None,
        "author_flair_text_color": None,
        "author_flair_type": "text",
        "author_fullname": _author_fullname(author),
        "author_is_blocked": False,
        "author_patreon_flair": False,
        "author_premium": False,
        "awarders": [],
        "banned_at_utc": None,
        "banned_by": None,
        "can_gild": False,
        "can_mod_post": False,
        "category": None,
        "clicked": False,
        "content_categories": None,
        "contest_mode": False,
        "created": float(created),
        "created_utc": float(created),
        "discussion_type": None,
        "distinguished": None,
        "domain": f"self.{sub}",
        "downs": 0,
        "edited": False,
        "gilded": 0,
        "gildings": {},
        "hidden": False,
        "hide_score": False,
        "id": sid,
        "is_created_from_ads_ui": False,
        "is_crosspostable": not removed,
        "is_meta": False,
        "is_original_content": False,
        "is_reddit_media_domain": False,
        "is_robot_indexable": not removed,
        "is_self": True,
        "is_video": False,
        "likes": None,
        "link_flair_background_color": "#dadada" if flair else "",
        "link_flair_css_class": flair.lower().replace(" ", "") if flair else None,
        "link_flair_richtext": [{"e": "text", "t": flair}] if flair else [],
        "link_flair_template_id": None,
        "link_flair_text": flair,
        "link_flair_text_color": "dark",
        "link_flair_type": "richtext" if flair else "text",
        "locked": bool(removed),
        "media": None,
        "media_embed": {},
        "media_only": False,
        "mod_note": None,
        "mod_reason_by": None,
        "mod_reason_title": None,
        "mod_reports": [],
        "name": f"t3_{sid}",
        "no_follow": int(attrs["score"]) < 3,
        "num_comments": int(attrs["comments"]),
        "num_crossposts": 0,
        "num_reports": 0,
        "over_18": False,
        "parent_whitelist_status": "all_ads",
        "permalink": permalink,
        "pinned": False,
        "poll_data": None,
        "pwls": 6,
        "quarantine": False,
        "removal_reason": None,
        "removed_by": None,
        "removed_by_category": removed,
        "report_reasons": [],
        "retrieved_on": created + 14,
        "saved": False,
        "score": int(attrs["score"]),
        "secure_media": None,
        "secure_media_embed": {},
        "selftext": selftext,
        "send_replies": True,
        "spoiler": False,
        "stickied": False,
        "subreddit": sub,
        "subreddit_id": SUBREDDIT_IDS[sub],
        "subreddit_name_prefixed": f"r/{sub}",
        "subreddit_subscribers": SUBREDDIT_SUBSCRIBERS[sub],
        "subreddit_type": "public",
        "suggested_sort": None,
        "thumbnail": "self",
        "thumbnail_height": None,
        "thumbnail_width": None,
        "title": title,
        "top_awarded_type": None,
        "total_awards_received": 0,
        "treatment_tags": [],
        "updated_on": created + 86400 + 37,
        "ups": int(attrs["score"]),
        "upvote_ratio": float(attrs["ratio"]),
        "url": "https://www.reddit.com" + permalink,
        "user_reports": [],
        "view_count": None,
        "visited": False,
        "whitelist_status": "all_ads",
        "wls": 6,
    }
    return record


def reddit_comment(attrs: dict[str, str], body: str, cid: str, parent: str, link_slug: str) -> dict:
    sub = attrs["sub"]
    created = _epoch(attrs["created"])
    author = attrs["author"]
    gone = attrs.get("deleted") or attrs.get("removed")
    return {
        "_meta": {"retrieved_2nd_on": RETRIEVED_2ND},
        "all_awardings": [],
        "approved_at_utc": None,
        "approved_by": None,
        "archived": False,
        "associated_award": None,
        "author": author,
        "author_flair_background_color": None,
        "author_flair_css_class": None,
        "author_flair_richtext": [],
        "author_flair_template_id": None,
        "author_flair_text": None,
        "author_flair_text_color": None,
        "author_flair_type": "text",
        "author_fullname": _author_fullname(author),
        "author_is_blocked": False,
        "author_patreon_flair": False,
        "author_premium": False,
        "awarders": [],
        "banned_at_utc": None,
        "banned_by": None,
        "body": body,
        "can_gild": not gone,
        "can_mod_post": False,
        "collapsed": True if attrs.get("removed") else False,
        "collapsed_because_crowd_control": None,
        "collapsed_reason": None,
        "collapsed_reason_code": "DELETED" if attrs.get("removed") else None,
        "comment_type": None,
        "controversiality": 0,
        "created": float(created),
        "created_utc": float(created),
        "distinguished": None,
        "downs": 0,
        "edited": False,
        "gilded": 0,
        "gildings": {},
        "id": cid,
        "is_submitter": attrs.get("is_submitter") == "1",
        "likes": None,
        "link_id": f"t3_{attrs['link']}",
        "locked": False,
        "mod_note": None,
        "mod_reason_by": None,
        "mod_reason_title": None,
        "mod_reports": [],
        "name": f"t1_{cid}",
        "no_follow": int(attrs["score"]) < 3,
        "num_reports": 0,
        "parent_id": parent,
        "permalink": f"/r/{sub}/comments/{attrs['link']}/{link_slug}/{cid}/",
        "removal_reason": None,
        "replies": "",
        "report_reasons": [],
        "retrieved_on": created + 12,
        "saved": False,
        "score": int(attrs["score"]),
        "score_hidden": False,
        "send_replies": True,
        "stickied": False,
        "subreddit": sub,
        "subreddit_id": SUBREDDIT_IDS[sub],
        "subreddit_name_prefixed": f"r/{sub}",
        "subreddit_type": "public",
        "top_awarded_type": None,
        "total_awards_received": 0,
        "treatment_tags": [],
        "unrepliable_reason": None,
        "updated_on": created + 86400 + 11,
        "ups": int(attrs["score"]),
        "user_reports": [],
    }


COMMENT_ID_BASE = int("kfv2000", 36)  # first comment ids of January 2024 (approximately)
COMMENT_ID_END = int("kod0bkd", 36)  # first comment ids of February 2024 (approximately)
JAN_START = int(dt.datetime(2024, 1, 1, tzinfo=dt.UTC).timestamp())
FEB_START = int(dt.datetime(2024, 2, 1, tzinfo=dt.UTC).timestamp())


def comment_id(created: str, salt: str) -> str:
    t = _epoch(created)
    n = COMMENT_ID_BASE + (t - JAN_START) * (COMMENT_ID_END - COMMENT_ID_BASE) // (FEB_START - JAN_START)
    return _b36(n + int(hashlib.sha1(salt.encode()).hexdigest(), 16) % 997)


def reddit_lines() -> tuple[list[str], list[str]]:
    dumps = lambda obj: json.dumps(obj, ensure_ascii=True)  # noqa: E731 - Pushshift layout: ", " and ": ", \u escapes
    submissions = []
    slugs: dict[str, str] = {}
    authors: dict[str, str] = {}
    for attrs, body in _parse_records("social_reddit_submissions.txt"):
        title_line, _, text = body.partition("\n")
        assert title_line.startswith("title: ")
        rec = reddit_submission(attrs, title_line[len("title: ") :], text.strip("\n"))
        slugs[rec["id"]] = rec["permalink"].split("/")[-2]
        authors[rec["id"]] = rec["author"]
        submissions.append((rec["created_utc"], dumps(rec)))
    rs = [line for _, line in sorted(submissions, key=lambda x: x[0])]
    comments: list[tuple[float, str]] = []
    raw_after: list[tuple[int, str]] = []
    prev_id = ""
    for attrs, body in _parse_records("social_reddit_comments.txt"):
        if "RAW" in attrs:
            raw_after.append((int(attrs["after"]), body))
            continue
        cid = comment_id(attrs["created"], attrs["author"] + attrs["created"])
        parent = f"t3_{attrs['link']}" if attrs["parent"] == "t3" else f"t1_{prev_id}"
        if attrs["author"] == authors[attrs["link"]]:
            attrs["is_submitter"] = "1"
        rec = reddit_comment(attrs, body, cid, parent, slugs[attrs["link"]])
        comments.append((rec["created_utc"], dumps(rec)))
        prev_id = cid
    # monthly dumps are ordered by creation time; the broken line sits between two valid ones
    rc = [line for _, line in sorted(comments, key=lambda x: x[0])]
    for after, raw in raw_after:
        rc.insert(after, raw)
    return rs, rc


def zstd_bytes(lines: list[str]) -> bytes:
    import zstandard

    data = ("\n".join(lines) + "\n").encode("utf-8")
    return zstandard.ZstdCompressor(level=19, write_checksum=True).compress(data)


TWITTER_EPOCH_MS = 1288834974657

TWITTER_USERS = SOCIAL_ACCOUNTS["twitter_users"]


def _tw_time(value: dt.datetime) -> str:
    return value.strftime("%a %b %d %H:%M:%S +0000 %Y")


def _snowflake(value: dt.datetime, salt: str) -> int:
    ms = int(value.timestamp() * 1000)
    return ((ms - TWITTER_EPOCH_MS) << 22) | (int(hashlib.sha1(salt.encode()).hexdigest(), 16) % (1 << 22))


def _tw_user(screen_name: str) -> dict:
    name, location, description, followers, friends, created = TWITTER_USERS[screen_name]
    uid = 10**8 + int(hashlib.sha1(screen_name.encode()).hexdigest(), 16) % (9 * 10**9)
    spam = screen_name in ("pennystock_alerts_1", "rocket_gains_bot")
    return {
        "id": uid,
        "id_str": str(uid),
        "name": name,
        "screen_name": screen_name,
        "location": location,
        "url": None,
        "description": description,
        "protected": False,
        "verified": False,
        "followers_count": followers,
        "friends_count": friends,
        "listed_count": followers // 120,
        "favourites_count": followers // 7,
        "statuses_count": 150000 if spam else followers // 2 + 1375,
        "created_at": _tw_time(iso_to_dt(created)),
        "utc_offset": None,
        "time_zone": None,
        "geo_enabled": False,
        "lang": None,
        "contributors_enabled": False,
        "is_translator": False,
        "profile_background_color": "F5F8FA",
        "profile_background_image_url": "",
        "profile_background_image_url_https": "",
        "profile_background_tile": False,
        "profile_link_color": "1DA1F2",
        "profile_sidebar_border_color": "C0DEED",
        "profile_sidebar_fill_color": "DDEEF6",
        "profile_text_color": "333333",
        "profile_use_background_image": True,
        "profile_image_url": f"http://pbs.twimg.com/profile_images/{uid}/avatar_normal.jpg",
        "profile_image_url_https": f"https://pbs.twimg.com/profile_images/{uid}/avatar_normal.jpg",
        "default_profile": True,
        "default_profile_image": spam,
        "following": None,
        "follow_request_sent": None,
        "notifications": None,
    }


def _tw_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _tw_entities(text: str, urls: list[tuple[str, str]]) -> dict:
    def spans(pattern: str) -> list[tuple[str, list[int]]]:
        return [(m.group(1), [m.start(), m.end()]) for m in re.finditer(pattern, text)]

    return {
        "hashtags": [{"text": t, "indices": i} for t, i in spans(r"(?<![\w&])#(\w+)")],
        "urls": [
            {
                "url": short,
                "expanded_url": full,
                "display_url": (full.split("//", 1)[1][:26] + "\u2026")
                if len(full) > 40
                else full.split("//", 1)[1],
                "indices": [text.index(short), text.index(short) + len(short)],
            }
            for short, full in urls
        ],
        "user_mentions": [
            {
                "screen_name": t,
                "name": TWITTER_USERS.get(t, (t,))[0],
                "id": _tw_user(t)["id"],
                "id_str": _tw_user(t)["id_str"],
                "indices": i,
            }
            for t, i in spans(r"(?<!\w)@(\w+)")
        ],
        "symbols": [{"text": t, "indices": i} for t, i in spans(r"(?<!\w)\$([A-Z]{1,5})\b")],
    }


SOURCES_TW = SOCIAL_ACCOUNTS["twitter_sources"]


def tweet_lines() -> list[str]:
    tweets: dict[str, dict] = {}
    lines: list[str] = []
    raw_after: list[tuple[int, str]] = []
    for attrs, body in _parse_records("social_tweets.txt"):
        if "RAW" in attrs:
            raw_after.append((int(attrs["after"]), body))
            continue
        when = iso_to_dt(attrs["created"])
        user = attrs["user"]
        tid = _snowflake(when, attrs["key"])
        if "rt" in attrs:
            orig = tweets[attrs["rt"]]
            text = f"RT @{orig['user']['screen_name']}: {orig['text']}"
            entities = _tw_entities(text, [(u["url"], u["expanded_url"]) for u in orig["entities"]["urls"]])
            retweet_count, fav_count = orig["retweet_count"], 0
        else:
            text = _tw_escape(" ".join(body.split()))
            urls = []
            if "url" in attrs:
                short = "https://t.co/" + base64.b64encode(
                    hashlib.sha1(attrs["url"].encode()).digest()
                ).decode()[:10].replace("+", "x").replace("/", "Q")
                text = f"{text} {short}"
                urls.append((short, attrs["url"]))
            entities = _tw_entities(text, urls)
            retweet_count, fav_count = int(attrs.get("retweets", 0)), int(attrs.get("favs", 0))
        kind = (
            "bot"
            if user in ("pennystock_alerts_1", "rocket_gains_bot", "MarketPulseDesk")
            else ("iphone" if tid % 3 == 0 else "web")
        )
        tweet = {
            "created_at": _tw_time(when),
            "id": tid,
            "id_str": str(tid),
            "text": text,
            "source": SOURCES_TW[kind],
            "truncated": False,
            "in_reply_to_status_id": None,
            "in_reply_to_status_id_str": None,
            "in_reply_to_user_id": None,
            "in_reply_to_user_id_str": None,
            "in_reply_to_screen_name": None,
            "user": _tw_user(user),
            "geo": None,
            "coordinates": None,
            "place": None,
            "contributors": None,
        }
        if "rt" in attrs:
            tweet["retweeted_status"] = tweets[attrs["rt"]]
        tweet.update(
            {
                "is_quote_status": False,
                "retweet_count": retweet_count,
                "favorite_count": fav_count,
                "entities": entities,
                "favorited": False,
                "retweeted": False,
                "possibly_sensitive": False if entities["urls"] else None,
                "filter_level": "low",
                "lang": attrs.get("lang", "und" if re.fullmatch(r"(\$[A-Z]+\s*)+", text) else "en"),
                "timestamp_ms": str(int(when.timestamp() * 1000)),
            }
        )
        if tweet["possibly_sensitive"] is None:
            del tweet["possibly_sensitive"]
        tweets[attrs["key"]] = tweet
        line = json.dumps(tweet, ensure_ascii=True, separators=(",", ":"))
        line = line.replace("/", "\\/").replace("<", "\\u003c").replace(">", "\\u003e")
        lines.append(line)
    for after, raw in raw_after:
        lines.insert(after, raw)
    return lines


# ---------------------------------------------------------------------------------------------
# General: a MediaWiki XML export (bz2)
# ---------------------------------------------------------------------------------------------

WIKI_DUMP = read_json("wiki_pages.json")
WIKI_PAGES = WIKI_DUMP["pages"]
WIKI_NAMESPACES = WIKI_DUMP["namespaces"]


def mediawiki_sha1(text: str) -> str:
    """MediaWiki stores revision hashes as base-36 SHA-1, zero-padded to 31 characters."""
    return _b36(int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16)).rjust(31, "0")


def build_wiki_xml() -> str:
    quote = {'"': "&quot;"}
    parts = [
        '<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.mediawiki.org/xml/export-0.10/ http://www.mediawiki.org/xml/export-0.10.xsd" version="0.10" xml:lang="en">',
        "  <siteinfo>",
        "    <sitename>Wikipedia</sitename>",
        "    <dbname>enwiki</dbname>",
        "    <base>https://en.wikipedia.org/wiki/Main_Page</base>",
        "    <generator>MediaWiki 1.41.0-wmf.28</generator>",
        "    <case>first-letter</case>",
        "    <namespaces>",
    ]
    for key, name in WIKI_NAMESPACES:
        if name:
            parts.append(f'      <namespace key="{key}" case="first-letter">{name}</namespace>')
        else:
            parts.append(f'      <namespace key="{key}" case="first-letter" />')
    parts += ["    </namespaces>", "  </siteinfo>"]
    for title, ns, pid, rid, parent, ts, contributor, comment, source in WIKI_PAGES:
        if source.startswith("@"):
            target = source[1:]
            text = f"#REDIRECT [[{target}]]\n\n{{{{Redirect category shell|\n{{{{R from alternative spelling}}}}\n}}}}"
        else:
            text = read_text(source).rstrip("\n")
        parts += [
            "  <page>",
            f"    <title>{xml_escape(title)}</title>",
            f"    <ns>{ns}</ns>",
            f"    <id>{pid}</id>",
        ]
        if source.startswith("@"):
            parts.append(f'    <redirect title="{xml_escape(source[1:], quote)}" />')
        parts += ["    <revision>", f"      <id>{rid}</id>"]
        if parent:
            parts.append(f"      <parentid>{parent}</parentid>")
        parts += [f"      <timestamp>{ts}</timestamp>", "      <contributor>"]
        if contributor[0] == "user":
            parts += [
                f"        <username>{xml_escape(contributor[1])}</username>",
                f"        <id>{contributor[2]}</id>",
            ]
        else:
            parts.append(f"        <ip>{contributor[1]}</ip>")
        parts += [
            "      </contributor>",
            f"      <comment>{xml_escape(comment, quote)}</comment>",
            "      <model>wikitext</model>",
            "      <format>text/x-wiki</format>",
            f'      <text xml:space="preserve">{xml_escape(text, quote)}</text>',
            f"      <sha1>{mediawiki_sha1(text)}</sha1>",
            "    </revision>",
            "  </page>",
        ]
    parts.append("</mediawiki>")
    return "\n".join(parts) + "\n"


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


def render_all() -> dict[str, bytes]:
    """Every sample file as bytes, keyed by its path relative to the output directory."""
    rs, rc = reddit_lines()
    return {
        EDGAR_8K: build_8k_submission().encode("ascii"),
        EDGAR_10K_1997: build_10k_1997_submission().encode("ascii"),
        EDGAR_IXBRL_10K: build_mrdn_10k().encode("ascii"),
        WARC_FILE: build_warc(),
        FEED_FILE: build_feed().encode("utf-8"),
        REDDIT_RS: zstd_bytes(rs),
        REDDIT_RC: zstd_bytes(rc),
        TWEETS_FILE: ("\n".join(tweet_lines()) + "\n").encode("utf-8"),
        WIKI_FILE: bz2.compress(build_wiki_xml().encode("utf-8"), 9),
    }


def build(out_dir: Path) -> list[Path]:
    """Write the sample corpus under ``out_dir``; returns the written paths (README.md is not touched)."""
    out_dir = Path(out_dir)
    written = []
    for rel, data in render_all().items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default: {DEFAULT_OUT})"
    )
    args = parser.parse_args(argv)
    for path in build(args.out):
        print(f"{path.stat().st_size:>9,}  {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
