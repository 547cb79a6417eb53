"""``python -m pipeline export sft``: FinGPT-style instruction data from the labelled sentiment sets.

    python -m pipeline export sft --out output/sft [--config FILE] [--sets phrasebank,...] [--test_fraction 0.2]

Inputs: the labelled standard sets of the config's ``decontam.sets`` that are in the fetch cache
(``phrasebank``, ``fiqa_sentiment``, ``twitter_financial_news_sentiment``) and every ``decontam.eval_sets``
file that names a ``label_field`` (its labels mapped like the standard set named by ``like``; see
``sources/evalsets.py`` for each set's label mapping). Output in ``--out``:

- ``train.jsonl`` and ``test.jsonl``: one ``{"instruction", "input", "output", "set", "id"}`` per line, with
  FinGPT's sentiment prompt (``fingpt/FinGPT_Benchmark/benchmarks/fpb.py`` and ``tfns.py``): "What is the
  sentiment of this news? Please choose an answer from {negative/neutral/positive}." (``tweet`` for tweets and
  FiQA microblog posts); ``output`` is negative, neutral or positive.
- ``data_card.md`` and ``data_card.json``: counts per set and split, label balance, removed duplicates per
  set, label and reason, licences, label mappings and the source files' checksums.

Clean-up, in this order, all on ``filters.decontam.normalize`` (the normalisation the pretraining run uses to
decontaminate, so "not in the corpus" and "not in the test split" mean the same thing):

1. exact duplicates (equal normalised text), within and across sets: the first item is kept (sets in the
   order given, items in file order); a group whose labels disagree is dropped whole (``label_conflict``);
2. near duplicates: MinHash LSH (``filters.dedup``, word 3-gram shingles of the normalised text, 128
   permutations) with candidates verified by their true shingle Jaccard >= ``--near_threshold`` (0.7);
   each cluster keeps its first item (``near_duplicate``);
3. the split: an item goes to test when ``xxh64(seed + normalised text) mod 10,000 < test_fraction * 10,000``.
   Every kept item has a distinct normalised text and no near duplicate left, so train and test share no
   normalised text; the split of an item does not depend on which other items are exported.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import xxhash

from core.argtypes import parse_args_or_config_error
from core.errors import ConfigError
from filters.decontam import decode, normalize, read_rows

INSTRUCTIONS = {
    "news": "What is the sentiment of this news? Please choose an answer from {negative/neutral/positive}.",
    "tweet": "What is the sentiment of this tweet? Please choose an answer from {negative/neutral/positive}.",
}
LABELLED = ("phrasebank", "fiqa_sentiment", "twitter_financial_news_sentiment")
SPLITS = ("train", "test")


@dataclass
class Example:
    """One labelled item on its way to the export."""

    set: str
    index: int  # position in its set
    text: str
    label: str
    kind: str
    norm: str = ""


@dataclass
class SetInfo:
    name: str
    title: str
    licence: str
    label_map: str
    source: str  # URL or path
    sha256: str = ""
    bad_labels: int = 0  # rows whose label cannot be mapped: skipped, counted in the data card


def load_labelled(config_path: str | None, only: list[str] | None) -> tuple[list[Example], list[SetInfo]]:
    """Every labelled example of the configured sets (standard sets from the cache, then configured files)."""
    import hashlib

    from pipeline.config import load_config
    from pipeline.stages.decontam import DecontamConfig
    from sources.evalsets import REGISTRY, cached_names, load_cached, map_label

    cfg = DecontamConfig.from_settings(load_config(config_path).decontam)
    cfg.check_files()
    cache_dir = cfg.resolved_cache_dir
    standard = [n for n in cfg.sets if n in LABELLED]
    files = [s for s in cfg.eval_sets if s.label_field]
    names = standard + [s.name for s in files]
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise ConfigError(
                f"export sft --sets: {', '.join(unknown)} not among the config's labelled sets ({', '.join(names)})"
            )
        standard = [n for n in standard if n in only]
        files = [s for s in files if s.name in only]
    present, missing = cached_names(cache_dir, standard)
    if missing:
        print(
            f"warning: labelled set(s) not in the cache {cache_dir}, not exported: {', '.join(missing)}; "
            f"fetch them with: {cfg.fetch_command(missing)}",
            file=sys.stderr,
        )
    examples: list[Example] = []
    infos: list[SetInfo] = []
    for name in present:
        items, entry = load_cached(cache_dir, name)
        src = REGISTRY[name]
        infos.append(SetInfo(name, src.title, src.licence, src.label_map, src.url, entry["sha256"]))
        examples += [Example(name, i, it.text, it.label or "", it.kind) for i, it in enumerate(items)]
    for spec in files:
        from apache_beam.io.filesystems import FileSystems

        with FileSystems.open(spec.path) as f:
            data = f.read()
        try:
            rows = read_rows(decode(data), spec.path, [spec.field, spec.label_field])
        except ValueError as exc:
            raise ConfigError(f"decontam.eval_sets {spec.name}: {exc}") from None
        like = REGISTRY.get(spec.like)
        kind = "tweet" if spec.like == "twitter_financial_news_sentiment" else "news"
        bad = 0
        for i, row in enumerate(rows):
            try:
                label = map_label(spec.like, row[spec.label_field])
            except ValueError as exc:
                # A broken row (e.g. a CSV whose quoting was cut) is skipped and counted, never fatal.
                bad += 1
                print(f"warning: {spec.path}: row {i + 1} skipped: {exc}", file=sys.stderr)
                continue
            examples.append(Example(spec.name, i, row[spec.field], label, kind))
        infos.append(
            SetInfo(
                spec.name,
                like.title if like else spec.name,
                like.licence if like else "unknown (set by the file's owner)",
                like.label_map if like else "labels as written (negative/neutral/positive)",
                spec.path,
                hashlib.sha256(data).hexdigest(),
                bad,
            )
        )
    if not examples:
        raise ConfigError(
            "export sft: no labelled set available: fetch one (python -m pipeline fetch evalsets phrasebank) or "
            "name a file with label_field under decontam.eval_sets"
        )
    return examples, infos


def remove_duplicates(examples: list[Example], near_threshold: float) -> tuple[list[Example], list[tuple]]:
    """(kept examples, removed as (example, reason)) after exact and near de-duplication across sets."""
    from filters.dedup import MinHashConfig, band_keys, jaccard, shingles, signature

    removed: list[tuple[Example, str]] = []
    groups: dict[str, list[Example]] = defaultdict(list)
    for ex in examples:
        ex.norm = normalize(ex.text)
        if not ex.norm:
            removed.append((ex, "empty"))
            continue
        groups[ex.norm].append(ex)
    firsts: list[Example] = []
    for group in groups.values():
        if len({e.label for e in group}) > 1:
            removed += [(e, "label_conflict") for e in group]
            continue
        firsts.append(group[0])
        removed += [(e, "exact_duplicate") for e in group[1:]]
    # ``firsts`` is in the order of first appearance (dicts keep insertion order): sets as given, then file order.

    mh = MinHashConfig(ngram=3, num_perm=128, threshold=near_threshold, seed=1)
    shingle_sets = [set(shingles(e.text, mh, normalized=e.norm).tolist()) for e in firsts]
    parent = list(range(len(firsts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    buckets: dict[bytes, list[int]] = defaultdict(list)
    for i, sh in enumerate(shingle_sets):
        sig = signature(np.fromiter(sh, dtype=np.uint64, count=len(sh)), mh)
        for key in band_keys(sig, mh):
            buckets[key].append(i)
    for members in buckets.values():
        for j in members[1:]:
            a, b = find(members[0]), find(j)
            if a != b and jaccard(shingle_sets[members[0]], shingle_sets[j]) >= near_threshold:
                parent[max(a, b)] = min(a, b)
    kept = []
    for i, ex in enumerate(firsts):
        if find(i) == i:
            kept.append(ex)
        else:
            removed.append((ex, "near_duplicate"))
    return kept, removed


def split_of(norm: str, test_fraction: float, seed: str) -> str:
    """``test`` or ``train``, from a hash of the normalised text alone."""
    return (
        "test"
        if xxhash.xxh64_intdigest(f"{seed}\x00{norm}") % 10_000 < round(test_fraction * 10_000)
        else "train"
    )


def build_card(
    kept: dict[str, list[Example]], removed: list[tuple], examples: list[Example], infos: list[SetInfo], args
) -> dict[str, Any]:
    sets: dict[str, Any] = {}
    for info in infos:
        source = Counter(e.label for e in examples if e.set == info.name)
        by_split = {s: Counter(e.label for e in kept[s] if e.set == info.name) for s in SPLITS}
        gone: dict[str, Counter] = defaultdict(Counter)
        for e, reason in removed:
            if e.set == info.name:
                gone[reason][e.label] += 1
        sets[info.name] = {
            "title": info.title,
            "licence": info.licence,
            "label_mapping": info.label_map,
            "source": info.source,
            "sha256": info.sha256,
            "source_rows": sum(source.values()) + info.bad_labels,
            "skipped_bad_label": info.bad_labels,
            "source_labels": dict(sorted(source.items())),
            "splits": {
                s: {"rows": sum(c.values()), "labels": dict(sorted(c.items()))} for s, c in by_split.items()
            },
            "removed": {r: dict(sorted(c.items())) for r, c in sorted(gone.items())},
        }
    return {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "instructions": INSTRUCTIONS,
        "normalisation": "filters.decontam.normalize (NFKC, casefold, letters/digits runs joined by one space)",
        "test_fraction": args.test_fraction,
        "seed": args.seed,
        "near_duplicates": {"shingles": "word 3-grams", "num_perm": 128, "threshold": args.near_threshold},
        "totals": {s: len(kept[s]) for s in SPLITS} | {"removed": len(removed)},
        "sets": sets,
    }


def card_markdown(card: dict[str, Any]) -> str:
    lines = [
        "# Data card: sentiment instruction data (export sft)",
        "",
        f"Created {card['created_at']}. Train {card['totals']['train']:,} examples, test {card['totals']['test']:,}; "
        f"{card['totals']['removed']:,} items removed as duplicates (exact, near, conflicting labels).",
        "",
        "Instruction (FinGPT): news and headlines: `"
        + card["instructions"]["news"]
        + "`; tweets and microblog "
        "posts: `" + card["instructions"]["tweet"] + "`. Output: negative, neutral or positive.",
        "",
        f"Splits: test when xxh64(seed {card['seed']!r} + normalised text) falls in the first "
        f"{card['test_fraction']:.0%}; {card['normalisation']}; train and test share no normalised text. Near "
        f"duplicates: MinHash LSH over {card['near_duplicates']['shingles']}, verified Jaccard >= "
        f"{card['near_duplicates']['threshold']}.",
        "",
        "| Set | Licence | Source rows | Train | Test | Removed | Labels (train / test) |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for name, s in card["sets"].items():
        removed = sum(sum(c.values()) for c in s["removed"].values())
        labels = " / ".join(
            ", ".join(f"{k} {v}" for k, v in s["splits"][sp]["labels"].items()) or "-" for sp in SPLITS
        )
        lines.append(
            f"| {s['title']} (`{name}`) | {s['licence']} | {s['source_rows']:,} | {s['splits']['train']['rows']:,} "
            f"| {s['splits']['test']['rows']:,} | {removed:,} | {labels} |"
        )
    lines += ["", "## Label mapping and sources", ""]
    for name, s in card["sets"].items():
        lines.append(
            f"- `{name}`: {s['label_mapping']}. Source: {s['source']} (sha256 `{s['sha256'][:16]}…`)."
        )
        if "NC" in s["licence"]:
            lines.append(f"  Licence {s['licence']}: non-commercial use only; share-alike where SA.")
        if s["skipped_bad_label"]:
            lines.append(
                f"  Skipped: {s['skipped_bad_label']} rows whose label could not be mapped (broken rows)."
            )
        for reason, counts in s["removed"].items():
            lines.append(f"  Removed ({reason}): " + ", ".join(f"{k} {v}" for k, v in counts.items()) + ".")
    return "\n".join(lines) + "\n"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline export sft",
        description="Instruction-tuning JSONL (instruction, input, output) with FinGPT's sentiment prompts from the "
        "labelled evaluation sets, train/test splits sharing no normalised text, duplicates removed across sets, "
        "and a data card.",
    )
    parser.add_argument(
        "--out", required=True, help="output folder (train.jsonl, test.jsonl, data_card.md/json)"
    )
    parser.add_argument("--config", default=None, help="config naming the sets (default: the embedded one)")
    parser.add_argument("--sets", default="", help="comma-separated subset of the config's labelled sets")
    parser.add_argument(
        "--test_fraction", type=float, default=0.2, help="share of items in test (default 0.2)"
    )
    parser.add_argument(
        "--near_threshold", type=float, default=0.7, help="near-duplicate Jaccard (default 0.7)"
    )
    parser.add_argument("--seed", default="finpile-sft-1", help="seed of the split hash")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing export in --out")
    return parser


def export_sft(argv: list[str]) -> dict[str, Any]:
    """Run the export; returns the data card."""
    args = parse_args_or_config_error(_parser(), argv)
    if not 0 < args.test_fraction < 1:
        raise ConfigError("export sft: --test_fraction must be in (0, 1)")
    if not 0 < args.near_threshold < 1:
        raise ConfigError("export sft: --near_threshold must be in (0, 1)")
    if os.path.exists(os.path.join(args.out, "data_card.json")) and not args.overwrite:
        raise ConfigError(f"{args.out} already holds an export; pass --overwrite to replace it")
    only = [s.strip() for s in args.sets.split(",") if s.strip()] or None
    examples, infos = load_labelled(args.config, only)
    kept_all, removed = remove_duplicates(examples, args.near_threshold)
    kept: dict[str, list[Example]] = {s: [] for s in SPLITS}
    for ex in kept_all:
        kept[split_of(ex.norm, args.test_fraction, args.seed)].append(ex)
    os.makedirs(args.out, exist_ok=True)
    for split in SPLITS:
        tmp = os.path.join(args.out, f".{split}.jsonl.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for ex in kept[split]:
                row = {
                    "instruction": INSTRUCTIONS[ex.kind],
                    "input": ex.text,
                    "output": ex.label,
                    "set": ex.set,
                    "id": f"{ex.set}-{ex.index}",
                }
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        os.replace(tmp, os.path.join(args.out, f"{split}.jsonl"))
    card = build_card(kept, removed, examples, infos, args)
    with open(os.path.join(args.out, "data_card.md"), "w", encoding="utf-8") as f:
        f.write(card_markdown(card))
    with open(os.path.join(args.out, "data_card.json"), "w", encoding="utf-8") as f:
        json.dump(card, f, indent=2)
    return card


def cmd_export(argv: list[str]) -> int:
    """``export sft ...``."""
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m pipeline export sft --out DIR [options]  (see export sft --help)")
        return 0 if argv else 2
    if argv[0] != "sft":
        raise ConfigError(f"export: unknown format {argv[0]!r}; choose: sft")
    card = export_sft(argv[1:])
    t = card["totals"]
    print(
        f"export sft: train {t['train']:,}, test {t['test']:,}, removed {t['removed']:,} duplicates; "
        f"sets: {', '.join(card['sets'])}"
    )
    return 0
