"""WriteShards (Parquet, zstd), WriteRecords (rejected/ and errors/ as JSON lines) and the funnel counts.

Shard layout: ``<run>/data/<domain>/<source>/part-NNNNN.parquet``; with ``shards.partition_by_period``
(``year``/``quarter``), ``<run>/data/<domain>/<source>/<period>/part-NNNNN.parquet`` where the period is that of
``available_at`` (``2019``, ``2019-Q3``; ``unknown`` for documents of unknown time), so a trainer can take the
periods up to a date without reading the rest. The folder names are plain, not Hive's
``domain=<d>``: every file stores its ``domain`` and ``source`` columns, and Hive-style names make pandas and
pyarrow (which infer partitions by default) fail to merge the inferred dictionary column with the stored
string column. With plain names, ``pandas.read_parquet(<run>/data)``, ``pyarrow.parquet.read_table``, DuckDB,
Polars and ``datasets.load_dataset("parquet", data_dir=...)`` all read a run with their defaults. A source with n documents gets
ceil(n / shards.max_rows) shards; a document's shard is a hash of its id, and rows inside a shard are sorted
by id, so the same input gives byte-identical shards on any runner. Each shard is written to a temporary name
and renamed into place; its row count, size and sha256 come back as a ``ShardInfo`` for the manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from core.schema import Document, RecordError, Rejected, documents_to_table
from core.timeinfo import period_of
from filters.tokens import count_tokens
from pipeline import progress

PARQUET_COMPRESSION = "zstd"


def shard_bucket(doc_id_: str, n_shards: int) -> int:
    """Which of a source's shards a document goes to (stable across runs and runners)."""
    return int(hashlib.sha1(doc_id_.encode()).hexdigest()[:12], 16) % max(n_shards, 1)


def shard_path(run_dir: str, domain: str, source: str, bucket: int, period: str = "") -> str:
    parts = [domain, source, period] if period else [domain, source]
    return FileSystems.join(run_dir, "data", *parts, f"part-{bucket:05d}.parquet")


def write_bytes_atomically(path: str, data: bytes) -> None:
    """Write to ``path + '.tmp'`` then rename, so a reader never sees half a file."""
    tmp = path + ".tmp"
    with FileSystems.create(tmp) as f:  # creates missing parent folders
        f.write(data)
    if FileSystems.exists(path):
        FileSystems.delete([path])
    FileSystems.rename([tmp], [path])


def encode_shard(docs: list[Document]) -> bytes:
    """One Parquet file (zstd) of documents sorted by id."""
    table = documents_to_table(sorted(docs, key=lambda d: d.id))
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression=PARQUET_COMPRESSION)
    return buffer.getvalue()


class _WriteShardFn(beam.DoFn):
    def __init__(self, run_dir: str):
        self._run_dir = run_dir

    def process(
        self, element: tuple[tuple[str, str, str, int], Iterable[Document]]
    ) -> Iterator[dict[str, Any]]:
        (domain, source, period, bucket), docs = element
        docs = list(docs)
        data = encode_shard(docs)
        path = shard_path(self._run_dir, domain, source, bucket, period)
        write_bytes_atomically(path, data)
        progress.tick("written", len(docs))
        progress.flush()
        info = {
            "path": path[len(self._run_dir) :].lstrip("/"),
            "domain": domain,
            "source": source,
            "rows": len(docs),
            "tokens": sum(d.n_tokens for d in docs),
            "weighted_tokens": round(sum(d.n_tokens * d.mix_weight for d in docs), 1),
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        if period:
            info["period"] = period
        yield info


class WriteShards(beam.PTransform):
    """Documents -> Parquet shards; returns a PCollection of shard descriptions (path, rows, bytes, sha256, and
    ``period`` when partitioned by period)."""

    def __init__(self, run_dir: str, max_rows: int, partition_by_period: str = ""):
        super().__init__()
        self._run_dir = run_dir
        self._max_rows = max_rows
        self._period = partition_by_period

    def expand(self, docs):
        max_rows, by = self._max_rows, self._period

        def partition(doc: Document) -> tuple[str, str, str]:
            return doc.domain, doc.source, period_of(doc.available_at, by) if by else ""

        sizes = (
            docs
            | "KeyByPartition" >> beam.Map(lambda d: (partition(d), 1))
            | "CountPerPartition" >> beam.CombinePerKey(sum)
            | "SizesAsDict" >> beam.combiners.ToDict()
        )

        def with_bucket(doc: Document, sizes: dict[tuple[str, str, str], int]):
            key = partition(doc)
            n_shards = math.ceil(sizes[key] / max_rows)
            return (*key, shard_bucket(doc.id, n_shards)), doc

        return (
            docs
            | "AssignShard" >> beam.Map(with_bucket, sizes=beam.pvalue.AsSingleton(sizes))
            | "GroupShards" >> beam.GroupByKey()
            | "WriteParquet" >> beam.ParDo(_WriteShardFn(self._run_dir))
        )


def rejected_to_line(rejected: Rejected) -> str:
    """A rejected/ line: the document (with its token count: counted here, on the worker that rejected it, when
    no stage had counted it, so the report's per-reason tokens need no second pass) and stage, reason."""
    record = rejected.to_json()
    if not record.get("n_tokens") and record.get("text"):
        record["n_tokens"] = count_tokens(record["text"])
    return json.dumps(record, ensure_ascii=False, sort_keys=True)


def error_to_line(error: RecordError) -> str:
    return json.dumps(error.to_json(), ensure_ascii=False, sort_keys=True)


class WriteRecords(beam.PTransform):
    """JSON lines under ``<run>/<folder>/part-SSSSS-of-NNNNN.jsonl`` (rejected/ or errors/)."""

    def __init__(self, run_dir: str, folder: str, to_line):
        super().__init__()
        self._prefix = FileSystems.join(run_dir, folder, "part")
        self._to_line = to_line

    def expand(self, records):
        return (
            records
            | "ToJson" >> beam.Map(self._to_line)
            | "Write" >> beam.io.WriteToText(self._prefix, file_name_suffix=".jsonl")
        )


def write_json(path: str, value: Any) -> None:
    """A small JSON file written through FileSystems (local or gs://)."""
    write_bytes_atomically(path, (json.dumps(value, indent=2, sort_keys=True, default=str) + "\n").encode())


def read_json(path: str) -> Any:
    with FileSystems.open(path) as f:
        return json.loads(f.read().decode())
