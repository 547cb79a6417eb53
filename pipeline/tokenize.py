"""``python -m pipeline tokenize RUN_DIR --tokenizer NAME_OR_PATH --out DIR``: a run's shards to training files.

A Beam job (same runners as ``run``) that reads the run's Parquet shards, tokenizes every document
(``pipeline.tokenizer``: tiktoken or a Hugging Face ``tokenizer.json``), applies the mixture, shuffles globally
and writes Megatron-LM ``.bin``/``.idx`` files or numpy memmaps (``pipeline.token_files``), with a manifest.

Every sequence is one document: ``[BOS] + tokens(text) + [EOS or --separator]``.

Mixture
-------
A document's ``mix_weight`` w (the epochs ``run`` assigned to its (domain, source)) becomes ``floor(w)``
repetitions, plus one more for a seeded sample of the source's documents that carries the fractional part:
the source's documents with a fractional part are ordered by a seeded hash of their id and the shortest prefix
whose tokens come closest to ``sum(frac(w) * tokens)`` gets the extra copy. A source's token count in the output
is then its weighted target (``sum(w * tokens)``) within half of its largest document, the best whole documents
can do. Only (key, token count) pairs of one source are gathered for this, never texts.

Shuffle
-------
Each (document, repetition) gets a 63-bit key, a seeded hash of (shuffle seed, id, repetition). The key range is
cut into N equal parts, one per output file; inside a file, sequences are sorted by key. So the order is a seeded
permutation of the whole corpus (across documents, repetitions and sources, never file order), the same on any
runner and bundle split, and a worker holds one output file at a time (N = ceil(tokens / --file_tokens), files
are about that size). Repetitions of a document land at independent places.

Validation
----------
``--validation_fraction F`` holds out documents whose seeded hash falls below F (by document: all repetitions
of a held-out document stay out of training); they are written once each (no weighting), shuffled the same way,
under ``validation/``, and reported per source.

Output (``--out DIR``)::

    DIR/train/part-NNNNN.bin + .idx (megatron) or .bin + .json (numpy)
    DIR/validation/part-NNNNN.*        (only with --validation_fraction)
    DIR/manifest.json                  tokenizer, format, dtype, seeds, files (sequences, tokens, sha256),
                                       documents funnel, tokens per source and domain: target vs achieved
    RUN_DIR/tokenized/<id>.json        a copy of the manifest, so ``stats`` reports the training data

Every document read is accounted for: trained on (with its repetitions), held out for validation, sampled zero
times (weight below 1 and not drawn, or weight 0) or skipped because its text has no tokens.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, NamedTuple

import apache_beam as beam
import numpy as np
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import PipelineOptions

from core.errors import ConfigError
from pipeline import __version__
from pipeline.stages.write import read_json, write_bytes_atomically, write_json
from pipeline.token_files import FORMATS, MEGATRON, encode_file, file_suffixes, token_dtype
from pipeline.tokenizer import AUTO, TokenizerSpec, load, make_spec

TOKENIZE_VERSION = "1"
NAMESPACE = "finpile"
COLUMNS = ["id", "text", "source", "domain", "mix_weight"]
DEFAULT_FILE_TOKENS = 1_000_000_000
DEFAULT_SEED = 0
TRAIN = "train"
VALIDATION = "validation"
KEY_SPACE = 1 << 63  # keys are 63-bit: Beam's integer coder is signed 64-bit
REGISTRY = "tokenized"  # RUN_DIR/tokenized/<id>.json: where `stats` finds tokenize outputs
WORK = "_work"
MAX_BATCH = 256


class TokDoc(NamedTuple):
    """One tokenized document: the sequence bytes (little-endian ``dtype``) and what the mixture needs."""

    id: str
    pair: str  # "<domain>/<source>", the mixture's key
    weight: float
    n_content: int  # tokens of the text, without BOS/EOS
    data: bytes  # [BOS] + tokens + [EOS]


# ---------------------------------------------------------------------------------------------------------
# Pure core: keys, the fractional sample, repetitions, buckets.


def hash64(seed: int, *parts: str) -> int:
    """A 63-bit seeded hash (blake2b) of the parts."""
    h = hashlib.blake2b(digest_size=8)
    h.update(f"{seed}".encode())
    for part in parts:
        h.update(b"\x00" + part.encode())
    return int.from_bytes(h.digest(), "big") >> 1


def is_validation(doc_id: str, seed: int, fraction: float) -> bool:
    """Whether a document is held out (seeded, by document)."""
    return fraction > 0 and hash64(seed, "validation", doc_id) < fraction * KEY_SPACE


def sample_key(doc_id: str, seed: int) -> int:
    """The key that orders a source's documents for the fractional sample."""
    return hash64(seed, "fraction", doc_id)


def shuffle_key(doc_id: str, repetition: int, seed: int) -> int:
    """The key that places one (document, repetition) in the global order."""
    return hash64(seed, "shuffle", doc_id, str(repetition))


def bucket_of(key: int, n_files: int) -> int:
    """Which output file a key goes to: equal slices of the key range."""
    return (key * n_files) >> 63


def fraction_cutoff(entries: Iterable[tuple[int, int, float]]) -> int:
    """The sample key below which a document gets its extra repetition.

    ``entries``: (sample key, tokens, weight) of one source's documents. Documents with a fractional part, in key
    order: the prefix whose tokens come closest to ``sum(frac(w) * tokens)`` (ties: the shorter prefix).
    """
    fractional = sorted((k, n, w - math.floor(w)) for k, n, w in entries if w - math.floor(w) > 0)
    goal = sum(n * f for _, n, f in fractional)
    best_k, best_err, cum = 0, goal, 0
    for i, (_, n, _) in enumerate(fractional, start=1):
        cum += n
        err = abs(cum - goal)
        if err < best_err:
            best_k, best_err = i, err
        if cum > goal:
            break
    return fractional[best_k][0] if best_k < len(fractional) else KEY_SPACE


def repetitions(weight: float, key: int, cutoff: int) -> int:
    """Copies of a document: the integer part of its weight, plus one if it is in the fractional sample."""
    whole = math.floor(weight)
    return whole + (1 if weight - whole > 0 and key < cutoff else 0)


def pair_plan(pair: str, entries: list[tuple[int, int, int, float]]) -> dict[str, Any]:
    """Cutoff and expected totals of one (domain, source): entries are (sample key, tokens, seq tokens, weight)."""
    cutoff = fraction_cutoff((k, n, w) for k, n, _, w in entries)
    reps = [repetitions(w, k, cutoff) for k, _, _, w in entries]
    weights = sorted({w for *_, w in entries})
    return {
        "pair": pair,
        "cutoff": cutoff,
        "documents": len(entries),
        "raw_tokens": sum(n for _, n, _, _ in entries),
        "target_tokens": round(sum(n * w for _, n, _, w in entries), 3),
        "expected_tokens": sum(n * r for (_, n, _, _), r in zip(entries, reps, strict=True)),
        "expected_sequence_tokens": sum(s * r for (_, _, s, _), r in zip(entries, reps, strict=True)),
        "zero_repetitions": sum(1 for r in reps if r == 0),
        "max_document_tokens": max((n for _, n, _, _ in entries), default=0),
        "weights": weights if len(weights) <= 3 else [weights[0], weights[-1]],
    }


def n_files_for(tokens: int, file_tokens: int, num_files: int | None) -> int:
    """How many output files: ``--num_files`` or ceil(tokens / --file_tokens), at least one."""
    if num_files:
        return num_files
    return max(1, math.ceil(tokens / file_tokens))


def layout(plans: list[dict[str, Any]], file_tokens: int, num_files: int | None) -> dict[str, Any]:
    """The train split's side input: each source's cutoff and the number of files."""
    total = sum(p["expected_sequence_tokens"] for p in plans)
    return {
        "cutoffs": {p["pair"]: p["cutoff"] for p in plans},
        "n_files": n_files_for(total, file_tokens, num_files),
    }


def expand(doc: TokDoc, plan: dict[str, Any], seed: int) -> Iterator[tuple[int, tuple]]:
    """(file index, (shuffle key, id, repetition, pair, data)) for each repetition of a document."""
    if "cutoffs" in plan:
        reps = repetitions(doc.weight, sample_key(doc.id, plan["sample_seed"]), plan["cutoffs"][doc.pair])
    else:
        reps = 1  # validation: each held-out document once
    for r in range(reps):
        key = shuffle_key(doc.id, r, seed)
        yield bucket_of(key, plan["n_files"]), (key, doc.id, r, doc.pair, doc.data)


def part_name(split: str, index: int) -> str:
    return f"{split}/part-{index:05d}"


def file_bytes(
    elements: Iterable[tuple], dtype: np.dtype, fmt: str, n_special: int
) -> tuple[bytes, bytes, dict[str, list[int]]]:
    """(data, index, {pair: [sequences, content tokens]}) of one output file, sequences in key order."""
    ordered = sorted(elements, key=lambda e: (e[0], e[1], e[2]))
    by_pair: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for _, _, _, pair, data in ordered:
        by_pair[pair][0] += 1
        by_pair[pair][1] += len(data) // dtype.itemsize - n_special
    data, index = encode_file([e[4] for e in ordered], dtype, fmt, [e[1] for e in ordered])
    return data, index, dict(by_pair)


# ---------------------------------------------------------------------------------------------------------
# The Beam job.


class _TokenizeFn(beam.DoFn):
    """Batches of rows -> TokDoc (main) and ("skipped", pair, reason) counts for empty texts."""

    def __init__(self, spec: TokenizerSpec, dtype: str, seed: int, val_fraction: float):
        self._spec, self._dtype, self._seed, self._val = spec, dtype, seed, val_fraction
        self._docs = Metrics.counter(NAMESPACE, "tokenize:documents")
        self._tokens = Metrics.counter(NAMESPACE, "tokenize:tokens")
        self._empty = Metrics.counter(NAMESPACE, "tokenize:skipped:empty_text")

    def setup(self):
        self._tok = load(self._spec)
        self._dt = np.dtype(self._dtype).newbyteorder("<")

    def process(self, batch: list[dict[str, Any]]):
        tok = self._tok
        ids = tok.encode_batch([row["text"] or "" for row in batch])
        head = [tok.bos_id] if tok.bos_id is not None else []
        for row, content in zip(batch, ids, strict=True):
            pair = f"{row['domain']}/{row['source']}"
            self._docs.inc()
            if not content:
                self._empty.inc()
                yield beam.pvalue.TaggedOutput("counts", (("empty_text", pair), 1))
                continue
            self._tokens.inc(len(content))
            data = np.asarray(head + content + [tok.eos_id], dtype=self._dt).tobytes()
            doc = TokDoc(row["id"], pair, float(row["mix_weight"] or 0.0), len(content), data)
            if is_validation(doc.id, self._seed, self._val):
                yield beam.pvalue.TaggedOutput(VALIDATION, doc)
            else:
                yield doc


class _WriteFileFn(beam.DoFn):
    """(file index, elements) -> the file pair written under OUT/<split>/, and its description."""

    def __init__(self, out: str, split: str, fmt: str, dtype: str, n_special: int):
        self._out, self._split, self._fmt, self._dtype, self._n_special = out, split, fmt, dtype, n_special

    def process(self, element: tuple[int, Iterable[tuple]]):
        index, elements = element
        dtype = np.dtype(self._dtype)
        data, idx, by_pair = file_bytes(elements, dtype, self._fmt, self._n_special)
        name = part_name(self._split, index)
        data_suffix, index_suffix = file_suffixes(self._fmt)
        write_bytes_atomically(FileSystems.join(self._out, name + data_suffix), data)
        write_bytes_atomically(FileSystems.join(self._out, name + index_suffix), idx)
        Metrics.counter(NAMESPACE, f"tokenize:{self._split}_files").inc()
        yield (
            "file",
            self._split,
            {
                "name": name,
                "data": name + data_suffix,
                "index": name + index_suffix,
                "sequences": sum(v[0] for v in by_pair.values()),
                "tokens": len(data) // dtype.itemsize,
                "bytes": len(data) + len(idx),
                "sha256": hashlib.sha256(data).hexdigest(),
                "by_pair": by_pair,
            },
        )


class ShuffleAndWrite(beam.PTransform):
    """Documents -> repetitions keyed into N files by their shuffle key -> one written file per key range."""

    def __init__(self, out: str, split: str, fmt: str, dtype: str, n_special: int, seed: int):
        super().__init__()
        self._args = (out, split, fmt, dtype, n_special)
        self._seed = seed

    def expand(self, docs_and_plan):
        docs, plan = docs_and_plan
        return (
            docs
            | "Repetitions" >> beam.FlatMap(expand, plan=beam.pvalue.AsSingleton(plan), seed=self._seed)
            | "GroupByFile" >> beam.GroupByKey()
            | "WriteFile" >> beam.ParDo(_WriteFileFn(*self._args))
        )


def _train_entry(doc: TokDoc, sample_seed: int) -> tuple[str, tuple[int, int, int, float]]:
    return doc.pair, (sample_key(doc.id, sample_seed), doc.n_content, len(doc.data), doc.weight)


def _seq_tokens(doc: TokDoc, itemsize: int) -> int:
    return len(doc.data) // itemsize


def build_job(
    p: beam.Pipeline, shard_paths: list[str], opts: TokenizeOptions, dtype: np.dtype, n_special: int
):
    """The job graph; returns the PCollection of result tuples the driver turns into the manifest."""
    rows = (
        p
        | "ShardPaths" >> beam.Create(shard_paths)
        | "ReadShards" >> beam.io.parquetio.ReadAllFromParquet(columns=COLUMNS)
    )
    tokenized = (
        rows
        | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=MAX_BATCH)
        | "Tokenize"
        >> beam.ParDo(_TokenizeFn(opts.spec, dtype.name, opts.seed, opts.validation_fraction)).with_outputs(
            "counts", VALIDATION, main=TRAIN
        )
    )
    train, val = tokenized[TRAIN], tokenized[VALIDATION]

    plans = (
        train
        | "SampleEntries" >> beam.Map(_train_entry, sample_seed=opts.seed)
        | "GroupBySource" >> beam.GroupByKey()
        | "SourcePlan" >> beam.MapTuple(lambda pair, entries: pair_plan(pair, list(entries)))
    )
    train_layout = (
        plans
        | "AllPlans" >> beam.combiners.ToList()
        | "TrainLayout"
        >> beam.Map(lambda ps: {**layout(ps, opts.file_tokens, opts.num_files), "sample_seed": opts.seed})
    )
    args = (opts.out, TRAIN, opts.format, dtype.name, n_special, opts.shuffle_seed)
    results = [
        plans | "TagPlans" >> beam.Map(lambda plan: ("plan", TRAIN, plan)),
        (train, train_layout) | "WriteTrain" >> ShuffleAndWrite(*args),
    ]
    count_inputs = [
        tokenized["counts"],
        rows | "ReadCountKey" >> beam.Map(lambda r: (("read", f"{r['domain']}/{r['source']}"), 1)),
    ]
    if opts.validation_fraction > 0:
        val_layout = (
            val
            | "ValTokens" >> beam.Map(_seq_tokens, itemsize=dtype.itemsize)
            | "SumValTokens" >> beam.CombineGlobally(sum)
            | "ValLayout" >> beam.Map(lambda t: {"n_files": n_files_for(t, opts.file_tokens, None)})
        )
        val_args = (opts.out, VALIDATION, opts.format, dtype.name, n_special, opts.shuffle_seed)
        results.append((val, val_layout) | "WriteValidation" >> ShuffleAndWrite(*val_args))
        count_inputs.append(val | "ValCountKey" >> beam.Map(lambda d: (("validation", d.pair), 1)))
    counts = (
        tuple(count_inputs)
        | "CountsIn" >> beam.Flatten()
        | "SumCounts" >> beam.CombinePerKey(sum)
        | "TagCounts" >> beam.MapTuple(lambda key, n: ("count", key[0], [key[1], n]))
    )
    return (*results, counts) | "AllResults" >> beam.Flatten()


# ---------------------------------------------------------------------------------------------------------
# Options, the manifest, the command.


class TokenizeOptions(NamedTuple):
    run_dir: str
    out: str
    spec: TokenizerSpec
    format: str
    seed: int
    shuffle_seed: int
    file_tokens: int
    num_files: int | None
    validation_fraction: float
    overwrite: bool


def _share(part: float, total: float) -> float:
    return round(part / total, 6) if total else 0.0


def build_manifest(
    results: list[list[Any]],
    opts: TokenizeOptions,
    tokenizer: dict[str, Any],
    dtype: np.dtype,
    run_manifest: dict[str, Any] | None,
) -> dict[str, Any]:
    """The manifest (pure): files, the document funnel, tokens per source and domain, target vs achieved."""
    files: dict[str, list[dict[str, Any]]] = {TRAIN: [], VALIDATION: []}
    plans: dict[str, dict[str, Any]] = {}
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for tag, key, value in results:
        if tag == "file":
            files[key].append(value)
        elif tag == "plan":
            plans[value["pair"]] = value
        elif tag == "count":
            counts[key][value[0]] = value[1]
    for split in files:
        files[split].sort(key=lambda f: f["name"])

    def achieved(split: str) -> dict[str, list[int]]:
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for f in files[split]:
            for pair, (seqs, toks) in f["by_pair"].items():
                out[pair][0] += seqs
                out[pair][1] += toks
        return out

    train_achieved, val_achieved = achieved(TRAIN), achieved(VALIDATION)
    mixture = (run_manifest or {}).get("mixture") or {}
    mix_sources = mixture.get("sources", {})
    target_total = sum(p["target_tokens"] for p in plans.values())
    achieved_total = sum(v[1] for v in train_achieved.values())
    sources: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    for pair in sorted(set(plans) | set(counts["read"])):
        plan = plans.get(pair, {})
        seqs, toks = train_achieved.get(pair, [0, 0])
        raw = plan.get("raw_tokens", 0)
        target = plan.get("target_tokens", 0.0)
        bound = plan.get("max_document_tokens", 0) / 2
        within = abs(toks - target) <= bound + 1e-6
        domain, source = pair.split("/", 1)
        entry = {
            "domain": domain,
            "source": source,
            "documents": plan.get("documents", 0),
            "zero_repetitions": plan.get("zero_repetitions", 0),
            "weights": plan.get("weights", []),
            "raw_tokens": raw,
            "target_tokens": target,
            "achieved_tokens": toks,
            "sequences": seqs,
            "epochs": round(toks / raw, 4) if raw else 0.0,
            "target_share": _share(target, target_total),
            "achieved_share": _share(toks, achieved_total),
            "within_rounding": within,
            "rounding_bound_tokens": bound,
            "mixture_json": {
                k: mix_sources[pair][k]
                for k in ("weight", "raw_tokens", "effective_tokens", "target_share")
                if pair in mix_sources and k in mix_sources[pair]
            },
        }
        sources[pair] = entry
        if toks != plan.get("expected_tokens", toks):
            notes.append(f"{pair}: files hold {toks} tokens, the plan expected {plan['expected_tokens']}")
        if not within:
            notes.append(f"{pair}: achieved {toks:,} tokens, target {target:,.1f} (beyond half a document)")
    domains: dict[str, dict[str, Any]] = {}
    for e in sources.values():
        d = domains.setdefault(e["domain"], {"raw_tokens": 0, "target_tokens": 0.0, "achieved_tokens": 0})
        d["raw_tokens"] += e["raw_tokens"]
        d["target_tokens"] = round(d["target_tokens"] + e["target_tokens"], 3)
        d["achieved_tokens"] += e["achieved_tokens"]
    for d in domains.values():
        d["target_share"] = _share(d["target_tokens"], target_total)
        d["achieved_share"] = _share(d["achieved_tokens"], achieved_total)
        d["epochs"] = round(d["achieved_tokens"] / d["raw_tokens"], 4) if d["raw_tokens"] else 0.0

    read = sum(counts["read"].values())
    n_val = sum(counts["validation"].values())
    empty = sum(counts["empty_text"].values())
    n_train = sum(p["documents"] for p in plans.values())
    zero = sum(p["zero_repetitions"] for p in plans.values())
    documents = {
        "read": read,
        "train": n_train - zero,
        "validation": n_val,
        "zero_repetitions": zero,
        "skipped": {"empty_text": empty},
        "balanced": read == n_train + n_val + empty,
    }
    if not documents["balanced"]:
        notes.append(
            f"documents do not add up: read {read} != train {n_train} + validation {n_val} + empty {empty}"
        )

    def split_summary(split: str) -> dict[str, Any]:
        return {
            "files": files[split],
            "sequences": sum(f["sequences"] for f in files[split]),
            "tokens": sum(f["tokens"] for f in files[split]),
        }

    return {
        "tokenize_version": TOKENIZE_VERSION,
        "finpile_builder_version": __version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "run_dir": opts.run_dir,
        "run_name": (run_manifest or {}).get("run_name") or opts.run_dir.rstrip("/").rsplit("/", 1)[-1],
        "run_config_hash": (run_manifest or {}).get("config_hash"),
        "out": opts.out,
        "tokenizer": tokenizer,
        "format": opts.format,
        "dtype": dtype.name,
        "sequence": "[BOS] + tokens(text) + [EOS]" if tokenizer.get("bos") else "tokens(text) + [EOS]",
        "seed": opts.seed,
        "shuffle_seed": opts.shuffle_seed,
        "file_tokens": opts.file_tokens,
        "num_files": opts.num_files,
        "validation_fraction": opts.validation_fraction,
        "documents": documents,
        "splits": {TRAIN: split_summary(TRAIN), VALIDATION: split_summary(VALIDATION)},
        "mixture": {
            "sources": sources,
            "domains": dict(sorted(domains.items())),
            "target_tokens": round(target_total, 3),
            "achieved_tokens": achieved_total,
            "notes": notes,
        },
        "validation": {
            pair: {"documents": counts["validation"].get(pair, 0), "sequences": v[0], "tokens": v[1]}
            for pair, v in sorted(val_achieved.items())
        },
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline tokenize",
        description="Turn a run's Parquet shards into training token files (Megatron .bin/.idx or numpy memmap) "
        "with the mixture applied (mix_weight as repetitions) and a seeded global shuffle. Beam options "
        "(--runner, --direct_running_mode ...) pass through to Apache Beam.",
    )
    parser.add_argument("run_dir", help="a finished run folder, e.g. output/sample")
    parser.add_argument(
        "--tokenizer",
        required=True,
        metavar="NAME_OR_PATH",
        help="a tiktoken encoding (cl100k_base ships offline) or a Hugging Face tokenizer.json (or its folder)",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (local or gs://)")
    parser.add_argument("--format", choices=FORMATS, default=MEGATRON, help="file format (default megatron)")
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="seed of the sample, split and shuffle"
    )
    parser.add_argument(
        "--shuffle_seed", type=int, default=None, help="seed of the order only (default --seed)"
    )
    parser.add_argument(
        "--file_tokens",
        type=int,
        default=DEFAULT_FILE_TOKENS,
        help=f"about this many tokens per output file (default {DEFAULT_FILE_TOKENS:,})",
    )
    parser.add_argument("--num_files", type=int, default=None, help="exactly this many train files instead")
    parser.add_argument(
        "--validation_fraction",
        type=float,
        default=0.0,
        help="hold out this fraction of documents for validation/ (default 0: none)",
    )
    parser.add_argument(
        "--separator",
        default=None,
        metavar="TOKEN",
        help="end-of-document token (default: the tokenizer's EOS)",
    )
    parser.add_argument(
        "--bos",
        default=AUTO,
        metavar="TOKEN|none",
        help="start-of-document token (default: the tokenizer's BOS)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing tokenize output in --out"
    )
    return parser


def parse_options(argv: list[str]) -> tuple[TokenizeOptions, list[str]]:
    """Our flags (checked, one-line errors) and the Beam flags left over."""
    args, beam_args = _parser().parse_known_args(argv)
    if args.file_tokens <= 0:
        raise ConfigError("--file_tokens must be a positive number of tokens")
    if args.num_files is not None and args.num_files <= 0:
        raise ConfigError("--num_files must be a positive integer")
    if not 0.0 <= args.validation_fraction < 1.0:
        raise ConfigError("--validation_fraction must be in [0, 1)")
    run_dir = args.run_dir.rstrip("/") or "/"
    if not FileSystems.exists(run_dir):
        raise ConfigError(f"run folder {run_dir} does not exist: run `python -m pipeline run` first")
    spec = make_spec(args.tokenizer, args.separator, args.bos)
    out = args.out.rstrip("/") or "/"
    if "://" not in out:
        out = os.path.abspath(out)  # the manifest and the run's registry name it wherever stats runs from
    opts = TokenizeOptions(
        run_dir=run_dir,
        out=out,
        spec=spec,
        format=args.format,
        seed=args.seed,
        shuffle_seed=args.seed if args.shuffle_seed is None else args.shuffle_seed,
        file_tokens=args.file_tokens,
        num_files=args.num_files,
        validation_fraction=args.validation_fraction,
        overwrite=args.overwrite,
    )
    return opts, beam_args


def _prepare_out(out: str, overwrite: bool) -> None:
    manifest = FileSystems.join(out, "manifest.json")
    existing = [
        m.path
        for split in (TRAIN, VALIDATION, WORK)
        for m in FileSystems.match([FileSystems.join(out, split, "*")])[0].metadata_list
    ]
    if (FileSystems.exists(manifest) or existing) and not overwrite:
        raise ConfigError(f"{out} already holds a tokenize output: pass --overwrite to replace it")
    if existing:
        FileSystems.delete(existing)
    if FileSystems.exists(manifest):
        FileSystems.delete([manifest])


def registry_path(run_dir: str, out: str) -> str:
    """RUN_DIR/tokenized/<id>.json: one per output folder (the same folder again replaces it)."""
    slug = hashlib.sha1(out.encode()).hexdigest()[:10]
    return FileSystems.join(run_dir, REGISTRY, f"{slug}.json")


def tokenize(argv: list[str]) -> dict[str, Any] | None:
    """Run the job; returns the manifest (also in OUT/manifest.json and RUN_DIR/tokenized/), None if only translated."""
    from pipeline.runner import choose_runner, fast_construction, translation_only
    from pipeline.stats import load_manifest, shard_list

    opts, beam_args = parse_options(argv)
    run_manifest = load_manifest(opts.run_dir)
    shards = [FileSystems.join(opts.run_dir, s) for s in shard_list(opts.run_dir, run_manifest)]
    tok = load(opts.spec)  # fails here, with one line, before any work
    dtype = token_dtype(tok.vocab_size, opts.format)
    n_special = 1 + (tok.bos_id is not None)
    options = fast_construction(PipelineOptions(beam_args))
    translation = translation_only(options)
    if not translation:
        _prepare_out(opts.out, opts.overwrite)

    started = time.time()
    runner, runner_name = choose_runner(options)
    work = FileSystems.join(opts.out, WORK, f"results-{uuid.uuid4().hex[:8]}.json")
    p = beam.Pipeline(runner=runner, options=options)
    (
        build_job(p, shards, opts, dtype, n_special)
        | "ResultsToList" >> beam.combiners.ToList()
        | "WriteResults" >> beam.Map(lambda rows: write_json(work, rows))
    )
    if translation:  # Dataflow template / dry run: the graph is written, nothing runs
        p.run()
        print(f"job graph translated for {runner_name}: {translation}", file=sys.stderr)
        return None
    p.run().wait_until_finish()
    results = read_json(work)
    FileSystems.delete([FileSystems.join(opts.out, WORK)])
    manifest = build_manifest(results, opts, tok.describe(), dtype, run_manifest)
    manifest["runner"] = runner_name
    manifest["wall_seconds"] = round(time.time() - started, 2)
    write_json(FileSystems.join(opts.out, "manifest.json"), manifest)
    write_json(registry_path(opts.run_dir, opts.out), manifest)
    return manifest


def format_summary(manifest: dict[str, Any]) -> str:
    """What the command prints: files, documents, tokens per source (target vs achieved)."""
    train, val = manifest["splits"][TRAIN], manifest["splits"][VALIDATION]
    docs = manifest["documents"]
    lines = [
        f"output: {manifest['out']}  ({manifest['format']}, {manifest['dtype']}, {len(train['files'])} train files, "
        f"{train['tokens']:,} tokens; {len(val['files'])} validation files, {val['tokens']:,} tokens)",
        f"documents: read {docs['read']:,} = train {docs['train']:,} + validation {docs['validation']:,} + "
        f"zero repetitions {docs['zero_repetitions']:,} + empty {docs['skipped']['empty_text']:,}",
        "",
    ]
    header = f"{'source':<20} {'raw tokens':>12} {'target':>12} {'achieved':>12} {'epochs':>7}"
    lines += [header, "-" * len(header)]
    for pair, e in manifest["mixture"]["sources"].items():
        lines.append(
            f"{pair:<20} {e['raw_tokens']:>12,} {e['target_tokens']:>12,.0f} {e['achieved_tokens']:>12,} "
            f"{e['epochs']:>7.2f}"
        )
    lines += [f"note: {n}" for n in manifest["mixture"]["notes"]]
    return "\n".join(lines)


def cmd_tokenize(argv: list[str]) -> int:
    if any(a in ("-h", "--help") for a in argv):
        _parser().print_help()
        return 0
    manifest = tokenize(argv)
    if manifest is None:
        return 0
    print(format_summary(manifest))
    return 0 if manifest["documents"]["balanced"] else 1
