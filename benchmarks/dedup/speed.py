"""Signatures per second per core on 1,000-word documents: ours vs datasketch ``update_batch``, same run.

Input: 1,000-word documents cut from real text (../shared/data; random words if absent). Both sides start from
the text: ours = ``filters.dedup.shingles`` (normalise, word 5-grams, xxh32) + ``signature`` (vectorised numpy);
datasketch = the same normalised 5-grams, UTF-8 encoded, ``MinHash(128).update_batch`` (its default SHA-1
hash). Also ours with ``hash="sha1"``, whose signatures equal datasketch's bit for bit (checked here).
One process, one thread (numpy's BLAS is not involved).

    python benchmarks/dedup/speed.py [--docs 400] [--smoke]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import datasketch  # noqa: E402
import numpy as np  # noqa: E402

from filters.dedup import MinHashConfig, ngrams, shingles, signature  # noqa: E402

DATA = REPO.parent / "shared" / "data"


def documents(n: int, seed: int = 1) -> list[str]:
    lee = DATA / "general" / "lee_background.cor"
    words = lee.read_text(encoding="utf-8").split() if lee.exists() else [f"w{i}" for i in range(20000)]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        start = rng.randrange(len(words) - 1000)
        out.append(" ".join(words[start : start + 1000]))
    return out


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=400)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--smoke", action="store_true")
    args = ap.parse_args(argv)
    if args.smoke:
        args.docs, args.repeats = 40, 1
    docs = documents(args.docs)
    ours, ours_sha1 = MinHashConfig(), MinHashConfig(hash="sha1")

    def run_ours(cfg=ours):
        for text in docs:
            signature(shingles(text, cfg), cfg)

    def run_datasketch():
        for text in docs:
            m = datasketch.MinHash(num_perm=128, seed=1)
            m.update_batch([g.encode("utf-8") for g in ngrams(text, ours)])

    # Same signatures as datasketch with the sha1 shingle hash (a correctness check, not timed).
    m = datasketch.MinHash(num_perm=128, seed=1)
    m.update_batch([g.encode("utf-8") for g in ngrams(docs[0], ours)])
    assert np.array_equal(m.hashvalues, signature(shingles(docs[0], ours_sha1), ours_sha1))

    shingle_only = best_of(lambda: [shingles(t, ours) for t in docs], args.repeats)
    t_ours = best_of(run_ours, args.repeats)
    t_sha1 = best_of(lambda: run_ours(ours_sha1), args.repeats)
    t_ds = best_of(run_datasketch, args.repeats)
    rates = {
        "ours_xxh32": len(docs) / t_ours,
        "ours_sha1": len(docs) / t_sha1,
        "datasketch_update_batch": len(docs) / t_ds,
        "shingling_only_xxh32": len(docs) / shingle_only,
    }
    print(
        f"{len(docs)} documents x 1,000 words, 128 permutations, word 5-grams, one core (best of {args.repeats})"
    )
    for name, rate in rates.items():
        print(f"  {name:<26} {rate:>8.0f} signatures/s")
    print(
        f"  speed-up ours (xxh32) vs datasketch: {rates['ours_xxh32'] / rates['datasketch_update_batch']:.2f}x"
    )
    print(
        f"  speed-up ours (sha1)  vs datasketch: {rates['ours_sha1'] / rates['datasketch_update_batch']:.2f}x"
    )
    return rates


if __name__ == "__main__":
    main()
