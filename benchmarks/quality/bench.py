"""Quality scoring speed: datatrove's blocks one after another vs our one-pass scorer, on real documents.

    python -m benchmarks.quality.bench            # every page, filing and tweet, 30 Wikipedia articles
    python -m benchmarks.quality.bench --smoke    # a few of each, < 30 s

Both sides apply the default (web) policy to every document, so they evaluate the same rules:

- ``datatrove``: ``GopherQualityFilter``, ``GopherRepetitionFilter``, ``C4QualityFilter``,
  ``FineWebQualityFilter`` (datatrove 0.10.1, default thresholds = ours), run one after another on a datatrove
  ``Document`` until the first one rejects it; no scoring, no signals for the rejected ones.
- ``ours``: ``QualityScorer.score`` (every signal, the quality score) + ``QualityScorer.decide``; the
  tokenizer cache is emptied before each document type, so its warm-up is part of the time.

Times are CPU seconds of this process (``time.process_time``), so docs/s are per core even when the machine
is busy. Every decision is compared as well; the script exits 1 on a disagreement.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

from datatrove.data import Document as DtDocument
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)

from benchmarks.quality.corpus import load_corpus
from core.schema import Document
from filters.quality import QualityConfig, QualityScorer, word_tokenizer

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO.parent / "shared" / "data"
SMOKE_SIZES = {"web": 8, "filings": 6, "wikipedia": 5, "social": 300}


def datatrove_blocks() -> list:
    """datatrove's four blocks with the thresholds of our default policy, in our order."""
    policy = QualityConfig().policy_for("web")
    c4 = dataclasses.asdict(policy.c4)
    c4.pop("keep_cleaned_text")
    return [
        GopherQualityFilter(**dataclasses.asdict(policy.gopher_quality)),
        GopherRepetitionFilter(**dataclasses.asdict(policy.gopher_repetition)),
        C4QualityFilter(**c4),
        FineWebQualityFilter(**dataclasses.asdict(policy.fineweb)),
    ]


def run_datatrove(texts: list[str], blocks: list) -> tuple[float, list[bool]]:
    """CPU seconds and keep/drop per text, running the blocks one after another."""
    keeps = []
    start = time.process_time()
    for i, text in enumerate(texts):
        doc = DtDocument(text=text, id=str(i), metadata={})
        keep = bool(text.strip())  # our basic:empty; datatrove's blocks would say gopher_short_doc
        for block in blocks if keep else ():
            result = block.filter(doc)
            if not (result[0] if isinstance(result, tuple) else result):
                keep = False
                break
        keeps.append(keep)
    return time.process_time() - start, keeps


def run_ours(texts: list[str], scorer: QualityScorer) -> tuple[float, list[bool]]:
    """CPU seconds and keep/drop per text: score (all signals) + decide, from an empty tokenizer cache."""
    word_tokenizer().clear()
    keeps = []
    start = time.process_time()
    for i, text in enumerate(texts):
        doc = scorer.score(Document(id=str(i), text=text, source="web"))
        keeps.append(scorer.decide(doc)[0])
    return time.process_time() - start, keeps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--smoke", action="store_true", help="a few documents of each type (< 30 s)")
    parser.add_argument("--wiki", type=int, default=30, help="Wikipedia articles (default 30)")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"data folder {args.data} not found; pass --data", file=sys.stderr)
        return 2

    corpus = load_corpus(args.data, wiki_limit=SMOKE_SIZES["wikipedia"] if args.smoke else args.wiki)
    if args.smoke:
        corpus = {kind: docs[: SMOKE_SIZES[kind]] for kind, docs in corpus.items()}
    corpus["mix (all of the above)"] = [d for docs in corpus.values() for d in docs]

    blocks = datatrove_blocks()
    scorer = QualityScorer(QualityConfig(engine="signals"))
    word_tokenizer().tokens("warm-up")  # spaCy loaded outside the timings, on both sides
    run_datatrove(["warm up"], blocks)

    print(
        f"{'documents':<24}{'n':>6}{'MB':>7}{'datatrove docs/s':>18}{'ours docs/s':>13}{'speed-up':>10}{'kept':>6}"
    )
    disagreements = 0
    for kind, docs in corpus.items():
        texts = [d.text for d in docs]
        dt_time, dt_keeps = run_datatrove(texts, blocks)
        our_time, our_keeps = run_ours(texts, scorer)
        disagreements += sum(a != b for a, b in zip(dt_keeps, our_keeps, strict=True))
        mb = sum(len(t) for t in texts) / 1e6
        print(
            f"{kind:<24}{len(texts):>6}{mb:>7.2f}{len(texts) / dt_time:>18.1f}{len(texts) / our_time:>13.1f}"
            f"{dt_time / our_time:>9.1f}x{sum(our_keeps):>6}"
        )
    print(f"disagreements on keep/drop: {disagreements}")
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
