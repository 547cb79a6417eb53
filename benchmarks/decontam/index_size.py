"""Size and speed of the decontamination index (run by hand; figures go in benchmarks/decontam/README.md).

    .venv/bin/python benchmarks/decontam/index_size.py [--synthetic 1000000]

Builds ``filters.decontam.DecontamIndex`` from the labelled files in $FINPILE_SHARED_DATA (PhraseBank subset,
the Twitter set subset, PubMedQA), prints items, distinct hashed n-grams, bytes, bytes per million n-grams,
build time and check throughput on 1,000-word documents; ``--synthetic N`` adds random items until the index
holds about N n-grams, to measure the size per million at scale.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import time
from pathlib import Path

from filters.decontam import DecontamIndex, EvalSet


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--synthetic", type=int, default=0, help="also index ~N synthetic 13-grams")
    args = parser.parse_args()
    shared = Path(os.environ.get("FINPILE_SHARED_DATA", "../shared/data"))
    sets = [
        EvalSet.load("phrasebank", str(shared / "labeled/financial_phrasebank_50agree_subset.csv"), "news"),
        EvalSet.load(
            "tfns", str(shared / "social/tweets/twitter_financial_news_sentiment_valid_subset.csv"), "text"
        ),
    ]
    pqa = json.loads((shared / "medical/evalsets/pubmedqa_ori_pqal.json").read_text())
    sets.append(
        EvalSet.from_texts(
            "pubmedqa", [v["QUESTION"] for v in pqa.values()] + [v["LONG_ANSWER"] for v in pqa.values()]
        )
    )
    rng = random.Random(1)
    vocab = [f"w{i}" for i in range(50_000)]
    if args.synthetic:
        texts = [
            " ".join(rng.choices(vocab, k=112)) for _ in range(args.synthetic // 100)
        ]  # 100 13-grams each
        sets.append(EvalSet.from_texts("synthetic", texts))
    started = time.perf_counter()
    index = DecontamIndex.build(sets)
    built = time.perf_counter() - started
    pickled = len(pickle.dumps(index))
    docs = [" ".join(rng.choices(vocab, k=1000)) for _ in range(200)]
    started = time.perf_counter()
    for d in docs:
        index.check(d)
    per_doc = (time.perf_counter() - started) / len(docs)
    print(
        json.dumps(
            {
                "items": index.items,
                "whole_doc_only": index.whole_doc_only,
                "n_grams": index.n_grams,
                "bytes": index.nbytes,
                "pickled_bytes": pickled,
                "bytes_per_million_ngrams": round(index.nbytes / index.n_grams * 1e6),
                "build_seconds": round(built, 2),
                "check_docs_per_second_1000_words": round(1 / per_doc),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
