"""The run's corpus-level phases (pipeline.flow) and spill files (pipeline.spill): documents stay out of the
shuffles, and the decisions are those of the stand-alone transforms, byte for byte."""

from __future__ import annotations

import glob
import json
import pickle
import random
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline

from core.schema import Document
from filters.boilerplate import BoilerplateConfig
from pipeline.config import DedupSettings, MixSettings
from pipeline.flow import (
    BoilerplateKeySet,
    DedupDecisions,
    KeysFn,
    MixtureAndSizes,
    SpillDocsFn,
    Stub,
    WriteDecided,
    resolve_stubs,
)
from pipeline.spill import SpillWriter, WriteLines, read_spill
from pipeline.stages.boilerplate import RemoveBoilerplate
from pipeline.stages.dedup import Deduplicate
from pipeline.stages.domain import ClassifyDomain, DomainConfig
from pipeline.stages.mix import AssignDomainAndMix
from pipeline.stages.write import WriteShards

SOURCE_DOMAINS = {"filings": "financial", "news": "financial", "web": "general", "social": "financial"}
FOOTER = "Subscribe to our newsletter for the latest market news and analysis delivered every morning."


def _words(rng: random.Random, n: int) -> str:
    vocab = (
        "the market rates bank shares earnings quarter growth investors bond stock price company said".split()
    )
    return " ".join(rng.choice(vocab) + str(rng.randrange(300)) for _ in range(n))


def corpus() -> list[Document]:
    """Web and news pages with a shared footer (boilerplate), exact and near copies, one id given twice."""
    rng = random.Random(7)
    docs = []
    for i in range(40):
        source = ("web", "news", "filings", "social")[i % 4]
        paras = [_words(rng, 60) for _ in range(3)]
        if source in ("web", "news"):
            paras.append(FOOTER)
        text = "\n\n".join(paras)
        docs.append(
            Document(
                id=f"d{i:03d}",
                text=text,
                source=source,
                domain=SOURCE_DOMAINS[source],
                url=f"https://example.com/{i}",
                available_at=f"2024-0{1 + i % 9}-1{i % 10}T10:00:00.123456Z" if i % 5 else "",
                quality_score=rng.random(),
                n_chars=len(text),
            )
        )
    docs.append(Document(**{**docs[3].__dict__, "id": "copy-of-3", "metadata": {}}))  # exact copy
    near = docs[5].text.split()
    near[10] = "changed"
    docs.append(Document(**{**docs[5].__dict__, "id": "near-5", "text": " ".join(near), "metadata": {}}))
    docs.append(Document(**{**docs[7].__dict__, "metadata": {}}))  # the same id and text twice
    other = _words(rng, 70)
    docs.append(
        Document(**{**docs[9].__dict__, "text": other, "n_chars": len(other), "metadata": {}})
    )  # id clash
    return docs


def test_spill_parts_roll_and_round_trip_documents_exactly(tmp_path):
    docs = corpus()
    writer = SpillWriter(str(tmp_path), "docs", max_bytes=1 << 30, max_objects=10)
    parts = [p for p in (writer.add(d) for d in docs) if p]
    last = writer.close()
    parts += [last] if last else []
    assert len(parts) == -(-len(docs) // 10)  # a part every 10 documents
    back = [d for p in parts for d in read_spill(p)]
    assert back == docs  # float fields and sub-second times are kept exactly (Parquet would round them)
    assert not glob.glob(str(tmp_path / "*.tmp"))


def test_write_lines_writes_one_file_per_bundle(tmp_path):
    with TestPipeline() as p:
        (
            p
            | beam.Create([{"a": 1}, {"a": 2}])
            | beam.ParDo(WriteLines(str(tmp_path / "rejected"), "quality", json.dumps))
        )
    rows = [
        json.loads(line) for f in glob.glob(str(tmp_path / "rejected/quality-*.jsonl")) for line in open(f)
    ]
    assert sorted(r["a"] for r in rows) == [1, 2]


def _stub(id_, part="p", row=0, sha=b"1", exact=b"\x01", describe="web x", domain_error=None):
    return tuple(Stub(id_, part, row, sha, exact, "", describe, 10, 1, "general", "web", 5, "", domain_error))


def test_resolve_stubs_makes_ids_unique_then_applies_exact_dedup():
    same = [_stub("a", row=0), _stub("a", row=1)]
    out = list(
        resolve_stubs(("a", {"doc": same, "exact": [("a", 3, b"\x01".hex())], "cluster": []}), True, False)
    )
    decisions = sorted((row, d[:3]) for _, (row, d, _) in out)
    assert decisions == [(0, ("keep", "", 0)), (1, ("reject", "unique_ids", "duplicate_id"))]
    # the kept copy counts its exact duplicates minus the same-id copy
    assert [d[3] for _, (_, d, _) in out if d[0] == "keep"] == [1]
    clash = [
        _stub("b", row=0, sha=b"1", describe="filings outer"),
        _stub("b", row=1, sha=b"2", describe="inner"),
    ]
    out = list(resolve_stubs(("b", {"doc": clash, "exact": [("b", 1, b"\x01".hex())]}), True, False))
    errors = [d for _, (_, d, _) in out if d[0] == "error"]
    assert [e[:3] for e in errors] == [("error", "unique_ids", "id_collision")]
    assert "filings outer" in errors[0][3] and "inner" in errors[0][3]


def test_resolve_stubs_domain_error_only_for_a_kept_document():
    failed = _stub("c", domain_error=("ValueError", "bad"))
    dup = list(resolve_stubs(("c", {"doc": [failed], "exact": [("z", 2, "01")]}), True, False))
    assert [d[:3] for _, (_, d, _) in dup] == [("reject", "exact_dedup", "exact_duplicate")]
    kept = list(resolve_stubs(("c", {"doc": [failed], "exact": [("c", 1, "01")]}), True, False))
    assert [d[:3] for _, (_, d, _) in kept] == [("error", "domain", "ValueError")]


def _old_chain(docs, run_dir, bp, dedup, domain, mix):
    with TestPipeline() as p:
        kept, _ = p | beam.Create(docs) | RemoveBoilerplate(bp)
        kept, _, _ = kept | Deduplicate.from_settings(dedup, with_errors=True)
        kept, _, _ = kept | ClassifyDomain(domain)
        kept, _ = kept | AssignDomainAndMix(SOURCE_DOMAINS, mix)
        _ = kept | WriteShards(run_dir, 7, "year")


def _new_phases(docs, run_dir, bp, dedup, domain, mix, width_log2=10):
    spill = str(Path(run_dir) / "_work")
    bp_cfg = bp.config() if hasattr(bp, "config") else BoilerplateConfig.from_settings(bp)
    dedup_s = DedupSettings.of(dedup)
    domain_cfg = DomainConfig.from_settings(domain)
    with TestPipeline() as p:
        spilled = (
            p
            | beam.Create(docs)
            | beam.ParDo(SpillDocsFn(spill, 9, 1 << 30, bp_cfg)).with_outputs("pkeys", "sketch", main="parts")
        )  # several parts
        keys = (spilled.sketch, spilled.pkeys) | BoilerplateKeySet(bp_cfg, 10, False)
        keyed = spilled.parts | beam.ParDo(
            KeysFn(
                spill,
                bp_cfg,
                domain_cfg,
                SOURCE_DOMAINS,
                dedup_s.minhash() if dedup_s.near.enabled else None,
                list(dedup_s.priority),
                dedup_s.exact,
                dedup_s.near.enabled and dedup_s.near.verify,
                "year",
                False,
            ),
            beam.pvalue.AsSingleton(keys),
        ).with_outputs("rejected", "sketch", "parts", main="stub_parts")
        exact, near = dedup_s.exact, dedup_s.near.enabled
        decided = {"stub_parts": keyed.stub_parts, "sketch": keyed.sketch} | DedupDecisions(
            Deduplicate.from_settings(dedup_s) if exact or near else None,
            exact,
            near,
            width_log2,
            False,
            near and dedup_s.near.verify,
        )
        mixture, sizes = decided | MixtureAndSizes(SOURCE_DOMAINS, MixSettings.of(mix))
        _ = (decided, mixture, sizes) | WriteDecided(
            run_dir, spill, domain_cfg, SOURCE_DOMAINS, 7, "year", False
        )


@pytest.mark.parametrize(
    "dedup, width_log2",
    [
        (
            {"exact": True, "near": {"threshold": 0.7}},
            10,
        ),  # a saturated key sketch: most documents candidates
        ({"exact": True, "near": {"threshold": 0.7}}, 22),  # a roomy one: most documents decided alone
        ({"exact": True, "near": {"threshold": 0.7, "verify": True}}, 22),
        ({"exact": False, "near": {"threshold": 0.7}}, 22),
        ({"exact": True, "near": False}, 22),
    ],
)
def test_phases_write_the_same_shards_as_the_stand_alone_transforms(tmp_path, dedup, width_log2):
    """Boilerplate (a footer in 20 pages), exact and near copies, a same-id copy, an id given to another text,
    domain, mix, shards by period: the same shards whichever dedup steps are on and however full the key
    sketch that sorts out the documents decided alone."""
    docs = corpus()
    bp = {"min_docs": 4}
    domain, mix = {}, {}
    _old_chain(docs, str(tmp_path / "old"), bp, dedup, domain, mix)
    _new_phases(docs, str(tmp_path / "new"), bp, dedup, domain, mix, width_log2)
    old = {
        Path(p).relative_to(tmp_path / "old"): Path(p).read_bytes()
        for p in glob.glob(str(tmp_path / "old/data/**/*.parquet"), recursive=True)
    }
    new = {
        Path(p).relative_to(tmp_path / "new"): Path(p).read_bytes()
        for p in glob.glob(str(tmp_path / "new/data/**/*.parquet"), recursive=True)
    }
    assert len(old) > 4  # several sources, periods and buckets
    assert old.keys() == new.keys()
    assert old == new


def test_count_min_sketch_never_undercounts_and_merges():
    import numpy as np

    from filters.sketch import CountMinSketch

    rng = np.random.default_rng(1)
    keys = rng.integers(0, 2**63, size=5000, dtype=np.uint64)
    a, b = CountMinSketch(10), CountMinSketch(10)  # 1,024 counters: many collisions on purpose
    for i in range(12):
        (a if i % 2 else b).add(keys[:50])  # 50 keys in 12 documents
    a.add(keys)  # 5,000 keys once more
    merged = a.merge(b)
    est = merged.estimate(keys)
    assert (est[:50] >= 13).all() and (est[50:] >= 1).all()  # upper bounds
    exact = CountMinSketch(22)
    exact.add(keys)
    assert (exact.estimate(keys) == 1).all()  # a wide sketch is exact here
    big = CountMinSketch(8)
    for _ in range(300):
        big.add(keys[:1])
    assert big.estimate(keys[:1])[0] == 255  # saturates instead of wrapping around


def test_write_shard_streams_row_groups_and_matches_encode_shard(tmp_path, monkeypatch):
    import hashlib

    import pyarrow.parquet as pq

    from pipeline import flow
    from pipeline.stages.write import encode_shard

    docs = sorted(corpus()[:40], key=lambda d: d.id)
    one = flow.write_shard(str(tmp_path / "one.parquet"), iter(docs))
    data = encode_shard(docs)
    assert (tmp_path / "one.parquet").read_bytes() == data  # one row group: the same bytes as before
    assert one["sha256"] == hashlib.sha256(data).hexdigest() and one["bytes"] == len(data)
    monkeypatch.setattr(flow, "SHARD_BATCH_ROWS", 3)  # a row group built from many Arrow batches
    batched = flow.write_shard(str(tmp_path / "batched.parquet"), iter(docs))
    assert pq.read_metadata(tmp_path / "batched.parquet").num_row_groups == 1
    assert batched["sha256"] == one["sha256"]
    monkeypatch.setattr(flow, "SHARD_GROUP_ROWS", 7)
    many = flow.write_shard(str(tmp_path / "many.parquet"), iter(docs))
    meta = pq.read_metadata(tmp_path / "many.parquet")
    assert meta.num_row_groups == 6 and many["rows"] == meta.num_rows == 40
    assert pq.read_table(tmp_path / "many.parquet").column("id").to_pylist() == [d.id for d in docs]


def test_count_min_sketch_travels_as_keys_while_sparse_and_merges_either_way():
    """A sketch that saw few keys pickles as its keys (a bundle's accumulator on Dataflow is not 3 x 2**w
    counters); sparse and dense sketches merge to the same estimates as one sketch that saw every key."""
    import pickle

    import numpy as np

    from filters.sketch import CountMinSketch

    rng = np.random.default_rng(2)
    keys = rng.integers(0, 2**63, size=3000, dtype=np.uint64)
    sparse = CountMinSketch(20)
    sparse.add(keys[:100])
    sparse.add(keys[:10])
    blob = pickle.dumps(sparse)
    assert len(blob) < 4096  # 110 keys, not 3 MB of counters
    dense = CountMinSketch(20)
    dense.add(keys)
    dense.estimate(keys[:1])  # flushed: dense now
    assert len(pickle.dumps(dense)) > 3 << 20
    one = CountMinSketch(20)
    one.add(keys)
    one.add(keys[:100])
    one.add(keys[:10])
    back = pickle.loads(blob)
    for merged in (
        pickle.loads(pickle.dumps(dense)).merge(back),
        back.merge(pickle.loads(pickle.dumps(dense))),
    ):
        assert (merged.estimate(keys) == one.estimate(keys)).all()
    assert (one.estimate(keys[:10]) >= 3).all()


def _entry(doc_id: str, exact: str, bands: list[bytes], row: int):
    from pipeline.flow import Entry

    stub = _stub(doc_id, part="keyed-x-00000", row=row, sha=doc_id.encode(), exact=bytes.fromhex(exact))
    return Entry(stub, exact, (0, 0.0, 0, 0, ""), 1, bands, None)


def test_triage_decides_lone_documents_in_place_and_sends_only_candidates_on(tmp_path):
    """Documents that share no id, exact key or band key with another go on as one rows array per part (a few
    bytes each); a shared id, exact key or band key makes both documents candidates, with all their keys."""
    import hashlib

    import numpy as np
    from apache_beam import pvalue

    from filters.sketch import CountMinSketch
    from pipeline.flow import TriageFn, entry_sketch_keys

    def key(i):  # exact keys are SHA-1 hex digests
        return hashlib.sha1(str(i).encode()).hexdigest()

    entries = [_entry(f"u{i}", key(i), [bytes([0, i % 9]) + i.to_bytes(8, "little")], i) for i in range(50)]
    entries += [
        _entry("u7", key("other"), [b"\x00\x01" + b"z" * 8], 50),  # id u7 again, other text
        _entry("e1", key(3), [b"\x00\x02" + b"y" * 8], 51),  # u3's exact key
        _entry("n1", key("n1"), [bytes([0, 4]) + (4).to_bytes(8, "little")], 52),  # u4's band key
    ]
    writer = SpillWriter(str(tmp_path), "stubs")
    sketch = CountMinSketch(20)
    for entry in entries:
        writer.add(entry)
        sketch.add(entry_sketch_keys(entry))
    path = writer.close()
    out = list(TriageFn(exact=True, near=True, verify=False, delete=False).process(path, sketch))
    main = [o for o in out if not isinstance(o, pvalue.TaggedOutput)]
    tagged = {}
    for o in out:
        if isinstance(o, pvalue.TaggedOutput):
            tagged.setdefault(o.tag, []).append(o.value)
    assert sorted(doc_id for doc_id, _ in main) == ["e1", "n1", "u3", "u4", "u7", "u7"]
    assert sorted(doc_id for _, (_, doc_id) in tagged["exact"]) == ["e1", "n1", "u3", "u4", "u7", "u7"]
    assert sorted(doc_id for doc_id, _ in tagged["bands"]) == ["n1", "u4"]  # only they share a band key
    [(part, (rows, sizes))] = tagged["lone"]
    assert part == "keyed-x-00000" and len(rows) == 47 and 3 not in rows and 52 not in rows
    assert (sizes == 1).all() and rows.dtype == np.int64  # near on: each its own cluster of one
    assert sum(n for _, n in tagged["tokens"]) == 47 * 5
    assert "decided" not in tagged


def test_merge_pieces_bounds_its_fan_in_and_loses_nothing(tmp_path):
    """A shard of a big corpus gets one piece from every part: they are merged at most ``fan_in`` at a time
    (intermediate pieces deleted once read), and the result is the same id-sorted stream."""
    from pipeline import flow

    docs = corpus()[:40]
    pieces = []
    for k in range(10):  # 10 id-sorted pieces, interleaved ids
        writer = SpillWriter(str(tmp_path), "piece", 1 << 30, 1 << 30)
        for doc in sorted(docs[k::10], key=lambda d: d.id):
            writer.add(doc)
        pieces.append(writer.close())
    merged = list(flow.merge_pieces(pieces, str(tmp_path), delete=False, fan_in=3))
    assert [d.id for d in merged] == sorted(d.id for d in docs)
    assert [d.text for d in merged] == [d.text for d in sorted(docs, key=lambda d: d.id)]
    assert sorted(glob.glob(str(tmp_path / "*.spill"))) == sorted(pieces)  # only the inputs are left


def test_count_min_sketch_width_follows_the_keys_seen():
    """width_log2=None: the width is chosen from the keys actually counted (not guessed from input bytes);
    accumulators merged sparse choose it from their total, and one that outgrew the largest table fixes it."""
    import pickle

    import numpy as np

    from filters.sketch import CountMinSketch

    rng = np.random.default_rng(3)
    keys = rng.integers(0, 2**63, size=200_000, dtype=np.uint64)
    small = CountMinSketch(None, counters_per_key=4, lo_log2=10, hi_log2=22)
    small.add(keys[:1000])
    small.estimate(keys[:1])
    assert small.width_log2 == 12  # 4,000 counters wanted -> 2**12
    parts = [CountMinSketch(None, counters_per_key=4, lo_log2=10, hi_log2=22) for _ in range(4)]
    for i, part in enumerate(parts):
        part.add(keys[i * 50_000 : (i + 1) * 50_000])
    merged = pickle.loads(pickle.dumps(parts[0]))
    for part in parts[1:]:
        merged.merge(pickle.loads(pickle.dumps(part)))
    merged.estimate(keys[:1])
    assert merged.width_log2 == 20  # 800,000 counters wanted, from all four
    assert (merged.estimate(keys) >= 1).all()
    big = CountMinSketch(
        None, counters_per_key=4, lo_log2=10, hi_log2=14
    )  # 3 x 16 KB: outgrown at 6,144 keys
    big.add(keys[:10_000])
    assert big.counts is not None and big.width_log2 == 14
    late = CountMinSketch(None, counters_per_key=4, lo_log2=10, hi_log2=14)
    late.add(keys[10_000:10_100])
    late.merge(big)  # an undecided sparse one takes the dense one's width
    assert late.width_log2 == 14 and (late.estimate(keys[:10_100]) >= 1).all()


def test_intermediate_merge_pieces_roll_into_bounded_parts(tmp_path):
    """An intermediate merge of a big shard is written as consecutive parts of ``part_bytes`` (a writer holds
    its current part in memory, so an unrolled intermediate piece held a shard's worth) and read back as one
    stream: same documents in the same order, every intermediate part deleted once read."""
    from pipeline import flow

    docs = corpus()[:40]
    pieces = []
    for k in range(10):
        writer = SpillWriter(str(tmp_path), "piece", 1 << 30, 1 << 30)
        for doc in sorted(docs[k::10], key=lambda d: d.id):
            writer.add(doc)
        pieces.append(writer.close())
    stream = flow.merge_pieces(pieces, str(tmp_path), delete=False, fan_in=3, part_bytes=2_000)
    first = next(stream)
    intermediate = glob.glob(str(tmp_path / "merged-*.spill"))
    assert len(intermediate) > 4  # 4 groups of at most 3 pieces, each rolled into several parts
    merged = [first, *stream]
    assert [d.id for d in merged] == sorted(d.id for d in docs)
    assert [d.text for d in merged] == [d.text for d in sorted(docs, key=lambda d: d.id)]
    assert sorted(glob.glob(str(tmp_path / "*.spill"))) == sorted(pieces)  # only the inputs are left


def test_count_min_sketch_flushes_in_steps_and_compacts_its_pending_keys(monkeypatch):
    """A sparse sketch of many keys goes dense FLUSH_KEYS keys at a time (at once, its temporaries were ~5 x 8
    bytes a key: ~250 MB for the 5.5M paragraph keys of 100k documents), and joins its pending per-document
    arrays every COMPACT_ARRAYS: the counters are those of one flush of everything, saturation included."""
    import numpy as np

    import filters.sketch as sketch_module
    from filters.sketch import CountMinSketch

    rng = np.random.default_rng(3)
    docs = [rng.integers(0, 3000, size=rng.integers(1, 40), dtype=np.uint64) for _ in range(2000)]
    docs += [np.full(5, 7, dtype=np.uint64)] * 300  # one key past the 255 saturation
    one = CountMinSketch(12)
    one._pending = list(docs)
    one._n_pending = sum(map(len, docs))
    one.flush()  # everything in one step (FLUSH_KEYS is far above the total)
    monkeypatch.setattr(sketch_module, "FLUSH_KEYS", 1000)
    monkeypatch.setattr(sketch_module, "COMPACT_ARRAYS", 64)
    stepped = CountMinSketch(12)
    stepped._pending = list(docs)
    stepped._n_pending = sum(map(len, docs))
    seen = []
    real_count = stepped._count
    monkeypatch.setattr(
        stepped, "_count", lambda counts, keys: (seen.append(len(keys)), real_count(counts, keys))
    )
    stepped.flush()
    assert len(seen) > 10 and max(seen) < 1000 + 40
    assert np.array_equal(stepped.counts, one.counts)
    assert one.estimate(np.array([7], dtype=np.uint64))[0] == 255
    compacted = CountMinSketch(None, lo_log2=10, hi_log2=20)
    for keys in docs:
        compacted.add(keys)
    assert compacted.counts is None and len(compacted._pending) < 2300 / 64 + 64
    assert compacted._n_pending == sum(map(len, docs))
    restored = pickle.loads(pickle.dumps(compacted))  # travels as its keys: all of them
    assert restored._n_pending == compacted._n_pending
    monkeypatch.setattr(sketch_module, "COMPACT_ARRAYS", 1 << 30)
    plain = CountMinSketch(None, lo_log2=10, hi_log2=20)
    for keys in docs:
        plain.add(keys)
    probe = np.arange(3000, dtype=np.uint64)
    assert np.array_equal(compacted.estimate(probe), plain.estimate(probe))
    # restored from its pickle, a sparse sketch holds all its keys as one array: still counted in slices
    whole = restored
    assert len(whole._pending) == 1 and whole._n_pending > 10 * 1000
    sizes = []
    real = whole._count
    monkeypatch.setattr(whole, "_count", lambda counts, keys: (sizes.append(len(keys)), real(counts, keys)))
    assert np.array_equal(whole.estimate(probe), plain.estimate(probe))
    assert len(sizes) > 10 and max(sizes) <= 1000
