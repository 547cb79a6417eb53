"""The corpus-level half of the run, with documents out of every shuffle (issue 21).

``pipeline.run.build_pipeline`` chains four phases; between phases only spill-part paths (``pipeline.spill``)
and small keys cross the runner, never whole records or documents:

1. **Read**: files are read (a file, or a byte range of a big one, per worker: ``pipeline.stages.read``) and
   their raw records spilled into small parts (``raw-*``),
   so that even one big file (a 1,000-page WARC, a Reddit dump, a Wikipedia dump) spreads over every worker
   for what follows; only the parts' paths are shuffled.
2. **Per document** (one fused stage per part): Extract, CutAtTime, IdentifyLanguage, ScoreQuality, RedactPII,
   Decontaminate, then ``SpillDocs`` writes the documents to ``docs-*`` parts, each with its paragraph keys
   (computed once, a uint64 per keyed line), and emits, per in-scope document, its distinct paragraph keys
   (counted per source with a combiner: the boilerplate key set).
3. **Keys** (``KeysFn``, one part at a time, the boilerplate key set as a side input): boilerplate paragraphs
   are removed (by looking up the keys carried with the document), then for each document its dedup rank,
   exact key and LSH band keys, its domain score and its token count are computed, the document is written to
   a ``keyed-*`` part and its small ``Stub`` (id, where the document sits, what the decisions need) and dedup
   keys to a ``stubs-*`` part beside it; a count-min
   sketch of every id, exact key and LSH band key is combined. ``TriageFn`` reads the stubs back: a document
   that shares none of its keys with another (the sketch says so; most documents) is decided alone, and only
   the kept rows of a part go on, as one array; the other documents (candidates: an id, exact or band key
   seen twice) go through ``Deduplicate``'s exact and near steps on their keys alone, and ``resolve_stubs``
   turns their stubs and dedup assignments into one decision each. So what the runner holds between stages
   grows with the duplicates and candidates of the corpus, not with its size.
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
from apache_beam.io.filesystems import FileSystems
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.timestamp import MIN_TIMESTAMP
from apache_beam.utils.windowed_value import WindowedValue

from core.memory import trim
from core.schema import Document, RecordError, Rejected
from core.timeinfo import period_of
from filters.boilerplate import BoilerplateConfig, int_keys, line_key_array
from filters.dedup import MinHashConfig, band_keys, exact_key, normalize_for_exact, shingles, signature
from filters.sketch import CountMinSketch
from pipeline import progress
from pipeline.spill import (
    ALONE_COUNTER,
    CANDIDATES_COUNTER,
    SpillWriter,
    delete_spill,
    part_path,
    read_spill,
    shuffled,
    spill_bytes,
)
from pipeline.stages.base import ERRORS, NAMESPACE, REJECTED, Spread, counter, error_from_exception
from pipeline.stages.boilerplate import (
    EMPTY_REASON,
    _is_boilerplate,
    _KeysBySource,
    doc_paragraph_keys,
    strip_carried,
)
from pipeline.stages.boilerplate import STAGE as BOILERPLATE_STAGE
from pipeline.stages.dedup import (
    ERROR,
    EXACT_DUPS_KEY,
    KEEP,
    REJECT,
    Copy,
    Deduplicate,
    _band_nodes,
    _describe,
    _ExactAssignments,
    _weight,
    decide,
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
    """A ``docs`` part -> boilerplate removed, keys computed, documents re-spilled beside their ``Entry``s.

    main: the ``stubs`` part written (one ``Entry`` per document: its Stub and dedup keys, read back by
    ``TriageFn``); ``sketch``: each document's id, exact and band keys as sketch keys; ``rejected``:
    boilerplate-emptied documents; ``parts``: the ``keyed`` parts written. Nothing per document is shuffled.
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
        self._hex_keys: dict[str, frozenset[str]] | None = None  # the side input last seen ...
        self._int_keys: dict[str, frozenset[int]] = {}  # ... and its keys as ints

    def setup(self):
        from filters.domain import DomainClassifier

        self._classifier = DomainClassifier(self._domain.model_path, label=self._domain.label)
        self._classifier.setup()

    def process(self, path: str, keys_by_source: dict[str, frozenset[str]]) -> Iterator[Any]:
        writer = SpillWriter(self._folder, "keyed", NEVER_ROLL, NEVER_ROLL)  # rows index one part
        stubs = SpillWriter(self._folder, "stubs", NEVER_ROLL, NEVER_ROLL)
        part_name = writer.next_name()
        row = 0
        if keys_by_source is not self._hex_keys:  # the side input, as ints, once per worker
            self._hex_keys = keys_by_source
            self._int_keys = {source: int_keys(keys) for source, keys in keys_by_source.items()}
        for doc, line_keys in read_part(path, self._delete):
            keys = self._int_keys.get(doc.source) if line_keys is not None else None
            if keys:
                result = strip_carried(doc, line_keys, keys)
                if isinstance(result, Rejected):
                    yield pvalue.TaggedOutput(REJECTED, result)
                    continue
            entry = self._entry(doc, part_name, row)
            stubs.add(entry)
            yield pvalue.TaggedOutput("sketch", entry_sketch_keys(entry))
            writer.add(doc)
            row += 1
        written = writer.close()
        if written:
            yield pvalue.TaggedOutput("parts", written)
        stub_part = stubs.close()
        trim()
        if stub_part:
            yield stub_part

    def _band_keys(self, hashes: np.ndarray) -> list[bytes]:
        """LSH band keys cut to 2 + 8 bytes (band index + 64-bit hash): a false bucket needs a 64-bit
        collision; the shuffle (16 bands a document, twice) is ~40% smaller."""
        return [key[:BAND_KEY_BYTES] for key in band_keys(signature(hashes, self._cfg), self._cfg)]

    def _entry(self, doc: Document, part: str, row: int) -> Entry:
        # Before ClassifyDomain may rename the source. The id (rank's last field) is left out: every key carries
        # it next to the rank, so (rank, id) tuples sort as with the full rank, for 21 bytes less per copy.
        # (Still five fields: the dedup steps' type hints give Beam a five-field tuple coder.)
        doc_rank = (*rank(doc, self._priority)[:-1], "")
        weight = _weight(doc)
        norm = normalize_for_exact(doc.text)
        ekey = exact_key(doc.text, normalized=norm)
        bands: list[bytes] = []
        hashes = None
        if self._cfg is not None:
            hashes = shingles(doc.text, self._cfg, normalized=norm)
            bands = self._band_keys(hashes)
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
        verify = np.unique(hashes).astype(np.uint32) if self._verify and hashes is not None else None
        return Entry(tuple(stub), ekey, doc_rank, weight, bands, verify)


class Entry(NamedTuple):
    """A document's row in a ``stubs`` part: its Stub and its dedup keys (read back by ``TriageFn``)."""

    stub: tuple  # Stub as a plain tuple
    exact: str  # exact key (hex)
    rank: tuple  # dedup rank without the id
    weight: int
    bands: list[bytes]  # LSH band keys ([] without near dedup)
    shingles: np.ndarray | None  # distinct shingle hashes (near-dedup verification only)


_ID_SALT = np.uint64(0x5BD1E9955BD1E995)
_EXACT_SALT = np.uint64(0x27D4EB2F165667C5)


def entry_sketch_keys(entry: Entry) -> np.ndarray:
    """uint64 sketch keys of an entry: its id, its exact key and its band keys (each kind salted apart)."""
    head = np.array(
        [
            int.from_bytes(hashlib.sha1(entry.stub[0].encode()).digest()[:8], "little"),
            int(entry.exact[:16], 16),
        ],
        dtype=np.uint64,
    ) ^ np.array([_ID_SALT, _EXACT_SALT], dtype=np.uint64)
    return np.concatenate([head, band_sketch_keys(entry.bands)]) if entry.bands else head


def band_sketch_keys(keys: list[bytes]) -> np.ndarray:
    """uint64 sketch keys of a document's band keys (band index folded into the 64-bit hash)."""
    return np.array(
        [
            int.from_bytes(k[2:10], "little") ^ (int.from_bytes(k[:2], "big") * 0x9E3779B97F4A7C15 % 2**64)
            for k in keys
        ],
        dtype=np.uint64,
    )


KEY_SKETCH = {"counters_per_key": 4, "hi_log2": 25}  # a unique key is a false candidate with ~1% probability
# a false boilerplate candidate needs min_docs - 1 over-counts in every row: one counter a key is enough
BOILERPLATE_SKETCH = {"counters_per_key": 1, "hi_log2": 24}


class TriageFn(beam.DoFn):
    """A ``stubs`` part + the key sketch -> what the corpus-level decisions need, for candidates only.

    A document whose id, exact key and band keys all have a sketch estimate below 2 shares none of them with
    any other document (a count-min sketch never under-counts): it cannot be an id copy, an exact duplicate or
    in a near-duplicate cluster, so it is decided here, alone, by ``resolve_stubs`` (the same rules and
    counters as for the others). The kept ones of a part go on as one ``lone`` element (rows and cluster sizes
    as arrays: a few bytes a document) and their tokens summed per part; nothing per document is shuffled.

    Every other document (a candidate) goes on as before: main ``doc`` (id, stub), ``exact`` (exact key,
    (rank, id)), ``bands`` (id, (rank, weight, shared band keys)), ``shingles`` (id, hashes); all members of
    an exact group or an LSH bucket are candidates, so those groups are complete. ``decided``: lone documents
    that are not plainly kept (a domain-scoring error); ``lone``: (part, (rows, sizes)); ``tokens``/
    ``partitions``: the lone kept documents' tokens and counts summed per part.
    """

    def __init__(self, exact: bool, near: bool, verify: bool, delete: bool):
        self._exact, self._near, self._verify, self._delete = exact, near, verify, delete

    def process(self, path: str, sketch: CountMinSketch) -> Iterator[Any]:
        rows: list[int] = []
        sizes: list[int] = []
        tokens: dict[tuple[str, str], int] = defaultdict(int)
        partitions: dict[tuple[str, str, str], int] = defaultdict(int)
        part = ""
        for entry in read_part(path, self._delete):
            entry = Entry._make(entry)
            stub = Stub._make(entry.stub)
            part = stub.part
            est = sketch.estimate(entry_sketch_keys(entry))
            shared = [k for k, n in zip(entry.bands, est[2:], strict=True) if n >= 2] if self._near else []
            if est[0] >= 2 or (self._exact and est[1] >= 2) or shared:
                counter(CANDIDATES_COUNTER).inc()
                yield shuffled((stub.id, entry.stub))
                if self._exact:
                    yield pvalue.TaggedOutput("exact", shuffled((entry.exact, (entry.rank, stub.id))))
                if shared:
                    yield pvalue.TaggedOutput(
                        "bands", shuffled((stub.id, (entry.rank, entry.weight, shared)))
                    )
                    if self._verify:
                        yield pvalue.TaggedOutput("shingles", (stub.id, entry.shingles))
                continue
            counter(ALONE_COUNTER).inc()
            alone = {"doc": [entry.stub], "exact": [(stub.id, 1, entry.exact)], "cluster": []}
            for decided in resolve_stubs((stub.id, alone), self._exact, self._near):
                _, (row, decision, _) = decided
                if decision[0] == KEEP and decision[3] == 0 and decision[1] in ("", stub.id):
                    rows.append(row)
                    sizes.append(decision[2] if decision[1] else 0)
                    tokens[(stub.domain, stub.source)] += stub.n_tokens
                    partitions[(stub.domain, stub.source, stub.period)] += 1
                else:
                    yield pvalue.TaggedOutput("decided", shuffled(decided))
        trim()
        if rows:
            lone = (np.array(rows, dtype=np.int64), np.array(sizes, dtype=np.int64))
            yield pvalue.TaggedOutput("lone", shuffled((part, lone)))
        for key, n in tokens.items():
            yield pvalue.TaggedOutput("tokens", (key, n))
        for key, n in partitions.items():
            yield pvalue.TaggedOutput("partitions", (key, n))


# ------------------------------------------------------------------ the decisions


LONE = "lone"  # a lone kept document's decision in a part's rows array (see TriageFn)


def _describe_stub(stub: Stub) -> str:
    return f"{stub.describe} {stub.url}" if stub.url else stub.describe


def resolve_stubs(element: tuple[str, dict[str, list[Any]]], exact: bool, near: bool) -> Iterator[Any]:
    """One id's stubs + exact assignment + near cluster -> (part, (row, decision, stub)) for each stub.

    ``pipeline.stages.dedup.decide`` (the rules and counters of ``Deduplicate``) on the stubs' ``Copy``s;
    a kept document whose domain scoring failed becomes that error.
    """
    _, grouped = element
    stubs: list[Stub] = [Stub._make(t) for t in grouped["doc"]]
    copies = [
        Copy(s.id, s.text_sha1.hex(), s.url, s.exact.hex(), s.weight, _describe_stub(s), s.n_chars)
        for s in stubs
    ]
    for i, decision in decide(copies, grouped.get("exact", []), grouped.get("cluster", []), exact, near):
        stub = stubs[i]
        if decision[0] == KEEP and stub.domain_error:
            decision = (ERROR, DOMAIN_STAGE, *stub.domain_error)
        yield stub.part, (stub.row, decision, stub)


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
        decisions: dict[int, tuple] = {}
        for row, decision in decided:
            if isinstance(row, np.ndarray):  # a part's lone kept documents (TriageFn): rows, cluster sizes
                for r, size in zip(row.tolist(), decision.tolist(), strict=True):
                    decisions[r] = (LONE, size)
            else:
                decisions[row] = decision
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
            if decision[0] == LONE:  # kept, alone: its own near cluster (size > 0) or none
                decision = (KEEP, doc.id if decision[1] else "", decision[1], 0)
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
            writer = SpillWriter(self._folder, "piece", NEVER_ROLL, NEVER_ROLL, PIECE_FRAME_BYTES)
            for doc in docs:
                writer.add(doc)
            yield shuffled((shard_key, (writer.close(), len(docs))))
        pieces.clear()
        trim()

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


SHARD_BATCH_ROWS = 1_000  # documents turned into Arrow at a time: a row group is built from such batches


def write_shard(path: str, docs: Iterable[Document]) -> dict[str, Any]:
    """Documents (sorted by id) -> one Parquet file (zstd, ``DOCUMENT_SCHEMA``) written as it streams: row
    groups of up to SHARD_GROUP_ROWS rows or SHARD_GROUP_CHARS characters, each built from Arrow record batches
    of SHARD_BATCH_ROWS documents (a worker holds one row group as Arrow and one batch as Python objects; the
    bytes do not depend on the batches); a shard that fits one row group has the same bytes as ``encode_shard``. Written to ``path + '.tmp'`` and
    renamed. Returns rows, tokens, weighted tokens, bytes and sha256."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from apache_beam.io.filesystems import FileSystems

    from core.schema import DOCUMENT_SCHEMA, documents_to_table
    from pipeline.stages.write import PARQUET_COMPRESSION

    tmp = path + ".tmp"
    stats = {"rows": 0, "tokens": 0, "weighted_tokens": 0.0}
    with FileSystems.create(tmp) as f:
        sink = _HashingSink(f)
        writer = pq.ParquetWriter(sink, DOCUMENT_SCHEMA, compression=PARQUET_COMPRESSION)
        batches: list[pa.RecordBatch] = []
        batch: list[Document] = []
        rows = chars = 0

        def flush_batch() -> None:
            if batch:
                batches.extend(documents_to_table(batch).to_batches())
                batch.clear()

        def write_group() -> None:
            flush_batch()
            writer.write_table(pa.Table.from_batches(batches, schema=DOCUMENT_SCHEMA))
            batches.clear()

        for doc in docs:
            batch.append(doc)
            rows += 1
            chars += len(doc.text)
            stats["rows"] += 1
            stats["tokens"] += doc.n_tokens
            stats["weighted_tokens"] += doc.n_tokens * doc.mix_weight
            if rows >= SHARD_GROUP_ROWS or chars >= SHARD_GROUP_CHARS:
                write_group()
                rows = chars = 0
            elif len(batch) >= SHARD_BATCH_ROWS:
                flush_batch()
        if batch or batches or not stats["rows"]:
            write_group()
        writer.close()
    if FileSystems.exists(path):
        FileSystems.delete([path])
    FileSystems.rename([tmp], [path])
    stats["weighted_tokens"] = round(stats["weighted_tokens"], 1)
    return {**stats, "bytes": sink.size, "sha256": sink.sha256.hexdigest()}


MERGE_FAN_IN = 64  # pieces merged at once: a worker holds one frame per piece (and one file handle)
MERGED_PART_BYTES = 16 << 20  # an intermediate merge's output rolls into parts of this many pickled bytes
# Frames of the pieces and of intermediate merges: a merge holds one decompressed frame per open piece (up to
# MERGE_FAN_IN of them; a shard of a big corpus has a piece from every part), 64 x 1 MB with the default frames.
PIECE_FRAME_BYTES = 128 << 10


def _read_piece(piece: str | tuple[str, ...], delete: bool) -> Iterator[Document]:
    """A piece's documents: one spill part, or an intermediate merge's consecutive parts in order."""
    for path in (piece,) if isinstance(piece, str) else piece:
        yield from read_part(path, delete)


def merge_pieces(
    pieces: list[str],
    folder: str,
    delete: bool,
    fan_in: int = MERGE_FAN_IN,
    part_bytes: int = MERGED_PART_BYTES,
) -> Iterator[Document]:
    """The documents of id-sorted spill pieces, merged by id. More than ``fan_in`` pieces (a shard of a big
    corpus gets one from every part) are first merged ``fan_in`` at a time into bigger pieces under ``folder``
    (always deleted once read), so memory and open files stay bounded whatever the number of parts. An
    intermediate piece is written as consecutive parts of ``part_bytes`` (a spill writer holds its current part
    in memory until it closes it: one part, not a shard's worth) and read back as one stream."""
    owned: set[str] = set()
    level: list[str | tuple[str, ...]] = list(pieces)
    while len(level) > fan_in:
        merged: list[str | tuple[str, ...]] = []
        for start in range(0, len(level), fan_in):
            group = level[start : start + fan_in]
            writer = SpillWriter(folder, "merged", part_bytes, NEVER_ROLL, PIECE_FRAME_BYTES)
            streams = [_read_piece(piece, delete or _owned(piece, owned)) for piece in group]
            paths = []
            for doc in heapq.merge(*streams, key=lambda d: d.id):
                path = writer.add(doc)
                if path:
                    paths.append(path)
            path = writer.close()
            if path:
                paths.append(path)
            if paths:
                merged.append(tuple(paths))
                owned.update(paths)
        level = merged
    streams = [_read_piece(piece, delete or _owned(piece, owned)) for piece in level]
    yield from heapq.merge(*streams, key=lambda d: d.id)


def _owned(piece: str | tuple[str, ...], owned: set[str]) -> bool:
    """Whether ``piece`` was written by the merge itself (then it is deleted once read)."""
    return (piece if isinstance(piece, str) else piece[0]) in owned


class MergeShardFn(beam.DoFn):
    """(shard key, [(piece path, rows)]) -> the Parquet shard; yields its ShardInfo.

    Each piece is sorted by id, so the shard is a streaming k-way merge of its pieces (``merge_pieces``,
    at most MERGE_FAN_IN at once): a worker holds one frame per piece and one row group, not the shard."""

    def __init__(self, run_dir: str, delete: bool, folder: str = ""):
        self._run_dir, self._delete, self._folder = run_dir, delete, folder

    def process(self, element: tuple[tuple[str, str, str, int], Iterable[tuple[str, int]]]):
        (domain, source, period, bucket), pieces = element
        paths = [piece for piece, _ in sorted(pieces)]
        folder = self._folder or FileSystems.split(paths[0])[0]
        path = shard_path(self._run_dir, domain, source, bucket, period)
        written = write_shard(path, merge_pieces(paths, folder, self._delete))
        trim()
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
    combiner-lifted CountMinSketch: one sketch per bundle crosses, never a key per paragraph).

    A ``docs`` part holds (document, ``LineKeys`` or None) pairs: each in-scope document's paragraph keys are
    computed once, here, and ``KeysFn`` removes boilerplate by looking them up (12 bytes per keyed line in the
    spill file; nothing more is shuffled)."""

    def __init__(self, folder: str, max_objects: int, max_bytes: int, cfg: BoilerplateConfig):
        self._folder, self._max_objects, self._max_bytes, self._cfg = folder, max_objects, max_bytes, cfg

    def start_bundle(self):
        self._docs = SpillWriter(self._folder, "docs", self._max_bytes, self._max_objects)
        self._keys = SpillWriter(self._folder, "pkeys", NEVER_ROLL, NEVER_ROLL)

    def process(self, doc: Document) -> Iterator[Any]:
        line_keys = None
        if doc.source in self._cfg.sources:
            line_keys = line_key_array(doc.text, self._cfg.min_chars)
            keys = line_keys.distinct()
            if keys:
                self._keys.add((doc.source, keys))
                yield pvalue.TaggedOutput("sketch", sketch_keys(doc.source, keys))
            else:
                line_keys = None
        # the keys ride with the document: KeysFn strips without recomputing them
        path = self._docs.add((doc, line_keys))
        if path:
            trim()
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
    """uint64 key arrays -> one CountMinSketch (merged across bundles): of width ``2**width_log2``, or with
    ``width_log2`` None, of a width chosen from the keys seen (``sizing``: ``CountMinSketch`` keyword arguments)."""

    def __init__(self, width_log2: int | None, sizing: dict[str, int] | None = None):
        self._width_log2, self._sizing = width_log2, dict(sizing or {})

    def create_accumulator(self) -> CountMinSketch:
        return CountMinSketch(self._width_log2, **self._sizing)

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
        trim()
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

    def __init__(self, cfg: BoilerplateConfig, width_log2: int | None, delete: bool):
        super().__init__()
        self._cfg, self._width_log2, self._delete = cfg, width_log2, delete

    def expand(self, inputs):
        sketch_keys_pc, pkeys = inputs
        cfg = self._cfg
        sketch = sketch_keys_pc | "Sketch" >> beam.CombineGlobally(
            _SketchFn(self._width_log2, BOILERPLATE_SKETCH)
        )
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
    """{stub_parts, sketch} (``KeysFn``'s outputs) -> the decisions: a dict of PCollections, ``decided``
    ((part, (row, decision, stub)) per candidate document and per lone document not plainly kept), ``lone``
    ((part, (rows, sizes)) per part: its lone kept documents), ``tokens`` and ``partitions`` (the lone kept
    documents' tokens per (domain, source) and counts per partition, summed per part).

    The key sketch (ids, exact keys, band keys) sorts out the lone documents (``TriageFn``); ``Deduplicate``'s
    exact and near steps then run on the candidates' keys alone, and ``resolve_stubs`` turns their stubs and
    dedup assignments into one decision each (ids made unique even when ``dedup`` is None: no dedup).
    """

    def __init__(
        self,
        dedup: Deduplicate | None,
        exact: bool,
        near: bool,
        width_log2: int | None = None,
        delete: bool = False,
        verify: bool = False,
        workers: int | None = None,
    ):
        super().__init__()
        self._dedup, self._exact, self._near = dedup, exact, near
        self._width_log2, self._delete, self._verify = width_log2, delete, verify
        self._workers = workers

    def expand(self, keyed):
        exact, near = self._exact, self._near
        sketch = keyed["sketch"] | "KeySketch" >> beam.CombineGlobally(
            _SketchFn(self._width_log2, KEY_SKETCH)
        )
        triage = (
            keyed["stub_parts"]
            | "SpreadStubParts" >> Spread(spill_bytes, self._workers)
            | "Triage"
            >> beam.ParDo(
                TriageFn(exact, near, near and self._verify, self._delete), beam.pvalue.AsSingleton(sketch)
            ).with_outputs(
                "exact", "bands", "shingles", "decided", "lone", "tokens", "partitions", main="doc"
            )
        )
        joined = {"doc": triage.doc}
        if exact:
            joined["exact"] = triage.exact | "ExactDedup" >> _ExactAssignments()
        if near:
            assert self._dedup is not None
            if exact:
                nodes = (
                    {"bands": triage.bands, "exact": joined["exact"]}
                    | "ExactSurvivors" >> beam.CoGroupByKey()
                    | "BandNodes" >> beam.FlatMap(_band_nodes)
                )
            else:
                nodes = triage.bands | "BandNodes" >> beam.FlatMap(
                    lambda kv: [(key, (kv[1][0], kv[0], kv[1][1])) for key in kv[1][2]]
                )
            joined["cluster"] = nodes | "NearDedup" >> self._dedup.near_clusters(triage.shingles)
        resolved = (
            joined
            | "JoinDecisions" >> beam.CoGroupByKey()
            | "Decide" >> beam.FlatMap(resolve_stubs, exact, near)
        )
        return {
            "decided": (resolved, triage.decided) | "AllDecided" >> beam.Flatten(),
            "lone": triage.lone,
            "tokens": triage.tokens,
            "partitions": triage.partitions,
        }


class MixtureAndSizes(beam.PTransform):
    """Decisions (``DedupDecisions``' dict) -> (the mixture report, {(domain, source, period): kept documents}),
    one element each: tokens of the kept documents per (domain, source) give the mixing weights
    (``compute_mixture``), their counts per partition give the shard counts."""

    def __init__(self, domain_of: dict[str, str], mix: Any):
        super().__init__()
        self._domain_of, self._mix = domain_of, mix

    def expand(self, decisions):
        decided = decisions["decided"]
        mixture = (
            (decided | "KeptTokens" >> beam.FlatMap(kept_tokens), decisions["tokens"])
            | "AllTokens" >> beam.Flatten()
            | "SumTokens" >> beam.CombinePerKey(sum)
            | "TokensAsDict" >> beam.combiners.ToDict()
            | "Mixture" >> beam.Map(compute_mixture, self._domain_of, self._mix)
        )
        sizes = (
            (decided | "KeptPartitions" >> beam.FlatMap(kept_partition), decisions["partitions"])
            | "AllPartitions" >> beam.Flatten()
            | "CountPerPartition" >> beam.CombinePerKey(sum)
            | "SizesAsDict" >> beam.combiners.ToDict()
        )
        return mixture, sizes


class _PartWeight:
    """Weight of a (part name, decisions) group for ``Spread``: the bytes of its ``keyed`` part."""

    def __init__(self, folder: str):
        self._folder = folder

    def __call__(self, grouped: tuple[str, Any]) -> int:
        return spill_bytes(part_path(self._folder, grouped[0]))


class WriteDecided(beam.PTransform):
    """(decisions, mixture, sizes) -> (shard infos, kept documents, rejected, errors): ``ApplyDecisionsFn`` per
    part, then ``MergeShardFn`` per shard. Documents are read from the parts, never shuffled."""

    def __init__(
        self, run_dir, folder, domain_cfg, domain_of, max_rows, partition_by_period, delete, workers=None
    ):
        super().__init__()
        self._run_dir, self._delete, self._folder = run_dir, delete, folder
        self._workers = workers
        self._fn = ApplyDecisionsFn(folder, domain_cfg, domain_of, max_rows, partition_by_period, delete)

    def expand(self, inputs):
        decisions, mixture, sizes = inputs
        by_part = (
            (decisions["decided"] | "ByPart" >> beam.Map(slim_decision), decisions["lone"])
            | "AllByPart" >> beam.Flatten()
            | "GroupByPart" >> beam.GroupByKey()
        )
        if Spread.balances(self._workers):  # the parts' work shared out by their bytes (local workers only)
            by_part = by_part | "SpreadParts" >> Spread(_PartWeight(self._folder), self._workers)
        applied = by_part | "ApplyDecisions" >> beam.ParDo(
            self._fn, beam.pvalue.AsSingleton(mixture), beam.pvalue.AsSingleton(sizes)
        ).with_outputs(REJECTED, ERRORS, "kept", main="pieces")
        shards = (
            applied.pieces
            | "GroupShardPieces" >> beam.GroupByKey()
            | "MergeShards" >> beam.ParDo(MergeShardFn(self._run_dir, self._delete, self._folder))
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
