"""ExactDeduplicate and NearDeduplicate: corpus-level duplicate removal as Beam transforms.

Both shuffle only ids, ranks and hashes; whole documents move once, in the final keep/drop join.

Keep policy (deterministic on any runner and worker count): the document with the smallest *rank* wins, where
rank = (position of its source in ``dedup.priority``, -quality score, -length, id). Dropped documents go to
rejected/ with reason ``exact_duplicate`` / ``near_duplicate`` and ``duplicate_of`` = the kept id. Kept documents
carry ``dedup_cluster`` (the kept id) and ``dedup_cluster_size`` (how many documents the cluster had in all,
exact duplicates included).

Near-duplicates (``NearDeduplicate``), one composite with labelled steps:

1. ``Signature``: MinHash over word n-grams -> LSH band keys (``filters.dedup``); each document emits
   (band key, node), node = (rank, id, weight).
2. ``GroupBands`` + ``CandidateEdges``: a star from each bucket's best node to the other members (O(n) per
   bucket; buckets above ``dedup.big_bucket`` members are counted as ``near_dedup:big_buckets``);
   ``DistinctEdges`` drops pairs found in several bands.
3. Optional ``Verify`` (``dedup.near.verify``): the true Jaccard of the two shingle sets must reach
   ``dedup.near.verify_threshold`` (default: the MinHash threshold). Cost: each document's sorted distinct
   32-bit shingle hashes (4 bytes per distinct shingle, ~4 KB for a 1,000-word document) are shuffled twice,
   and then once more per candidate edge it is the first end of (so 3 + edges x 4 KB extra bytes per
   duplicated document). Since buckets are stars, an edge failing verification is not retried against the
   bucket's other members: verification trades a little recall for precision.
4. ``Components``: connected components by alternating large-star / small-star rounds (Kiveris et al. 2014),
   ``dedup.cc_rounds`` (default 12) unrolled, then a convergence check; an unconverged residual is counted
   (``near_dedup:cc_unconverged``) and solved exactly (see ``ConnectedComponents``). Component labels are
   component minima, i.e. the best-ranked document: that is the kept one.
5. ``ClusterSizes`` (CombinePerKey of weights) and ``JoinClusters``/``KeepOrDrop``: the only step that
   shuffles documents.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
import numpy as np
from apache_beam import pvalue
from apache_beam.metrics import Metrics

from filters.dedup import MinHashConfig, band_keys, exact_key, shingles, signature
from pipeline.schema import Document, Rejected
from pipeline.stage import NAMESPACE, REJECTED, counter

Rank = tuple[int, float, int, str]
# A graph node: (rank, id, weight) where weight = documents it stands for (itself + its exact duplicates).
Node = tuple[Rank, str, int]

EXACT_STAGE = "exact_dedup"
NEAR_STAGE = "near_dedup"
EXACT_DUPS_KEY = "exact_duplicates"

DEFAULT_CC_ROUNDS = 12
DEFAULT_BIG_BUCKET = 1000
DEFAULT_MAX_RESIDUAL_EDGES = 5_000_000


def rank(doc: Document, priority: list[str]) -> Rank:
    """Sort key of the keep policy: smaller is better."""
    source_rank = priority.index(doc.source) if doc.source in priority else len(priority)
    return (source_rank, -round(float(doc.quality_score), 6), -doc.n_chars, doc.id)


def _weight(doc: Document) -> int:
    return 1 + int(doc.metadata.get(EXACT_DUPS_KEY, "0"))


# ---------------------------------------------------------------- exact


def pick_exact(members: Iterable[tuple[Rank, str]]) -> Iterator[tuple[str, tuple[str, int]]]:
    """For one exact-hash group: (member id, (kept id, group size)) for every member."""
    ordered = sorted(members)
    kept_id = ordered[0][1]
    for _, member_id in ordered:
        yield member_id, (kept_id, len(ordered))


def _resolve_exact(element: tuple[str, dict[str, list[Any]]]) -> Iterator[Any]:
    _, grouped = element
    for doc in grouped["doc"]:
        kept_id, size = grouped["assign"][0]
        if kept_id == doc.id:
            if size > 1:
                doc.metadata[EXACT_DUPS_KEY] = str(size - 1)
            counter(f"{EXACT_STAGE}:kept").inc()
            yield doc
        else:
            counter(f"{EXACT_STAGE}:dropped:exact_duplicate").inc()
            yield pvalue.TaggedOutput(
                REJECTED,
                Rejected(stage=EXACT_STAGE, reason="exact_duplicate", document=doc, duplicate_of=kept_id),
            )


class ExactDeduplicate(beam.PTransform):
    """Keep one document per normalised-text hash (see ``filters.dedup.normalize_for_exact``)."""

    def __init__(self, priority: list[str]):
        super().__init__()
        self._priority = list(priority)

    def expand(self, docs):
        priority = self._priority
        by_id = docs | "KeyById" >> beam.Map(lambda d: (d.id, d))
        assignments = (
            docs
            | "HashText" >> beam.Map(lambda d: (exact_key(d.text), (rank(d, priority), d.id)))
            | "GroupByHash" >> beam.GroupByKey()
            | "PickKept" >> beam.FlatMap(lambda kv: pick_exact(kv[1]))
        )
        out = (
            {"doc": by_id, "assign": assignments}
            | "JoinAssignments" >> beam.CoGroupByKey()
            | "KeepOrDrop" >> beam.FlatMap(_resolve_exact).with_outputs(REJECTED, main="kept")
        )
        return out.kept, out[REJECTED]


# ---------------------------------------------------------------- near: candidate edges


def doc_band_keys(doc: Document, cfg: MinHashConfig) -> list[bytes]:
    """The pure core of the signature step: LSH band keys of one document."""
    return band_keys(signature(shingles(doc.text, cfg), cfg), cfg)


def shingle_set(doc: Document, cfg: MinHashConfig) -> np.ndarray:
    """Sorted distinct 32-bit shingle hashes of ``doc`` (what verification shuffles: 4 bytes per shingle)."""
    return np.unique(shingles(doc.text, cfg)).astype(np.uint32)


def set_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two sorted distinct hash arrays (``shingle_set``); 1.0 for two empty arrays."""
    if not len(a) and not len(b):
        return 1.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (len(a) + len(b) - inter)


def bucket_edges(members: Iterable[Node], big_bucket: int = 0) -> Iterator[tuple[Node, Node]]:
    """Candidate edges of one LSH bucket: a star from every member to the bucket's best (smallest) member.

    O(bucket size) edges and two passes over the (re-iterable) members; nothing is sorted or held, so a
    bucket shared by a million boilerplate pages costs a million edges, not 10**12. Buckets with more than
    ``big_bucket`` members (0: no limit) are counted as ``near_dedup:big_buckets``.
    """
    best = min(members)
    size = 0
    for node in members:
        size += 1
        if node != best:
            yield best, node
    if size > 1:
        Metrics.distribution(NAMESPACE, f"{NEAR_STAGE}:bucket_size").update(size)
    if big_bucket and size > big_bucket:
        counter(f"{NEAR_STAGE}:big_buckets").inc()


# ---------------------------------------------------------------- near: connected components
#
# Alternating large-star / small-star (Kiveris, Lattanzi, Mirrokni, Rastogi, Vassilvitskii, "Connected
# Components in MapReduce and Beyond", SoCC 2014). Nodes are totally ordered (Node tuples: the keep-policy
# rank first), edges are stored as (smaller, larger). Both operations keep the connected components and never
# add edges (each input edge yields at most one output edge); they converge to one star per component whose
# centre is the component's minimum, i.e. its best-ranked document, in O(log^2 n) rounds (Kiveris et al.,
# Theorem 3; in practice ~log n). Each round shuffles the current edge list once per operation: nodes only.


def large_star(element: tuple[Node, Iterable[Node]]) -> Iterator[tuple[Node, Node]]:
    """Large-star at node u: connect every larger neighbour to the minimum of u's closed neighbourhood."""
    u, neighbours = element
    nbrs = set(neighbours)
    m = min(min(nbrs), u)
    for v in nbrs:
        if v > u:
            yield m, v


def small_star(element: tuple[Node, Iterable[Node]]) -> Iterator[tuple[Node, Node]]:
    """Small-star at node u (grouped with its smaller neighbours): connect them and u to the smallest."""
    u, smaller = element
    nbrs = set(smaller)
    nbrs.add(u)
    m = min(nbrs)
    for v in nbrs:
        if v != m:
            yield m, v


ROOT, CLAIM, RESIDUAL, BASE = "root", "claim", "residual", "base"


def classify_node(element: tuple[Node, Iterable[Node]]) -> Iterator[Any]:
    """After the last round: is u a star centre (root), a star leaf (claims its parent) or residual?

    The graph has converged iff every node is a root or a leaf with one parent that is a root. Every edge is
    emitted exactly once, by its larger end: as a claim (resolved at the parent) or as a residual edge.
    """
    u, neighbours = element
    nbrs = set(neighbours)
    smaller = [v for v in nbrs if v < u]
    if not smaller:
        yield pvalue.TaggedOutput(ROOT, (u, True))
        yield pvalue.TaggedOutput(BASE, (u, u))
    elif len(smaller) == 1 and len(smaller) == len(nbrs):
        yield pvalue.TaggedOutput(CLAIM, (smaller[0], u))
    else:
        yield pvalue.TaggedOutput(BASE, (u, u))
        for v in smaller:
            yield pvalue.TaggedOutput(RESIDUAL, (v, u))


def resolve_claims(element: tuple[Node, dict[str, list[Any]]]) -> Iterator[Any]:
    """At a parent p: its leaves are settled (base label p) if p is a root, else their edges are residual."""
    p, grouped = element
    if grouped[ROOT]:
        for v in grouped[CLAIM]:
            yield pvalue.TaggedOutput(BASE, (v, p))
    else:
        for v in grouped[CLAIM]:
            yield pvalue.TaggedOutput(RESIDUAL, (p, v))
            yield pvalue.TaggedOutput(BASE, (v, p))  # the residual label of v overrides this


def union_find_labels(edges: Iterable[tuple[Node, Node]], max_edges: int = 0) -> dict[Node, Node]:
    """Every node of ``edges`` -> the smallest node of its connected component (single machine)."""
    parent: dict[Node, Node] = {}

    def find(x: Node) -> Node:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    for n, (a, b) in enumerate(edges, 1):
        if max_edges and n > max_edges:
            raise RuntimeError(
                f"near-dedup connected components did not converge: more than {max_edges} residual edges "
                "after the last round; raise dedup.cc_rounds (or dedup.cc_max_residual_edges)"
            )
        parent.setdefault(a, a)
        parent.setdefault(b, b)
        ra, rb = find(a), find(b)
        if ra != rb:
            if rb < ra:
                ra, rb = rb, ra
            parent[rb] = ra  # the smaller root wins: labels are component minima
    return {x: find(x) for x in parent}


def _residual_labels(element: tuple[None, Iterable[tuple[Node, Node]]], max_edges: int) -> Iterator[Any]:
    _, edges = element
    yield from union_find_labels(edges, max_edges).items()


def _final_label(element: tuple[Node, Node], residual: dict[Node, Node]) -> tuple[Node, Node]:
    node, base = element
    label = residual.get(node)
    if label is None:
        label = residual.get(base, base)
    return node, label


def _count_unconverged(edge: tuple[Node, Node]) -> tuple[None, tuple[Node, Node]]:
    counter(f"{NEAR_STAGE}:cc_unconverged").inc()
    return None, edge


class ConnectedComponents(beam.PTransform):
    """Edges (a, b) of Nodes -> (node, component minimum) for every node that has an edge.

    ``rounds`` large-star + small-star rounds are unrolled in the graph (Beam graphs are static). After the
    last round the graph is checked: if every component is a star the labels are read off it. Otherwise
    ``near_dedup:cc_unconverged`` counts the edges of the non-star part (the *residual*), and only those
    edges are gathered on one worker and solved by union-find; settled star leaves attach to their centre's
    label. The residual is empty for realistic LSH graphs with the default 12 rounds (a path of 4,096 nodes
    needs about 9); ``max_residual_edges`` bounds the gather and fails the run with a clear message above it.
    """

    def __init__(self, rounds: int = 12, max_residual_edges: int = 5_000_000):
        super().__init__()
        self._rounds = rounds
        self._max_residual = max_residual_edges

    def expand(self, edges):
        for i in range(self._rounds):
            edges = (
                edges
                | f"Round{i}LargeStarBoth" >> beam.FlatMap(lambda e: [(e[0], e[1]), (e[1], e[0])])
                | f"Round{i}LargeStarGroup" >> beam.GroupByKey()
                | f"Round{i}LargeStar" >> beam.FlatMap(large_star)
                | f"Round{i}SmallStarKey" >> beam.Map(lambda e: (e[1], e[0]))
                | f"Round{i}SmallStarGroup" >> beam.GroupByKey()
                | f"Round{i}SmallStar" >> beam.FlatMap(small_star)
            )
        status = (
            edges
            | "CheckBoth" >> beam.FlatMap(lambda e: [(e[0], e[1]), (e[1], e[0])])
            | "CheckGroup" >> beam.GroupByKey()
            | "Classify" >> beam.FlatMap(classify_node).with_outputs(ROOT, CLAIM, RESIDUAL, BASE)
        )
        claims = (
            {ROOT: status[ROOT], CLAIM: status[CLAIM]}
            | "JoinClaims" >> beam.CoGroupByKey()
            | "ResolveClaims" >> beam.FlatMap(resolve_claims).with_outputs(RESIDUAL, BASE)
        )
        residual = (
            (status[RESIDUAL], claims[RESIDUAL])
            | "ResidualEdges" >> beam.Flatten()
            | "CountUnconverged" >> beam.Map(_count_unconverged)
            | "GatherResidual" >> beam.GroupByKey()
            | "ResidualUnionFind" >> beam.FlatMap(_residual_labels, self._max_residual)
        )
        return (
            (status[BASE], claims[BASE])
            | "BaseLabels" >> beam.Flatten()
            | "FinalLabels" >> beam.Map(_final_label, residual=beam.pvalue.AsDict(residual))
        )


# ---------------------------------------------------------------- near: verification and keep/drop


def _with_shingles(element: tuple[str, dict[str, list[Any]]]) -> Iterator[Any]:
    """Edges keyed by their first end's id, joined with its shingles: re-key by the second end's id."""
    _, grouped = element
    if not grouped["shingles"]:
        return
    sh = grouped["shingles"][0]
    for edge in grouped["edge"]:
        yield edge[1][1], (edge, sh)


def _verify(element: tuple[str, dict[str, list[Any]]], threshold: float) -> Iterator[tuple[Node, Node]]:
    """Keep the candidate edges whose true shingle Jaccard reaches ``threshold``."""
    _, grouped = element
    if not grouped["shingles"]:
        return
    sh_b = grouped["shingles"][0]
    for edge, sh_a in grouped["half"]:
        if set_jaccard(sh_a, sh_b) >= threshold:
            counter(f"{NEAR_STAGE}:verify_kept").inc()
            yield edge
        else:
            counter(f"{NEAR_STAGE}:verify_rejected").inc()


def _cluster_members(element: tuple[str, dict[str, list[Any]]]) -> Iterator[tuple[str, tuple[str, int]]]:
    """For one component (keyed by its label id): (member id, (kept id, cluster size in documents))."""
    label_id, grouped = element
    size = grouped["size"][0]
    for member_id in grouped["member"]:  # iterated, not held: a component may be large
        yield member_id, (label_id, size)


def _resolve_near(element: tuple[str, dict[str, list[Any]]]) -> Iterator[Any]:
    _, grouped = element
    for doc in grouped["doc"]:
        if grouped["cluster"]:
            kept_id, size = grouped["cluster"][0]
        else:
            kept_id, size = doc.id, _weight(doc)
        if kept_id == doc.id:
            doc.dedup_cluster = kept_id
            doc.dedup_cluster_size = size
            counter(f"{NEAR_STAGE}:kept").inc()
            yield doc
        else:
            counter(f"{NEAR_STAGE}:dropped:near_duplicate").inc()
            yield pvalue.TaggedOutput(
                REJECTED,
                Rejected(stage=NEAR_STAGE, reason="near_duplicate", document=doc, duplicate_of=kept_id),
            )


class _Signature(beam.DoFn):
    """Document -> (band key, node) per band; with ``verify``, also (id, shingle set) on ``shingles``."""

    def __init__(self, cfg: MinHashConfig, priority: list[str], verify: bool):
        self._cfg, self._priority, self._verify = cfg, priority, verify

    def process(self, doc: Document) -> Iterator[Any]:
        cfg = self._cfg
        node: Node = (rank(doc, self._priority), doc.id, _weight(doc))
        hashes = shingles(doc.text, cfg)
        for key in band_keys(signature(hashes, cfg), cfg):
            yield key, node
        if self._verify:
            yield pvalue.TaggedOutput("shingles", (doc.id, np.unique(hashes).astype(np.uint32)))


class NearDeduplicate(beam.PTransform):
    """MinHash LSH near-duplicate removal with connected components computed in Beam; returns (kept, rejected).

    ``verify``: keep only candidate edges whose true shingle Jaccard is >= ``verify_threshold`` (default:
    the MinHash threshold). ``big_bucket``: buckets above this size are counted. ``cc_rounds`` and
    ``max_residual_edges``: see ``ConnectedComponents``.
    """

    def __init__(
        self,
        minhash: MinHashConfig,
        priority: list[str],
        cc_rounds: int = DEFAULT_CC_ROUNDS,
        *,
        verify: bool = False,
        verify_threshold: float | None = None,
        big_bucket: int = DEFAULT_BIG_BUCKET,
        max_residual_edges: int = DEFAULT_MAX_RESIDUAL_EDGES,
    ):
        super().__init__()
        self._cfg = minhash
        self._priority = list(priority)
        self._rounds = cc_rounds
        self._verify = verify
        self._verify_threshold = minhash.threshold if verify_threshold is None else verify_threshold
        self._big_bucket = big_bucket
        self._max_residual = max_residual_edges

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> NearDeduplicate:
        """From the ``dedup`` config section (``near.*``, ``priority``, ``cc_rounds``, ...)."""
        near = settings.get("near") or {}
        return cls(
            minhash_config(settings),
            list(settings.get("priority") or []),
            int(settings.get("cc_rounds", DEFAULT_CC_ROUNDS)),
            verify=bool(near.get("verify", False)),
            verify_threshold=near.get("verify_threshold"),
            big_bucket=int(settings.get("big_bucket", DEFAULT_BIG_BUCKET)),
            max_residual_edges=int(settings.get("cc_max_residual_edges", DEFAULT_MAX_RESIDUAL_EDGES)),
        )

    def expand(self, docs):
        sig = docs | "Signature" >> beam.ParDo(
            _Signature(self._cfg, self._priority, self._verify)
        ).with_outputs("shingles", main="bands")
        big_bucket = self._big_bucket
        edges = (
            sig.bands
            | "GroupBands" >> beam.GroupByKey()
            | "CandidateEdges" >> beam.FlatMap(lambda kv: bucket_edges(kv[1], big_bucket))
            | "DistinctEdges" >> beam.Distinct()
        )
        if self._verify:
            half = (
                {"edge": edges | "KeyByFirst" >> beam.Map(lambda e: (e[0][1], e)), "shingles": sig.shingles}
                | "JoinFirstShingles" >> beam.CoGroupByKey()
                | "KeyBySecond" >> beam.FlatMap(_with_shingles)
            )
            edges = (
                {"half": half, "shingles": sig.shingles}
                | "JoinSecondShingles" >> beam.CoGroupByKey()
                | "Verify" >> beam.FlatMap(_verify, self._verify_threshold)
            )
        labels = edges | "Components" >> ConnectedComponents(self._rounds, self._max_residual)
        sizes = (
            labels
            | "LabelWeights" >> beam.Map(lambda kv: (kv[1][1], kv[0][2]))
            | "ClusterSizes" >> beam.CombinePerKey(sum)
        )
        members = labels | "ByLabel" >> beam.Map(lambda kv: (kv[1][1], kv[0][1]))
        clusters = (
            {"member": members, "size": sizes}
            | "JoinSizes" >> beam.CoGroupByKey()
            | "ClusterMembers" >> beam.FlatMap(_cluster_members)
        )
        by_id = docs | "KeyById" >> beam.Map(lambda d: (d.id, d))
        out = (
            {"doc": by_id, "cluster": clusters}
            | "JoinClusters" >> beam.CoGroupByKey()
            | "KeepOrDrop" >> beam.FlatMap(_resolve_near).with_outputs(REJECTED, main="kept")
        )
        return out.kept, out[REJECTED]


def minhash_config(settings: dict[str, Any]) -> MinHashConfig:
    """The typed MinHash config from the ``dedup.near`` section."""
    near = settings.get("near") or {}
    return MinHashConfig(
        ngram=int(near.get("ngram", 5)),
        num_perm=int(near.get("num_perm", 128)),
        threshold=float(near.get("threshold", 0.8)),
        seed=int(near.get("seed", 1)),
    )
