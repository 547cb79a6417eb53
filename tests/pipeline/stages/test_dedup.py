"""Deduplicate (and its ExactDeduplicate / NearDeduplicate forms): connected-components cores, Beam transforms, agreement with a
single-machine datasketch reference, determinism across running modes, cross-source collapse."""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path

import apache_beam as beam
import datasketch
import numpy as np
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from core.schema import Document
from filters.dedup import MinHashConfig, shingles
from pipeline.runner import choose_runner
from pipeline.stages.dedup import (
    ConnectedComponents,
    Deduplicate,
    ExactDeduplicate,
    NearDeduplicate,
    bucket_edges,
    classify_node,
    large_star,
    rank,
    set_jaccard,
    shingle_set,
    small_star,
    union_find_labels,
)

PRIORITY = ["filings", "press", "news", "web", "social", "wikipedia", "c4"]
CFG = MinHashConfig()


def counter_value(result, name: str) -> int:
    found = result.metrics().query(MetricsFilter().with_name(name))["counters"]
    return sum(c.committed for c in found)


def words(rng: random.Random, n: int) -> list[str]:
    return [f"w{rng.randrange(5000)}" for _ in range(n)]


def edited(rng: random.Random, text: str, n_edits: int) -> str:
    """``text`` with ``n_edits`` random single-word substitutions, insertions or deletions."""
    toks = text.split()
    for _ in range(n_edits):
        i = rng.randrange(len(toks))
        op = rng.choice("sid")
        if op == "s":
            toks[i] = f"x{rng.randrange(10**6)}"
        elif op == "i":
            toks.insert(i, f"y{rng.randrange(10**6)}")
        elif len(toks) > 10:
            del toks[i]
    return " ".join(toks)


def make_corpus(seed: int = 7, clusters: int = 25, singles: int = 40) -> list[Document]:
    """Clusters of near-duplicates (few edits: Jaccard well above 0.8, plus some borderline copies) and
    unrelated singletons, across sources."""
    rng = random.Random(seed)
    docs = []
    sources = ["press", "news", "web", "social"]
    for c in range(clusters):
        base = " ".join(words(rng, 300))
        for k in range(rng.randint(1, 5)):
            text = base if k == 0 else edited(rng, base, rng.choice([1, 2, 4, 8, 15]))
            docs.append(
                Document(
                    id=f"c{c:02d}-{k}",
                    text=text,
                    source=rng.choice(sources),
                    quality_score=round(rng.random(), 3),
                    n_chars=len(text),
                )
            )
    for s in range(singles):
        text = " ".join(words(rng, rng.randint(50, 400)))
        docs.append(Document(id=f"s{s:03d}", text=text, source="web", n_chars=len(text)))
    return docs


def node(i: int):
    return ((0, 0, 0.0, 0, f"{i:04d}"), f"{i:04d}", 1)


# ---------------------------------------------------------------- pure cores


def test_large_and_small_star():
    n = [node(i) for i in range(6)]
    # Large-star at n[2] with neighbours 1, 4, 5: larger neighbours go to min(closed nbhd) = n[1].
    assert sorted(large_star((n[2], [n[1], n[4], n[5], n[4]]))) == [(n[1], n[4]), (n[1], n[5])]
    assert list(large_star((n[4], [n[2]]))) == []  # no larger neighbour: nothing
    # Small-star at n[5] with smaller neighbours 2, 3: 3 and 5 go to 2.
    assert sorted(small_star((n[5], [n[3], n[2]]))) == [(n[2], n[3]), (n[2], n[5])]


def test_classify_node():
    n = [node(i) for i in range(4)]
    tags = lambda out: sorted((o.tag, o.value) for o in out)  # noqa: E731
    assert tags(classify_node((n[0], [n[1], n[2]]))) == [("base", (n[0], n[0])), ("root", (n[0], True))]
    assert tags(classify_node((n[2], [n[0]]))) == [("claim", (n[0], n[2]))]
    # Two parents: residual edges to both.
    assert tags(classify_node((n[3], [n[0], n[1]]))) == [
        ("base", (n[3], n[3])),
        ("residual", (n[0], n[3])),
        ("residual", (n[1], n[3])),
    ]


def test_bucket_edges_is_a_star_to_the_best_member():
    n = [node(i) for i in range(5)]
    assert sorted(bucket_edges([n[3], n[1], n[4], n[2]])) == [(n[1], n[2]), (n[1], n[3]), (n[1], n[4])]
    assert list(bucket_edges([n[0]])) == []


def test_union_find_labels_and_bound():
    n = [node(i) for i in range(6)]
    labels = union_find_labels([(n[4], n[5]), (n[3], n[5]), (n[1], n[2])])
    assert labels == {n[3]: n[3], n[4]: n[3], n[5]: n[3], n[1]: n[1], n[2]: n[1]}
    with pytest.raises(RuntimeError, match="cc_rounds"):
        union_find_labels([(n[0], n[1]), (n[1], n[2])], max_edges=1)


def test_set_jaccard_matches_python_sets():
    a = shingle_set(Document(id="a", text="one two three four five six seven eight", source="web"), CFG)
    b = shingle_set(Document(id="b", text="one two three four five six nine ten", source="web"), CFG)
    ref = len(set(a.tolist()) & set(b.tolist())) / len(set(a.tolist()) | set(b.tolist()))
    assert set_jaccard(a, b) == pytest.approx(ref) and 0 < ref < 1
    assert set_jaccard(a, a) == 1.0
    assert set_jaccard(np.array([], np.uint32), np.array([], np.uint32)) == 1.0


# ---------------------------------------------------------------- connected components in Beam


def reference_labels(edges) -> dict:
    return union_find_labels(edges)


def random_graph(seed: int, n_nodes: int, n_edges: int):
    rng = random.Random(seed)
    nodes = [node(i) for i in range(n_nodes)]
    edges = set()
    while len(edges) < n_edges:
        a, b = rng.sample(nodes, 2)
        edges.add((min(a, b), max(a, b)))
    return sorted(edges)


@pytest.mark.parametrize(
    ("edges", "rounds", "unconverged"),
    [
        (random_graph(1, 120, 110), 12, False),  # forest-like graph with many components
        ([(node(i), node(i + 1)) for i in range(200)][::-1], 12, False),  # a long path converges
        ([(node(2 * i % 61), node((2 * i + 7) % 61)) for i in range(61)], 1, True),  # 1 round: residual
    ],
)
def test_connected_components_equal_union_find(edges, rounds, unconverged):
    edges = [(min(a, b), max(a, b)) for a, b in edges if a != b]
    expected = sorted(reference_labels(edges).items())
    p = TestPipeline()
    labels = p | beam.Create(edges) | ConnectedComponents(rounds)
    assert_that(labels, equal_to(expected))
    result = p.run()
    result.wait_until_finish()
    assert (counter_value(result, "near_dedup:cc_unconverged") > 0) is unconverged


# ---------------------------------------------------------------- transforms


def run_near(docs, argv: list[str] | None = None, **kwargs):
    """Run NearDeduplicate on the FnApiRunner; returns (kept [(id, cluster, size)], rejected [(id,
    duplicate_of, reason)], result). Outputs go through text files so that any running mode can be used."""
    options = PipelineOptions(argv or ["--direct_running_mode=in_memory"])
    runner, _ = choose_runner(options)
    with tempfile.TemporaryDirectory() as tmp:
        p = beam.Pipeline(runner=runner, options=options)
        kept, rejected = p | beam.Create(docs) | NearDeduplicate(CFG, PRIORITY, **kwargs)
        rows = (
            kept
            | "K" >> beam.Map(lambda d: json.dumps(["kept", d.id, d.dedup_cluster, d.dedup_cluster_size])),
            rejected
            | "R" >> beam.Map(lambda r: json.dumps(["rejected", r.document.id, r.duplicate_of, r.reason])),
        ) | beam.Flatten()
        rows | beam.io.WriteToText(str(Path(tmp) / "out"))
        result = p.run()
        result.wait_until_finish()
        lines = [
            json.loads(line) for path in Path(tmp).glob("out*") for line in path.read_text().splitlines()
        ]
    kept_rows = sorted(tuple(r[1:]) for r in lines if r[0] == "kept")
    rejected_rows = sorted(tuple(r[1:]) for r in lines if r[0] == "rejected")
    return kept_rows, rejected_rows, result


def test_near_dedup_keeps_best_and_counts():
    rng = random.Random(3)
    base = " ".join(words(rng, 400))
    docs = [
        Document(id="web1", text=base, source="web", quality_score=0.9, n_chars=len(base)),
        Document(id="news1", text=edited(rng, base, 2), source="news", quality_score=0.1, n_chars=10),
        Document(
            id="news2",
            text=edited(rng, base, 3),
            source="news",
            quality_score=0.5,
            n_chars=10,
            metadata={"exact_duplicates": "2"},
        ),
        Document(id="other", text=" ".join(words(rng, 400)), source="press", n_chars=5),
    ]
    kept, rejected, result = run_near(docs)
    assert kept == [("news2", "news2", 5), ("other", "other", 1)]  # 1 + 1 + (1 + 2 exact duplicates)
    assert rejected == [("news1", "news2", "near_duplicate"), ("web1", "news2", "near_duplicate")]
    assert counter_value(result, "near_dedup:kept") == 2
    assert counter_value(result, "near_dedup:dropped:near_duplicate") == 2
    assert counter_value(result, "near_dedup:cc_unconverged") == 0


def test_verification_removes_pairs_below_the_verify_threshold():
    rng = random.Random(5)
    base = " ".join(words(rng, 400))
    copy = edited(rng, base, 6)  # ~0.85-0.9 Jaccard on 5-grams: an LSH candidate at 0.8
    a = Document(id="a", text=base, source="web", n_chars=100)  # equal rank but for the id: "a" is kept
    b = Document(id="b", text=copy, source="web", n_chars=100)
    true_j = set_jaccard(shingle_set(a, CFG), shingle_set(b, CFG))
    assert 0.8 < true_j < 0.97
    kept, rejected, result = run_near([a, b], verify=True)
    assert [k[0] for k in kept] == ["a"] and rejected == [("b", "a", "near_duplicate")]
    assert counter_value(result, "near_dedup:verify_kept") == 1
    kept, rejected, result = run_near([a, b], verify=True, verify_threshold=0.97)
    assert [k[0] for k in kept] == ["a", "b"] and rejected == []
    assert counter_value(result, "near_dedup:verify_rejected") == 1


def test_big_buckets_are_counted():
    text = " ".join(words(random.Random(9), 200))
    docs = [Document(id=f"d{i:02d}", text=text, source="web", n_chars=len(text)) for i in range(12)]
    kept, rejected, result = run_near(docs, big_bucket=10)
    assert kept == [("d00", "d00", 12)] and len(rejected) == 11
    assert counter_value(result, "near_dedup:big_buckets") == CFG.bands  # every band is one big bucket


def test_exact_dedup():
    docs = [
        Document(id="a", text="Hello, World!", source="web", n_chars=13),
        Document(id="b", text="hello world", source="press", n_chars=11),
        Document(id="c", text="something else", source="web", n_chars=14),
    ]
    p = TestPipeline()
    kept, rejected = p | beam.Create(docs) | ExactDeduplicate(PRIORITY)
    assert_that(
        kept | "K" >> beam.Map(lambda d: (d.id, d.metadata.get("exact_duplicates"))),
        equal_to([("b", "1"), ("c", None)]),
        label="Kept",
    )
    assert_that(
        rejected | "R" >> beam.Map(lambda r: (r.document.id, r.duplicate_of, r.reason)),
        equal_to([("a", "b", "exact_duplicate")]),
        label="Rejected",
    )
    result = p.run()
    result.wait_until_finish()
    assert counter_value(result, "exact_dedup:dropped:exact_duplicate") == 1


# ---------------------------------------------------------------- agreement with a single-machine reference


def datasketch_clusters(docs: list[Document], cfg: MinHashConfig) -> set[frozenset[str]]:
    """datasketch MinHashLSH (same bands/rows, same shingle hashes) + union-find: clusters of >= 2 ids."""
    lsh = datasketch.MinHashLSH(num_perm=cfg.num_perm, params=(cfg.bands, cfg.rows))
    sigs = {}
    for doc in docs:
        m = datasketch.MinHash(num_perm=cfg.num_perm, seed=cfg.seed, hashfunc=lambda x: x)
        m.update_batch([int(h) for h in shingles(doc.text, cfg)])
        sigs[doc.id] = m
        lsh.insert(doc.id, m)
    parent = {d.id: d.id for d in docs}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for doc in docs:
        for other in lsh.query(sigs[doc.id]):
            parent[find(other)] = find(doc.id)
    groups: dict[str, set[str]] = {}
    for d in docs:
        groups.setdefault(find(d.id), set()).add(d.id)
    return {frozenset(g) for g in groups.values() if len(g) > 1}


def test_agreement_with_datasketch_lsh_union_find():
    docs = make_corpus()
    kept, rejected, _ = run_near(docs)
    ours: dict[str, set[str]] = {}
    for doc_id, duplicate_of, _ in rejected:
        ours.setdefault(duplicate_of, {duplicate_of}).add(doc_id)
    expected = datasketch_clusters(docs, CFG)
    assert len(expected) >= 10  # the corpus has real clusters, some copies fall out (borderline edits)
    assert {frozenset(g) for g in ours.values()} == expected
    sizes = {k[0]: k[2] for k in kept}
    for kept_id, members in ours.items():
        assert sizes[kept_id] == len(members)


# ---------------------------------------------------------------- determinism across running modes


def test_in_memory_and_multi_processing_agree():
    docs = make_corpus(seed=11, clusters=15, singles=15)
    a = run_near(docs, ["--direct_running_mode=in_memory"])
    b = run_near(docs, ["--direct_running_mode=multi_processing", "--direct_num_workers=2"])
    assert len(a[0]) + len(a[1]) == len(docs) and a[1]
    assert a[:2] == b[:2]


# ---------------------------------------------------------------- cross-source


PRESS_RELEASE = """ACME Corp Reports Record Third Quarter 2024 Results

SPRINGFIELD, Ill., Oct. 24, 2024 -- ACME Corp (NYSE: ACME) today reported net revenue of $1.42 billion for
the third quarter ended September 30, 2024, an increase of 12 percent compared with the prior-year quarter.
Diluted earnings per share were $2.31, up from $1.87 a year ago, driven by higher volumes in the industrial
segment and continued pricing discipline across all regions. Operating margin expanded 140 basis points to
18.6 percent. The company raised its full-year outlook and now expects revenue growth of 9 to 10 percent and
diluted earnings per share of $8.90 to $9.05. "Our teams delivered another quarter of strong execution,"
said Jane Doe, chief executive officer. "Demand for our core products remained robust, and we continued to
invest in capacity and innovation while returning $310 million to shareholders through dividends and share
repurchases." Cash flow from operations was $402 million, and free cash flow was $331 million. The board
declared a quarterly dividend of $0.62 per share, payable December 2, 2024, to shareholders of record on
November 8, 2024. ACME will host a conference call to discuss the results at 10 a.m. Eastern time today.
"""


def test_same_press_release_across_sources_collapses_to_the_filing_copy():
    exhibit = "EX-99.1\n" + PRESS_RELEASE + "\nExhibit 99.1 to Form 8-K filed by ACME Corp."
    wire = PRESS_RELEASE + "\nContact: Investor Relations, ACME Corp, ir@acme.example\nSource: ACME Corp"
    news = "By Staff Reporter\n" + PRESS_RELEASE.replace("today reported", "on Thursday reported")
    docs = [
        Document(id="news-1", text=news, source="news", quality_score=0.9, n_chars=len(news)),
        Document(id="wire-1", text=wire, source="press", quality_score=0.8, n_chars=len(wire)),
        Document(id="8k-ex99", text=exhibit, source="filings", quality_score=0.5, n_chars=len(exhibit)),
    ]
    kept, rejected, _ = run_near(docs)
    assert kept == [("8k-ex99", "8k-ex99", 3)]
    assert rejected == [("news-1", "8k-ex99", "near_duplicate"), ("wire-1", "8k-ex99", "near_duplicate")]


# ---------------------------------------------------------------- exact and near in one transform


def _run_dedup(docs, transforms) -> tuple[list, list]:
    """Apply ``transforms`` one after another on the FnApiRunner; (kept [(id, cluster, size, exact dups)],
    rejected [(id, duplicate_of, stage, reason)]), read back from text files."""
    options = PipelineOptions(["--direct_running_mode=in_memory"])
    runner, _ = choose_runner(options)
    with tempfile.TemporaryDirectory() as tmp:
        p = beam.Pipeline(runner=runner, options=options)
        pcoll = p | beam.Create(docs)
        rejected_all = []
        for i, transform in enumerate(transforms):
            pcoll, rejected = pcoll | f"Step{i}" >> transform
            rejected_all.append(rejected)
        kept_rows = pcoll | "K" >> beam.Map(
            lambda d: json.dumps(
                ["kept", d.id, d.dedup_cluster, d.dedup_cluster_size, d.metadata.get("exact_duplicates")]
            )
        )
        rejected_rows = (
            rejected_all
            | "AllRejected" >> beam.Flatten()
            | "R"
            >> beam.Map(lambda r: json.dumps(["rejected", r.document.id, r.duplicate_of, r.stage, r.reason]))
        )
        (kept_rows, rejected_rows) | beam.Flatten() | beam.io.WriteToText(str(Path(tmp) / "out"))
        p.run().wait_until_finish()
        lines = [
            json.loads(line) for path in Path(tmp).glob("out*") for line in path.read_text().splitlines()
        ]
    return (
        sorted(tuple(r[1:]) for r in lines if r[0] == "kept"),
        sorted(tuple(r[1:]) for r in lines if r[0] == "rejected"),
    )


def test_one_transform_equals_exact_then_near():
    """Deduplicate (one document join) gives what ExactDeduplicate followed by NearDeduplicate gives."""
    rng = random.Random(11)
    docs = []
    for i in range(6):
        base = " ".join(words(rng, 300))
        docs.append(Document(id=f"w{i}", text=base, source="web", quality_score=0.5, n_chars=len(base)))
        if i % 2 == 0:  # an exact copy (case and punctuation differ) and a near copy
            docs.append(Document(id=f"p{i}", text=base.upper() + "!", source="press", n_chars=len(base)))
            near = edited(rng, base, 3)
            docs.append(Document(id=f"n{i}", text=near, source="news", quality_score=0.2, n_chars=len(near)))
        if i == 1:  # an exact copy of a near copy: the cluster counts both
            near = edited(rng, base, 2)
            docs.append(Document(id="n1", text=near, source="news", n_chars=len(near)))
            docs.append(Document(id="s1", text=near + " ", source="social", n_chars=len(near) + 1))

    def outcome(transforms):
        import copy

        return _run_dedup(copy.deepcopy(docs), transforms)

    sequential = outcome([ExactDeduplicate(PRIORITY), NearDeduplicate(CFG, PRIORITY)])
    combined = outcome([Deduplicate(PRIORITY, CFG)])
    assert combined == sequential
    kept, rejected = combined
    assert {r[3] for r in rejected} == {"exact_duplicate", "near_duplicate"}
    # news outranks web and social: n1 stands for itself, its exact copy s1 and the page w1 it nearly copies
    assert ("n1", "n1", 3, "1") in kept
    assert ("s1", "n1", "exact_dedup", "exact_duplicate") in rejected
    assert ("w1", "n1", "near_dedup", "near_duplicate") in rejected
    assert len(kept) + len(rejected) == len(docs)


def test_from_settings_switches():
    both = Deduplicate.from_settings({"priority": PRIORITY})
    assert both._exact and both._cfg is not None
    exact_only = Deduplicate.from_settings({"near": False})
    assert exact_only._exact and exact_only._cfg is None
    near_only = Deduplicate.from_settings({"exact": False, "near": {"threshold": 0.6, "verify": True}})
    assert not near_only._exact and near_only._cfg.threshold == 0.6 and near_only._verify
    with pytest.raises(ValueError, match="exact=True or a MinHash"):
        Deduplicate(PRIORITY, None, exact=False)


# ---------------------------------------------------------------- ids unique in the output (issue 16 item 3)


def _text(seed: int) -> str:
    return " ".join(words(random.Random(seed), 80))


def _twice_and_collision() -> list[Document]:
    """The same file given twice (same id, same text) and one id given to two different documents."""
    return [
        Document(id="same", text=_text(1), source="web", url="file:///a.html"),
        Document(id="same", text=_text(1), source="web", url="file:///a.html"),
        Document(id="nested", text=_text(2), source="filings", url="https://sec/outer"),
        Document(
            id="nested",
            text=_text(3),
            source="filings",
            url="https://sec/inner",
        ),  # fmt: skip
        Document(id="other", text=_text(4), source="web"),
    ]


def test_resolve_id_collisions_rejects_copies_and_names_both_sides_of_a_clash():
    from pipeline.stages.dedup import resolve_id_collisions

    first, rejected, errors = resolve_id_collisions(_twice_and_collision()[:2])
    assert first.id == "same" and not errors
    assert [(r.stage, r.reason, r.duplicate_of) for r in rejected] == [("unique_ids", "duplicate_id", "same")]
    first, rejected, errors = resolve_id_collisions(_twice_and_collision()[2:4])
    assert not rejected and [e.kind for e in errors] == ["id_collision"]
    assert "https://sec/outer" in errors[0].message and "https://sec/inner" in errors[0].message
    # the kept one does not depend on arrival order
    assert resolve_id_collisions(_twice_and_collision()[3:1:-1])[0].url == first.url


@pytest.mark.parametrize(
    "make",
    [
        lambda: Deduplicate(PRIORITY, CFG, with_errors=True),
        lambda: __import__("pipeline.stages.dedup").stages.dedup.UniqueIds(),
    ],
)
def test_ids_are_unique_in_the_output(make):
    """The same file given twice left documents twice with one id; nested EDGAR blocks gave two documents one id."""
    with TestPipeline() as p:
        kept, rejected, errors = p | beam.Create(_twice_and_collision()) | make()
        assert_that(
            kept | "K" >> beam.Map(lambda d: d.id), equal_to(["same", "nested", "other"]), label="Kept"
        )
        assert_that(
            rejected | "R" >> beam.Map(lambda r: (r.document.id, r.reason)),
            equal_to([("same", "duplicate_id")]),
            label="Rejected",
        )
        assert_that(
            errors | "E" >> beam.Map(lambda e: (e.id, e.kind, e.stage)),
            equal_to([("nested", "id_collision", "unique_ids")]),
            label="Errors",
        )


def test_exact_dedup_keeps_the_canonical_page_over_its_syndicated_copy():
    text = (
        "Pellworth Instruments forecast upbeat 2024 revenue as chipmakers spend on advanced packaging. " * 20
    )
    original = Document(id="zz-reuters", text=text, source="news", quality_score=0.5, n_chars=len(text))
    copy = Document(
        id="aa-yahoo",
        text=text,
        source="press",  # a better source, a better score, the smaller id: it would win on every other count
        quality_score=0.9,
        n_chars=len(text),
        metadata={"canonical_url": "https://www.reuters.com/business/pellworth"},
    )
    assert rank(copy, PRIORITY) > rank(original, PRIORITY)
    p = TestPipeline()
    kept, rejected = p | beam.Create([copy, original]) | ExactDeduplicate(PRIORITY)
    assert_that(kept | "K" >> beam.Map(lambda d: d.id), equal_to(["zz-reuters"]), label="Kept")
    assert_that(
        rejected | "R" >> beam.Map(lambda r: (r.document.id, r.duplicate_of)),
        equal_to([("aa-yahoo", "zz-reuters")]),
        label="Rejected",
    )
    p.run().wait_until_finish()
