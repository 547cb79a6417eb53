"""The corpus-level half of the run, with documents out of every shuffle (issue 21).

``pipeline.run.build_pipeline`` chains four phases; between phases only spill-part paths (``pipeline.spill``)
and small keys cross the runner, never whole records or documents:

1. **Read**: files are read (a file, or a byte range of a big one, per worker: ``pipeline.stages.read``) and
   their raw records spilled into small parts (``raw-*``),
   so that even one big file (a 1,000-page WARC, a Reddit dump, a Wikipedia dump) spreads over every worker
   for what follows; only the parts' paths are shuffled.
2. **Per document** (one fused stage per part): Extract, CutAtTime, IdentifyLanguage, ScoreQuality, RedactPII,
   Decontaminate, then ``SpillDocs`` writes the documents to ``docs-*`` parts and emits, per in-scope document,
   its distinct paragraph keys (counted per source with a combiner: the boilerplate key set).
3. **Keys** (``KeysFn``, one part at a time, the boilerplate key set as a side input): boilerplate paragraphs
   are removed, then for each document its dedup rank, exact key and LSH band keys, its domain score and its
   token count are computed, the document is written to a ``keyed-*`` part and a small ``Stub`` (id, where
   the document sits, what the decisions need) goes on. ``Deduplicate``'s exact and near steps run on the keys
   alone; ``resolve_stubs`` turns the stubs and their dedup assignments into one decision per document.
4. **Write**: the decisions are grouped by part (``ApplyDecisionsFn``): each part is read once, its documents
   get their decision (dropped as duplicates, domain set, mixing weight from the mixture side input, shard
   from the partition sizes side input) and the kept ones are written to one piece per shard; ``MergeShardFn``
   merges a shard's pieces, sorts them by id and writes the Parquet shard (the same bytes as before: shards
   depend on the documents alone, not on bundles or workers).

The stages' decisions are those of the stand-alone transforms (``RemoveBoilerplate``, ``Deduplicate``,
``ClassifyDomain``, ``AssignDomainAndMix``, ``WriteShards``), in the same order: a document dropped as a duplicate
is never classified or counted in the mixture, the kept copy is chosen by the same rank (before ClassifyDomain
may rename a page's source), and counters have the same names and values.
"""

from __future__ import annotations

import dataclasses
import hashlib
import heapq
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import apache_beam as beam
import numpy as np
from apache_beam import pvalue
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.timestamp import MIN_TIMESTAMP
from apache_beam.utils.windowed_value import WindowedValue

from core.schema import Document, RecordError, Rejected
from core.timeinfo import period_of
from filters.boilerplate import BoilerplateConfig
from filters.dedup import MinHashConfig, band_keys, exact_key, normalize_for_exact, shingles, signature
from filters.sketch import CountMinSketch
from pipeline import progress
from pipeline.spill import SpillWriter, delete_spill, part_path, read_spill, shuffled
from pipeline.stages.base import ERRORS, NAMESPACE, REJECTED, counter, error_from_exception
from pipeline.stages.boilerplate import (
    EMPTY_REASON,
    _is_boilerplate,
    _KeysBySource,
    doc_paragraph_keys,
    strip_document,
)
from pipeline.stages.boilerplate import STAGE as BOILERPLATE_STAGE
from pipeline.stages.dedup import (
    EXACT_DUPS_KEY,
    EXACT_STAGE,
    ID_STAGE,
    NEAR_STAGE,
    Deduplicate,
    _band_nodes,
    _describe,
    _ExactAssignments,
    _weight,
    rank,
)
from pipeline.stages.domain import STAGE as DOMAIN_STAGE
from pipeline.stages.domain import DomainConfig, classify, n_words, needs_score
from pipeline.stages.mix import add_token_count, assign_weight, compute_mixture
from pipeline.stages.write import shard_bucket, shard_path

RAW_PART_OBJECTS = 100  # raw records per part: a 1,000-page WARC becomes 10 parts
RAW_PART_BYTES = 4 << 20  # ~4 filings: the parts are what the workers share out, by count
DOC_PARTS_PER_RAW = 5  # documents per part: 5x the raw records per part (extraction is the costly step)
DOC_PART_BYTES = 16 << 20
DESCRIBE_CHARS = 160
NEVER_ROLL = 1 << 62
BAND_KEY_BYTES = 10


def _global(value: Any) -> WindowedValue:
    return WindowedValue(value, MIN_TIMESTAMP, [GlobalWindow()])


class SpillFn(beam.DoFn):
    """Objects -> spill parts under ``folder``; emits each completed part's path (main) and nothing else."""

    def __init__(self, folder: str, prefix: str, max_objects: int, max_bytes: int):
        self._folder, self._prefix = folder, prefix
        self._max_objects, self._max_bytes = max_objects, max_bytes

    def start_bundle(self):
        self._writer = SpillWriter(self._folder, self._prefix, self._max_bytes, self._max_objects)

    def process(self, element: Any) -> Iterator[str]:
        path = self._writer.add(element)
        if path:
            yield path

    def finish_bundle(self):
        path = self._writer.close()
        if path:
            yield _global(path)


def read_part(path: str, delete: bool) -> Iterator[Any]:
    """The objects of a spill part; the part is deleted once read when ``delete`` (local runs)."""
    yield from read_spill(path)
    if delete:
        delete_spill([path])


# ------------------------------------------------------------------ phase 3: keys


class Stub(NamedTuple):
    """What the corpus-level decisions need of one document (a few dozen bytes instead of the document)."""

    id: str
    part: str  # spill part name (``keyed-<tag>-<n>``) ...
    row: int  # ... and row in it
    text_sha1: bytes  # id collisions: the same text or another one
    exact: bytes  # exact key (binary SHA-1): which exact group the copy kept under a shared id belongs to
    url: str
    describe: str  # for an id_collision message: the source (with a url) or "<source> <file|title>"
    n_chars: int  # len(text)
    weight: int  # 1 + exact duplicates noted upstream (used when exact dedup is off)
    domain: str  # after ClassifyDomain (computed in phase 3, applied in phase 4)
    source: str
    n_tokens: int
    period: str
    domain_error: tuple[str, str] | None = None  # (kind, message) when domain scoring failed


DOMAIN_SCORE_KEY = "_domain_score"  # private metadata between KeysFn and ApplyDecisionsFn (removed there)
DOMAIN_SHORT_KEY = "_domain_too_short"


class KeysFn(beam.DoFn):
    """A ``docs`` part -> boilerplate removed, keys computed, documents re-spilled; emits Stubs and keys.

    main: (id, Stub); ``exact``: (exact key, (rank, id)); ``band_sketch``: each document's band keys as sketch
    keys; ``band_parts``: parts of (id, (rank, weight, band keys)) (read back by ``candidate_bands``);
    ``shingles`` (verification): (id, shingle hashes); ``rejected``: boilerplate-emptied documents; ``parts``:
    the ``keyed`` parts written.
    """

    def __init__(
        self,
        folder: str,
        boilerplate: BoilerplateConfig,
        domain: DomainConfig,
        domain_of: dict[str, str],
        minhash: MinHashConfig | None,
        priority: list[str],
        exact: bool,
        verify: bool,
        partition_by_period: str,
        delete: bool,
    ):
        self._folder, self._bp, self._domain = folder, boilerplate, domain
        self._domain_of, self._cfg, self._priority = domain_of, minhash, priority
        self._exact, self._verify, self._period, self._delete = exact, verify, partition_by_period, delete
        self._domain_sources = frozenset(domain.sources)

    def setup(self):
        from filters.domain import DomainClassifier

        self._classifier = DomainClassifier(self._domain.model_path, label=self._domain.label)
        self._classifier.setup()

    def process(self, path: str, keys_by_source: dict[str, frozenset[str]]) -> Iterator[Any]:
        writer = SpillWriter(self._folder, "keyed", NEVER_ROLL, NEVER_ROLL)  # rows index one part
        self._bands = SpillWriter(self._folder, "bands", NEVER_ROLL, NEVER_ROLL)
        part_name = writer.next_name()
        row = 0
        for doc in read_part(path, self._delete):
            keys = keys_by_source.get(doc.source) if doc.source in self._bp.sources else None
            if keys:
                result = strip_document(doc, keys, self._bp.min_chars)
                if isinstance(result, Rejected):
                    yield pvalue.TaggedOutput(REJECTED, result)
                    continue
            yield from self._keys(doc, part_name, row)
            writer.add(doc)
            row += 1
        written = writer.close()
        if written:
            yield pvalue.TaggedOutput("parts", written)
        bands = self._bands.close()
        if bands:
            yield pvalue.TaggedOutput("band_parts", bands)

    def _band_keys(self, hashes: np.ndarray) -> list[bytes]:
        """LSH band keys cut to 2 + 8 bytes (band index + 64-bit hash): a false bucket needs a 64-bit
        collision; the shuffle (16 bands a document, twice) is ~40% smaller."""
        return [key[:BAND_KEY_BYTES] for key in band_keys(signature(hashes, self._cfg), self._cfg)]

    def _keys(self, doc: Document, part: str, row: int) -> Iterator[Any]:
        # Before ClassifyDomain may rename the source. The id (rank's last field) is left out: every key carries
        # it next to the rank, so (rank, id) tuples sort as with the full rank, for 21 bytes less per copy.
        # (Still five fields: the dedup steps' type hints give Beam a five-field tuple coder.)
        doc_rank = (*rank(doc, self._priority)[:-1], "")
        weight = _weight(doc)
        norm = normalize_for_exact(doc.text)
        ekey = exact_key(doc.text, normalized=norm)
        if self._exact:
            yield pvalue.TaggedOutput("exact", shuffled((ekey, (doc_rank, doc.id))))
        if self._cfg is not None:
            hashes = shingles(doc.text, self._cfg, normalized=norm)
            keys = self._band_keys(hashes)
            # the bands wait in a side part; only keys that a bucket shares go on (see candidate_bands)
            self._bands.add((doc.id, (doc_rank, weight, keys)))
            yield pvalue.TaggedOutput("band_sketch", band_sketch_keys(keys))
            if self._verify:
                yield pvalue.TaggedOutput("shingles", (doc.id, np.unique(hashes).astype(np.uint32)))
        text_sha1 = hashlib.sha1(doc.text.encode("utf-8", "replace")).digest()
        # "<source> <url>" is rebuilt from the url when there is one (see _describe_stub)
        describe = doc.source if doc.url else _describe(doc)[:DESCRIBE_CHARS]
        n_chars = len(doc.text)
        domain_error = None
        final = doc
        if needs_score(doc, self._domain_sources):
            try:
                score = self._classifier.score(doc.text)
                too_short = n_words(doc.text, self._domain.min_words) < self._domain.min_words
            except (ValueError, TypeError, KeyError, IndexError, UnicodeError, OverflowError) as exc:
                err = error_from_exception(DOMAIN_STAGE, doc.source, doc.id, exc)
                domain_error = (err.kind, err.message)
            else:
                doc.metadata[DOMAIN_SCORE_KEY] = repr(float(score))
                doc.metadata[DOMAIN_SHORT_KEY] = "1" if too_short else ""
                final = classify(
                    dataclasses.replace(doc, metadata=dict(doc.metadata)),
                    score,
                    self._domain.threshold,
                    self._domain_sources,
                    too_short,
                    self._domain.label,
                )
        domain = final.domain or self._domain_of.get(final.source, "general")
        add_token_count(doc)
        stub = Stub(
            id=doc.id,
            part=part,
            row=row,
            text_sha1=text_sha1,
            exact=bytes.fromhex(ekey),
            url=doc.url,
            describe=describe,
            n_chars=n_chars,
            weight=weight,
            domain=domain,
            source=final.source,
            n_tokens=doc.n_tokens,
            period=period_of(final.available_at, self._period) if self._period else "",
            domain_error=domain_error,
        )
        yield shuffled((doc.id, tuple(stub)))  # a plain tuple: Beam's coder then needs no pickling


def band_sketch_keys(keys: list[bytes]) -> np.ndarray:
    """uint64 sketch keys of a document's band keys (band index folded into the 64-bit hash)."""
    return np.array(
        [
            int.from_bytes(k[2:10], "little") ^ (int.from_bytes(k[:2], "big") * 0x9E3779B97F4A7C15 % 2**64)
            for k in keys
        ],
        dtype=np.uint64,
    )


def candidate_bands(path: str, sketch: CountMinSketch, delete: bool) -> Iterator[tuple[str, tuple]]:
    """(id, (rank, weight, band keys)) of a ``bands`` part, each document with only the band keys whose sketch
    estimate is >= 2, i.e. that may share an LSH bucket with another document (a key seen once cannot make an
    edge); documents left with none are not emitted. The near-dup graph is the same as with every key, and
    most documents (no near copy) never reach the shuffle."""
    for doc_id, (doc_rank, weight, keys) in read_part(path, delete):
        est = sketch.estimate(band_sketch_keys(keys))
        shared = [k for k, n in zip(keys, est, strict=True) if n >= 2]
        if shared:
            yield shuffled((doc_id, (doc_rank, weight, shared)))


# ------------------------------------------------------------------ the decisions


KEEP, REJECT, ERROR = "keep", "reject", "error"


def _describe_stub(stub: Stub) -> str:
    return f"{stub.describe} {stub.url}" if stub.url else stub.describe


def _collision_error(other: Stub, first: Stub) -> tuple:
    message = (
        f"id {other.id} is given to two different documents: {_describe_stub(other)} ({other.n_chars} chars) "
        f"and {_describe_stub(first)} ({first.n_chars} chars, kept)"
    )
    return (ERROR, ID_STAGE, "id_collision", message)


def resolve_stubs(element: tuple[str, dict[str, list[Any]]], exact: bool, near: bool) -> Iterator[Any]:
    """One id's stubs + exact assignment + near cluster -> (part, (row, decision, stub)) for each stub.

    The same rules as ``pipeline.dedup._resolve`` (ids made unique first: the same text twice is
    ``duplicate_id``, another text under a taken id an ``id_collision`` error; then exact, then near), with
    the same counters. Decisions: (keep, cluster id, cluster size, exact duplicates), (reject, stage, reason,
    duplicate of), (error, stage, kind, message).
    """
    _, grouped = element
    stubs: list[Stub] = [Stub._make(t) for t in grouped["doc"]]
    exact_entries = grouped["exact"] if exact else []
    same_id_dups = 0
    if len(stubs) > 1:
        ordered = sorted(stubs, key=lambda s: (s.text_sha1.hex(), s.url))
        first = ordered[0]
        for other in ordered[1:]:
            if other.text_sha1 == first.text_sha1:
                counter(f"{ID_STAGE}:dropped:duplicate_id").inc()
                same_id_dups += 1
                yield other.part, (other.row, (REJECT, ID_STAGE, "duplicate_id", first.id), other)
            else:
                counter(f"{ID_STAGE}:errors:id_collision").inc()
                yield other.part, (other.row, _collision_error(other, first), other)
        stubs = [first]
        if len(exact_entries) > 1:
            exact_entries = [e for e in exact_entries if e[2] == first.exact.hex()] or exact_entries
    for stub in stubs:
        weight = 1
        exact_dups = 0
        if exact:
            kept_id, weight = exact_entries[0][:2]
            weight -= same_id_dups
            if kept_id != stub.id:
                counter(f"{EXACT_STAGE}:dropped:exact_duplicate").inc()
                yield stub.part, (stub.row, (REJECT, EXACT_STAGE, "exact_duplicate", kept_id), stub)
                continue
            if weight > 1:
                exact_dups = weight - 1
            counter(f"{EXACT_STAGE}:kept").inc()
        cluster, size = "", 0
        if near:
            if not exact:
                weight = stub.weight
            kept_id, size = grouped["cluster"][0] if grouped["cluster"] else (stub.id, weight)
            if kept_id != stub.id:
                counter(f"{NEAR_STAGE}:dropped:near_duplicate").inc()
                yield stub.part, (stub.row, (REJECT, NEAR_STAGE, "near_duplicate", kept_id), stub)
                continue
            cluster = kept_id
            counter(f"{NEAR_STAGE}:kept").inc()
        if stub.domain_error:
            yield stub.part, (stub.row, (ERROR, DOMAIN_STAGE, *stub.domain_error), stub)
            continue
        yield stub.part, (stub.row, (KEEP, cluster, size, exact_dups), stub)


def kept_tokens(decided: tuple[str, tuple[int, tuple, Stub]]) -> Iterator[tuple[tuple[str, str], int]]:
    """((domain, source), tokens) of a kept document (the mixture's input)."""
    _, (_, decision, stub) = decided
    if decision[0] == KEEP:
        yield (stub.domain, stub.source), stub.n_tokens


def kept_partition(
    decided: tuple[str, tuple[int, tuple, Stub]],
) -> Iterator[tuple[tuple[str, str, str], int]]:
    """((domain, source, period), 1) of a kept document (the shard count of its partition)."""
    _, (_, decision, stub) = decided
    if decision[0] == KEEP:
        yield (stub.domain, stub.source, stub.period), 1


def slim_decision(decided: tuple[str, tuple[int, tuple, Stub]]) -> tuple[str, tuple[int, tuple]]:
    """(part, (row, decision)): what the write phase needs (the stub stays behind)."""
    part, (row, decision, _) = decided
    return shuffled((part, (row, decision)))


# ------------------------------------------------------------------ phase 4: write


class ApplyDecisionsFn(beam.DoFn):
    """(part, [(row, decision)]) -> the part's documents decided: kept ones written to one piece per shard.

    main: (shard key, (piece path, rows)); ``rejected``; ``errors``; ``kept``: (source, domain) per kept
    document (the funnel).
    """

    def __init__(
        self,
        folder: str,
        domain: DomainConfig,
        domain_of: dict[str, str],
        max_rows: int,
        partition_by_period: str,
        delete: bool,
    ):
        self._folder, self._domain, self._max_rows = folder, domain, max_rows
        self._domain_of = domain_of
        self._period, self._delete = partition_by_period, delete
        self._domain_sources = frozenset(domain.sources)

    def setup(self):
        self._scores = beam.metrics.Metrics.distribution(NAMESPACE, f"{DOMAIN_STAGE}:score_permille")

    def process(
        self,
        element: tuple[str, Iterable[tuple[int, tuple]]],
        mixture: dict[str, Any],
        sizes: dict[tuple[str, str, str], int],
    ) -> Iterator[Any]:
        part, decided = element
        decisions = dict(decided)
        pieces: dict[tuple, list[Document]] = defaultdict(list)
        for row, doc in enumerate(read_part(part_path(self._folder, part), self._delete)):
            score = doc.metadata.pop(DOMAIN_SCORE_KEY, None)
            too_short = bool(doc.metadata.pop(DOMAIN_SHORT_KEY, ""))
            decision = decisions.get(row)
            if decision is None:  # cannot happen: every stub gets a decision; never lose a document silently
                counter("write:errors:no_decision").inc()
                yield pvalue.TaggedOutput(
                    ERRORS,
                    RecordError(
                        doc.source, "write", "no_decision", f"no decision for row {row} of {part}", doc.id
                    ),
                )
                continue
            kind = decision[0]
            if kind == REJECT:
                _, stage, reason, duplicate_of = decision
                yield pvalue.TaggedOutput(
                    REJECTED, Rejected(stage=stage, reason=reason, document=doc, duplicate_of=duplicate_of)
                )
                continue
            if kind == ERROR:
                _, stage, error_kind, message = decision
                if stage == DOMAIN_STAGE:
                    counter(f"{DOMAIN_STAGE}:errors:{error_kind}").inc()
                yield pvalue.TaggedOutput(
                    ERRORS,
                    RecordError(
                        source=doc.source,
                        stage=stage,
                        kind=error_kind,
                        message=message,
                        id=doc.id,
                        path=doc.url,
                    ),
                )
                continue
            _, cluster, size, exact_dups = decision
            if exact_dups:
                doc.metadata[EXACT_DUPS_KEY] = str(exact_dups)
            if cluster:
                doc.dedup_cluster, doc.dedup_cluster_size = cluster, size
            self._classify(doc, score, too_short)
            doc.domain = doc.domain or self._domain_of.get(doc.source, "general")
            assign_weight(doc, mixture)
            key = (doc.domain, doc.source, period_of(doc.available_at, self._period) if self._period else "")
            n_shards = math.ceil(sizes[key] / self._max_rows)
            pieces[(*key, shard_bucket(doc.id, n_shards))].append(doc)
            yield pvalue.TaggedOutput("kept", doc)
        for shard_key in sorted(pieces):
            docs = sorted(pieces[shard_key], key=lambda d: d.id)  # pieces are merged by id
            writer = SpillWriter(self._folder, "piece", NEVER_ROLL, NEVER_ROLL)
            for doc in docs:
                writer.add(doc)
            yield shuffled((shard_key, (writer.close(), len(docs))))

    def _classify(self, doc: Document, score: str | None, too_short: bool) -> None:
        """ClassifyDomain's decision, from the score KeysFn computed, with ClassifyDomain's counters."""
        if score is None:  # its source decides its domain
            counter(f"{DOMAIN_STAGE}:kept").inc()
            return
        before = doc.domain
        classify(
            doc, float(score), self._domain.threshold, self._domain_sources, too_short, self._domain.label
        )
        if too_short:
            counter(f"{DOMAIN_STAGE}:too_short").inc()
        counter(f"{DOMAIN_STAGE}:{doc.domain}").inc()
        if doc.domain != before:
            counter(f"{DOMAIN_STAGE}:moved_to_{doc.domain}").inc()
        self._scores.update(int(round(float(score) * 1000)))
        counter(f"{DOMAIN_STAGE}:kept").inc()


SHARD_GROUP_ROWS = 20_000  # a shard is written in row groups of at most this many rows ...
SHARD_GROUP_CHARS = (
    8 << 20
)  # ... or this many characters of text: a worker holds one row group (~4x its text)


class _HashingSink:
    """A write-only file object that hashes and counts what goes through it (the shard's sha256 and size)."""

    def __init__(self, f):
        self._f, self.sha256, self.size, self.closed = f, hashlib.sha256(), 0, False

    def write(self, data) -> int:
        data = bytes(data)
        self.sha256.update(data)
        self.size += len(data)
        self._f.write(data)
        return len(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def write_shard(path: str, docs: Iterable[Document]) -> dict[str, Any]:
    """Documents (sorted by id) -> one Parquet file (zstd, ``DOCUMENT_SCHEMA``) written as it streams: row
    groups of up to SHARD_GROUP_ROWS rows or SHARD_GROUP_CHARS characters; a shard that fits one group has the
    same bytes as ``encode_shard``. Written to ``path + '.tmp'`` and renamed. Returns rows, tokens,
    weighted tokens, bytes and sha256."""
    import pyarrow.parquet as pq
    from apache_beam.io.filesystems import FileSystems

    from core.schema import DOCUMENT_SCHEMA, documents_to_table
    from pipeline.stages.write import PARQUET_COMPRESSION

    tmp = path + ".tmp"
    stats = {"rows": 0, "tokens": 0, "weighted_tokens": 0.0}
    with FileSystems.create(tmp) as f:
        sink = _HashingSink(f)
        writer = pq.ParquetWriter(sink, DOCUMENT_SCHEMA, compression=PARQUET_COMPRESSION)
        group: list[Document] = []
        chars = 0
        for doc in docs:
            group.append(doc)
            chars += len(doc.text)
            stats["rows"] += 1
            stats["tokens"] += doc.n_tokens
            stats["weighted_tokens"] += doc.n_tokens * doc.mix_weight
            if len(group) >= SHARD_GROUP_ROWS or chars >= SHARD_GROUP_CHARS:
                writer.write_table(documents_to_table(group))
                group, chars = [], 0
        if group or not stats["rows"]:
            writer.write_table(documents_to_table(group))
        writer.close()
    if FileSystems.exists(path):
        FileSystems.delete([path])
    FileSystems.rename([tmp], [path])
    stats["weighted_tokens"] = round(stats["weighted_tokens"], 1)
    return {**stats, "bytes": sink.size, "sha256": sink.sha256.hexdigest()}


class MergeShardFn(beam.DoFn):
    """(shard key, [(piece path, rows)]) -> the Parquet shard; yields its ShardInfo.

    Each piece is sorted by id, so the shard is a streaming k-way merge of its pieces (``heapq.merge``): a worker
    holds one frame per piece and one row group, not the shard."""

    def __init__(self, run_dir: str, delete: bool):
        self._run_dir, self._delete = run_dir, delete

    def process(self, element: tuple[tuple[str, str, str, int], Iterable[tuple[str, int]]]):
        (domain, source, period, bucket), pieces = element
        streams = [read_part(piece, self._delete) for piece, _ in sorted(pieces)]
        path = shard_path(self._run_dir, domain, source, bucket, period)
        written = write_shard(path, heapq.merge(*streams, key=lambda d: d.id))
        progress.tick("written", written["rows"])
        progress.flush()
        info = {"path": path[len(self._run_dir) :].lstrip("/"), "domain": domain, "source": source, **written}
        if period:
            info["period"] = period
        yield info


def _source_salt(source: str) -> int:
    return int.from_bytes(hashlib.sha1(source.encode()).digest()[:8], "little")


def sketch_keys(source: str, keys: list[str]) -> np.ndarray:
    """A document's distinct paragraph keys (16 hex digits each) as uint64 sketch keys, salted by source
    (counts are per source)."""
    return np.array([int(k, 16) for k in keys], dtype=np.uint64) ^ np.uint64(_source_salt(source))


class SpillDocsFn(beam.DoFn):
    """Documents -> ``docs`` parts (main: their paths) and, beside each, a small ``pkeys`` part of the in-scope
    documents' distinct paragraph keys (``pkeys``: its path); ``sketch``: each document's sketch keys (for a
    combiner-lifted CountMinSketch: one sketch per bundle crosses, never a key per paragraph)."""

    def __init__(self, folder: str, max_objects: int, max_bytes: int, cfg: BoilerplateConfig):
        self._folder, self._max_objects, self._max_bytes, self._cfg = folder, max_objects, max_bytes, cfg

    def start_bundle(self):
        self._docs = SpillWriter(self._folder, "docs", self._max_bytes, self._max_objects)
        self._keys = SpillWriter(self._folder, "pkeys", NEVER_ROLL, NEVER_ROLL)

    def process(self, doc: Document) -> Iterator[Any]:
        if doc.source in self._cfg.sources:
            keys = [key for (_, key), _ in doc_paragraph_keys(doc, self._cfg.min_chars)]
            if keys:
                self._keys.add((doc.source, keys))
                yield pvalue.TaggedOutput("sketch", sketch_keys(doc.source, keys))
        path = self._docs.add(doc)
        if path:
            yield path
            keys_path = self._keys.close()
            if keys_path:
                yield pvalue.TaggedOutput("pkeys", keys_path)

    def finish_bundle(self):
        path = self._docs.close()
        if path:
            yield _global(path)
        keys_path = self._keys.close()
        if keys_path:
            yield pvalue.TaggedOutput("pkeys", _global(keys_path))


class _SketchFn(beam.CombineFn):
    """uint64 key arrays -> one CountMinSketch (merged across bundles)."""

    def __init__(self, width_log2: int):
        self._width_log2 = width_log2

    def create_accumulator(self) -> CountMinSketch:
        return CountMinSketch(self._width_log2)

    def add_input(self, acc: CountMinSketch, keys: np.ndarray) -> CountMinSketch:
        acc.add(keys)
        return acc

    def merge_accumulators(self, accs: Iterable[CountMinSketch]) -> CountMinSketch:
        accs = iter(accs)
        first = next(accs)
        for acc in accs:
            first.merge(acc)
        return first

    def extract_output(self, acc: CountMinSketch) -> CountMinSketch:
        acc.flush()
        return acc


def boilerplate_candidates(
    path: str, sketch: CountMinSketch, min_docs: int, delete: bool
) -> Iterator[tuple[tuple[str, str], int]]:
    """((source, key), 1) for each paragraph of a ``pkeys`` part whose sketch estimate reaches ``min_docs``."""
    for source, keys in read_part(path, delete):
        est = sketch.estimate(sketch_keys(source, keys))
        for key, n in zip(keys, est, strict=True):
            if n >= min(min_docs, 255):
                yield shuffled(((source, key), 1))


class BoilerplateKeySet(beam.PTransform):
    """(sketch keys, ``pkeys`` part paths) -> {source: boilerplate paragraph keys} (one element, for a side
    input): the same keys as RemoveBoilerplate's exact count (documents per (source, paragraph key) >=
    ``min_docs``), but only the candidates a count-min sketch lets through are counted exactly and shuffled
    (``filters.sketch``), so memory does not grow with the number of distinct paragraphs."""

    def __init__(self, cfg: BoilerplateConfig, width_log2: int, delete: bool):
        super().__init__()
        self._cfg, self._width_log2, self._delete = cfg, width_log2, delete

    def expand(self, inputs):
        sketch_keys_pc, pkeys = inputs
        cfg = self._cfg
        sketch = sketch_keys_pc | "Sketch" >> beam.CombineGlobally(_SketchFn(self._width_log2))
        return (
            pkeys
            | "SpreadKeyParts" >> beam.Reshuffle()
            | "Candidates"
            >> beam.FlatMap(
                boilerplate_candidates, beam.pvalue.AsSingleton(sketch), cfg.min_docs, self._delete
            )
            | "CountDocs" >> beam.CombinePerKey(sum)
            | "SelectBoilerplate" >> beam.Filter(_is_boilerplate, cfg.min_docs)
            | "BoilerplateKeys" >> beam.CombineGlobally(_KeysBySource())
        )


class DedupDecisions(beam.PTransform):
    """{stubs, exact, band_sketch, band_parts, shingles} (``KeysFn``'s outputs) -> (part, (row, decision, stub))
    per document.

    ``Deduplicate``'s exact and near steps on the keys alone, then ``resolve_stubs`` (ids made unique even when
    ``dedup`` is None: no dedup).
    """

    def __init__(
        self, dedup: Deduplicate | None, exact: bool, near: bool, width_log2: int = 20, delete: bool = False
    ):
        super().__init__()
        self._dedup, self._exact, self._near = dedup, exact, near
        self._width_log2, self._delete = width_log2, delete

    def expand(self, keyed):
        exact, near = self._exact, self._near
        joined = {"doc": keyed["stubs"]}
        if near:
            sketch = keyed["band_sketch"] | "BandSketch" >> beam.CombineGlobally(_SketchFn(self._width_log2))
            bands = (
                keyed["band_parts"]
                | "SpreadBandParts" >> beam.Reshuffle()
                | "SharedBands"
                >> beam.FlatMap(candidate_bands, beam.pvalue.AsSingleton(sketch), self._delete)
            )
        if exact:
            joined["exact"] = keyed["exact"] | "ExactDedup" >> _ExactAssignments()
        if near:
            assert self._dedup is not None
            if exact:
                nodes = (
                    {"bands": bands, "exact": joined["exact"]}
                    | "ExactSurvivors" >> beam.CoGroupByKey()
                    | "BandNodes" >> beam.FlatMap(_band_nodes)
                )
            else:
                nodes = bands | "BandNodes" >> beam.FlatMap(
                    lambda kv: [(key, (kv[1][0], kv[0], kv[1][1])) for key in kv[1][2]]
                )
            joined["cluster"] = nodes | "NearDedup" >> self._dedup.near_clusters(keyed["shingles"])
        return (
            joined
            | "JoinDecisions" >> beam.CoGroupByKey()
            | "Decide" >> beam.FlatMap(resolve_stubs, exact, near)
        )


class MixtureAndSizes(beam.PTransform):
    """Decisions -> (the mixture report, {(domain, source, period): kept documents}), one element each: tokens
    of the kept documents per (domain, source) give the mixing weights (``compute_mixture``), their counts per
    partition give the shard counts."""

    def __init__(self, domain_of: dict[str, str], mix: Any):
        super().__init__()
        self._domain_of, self._mix = domain_of, mix

    def expand(self, decided):
        mixture = (
            decided
            | "KeptTokens" >> beam.FlatMap(kept_tokens)
            | "SumTokens" >> beam.CombinePerKey(sum)
            | "TokensAsDict" >> beam.combiners.ToDict()
            | "Mixture" >> beam.Map(compute_mixture, self._domain_of, self._mix)
        )
        sizes = (
            decided
            | "KeptPartitions" >> beam.FlatMap(kept_partition)
            | "CountPerPartition" >> beam.CombinePerKey(sum)
            | "SizesAsDict" >> beam.combiners.ToDict()
        )
        return mixture, sizes


class WriteDecided(beam.PTransform):
    """(decisions, mixture, sizes) -> (shard infos, kept documents, rejected, errors): ``ApplyDecisionsFn`` per
    part, then ``MergeShardFn`` per shard. Documents are read from the parts, never shuffled."""

    def __init__(self, run_dir, folder, domain_cfg, domain_of, max_rows, partition_by_period, delete):
        super().__init__()
        self._run_dir, self._delete = run_dir, delete
        self._fn = ApplyDecisionsFn(folder, domain_cfg, domain_of, max_rows, partition_by_period, delete)

    def expand(self, inputs):
        decided, mixture, sizes = inputs
        applied = (
            decided
            | "ByPart" >> beam.Map(slim_decision)
            | "GroupByPart" >> beam.GroupByKey()
            | "ApplyDecisions"
            >> beam.ParDo(
                self._fn, beam.pvalue.AsSingleton(mixture), beam.pvalue.AsSingleton(sizes)
            ).with_outputs(REJECTED, ERRORS, "kept", main="pieces")
        )
        shards = (
            applied.pieces
            | "GroupShardPieces" >> beam.GroupByKey()
            | "MergeShards" >> beam.ParDo(MergeShardFn(self._run_dir, self._delete))
        )
        return shards, applied.kept, applied[REJECTED], applied[ERRORS]


def paragraph_keys_of(doc: Document, cfg: BoilerplateConfig) -> Iterator[tuple[tuple[str, str], int]]:
    """((source, key), 1) per distinct paragraph of an in-scope document (the boilerplate count's input)."""
    if doc.source in cfg.sources:
        yield from doc_paragraph_keys(doc, cfg.min_chars)


__all__ = [
    "ApplyDecisionsFn",
    "BOILERPLATE_STAGE",
    "EMPTY_REASON",
    "KeysFn",
    "MergeShardFn",
    "SpillFn",
    "Stub",
    "kept_partition",
    "kept_tokens",
    "paragraph_keys_of",
    "read_part",
    "resolve_stubs",
    "slim_decision",
]
