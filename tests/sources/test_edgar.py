"""Tests of the EDGAR connector: header parsing, document selection, text extraction and item splitting.

Pure-core tests use small inline submissions written here; the real-file tests read ../shared/data/edgar
through the ``shared_data`` fixture (skipped when absent) and never copy those files into the project.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from core.errors import ConfigError, RecordFailure
from core.schema import Document, RawRecord, RecordError, doc_id
from sources import get_reader
from sources.edgar import (
    Block,
    EdgarOptions,
    classify_table,
    extract_filing,
    html_blocks,
    parse_header,
    read_records,
    split_items,
)

# ---------------------------------------------------------------------------------------------------------
# Inline fixtures

MODERN_HEADER = """\
<SEC-DOCUMENT>0000320193-24-000123.txt : 20241101
<SEC-HEADER>0000320193-24-000123.hdr.sgml : 20241101
<ACCEPTANCE-DATETIME>20241101060136
ACCESSION NUMBER:\t\t0000320193-24-000123
CONFORMED SUBMISSION TYPE:\t10-K
PUBLIC DOCUMENT COUNT:\t\t6
CONFORMED PERIOD OF REPORT:\t20240928
FILED AS OF DATE:\t\t20241101
DATE AS OF CHANGE:\t\t20241101

FILER:

\tCOMPANY DATA:\t
\t\tCOMPANY CONFORMED NAME:\t\t\tApple Inc.
\t\tCENTRAL INDEX KEY:\t\t\t0000320193
\t\tSTANDARD INDUSTRIAL CLASSIFICATION:\tELECTRONIC COMPUTERS [3571]
\t\tIRS NUMBER:\t\t\t\t942404110
\t\tSTATE OF INCORPORATION:\t\t\tCA
\t\tFISCAL YEAR END:\t\t\t0928

\tFILING VALUES:
\t\tFORM TYPE:\t\t10-K
\t\tSEC ACT:\t\t1934 Act

\tBUSINESS ADDRESS:\t
\t\tSTREET 1:\t\tONE APPLE PARK WAY
\t\tCITY:\t\t\tCUPERTINO
\t\tSTATE:\t\t\tCA
</SEC-HEADER>
"""


def _document(doc_type: str, sequence: int, filename: str, body: str, description: str = "") -> str:
    described = f"<DESCRIPTION>{description}\n" if description else ""
    return (
        f"<DOCUMENT>\n<TYPE>{doc_type}\n<SEQUENCE>{sequence}\n<FILENAME>{filename}\n{described}"
        f"<TEXT>\n{body}\n</TEXT>\n</DOCUMENT>\n"
    )


MAIN_HTML = (
    "<html><body><p>FORM 10-K</p><p>Annual report body about iPhone sales and services.</p></body></html>"
)
PRESS_HTML = (
    "<html><body><p>Apple reports fourth quarter results. Revenue grew six percent.</p></body></html>"
)
UUENCODED = "begin 644 chart.jpg\nM_]C_X``02D9)1@`!`0$`8`!@``#_VP!#``@&!@<&!0@'!P<)\n`\nend"

MODERN_SUBMISSION = (
    MODERN_HEADER
    + _document("10-K", 1, "aapl-20240928.htm", f"<XBRL>\n{MAIN_HTML}\n</XBRL>", "10-K")
    + _document("EX-99.1", 2, "ex991.htm", PRESS_HTML, "PRESS RELEASE")
    + _document("EX-10.1", 3, "ex101.htm", "<html><body><p>Employment agreement.</p></body></html>")
    + _document("EX-99.2", 4, "chart.pdf", "<PDF>\nbegin 644 chart.pdf\nM_]C_X\n`\nend\n</PDF>")
    + _document("GRAPHIC", 5, "chart.jpg", UUENCODED)
    + _document("EX-101.INS", 6, "aapl-20240928.xml", "<XBRL>\n<xbrl>facts</xbrl>\n</XBRL>")
    + "</SEC-DOCUMENT>\n"
)

PEM_SUBMISSION = """\
-----BEGIN PRIVACY-ENHANCED MESSAGE-----
Proc-Type: 2001,MIC-CLEAR
Originator-Name: webmaster@www.sec.gov
MIC-Info: RSA-MD5,RSA,
 K6sXDhaa+PXFj0Xj+krltE3Fdp7p46UKkzgmLT+mjB3Qmi2YarnLcxTRmIIj+Qt1

<SEC-DOCUMENT>0000891020-98-001352.txt : 19980828
<SEC-HEADER>0000891020-98-001352.hdr.sgml : 19980828
ACCESSION NUMBER:\t\t0000891020-98-001352
CONFORMED SUBMISSION TYPE:\t8-K
CONFORMED PERIOD OF REPORT:\t19980812
FILED AS OF DATE:\t\t19980827

FILER:

\tCOMPANY DATA:\t
\t\tCOMPANY CONFORMED NAME:\t\t\tAMAZON COM INC
\t\tCENTRAL INDEX KEY:\t\t\t0001018724
\t\tSTANDARD INDUSTRIAL CLASSIFICATION:\tRETAIL-CATALOG & MAIL-ORDER HOUSES [5961]
\t\tSTATE OF INCORPORATION:\t\t\tDE
</SEC-HEADER>
<DOCUMENT>
<TYPE>8-K
<SEQUENCE>1
<DESCRIPTION>FORM 8-K FOR PERIOD ENDED AUGUST 12, 1998
<TEXT>

<PAGE>   1
                       SECURITIES AND EXCHANGE COMMISSION
                             WASHINGTON, D.C. 20549

                                    FORM 8-K

ITEM 2.  ACQUISITION OR DISPOSITION OF ASSETS

     On August 12, 1998, Amazon.com acquired Junglee Corp., a company
that has developed virtual database technology.

                                       2
<PAGE>   2

     The merger will be accounted for under the purchase method.
</TEXT>
</DOCUMENT>
<DOCUMENT>
<TYPE>EX-23.1
<SEQUENCE>2
<DESCRIPTION>CONSENT OF INDEPENDENT AUDITORS
<TEXT>
We consent to the incorporation by reference.
</TEXT>
</DOCUMENT>
</SEC-DOCUMENT>
-----END PRIVACY-ENHANCED MESSAGE-----
"""

IMS_SUBMISSION = """\
<IMS-DOCUMENT>0000950123-94-000511.txt : 19940330
<IMS-HEADER>0000950123-94-000511.hdr.sgml : 19940330
ACCESSION NUMBER:\t\t0000950123-94-000511
CONFORMED SUBMISSION TYPE:\t10-K
CONFORMED PERIOD OF REPORT:\t19931231
FILED AS OF DATE:\t\t19940330

FILER:

\tCOMPANY DATA:\t
\t\tCOMPANY CONFORMED NAME:\t\t\tINTERNATIONAL BUSINESS MACHINES CORP
\t\tCENTRAL INDEX KEY:\t\t\t0000051143
\t\tSTANDARD INDUSTRIAL CLASSIFICATION:\t3570
\t\tSTATE OF INCORPORATION:\t\t\tNY
</IMS-HEADER>
<DOCUMENT>
<TYPE>10-K
<SEQUENCE>1
<TEXT>
Item 1. Business. IBM develops and manufactures information technologies.
</TEXT>
</DOCUMENT>
</IMS-DOCUMENT>
"""

NO_HEADER_SUBMISSION = """\
<DOCUMENT>
<TYPE>S-3/A
<SEQUENCE>1
<TEXT>

               SECURITIES AND EXCHANGE COMMISSION
                     WASHINGTON, D.C.  20549

                            FORM S-3

                    PAGE AMERICA GROUP, INC.
     (Exact name of registrant as specified in its charter)

     The registrant offers shares of common stock for resale.
</TEXT>
</DOCUMENT>
<DOCUMENT>
<TYPE>EX-99
<SEQUENCE>2
<TEXT>
                  Consent of Independent Auditors
</TEXT>
</DOCUMENT>
"""


def _read(text: str | bytes, path: str = "0000320193-24-000123.txt", **options: str) -> list:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return list(read_records(path, io.BytesIO(data), options))


def _records(results: list) -> list[RawRecord]:
    return [r for r in results if isinstance(r, RawRecord)]


def _errors(results: list) -> list[RecordError]:
    return [r for r in results if isinstance(r, RecordError)]


def _raw(content: str | bytes, form_type: str = "10-K", **metadata: str) -> RawRecord:
    meta = {"company": "Acme Corp", "form_type": form_type, "doc_type": form_type, "filed": "2024-11-01"}
    meta.update(metadata)
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


# ---------------------------------------------------------------------------------------------------------
# Options


def test_options_defaults_and_identity():
    opts = EdgarOptions.from_mapping({})
    assert (opts.exhibits, opts.tables, opts.split_items) == ("press", "markdown", True)
    assert opts.identity() == "edgar(exhibits=press,tables=markdown,split_items=True)"
    assert EdgarOptions.from_mapping({"tables": "drop_numeric"}).tables == "drop_numeric"  # the old default
    assert EdgarOptions.from_mapping({"split_items": "false"}).split_items is False


@pytest.mark.parametrize("options", [{"exhibits": "some"}, {"tables": "keep"}])
def test_options_reject_unknown_policies(options):
    with pytest.raises(ConfigError, match="is not one of"):
        EdgarOptions.from_mapping(options)


def test_reader_is_registered():
    assert get_reader("edgar") is read_records


# ---------------------------------------------------------------------------------------------------------
# Header parsing, every era


def test_parse_modern_header():
    assert parse_header(MODERN_HEADER) == {
        "accession": "0000320193-24-000123",
        "cik": "0000320193",
        "company": "Apple Inc.",
        "form_type": "10-K",
        "filed": "2024-11-01",
        "period": "2024-09-28",
        "sic": "3571",
        "state": "CA",
        "acceptance_datetime": "20241101060136",
    }


def test_parse_header_prefers_subject_company_and_falls_back_to_business_state():
    header = """\
ACCESSION NUMBER:\t\t0000950103-24-000001
CONFORMED SUBMISSION TYPE:\tSC 13D
FILED AS OF DATE:\t\t20240105

SUBJECT COMPANY:

\tCOMPANY DATA:
\t\tCOMPANY CONFORMED NAME:\t\t\tTARGET CO
\t\tCENTRAL INDEX KEY:\t\t\t12345

\tBUSINESS ADDRESS:
\t\tSTATE:\t\t\tNY

FILED BY:

\tCOMPANY DATA:
\t\tCOMPANY CONFORMED NAME:\t\t\tACTIVIST FUND LP
\t\tCENTRAL INDEX KEY:\t\t\t99999
\t\tSTATE OF INCORPORATION:\t\t\tDE
"""
    parsed = parse_header(header)
    assert (parsed["company"], parsed["cik"], parsed["state"]) == ("TARGET CO", "0000012345", "NY")
    assert (parsed["form_type"], parsed["filed"], parsed["period"]) == ("SC 13D", "2024-01-05", "")


def test_parse_ims_header():
    parsed = parse_header(IMS_SUBMISSION.split("<DOCUMENT>")[0])
    assert parsed["company"] == "INTERNATIONAL BUSINESS MACHINES CORP"
    assert (parsed["accession"], parsed["form_type"], parsed["period"]) == (
        "0000950123-94-000511",
        "10-K",
        "1993-12-31",
    )
    assert (parsed["sic"], parsed["state"], parsed["filed"]) == ("3570", "NY", "1994-03-30")


def test_parse_tag_style_header():
    header = """\
<SEC-HEADER>
<ACCESSION-NUMBER>0000912057-97-000001
<TYPE>10-K405
<PERIOD>19961231
<FILING-DATE>19970102
<FILER>
<COMPANY-DATA>
<CONFORMED-NAME>EXAMPLE HOLDINGS INC
<CIK>0000765432
<ASSIGNED-SIC>6022
<STATE-OF-INCORPORATION>PA
</COMPANY-DATA>
</FILER>
</SEC-HEADER>
"""
    assert parse_header(header) == {
        "accession": "0000912057-97-000001",
        "cik": "0000765432",
        "company": "EXAMPLE HOLDINGS INC",
        "form_type": "10-K405",
        "filed": "1997-01-02",
        "period": "1996-12-31",
        "sic": "6022",
        "state": "PA",
        "acceptance_datetime": "",  # 1990s headers have none
    }


# ---------------------------------------------------------------------------------------------------------
# Reading submissions


def test_modern_submission_keeps_main_and_press_release_and_counts_the_rest():
    results = _read(MODERN_SUBMISSION)
    assert _errors(results) == []
    main, press = _records(results)
    assert (main.source, main.id, main.content_type) == ("filings", "0000320193-24-000123:1", "sgml")
    assert main.url == "https://www.sec.gov/Archives/edgar/data/320193/000032019324000123/aapl-20240928.htm"
    assert main.content == MAIN_HTML  # the <XBRL> wrapper is gone
    assert main.metadata == {
        "cik": "0000320193",
        "company": "Apple Inc.",
        "form_type": "10-K",
        "accession": "0000320193-24-000123",
        "filed": "2024-11-01",
        "period": "2024-09-28",
        "sic": "3571",
        "state": "CA",
        "acceptance_datetime": "20241101060136",
        "doc_type": "10-K",
        "filename": "aapl-20240928.htm",
        "description": "10-K",
        "skipped_documents": "EX-10.1,EX-99.2,GRAPHIC,EX-101.INS",
    }
    assert (press.source, press.id, press.metadata["doc_type"]) == (
        "press",
        "0000320193-24-000123:2",
        "EX-99.1",
    )
    assert press.metadata["description"] == "PRESS RELEASE"
    assert "skipped_documents" not in press.metadata
    assert all(isinstance(value, str) for record in (main, press) for value in record.metadata.values())


def test_exhibit_policies():
    all_ids = [r.id.split(":")[1] for r in _records(_read(MODERN_SUBMISSION, exhibits="all"))]
    assert all_ids == ["1", "2", "3"]  # EX-10.1 kept; the PDF, graphic and XBRL never are
    none = _records(_read(MODERN_SUBMISSION, exhibits="none"))
    assert [r.id for r in none] == ["0000320193-24-000123:1"]
    assert none[0].metadata["skipped_documents"] == "EX-99.1,EX-10.1,EX-99.2,GRAPHIC,EX-101.INS"


def test_skipped_documents_are_counted_in_beam_metrics():
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        _ = (
            pipeline
            | "Create" >> beam.Create([MODERN_SUBMISSION.encode()])
            | "Read" >> beam.FlatMap(lambda data: read_records("a.txt", io.BytesIO(data), {}))
        )
    result = pipeline.result
    counters = {
        c.key.metric.name: c.committed
        for c in result.metrics().query(MetricsFilter().with_namespace("edgar"))["counters"]
    }
    assert counters == {
        "skipped:EX-10.1": 1,
        "skipped:EX-99.2": 1,
        "skipped:GRAPHIC": 1,
        "skipped:EX-101.INS": 1,
    }


def test_pem_wrapped_plain_text_submission():
    (main,) = _records(_read(PEM_SUBMISSION, path="gs://bucket/edgar/0000891020-98-001352.txt"))
    assert main.id == "0000891020-98-001352:1"
    assert main.metadata["company"] == "AMAZON COM INC"
    assert (main.metadata["filed"], main.metadata["period"], main.metadata["sic"]) == (
        "1998-08-27",
        "1998-08-12",
        "5961",
    )
    assert main.metadata["filename"] == ""
    assert main.url == ""  # no file name in the submission: no Archives URL
    assert main.metadata["skipped_documents"] == "EX-23.1"
    assert "PRIVACY-ENHANCED" not in main.content and main.content.lstrip().startswith("<PAGE>")


def test_ims_era_submission():
    (main,) = _records(_read(IMS_SUBMISSION))
    assert (main.id, main.metadata["form_type"], main.metadata["cik"]) == (
        "0000950123-94-000511:1",
        "10-K",
        "0000051143",
    )


def test_submission_without_header_takes_metadata_from_the_document():
    results = _read(NO_HEADER_SUBMISSION, path="/data/0000899681-95-000096.txt")
    main, exhibit = _records(results)
    assert (main.id, main.source) == ("0000899681-95-000096:1", "filings")
    assert main.metadata["form_type"] == "S-3/A"  # the TYPE of the main document, not the cover's "FORM S-3"
    assert main.metadata["company"] == "PAGE AMERICA GROUP, INC."
    assert (main.metadata["accession"], main.metadata["cik"], main.url) == ("0000899681-95-000096", "", "")
    assert exhibit.source == "press" and exhibit.metadata["doc_type"] == "EX-99"
    assert exhibit.metadata["company"] == "PAGE AMERICA GROUP, INC."  # inherited from the main document


def test_gzip_submission_reads_like_the_plain_file():
    plain = [(r.id, r.content) for r in _records(_read(PEM_SUBMISSION))]
    zipped = _records(_read(gzip.compress(PEM_SUBMISSION.encode()), path="0000891020-98-001352.txt.gz"))
    assert [(r.id, r.content) for r in zipped] == plain


def test_cut_gzip_submission_keeps_its_complete_documents_like_the_plain_cut():
    """Issue 16: a cut .txt.gz lost every document (the same cut uncompressed kept the complete ones)."""
    text = (MODERN_HEADER + _document("10-K", 1, "a.htm", MAIN_HTML) + _document("EX-99.1", 2, "b.htm", PRESS_HTML)
            + _document("EX-99.2", 3, "c.htm", PRESS_HTML * 40)).encode()  # fmt: skip
    cut = text[: text.index(b"<TYPE>EX-99.2") + 300]
    plain = _read(cut)
    zipped = _read(gzip.compress(text)[: len(gzip.compress(cut))], path="0000320193-24-000123.txt.gz")
    assert (
        [r.id for r in _records(zipped)]
        == [r.id for r in _records(plain)]
        == [
            "0000320193-24-000123:1",
            "0000320193-24-000123:2",
        ]
    )
    assert [e.kind for e in _errors(zipped)] == ["unterminated_document", "truncated"]
    assert "decompressed bytes" in _errors(zipped)[-1].message


def test_oversized_document_is_too_large_and_the_rest_is_kept():
    """Issue 16 item 9: EDGAR documents had no size cap (a 40 MB binary-looking exhibit became a document)."""
    text = (
        MODERN_HEADER
        + _document("10-K", 1, "a.htm", MAIN_HTML)
        + _document("EX-99.1", 2, "b.htm", "x" * 5000)
    )
    results = _read(text, max_doc_bytes="2000")
    assert [r.id for r in _records(results)] == ["0000320193-24-000123:1"]
    assert [(e.kind, e.id) for e in _errors(results)] == [("too_large", "0000320193-24-000123:2")]
    assert [e.kind for e in _errors(_read(MAIN_HTML * 20, path="a.htm", max_doc_bytes="1000"))] == [
        "too_large"
    ]


def test_uuencoded_exhibit_with_a_text_type_is_skipped_and_counted():
    text = (
        MODERN_HEADER + _document("10-K", 1, "a.htm", MAIN_HTML) + _document("EX-99.3", 2, "c.gif", UUENCODED)
    )
    (main,) = _records(_read(text))
    assert main.metadata["skipped_documents"] == "EX-99.3"


def test_broken_documents_yield_errors_and_reading_goes_on():
    text = (
        MODERN_HEADER
        + "<DOCUMENT>\n<TYPE>EX-99.9\n<SEQUENCE>7\n</DOCUMENT>\n"  # no <TEXT>
        + _document("10-K", 1, "a.htm", MAIN_HTML)
        + "<DOCUMENT>\n<TYPE>EX-99.1\n<SEQUENCE>2\n<TEXT>\nnever closed\n"  # cut off by the next one
        + _document("EX-99.2", 3, "b.htm", PRESS_HTML)
        + "<DOCUMENT>\n<TYPE>EX-99.4\n<SEQUENCE>4\n<TEXT>\ntruncated file"  # ends inside
    )
    results = _read(text)
    errors = _errors(results)
    assert [(e.kind, e.id) for e in errors] == [
        ("missing_text", "0000320193-24-000123:7"),
        ("unterminated_document", "0000320193-24-000123:2"),
        ("unterminated_document", "0000320193-24-000123:4"),
    ]
    assert errors[0].message == "document 1 (EX-99.9, line 30) has no <TEXT> section"
    assert all(e.source == "filings" and e.stage == "read" and e.path for e in errors)
    assert [r.id for r in _records(results)] == ["0000320193-24-000123:1", "0000320193-24-000123:3"]


@pytest.mark.parametrize(
    ("data", "path", "kind"),
    [
        (b"", "empty.txt", "empty_file"),
        (b"just some notes\nabout lunch\n", "notes.txt", "not_edgar"),
        (b"<html><body><p>My holiday photos</p></body></html>", "page.html", "not_edgar"),
        (MODERN_HEADER.encode(), "0000320193-24-000123.txt", "no_documents"),
    ],
)
def test_files_that_are_not_edgar_submissions(data, path, kind):
    (error,) = _read(data, path=path)
    assert isinstance(error, RecordError) and error.kind == kind and error.path == path
    assert "\n" not in error.message


def test_corrupt_gzip_raises_record_failure():
    with pytest.raises(RecordFailure) as failure:
        _read(b"this is not gzip data", path="a.txt.gz")
    assert failure.value.kind == "unreadable_file"


# ---------------------------------------------------------------------------------------------------------
# Standalone primary documents

IXBRL_8K = """<?xml version='1.0' encoding='ASCII'?>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:ix="http://www.xbrl.org/2013/inlineXBRL"
      xmlns:dei="http://xbrl.sec.gov/dei/2024" xmlns:us-gaap="http://fasb.org/us-gaap/2024">
<head><title>acme-20241122</title></head><body>
<div style="display:none"><ix:header><ix:hidden>
<ix:nonNumeric name="dei:EntityCentralIndexKey" contextRef="c1">0000012345</ix:nonNumeric>
<ix:nonNumeric name="dei:AmendmentFlag" contextRef="c1">false</ix:nonNumeric>
</ix:hidden><ix:resources><xbrli:context id="c1"><xbrli:entity>
<xbrli:identifier scheme="http://www.sec.gov/CIK">0000012345</xbrli:identifier></xbrli:entity>
</xbrli:context></ix:resources></ix:header></div>
<div style="text-align:center">FORM <ix:nonNumeric name="dei:DocumentType" contextRef="c1">8-K</ix:nonNumeric></div>
<div>Date of Report: <ix:nonNumeric name="dei:DocumentPeriodEndDate" contextRef="c1">November&#160;<ix:nonNumeric
 name="dei:Other" contextRef="c1">22</ix:nonNumeric>, 2024</ix:nonNumeric></div>
<div><ix:nonNumeric name="dei:EntityRegistrantName" contextRef="c1">ACME CORP</ix:nonNumeric></div>
<div>(Exact name of registrant as specified in its charter)</div>
<div>State: <ix:nonNumeric name="dei:EntityIncorporationStateCountryCode" contextRef="c1">Delaware</ix:nonNumeric></div>
<div><span>Item 2.02 Results of Operations.</span></div>
<div><span>Revenue was $<ix:nonFraction name="us-gaap:Revenues" contextRef="c1" unitRef="usd" decimals="-6"
 scale="6">12.5</ix:nonFraction> million, up 4&#8217;s a &amp; b.</span></div>
<div style="display: NONE">hidden note</div>
</body></html>
"""


def test_standalone_inline_xbrl_document_metadata_from_dei_facts():
    (record,) = _read(IXBRL_8K, path="acme-20241122.htm")
    assert (record.source, record.id, record.content_type) == ("filings", "acme-20241122.htm", "sgml")
    assert record.metadata == {
        "cik": "0000012345",
        "company": "ACME CORP",
        "form_type": "8-K",
        "accession": "",
        "filed": "",
        "period": "2024-11-22",
        "sic": "",
        "state": "Delaware",
        "acceptance_datetime": "",
        "doc_type": "8-K",
        "filename": "acme-20241122.htm",
        "description": "",
    }
    assert record.url == ""  # no accession known


def test_standalone_document_with_accession_in_its_name_gets_an_archives_url():
    (record,) = _read(IXBRL_8K, path="/x/0000012345-24-000042.htm")
    assert record.id == "0000012345-24-000042:0000012345-24-000042.htm"
    assert (
        record.url
        == "https://www.sec.gov/Archives/edgar/data/12345/000001234524000042/0000012345-24-000042.htm"
    )


OLD_HTML_10K = _html(
    "<p align=center><b>UNITED STATES<br>SECURITIES AND EXCHANGE COMMISSION</b></p>"
    "<p align=center><b>FORM 10-K</b></p>"
    "<p>For the fiscal year ended December 31, 2009</p>"
    "<table><tr><td>Commission file number 1-9828</td></tr></table>"
    "<p align=center><b>GAINSBOROUGH WIDGETS, INC.</b></p>"
    "<p align=center>(Exact name of registrant as specified in its charter)</p>"
    "<p>Item 1. Business</p><p>We make widgets.</p>"
)


def test_standalone_pre_ixbrl_document_metadata_from_the_cover_page():
    (record,) = _read(OLD_HTML_10K, path="0000950153-10-000001.html")
    meta = record.metadata
    assert (meta["company"], meta["form_type"], meta["period"]) == (
        "GAINSBOROUGH WIDGETS, INC.",
        "10-K",
        "2009-12-31",
    )
    assert meta["accession"] == "0000950153-10-000001" and meta["cik"] == ""


def test_standalone_press_release_by_file_name():
    body = _html("<p>Exhibit 99.1</p><p>OMAHA -- Widget Co. (NYSE: WID) announced record sales today.</p>")
    (record,) = _read(body, path="d123ex991.htm")
    assert (record.source, record.metadata["doc_type"], record.metadata["company"]) == (
        "press",
        "EX-99.1",
        "Widget Co.",
    )


def test_standalone_plain_text_primary_document():
    text = "                 FORM 10-Q\n\n          WIDGET HOLDINGS LLC\n  (Exact name of registrant as specified in its charter)\n"
    (record,) = _read(text, path="widget-10q.txt")
    assert (record.source, record.id, record.metadata["company"]) == (
        "filings",
        "widget-10q.txt",
        "WIDGET HOLDINGS LLC",
    )
    assert (record.metadata["form_type"], record.metadata["doc_type"]) == ("10-Q", "10-Q")


def test_multi_registrant_plain_text_cover():
    text = """<DOCUMENT>
<TYPE>8-K
<SEQUENCE>1
<TEXT>
                                    FORM 8-K
Date of Report (Date of earliest event reported)         January 25, 2005

Commission       Registrant, State of Incorporation,       I.R.S. Employer
File Number      Address and Telephone Number              Identification No.

1-3526           The Southern Company                      58-0690070
                 (A Delaware Corporation)
</TEXT>
</DOCUMENT>
"""
    (record,) = _records(_read(text, path="0000092122-05-000042_yearend048k.txt"))
    assert (record.id, record.metadata["company"]) == ("0000092122-05-000042:1", "The Southern Company")
    assert record.metadata["period"] == "2005-01-25"


# ---------------------------------------------------------------------------------------------------------
# Extraction


def test_extract_inline_xbrl_drops_hidden_header_and_decodes_entities():
    doc = extract_filing(_raw(IXBRL_8K, form_type="8-K"))
    assert doc.text == (
        "FORM 8-K\n\nDate of Report: November 22, 2024\n\nACME CORP\n\n"
        "(Exact name of registrant as specified in its charter)\n\nState: Delaware\n\n"
        "Item 2.02 Results of Operations.\n\nRevenue was $12.5 million, up 4’s a & b."
    )
    assert (doc.n_chars, doc.source) == (len(doc.text), "filings")
    assert doc.id == doc_id("filings", "0000000001-24-000001:1")
    assert (doc.title, doc.date) == ("Acme Corp 8-K", "2024-11-01")
    assert "items" not in doc.metadata  # 8-K: no item split
    assert doc.metadata["declared_lang"] == "en"  # Regulation S-T Rule 306: filings are in English


def test_ix_header_is_dropped_even_when_not_inside_a_hidden_element():
    markup = _html(
        "<ix:header><ix:hidden><ix:nonNumeric name='dei:AmendmentFlag'>false</ix:nonNumeric></ix:hidden>"
        "<ix:resources><xbrli:context id='c1'><xbrli:entity>0000012345</xbrli:entity></xbrli:context>"
        "</ix:resources></ix:header><p>Visible text.</p>"
    )
    assert extract_filing(_raw(markup, form_type="8-K")).text == "Visible text."


NUMERIC_TABLE = (
    "<table><tr><td></td><td>2024</td><td>2023</td></tr>"
    "<tr><td>Net sales</td><td>$</td><td>391,035</td><td>$</td><td>383,285</td></tr>"
    "<tr><td>Cost of sales</td><td>(210,352</td><td>)</td><td>(214,137</td><td>)</td></tr>"
    "<tr><td>Margin</td><td>46.2</td><td>%</td><td>44.1</td><td>%</td></tr></table>"
)
TEXT_TABLE = (
    "<table><tr><th>Name</th><th>Position</th></tr>"
    "<tr><td>Jane Roe</td><td>Chief Executive<br/>Officer</td></tr>"
    "<tr><td>John Doe</td><td>Chief Financial Officer</td></tr></table>"
)
TABLES_HTML = _html(f"<p>Results follow.</p>{NUMERIC_TABLE}<p>Officers:</p>{TEXT_TABLE}<p>End.</p>")


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (
            "markdown",
            "Results follow.\n\n| | 2024 | 2023 |\n| --- | ---: | ---: |\n| Net sales | $391,035 | $383,285 |\n"
            "| Cost of sales | (210,352) | (214,137) |\n| Margin | 46.2% | 44.1% |\n\nOfficers:\n\n"
            "| Name | Position |\n| --- | --- |\n| Jane Roe | Chief Executive Officer |\n"
            "| John Doe | Chief Financial Officer |\n\nEnd.",
        ),
        (
            "drop_numeric",
            "Results follow.\n\nOfficers:\n\nName; Position\nJane Roe; Chief Executive Officer\n"
            "John Doe; Chief Financial Officer\n\nEnd.",
        ),
        (  # the text shape's one linearisation: "row label: column heading: value; ..." under headings
            "linearize",
            "Results follow.\n\nNet sales: 2024: $391,035; 2023: $383,285\n"
            "Cost of sales: 2024: (210,352); 2023: (214,137)\nMargin: 2024: 46.2%; 2023: 44.1%\n\nOfficers:\n\n"
            "Name; Position\nJane Roe; Chief Executive Officer\nJohn Doe; Chief Financial Officer\n\nEnd.",
        ),
        ("drop", "Results follow.\n\nOfficers:\n\nEnd."),
    ],
)
def test_table_policies(policy, expected):
    assert extract_filing(_raw(TABLES_HTML, form_type="8-K"), {"tables": policy}).text == expected


def test_classify_table():
    assert classify_table([["2024", "2023"], ["Net sales", "$391,035", "$383,285"]]) == "numeric"
    assert classify_table([["Name", "Age"], ["Jane Roe", "61"], ["John Doe", "58"]]) == "text"
    toc = [
        ["Part I"],
        ["Item 1.", "Business", "1"],
        ["Item 1A.", "Risk Factors", "5"],
        ["Item 2.", "Properties", "17"],
    ]
    assert classify_table(toc) == "toc"
    assert (
        classify_table([["", "Page"], ["Balance Sheets", "F-2"], ["Income", "F-3"], ["Notes", "F-5"]])
        == "toc"
    )
    assert classify_table([[], []]) == "empty"


def _ten_k_html(pages: int = 6) -> str:
    """A small 10-K with a TOC table, a cross-reference, running footers and page numbers."""
    toc = (
        "<table><tr><td></td><td>Page</td></tr><tr><td>Part I</td></tr>"
        "<tr><td>Item 1.</td><td>Business</td><td>1</td></tr>"
        "<tr><td>Item 1A.</td><td>Risk Factors</td><td>2</td></tr>"
        "<tr><td>Item 7.</td><td>Management's Discussion</td><td>3</td></tr></table>"
    )
    sections = [
        ("Item 1. Business", "We sell anvils to coyotes. " * 30),
        ("Item 1A. Risk Factors", "Road runners are fast. " * 40),
        ("Item 1B. Unresolved Staff Comments", "None."),
        ("Item 7. Management's Discussion and Analysis", "Sales rose. See Item 1A for risks. " * 30),
    ]
    body = ["<p>FORM 10-K</p><p>ACME CORP</p><p>TABLE OF CONTENTS</p>", toc]
    for page in range(1, pages + 1):
        if page <= len(sections):
            heading, text = sections[page - 1]
            body.append(f"<div><b>{heading}</b></div><div>{text}</div>")
        else:
            body.append(f"<div>Exhibit listing page {page}.</div>")
        body.append(f"<div>Acme Corp. | 2024 Form 10-K | {page}</div><div>{page}</div><hr/>")
    return _html("".join(body))


def test_toc_running_footer_and_page_numbers_are_dropped():
    doc = extract_filing(_raw(_ten_k_html()))
    assert "Form 10-K |" not in doc.text and "Page" not in doc.text
    assert not re.search(r"^\d+$", doc.text, re.MULTILINE)  # no page-number lines
    assert doc.text.count("Item 1A. Risk Factors") == 1  # the TOC entry is gone
    assert "None." in doc.text  # short answers are not mistaken for running lines
    # the "TABLE OF CONTENTS" title goes with its table
    assert doc.text.startswith("FORM 10-K\n\nACME CORP\n\nItem 1. Business\n\n")


def test_running_lines_need_enough_repeats():
    doc = extract_filing(_raw(_ten_k_html(pages=4)))
    assert doc.text.count("Acme Corp. | 2024 Form 10-K |") == 4  # 4 repeats < RUNNING_LINE_MIN_REPEATS


def test_items_are_stored_as_compact_json():
    doc = extract_filing(_raw(_ten_k_html()))
    items = json.loads(doc.metadata["items"])
    assert [(i["item"], i["title"]) for i in items] == [
        ("1", "Business"),
        ("1A", "Risk Factors"),
        ("1B", "Unresolved Staff Comments"),
        ("7", "Management's Discussion and Analysis"),  # the document's title, not the standard one
    ]
    assert doc.text[items[1]["start"] : items[1]["end"]].startswith("Item 1A. Risk Factors\n\nRoad runners")
    assert '", "' not in doc.metadata["items"] and '": ' not in doc.metadata["items"]  # compact separators
    assert "items" not in extract_filing(_raw(_ten_k_html()), {"split_items": False}).metadata


def test_items_not_split_for_exhibits_of_a_10k():
    raw = _raw(_ten_k_html(), form_type="10-K", doc_type="EX-13")
    assert "items" not in extract_filing(raw).metadata


PLAIN_10K = """\
                       SECURITIES AND EXCHANGE COMMISSION
                                    FORM 10-K

                               TABLE OF CONTENTS
PART I
Item 1.    Business ............................................   1
Item 1A.   Risk Factors ........................................   4
Item 2.    Properties ..........................................   9
PART II
Item 7.    Management's Discussion and Analysis ................  12

<PAGE>   1
PART I

ITEM 1.  BUSINESS

     The Company makes anvils. It sells them to
coyotes across the desert.

<TABLE>
<CAPTION>
                                    1998        1997
<S>                              <C>         <C>
Net sales......................   $ 1,234     $ 1,100
Net income.....................       120          98
</TABLE>

                                       1
<PAGE>   2

ITEM 1A. RISK FACTORS

     Road runners are fast.  See Item 7 for more.
Item 7 of this report discusses results.

ITEM 2.  PROPERTIES

     We own a warehouse.

ITEM 7.  MANAGEMENT'S DISCUSSION AND ANALYSIS

     Sales grew.
"""


def test_plain_text_filing():
    doc = extract_filing(_raw(PLAIN_10K.encode("cp1252")))
    assert doc.text == (
        "SECURITIES AND EXCHANGE COMMISSION FORM 10-K\n\nPART I\n\nITEM 1. BUSINESS\n\n"
        "The Company makes anvils. It sells them to coyotes across the desert.\n\n"
        "| | 1998 | 1997 |\n| --- | ---: | ---: |\n| Net sales | $1,234 | $1,100 |\n| Net income | 120 | 98 |\n\n"
        "ITEM 1A. RISK FACTORS\n\n"
        "Road runners are fast. See Item 7 for more. Item 7 of this report discusses results.\n\n"
        "ITEM 2. PROPERTIES\n\nWe own a warehouse.\n\n"
        "ITEM 7. MANAGEMENT'S DISCUSSION AND ANALYSIS\n\nSales grew."
    )
    items = json.loads(doc.metadata["items"])
    assert [(i["item"], doc.text[i["start"] : i["start"] + 9]) for i in items] == [
        ("1", "PART I\n\nI"),
        ("1A", "ITEM 1A. "),
        ("2", "ITEM 2. P"),
        ("7", "ITEM 7. M"),
    ]


def test_plain_text_table_policy_linearize_keeps_rows():
    text = extract_filing(_raw(PLAIN_10K), {"tables": "linearize"}).text
    assert "Net sales: 1998: $1,234; 1997: $1,100\nNet income: 1998: 120; 1997: 98\n" in text


def test_bytes_are_decoded_as_cp1252_when_not_utf8():
    doc = extract_filing(_raw(b"<html><body><p>The Company\x92s \x93best\x94 year</p></body></html>"))
    assert doc.text == "The Company’s “best” year"


def test_nothing_left_gives_an_empty_document():
    doc = extract_filing(
        _raw(_html("<table><tr><td>1</td><td>2</td></tr><tr><td>3</td><td>4</td></tr></table>")),
        {"tables": "drop"},
    )
    assert (doc.text, doc.n_chars) == ("", 0)


@pytest.mark.parametrize("content", [12345, b"\x00\x01\x02\x03" * 500])
def test_undecodable_content_raises_record_failure(content):
    with pytest.raises(RecordFailure) as failure:
        extract_filing(_raw(content))
    assert failure.value.kind == "undecodable"


def test_document_saved_with_its_sgml_wrapper():
    wrapped = (
        "<DOCUMENT>\n<TYPE>8-K\n<SEQUENCE>1\n<TEXT>\n"
        + _html("<p>Body text.</p>")
        + "\n</TEXT>\n</DOCUMENT>\n"
    )
    assert extract_filing(_raw(wrapped, form_type="8-K")).text == "Body text."


# ---------------------------------------------------------------------------------------------------------
# Item splitting


def test_split_items_skips_toc_and_cross_references():
    text = (
        "TABLE OF CONTENTS\nItem 1. Business 3\nItem 1A. Risk Factors 5\nItem 7. Management's Discussion 9\n\n"
        "PART I\n\nItem 1. Business\n\n" + "Anvils. " * 100 + "\n\n"
        "Item 1A. Risk Factors\n\n"
        + "Risky. "
        * 100
        + "\n\nItem 7 of this report is cross-referenced here.\n\n"
        "Item 7, Management's Discussion, follows.\n\n"
        "Item 7. Management's Discussion and Analysis\n\n" + "Sales. " * 100
    )
    items = split_items(text, "10-K405")
    assert [i["item"] for i in items] == ["1", "1A", "7"]
    starts = [i["start"] for i in items]
    assert starts == [
        text.index("PART I\n\nItem 1. Business\n\nAnvils"),  # the PART heading opens the item after it
        text.index("Item 1A. Risk Factors\n\nRisky"),
        text.index("Item 7. Management's Discussion and"),
    ]
    assert [i["end"] for i in items] == [starts[1], starts[2], len(text)]


def test_split_items_10q_parts():
    text = (
        "PART I — FINANCIAL INFORMATION\n\nItem 1. Financial Statements\n\n" + "Numbers. " * 80 + "\n\n"
        "Item 2. Management's Discussion and Analysis\n\n" + "Discussion. " * 80 + "\n\n"
        "PART II — OTHER INFORMATION\n\nItem 1. Legal Proceedings\n\n" + "Lawsuits. " * 60 + "\n\n"
        "Item 1A. Risk Factors\n\nNo material changes.\n\nItem 6. Exhibits\n\n31.1 Certification"
    )
    items = split_items(text, "10-Q")
    assert [i["item"] for i in items] == [
        "part1_item1",
        "part1_item2",
        "part2_item1",
        "part2_item1a",
        "part2_item6",
    ]
    assert text[items[2]["start"] :].startswith("PART II — OTHER INFORMATION\n\nItem 1. Legal Proceedings")
    assert text[: items[2]["start"]].endswith("Discussion. \n\n")  # "PART II" does not trail Item 2
    assert items[3]["title"] == "Risk Factors"


def test_split_items_other_forms():
    assert split_items("Item 2.02 Results of Operations", "8-K") == []
    assert split_items("no headings at all", "10-K") == []


# ---------------------------------------------------------------------------------------------------------
# Real EDGAR files (../shared/data/edgar)

TAG_RE = re.compile(r"<[A-Za-z/!?][^>]*>")

# file -> [(source, doc_type, company, form_type)] in the order the reader yields records.
EXPECTED_RECORDS = {
    "10-K/0000950153-99-001234.html": [("filings", "10-K", "MEDICIS PHARMACEUTICAL CORPORATION", "10-K")],
    "10-K/0001193125-10-073212.html": [("filings", "10-K", "GAINSCO, INC.", "10-K")],
    "10-K/0001376474-16-000635.html": [("filings", "10-K", "COMMONWEALTH INCOME & GROWTH FUND V", "10-K")],
    "10-K/aapl-10-k-2024-11-01.html": [("filings", "10-K", "Apple Inc.", "10-K")],
    "10-K/wfc-10-k-2025-02-25.html": [("filings", "10-K", "WELLS FARGO & COMPANY/MN", "10-K")],
    "10-Q/aapl-10-q-2025-08-01.html": [("filings", "10-Q", "Apple Inc.", "10-Q")],
    "10-Q/unp-10-q-2025-07-24.html": [("filings", "10-Q", "UNION PACIFIC CORP", "10-Q")],
    "8-K/0000092122-05-000042_yearend048k.txt": [("filings", "8-K", "The Southern Company", "8-K")],
    "8-K/0000887919-21-000012.html": [("filings", "8-K", "PREMIER FINANCIAL BANCORP, INC.", "8-K")],
    "8-K/0001104659-03-004925.html": [("filings", "8-K", "Louisville Gas and Electric Company", "8-K")],
    "8-K/0001193125-11-009392_d8k.htm": [("filings", "8-K", "APPLE INC.", "8-K")],
    "8-K/BuckleInc.8-K.EX99.1.html": [("press", "EX-99.1", "The Buckle, Inc.", "EX-99.1")],
    "8-K/BuckleInc.8-K.html": [("filings", "8-K", "BUCKLE, INC", "8-K")],
    "8-K/Oracle.8-K.html": [("filings", "8-K", "ORACLE CORP", "8-K")],
    "8-K/form8k.Nordstrom.html": [("filings", "8-K", "Nordstrom, Inc.", "8-K")],
    "full-submission/0000092122-05-000042.txt": [("filings", "8-K", "ALABAMA POWER CO", "8-K")]
    + [("press", f"EX-99.0{n}", "ALABAMA POWER CO", "8-K") for n in range(1, 7)],
    "full-submission/0000891020-98-001352.txt": [("filings", "8-K", "AMAZON COM INC", "8-K")],
    "full-submission/0000899681-95-000096.txt": [
        ("filings", "S-3/A", "PAGE AMERICA GROUP, INC.", "S-3/A"),
        ("press", "EX-99", "PAGE AMERICA GROUP, INC.", "S-3/A"),
    ],
    "full-submission/0000943374-24-000509.txt": [
        ("filings", "8-K", "1895 Bancorp of Wisconsin, Inc. /MD/", "8-K")
    ],
    "full-submission/0001011438-98-000429.txt": [("filings", "8-K", "AAMES CAPITAL CORP", "8-K")],
    "full-submission/0001193125-11-009392.txt": [
        ("filings", "8-K", "APPLE INC", "8-K"),
        ("press", "EX-99.1", "APPLE INC", "8-K"),
        ("press", "EX-99.2", "APPLE INC", "8-K"),
    ],
}


def _real_records(shared_data: Path, name: str) -> list[RawRecord | RecordError]:
    path = shared_data / "edgar" / name
    if not path.is_file():
        pytest.skip(f"{path} not found")
    with path.open("rb") as stream:
        return list(read_records(str(path), stream, {}))


@pytest.fixture(scope="module")
def real_documents(shared_data: Path) -> dict[str, list[tuple[RawRecord, Document]]]:
    """Every real file read and extracted once: name -> [(record, document)]."""
    out = {}
    for name in EXPECTED_RECORDS:
        records = _real_records(shared_data, name)
        assert _errors(records) == [], name
        out[name] = [(r, extract_filing(r)) for r in _records(records)]
    return out


def test_every_real_edgar_file_is_covered(shared_data: Path):
    on_disk = {
        str(p.relative_to(shared_data / "edgar"))
        for folder in ("10-K", "10-Q", "8-K", "full-submission")
        for p in (shared_data / "edgar" / folder).iterdir()
    }
    assert on_disk == set(EXPECTED_RECORDS)


@pytest.mark.parametrize("name", sorted(EXPECTED_RECORDS))
def test_real_file_records_and_metadata(real_documents, name):
    pairs = real_documents[name]
    got = [
        (r.source, r.metadata["doc_type"], r.metadata["company"], r.metadata["form_type"]) for r, _ in pairs
    ]
    assert got == EXPECTED_RECORDS[name]
    for record, doc in pairs:
        assert record.content_type == "sgml"
        assert all(isinstance(v, str) for v in record.metadata.values())
        assert doc.text.strip(), record.id
        assert not TAG_RE.search(doc.text), TAG_RE.search(doc.text)
        for token in ("ix:", "us-gaap:", "&#", "dei:"):
            assert token not in doc.text, (record.id, token)
        assert doc.n_chars == len(doc.text)
        assert doc.source == record.source


def test_real_submission_header_metadata(real_documents):
    (main, _), *_ = real_documents["full-submission/0000943374-24-000509.txt"]
    assert main.metadata == {
        "cik": "0001847360",
        "company": "1895 Bancorp of Wisconsin, Inc. /MD/",
        "form_type": "8-K",
        "accession": "0000943374-24-000509",
        "filed": "2024-12-27",
        "period": "2024-12-20",
        "sic": "6036",
        "state": "MD",
        "acceptance_datetime": "20241227162940",
        "doc_type": "8-K",
        "filename": "form8k_122024.htm",
        "description": "1895 BANCORP OF WISCONSIN, INC. FORM 8-K DECEMBER 20, 2024",
        "skipped_documents": "EX-101.SCH,EX-101.LAB,EX-101.PRE,XML,EXCEL,XML,XML,XML,JSON,ZIP,XML",
    }
    assert main.url == "https://www.sec.gov/Archives/edgar/data/1847360/000094337424000509/form8k_122024.htm"


@pytest.mark.parametrize(
    ("name", "cik", "period"),
    [
        ("10-K/aapl-10-k-2024-11-01.html", "0000320193", "2024-09-28"),
        ("10-K/wfc-10-k-2025-02-25.html", "0000072971", "2024-12-31"),
        ("10-K/0001193125-10-073212.html", "", "2009-12-31"),
        ("10-K/0000950153-99-001234.html", "", "1999-06-30"),
        ("10-Q/unp-10-q-2025-07-24.html", "0000100885", "2025-06-30"),
        ("8-K/0001193125-11-009392_d8k.htm", "", "2011-01-18"),
    ],
)
def test_real_standalone_cik_and_period(real_documents, name, cik, period):
    (record, doc), *_ = real_documents[name]
    # ``date`` is the filing date across EDGAR, never the period: unknown for a document saved without its header
    assert (record.metadata["cik"], record.metadata["period"], doc.date) == (cik, period, "")


def test_real_table_heavy_press_release_keeps_its_narrative(real_documents):
    ((record, doc),) = real_documents["8-K/BuckleInc.8-K.EX99.1.html"]
    assert (
        "The Buckle, Inc. (NYSE: BKE) announced today that net income for the fiscal quarter ended "
        in doc.text
    )
    assert "Buckle is a specialty retailer focused on delivering exceptional service" in doc.text
    assert doc.text.count("\n\n") >= 10  # paragraphs kept apart
    assert "44,205" not in doc.text  # the income statement (a numeric table) is dropped


def test_real_inline_xbrl_10k_is_clean(real_documents):
    ((_, doc),) = real_documents["10-K/aapl-10-k-2024-11-01.html"]
    assert "Apple Inc. | 2024 Form 10-K |" not in doc.text  # running footer
    assert len(re.findall(r"^Item 1A\. Risk Factors$", doc.text, re.MULTILINE)) == 1  # TOC dropped
    assert "0000320193" not in doc.text and "fasb.org/us-gaap" not in doc.text  # only in the hidden ix:header
    assert doc.title == "Apple Inc. 10-K"


# Per real 10-K/10-Q: the items found, and those with a full section (> 1000 chars). Wells Fargo's 10-K
# only points into its annual report for Items 1A and 7; Medicis (1999) predates Item 1A and incorporates
# Item 7 by reference; Commonwealth's Item 1A reads "NOT APPLICABLE".
K_ITEMS_1999 = ["1", "2", "3", "4", "5", "6", "7", "7A", "8", "9", "10", "11", "12", "13", "14"]
K_ITEMS_2010 = ["1", "1A", "1B", "2", "3", "4", "5", "6", "7", "7A", "8", "9", "9A", "9B"] + [
    str(n) for n in range(10, 16)
]
K_ITEMS_2024 = ["1", "1A", "1B", "1C", "2", "3", "4", "5", "6", "7", "7A", "8", "9", "9A", "9B", "9C"] + [
    str(n) for n in range(10, 17)
]
Q_ITEMS = (
    [f"part1_item{n}" for n in range(1, 5)]
    + ["part2_item1", "part2_item1a"]
    + [f"part2_item{n}" for n in range(2, 7)]
)
# After the last item: the labelled sections (signatures, exhibit index, auditor's report, the financial
# statements after it, schedules), in document order, as the filings have them.
EXPECTED_ITEMS = {
    "10-K/0000950153-99-001234.html": (
        K_ITEMS_1999 + ["signatures", "schedules", "exhibit_index"],
        {"1", "signatures", "exhibit_index"},
    ),
    "10-K/0001193125-10-073212.html": (
        K_ITEMS_2010 + ["signatures", "exhibit_index", "auditor_report", "financial_statements", "schedules"],
        {"1", "1A", "7", "signatures", "auditor_report", "financial_statements"},
    ),
    "10-K/0001376474-16-000635.html": (
        K_ITEMS_2010 + ["signatures", "auditor_report", "financial_statements"],
        {"1", "7", "signatures", "auditor_report", "financial_statements"},
    ),
    "10-K/aapl-10-k-2024-11-01.html": (K_ITEMS_2024 + ["signatures"], {"1", "1A", "7", "signatures"}),
    "10-K/wfc-10-k-2025-02-25.html": (K_ITEMS_2024 + ["signatures"], {"1", "signatures"}),
    "10-Q/aapl-10-q-2025-08-01.html": (Q_ITEMS + ["signatures"], {"part1_item1", "part1_item2"}),
    "10-Q/unp-10-q-2025-07-24.html": (Q_ITEMS + ["signatures"], {"part1_item1", "part1_item2"}),
}
SECTION_HEADINGS = {
    "signatures": re.compile(r"SIGNATURES?\n"),
    "exhibit_index": re.compile(r"EXHIBIT INDEX|Exhibit Index"),
    "auditor_report": re.compile(r"REPORTS? OF INDEPENDENT REGISTERED|Report of Independent Registered"),
    "financial_statements": re.compile(r"(?:Consolidated )?Balance Sheets\n"),
    "schedules": re.compile(r"SCHEDULE I|Schedule I"),
}
HEADING_NUMBER_RE = re.compile(r"item\s*(\d{1,2}[a-c]?)", re.IGNORECASE)


@pytest.mark.parametrize("name", sorted(EXPECTED_ITEMS))
def test_real_periodic_report_items(real_documents, name):
    ((_, doc),) = real_documents[name]
    items = json.loads(doc.metadata["items"])
    expected_keys, long_sections = EXPECTED_ITEMS[name]
    assert [i["item"] for i in items] == expected_keys
    for item, following in zip(items, items[1:] + [None], strict=True):
        section = doc.text[item["start"] : item["end"]]
        assert not re.search(r"^SIGNATURES?$", section[1:], re.MULTILINE) or item["item"] == "signatures"
        assert not re.search(r"\n\nPART [IV]+\b[^\n]{0,80}\s*$", section)  # no PART heading trails an item
        if item["item"] in SECTION_HEADINGS:
            assert SECTION_HEADINGS[item["item"]].match(section), section[:60]
            continue
        section = re.sub(r"^PART [IV]+\b.*\n\n", "", section)  # a PART heading opens the item after it
        number = HEADING_NUMBER_RE.match(section)
        assert number and number.group(1).upper() == item["item"].rsplit("item", 1)[-1].upper(), section[:60]
        assert item["end"] == (following["start"] if following else len(doc.text))
        assert doc.text[item["start"] - 1] == "\n"  # the heading starts a line
        if item["item"] in long_sections:
            assert len(section) > 1000, (item["item"], len(section))
    assert not re.search(
        r"^item\s*1A?\b", doc.text[: items[0]["start"]], re.IGNORECASE | re.MULTILINE
    )  # no TOC


def test_real_cross_reference_10k_items_point_to_the_annual_report(real_documents):
    ((_, doc),) = real_documents["10-K/wfc-10-k-2025-02-25.html"]
    items = {i["item"]: doc.text[i["start"] : i["end"]] for i in json.loads(doc.metadata["items"])}
    assert items["1A"].startswith(
        "ITEM 1A. RISK FACTORS\n\nInformation in response to this Item 1A can be found"
    )
    assert items["7"].startswith("ITEM 7. MANAGEMENT’S DISCUSSION AND ANALYSIS OF FINANCIAL CONDITION")
    assert "Annual Report" in items["7"]


def test_control_characters_after_block_elements_become_spaces():
    """lxml keeps a form feed (EDGAR's page break) or another control character in a tail but refuses to set
    one: the extractor turns them into spaces instead of failing the filing."""
    from sources.edgar import html_blocks

    markup = (
        "<html><body><p>Item 1. Business</p>\x0cThe Company designs instruments.<br>\x01Page two"
        "<div>Risk factors</div>\x0b and more.</body></html>"
    )
    blocks, _ = html_blocks(markup)
    text = " ".join(b.text for b in blocks)
    assert "The Company designs instruments." in text and "Page two" in text and "and more." in text
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", text)


# ------------------------------------------------------------------ issue 21: faster helpers, same output

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=400, deadline=None)
@given(
    st.text(
        alphabet="ab .\t\n\r\x0b\x0c\x1c\x85\u00a0\u2003\u202f\u3000\u1680\u200b\u200c\u00ad\ufeffé",
        max_size=40,
    )
)
def test_normalize_ws_equals_the_regex_version(text):
    from sources.edgar import _INVISIBLE_RE, _WS_RE, _normalize_ws

    assert _normalize_ws(text) == _WS_RE.sub(" ", _INVISIBLE_RE.sub("", text)).strip()


def test_html_blocks_drop_hidden_elements_keeping_their_tails_as_lxml_html_does():
    import lxml.html

    from sources.edgar import _drop_tree

    markup = '<div>a<span style="display:none">x</span>b<i>c</i><p style="DISPLAY: NONE">y</p>d</div>'
    root = lxml.html.fromstring(markup)
    for el in root.xpath("//*[@style]"):
        el.drop_tree()
    plain = lxml.etree.fromstring(markup, lxml.etree.HTMLParser())
    for el in plain.xpath("//*[@style]"):
        _drop_tree(el)
    assert lxml.etree.tostring(plain.find(".//div")) == lxml.etree.tostring(root)
    assert "".join(plain.find(".//div").itertext()) == "abcd"


def test_a_hidden_element_followed_by_a_page_break_does_not_fail_the_filing():
    """EDGAR puts form feeds between pages; lxml's HTML parser keeps them, but its setters refuse them: joining
    a dropped hidden element's tail (holding one) to the text before it raised ValueError, and the whole filing
    went to errors/. The form feed becomes a space, as in every other tail."""
    markup = (
        '<html><body><p>Page one ends<span style="display:none">hidden</span>\x0cPage two begins</p>'
        '<div><span style="display:none">x</span>\x0cFirst child hidden</div></body></html>'
    )
    blocks, _ = html_blocks(markup)
    texts = [block.text for block in blocks]
    assert texts == ["Page one ends Page two begins", "First child hidden"]


def test_html_blocks_hidden_elements_by_any_spelling_of_display_none_and_only_those():
    """Hidden elements go (in text, in table cells, nested in one another) whatever the case and spacing of
    ``display:none``; ``none`` elsewhere in a style, or ``display:none`` as text, hides nothing."""
    markup = (
        '<html><body><p>Intro<span style="display : None;">gone</span> text</p>'
        '<div style="Display:NONE"><p>gone too<span style="display:none">nested</span></p></div>tail kept'
        '<p style="border:none;font-family:Times New Roman">kept (border none)</p>'
        '<table><tr><td>Revenue<span style="DISPLAY: none">x</span></td><td>$</td><td>1,234</td></tr>'
        "<tr><td>Cost<br>of sales</td><td>$</td><td>(5<!-- c -->67</td><td>)</td></tr></table>"
        "<pre>Line one\n   display:none is text here</pre></body></html>"
    )
    blocks, _ = html_blocks(markup)
    assert blocks == [
        Block("Intro text"),
        Block("tail kept"),
        Block("kept (border none)"),
        Block("| Revenue | $1,234 |\n| --- | ---: |\n| Cost of sales | $(567) |", "table"),
        Block("Line one display:none is text here"),
    ]


def test_finish_text_removes_qnames_line_by_line_and_collapses_space_runs():
    from sources.edgar import _finish_text

    blocks = [
        Block("Total: us-gaap:Revenues 12"),
        Block("a  b\tc"),
        Block("x\n\n\n\ny &#99999999; dei:EntityName"),
        Block("Note: see ix:nonNumeric here"),
    ]
    assert _finish_text(blocks) == "Total: 12\n\na b\tc\n\nx\n\ny & #99999999; \n\nNote: see here"
