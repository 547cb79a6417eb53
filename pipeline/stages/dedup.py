"""Deduplicate: exact then near-duplicate removal as one Beam transform (ExactDeduplicate / NearDeduplicate: one half).

Only ids, ranks, keys and hashes are shuffled; whole documents move once, in the final keep/drop join.

Keep policy (deterministic on any runner and worker count): the document with the smallest *rank* wins, where
rank = (1 if the page names another page as canonical else 0, position of its source in ``dedup.priority``,
-quality score, -length, id). Dropped documents go to
rejected/ with reason ``exact_duplicate`` (stage ``exact_dedup``) / ``near_duplicate`` (stage ``near_dedup``)
and ``duplicate_of`` = the kept id. Kept documents carry ``exact_duplicates`` (metadata, when they had any),
``dedup_cluster`` (the kept id) and ``dedup_cluster_size`` (how many documents the cluster had in all, exact
duplicates included).

Steps, labelled as in the job graph:

1. ``DedupKeys``: each document is normalised once (``filters.dedup.normalize_for_exact``) for both its exact
   key (SHA-1 of the normalised text) and its MinHash over word n-grams -> LSH band keys (``filters.dedup``).
2. ``ExactDedup``: group by exact key; the best-ranked member of each group is kept: (member id, (kept id,
   group size)) for every document.
3. ``ExactSurvivors`` + ``BandNodes``: band keys of the exact survivors (joined by id with step 2: ids and
   keys only) become (band key, node), node = (rank, id, weight), weight = 1 + its exact duplicates.
4. ``NearDedup``: ``GroupBands`` + ``CandidateEdges``: a star from each bucket's best node to the other members
   (O(n) per bucket; buckets above ``dedup.big_bucket`` members are counted as ``near_dedup:big_buckets``);
   ``DistinctEdges`` drops pairs found in several bands. Optional ``Verify`` (``dedup.near.verify``): the true
   Jaccard of the two shingle sets must reach ``dedup.near.verify_threshold`` (default: the MinHash
   threshold). Cost: each document's sorted distinct 32-bit shingle hashes (4 bytes per distinct shingle,
   ~4 KB for a 1,000-word document) are shuffled twice, and then once more per candidate edge it is the first
   end of. Since buckets are stars, an edge failing verification is not retried against the bucket's other
   members: verification trades a little recall for precision. ``Components``: connected components by
   alternating large-star / small-star rounds (Kiveris et al. 2014), ``dedup.cc_rounds`` (default 12)
   unrolled, then a convergence check; an unconverged residual is counted (``near_dedup:cc_unconverged``)
   and solved exactly (see ``ConnectedComponents``). Component labels are component minima, i.e. the
   best-ranked document: that is the kept one. ``ClusterSizes`` sums the node weights per component.
5. ``JoinDecisions`` + ``KeepOrDrop``: documents keyed by id joined with their exact assignment and cluster:
   the only step that shuffles documents. It also makes ids unique in the output (``resolve_id_collisions``):
   a second copy of a document under the same id (the same file given twice) is rejected as
   ``unique_ids/duplicate_id``; a different document under an id already taken is an ``id_collision`` error
   naming both (with ``with_errors=True``; ``UniqueIds`` does the same for runs without dedup).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import apache_beam as beam
import numpy as np
from apache_beam import pvalue
from apache_beam.metrics import Metrics

from core.schema import Document, RecordError, Rejected
from filters.dedup import MinHashConfig, band_keys, exact_key, normalize_for_exact, shingles, signature
from pipeline.config import DedupSettings
from pipeline.stages.base import ERRORS, NAMESPACE, REJECTED, counter

Rank = tuple[int, int, float, int, str]
# A graph node: (rank, id, weight) where weight = documents it stands for (itself + its exact duplicates).
Node = tuple[Rank, str, int]

EXACT_STAGE = "exact_dedup"
NEAR_STAGE = "near_dedup"
EXACT_DUPS_KEY = "exact_duplicates"

DEFAULT_CC_ROUNDS = 12
DEFAULT_BIG_BUCKET = 1000
DEFAULT_MAX_RESIDUAL_EDGES = 5_000_000


def rank(doc: Document, priority: list[str]) -> Rank:
    """Sort key of the keep policy: smaller is better.

    A page that declares another page as its canonical one (``metadata["canonical_url"]``: a syndicated copy,
    e.g. Yahoo Finance republishing Reuters) ranks after every page that does not, so when the original is
    in the corpus its copy is the one dropped, whatever their sources, quality or lengths.
    """
    source_rank = priority.index(doc.source) if doc.source in priority else len(priority)
    syndicated = 1 if doc.metadata.get("canonical_url") else 0
    return (syndicated, source_rank, -round(float(doc.quality_score), 6), -doc.n_chars, doc.id)


def _weight(doc: Document) -> int:
    return 1 + int(doc.metadata.get(EXACT_DUPS_KEY, "0"))


# ---------------------------------------------------------------- exact


def pick_exact(
    members: Iterable[tuple[Rank, str]], key: Any = None
) -> Iterator[tuple[str, tuple[str, int, Any]]]:
    """For one exact-hash group: (member id, (kept id, group size, the group's key)) for every member."""
    ordered = sorted(members)
    kept_id = ordered[0][1]
    for _, member_id in ordered:
        yield member_id, (kept_id, len(ordered), key)


# ---------------------------------------------------------------- unique ids

ID_STAGE = "unique_ids"


def _describe(doc: Document) -> str:
    where = (
        doc.url or doc.metadata.get("file") or doc.metadata.get("filename") or doc.metadata.get("warc_file")
    )
    return f"{doc.source} {where or doc.title or '(no url)'}"


KEEP, REJECT, ERROR = "keep", "reject", "error"


class Copy(NamedTuple):
    """What the keep/drop decision needs of one document (``decide``): a few fields, not its text."""

    id: str
    text_sha1: str  # hex SHA-1 of the text: the same text twice or another one under one id
    url: str
    exact: str  # exact key (hex): which exact group the copy kept under a shared id belongs to
    weight: int  # 1 + exact duplicates noted upstream (used when exact dedup is off)
    describe: str  # "<source> <url|file|title>", for an id_collision message
    n_chars: int


def copy_of(doc: Document, with_exact: bool = True) -> Copy:
    """A Document's ``Copy`` (its exact key only ``with_exact``: it is needed only when an id is shared)."""
    return Copy(
        id=doc.id,
        text_sha1=hashlib.sha1(doc.text.encode("utf-8", "replace")).hexdigest(),
        url=doc.url,
        exact=exact_key(doc.text) if with_exact else "",
        weight=_weight(doc),
        describe=_describe(doc),
        n_chars=len(doc.text),
    )


def decide(
    copies: list[Copy], exact_entries: list[Any], clusters: list[Any], exact: bool, near: bool
) -> Iterator[tuple[int, tuple]]:
    """The keep/drop rules for the copies of one id, with their counters: (index in ``copies``, decision).

    The one decision core of both the stand-alone ``Deduplicate`` (documents) and the run's corpus-level
    phase (``pipeline.flow.resolve_stubs``: stubs). Ids are made unique first: copies are ordered by (text
    SHA-1, url), so which one is kept does not depend on arrival order; the same text again is rejected as
    ``duplicate_id``, another text under a taken id is an ``id_collision`` error naming both. Then the exact
    assignment (kept id, group size, key; a group of one when ``exact_entries`` is that) and the near cluster
    (kept id, cluster size; none: a cluster of its own). Decisions: (keep, cluster id, cluster size, exact
    duplicates), (reject, stage, reason, duplicate of), (error, stage, kind, message).
    """
    exact_entries = exact_entries if exact else []
    order = sorted(range(len(copies)), key=lambda i: (copies[i].text_sha1, copies[i].url))
    kept = copies[order[0]]
    same_id_dups = 0
    for i in order[1:]:
        other = copies[i]
        if other.text_sha1 == kept.text_sha1:
            counter(f"{ID_STAGE}:dropped:duplicate_id").inc()
            same_id_dups += 1
            yield i, (REJECT, ID_STAGE, "duplicate_id", kept.id)
        else:
            counter(f"{ID_STAGE}:errors:id_collision").inc()
            message = (
                f"id {other.id} is given to two different documents: {other.describe} ({other.n_chars} chars) "
                f"and {kept.describe} ({kept.n_chars} chars, kept)"
            )
            yield i, (ERROR, ID_STAGE, "id_collision", message)
    if len(copies) > 1 and len(exact_entries) > 1:  # the exact assignment of the kept content
        exact_entries = [e for e in exact_entries if e[2] == kept.exact] or exact_entries
    weight, exact_dups = 1, 0
    if exact:
        kept_id, weight = exact_entries[0][:2]
        weight -= same_id_dups
        if kept_id != kept.id:
            counter(f"{EXACT_STAGE}:dropped:exact_duplicate").inc()
            yield order[0], (REJECT, EXACT_STAGE, "exact_duplicate", kept_id)
            return
        exact_dups = weight - 1 if weight > 1 else 0
        counter(f"{EXACT_STAGE}:kept").inc()
    cluster, size = "", 0
    if near:
        if not exact:
            weight = kept.weight
        kept_id, size = clusters[0] if clusters else (kept.id, weight)
        if kept_id != kept.id:
            counter(f"{NEAR_STAGE}:dropped:near_duplicate").inc()
            yield order[0], (REJECT, NEAR_STAGE, "near_duplicate", kept_id)
            return
        cluster = kept_id
        counter(f"{NEAR_STAGE}:kept").inc()
    yield order[0], (KEEP, cluster, size, exact_dups)


def _decided_documents(
    docs: list[Document], exact_entries: list[Any], clusters: list[Any], exact: bool, near: bool
) -> Iterator[Any]:
    """``decide`` for documents: the kept one (main, with its cluster and exact-duplicate count), tagged
    Rejected and RecordErrors for the others."""
    copies = [copy_of(doc, with_exact=len(docs) > 1) for doc in docs]
    for i, decision in decide(copies, exact_entries, clusters, exact, near):
        doc, kind = docs[i], decision[0]
        if kind == REJECT:
            _, stage, reason, duplicate_of = decision
            yield pvalue.TaggedOutput(
                REJECTED, Rejected(stage=stage, reason=reason, document=doc, duplicate_of=duplicate_of)
            )
        elif kind == ERROR:
            _, stage, error_kind, message = decision
            yield pvalue.TaggedOutput(
                ERRORS,
                RecordError(
                    source=doc.source, stage=stage, kind=error_kind, message=message, id=doc.id, path=doc.url
                ),
            )
        else:
            _, cluster, size, exact_dups = decision
            if exact_dups:
                doc.metadata[EXACT_DUPS_KEY] = str(exact_dups)
            if cluster:
                doc.dedup_cluster, doc.dedup_cluster_size = cluster, size
            yield doc


def resolve_id_collisions(docs: list[Document]) -> tuple[Document, list[Rejected], list[RecordError]]:
    """Documents that share one id -> (the one kept, exact duplicates rejected, errors for different content)
    (``decide`` without dedup)."""
    kept, rejected, errors = None, [], []
    for item in _decided_documents(list(docs), [], [], False, False):
        if isinstance(item, Document):
            kept = item
        elif isinstance(item.value, Rejected):
            rejected.append(item.value)
        else:
            errors.append(item.value)
    assert kept is not None
    return kept, rejected, errors


class UniqueIds(beam.PTransform):
    """Documents -> (kept, rejected, errors) with every id once (for runs without dedup; Deduplicate does the
    same inside its document join)."""

    def expand(self, docs):
        out = (
            docs
            | "KeyById" >> beam.Map(lambda d: (d.id, d))
            | "GroupById" >> beam.GroupByKey()
            | "OnePerId"
            >> beam.FlatMap(lambda kv: _decided_documents(list(kv[1]), [], [], False, False)).with_outputs(
                REJECTED, ERRORS, main="kept"
            )
        )
        return out.kept, out[REJECTED], out[ERRORS]


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


def _resolve(element: tuple[str, dict[str, list[Any]]], exact: bool, near: bool) -> Iterator[Any]:
    """The keep/drop join: the documents of one id with their exact assignment and near-dup cluster."""
    _, grouped = element
    yield from _decided_documents(
        list(grouped["doc"]), grouped.get("exact", []), grouped.get("cluster", []), exact, near
    )


class _DedupKeys(beam.DoFn):
    """Document -> its exact key (main) and its LSH band keys (``bands``), from one text normalisation.

    main: (exact key, (rank, id)); ``bands``: (id, (rank, weight, [band keys])), weight from the document's
    ``exact_duplicates`` metadata (used when exact dedup is off); with ``verify``, ``shingles``:
    (id, sorted distinct shingle hashes as uint32).
    """

    def __init__(self, cfg: MinHashConfig | None, priority: list[str], exact: bool, verify: bool):
        self._cfg, self._priority, self._exact, self._verify = cfg, priority, exact, verify

    def process(self, doc: Document) -> Iterator[Any]:
        doc_rank = rank(doc, self._priority)
        norm = normalize_for_exact(doc.text)
        if self._exact:
            yield exact_key(doc.text, normalized=norm), (doc_rank, doc.id)
        if self._cfg is not None:
            hashes = shingles(doc.text, self._cfg, normalized=norm)
            yield pvalue.TaggedOutput(
                "bands",
                (doc.id, (doc_rank, _weight(doc), band_keys(signature(hashes, self._cfg), self._cfg))),
            )
            if self._verify:
                yield pvalue.TaggedOutput("shingles", (doc.id, np.unique(hashes).astype(np.uint32)))


def _band_nodes(element: tuple[str, dict[str, list[Any]]]) -> Iterator[tuple[bytes, Node]]:
    """(band key, node) for a document that survived exact dedup; its node weighs 1 + its exact duplicates."""
    doc_id, grouped = element
    kept_id, weight = grouped["exact"][0][:2]
    if grouped["bands"] and kept_id == doc_id:  # an exact duplicate is not a node of the graph
        doc_rank, _, keys = grouped["bands"][0]
        node: Node = (doc_rank, doc_id, weight)
        for key in keys:
            yield key, node


class Deduplicate(beam.PTransform):
    """Exact then near-duplicate removal, shuffling documents once; returns (kept, rejected).

    ``exact``: keep one document per normalised-text hash. ``minhash`` (None: no near dedup): MinHash LSH
    over the exact survivors, connected components computed in Beam (see the module docstring); ``verify``
    keeps only candidate edges whose true shingle Jaccard is >= ``verify_threshold`` (default: the MinHash
    threshold), ``big_bucket`` counts big buckets, ``cc_rounds`` and ``max_residual_edges``: see
    ``ConnectedComponents``. Each document is normalised once (exact key and shingles); only ids, ranks,
    keys and hashes are shuffled until the final keep/drop join.
    """

    def __init__(
        self,
        priority: list[str],
        minhash: MinHashConfig | None = None,
        *,
        exact: bool = True,
        cc_rounds: int = DEFAULT_CC_ROUNDS,
        verify: bool = False,
        verify_threshold: float | None = None,
        big_bucket: int = DEFAULT_BIG_BUCKET,
        max_residual_edges: int = DEFAULT_MAX_RESIDUAL_EDGES,
        with_errors: bool = False,
    ):
        super().__init__()
        self._with_errors = with_errors
        if not exact and minhash is None:
            raise ValueError("Deduplicate needs exact=True or a MinHash config (or both)")
        self._priority = list(priority)
        self._exact = exact
        self._cfg = minhash
        self._rounds = cc_rounds
        self._verify = verify
        self._verify_threshold = (
            (minhash.threshold if minhash else 0.0) if verify_threshold is None else verify_threshold
        )
        self._big_bucket = big_bucket
        self._max_residual = max_residual_edges

    @classmethod
    def from_settings(
        cls, settings: DedupSettings | dict[str, Any] | None, with_errors: bool = False
    ) -> Deduplicate:
        """From the typed ``dedup`` section (``exact``, ``near`` (``enabled: false``: off), ``priority``, ...)."""
        s = DedupSettings.of(settings)
        return cls(
            list(s.priority),
            s.minhash() if s.near.enabled else None,
            exact=s.exact,
            cc_rounds=s.cc_rounds,
            verify=s.near.verify,
            verify_threshold=s.near.verify_threshold,
            big_bucket=s.big_bucket,
            max_residual_edges=s.cc_max_residual_edges,
            with_errors=with_errors,
        )

    def near_clusters(self, shingles_pcoll) -> _NearClusters:
        """The near-dedup step alone: (band key, node) -> (member id, (kept id, cluster size))."""
        return _NearClusters(
            self._rounds,
            self._verify,
            self._verify_threshold,
            self._big_bucket,
            self._max_residual,
            shingles_pcoll,
        )

    def expand(self, docs):
        near = self._cfg is not None
        keys = docs | "DedupKeys" >> beam.ParDo(
            _DedupKeys(self._cfg, self._priority, self._exact, near and self._verify)
        ).with_outputs("bands", "shingles", main="exact")
        joined = {"doc": docs | "KeyById" >> beam.Map(lambda d: (d.id, d))}
        if self._exact:
            joined["exact"] = keys.exact | "ExactDedup" >> _ExactAssignments()
        if near:
            if self._exact:
                nodes = (
                    {"bands": keys.bands, "exact": joined["exact"]}
                    | "ExactSurvivors" >> beam.CoGroupByKey()
                    | "BandNodes" >> beam.FlatMap(_band_nodes)
                )
            else:
                nodes = keys.bands | "BandNodes" >> beam.FlatMap(
                    lambda kv: [(key, (kv[1][0], kv[0], kv[1][1])) for key in kv[1][2]]
                )
            joined["cluster"] = nodes | "NearDedup" >> _NearClusters(
                self._rounds,
                self._verify,
                self._verify_threshold,
                self._big_bucket,
                self._max_residual,
                keys.shingles,
            )
        out = (
            joined
            | "JoinDecisions" >> beam.CoGroupByKey()
            | "KeepOrDrop"
            >> beam.FlatMap(_resolve, self._exact, near).with_outputs(REJECTED, ERRORS, main="kept")
        )
        if (
            self._with_errors
        ):  # documents that shared an id with different content (see resolve_id_collisions)
            return out.kept, out[REJECTED], out[ERRORS]
        return out.kept, out[REJECTED]


class _ExactAssignments(beam.PTransform):
    """(exact key, (rank, id)) -> (member id, (kept id, group size)) for every document."""

    def expand(self, keyed):
        return (
            keyed
            | "GroupByHash" >> beam.GroupByKey()
            | "PickKept" >> beam.FlatMap(lambda kv: pick_exact(kv[1], kv[0]))
        )


class _NearClusters(beam.PTransform):
    """(band key, node) -> (member id, (kept id, cluster size)) for every document in a near-duplicate cluster."""

    def __init__(self, rounds, verify, verify_threshold, big_bucket, max_residual, shingles_pcoll):
        super().__init__()
        self._rounds, self._verify, self._verify_threshold = rounds, verify, verify_threshold
        self._big_bucket, self._max_residual, self._shingles = big_bucket, max_residual, shingles_pcoll

    def expand(self, band_nodes):
        big_bucket = self._big_bucket
        edges = (
            band_nodes
            | "GroupBands" >> beam.GroupByKey()
            | "CandidateEdges" >> beam.FlatMap(lambda kv: bucket_edges(kv[1], big_bucket))
            | "DistinctEdges" >> beam.Distinct()
        )
        if self._verify:
            half = (
                {"edge": edges | "KeyByFirst" >> beam.Map(lambda e: (e[0][1], e)), "shingles": self._shingles}
                | "JoinFirstShingles" >> beam.CoGroupByKey()
                | "KeyBySecond" >> beam.FlatMap(_with_shingles)
            )
            edges = (
                {"half": half, "shingles": self._shingles}
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
        return (
            {"member": members, "size": sizes}
            | "JoinSizes" >> beam.CoGroupByKey()
            | "ClusterMembers" >> beam.FlatMap(_cluster_members)
        )


def ExactDeduplicate(priority: list[str]) -> Deduplicate:  # noqa: N802 - a transform factory, named like one
    """Exact deduplication alone (``Deduplicate`` without MinHash)."""
    return Deduplicate(priority, None, exact=True)


def NearDeduplicate(
    minhash: MinHashConfig, priority: list[str], cc_rounds: int = DEFAULT_CC_ROUNDS, **kwargs: Any
) -> Deduplicate:  # noqa: N802
    """Near-duplicate removal alone (``Deduplicate`` without the exact step); keyword arguments as ``Deduplicate``."""
    return Deduplicate(priority, minhash, exact=False, cc_rounds=cc_rounds, **kwargs)


def minhash_config(settings: DedupSettings | dict[str, Any] | None) -> MinHashConfig:
    """The typed MinHash config from the ``dedup`` section."""
    return DedupSettings.of(settings).minhash()
