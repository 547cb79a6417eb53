"""Build a labelled near-duplicate set from real text (../shared/data), as JSON lines.

Originals: Wikipedia articles (sources.general), news articles (Lee background corpus), web and news pages
(sources.html.extract_html on the trafilatura eval pages and an 8-K EX-99.1 press release), and pseudo-articles
of 12 consecutive Financial PhraseBank sentences (financial news; many same-topic non-duplicates).

Half of the originals get 1-4 near-duplicate copies made by realistic edits, each accepted only when its true
5-gram Jaccard to the original falls in a target band drawn from [0.8, 1.0]:
insertions (sentences from another document), deletions, paragraph reordering, boilerplate added (a footer or
disclaimer), re-wrapping (new line breaks), partial copies (a contiguous 80-95% span), word substitutions.
A quarter of the originals also get a *related non-duplicate*: a heavy rewrite with Jaccard 0.2-0.6 to the
original, labelled as its own cluster (a hard negative on the same topic).

Each line: {"id", "text", "source", "cluster", "jaccard", "ops"}; ``cluster`` is the gold label.

    python benchmarks/dedup/make_dataset.py --out /tmp/dedup.jsonl [--smoke] [--seed 1]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from filters.dedup import MinHashConfig, jaccard, shingles  # noqa: E402

DATA = REPO.parent / "shared" / "data"
CFG = MinHashConfig()
SENTENCE = re.compile(r"(?<=[.!?])\s+")
BOILERPLATE = [
    "This press release contains forward-looking statements within the meaning of the Private Securities "
    "Litigation Reform Act of 1995. Actual results may differ materially from those projected.",
    "We use cookies to improve your experience on our site. By continuing to browse you agree to our use of "
    "cookies. Read our privacy policy for more information.",
    "Sign up for our free daily newsletter to get the top business stories delivered to your inbox. "
    "Copyright 2024 All rights reserved. This material may not be published, broadcast or redistributed.",
]


def load_originals(smoke: bool) -> list[tuple[str, str]]:
    """(source, text) of real documents with at least 80 words, capped at 1,500 words."""
    out: list[tuple[str, str]] = []
    lee = DATA / "general" / "lee_background.cor"
    if lee.exists():
        out += [("news", line.strip()) for line in lee.read_text(encoding="utf-8").splitlines()]
    bank = DATA / "labeled" / "financial_phrasebank_50agree_subset.csv"
    if bank.exists():
        with bank.open(encoding="latin-1") as f:
            sentences = [row["news"] for row in csv.DictReader(f)]
        out += [("news", " ".join(sentences[i : i + 12])) for i in range(0, len(sentences) - 12, 12)]
    wiki = next((DATA / "general").glob("enwiki-*.xml.bz2"), None)
    if wiki is not None and not smoke:
        from sources.general import extract_wikitext, read_wikipedia

        with wiki.open("rb") as stream:
            for rec in read_wikipedia(str(wiki), stream, {}):
                if hasattr(rec, "content"):
                    out.append(("wikipedia", extract_wikitext(rec).text))
    if not smoke:
        from core.schema import RawRecord
        from sources.html import extract_html

        pages = sorted((DATA / "web" / "html").glob("*.html")) + [
            DATA / "edgar" / "8-K" / "BuckleInc.8-K.EX99.1.html"
        ]
        for page in pages:
            if page.exists():
                raw = RawRecord(
                    source="web", id=page.name, url="", content=page.read_bytes(), content_type="html"
                )
                try:
                    out.append(("web", extract_html(raw).text))
                except Exception as exc:  # noqa: BLE001 - a benchmark input that fails to extract is skipped
                    print(f"skip {page.name}: {exc}", file=sys.stderr)
    docs = []
    for source, text in out:
        words = text.split()
        if len(words) >= 80:
            if len(words) > 1500:
                text = " ".join(words[:1500])
            docs.append((source, text))
    if not docs:
        raise SystemExit(f"no real text found under {DATA}")
    return docs[:80] if smoke else docs


def shingle_set(text: str) -> set[int]:
    return set(shingles(text, CFG).tolist())


def sentences(text: str) -> list[str]:
    return [s for s in SENTENCE.split(text) if s.strip()]


def edit(rng: random.Random, text: str, other: str, strength: float) -> tuple[str, list[str]]:
    """One realistic edited copy of ``text``; ``strength`` in (0, 1] scales how much changes."""
    ops = rng.sample(
        ["insert", "delete", "reorder", "boilerplate", "rewrap", "partial", "substitute"], k=rng.randint(1, 3)
    )
    sents = sentences(text)
    for op in ops:
        k = max(1, round(strength * len(sents) * 0.15))
        if op == "insert":
            extra = sentences(other)
            for _ in range(k):
                sents.insert(rng.randrange(len(sents) + 1), rng.choice(extra))
        elif op == "delete" and len(sents) > k + 2:
            for _ in range(k):
                del sents[rng.randrange(len(sents))]
        elif op == "reorder" and len(sents) > 4:
            cut = sorted(rng.sample(range(1, len(sents)), 2))
            paras = [sents[: cut[0]], sents[cut[0] : cut[1]], sents[cut[1] :]]
            rng.shuffle(paras)
            sents = [s for p in paras for s in p]
        elif op == "boilerplate":
            sents.append(rng.choice(BOILERPLATE))
        elif op == "partial" and len(sents) > 5:
            keep = max(3, round(len(sents) * (1 - 0.2 * strength)))
            start = rng.randrange(len(sents) - keep + 1)
            sents = sents[start : start + keep]
        elif op == "substitute":
            words = " ".join(sents).split()
            for _ in range(max(1, round(strength * len(words) * 0.02))):
                words[rng.randrange(len(words))] = rng.choice(words)
            sents = sentences(" ".join(words))
    out = " ".join(sents)
    if "rewrap" in ops:
        width = rng.randint(55, 90)
        lines, line = [], ""
        for word in out.split():
            if len(line) + len(word) + 1 > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        out = "\n".join([*lines, line])
    return out, ops


def variant(rng, text, other, lo, hi, base_set) -> tuple[str, float, list[str]] | None:
    """An edited copy with true Jaccard in [lo, hi] to the original, or None after 30 tries."""
    for _ in range(30):
        strength = rng.uniform(0.05, 1.0) if hi > 0.7 else rng.uniform(2.0, 5.0)
        copy, ops = edit(rng, text, other, strength)
        if hi <= 0.7:  # heavy rewrite: apply several rounds
            for _ in range(rng.randint(2, 4)):
                copy, more = edit(rng, copy, other, strength)
                ops += more
        j = jaccard(base_set, shingle_set(copy))
        if lo <= j <= hi:
            return copy, j, ops
    return None


def build(seed: int, smoke: bool) -> list[dict]:
    rng = random.Random(seed)
    originals = load_originals(smoke)
    rows = []
    for n, (source, text) in enumerate(originals):
        cluster = f"c{n:04d}"
        rows.append(
            {
                "id": f"{cluster}-0",
                "text": text,
                "source": source,
                "cluster": cluster,
                "jaccard": 1.0,
                "ops": [],
            }
        )
        base_set = shingle_set(text)
        other = originals[rng.randrange(len(originals))][1]
        if rng.random() < 0.5:
            for k in range(1, rng.randint(2, 5)):
                lo = rng.choice([0.8, 0.85, 0.9, 0.95])
                made = variant(rng, text, other, lo, min(1.0, lo + 0.05) if lo < 0.95 else 1.0, base_set)
                if made:
                    copy, j, ops = made
                    rows.append(
                        {
                            "id": f"{cluster}-{k}",
                            "text": copy,
                            "source": rng.choice(["press", "news", "web"]),
                            "cluster": cluster,
                            "jaccard": round(j, 3),
                            "ops": ops,
                        }
                    )
        if rng.random() < 0.25:
            made = variant(rng, text, other, 0.2, 0.6, base_set)
            if made:
                copy, j, ops = made
                rows.append(
                    {
                        "id": f"{cluster}-r",
                        "text": copy,
                        "source": source,
                        "cluster": f"{cluster}-r",
                        "jaccard": round(j, 3),
                        "ops": ops,
                    }
                )
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--smoke", action="store_true", help="tiny set (80 originals, no Wikipedia/HTML)")
    args = ap.parse_args(argv)
    rows = build(args.seed, args.smoke)
    with open(args.out, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    clusters = {r["cluster"] for r in rows}
    dups = sum(1 for r in rows if not r["id"].endswith("-0") and not r["id"].endswith("-r"))
    hard = sum(1 for r in rows if r["id"].endswith("-r"))
    print(
        f"{len(rows)} documents, {len(clusters)} gold clusters, {dups} near-duplicate copies, {hard} hard negatives -> {args.out}"
    )


if __name__ == "__main__":
    main()
