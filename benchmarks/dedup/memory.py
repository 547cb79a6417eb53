"""Peak RSS of NearDeduplicate on the DirectRunner for growing corpora, and shuffle bytes per document.

Each size runs in its own subprocess (``ru_maxrss`` of that child = peak RSS of the run, interpreter and Beam
included). Documents: 300 words drawn from real text (Lee corpus), 10% of them near-duplicate copies.
Shuffle volume is estimated from pickled sizes of what each GroupByKey moves, measured on the first 1,000
documents: band keys + nodes, candidate edges (x 2 per star operation x 2 operations x cc_rounds + checks),
ids for the cluster join, and the document itself once (the final keep/drop join).

    python benchmarks/dedup/memory.py [--sizes 10000,50000] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

DATA = REPO.parent / "shared" / "data"
PRIORITY = ["filings", "press", "news", "web", "social", "wikipedia", "c4"]


def corpus(n: int, seed: int = 1):
    from core.schema import Document

    lee = DATA / "general" / "lee_background.cor"
    words = lee.read_text(encoding="utf-8").split() if lee.exists() else [f"w{i}" for i in range(50000)]
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        if i and rng.random() < 0.1:
            src = docs[rng.randrange(len(docs))].text.split()
            src[rng.randrange(len(src))] = "edited"
            text = " ".join(src)
        else:
            text = " ".join(rng.choice(words) for _ in range(300))
        docs.append(
            Document(
                id=f"d{i:07d}", text=text, source=rng.choice(["news", "web", "press"]), n_chars=len(text)
            )
        )
    return docs


def child(n: int) -> None:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from filters.dedup import MinHashConfig
    from pipeline.runner import choose_runner
    from pipeline.stages.dedup import NearDeduplicate

    docs = corpus(n)
    rss_input = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    options = PipelineOptions(["--direct_running_mode=in_memory"])
    runner, _ = choose_runner(options)
    started = time.time()
    with beam.Pipeline(runner=runner, options=options) as p:
        kept, rejected = p | beam.Create(docs, reshuffle=False) | NearDeduplicate(MinHashConfig(), PRIORITY)
        kept | "CountKept" >> beam.combiners.Count.Globally()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "docs": n,
                "seconds": round(time.time() - started, 1),
                "peak_rss_mb": round(peak / 1024),
                "input_rss_mb": round(rss_input / 1024),
            }
        )
    )


def shuffle_estimate(sample: int = 1000, rounds: int = 12) -> dict[str, float]:
    from filters.dedup import MinHashConfig
    from pipeline.stages.dedup import _weight, bucket_edges, doc_band_keys, rank

    cfg = MinHashConfig()
    docs = corpus(sample)
    buckets: dict[bytes, list] = {}
    band_bytes = 0
    for d in docs:
        node = (rank(d, PRIORITY), d.id, _weight(d))
        for key in doc_band_keys(d, cfg):
            band_bytes += len(pickle.dumps((key, node)))
            buckets.setdefault(key, []).append(node)
    edges = {e for members in buckets.values() for e in bucket_edges(members)}
    edge_bytes = sum(len(pickle.dumps(e)) for e in edges)
    # Per round: large-star shuffles both directions (2x), small-star one direction (1x); then check + claims.
    cc_bytes = edge_bytes * (3 * rounds + 3)
    join_ids = sum(len(pickle.dumps((d.id, (d.id, 1)))) for d in docs) * 3
    doc_bytes = sum(len(pickle.dumps((d.id, d))) for d in docs)
    per_doc = {
        "band_keys": band_bytes / sample,
        "edges_all_rounds": cc_bytes / sample,
        "cluster_ids": join_ids / sample,
        "documents_once": doc_bytes / sample,
    }
    per_doc["total_without_documents"] = (
        per_doc["band_keys"] + per_doc["edges_all_rounds"] + per_doc["cluster_ids"]
    )
    per_doc["edges_per_doc"] = len(edges) / sample
    return per_doc


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,50000")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child)
        return
    sizes = [500] if args.smoke else [int(s) for s in args.sizes.split(",")]
    est = shuffle_estimate(200 if args.smoke else 1000)
    print("shuffle bytes per document (pickled):", json.dumps({k: round(v, 1) for k, v in est.items()}))
    for n in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(n)], capture_output=True, text=True, check=True
        )
        print(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
