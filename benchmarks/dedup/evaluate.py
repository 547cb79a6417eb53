"""Precision, recall and F1 on duplicate pairs and the adjusted Rand index of our Beam NearDeduplicate.

Runs ``pipeline.stages.dedup.NearDeduplicate`` on the DirectRunner (Beam's FnApiRunner, in memory) over the labelled
set of ``make_dataset.py`` for a few thresholds (and with true-Jaccard verification at the default threshold).
Predicted clusters: each rejected document joins the cluster of its ``duplicate_of``.

    python benchmarks/dedup/evaluate.py [--data /tmp/dedup.jsonl] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from itertools import combinations
from math import comb
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import apache_beam as beam  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402

from core.schema import Document  # noqa: E402
from filters.dedup import MinHashConfig  # noqa: E402
from pipeline.runner import choose_runner  # noqa: E402
from pipeline.stages.dedup import NearDeduplicate  # noqa: E402

PRIORITY = ["filings", "press", "news", "web", "social", "wikipedia", "c4"]


def pairs(labels: dict[str, str]) -> set[tuple[str, str]]:
    groups: dict[str, list[str]] = {}
    for doc, label in labels.items():
        groups.setdefault(label, []).append(doc)
    return {tuple(sorted(p)) for g in groups.values() for p in combinations(g, 2)}


def adjusted_rand_index(gold: dict[str, str], pred: dict[str, str]) -> float:
    """Hubert & Arabie (1985) ARI from the contingency table (what sklearn's adjusted_rand_score computes)."""
    ids = sorted(gold)
    n = len(ids)
    cells = Counter((gold[i], pred[i]) for i in ids)
    a = Counter(gold[i] for i in ids)
    b = Counter(pred[i] for i in ids)
    index = sum(comb(v, 2) for v in cells.values())
    sum_a = sum(comb(v, 2) for v in a.values())
    sum_b = sum(comb(v, 2) for v in b.values())
    expected = sum_a * sum_b / comb(n, 2)
    maximum = (sum_a + sum_b) / 2
    return 1.0 if maximum == expected else (index - expected) / (maximum - expected)


def run_dedup(docs: list[Document], cfg: MinHashConfig, verify: bool) -> dict[str, str]:
    """doc id -> predicted cluster (kept id) from a DirectRunner run of NearDeduplicate."""
    options = PipelineOptions(["--direct_running_mode=in_memory"])
    runner, _ = choose_runner(options)
    with tempfile.TemporaryDirectory() as tmp:
        with beam.Pipeline(runner=runner, options=options) as p:
            kept, rejected = p | beam.Create(docs) | NearDeduplicate(cfg, PRIORITY, verify=verify)
            rows = (
                kept | "K" >> beam.Map(lambda d: json.dumps([d.id, d.id])),
                rejected | "R" >> beam.Map(lambda r: json.dumps([r.document.id, r.duplicate_of])),
            ) | beam.Flatten()
            rows | beam.io.WriteToText(str(Path(tmp) / "out"))
        return dict(json.loads(line) for f in Path(tmp).glob("out*") for line in f.read_text().splitlines())


def evaluate(rows: list[dict], threshold: float, verify: bool) -> dict[str, float]:
    docs = [Document(id=r["id"], text=r["text"], source=r["source"], n_chars=len(r["text"])) for r in rows]
    gold = {r["id"]: r["cluster"] for r in rows}
    started = time.time()
    pred = run_dedup(docs, MinHashConfig(threshold=threshold), verify)
    seconds = time.time() - started
    assert set(pred) == set(gold), "every document must be kept or rejected exactly once"
    gp, pp = pairs(gold), pairs(pred)
    tp = len(gp & pp)
    precision = tp / len(pp) if pp else 1.0
    recall = tp / len(gp) if gp else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "threshold": threshold,
        "verify": verify,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "ari": adjusted_rand_index(gold, pred),
        "gold_pairs": len(gp),
        "predicted_pairs": len(pp),
        "seconds": seconds,
    }


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", help="JSONL from make_dataset.py (default: build it now)")
    ap.add_argument("--smoke", action="store_true", help="tiny set, two settings (< 30 s)")
    ap.add_argument("--thresholds", default="0.6,0.7,0.8,0.9")
    ap.add_argument("--verify-at", default="0.7,0.8", help="thresholds also run with verification")
    args = ap.parse_args(argv)
    if args.data:
        rows = [json.loads(line) for line in Path(args.data).read_text(encoding="utf-8").splitlines()]
    else:
        import make_dataset

        rows = make_dataset.build(seed=1, smoke=args.smoke)
    settings = [(float(t), False) for t in args.thresholds.split(",") if t]
    settings += [(float(t), True) for t in args.verify_at.split(",") if t]
    if args.smoke:
        settings = [(0.8, False), (0.8, True)]
    print(f"{len(rows)} documents, {len({r['cluster'] for r in rows})} gold clusters")
    print(
        f"{'threshold':>9} {'verify':>6} {'precision':>9} {'recall':>7} {'F1':>6} {'ARI':>6} {'pairs':>11} {'s':>5}"
    )
    results = []
    for threshold, verify in settings:
        r = evaluate(rows, threshold, verify)
        results.append(r)
        print(
            f"{threshold:>9} {str(verify):>6} {r['precision']:>9.4f} {r['recall']:>7.4f} {r['f1']:>6.4f} "
            f"{r['ari']:>6.4f} {r['predicted_pairs']:>5}/{r['gold_pairs']:<5} {r['seconds']:>5.1f}"
        )
    return results


if __name__ == "__main__":
    main()
