"""The data model, defined once: RawRecord, Document, Rejected and RecordError.

A connector yields ``RawRecord``s; the Extract stage turns each into a ``Document``; every later stage
passes ``Document``s on, or turns them into ``Rejected`` (with stage and reason) or ``RecordError``
(with the exception kind). ``DOCUMENT_SCHEMA`` is the pyarrow schema of one Parquet row; the writer, the
reader and the report all use it. Bump ``SCHEMA_VERSION`` on any change of fields or types.

Time columns (see ``core.timeinfo``):

- ``available_at``: when the text became public, in UTC (an ISO-8601 string ``...Z`` in Python, "" when
  unknown; a nullable ``timestamp[us, tz=UTC]`` in Parquet). EDGAR: the SEC acceptance time (else the end of the
  filing day, US Eastern); news and press: the publication time from the feed, else the page's metadata, else
  htmldate; social posts: the post time; Wikipedia: the revision time. ``metadata["available_at_source"]``
  says which. This is what ``--as_of`` cuts on, never ``date``.
- ``date``: ``YYYY-MM-DD``, the document's own date as the source states it: the filing date for EDGAR (every
  era and layout; "" for a primary document saved without its header), the publication date for pages, the
  post date for social posts, the revision date for Wikipedia. Not the period a report is about
  (``metadata["period"]``).
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

SCHEMA_VERSION = "2.0"
# 2.0: ``quality_signals`` and ``metadata`` are lists of {key, value} structs instead of Arrow maps, so that
# pandas, pyarrow, DuckDB, Polars and Hugging Face ``datasets`` all read a run's shards with their defaults
# (``datasets`` has no map type). ``entries_to_dict`` turns either form back into a dict. Also in 2.0:
# ``available_at`` (nullable UTC timestamp), when the text became public.

# ``domain`` holds a profile's own domain or ``general``: the values come from the profiles
# (``pipeline.profiles.DOMAINS``), not from here.

# FinPile-style sources (the `source=` partition). Connectors map their records onto these.
SOURCES = ("filings", "press", "news", "web", "social", "wikipedia", "c4", "pubmed", "pmc")

# Kinds of raw content a connector can hand to Extract.
CONTENT_TYPES = ("html", "sgml", "text", "wikitext", "json")


@dataclass
class RawRecord:
    """One record as a connector read it, before extraction."""

    source: str
    id: str
    url: str
    content: bytes | str
    content_type: str
    fetched_at: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    input: str = ""  # name of the config input that read it (its options reach extraction)


@dataclass
class Document:
    """One corpus document: one row of a Parquet shard."""

    id: str
    text: str
    source: str
    domain: str = "general"
    url: str = ""
    title: str = ""
    date: str = ""
    available_at: str = ""  # ISO-8601 UTC ("2024-12-27T21:29:40Z"); "" when unknown (null in Parquet)
    lang: str = ""
    lang_score: float = 0.0
    quality_score: float = 0.0
    quality_signals: dict[str, float] = field(default_factory=dict)
    dedup_cluster: str = ""
    dedup_cluster_size: int = 1
    n_chars: int = 0
    n_tokens: int = 0
    mix_weight: float = 1.0
    metadata: dict[str, str] = field(default_factory=dict)

    def fields_dict(self) -> dict[str, Any]:
        """``dataclasses.asdict(self)``: the fields hold str, numbers and two flat dicts of them, so a shallow
        copy with copied dicts is the same value without asdict's recursive deep copy of every entry. (Not named
        ``as_dict``: Beam's type inference takes any object with an ``as_dict`` method for a schema Row.)"""
        row = {name: getattr(self, name) for name in _DOCUMENT_FIELDS}
        row["quality_signals"] = dict(self.quality_signals)
        row["metadata"] = dict(self.metadata)
        return row

    def to_row(self) -> dict[str, Any]:
        """The Parquet row for this document (the key/value columns as sorted lists of entries)."""
        row = {name: getattr(self, name) for name in _DOCUMENT_FIELDS}
        row["quality_signals"] = [{"key": k, "value": v} for k, v in sorted(self.quality_signals.items())]
        row["metadata"] = [{"key": k, "value": v} for k, v in sorted(self.metadata.items())]
        row["available_at"] = parse_utc(self.available_at)
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Document:
        """Inverse of ``to_row``; accepts the key/value columns as entry lists, pairs or dicts."""
        values = {f.name: row[f.name] for f in dataclasses.fields(cls) if f.name in row}
        for name in ("quality_signals", "metadata"):
            values[name] = entries_to_dict(values.get(name))
        values["available_at"] = format_utc(values.get("available_at"))
        return cls(**values)


_DOCUMENT_FIELDS = tuple(f.name for f in dataclasses.fields(Document))


@dataclass
class Rejected:
    """A document a stage dropped, with the stage, a machine-readable reason and, for duplicates, the kept id."""

    stage: str
    reason: str
    document: Document
    duplicate_of: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "reason": self.reason,
            "duplicate_of": self.duplicate_of,
            **self.document.fields_dict(),
        }


@dataclass
class RecordError:
    """A record that failed: where (source, stage, path), which record, and the exception kind and message."""

    source: str
    stage: str
    kind: str
    message: str
    id: str = ""
    path: str = ""
    lost_bytes: int = 0  # input bytes the failure made unreadable (0: none, or not known)
    lost_records: int = 0  # further records lost with it, where they can be counted

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Skipped:
    """Records a reader left out on purpose (not an article, a subreddit outside the allow-list, a request
    record ...): ``count`` of them in one file, with a machine-readable ``reason``. Counted in the funnel."""

    source: str
    reason: str
    count: int = 1
    path: str = ""


def entries_to_dict(value: Any) -> dict[str, Any]:
    """A key/value column as a dict, whatever form it was read in.

    Schema 2.0 stores ``[{"key": k, "value": v}, ...]``; schema 1.0 shards (Arrow maps) read back as
    ``[(k, v), ...]``; ``None`` (a null) is an empty dict.
    """
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for entry in value:
        if isinstance(entry, dict):
            out[entry["key"]] = entry["value"]
        else:
            key, item = entry
            out[key] = item
    return out


def parse_utc(value: str | datetime | None) -> datetime | None:
    """An aware UTC datetime from an ISO-8601 string ("Z" or an offset; naive means UTC); None for ""."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_utc(value: str | datetime | None) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` (UTC, whole seconds) for a datetime or ISO string; "" for None/""."""
    parsed = parse_utc(value)
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ") if parsed is not None else ""


def _entries(value_type: pa.DataType) -> pa.DataType:
    return pa.list_(pa.struct([pa.field("key", pa.string(), nullable=False), pa.field("value", value_type)]))


def doc_id(source: str, native_id: str) -> str:
    """Stable document id: a hash of the source and the connector's native id."""
    return hashlib.sha1(f"{source}\x00{native_id}".encode()).hexdigest()[:20]


DOCUMENT_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("text", pa.large_string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("domain", pa.string(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("title", pa.string()),
        pa.field("date", pa.string()),
        pa.field("available_at", pa.timestamp("us", tz="UTC")),
        pa.field("lang", pa.string()),
        pa.field("lang_score", pa.float32()),
        pa.field("quality_score", pa.float32()),
        pa.field("quality_signals", _entries(pa.float32())),
        pa.field("dedup_cluster", pa.string()),
        pa.field("dedup_cluster_size", pa.int32()),
        pa.field("n_chars", pa.int64()),
        pa.field("n_tokens", pa.int64()),
        pa.field("mix_weight", pa.float32()),
        pa.field("metadata", _entries(pa.string())),
    ],
    metadata={b"finpile.schema_version": SCHEMA_VERSION.encode()},
)


def documents_to_table(docs: list[Document]) -> pa.Table:
    """A pyarrow Table in ``DOCUMENT_SCHEMA`` from documents."""
    return pa.Table.from_pylist([d.to_row() for d in docs], schema=DOCUMENT_SCHEMA)


def table_to_documents(table: pa.Table) -> list[Document]:
    """Documents from a Table in ``DOCUMENT_SCHEMA``."""
    return [Document.from_row(row) for row in table.to_pylist()]
