"""ExactDeduplicate and NearDeduplicate: corpus-level duplicate removal as Beam transforms.

Both shuffle only ids, ranks and hashes; whole documents move once, in the final keep/drop join.

Keep policy (deterministic on any runner and worker count): the document with the smallest *rank* wins, where
rank = (position of its source in ``dedup.priority``, -quality score, -length, id). Dropped documents go to
rejected/ with reason ``exact_duplicate`` / ``near_duplicate`` and ``duplicate_of`` = the kept id. Kept documents
carry ``dedup_cluster`` (the kept id) and ``dedup_cluster_size`` (how many documents the cluster had in all,
exact duplicates included).

Near-duplicates: MinHash signatures over word n-grams, LSH banding (bands/rows derived from the threshold by
datasketch's optimal-parameter search), candidate edges from shared buckets, then connected components by
min-label propagation, unrolled ``dedup.cc_rounds`` times in the graph; a counter reports any node whose label
still changed in the last round (then raise ``cc_rounds``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam import pvalue

from filters.dedup import MinHashConfig, band_keys, exact_key, shingles, signature
from pipeline.schema import Document, Rejected
from pipeline.stage import REJECTED, counter

Rank = tuple[int, float, int, str]
# A graph node: (rank, id, weight) where weight = documents it stands for (itself + its exact duplicates).
Node = tuple[Rank, str, int]

EXACT_STAGE = "exact_dedup"
NEAR_STAGE = "near_dedup"
EXACT_DUPS_KEY = "exact_duplicates"


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


# ---------------------------------------------------------------- near


def doc_band_keys(doc: Document, cfg: MinHashConfig) -> list[bytes]:
    """The pure core of the signature step: LSH band keys of one document."""
    return band_keys(signature(shingles(doc.text, cfg), cfg), cfg)


def bucket_edges(members: Iterable[Node]) -> Iterator[tuple[Node, Node]]:
    """Candidate edges of one LSH bucket: a star from every member to the bucket's best member."""
    ordered = sorted(set(members))
    for node in ordered[1:]:
        yield node, ordered[0]


def _both_directions(edge: tuple[Node, Node]) -> Iterator[tuple[str, Node]]:
    a, b = edge
    yield a[1], b
    yield b[1], a


def _propagate(element: tuple[str, dict[str, list[Any]]]) -> Iterator[tuple[str, Node]]:
    """One min-label round: every node sends its label to its neighbours (and keeps it)."""
    node_id, grouped = element
    labels = grouped["label"]
    if not labels:
        return
    label = labels[0]
    yield node_id, label
    for neighbour in grouped["adj"]:
        yield neighbour[1], label


def _changed(element: tuple[str, dict[str, list[Node]]]) -> Iterator[str]:
    _, grouped = element
    if grouped["old"] != grouped["new"]:
        counter(f"{NEAR_STAGE}:cc_unconverged").inc()
        yield element[0]


def _cluster_members(element: tuple[str, Iterable[tuple[str, int]]]) -> Iterator[tuple[str, tuple[str, int]]]:
    """For one component (keyed by its label id): (member id, (kept id, cluster size in documents))."""
    label_id, members = element
    members = list(members)
    size = sum(weight for _, weight in members)
    for member_id, _ in members:
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


class NearDeduplicate(beam.PTransform):
    """MinHash LSH near-duplicate removal with connected components computed in Beam."""

    def __init__(self, minhash: MinHashConfig, priority: list[str], cc_rounds: int = 8):
        super().__init__()
        self._cfg = minhash
        self._priority = list(priority)
        self._rounds = cc_rounds

    def expand(self, docs):
        cfg, priority = self._cfg, self._priority

        def node_and_keys(doc: Document) -> Iterator[tuple[bytes, Node]]:
            node: Node = (rank(doc, priority), doc.id, _weight(doc))
            for key in doc_band_keys(doc, cfg):
                yield key, node

        edges = (
            docs
            | "Signature" >> beam.FlatMap(node_and_keys)
            | "GroupBands" >> beam.GroupByKey()
            | "CandidateEdges" >> beam.FlatMap(lambda kv: bucket_edges(kv[1]))
            | "DistinctEdges" >> beam.Distinct()
        )
        adjacency = edges | "Adjacency" >> beam.FlatMap(_both_directions)
        # Initial label of each node: min over itself and its neighbours. A node's own tuple is the
        # neighbour entry of each of its neighbours, so send each node to itself as well.
        self_nodes = edges | "Nodes" >> beam.FlatMap(lambda e: [(e[0][1], e[0]), (e[1][1], e[1])])
        labels = (
            (adjacency, self_nodes)
            | "FlattenInit" >> beam.Flatten()
            | "InitLabels" >> beam.CombinePerKey(min)
        )
        previous = labels
        for i in range(self._rounds):
            previous = labels
            labels = (
                {"label": labels, "adj": adjacency}
                | f"Round{i}Join" >> beam.CoGroupByKey()
                | f"Round{i}Send" >> beam.FlatMap(_propagate)
                | f"Round{i}Min" >> beam.CombinePerKey(min)
            )
        _ = (
            {"old": previous, "new": labels}
            | "ConvergenceJoin" >> beam.CoGroupByKey()
            | "CheckConverged" >> beam.FlatMap(_changed)
        )
        # Nodes carry their own weight: (id, label) -> group by label id -> members with weights.
        weights = (
            self_nodes
            | "NodeWeights" >> beam.Map(lambda kv: (kv[0], kv[1][2]))
            | "OneWeight" >> beam.CombinePerKey(max)
        )
        clusters = (
            {"label": labels, "weight": weights}
            | "JoinWeights" >> beam.CoGroupByKey()
            | "ByLabel" >> beam.Map(lambda kv: (kv[1]["label"][0][1], (kv[0], kv[1]["weight"][0])))
            | "GroupClusters" >> beam.GroupByKey()
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
