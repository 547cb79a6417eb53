"""`inspect` on every real file in ../shared/data: no crash, text wherever a document has text."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from pipeline.config import load_config
from pipeline.inspect import Inspector
from sources.files import NOT_DOCUMENTS


@pytest.fixture(scope="module")
def inspector():
    return Inspector(load_config())


def _real_files(root):
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != "PROVENANCE.md")


def test_inspect_every_real_file(shared_data, inspector):
    documents = 0
    for path in _real_files(shared_data):
        if path.suffix in NOT_DOCUMENTS:
            with pytest.raises(ConfigError, match="pass a document file"):
                list(inspector.inspect_file(str(path)))
            continue
        # The real Reddit samples are mostly outside the finance allow-list: inspect them all.
        options = {"subreddits": "*"} if "reddit" in path.parts else None
        rows = list(inspector.inspect_file(str(path), options=options))
        assert rows, f"no record at all from {path}"
        for row in rows:
            if "skipped" in row:  # records a reader left out on purpose, counted by reason
                assert row["skipped"]["reason"] and row["skipped"]["count"] > 0, (path, row)
                continue
            if "error" in row:
                assert row["error"]["kind"] and row["error"]["message"], (path, row)
                continue
            documents += 1
            assert row["decision"], row
            if row["decision"] == "kept":
                assert row["text"].strip(), f"kept document without text from {path}"
                assert row["lang"] and row["n_tokens"] > 0
    assert documents > 100


@pytest.mark.parametrize(
    "relpath, kind",
    [
        ("edgar/full-submission/0001193125-11-009392.txt", "edgar"),
        ("edgar/10-K/aapl-10-k-2024-11-01.html", "edgar"),
        ("web/html/bbc.com.52241221.html", "html"),
        ("web/warc/iana.warc.gz", "warc"),
        ("social/reddit/RC_sample.ndjson.zst", "reddit"),
        ("social/tweets/stocknet_raw_AAPL_2014-01-02.jsonl", "tweets"),
        ("general/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.xml.bz2", "wikipedia"),
    ],
)
def test_kind_detection_on_real_files(shared_data, inspector, relpath, kind):
    rows = list(inspector.inspect_file(str(shared_data / relpath)))
    assert {r["kind"] for r in rows} == {kind}
    texts = [r["text"] for r in rows if "text" in r and r["text"]]
    assert texts, f"no text extracted from {relpath}"
