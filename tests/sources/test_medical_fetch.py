"""Tests of ``fetch pubmed`` / ``fetch pmc`` against a local replay server (tests/sources/test_http.py).

The site is written here, modelled on NLM's: an Apache-style directory listing of ``pubmed/baseline/`` with
``pubmedYYnNNNN.xml.gz`` files and their ``.md5`` siblings (``MD5(name)= hex``), and PMC's
``pub/pmc/oa_bulk/oa_comm/xml/`` with a baseline and an incremental package, each a ``.tar.gz`` of JATS
articles under ``PMC0xxxxxxx/`` and a ``.filelist.csv``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from core.errors import ConfigError
from pipeline.fetch import main as fetch_main
from sources.medical import read_pmc, read_pubmed
from sources.medical_fetch import (
    MedicalFetchConfig,
    fetch_pmc,
    fetch_pubmed,
    listing_names,
    parse_filelist,
    parse_md5,
)
from tests.sources.test_http import UA, Action, ReplayServer


def citation_set(first_pmid: int, n: int) -> bytes:
    """A PubmedArticleSet of ``n`` citations with abstracts, gzipped (mtime 0: the same bytes every time)."""
    articles = "".join(
        f"""<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">{first_pmid + i}</PMID>
<Article PubModel="Print"><Journal><Title>Journal of Test Medicine</Title><JournalIssue><PubDate><Year>2019</Year>
</PubDate></JournalIssue></Journal><ArticleTitle>Outcome {i} of a randomised trial of early mobilisation.</ArticleTitle>
<Abstract><AbstractText Label="BACKGROUND">Patients after hip surgery were mobilised early in trial {i}.</AbstractText>
<AbstractText Label="RESULTS">Early mobilisation shortened the hospital stay by two days.</AbstractText></Abstract>
<Language>eng</Language><PublicationTypeList><PublicationType UI="D016449">Randomized Controlled Trial</PublicationType>
</PublicationTypeList></Article></MedlineCitation><PubmedData><PublicationStatus>ppublish</PublicationStatus>
</PubmedData></PubmedArticle>
"""
        for i in range(n)
    )
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
        '1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
        f"<PubmedArticleSet>\n{articles}</PubmedArticleSet>\n"
    )
    return gzip.compress(xml.encode(), mtime=0)


def listing(path: str, names: list[str]) -> bytes:
    """An Apache-style index page, as NLM's https mirror of its FTP site serves."""
    rows = "".join(f'<a href="{n}">{n}</a>                 2024-12-12 19:23   20M\n' for n in names)
    return (
        f"<html>\n<head><title>Index of {path}</title></head>\n<body>\n<h1>Index of {path}</h1>\n<pre>"
        f'Name                    Last modified      Size  <hr><a href="/pubmed/">Parent Directory</a>   -\n'
        f"{rows}<hr></pre>\n</body></html>\n"
    ).encode()


def md5_file(name: str, data: bytes) -> bytes:
    return f"MD5({name})= {hashlib.md5(data).hexdigest()}\n".encode()


def jats(pmcid: str, title: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange DTD v1.3 20210610//EN" "JATS-archivearticle1-3.dtd">
<article xmlns:xlink="http://www.w3.org/1999/xlink" article-type="research-article"><front><journal-meta>
<journal-title-group><journal-title>Test Clinical Reports</journal-title></journal-title-group></journal-meta>
<article-meta><article-id pub-id-type="pmc">{pmcid[3:]}</article-id><title-group><article-title>{title}</article-title>
</title-group><pub-date><year>2021</year></pub-date><permissions><license license-type="open-access"
xlink:href="https://creativecommons.org/licenses/by/4.0/"><license-p>CC BY</license-p></license></permissions>
<abstract><p>We report how {title.lower()} changed the care of adults admitted with pneumonia.</p></abstract>
</article-meta></front><body><sec><title>Methods</title><p>Records of adults admitted with community-acquired
pneumonia were reviewed for the time to the first antibiotic dose.</p></sec></body></article>
""".encode()


def package(articles: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in articles.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def filelist(articles: dict[str, bytes]) -> bytes:
    head = (
        "Article File,Article Citation,AccessionID,LastUpdated (YYYY-MM-DD HH:MM:SS),PMID,License,Retracted\n"
    )
    rows = "".join(
        f'{name},"Test Clin Rep. 2021; 3:1",{name.rsplit("/", 1)[-1][:-4]},2024-06-18 10:00:00,0,CC BY,no\n'
        for name in articles
    )
    return (head + rows).encode()


PUBMED_FILES = {"pubmed25n0001.xml.gz": citation_set(1000, 3), "pubmed25n0002.xml.gz": citation_set(2000, 2)}
BASE_ARTICLES = {"PMC000xxxxxx/PMC0000101.xml": jats("PMC0000101", "Sepsis bundles"),
                 "PMC000xxxxxx/PMC0000102.xml": jats("PMC0000102", "Early antibiotics")}  # fmt: skip
INCR_ARTICLES = {"PMC011xxxxxx/PMC11000001.xml": jats("PMC11000001", "Oxygen targets")}
PMC_DIR = "/pub/pmc/oa_bulk/oa_comm/xml/"
BASE_PKG = "oa_comm_xml.PMC000xxxxxx.baseline.2024-06-18"
INCR_PKG = "oa_comm_xml.incr.2024-06-19"


def nlm_routes() -> dict[str, bytes]:
    routes = {}
    names = ["README.txt"]
    for name, data in PUBMED_FILES.items():
        routes[f"/pubmed/baseline/{name}"] = data
        routes[f"/pubmed/baseline/{name}.md5"] = md5_file(name, data)
        names += [name, name + ".md5"]
    routes["/pubmed/baseline/README.txt"] = b"PubMed baseline\n"
    routes["/pubmed/baseline/"] = listing("/pubmed/baseline/", names)
    pmc_names = []
    for stem, articles in ((BASE_PKG, BASE_ARTICLES), (INCR_PKG, INCR_ARTICLES)):
        routes[PMC_DIR + stem + ".tar.gz"] = package(articles)
        routes[PMC_DIR + stem + ".filelist.csv"] = filelist(articles)
        pmc_names += [stem + ".tar.gz", stem + ".filelist.csv", stem + ".filelist.txt"]
    routes[PMC_DIR] = listing(PMC_DIR, pmc_names)
    return routes


@pytest.fixture
def nlm():
    with ReplayServer(nlm_routes()) as server:
        yield server


def make_config(server: ReplayServer, tmp_path: Path, **kwargs) -> MedicalFetchConfig:
    params = {
        "user_agent": UA,
        "cache_dir": str(tmp_path / "cache"),
        "base_url": server.base_url,
        "max_rps": 10.0,
        "max_retries": 2,
        "backoff_base": 0.01,
        "timeout": 2.0,
    }
    params.update(kwargs)
    return MedicalFetchConfig(**params)


def test_listing_md5_and_filelist_parsers():
    page = listing("/pubmed/baseline/", ["a.xml.gz", "a.xml.gz.md5"]).decode()
    assert listing_names(page) == ["a.xml.gz", "a.xml.gz.md5"]  # the parent-directory link is not a file
    assert (
        parse_md5("MD5(pubmed25n0001.xml.gz)= 0123456789ABCDEF0123456789abcdef\n") == "0123456789abcdef" * 2
    )
    assert parse_md5("0123456789abcdef0123456789abcdef  pubmed25n0001.xml.gz") == "0123456789abcdef" * 2
    with pytest.raises(ValueError):
        parse_md5("<html>not found</html>")
    rows = parse_filelist(filelist(BASE_ARTICLES).decode())
    assert [r["AccessionID"] for r in rows] == ["PMC0000101", "PMC0000102"]
    with pytest.raises(ValueError):
        parse_filelist("a,b\n1,2\n")


def test_fetch_pubmed_checks_md5_caches_and_a_rerun_requests_only_the_listing(nlm, tmp_path):
    config = make_config(nlm, tmp_path)
    first = fetch_pubmed(config)
    assert (first.listed, first.fetched, first.cached, first.failed) == (2, 2, 0, 0)
    assert all(s.headers["User-Agent"] == UA for s in nlm.seen)
    for name, data in PUBMED_FILES.items():
        assert (tmp_path / "cache/pubmed" / name).read_bytes() == data
        assert len(nlm.requests_to(f"/pubmed/baseline/{name}.md5")) == 1
    second = fetch_pubmed(config)
    assert (second.fetched, second.cached, second.requests) == (0, 2, 1)  # the listing only
    # what was fetched is read by the pubmed reader
    path = tmp_path / "cache/pubmed/pubmed25n0001.xml.gz"
    with open(path, "rb") as stream:
        records = list(read_pubmed(str(path), stream, {}))
    assert [r.id for r in records] == ["1000", "1001", "1002"]
    assert "BACKGROUND" in records[0].content


def test_fetch_pubmed_bad_md5_is_retried_then_an_error(nlm, tmp_path):
    name = "pubmed25n0001.xml.gz"
    nlm.routes[f"/pubmed/baseline/{name}.md5"] = md5_file(name, b"another body")
    summary = fetch_pubmed(make_config(nlm, tmp_path, max_retries=2))
    assert (summary.fetched, summary.failed) == (1, 1)
    assert len(nlm.requests_to(f"/pubmed/baseline/{name}")) == 3  # first download + 2 retries
    (error,) = summary.errors
    assert error["kind"] == "md5_mismatch" and error["id"] == name and error["attempts"] == 3
    assert not (tmp_path / "cache/pubmed" / name).exists()  # nothing unverified enters the cache
    lines = Path(summary.errors_path).read_text().splitlines()
    assert [json.loads(line)["kind"] for line in lines] == ["md5_mismatch"]


def test_fetch_pubmed_a_truncated_download_is_retried_and_ends_verified(nlm, tmp_path):
    name = "pubmed25n0002.xml.gz"
    nlm.script(f"/pubmed/baseline/{name}", Action(truncate=True), Action(status=503))
    summary = fetch_pubmed(make_config(nlm, tmp_path, max_retries=3))
    assert (summary.fetched, summary.failed) == (2, 0)
    assert (tmp_path / "cache/pubmed" / name).read_bytes() == PUBMED_FILES[name]


def test_fetch_pubmed_without_md5_or_listing_fails_with_a_reason(nlm, tmp_path):
    del nlm.routes["/pubmed/baseline/pubmed25n0002.xml.gz.md5"]
    nlm.routes["/pubmed/baseline/"] = listing(
        "/pubmed/baseline/", list(PUBMED_FILES) + ["pubmed25n0001.xml.gz.md5"]
    )
    summary = fetch_pubmed(make_config(nlm, tmp_path, sets=("baseline", "updatefiles")))
    kinds = sorted(e["kind"] for e in summary.errors)
    assert kinds == ["http_404", "no_md5"]  # updatefiles/ listing is absent here; file 2 has no .md5
    assert summary.fetched == 1


def test_fetch_pubmed_max_files_and_match(nlm, tmp_path):
    summary = fetch_pubmed(make_config(nlm, tmp_path, match=r"n0002"))
    assert (summary.listed, summary.fetched) == (1, 1)
    assert sorted(p.name for p in (tmp_path / "cache/pubmed").iterdir()) == ["pubmed25n0002.xml.gz"]
    summary = fetch_pubmed(make_config(nlm, tmp_path / "b", max_files=1))
    assert sorted(p.name for p in (tmp_path / "b/cache/pubmed").iterdir()) == ["pubmed25n0001.xml.gz"]


def test_fetch_pmc_writes_one_nxml_per_listed_article(nlm, tmp_path):
    config = make_config(nlm, tmp_path)
    summary = fetch_pmc(config)
    assert (summary.listed, summary.fetched, summary.failed, summary.articles) == (2, 2, 0, 3)
    names = sorted(p.name for p in (tmp_path / "cache/pmc").iterdir())
    assert names == ["PMC0000101.nxml", "PMC0000102.nxml", "PMC11000001.nxml"]
    path = tmp_path / "cache/pmc/PMC0000102.nxml"
    with open(path, "rb") as stream:
        (record,) = list(read_pmc(str(path), stream, {}))
    assert record.content.startswith("Early antibiotics") and "Methods" in record.content
    again = fetch_pmc(config)
    assert (again.cached, again.fetched, again.requests) == (2, 0, 1)
    only_incr = fetch_pmc(make_config(nlm, tmp_path / "b", packages=("incr",)))
    assert (only_incr.listed, only_incr.articles) == (1, 1)


def test_fetch_pmc_incomplete_package_is_retried_then_an_error(nlm, tmp_path):
    broken = dict(BASE_ARTICLES)
    broken.pop("PMC000xxxxxx/PMC0000102.xml")
    nlm.routes[PMC_DIR + BASE_PKG + ".tar.gz"] = package(broken)  # the file list still names both articles
    summary = fetch_pmc(make_config(nlm, tmp_path, max_retries=1))
    assert (summary.fetched, summary.failed) == (1, 1)
    (error,) = summary.errors
    assert error["kind"] == "incomplete_package" and error["attempts"] == 2
    assert len(nlm.requests_to(PMC_DIR + BASE_PKG + ".tar.gz")) == 2
    assert not (tmp_path / "cache/pmc/PMC0000101.nxml").exists()
    nlm.routes[PMC_DIR + BASE_PKG + ".tar.gz"] = b"\x1f\x8b not really gzip"
    summary = fetch_pmc(make_config(nlm, tmp_path / "b", max_retries=0))
    assert [e["kind"] for e in summary.errors] == [
        "invalid_body"
    ]  # the shared client checks every .gz stream


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"user_agent": " "}, "User-Agent"),
        ({"max_rps": 50.0}, "max_rps"),
        ({"sets": ("daily",)}, "--sets"),
        ({"max_files": 0}, "max_files"),
        ({"match": "("}, "regular expression"),
    ],
)
def test_config_errors(kwargs, match):
    params = {"user_agent": UA, **kwargs}
    with pytest.raises(ConfigError, match=match):
        MedicalFetchConfig(**params)


def test_cli_bad_input_is_one_line_exit_2(capsys, monkeypatch):
    monkeypatch.delenv("FINPILE_USER_AGENT", raising=False)
    assert fetch_main(["pubmed", "--cache_dir", "x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "User-Agent" in err
    assert fetch_main(["pmc", "--user_agent", UA, "--groups", "all"]) == 2
    assert "--groups" in capsys.readouterr().err


def test_cli_fetch_pubmed_end_to_end(nlm, tmp_path, capsys):
    code = fetch_main(
        [
            "pubmed",
            "--user_agent",
            UA,
            "--cache_dir",
            str(tmp_path / "c"),
            "--base_url",
            nlm.base_url,
            "--max_rps",
            "10",
        ]
    )
    assert code == 0
    assert capsys.readouterr().out.startswith("fetch pubmed: 2 files listed, 2 fetched")
