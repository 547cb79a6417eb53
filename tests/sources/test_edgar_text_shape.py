"""Issue 15, EDGAR half: tables as Markdown, captions, text shape, 1990s plain text, non-filing files.

Inline fixtures are written here, modelled on the real formats; the real-file tests read
../shared/data/edgar through the ``shared_data`` fixture.
"""

from __future__ import annotations

import io
import json
import re

import pytest

from core.schema import RawRecord, RecordError
from core.textshape import is_markdown_table_line as is_table_line
from sources.edgar import extract_filing, non_filing_kind, read_records


def _raw(content: str | bytes, form_type: str = "10-Q", **metadata: str) -> RawRecord:
    meta = {"company": "Acme Corp", "form_type": form_type, "doc_type": form_type} | metadata
    return RawRecord(
        source="filings",
        id="0000000001-24-000001:1",
        url="",
        content=content,
        content_type="sgml",
        metadata=meta,
    )


def _html(body: str) -> str:
    return f"<html><head><title>t</title></head><body>{body}</body></html>"


# A statement as Workiva writes it: "$" and ")" in cells of their own, spacer cells, headers spanning the
# "$", number and spacer columns, a caption and a units line in <div>s above, a footer line below.
WORKIVA_STATEMENT = (
    "<div>CONDENSED CONSOLIDATED BALANCE SHEETS (Unaudited)</div>"
    "<div>(In millions, except par value)</div>"
    "<table>"
    "<tr><td></td><td colspan='3'>June 28, 2025</td><td></td><td colspan='3'>September 28, 2024</td></tr>"
    "<tr><td>Cash and cash equivalents</td><td>$</td><td>36,269</td><td>&#160;</td><td></td>"
    "<td>$</td><td>29,943</td><td>&#160;</td></tr>"
    "<tr><td>Accumulated deficit</td><td></td><td>(17,607</td><td>)</td><td></td>"
    "<td></td><td>(19,154</td><td>)</td></tr>"
    "<tr><td>Total assets</td><td>$</td><td>331,495</td><td></td><td></td>"
    "<td>$</td><td>364,980</td><td></td></tr>"
    "</table>"
    "<div>See accompanying Notes to Condensed Consolidated Financial Statements.</div>"
    "<div>Item 2. Management's Discussion and Analysis</div><div>Sales rose.</div>"
)


def test_financial_statement_becomes_a_markdown_table_under_its_caption():
    text = extract_filing(_raw(_html(WORKIVA_STATEMENT))).text
    assert text.startswith(
        "CONDENSED CONSOLIDATED BALANCE SHEETS (Unaudited)\n\n(In millions, except par value)\n\n"
        "| | June 28, 2025 | September 28, 2024 |\n"
        "| --- | ---: | ---: |\n"
        "| Cash and cash equivalents | $36,269 | $29,943 |\n"
        "| Accumulated deficit | (17,607) | (19,154) |\n"
        "| Total assets | $331,495 | $364,980 |\n\n"
        "See accompanying Notes"
    )


def test_dropped_table_takes_its_caption_units_line_and_footer_along():
    for policy in ("drop", "drop_numeric"):
        text = extract_filing(_raw(_html(WORKIVA_STATEMENT)), {"tables": policy}).text
        assert text == "Item 2. Management's Discussion and Analysis\n\nSales rose.", policy


def test_linearize_keeps_the_merged_numbers():
    text = extract_filing(_raw(_html(WORKIVA_STATEMENT)), {"tables": "linearize"}).text
    assert "Cash and cash equivalents: June 28, 2025: $36,269; September 28, 2024: $29,943\n" in text
    assert "Accumulated deficit: June 28, 2025: (17,607); September 28, 2024: (19,154)" in text


def test_layout_tables_are_unwrapped_to_text():
    bullets = "<table><tr><td>•</td><td>Revenue rose 9%.</td></tr><tr><td>•</td><td>Margins widened.</td></tr></table>"
    one_column = "<table><tr><td>First paragraph.</td></tr><tr><td>Second paragraph.</td></tr></table>"
    footnote = "<table><tr><td>(1)</td><td>Includes a one-time charge.</td></tr></table>"
    text = extract_filing(_raw(_html(bullets + one_column + footnote), form_type="8-K")).text
    assert text == (
        "• Revenue rose 9%.\n\n• Margins widened.\n\nFirst paragraph.\n\nSecond paragraph.\n\n"
        "(1) Includes a one-time charge."
    )


def test_list_markers_are_spaced_from_their_text():
    markup = _html(
        "<div><span>(a)</span><span style='padding-left:7.02pt'>Documents filed as part of this report</span></div>"
        "<p>1.Financial statements</p><p>(b)The following exhibits</p><p>The U.S. economy grew 1.5%.</p>"
    )
    assert extract_filing(_raw(markup, form_type="8-K")).text == (
        "(a) Documents filed as part of this report\n\n1. Financial statements\n\n(b) The following exhibits\n\n"
        "The U.S. economy grew 1.5%."
    )


def test_exhibit_index_page_column_does_not_survive():
    markup = _html(
        "<p>EXHIBIT INDEX</p><table><tr><td>Exhibit</td><td>Description</td><td>Sequentially Numbered Page</td></tr>"
        "<tr><td>99.1</td><td>Press release dated May 1, 1998</td><td>5</td></tr>"
        "<tr><td>23.1</td><td>Consent of auditors</td><td>12</td></tr></table>"
    )
    text = extract_filing(_raw(markup, form_type="8-K")).text
    assert text == (
        "EXHIBIT INDEX\n\n| Exhibit | Description |\n| ---: | --- |\n"
        "| 99.1 | Press release dated May 1, 1998 |\n| 23.1 | Consent of auditors |"
    )


# --- 1990s plain text

PLAIN_1996 = """\
                              ACME CORP
                              FORM 10-K

                           TABLE OF CONTENTS
                                                                     Page
                                                                     ----
Item 1.   Business.................................................    3
Item 6.   Selected Financial Data..................................    6
Item 7.   Management's Discussion and Analysis of Financial
            Condition and Results of Operations....................    7
Signatures.........................................................   12

ACME CORP ANNUAL REPORT 1996

ITEM 1.  BUSINESS

     The Company sells a platform-
independent accounting package to small businesses and its principal
                                   3
<PAGE>
ACME CORP ANNUAL REPORT 1996

executive offices are located in Dayton, Ohio.  The package runs on every
plat\xadform the Company supports and is sold through dealers in the
United States and
                                   4
<PAGE>
ACME CORP ANNUAL REPORT 1996

Canada.

ITEM 6.  SELECTED FINANCIAL DATA

     Not applicable.
                                   5
<PAGE>
ACME CORP ANNUAL REPORT 1996

ITEM 7.  MANAGEMENT'S DISCUSSION AND ANALYSIS OF FINANCIAL CONDITION AND
         RESULTS OF OPERATIONS

     Sales rose.  The Company's short- and long-term outlook is stable.
"""


@pytest.fixture(scope="module")
def plain_doc():
    return extract_filing(_raw(PLAIN_1996.encode("cp1252"), form_type="10-K"))


def test_plain_text_sentences_are_rejoined_across_page_breaks(plain_doc):
    assert (
        "The Company sells a platform-independent accounting package to small businesses and its principal "
        "executive offices are located in Dayton, Ohio." in plain_doc.text
    )
    assert "sold through dealers in the United States and Canada." in plain_doc.text
    assert "ANNUAL REPORT 1996" not in plain_doc.text  # running header
    assert not re.search(r"^\d+$", plain_doc.text, re.MULTILINE)  # page numbers


def test_plain_text_hyphenation_is_repaired(plain_doc):
    assert "platform- independent" not in plain_doc.text
    assert "runs on every platform the Company supports" in plain_doc.text  # soft hyphen at a line end
    assert "short- and long-term" in plain_doc.text  # a real suspended hyphen stays


def test_plain_text_table_of_contents_is_removed(plain_doc):
    assert "...." not in plain_doc.text and "Selected Financial Data.." not in plain_doc.text
    assert "TABLE OF CONTENTS" not in plain_doc.text and "Signatures" not in plain_doc.text
    assert plain_doc.text.startswith("ACME CORP\n\nFORM 10-K\n\nITEM 1. BUSINESS\n\nThe Company sells")


def test_plain_text_items_with_titles_from_the_document(plain_doc):
    items = json.loads(plain_doc.metadata["items"])
    assert [(i["item"], i["title"]) for i in items] == [
        ("1", "BUSINESS"),
        ("6", "SELECTED FINANCIAL DATA"),
        ("7", "MANAGEMENT'S DISCUSSION AND ANALYSIS OF FINANCIAL CONDITION AND RESULTS OF OPERATIONS"),
    ]


def test_plain_text_item_4_keeps_its_1990s_title():
    text = (
        "ITEM 3.  LEGAL PROCEEDINGS\n\n     None.\n\n"
        "ITEM 4.  SUBMISSION OF MATTERS TO A VOTE OF SECURITY HOLDERS\n\n     None.\n"
    )
    items = json.loads(extract_filing(_raw(text, form_type="10-K")).metadata["items"])
    assert items[1]["title"] == "SUBMISSION OF MATTERS TO A VOTE OF SECURITY HOLDERS"


def test_plain_text_unmarked_list_entries_stay_apart():
    text = (
        "     3.  Exhibits:\n\n"
        "         3.1   Articles of Incorporation, as amended (incorporated by\n"
        "               reference to Exhibit 3.1 to the Registration Statement)\n"
        "         10.1  Credit Agreement dated as of June 30, 1997\n"
        "         23    Consent of Independent Auditors\n"
    )
    assert extract_filing(_raw(text, form_type="8-K")).text == (
        "3. Exhibits:\n\n3.1 Articles of Incorporation, as amended (incorporated by reference to Exhibit 3.1 to "
        "the Registration Statement)\n\n10.1 Credit Agreement dated as of June 30, 1997\n\n"
        "23 Consent of Independent Auditors"
    )


# --- files that are not filings

COMPANY_IDX = """\
Description:           Daily Index of EDGAR Dissemination Feed by Company Name
Last Data Received:    January 2, 2024
Comments:              webmaster@sec.gov
Anonymous FTP:         ftp://ftp.sec.gov/edgar/




Company Name                                                  Form Type   CIK         Date Filed  File Name
---------------------------------------------------------------------------------------------------------
ACME CORP                                                     10-K        1234567     20240102    edgar/data/1234567/0001234567-24-000001.txt
"""


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("company.20240102.idx", COMPANY_IDX, "an EDGAR daily-index file (company index"),
        (
            "listing.txt",
            COMPANY_IDX.replace("Daily Index", "Full Index"),
            "an EDGAR full-index file (company",
        ),
        ("x.json", '{"0":{"cik_str":320193,"ticker":"AAPL","title":"Apple Inc."}}', "company_tickers.json"),
        ("x.json", '{"cik":"320193","entityType":"operating","filings":{"recent":{}}}', "submissions JSON"),
        ("x.json", '{"directory":{"item":[{"name":"a.htm"}],"name":"/Archives"}}', "(index.json)"),
    ],
)
def test_non_filing_edgar_files_are_recognised_by_content(name, content, expected):
    results = list(read_records(name, io.BytesIO(content.encode()), {}))
    assert len(results) == 1 and isinstance(results[0], RecordError)
    assert results[0].kind == "not_a_filing" and expected in results[0].message
    assert "`run`" in results[0].message and "\n" not in results[0].message


def test_a_filing_is_not_taken_for_an_index():
    assert (
        non_filing_kind("0000320193-24-000123.txt", b"<SEC-DOCUMENT>0000320193-24-000123.txt : 20241101\n")
        == ""
    )
    assert non_filing_kind("a.htm", _html("<p>FORM 10-K</p><p>Item 1. Business</p>").encode()) == ""


# --- real files

NON_FILINGS = {
    "index/form.20200318.idx": "an EDGAR daily-index file (form index",
    "index/master.20181231.idx": "an EDGAR daily-index file (master index",
    "index/master.idx": "an EDGAR full-index file (master index",
    "filing-index/0000092122-05-000042-index.html": "filing-index page",
    "filing-index/0000320193-19-000119-index.html": "filing-index page",
    "filing-index/0000891020-98-001352-index.html": "filing-index page",
    "filing-index/0001193125-11-009392-index.html": "filing-index page",
    "filing-index/0001213900-24-004875-index.json": "(index.json)",
    "filing-index/23AndMe.index-headers.html": "-index-headers.html",
    "submissions/CIK0000320193.json": "an EDGAR submissions JSON",
    "submissions/CIK0000320193-submissions-001.json": "a page of an EDGAR submissions JSON",
    "company_tickers.json": "company_tickers.json",
}


@pytest.mark.parametrize("name", sorted(NON_FILINGS))
def test_real_non_filing_files_are_refused_with_what_they_are(shared_data, name):
    path = shared_data / "edgar" / name
    with open(path, "rb") as stream:
        results = list(read_records(str(path), stream, {}))
    assert [type(r) for r in results] == [RecordError]
    assert results[0].kind == "not_a_filing" and NON_FILINGS[name] in results[0].message
    assert "not to `run`" in results[0].message or "`run` takes the filings" in results[0].message


def _real(shared_data, name: str, options: dict | None = None):
    path = shared_data / "edgar" / name
    with open(path, "rb") as stream:
        raw = next(r for r in read_records(str(path), stream, {}) if isinstance(r, RawRecord))
    return extract_filing(raw, options or {})


def test_real_10q_item_1_holds_the_balance_sheet_as_a_markdown_table(shared_data):
    doc = _real(shared_data, "10-Q/aapl-10-q-2025-08-01.html")
    items = {i["item"]: i for i in json.loads(doc.metadata["items"])}
    item1 = doc.text[items["part1_item1"]["start"] : items["part1_item1"]["end"]]
    sheet = item1[item1.index("CONDENSED CONSOLIDATED BALANCE SHEETS") :]
    assert sheet.startswith(
        "CONDENSED CONSOLIDATED BALANCE SHEETS (Unaudited)\n\n(In millions, except number of shares, which are "
        "reflected in thousands, and par value)\n\n| | June 28, 2025 | September 28, 2024 |\n| --- | ---: | ---: |\n"
    )
    table = sheet[: sheet.index("\n\n", sheet.index("\n| "))]
    assert "| Total assets | $331,495 | $364,980 |" in table
    assert "| Total liabilities and shareholders’ equity | $331,495 | $364,980 |" in table
    assert "| Accumulated deficit | (17,607) | (19,154) |" in table
    assert "| Total current liabilities | 141,120 | 176,392 |" in table
    assert "| Net income | $23,434 | $21,448 | $84,544 | $79,000 |" in item1  # the income statement too


_UNITS_RE = re.compile(r"^\((?:in|dollars in|amounts in) (?:millions|thousands)", re.IGNORECASE)
_CAPTION_RE = re.compile(
    r"^(?:condensed )?consolidated (?:statements? of [\w’' ]+|balance sheets?)(?: \(unaudited\))?$",
    re.IGNORECASE,
)


def _captions(text: str) -> list[int]:
    paragraphs = text.split("\n\n")
    return [
        i for i, p in enumerate(paragraphs) if len(p) < 200 and (_UNITS_RE.match(p) or _CAPTION_RE.match(p))
    ]


@pytest.mark.parametrize(
    "name",
    ["10-Q/aapl-10-q-2025-08-01.html", "10-Q/unp-10-q-2025-07-24.html", "10-K/aapl-10-k-2024-11-01.html"],
)
def test_real_filings_have_no_caption_without_its_table(shared_data, name):
    doc = _real(shared_data, name)
    paragraphs = doc.text.split("\n\n")
    captions = _captions(doc.text)
    assert len(captions) >= 4  # the statements' captions and units lines are there ...
    for i in captions:  # ... each right above its table (the units line between them)
        assert any(is_table_line(p.split("\n")[0]) for p in paragraphs[i + 1 : i + 3]), paragraphs[i]
    dropped = _real(shared_data, name, {"tables": "drop"}).text
    assert _captions(dropped) == []  # a dropped statement takes its caption along


def test_real_table_share_is_reported_and_a_10q_is_not_rejected_for_it(shared_data):
    from filters.quality import QualityConfig, QualityScorer

    doc = _real(shared_data, "10-Q/aapl-10-q-2025-08-01.html")
    scorer = QualityScorer(QualityConfig())
    scorer.score(doc)
    assert 0.25 < doc.quality_signals["table_char_share"] < 0.6
    assert scorer.decide(doc) == (True, "")
    assert "| Total assets | $331,495 | $364,980 |" in doc.text


def test_real_list_markers_are_spaced(shared_data):
    text = _real(shared_data, "10-K/aapl-10-k-2024-11-01.html").text
    assert "(a) Documents filed as part of this report" in text
    assert not re.search(r"^\(\w{1,3}\)[A-Z]", text, re.MULTILINE)
    assert not re.search(r"^\d{1,2}\.[A-Z][a-z]", text, re.MULTILINE)


PLAIN_EXHIBIT_INDEX = """\
                                EXHIBIT INDEX

                                                          Sequentially
Exhibit                                                   Numbered
Number     Description                                    Page
-------    -----------                                    ------------
99.1       Press release dated May 1, 1998                     5
99.2       Letter to shareholders dated May 1,                 9
           1998
"""


def test_plain_text_exhibit_index_loses_its_page_numbers():
    text = extract_filing(_raw(PLAIN_EXHIBIT_INDEX, form_type="8-K")).text
    assert text == (
        "EXHIBIT INDEX\n\n| Exhibit Number | Description |\n| ---: | --- |\n"
        "| 99.1 | Press release dated May 1, 1998 |\n| 99.2 | Letter to shareholders dated May 1, 1998 |"
    )


SGML_CAPTION_TABLE = """\
<TABLE>
<CAPTION>
                                       OPTIONS OUTSTANDING           OPTIONS EXERCISABLE
                                    -------------------------     -------------------------
                                     WEIGHTED
     RANGE OF                        AVERAGE        WEIGHTED                       WEIGHTED
     EXERCISE          NUMBER       REMAINING      AVERAGE        NUMBER         AVERAGE
      PRICES         OUTSTANDING   LIFE (YRS)      PRICE        EXERCISABLE       PRICE
<S>                  <C>            <C>             <C>           <C>             <C>
      $0.30             845,292          9.0      $    0.30         92,017      $    0.30
       0.50             705,600          9.9           0.50             --             --
   -------------      ---------      ---------      ---------      ---------      ---------
</TABLE>
"""


def test_sgml_caption_headings_end_at_the_column_line():
    text = extract_filing(_raw(SGML_CAPTION_TABLE, form_type="8-K")).text
    lines = text.split("\n")
    assert lines[0] == (
        "| RANGE OF EXERCISE PRICES | NUMBER OUTSTANDING | OPTIONS OUTSTANDING WEIGHTED AVERAGE REMAINING LIFE (YRS) "
        "| OPTIONS OUTSTANDING WEIGHTED AVERAGE PRICE | OPTIONS EXERCISABLE NUMBER EXERCISABLE "
        "| OPTIONS EXERCISABLE WEIGHTED AVERAGE PRICE |"
    )
    assert lines[2:] == [
        "| $0.30 | 845,292 | 9.0 | $0.30 | 92,017 | $0.30 |",
        "| 0.50 | 705,600 | 9.9 | 0.50 | -- | -- |",
    ]
