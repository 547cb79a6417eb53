"""Shard writing: deterministic buckets and bytes, atomic writes, and the WriteShards transform."""

from __future__ import annotations

import hashlib
import io
import os

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from core.schema import Document
from pipeline.stages.write import WriteShards, encode_shard, shard_bucket


def _docs(n, source="news", domain="financial"):
    return [
        Document(id=f"{source}-{i:03d}", text=f"text {i}", source=source, domain=domain, n_tokens=2)
        for i in range(n)
    ]


def test_shard_bucket_is_stable_and_in_range():
    assert shard_bucket("abc", 1) == 0
    buckets = {shard_bucket(f"id{i}", 4) for i in range(100)}
    assert buckets == {0, 1, 2, 3}
    assert shard_bucket("id7", 4) == shard_bucket("id7", 4)


def test_encode_shard_is_order_independent():
    docs = _docs(5)
    assert encode_shard(docs) == encode_shard(list(reversed(docs)))
    table = pq.read_table(io.BytesIO(encode_shard(docs)))
    assert table.column("id").to_pylist() == sorted(d.id for d in docs)


def test_write_shards_transform(tmp_path):
    run_dir = str(tmp_path / "run")
    docs = _docs(5) + _docs(2, source="wikipedia", domain="general")
    with TestPipeline() as p:
        infos = p | beam.Create(docs) | WriteShards(run_dir, max_rows=2)
        assert_that(
            infos | beam.Map(lambda i: (i["domain"], i["source"])) | beam.combiners.Count.PerElement(),
            equal_to([(("financial", "news"), 3), (("general", "wikipedia"), 1)]),
        )
    files = sorted(os.path.relpath(os.path.join(d, f), run_dir) for d, _, fs in os.walk(run_dir) for f in fs)
    assert all(
        f.startswith(("data/financial/", "data/general/")) and f.endswith(".parquet") for f in files
    ), files
    assert not any(f.endswith(".tmp") for f in files)
    rows = sum(pq.read_metadata(os.path.join(run_dir, f)).num_rows for f in files)
    assert rows == 7
    wiki = os.path.join(run_dir, "data/general/wikipedia/part-00000.parquet")
    assert (
        hashlib.sha256(open(wiki, "rb").read()).hexdigest()
        == hashlib.sha256(encode_shard(docs[5:])).hexdigest()
    )


def test_rejected_lines_carry_the_token_count_the_report_needs():
    import json

    from core.schema import Rejected
    from filters.tokens import count_tokens
    from pipeline.stages.write import rejected_to_line
    from pipeline.stats import parse_rejected_line

    text = "Net sales rose 12% to $4.1 billion in the quarter, the company said on Tuesday."
    doc = Document(id="r1", text=text, source="news", domain="financial")
    line = rejected_to_line(Rejected(document=doc, stage="quality", reason="gopher:short_doc"))
    assert json.loads(line)["n_tokens"] == count_tokens(text) > 0  # counted on the worker, not left at 0
    assert parse_rejected_line(line)["tokens"] == count_tokens(text)
    # a count made upstream is kept as it is; an empty document stays at 0
    counted = Document(id="r2", text=text, source="news", domain="financial", n_tokens=3)
    assert (
        json.loads(rejected_to_line(Rejected(document=counted, stage="dedup", reason="exact")))["n_tokens"]
        == 3
    )
    empty = Document(id="r3", text="", source="news", domain="financial")
    assert (
        json.loads(rejected_to_line(Rejected(document=empty, stage="boilerplate", reason="empty")))[
            "n_tokens"
        ]
        == 0
    )
