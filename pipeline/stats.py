"""Corpus statistics: what ``stats/stats.json`` holds, and the tables of ``stats/report.md``.

``pipeline.report`` writes the report files (``python -m pipeline stats RUN_DIR``, and the end of ``run``) from
``compute_stats`` here. The report is what a data team reads before training on the corpus:

- composition in the shape of BloombergGPT's FinPile Table 1, with the published shares beside it;
- the funnel per source and stage, in documents and tokens (tokens of rejected documents are counted from
  ``rejected/*.jsonl`` with the same BPE tokenizer);
- distributions: lengths, quality score and signals, language confidence, domain score, dedup cluster
  sizes, dates, top web domains, EDGAR companies and form types, subreddits and cashtags;
- a leakage audit (point in time): ``available_at`` per source, documents without a time and, for a cut-off
  run, kept documents that mention a year after the cut-off;
- mixture (target vs achieved), the training data written by ``tokenize`` if any (tokens per source after
  weighting, epochs), seeded samples of kept and rejected documents (PII-redacted), and what is needed to
  reproduce the run.

The numbers come from one small Beam pipeline over the shards (``StatsPipeline``): counts and sums,
fixed-bin histograms (log bins for lengths), approximate quantiles (``beam.ApproximateQuantiles``) and
top-k (``beam.combiners.Top``), so memory does not grow with the corpus and the same code runs on Dataflow.
The driver only renders (``render_markdown`` here, ``pipeline.report_plots``, ``pipeline.report_html``). The layout of ``stats.json``
is documented in ``pipeline/stats_schema.md``.

A run folder's shards are checked against the manifest (existence, sha256, Parquet footer) before anything
is read, so a damaged run fails with one line naming the shard. A folder without ``manifest.json`` is read
as a plain directory of Parquet shards in the document schema (funnel, mixture and samples of rejected
documents are then "not available").
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from apache_beam.io.parquetio import ReadAllFromParquet
from apache_beam.options.pipeline_options import PipelineOptions

from core.errors import ConfigError
from core.schema import SCHEMA_VERSION, entries_to_dict, format_utc
from core.timeinfo import SOURCE_KEY, later_years
from filters.tokens import TOKENIZER_NAME, count_tokens
from pipeline import __version__
from pipeline.profiles import FINANCE, domains_of, reference_of, resolve_profile
from pipeline.runner import choose_runner, fast_construction
from pipeline.stages.write import read_json, write_json

STATS_VERSION = "2"

# The reference composition beside the run's own (FinPile's for finance) comes from the run's profile
# (``profile.reference`` in pipeline/profiles/__init__.py and the profile's config), recorded in the manifest's config.

STATS_COLUMNS = [
    "id",
    "text",
    "source",
    "domain",
    "url",
    "title",
    "date",
    "lang",
    "lang_score",
    "quality_score",
    "quality_signals",
    "dedup_cluster_size",
    "n_chars",
    "n_tokens",
    "mix_weight",
    "metadata",
]
TIME_COLUMN = "available_at"  # schema 2.0 (point in time); read when the shards have it

# Stages in pipeline order (run.build_pipeline); the funnel walks them in this order.
STAGE_ORDER = (
    "read",
    "extract",
    "time",
    "language",
    "quality",
    "pii",
    "decontam",
    "boilerplate",
    "unique_ids",
    "exact_dedup",
    "near_dedup",
    "domain",
    "mix",
)

# Fixed histogram bins. Lengths: 4 log bins per decade from 1 to 10^8 (plus [0, 1) for empty texts).
LENGTH_EDGES = [0.0] + [round(10 ** (k / 4), 3) for k in range(0, 33)]
UNIT_EDGES = [round(i / 50, 2) for i in range(51)]  # scores in [0, 1], bins of 0.02
RATIO_EDGES = [round(i / 100, 2) for i in range(101)]  # signal ratios in [0, 1], bins of 0.01
WORD_LENGTH_EDGES = [i / 4 for i in range(0, 81)]  # mean word length, 0.25-character bins up to 20
MAIN_SIGNALS = {
    "mean_word_length": WORD_LENGTH_EDGES,
    "frac_alpha_words": RATIO_EDGES,
    "symbol_ratio": RATIO_EDGES,
    "numeric_token_ratio": RATIO_EDGES,
    "dup_line_frac": RATIO_EDGES,
}
QUANTILE_POINTS = (0, 1, 5, 10, 25, 50, 75, 90, 95, 99, 100)  # percentiles reported
QUANTILE_FIELDS = ("n_chars", "n_tokens", "quality_score")
TOP_KINDS = ("web_domains", "companies", "form_types", "subreddits", "cashtags")
TOP_K = 20
DEFAULT_SAMPLES = 3
SAMPLE_SEED = "finpile-stats-1"
SAMPLE_CHARS = 300
_SAMPLE_WINDOW = 2000  # characters kept before redaction, so PII near the cut is still recognised
ALL = "all"  # the key of the all-sources aggregate
# Sources whose URLs are not web pages worth ranking (a platform, an encyclopedia or sec.gov).
NON_WEB_SOURCES = frozenset({"social", "wikipedia", "filings"})


# ---------------------------------------------------------------------------------------------------------
# Finding and checking the shards.


def load_manifest(run_dir: str) -> dict[str, Any] | None:
    """The run's manifest, or None when ``run_dir`` is a plain folder of shards."""
    path = FileSystems.join(run_dir, "manifest.json")
    if not FileSystems.exists(path):
        return None
    try:
        return read_json(path)
    except ValueError as exc:
        raise ConfigError(f"{path} is not valid JSON ({exc}); rerun the pipeline with --overwrite") from None


def find_parquet_shards(run_dir: str) -> list[str]:
    """Every ``*.parquet`` below ``run_dir`` (relative paths, sorted), for a folder without a manifest."""
    found: set[str] = set()
    for pattern in ("*.parquet", "**/*.parquet"):
        for result in FileSystems.match([FileSystems.join(run_dir, pattern)]):
            found.update(m.path for m in result.metadata_list)
    return sorted(_relative(run_dir, p) for p in found if "/stats/" not in _relative(run_dir, p) + "/")


def _relative(run_dir: str, path: str) -> str:
    return path[len(run_dir) :].lstrip("/") if path.startswith(run_dir) else path


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with FileSystems.open(path) as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_shard(run_dir: str, rel_path: str, sha256: str | None = None) -> None:
    """Raise ConfigError naming the shard if it is missing, differs from the manifest, or is not readable."""
    path = FileSystems.join(run_dir, rel_path)
    if not FileSystems.exists(path):
        raise ConfigError(
            f"shard {rel_path} listed in the manifest is missing from {run_dir} (rerun the pipeline)"
        )
    if sha256 is not None and _sha256(path) != sha256:
        raise ConfigError(
            f"shard {rel_path} is corrupt: its sha256 differs from the manifest's (rerun the pipeline)"
        )
    try:
        with FileSystems.open(path) as f:
            names = set(pq.ParquetFile(f).schema_arrow.names)
    except Exception as exc:  # pyarrow raises ArrowInvalid/OSError subclasses for broken files
        raise ConfigError(f"shard {rel_path} is corrupt: it cannot be read as Parquet ({exc})") from None
    missing = [c for c in STATS_COLUMNS if c not in names]
    if missing:
        raise ConfigError(
            f"shard {rel_path} does not follow the document schema: no column {', '.join(missing)}"
        )


def shards_have_time(run_dir: str, shards: list[str]) -> bool:
    """Whether every shard has the ``available_at`` column (shards written before it are read without)."""
    for rel in shards:
        with FileSystems.open(FileSystems.join(run_dir, rel)) as f:
            if TIME_COLUMN not in pq.ParquetFile(f).schema_arrow.names:
                return False
    return True


def shard_list(run_dir: str, manifest: dict[str, Any] | None) -> list[str]:
    """Checked relative shard paths: the manifest's, or every Parquet file below a plain folder."""
    if manifest is not None:
        for shard in manifest["shards"]:
            check_shard(run_dir, shard["path"], shard["sha256"])
        return [s["path"] for s in manifest["shards"]]
    if not FileSystems.exists(run_dir):
        raise ConfigError(
            f"{run_dir} has no manifest.json: no such folder (run `python -m pipeline run` first)"
        )
    paths = find_parquet_shards(run_dir)
    if not paths:
        raise ConfigError(
            f"{run_dir} has no manifest.json and no *.parquet shards below it: is it a run folder? "
            "(run `python -m pipeline run` first)"
        )
    for rel in paths:
        check_shard(run_dir, rel)
    return paths


# ---------------------------------------------------------------------------------------------------------
# Pure per-document features and the summary accumulator (tested without Beam).


def bin_index(value: float, edges: list[float]) -> int:
    """Index of the bin [edges[i], edges[i+1]) holding ``value``; clamped to the first and last bin."""
    lo, hi = 0, len(edges) - 2
    if value < edges[1]:
        return 0
    if value >= edges[-2]:
        return hi
    while lo < hi:  # binary search for the last edge <= value
        mid = (lo + hi + 1) // 2
        if edges[mid] <= value:
            lo = mid
        else:
            hi = mid - 1
    return lo


def web_domain(url: str) -> str:
    """Host of a URL without ``www.`` ("" for no URL)."""
    if not url or "://" not in url:
        return ""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def document_date(row: dict[str, Any]) -> str:
    """``YYYY-MM`` of the document's date (or its filing/creation date in metadata), "" when unknown."""
    meta = row.get("metadata") or {}
    for value in (row.get("date"), meta.get("filed"), meta.get("created")):
        value = (value or "").strip()
        if len(value) >= 7 and value[:4].isdigit() and value[4] == "-" and value[5:7].isdigit():
            return value[:7]
    return ""


def normalise_row(row: dict[str, Any]) -> dict[str, Any]:
    """A Parquet row with its map columns as dicts and nulls as the schema's defaults."""
    row = dict(row)
    for name in ("quality_signals", "metadata"):
        row[name] = entries_to_dict(row.get(name))
    for name in ("url", "title", "date", "lang", "domain", "text"):
        row[name] = row.get(name) or ""
    # Scores are float32 in Parquet: 0.9 comes back as 0.8999999762, which would fall into the bin below.
    for name in ("lang_score", "quality_score"):
        row[name] = round(float(row.get(name) or 0.0), 6)
    row["quality_signals"] = {
        k: round(float(v), 6) for k, v in row["quality_signals"].items() if v is not None
    }
    row["mix_weight"] = float(row.get("mix_weight") if row.get("mix_weight") is not None else 1.0)
    row["dedup_cluster_size"] = int(row.get("dedup_cluster_size") or 1)
    row[TIME_COLUMN] = format_utc(row.get(TIME_COLUMN))
    return row


def top_values(row: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, value) pairs a document contributes to the top-k tables."""
    meta = row["metadata"]
    out = []
    host = web_domain(row["url"]) if row["source"] not in NON_WEB_SOURCES else ""
    if host:
        out.append(("web_domains", host))
    if meta.get("company"):
        out.append(("companies", meta["company"].strip()))
    if meta.get("form_type"):
        out.append(("form_types", meta["form_type"].strip().upper()))
    if meta.get("subreddit"):
        out.append(("subreddits", meta["subreddit"].strip()))
    for tag in (meta.get("cashtags") or "").split(","):
        if tag.strip():
            out.append(("cashtags", "$" + tag.strip().upper()))
    return out


def new_summary() -> dict[str, Any]:
    """An empty per-source accumulator: counts, sums and fixed-bin histograms (size independent of data)."""
    return {
        "docs": 0,
        "chars": 0,
        "tokens": 0,
        "weighted_tokens": 0.0,
        "quality_score_sum": 0.0,
        "lang_score_sum": 0.0,
        "hist_n_chars": [0] * (len(LENGTH_EDGES) - 1),
        "hist_n_tokens": [0] * (len(LENGTH_EDGES) - 1),
        "hist_quality_score": [0] * (len(UNIT_EDGES) - 1),
        "hist_lang_score": [0] * (len(UNIT_EDGES) - 1),
        "hist_domain_score": [0] * (len(UNIT_EDGES) - 1),
        "domain_score_docs": 0,
        "domain_moved": {},  # "to_<domain>" / "to_general": documents ClassifyDomain moved
        "signals": {name: [0] * (len(edges) - 1) for name, edges in MAIN_SIGNALS.items()},
        "signal_docs": dict.fromkeys(MAIN_SIGNALS, 0),
        "languages": {},
        "domains": {},
        # chars, tokens and weighted tokens per domain: a source whose documents the domain classifier moved
        # (web pages) sits in both domains' rows of the composition table
        "domain_chars": {},
        "domain_tokens": {},
        "domain_weighted": {},
        "cluster_sizes": {},
        "months": {},
        "undated": 0,
        # point in time: documents per month of available_at, per available_at_source, and without a time
        "available_months": {},
        "available_sources": {},
        "no_time": 0,
    }


def add_document(acc: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    """Fold one normalised row into a summary accumulator."""
    acc["docs"] += 1
    acc["chars"] += int(row["n_chars"])
    acc["tokens"] += int(row["n_tokens"])
    acc["weighted_tokens"] += int(row["n_tokens"]) * row["mix_weight"]
    acc["quality_score_sum"] += row["quality_score"]
    acc["lang_score_sum"] += row["lang_score"]
    acc["hist_n_chars"][bin_index(row["n_chars"], LENGTH_EDGES)] += 1
    acc["hist_n_tokens"][bin_index(row["n_tokens"], LENGTH_EDGES)] += 1
    acc["hist_quality_score"][bin_index(row["quality_score"], UNIT_EDGES)] += 1
    acc["hist_lang_score"][bin_index(row["lang_score"], UNIT_EDGES)] += 1
    domain_score = row["metadata"].get("domain_score")
    if domain_score not in (None, ""):
        try:
            acc["hist_domain_score"][bin_index(float(domain_score), UNIT_EDGES)] += 1
            acc["domain_score_docs"] += 1
        except ValueError:
            pass  # a malformed score is not a statistic
        else:
            before = row["metadata"].get("domain_before")
            if before and before != row["domain"]:
                _inc(acc["domain_moved"], f"to_{row['domain']}")
    for name, edges in MAIN_SIGNALS.items():
        value = row["quality_signals"].get(name)
        if value is not None:
            acc["signals"][name][bin_index(float(value), edges)] += 1
            acc["signal_docs"][name] += 1
    _inc(acc["languages"], row["lang"] or "unknown")
    _inc(acc["domains"], row["domain"])
    _inc(acc["domain_chars"], row["domain"], int(row["n_chars"]))
    _inc(acc["domain_tokens"], row["domain"], int(row["n_tokens"]))
    _inc(acc["domain_weighted"], row["domain"], int(row["n_tokens"]) * row["mix_weight"])
    _inc(acc["cluster_sizes"], str(row["dedup_cluster_size"]))
    month = document_date(row)
    if month:
        _inc(acc["months"], month)
    else:
        acc["undated"] += 1
    if row[TIME_COLUMN]:
        _inc(acc["available_months"], row[TIME_COLUMN][:7])
        _inc(acc["available_sources"], row["metadata"].get(SOURCE_KEY) or "unknown")
    else:
        acc["no_time"] += 1
    return acc


def merge_summaries(accs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Sum accumulators field by field (lists element-wise, dicts key-wise)."""
    out = new_summary()
    for acc in accs:
        _merge_into(out, acc)
    return out


def _merge_into(out: dict[str, Any], acc: dict[str, Any]) -> None:
    for key, value in acc.items():
        if isinstance(value, dict):
            if value and isinstance(next(iter(value.values())), list):
                for name, counts in value.items():
                    out[key][name] = [a + b for a, b in zip(out[key][name], counts, strict=True)]
            else:
                for name, n in value.items():
                    out[key][name] = out[key].get(name, 0) + n
        elif isinstance(value, list):
            out[key] = [a + b for a, b in zip(out[key], value, strict=True)]
        else:
            out[key] += value


def _inc(d: dict[str, int], key: str, n: int = 1) -> None:
    d[key] = d.get(key, 0) + n


def sample_rank(doc_id: str) -> str:
    """A seeded, deterministic random order of documents (the same samples on every run)."""
    return hashlib.sha1(f"{SAMPLE_SEED}:{doc_id}".encode()).hexdigest()


# ---------------------------------------------------------------------------------------------------------
# The Beam pipeline.


class SummaryCombineFn(beam.CombineFn):
    """Counts, sums and fixed-bin histograms of normalised rows (see ``new_summary``)."""

    def create_accumulator(self):
        return new_summary()

    def add_input(self, acc, row):
        return add_document(acc, row)

    def merge_accumulators(self, accs):
        return merge_summaries(accs)

    def extract_output(self, acc):
        return acc


def _sum_tuples(values: Iterable[tuple[int, ...]]) -> tuple[int, ...]:
    totals: list[int] = []
    for value in values:
        if not totals:
            totals = [0] * len(value)
        totals = [a + b for a, b in zip(totals, value, strict=True)]
    return tuple(totals)


def _quantile_pairs(row: dict[str, Any]) -> Iterator[tuple[tuple[str, str], float]]:
    for name in QUANTILE_FIELDS:
        for source in (row["source"], ALL):
            yield (name, source), float(row[name])


def _top_pairs(row: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    for kind, value in top_values(row):
        yield (kind, row["source"], value)
        yield (kind, ALL, value)


def _kept_sample(row: dict[str, Any]) -> tuple[tuple[str, str], tuple]:
    info = {
        "id": row["id"],
        "title": row["title"],
        "url": row["url"],
        "lang": row["lang"],
        "quality_score": round(row["quality_score"], 3),
        "n_tokens": int(row["n_tokens"]),
        "text": row["text"][:_SAMPLE_WINDOW],
    }
    return (row["source"], "kept"), (sample_rank(row["id"]), info)


LEAK_EXCERPT_CHARS = 160


def leak_signal(row: dict[str, Any], as_of: str) -> list[tuple[str, tuple]]:
    """For a kept document mentioning a year after the cut-off: ``[(source, (rank, example))]``, else ``[]``."""
    years = later_years(row["text"], as_of)
    if not years:
        return []
    first = row["text"].find(str(years[0]))
    start = max(0, first - LEAK_EXCERPT_CHARS // 2)
    example = {
        "id": row["id"],
        "title": row["title"],
        "available_at": row[TIME_COLUMN],
        "years": years,
        "excerpt": row["text"][start : start + LEAK_EXCERPT_CHARS],
    }
    return [(row["source"], (sample_rank(row["id"]), example))]


def parse_rejected_line(line: str) -> dict[str, Any]:
    """A rejected record (document fields + stage, reason, duplicate_of) with its text's token count."""
    record = json.loads(line)
    text = record.get("text") or ""
    return {
        "id": record.get("id", ""),
        "source": record.get("source", ""),
        "stage": record.get("stage", ""),
        "reason": record.get("reason", ""),
        "duplicate_of": record.get("duplicate_of", ""),
        "title": record.get("title", ""),
        "url": record.get("url", ""),
        "chars": len(text),
        # counted when the line was written (older runs: counted here)
        "tokens": record.get("n_tokens") or count_tokens(text),
        "text": text[:_SAMPLE_WINDOW],
    }


def _tagged(tag: str):
    return lambda kv: [tag, kv[0], kv[1]]


class StatsPipeline(beam.PTransform):
    """Shard paths -> one list of small tagged results (summaries, quantiles, top-k, rejected, samples)."""

    def __init__(self, rejected_files: list[str], n_samples: int, as_of: str = "", with_time: bool = True):
        super().__init__()
        self._rejected_files = rejected_files
        self._n_samples = n_samples
        self._as_of = as_of
        self._columns = [*STATS_COLUMNS, TIME_COLUMN] if with_time else STATS_COLUMNS

    def expand(self, paths):
        rows = (
            paths
            | "ReadShards" >> ReadAllFromParquet(columns=self._columns)
            | "Normalise" >> beam.Map(normalise_row)
        )
        results = [
            rows
            | "KeyBySource" >> beam.Map(lambda r: (r["source"], r))
            | "Summaries" >> beam.CombinePerKey(SummaryCombineFn())
            | "TagSummaries" >> beam.Map(_tagged("summary")),
            rows
            | "QuantileValues" >> beam.FlatMap(_quantile_pairs)
            | "Quantiles" >> beam.ApproximateQuantiles.PerKey(101)
            | "TagQuantiles" >> beam.Map(_tagged("quantiles")),
        ]
        counted = (
            rows
            | "TopValues" >> beam.FlatMap(_top_pairs)
            | "CountValues" >> beam.combiners.Count.PerElement()
        )
        results += [
            counted
            | "KeyByKind" >> beam.Map(lambda kv: ((kv[0][0], kv[0][1]), (kv[1], kv[0][2])))
            | "TopK" >> beam.combiners.Top.LargestPerKey(TOP_K)
            | "TagTop" >> beam.Map(_tagged("top")),
            counted
            | "DistinctKey" >> beam.Map(lambda kv: ((kv[0][0], kv[0][1]), 1))
            | "CountDistinct" >> beam.CombinePerKey(sum)
            | "TagDistinct" >> beam.Map(_tagged("distinct")),
        ]
        if self._as_of:
            as_of = self._as_of
            leaks = rows | "LeakSignal" >> beam.FlatMap(leak_signal, as_of)
            results += [
                leaks
                | "LeakCount" >> beam.combiners.Count.PerKey()
                | "TagLeakCount" >> beam.Map(_tagged("leak_count")),
                leaks
                | "LeakExamples"
                >> beam.combiners.Top.SmallestPerKey(max(self._n_samples, 3), key=lambda v: v[0])
                | "TagLeakExamples" >> beam.Map(_tagged("leak_examples")),
            ]
        if self._n_samples:
            results.append(
                rows
                | "KeptSampleKey" >> beam.Map(_kept_sample)
                | "KeptSamples" >> beam.combiners.Top.SmallestPerKey(self._n_samples, key=lambda v: v[0])
                | "TagKeptSamples" >> beam.Map(_tagged("samples"))
            )
        if self._rejected_files:
            rejected = (
                paths.pipeline
                | "RejectedFiles" >> beam.Create(self._rejected_files)
                | "ReadRejected" >> beam.io.ReadAllFromText()
                | "ParseRejected" >> beam.Map(parse_rejected_line)
            )
            results.append(
                rejected
                | "RejectedKey"
                >> beam.Map(lambda r: ((r["source"], r["stage"], r["reason"]), (1, r["chars"], r["tokens"])))
                | "RejectedSums" >> beam.CombinePerKey(_sum_tuples)
                | "TagRejected" >> beam.Map(_tagged("rejected"))
            )
            if self._n_samples:
                results.append(
                    rejected
                    | "RejectedSampleKey"
                    >> beam.Map(lambda r: ((r["source"], "rejected"), (sample_rank(r["id"] + r["stage"]), r)))
                    | "RejectedSamples"
                    >> beam.combiners.Top.SmallestPerKey(self._n_samples, key=lambda v: v[0])
                    | "TagRejectedSamples" >> beam.Map(_tagged("samples"))
                )
        return results | "AllResults" >> beam.Flatten() | "ResultsToList" >> beam.combiners.ToList()


def run_stats_pipeline(
    run_dir: str,
    shards: list[str],
    rejected_files: list[str],
    n_samples: int,
    pipeline_args: list[str] | None,
    as_of: str = "",
) -> list[list]:
    """Run ``StatsPipeline`` (DirectRunner by default) and return its tagged results."""
    options = fast_construction(PipelineOptions(pipeline_args or []))
    runner, _ = choose_runner(options)
    out_path = FileSystems.join(run_dir, "stats", f"_work-{uuid.uuid4().hex[:8]}.json")
    paths = [FileSystems.join(run_dir, s) for s in shards]
    rejected = [FileSystems.join(run_dir, r) for r in rejected_files]
    try:
        with beam.Pipeline(runner=runner, options=options) as p:
            (
                p
                | "ShardPaths" >> beam.Create(paths)
                | "Stats"
                >> StatsPipeline(rejected, n_samples, as_of, with_time=shards_have_time(run_dir, shards))
                | "WriteResults" >> beam.Map(lambda rows: write_json(out_path, rows))
            )
        return read_json(out_path)
    finally:
        if FileSystems.exists(out_path):
            FileSystems.delete([out_path])


# ---------------------------------------------------------------------------------------------------------
# From pipeline results to stats.json.


def percentiles(values: list[float]) -> dict[str, float]:
    """Selected percentiles out of the 101 ApproximateQuantiles points (p0 = min, p100 = max)."""
    if not values:
        return {}
    n = len(values) - 1
    return {f"p{q}": _num(values[round(q * n / 100)]) for q in QUANTILE_POINTS}


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(float(x), 4)


def composition(
    summaries: dict[str, dict[str, Any]],
    reference: dict[str, Any] | None = None,
    order: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Table 1: per source and domain, docs, chars, tokens, chars/doc, chars/token and share of tokens, with
    the profile's reference share (``reference["shares"]``, keyed ``domain/source`` and ``domain``) beside
    each row; the ``order`` domains come first, in that order (the profile's own domain, then general)."""
    shares = (reference or reference_of(None))["shares"]
    acc: dict[tuple[str, str], dict[str, float]] = defaultdict(
        lambda: {"docs": 0, "chars": 0, "tokens": 0, "weighted": 0.0}
    )
    languages: Counter[str] = Counter()
    for source, s in summaries.items():
        # One row per (domain, source): web pages the domain classifier moved are counted in the financial
        # domain, the rest of the source in the general one, as in the Mixture table.
        for domain, docs in s["domains"].items():
            a = acc[(domain, source)]
            a["docs"] += docs
            a["chars"] += s["domain_chars"].get(domain, 0)
            a["tokens"] += s["domain_tokens"].get(domain, 0)
            a["weighted"] += s["domain_weighted"].get(domain, 0.0)
        languages.update(s["languages"])
    total_tokens = sum(a["tokens"] for a in acc.values()) or 1
    total_weighted = sum(a["weighted"] for a in acc.values()) or 1.0

    def row(name: str, a: dict[str, float], key: tuple[str, str] | str) -> dict[str, Any]:
        return {
            "name": name,
            "docs": int(a["docs"]),
            "chars": int(a["chars"]),
            "tokens": int(a["tokens"]),
            "chars_per_doc": round(a["chars"] / a["docs"], 1) if a["docs"] else 0.0,
            "chars_per_token": round(a["chars"] / a["tokens"], 3) if a["tokens"] else 0.0,
            "token_share_pct": round(100 * a["tokens"] / total_tokens, 2),
            "weighted_token_share_pct": round(100 * a["weighted"] / total_weighted, 2),
            "reference_share_pct": shares.get(key if isinstance(key, str) else "/".join(key)),
        }

    domains = []
    grand = {"docs": 0, "chars": 0, "tokens": 0, "weighted": 0.0}
    order = order or domains_of(FINANCE)
    extra = sorted({d for d, _ in acc} - set(order))
    for domain in (*order, *extra):
        sources = sorted((s, a) for (d, s), a in acc.items() if d == domain)
        subtotal = {k: sum(a[k] for _, a in sources) for k in grand}
        for k in grand:
            grand[k] += subtotal[k]
        domains.append(
            {
                "domain": domain,
                "sources": [row(s, a, (domain, s)) for s, a in sources],
                "subtotal": row(domain, subtotal, domain),
            }
        )
    return {
        "domains": domains,
        "total": row("total", grand, "total"),
        "languages_kept": dict(sorted(languages.items())),
    }


DOMAIN_THRESHOLDS = (
    0.3,
    0.4,
    0.5,
    0.6,
    0.7,
)  # the report says how many scored documents each would put in the profile's domain


def at_or_above(counts: list[int]) -> dict[str, int]:
    """Documents whose domain score is at least each of ``DOMAIN_THRESHOLDS`` (from the UNIT_EDGES histogram,
    whose 0.02 bins start exactly at those thresholds)."""
    out = {}
    for t in DOMAIN_THRESHOLDS:
        first = next(i for i, edge in enumerate(UNIT_EDGES) if edge >= t - 1e-9)
        out[f"{t:.1f}"] = sum(counts[first:])
    return out


def profile_domain(stats: dict[str, Any]) -> str:
    """The run's own domain (the profile's; ``financial`` for stats written before profiles)."""
    return stats.get("domain") or FINANCE["domain"]


def domain_rows(stats: dict[str, Any]) -> list[list[str]]:
    """Per source with scored documents: scored, moved each way, and how many each threshold puts in the
    profile's domain."""
    rows = []
    own = profile_domain(stats)
    for source, dist in stats["distributions"].items():
        d = dist["domain_score"]
        if not d["docs"]:
            continue
        name = "**all**" if source == ALL else source
        moved = d["moved"]
        rows.append(
            [name, f"{d['docs']:,}", f"{moved.get(f'to_{own}', 0):,}", f"{moved.get('to_general', 0):,}"]
            + [f"{d['at_or_above'][f'{t:.1f}']:,}" for t in DOMAIN_THRESHOLDS]
        )
    return rows


def domain_header(stats: dict[str, Any]) -> list[str]:
    """The header of ``domain_rows``: moved to the profile's domain, moved to general, per threshold."""
    own = profile_domain(stats)
    return ["Source", "Scored", f"Moved to {own}", "Moved to general"] + [
        f">= {t:.1f}" for t in DOMAIN_THRESHOLDS
    ]


def _histogram(edges: list[float], counts: list[int]) -> dict[str, Any]:
    return {"edges": edges, "counts": counts}


def distributions(
    summaries: dict[str, dict[str, Any]], quantiles: dict[tuple[str, str], list], domain: str | None = None
) -> dict:
    """Per source and for all sources: histograms, percentiles, languages, cluster sizes and dates."""
    out = {}
    keyed = dict(summaries)
    keyed[ALL] = merge_summaries(summaries.values())
    for source in [*sorted(summaries), ALL]:
        s = keyed[source]
        docs = s["docs"] or 1
        years: dict[str, int] = {}
        for month, n in s["months"].items():
            _inc(years, month[:4], n)
        out[source] = {
            "docs": s["docs"],
            "n_chars": {
                "histogram": _histogram(LENGTH_EDGES, s["hist_n_chars"]),
                "percentiles": percentiles(quantiles.get(("n_chars", source), [])),
                "mean": round(s["chars"] / docs, 1),
            },
            "n_tokens": {
                "histogram": _histogram(LENGTH_EDGES, s["hist_n_tokens"]),
                "percentiles": percentiles(quantiles.get(("n_tokens", source), [])),
                "mean": round(s["tokens"] / docs, 1),
            },
            "quality_score": {
                "histogram": _histogram(UNIT_EDGES, s["hist_quality_score"]),
                "percentiles": percentiles(quantiles.get(("quality_score", source), [])),
                "mean": round(s["quality_score_sum"] / docs, 4),
            },
            "lang_score": {
                "histogram": _histogram(UNIT_EDGES, s["hist_lang_score"]),
                "mean": round(s["lang_score_sum"] / docs, 4),
            },
            "domain_score": {
                "docs": s["domain_score_docs"],
                "histogram": _histogram(UNIT_EDGES, s["hist_domain_score"]),
                "moved": {
                    k: s["domain_moved"].get(k, 0)
                    for k in (f"to_{domain or FINANCE['domain']}", "to_general")
                },
                "at_or_above": at_or_above(s["hist_domain_score"]),
            },
            "signals": {
                name: {"docs": s["signal_docs"][name], "histogram": _histogram(edges, s["signals"][name])}
                for name, edges in MAIN_SIGNALS.items()
            },
            "languages": dict(sorted(s["languages"].items(), key=lambda kv: (-kv[1], kv[0]))),
            "dedup_cluster_sizes": dict(sorted(s["cluster_sizes"].items(), key=lambda kv: int(kv[0]))),
            "dates": {
                "by_year": dict(sorted(years.items())),
                "by_month": dict(sorted(s["months"].items())),
                "undated": s["undated"],
            },
        }
    return out


def top_tables(top: dict[tuple[str, str], list], distinct: dict[tuple[str, str], int]) -> dict[str, Any]:
    """``{kind: {source: {"distinct": n, "top": [{"value", "docs"}]}}}``, ties broken by value."""
    out: dict[str, Any] = {kind: {} for kind in TOP_KINDS}
    for (kind, source), pairs in sorted(top.items()):
        ranked = sorted(pairs, key=lambda p: (-p[0], p[1]))
        out[kind][source] = {
            "distinct": distinct.get((kind, source), len(ranked)),
            "top": [{"value": v, "docs": n} for n, v in ranked],
        }
    return out


def funnel_tokens(
    funnel: dict[str, Any], rejected: dict[tuple[str, str, str], tuple[int, int, int]], kept: dict[str, dict]
) -> dict[str, Any]:
    """Per source: documents and tokens through each stage, and docs/chars/tokens per rejection reason.

    Tokens are counted on each document's text as it left the pipeline (kept text after cleaning and PII
    redaction; rejected text as the rejecting stage saw it). Errors have no text: their tokens are unknown.
    """
    out = {}
    for source, entry in funnel["sources"].items():
        reasons = {}
        for (src, stage, reason), (docs, chars, tokens) in sorted(rejected.items()):
            if src == source:
                reasons[f"{stage}/{reason}"] = {"docs": docs, "chars": chars, "tokens": tokens}
        seen = {k.split("/")[0] for k in entry["rejected"]} | {k.split("/")[0] for k in entry["errors"]}
        stages = sorted(
            seen | (set(STAGE_ORDER) - {"mix", "time"}),  # "time" only runs with --as_of
            key=lambda s: (STAGE_ORDER.index(s) if s in STAGE_ORDER else len(STAGE_ORDER), s),
        )
        kept_docs = entry["kept"]
        kept_tokens = kept.get(source, {}).get("tokens", 0)
        rows = []
        docs_out, tokens_out = kept_docs, kept_tokens
        for stage in reversed(stages):
            rej_docs = sum(n for k, n in entry["rejected"].items() if k.split("/")[0] == stage)
            err_docs = sum(n for k, n in entry["errors"].items() if k.split("/")[0] == stage)
            rej_tokens = sum(v["tokens"] for k, v in reasons.items() if k.split("/")[0] == stage)
            docs_in = docs_out + rej_docs + err_docs
            tokens_in = tokens_out + rej_tokens
            rows.append(
                {
                    "stage": stage,
                    "docs_in": docs_in,
                    "docs_rejected": rej_docs,
                    "docs_errors": err_docs,
                    "docs_out": docs_out,
                    "tokens_in": tokens_in,
                    "tokens_rejected": rej_tokens,
                    "tokens_out": tokens_out,
                }
            )
            docs_out, tokens_out = docs_in, tokens_in
        out[source] = {
            "read": entry["read"],
            "kept": kept_docs,
            "kept_tokens": kept_tokens,
            "rejected_tokens": sum(v["tokens"] for v in reasons.values()),
            "stages": list(reversed(rows)),
            "rejected_by_reason": reasons,
        }
    return out


def redact_sample(text: str, source: str) -> str:
    """The first ``SAMPLE_CHARS`` characters of ``text`` after PII redaction (rejected texts are raw)."""
    from filters.pii import PiiRedactor

    redacted, _ = PiiRedactor().redact(text, source)
    short = " ".join(redacted[: SAMPLE_CHARS + 200].split())
    return short[:SAMPLE_CHARS] + ("…" if len(short) > SAMPLE_CHARS else "")


def short_label(text: str, limit: int = 80) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"


def samples_table(samples: dict[tuple[str, str], list]) -> dict[str, Any]:
    """``{source: {"kept": [...], "rejected": [...]}}``, texts truncated and PII-redacted."""
    out: dict[str, Any] = {}
    for (source, kind), items in sorted(samples.items()):
        rows = []
        for _, info in sorted(items, key=lambda v: v[0]):
            info = dict(info)
            info["text"] = redact_sample(info["text"], source)
            if kind == "rejected":
                info = {
                    k: info[k]
                    for k in ("id", "stage", "reason", "duplicate_of", "title", "url", "tokens", "text")
                }
            rows.append(info)
        out.setdefault(source, {"kept": [], "rejected": []})[kind] = rows
    return out


def reproducibility(
    manifest: dict[str, Any] | None, stats_seconds: float, shards: list[str]
) -> dict[str, Any]:
    """Config, hashes, versions, runner, inputs and timings (what the manifest records)."""
    if manifest is None:
        return {
            "available": False,
            "finpile_builder_version_stats": __version__,
            "tokenizer": TOKENIZER_NAME,
            "shards": len(shards),
            "stats_seconds": stats_seconds,
        }
    read = manifest["funnel"]["totals"]["read"]
    wall = manifest.get("wall_seconds") or 0.0
    inputs = manifest.get("inputs", [])
    return {
        "available": True,
        "run_name": manifest.get("run_name"),
        "created_at": manifest.get("created_at"),
        "finpile_builder_version": manifest.get("finpile_builder_version"),
        "finpile_builder_version_stats": __version__,
        "schema_version": manifest.get("schema_version"),
        "config_hash": manifest.get("config_hash"),
        "config_file": manifest.get("config_file"),
        "config": manifest.get("config"),
        "minhash": manifest.get("minhash"),
        "runner": manifest.get("runner"),
        "tokenizer": TOKENIZER_NAME,
        "inputs": inputs,
        "input_files": len(inputs),
        "input_bytes": sum(int(i.get("bytes") or 0) for i in inputs),
        "shards": len(shards),
        "shard_bytes": sum(int(s.get("bytes") or 0) for s in manifest["shards"]),
        "wall_seconds": wall,
        "docs_read_per_second": round(read / wall, 1) if wall else None,
        "per_stage_seconds": None,  # the manifest records only the run's total wall time
        "stats_seconds": stats_seconds,
    }


def time_audit(
    summaries: dict[str, dict[str, Any]],
    time_cfg: dict[str, Any],
    leak_count: dict[str, int],
    leak_examples: dict[str, list],
    n_examples: int,
) -> dict[str, Any]:
    """The leakage audit: ``available_at`` per source (by year and month, first and last month, where it came
    from), documents without a time, and for a cut-off run the kept documents mentioning a later year."""
    as_of = str(time_cfg.get("as_of") or "")
    by_source = {}
    for source in sorted(summaries):
        s = summaries[source]
        months = dict(sorted(s["available_months"].items()))
        years: dict[str, int] = {}
        for month, n in months.items():
            _inc(years, month[:4], n)
        by_source[source] = {
            "docs": s["docs"],
            "with_time": s["docs"] - s["no_time"],
            "without_time": s["no_time"],
            "first_month": next(iter(months), ""),
            "last_month": next(reversed(months), "") if months else "",
            "by_year": years,
            "by_month": months,
            "time_sources": dict(sorted(s["available_sources"].items())),
        }
    examples = sorted(
        (e for _, e in (pair for pairs in leak_examples.values() for pair in pairs)),
        key=lambda e: e["id"],
    )
    return {
        "as_of": as_of or None,
        "unknown_policy": time_cfg.get("unknown", "flag") if as_of else None,
        "by_source": by_source,
        "without_time": sum(v["without_time"] for v in by_source.values()),
        "later_year_mentions": {
            "docs": sum(leak_count.values()),
            "by_source": dict(sorted(leak_count.items())),
            "examples": examples[: max(n_examples, 3) * 2],
        }
        if as_of
        else None,
    }


def time_sentences(stats: dict[str, Any]) -> list[str]:
    """The leakage audit in words (report.md and report.html)."""
    audit = stats.get("time")
    if not audit:
        return ["No point-in-time information (shards without available_at)."]
    out = []
    for source, v in audit["by_source"].items():
        span = f"{v['first_month']} to {v['last_month']}" if v["first_month"] else "no time"
        origin = ", ".join(f"{k} {n:,}" for k, n in v["time_sources"].items()) or "-"
        out.append(
            f"{source}: {v['with_time']:,} of {v['docs']:,} documents have available_at ({span}; from: {origin}); "
            f"{v['without_time']:,} without a time."
        )
    if audit["as_of"]:
        leaks = audit["later_year_mentions"]
        out.append(
            f"Cut-off (as_of) {audit['as_of']}, unknown-time policy {audit['unknown_policy']}: "
            f"{leaks['docs']:,} kept documents mention a year after {audit['as_of'][:4]} (a cheap signal of "
            "mis-dated text or of forward-looking statements; inspect the examples)."
        )
    else:
        out.append("No cut-off in this run (--as_of / time.as_of not set).")
    return out


def leak_rows(stats: dict[str, Any]) -> list[list[str]]:
    """Examples of kept documents mentioning a year after the cut-off: id, available_at, years, excerpt."""
    leaks = (stats.get("time") or {}).get("later_year_mentions") or {}
    return [
        [
            e["id"],
            e["available_at"] or "unknown",
            ", ".join(map(str, e["years"])),
            short_label(e["excerpt"], 120),
        ]
        for e in leaks.get("examples", [])
    ]


def compute_stats(
    run_dir: str,
    samples: int = DEFAULT_SAMPLES,
    pipeline_args: list[str] | None = None,
    manifest: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every number of the report (the content of stats.json) for a run folder or a folder of shards.

    ``manifest``: the run's manifest when the caller has it before writing it (``run`` writes the manifest
    last, after the report); else it is read from the folder."""
    run_dir = run_dir.rstrip("/") or "/"
    started = time.time()
    manifest = manifest if manifest is not None else load_manifest(run_dir)
    shards = shard_list(run_dir, manifest)
    rejected_files = list(manifest.get("rejected_files", [])) if manifest else []
    time_cfg = ((manifest or {}).get("config") or {}).get("time") or {}
    as_of = str(time_cfg.get("as_of") or "")
    results = run_stats_pipeline(run_dir, shards, rejected_files, samples, pipeline_args, as_of)

    summaries: dict[str, dict] = {}
    quantiles: dict[tuple[str, str], list] = {}
    top: dict[tuple[str, str], list] = {}
    distinct: dict[tuple[str, str], int] = {}
    rejected: dict[tuple[str, str, str], tuple] = {}
    sample_lists: dict[tuple[str, str], list] = {}
    leak_count: dict[str, int] = {}
    leak_examples: dict[str, list] = {}
    for tag, key, value in results:
        key = tuple(key) if isinstance(key, list) else key
        {"summary": summaries, "quantiles": quantiles, "top": top, "distinct": distinct,
         "rejected": rejected, "samples": sample_lists, "leak_count": leak_count,
         "leak_examples": leak_examples}[tag][key] = value  # fmt: skip

    config = manifest.get("config") if manifest else None
    reference = reference_of(config)
    profile = resolve_profile((config or {}).get("profile"))
    comp = composition(summaries, reference, domains_of(profile))
    stats: dict[str, Any] = {
        "stats_version": STATS_VERSION,
        "schema_version": manifest.get("schema_version", SCHEMA_VERSION) if manifest else SCHEMA_VERSION,
        "run_name": manifest["run_name"] if manifest else run_dir.rstrip("/").rsplit("/", 1)[-1],
        "run_dir": run_dir,
        "has_manifest": manifest is not None,
        "tokenizer": TOKENIZER_NAME,
        "config_hash": manifest.get("config_hash") if manifest else None,
        "shards": len(shards),
        "composition": comp,
        "profile": profile["name"],
        "reference": reference,
        "funnel": None,
        "funnel_tokens": None,
        "languages_identified": None,
        "mixture": None,
        "decontam": None,
        "domain": profile["domain"],
        "distributions": distributions(summaries, quantiles, profile["domain"]),
        "top": top_tables(top, distinct),
        "samples": samples_table(sample_lists),
        "time": time_audit(summaries, time_cfg, leak_count, leak_examples, samples),
    }
    if manifest:
        funnel = manifest["funnel"]
        # kept tokens per source over both domains (a source the domain classifier split has two rows)
        kept: dict[str, dict[str, int]] = {}
        for d in comp["domains"]:
            for r in d["sources"]:
                kept.setdefault(r["name"], {"tokens": 0, "docs": 0})
                kept[r["name"]]["tokens"] += r["tokens"]
                kept[r["name"]]["docs"] += r["docs"]
        languages_seen: Counter[str] = Counter()
        for entry in funnel["sources"].values():
            languages_seen.update(entry.get("languages", {}))
        stats["funnel"] = funnel
        stats["funnel_tokens"] = funnel_tokens(funnel, rejected, kept)
        stats["languages_identified"] = dict(sorted(languages_seen.items(), key=lambda kv: (-kv[1], kv[0])))
        stats["mixture"] = manifest.get("mixture") or None
        stats["decontam"] = manifest.get("decontam") or None
    stats["training_data"] = training_data(run_dir)
    stats["reproducibility"] = reproducibility(manifest, round(time.time() - started, 2), shards)
    return stats


TRAINING_KEYS = ("raw_tokens", "weights", "target_tokens", "achieved_tokens", "epochs", "achieved_share")


def training_data(run_dir: str) -> list[dict[str, Any]]:
    """The ``tokenize`` outputs of this run (``RUN_DIR/tokenized/*.json``) whose files are still there."""
    pattern = FileSystems.join(run_dir, "tokenized", "*.json")
    out = []
    for path in sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list):
        t = read_json(path)
        if not FileSystems.exists(FileSystems.join(t["out"], "manifest.json")):
            continue  # the output folder was removed since: nothing to train on there
        splits = t["splits"]
        out.append(
            {
                "out": t["out"],
                "created_at": t["created_at"],
                "tokenizer": t["tokenizer"]["name"],
                "format": t["format"],
                "dtype": t["dtype"],
                "seed": t["seed"],
                "train_tokens": splits["train"]["tokens"],
                "train_files": len(splits["train"]["files"]),
                "validation_tokens": splits["validation"]["tokens"],
                "validation_files": len(splits["validation"]["files"]),
                "sources": {
                    pair: {k: e[k] for k in TRAINING_KEYS} for pair, e in t["mixture"]["sources"].items()
                },
            }
        )
    return sorted(out, key=lambda t: (t["created_at"], t["out"]))


# ---------------------------------------------------------------------------------------------------------
# Comparing two runs.


def compare_stats(this: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """Per source and in total: docs, tokens and share of tokens in both runs; deltas are this - other."""

    def rows(stats: dict[str, Any]) -> dict[str, dict]:
        return {r["name"]: r for d in stats["composition"]["domains"] for r in d["sources"]}

    a, b = rows(this), rows(other)
    zero = {"docs": 0, "tokens": 0, "token_share_pct": 0.0}

    def delta(x: dict, y: dict) -> dict[str, Any]:
        return {
            "docs": x["docs"],
            "other_docs": y["docs"],
            "docs_delta": x["docs"] - y["docs"],
            "tokens": x["tokens"],
            "other_tokens": y["tokens"],
            "tokens_delta": x["tokens"] - y["tokens"],
            "tokens_delta_pct": round(100 * (x["tokens"] - y["tokens"]) / y["tokens"], 2)
            if y["tokens"]
            else None,
            "share_pct": x["token_share_pct"],
            "other_share_pct": y["token_share_pct"],
            "share_delta_pp": round(x["token_share_pct"] - y["token_share_pct"], 2),
        }

    return {
        "other_run": other["run_dir"],
        "other_run_name": other["run_name"],
        "other_config_hash": other.get("config_hash"),
        "sources": {s: delta(a.get(s, zero), b.get(s, zero)) for s in sorted(set(a) | set(b))},
        "total": delta(this["composition"]["total"], other["composition"]["total"]),
    }


# ---------------------------------------------------------------------------------------------------------
# Markdown.


def _fmt(n: float) -> str:
    return f"{n:,.0f}" if isinstance(n, int) or float(n).is_integer() else f"{n:,.2f}"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def signed(x: float | int | None, unit: str = "") -> str:
    if x is None:
        return "–"
    return (f"{x:+,}" if isinstance(x, int) else f"{x:+,.2f}") + unit


def composition_rows(stats: dict[str, Any]) -> list[tuple[list[str], bool]]:
    """The Table-1 rows as cells, with a flag for subtotal/total rows (shared by Markdown and HTML)."""
    out = []
    comp = stats["composition"]

    def cells(r: dict[str, Any], name: str) -> list[str]:
        return [
            name,
            f"{r['docs']:,}",
            f"{r['chars_per_doc']:,.0f}",
            f"{r['chars_per_token']:.2f}",
            f"{r['tokens']:,}",
            f"{r['token_share_pct']:.2f}",
            f"{r['weighted_token_share_pct']:.2f}",
            _pct(r.get("reference_share_pct")),
        ]

    for dom in comp["domains"]:
        for r in dom["sources"]:
            out.append((cells(r, r["name"]), False))
        out.append((cells(dom["subtotal"], f"{dom['domain']} total"), True))
    out.append((cells(comp["total"], "Grand total"), True))
    return out


COMPOSITION_HEADER = [
    "Dataset",
    "Docs",
    "Chars/Doc",
    "Chars/Token",
    "Tokens",
    "% of tokens",
    "% after mixing",
    "Reference %",
]


def composition_header(stats: dict[str, Any]) -> list[str]:
    """The composition table's header, its last column named after the profile's reference (``FinPile %``)."""
    return [*COMPOSITION_HEADER[:-1], stats.get("reference", {}).get("label") or COMPOSITION_HEADER[-1]]


def _md_table(header: list[str], rows: list[list[str]], right_from: int = 1) -> list[str]:
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join("---" if i < right_from else "---:" for i in range(len(header))) + "|")
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return lines


def render_markdown(stats: dict[str, Any], plots: dict[str, str] | None = None) -> str:
    """The report as Markdown tables, with the PNG plots (file names in ``plots``) beside them."""
    plots = plots or {}

    def image(name: str, alt: str) -> list[str]:
        return [f"![{alt}]({plots[name]})", ""] if name in plots else []

    lines = [f"# Corpus statistics: {stats['run_name']}", ""]
    lines += [
        f"Tokens counted with {stats['tokenizer']}. Config hash `{stats['config_hash'] or 'n/a'}`, "
        f"{stats['shards']} shards. The same report with plots inline: `report.html`; every number: `stats.json` "
        "(layout in `pipeline/stats_schema.md`).",
        "",
        f"## Composition (the shape of {stats['reference']['title']})",
        "",
    ]
    rows = [[f"**{c[0]}**" if bold else c[0], *c[1:]] for c, bold in composition_rows(stats)]
    lines += _md_table(composition_header(stats), rows)
    lines += [
        "",
        (stats["reference"]["note"] + " " if stats["reference"]["note"] else "")
        + "% after mixing weighs each document by its mix_weight.",
        "",
    ]
    lines += image("composition", f"Share of tokens per source vs {stats['reference']['title']}")

    lines += ["## Funnel", ""]
    funnel = stats["funnel"]
    if not funnel:
        lines += ["Not available: no manifest.json (a folder of shards, not a run folder).", ""]
    else:
        frows = []
        for source, e in funnel["sources"].items():
            ft = stats["funnel_tokens"][source]
            frows.append(
                [source, f"{e['read']:,}", f"{e['kept']:,}", f"{e['rejected_total']:,}", f"{e['errors_total']:,}",
                 "yes" if e["balanced"] else "**NO**", f"{ft['kept_tokens']:,}", f"{ft['rejected_tokens']:,}"]
            )  # fmt: skip
        t = funnel["totals"]
        frows.append(
            ["**total**", f"{t['read']:,}", f"{t['kept']:,}", f"{t['rejected_total']:,}", f"{t['errors_total']:,}",
             "yes" if t["balanced"] else "**NO**",
             f"{sum(f['kept_tokens'] for f in stats['funnel_tokens'].values()):,}",
             f"{sum(f['rejected_tokens'] for f in stats['funnel_tokens'].values()):,}"]
        )  # fmt: skip
        lines += _md_table(
            ["Source", "Read", "Kept", "Rejected", "Errors", "Adds up", "Kept tokens", "Rejected tokens"],
            frows,
        )
        lines += [
            "",
            *image("funnel", "Funnel per source"),
            "### Through each stage",
            "",
            STAGE_TABLE_NOTE,
            "",
        ]
        lines += _md_table(
            ["Source", "Stage", "Docs in", "Rejected", "Errors", "Docs out", "Tokens in", "Tokens rejected"],
            stage_rows(stats),
            right_from=2,
        )
        lines += ["", "### Rejected by stage and reason", ""]
        lines += _md_table(["Source", "Stage/reason", "Docs", "Tokens"], reason_rows(stats), right_from=2)
        lines += ["", "### Errors by stage and kind", ""]
        erows = [[s, k, f"{n:,}"] for s, e in funnel["sources"].items() for k, n in e["errors"].items()]
        lines += _md_table(["Source", "Stage/kind", "Records"], erows, right_from=2)
        lines += ["", "### Skipped on purpose by reason", ""]
        lines += ["Records a reader left out by design (never documents, so not in Read).", ""]
        lines += _md_table(["Source", "Reason", "Records"], skipped_rows(funnel), right_from=2)
        lines += ["", lost_note(funnel), ""]

    lines += ["## Languages identified (all extracted documents)", ""]
    if stats["languages_identified"] is None:
        lines += ["Not available without a manifest; languages of the kept documents are below.", ""]
    else:
        lines += _md_table(
            ["Language", "Docs"], [[k, f"{n:,}"] for k, n in stats["languages_identified"].items()]
        )
        lines += [""]
    lines += image("languages", "Languages")

    lines += ["## Distributions", ""]
    lines += _md_table(
        ["Source", "Docs", "Chars p10", "p50", "p90", "max", "Tokens p10", "p50", "p90", "max", "Quality p10",
         "p50", "Mean lang conf."],
        distribution_rows(stats),
    )  # fmt: skip
    lines += [""]
    for name, alt in (
        ("lengths", "Document length"),
        ("scores", "Quality score, language confidence and domain score"),
        ("signals", "Quality signals"),
        ("clusters", "Dedup cluster sizes"),
        ("dates", "Dates"),
    ):
        lines += image(name, alt)
    lines += ["### Domain scores", ""]
    if domain_rows(stats):
        lines += [
            "Documents the domain classifier scored (their source does not decide their domain), how many it moved",
            f"from the domain their source gave them, and how many each threshold would put in {profile_domain(stats)}.",
            "",
        ]
        lines += _md_table(domain_header(stats), domain_rows(stats))
        lines += [""]
    else:
        lines += ['No document carries metadata["domain_score"] in this corpus.', ""]
    lines += ["### Dates", "", dates_sentence(stats), ""]
    lines += ["### Point in time (leakage audit)", "", *[f"- {t}" for t in time_sentences(stats)], ""]
    lines += image("time", "available_at per source")
    if leak_rows(stats):
        lines += _md_table(["Document", "available_at", "Later years", "Excerpt"], leak_rows(stats), 4) + [""]
    lines += ["### Dedup cluster sizes (kept documents)", ""]
    dist_all = stats["distributions"][ALL]
    lines += _md_table(
        ["Cluster size", "Docs"], [[k, f"{n:,}"] for k, n in dist_all["dedup_cluster_sizes"].items()]
    )
    lines += ["", "## Top values", ""]
    for kind, title in TOP_TITLES.items():
        entry = stats["top"][kind].get(ALL)
        lines += [f"### {title}", ""]
        if not entry:
            lines += ["None in this corpus.", ""]
            continue
        lines += [f"{entry['distinct']:,} distinct.", ""]
        lines += _md_table([title, "Docs"], [[t["value"], f"{t['docs']:,}"] for t in entry["top"][:10]])
        lines += [""]
    lines += image("top", "Top values")

    lines += ["## Decontamination", ""]
    lines += decontam_lines(stats.get("decontam"))

    lines += ["## Mixture", ""]
    mixture = stats.get("mixture")
    if not mixture:
        lines += ["Not available: no mixture in the manifest.", ""]
    else:
        lines += _md_table(
            ["Source", "Domain", "Raw tokens", "Weight", "Target %", "Achieved %"],
            mixture_rows(mixture),
            right_from=2,
        )
        lines += ["", *image("mixture", "Mixture")]
        lines += [f"> {note}" for note in mixture.get("notes", [])]
        lines += [""]

    if stats.get("training_data"):
        lines += ["## Training data", ""]
    for t in stats.get("training_data") or []:
        lines += [training_sentence(t), ""]
        lines += _md_table(TRAINING_HEADER, training_rows(t)) + [""]

    if stats.get("compare"):
        lines += compare_markdown(stats["compare"])
        lines += image("compare", "Comparison")

    lines += ["## Samples", ""]
    lines += [
        f"Seeded random documents per source (the same on every run), the first {SAMPLE_CHARS} characters, PII "
        "redacted.",
        "",
    ]
    if not stats["samples"]:
        lines += ["None (--samples 0).", ""]
    for source, kinds in stats["samples"].items():
        lines += [f"### {source}", ""]
        for s in kinds["kept"]:
            lines += [f"- **kept** `{s['id']}` {short_label(s['title'])}: {_quote(s['text'])}"]
        for s in kinds["rejected"]:
            lines += [f"- **rejected {s['stage']}/{s['reason']}** `{s['id']}`: {_quote(s['text'])}"]
        lines += [""]

    lines += ["## Reproducibility", ""]
    lines += [f"- {k}: {v}" for k, v in repro_items(stats)]
    lines += [""]
    return "\n".join(lines) + "\n"


def decontam_lines(decontam: dict[str, Any] | None) -> list[str]:
    """Markdown lines of the decontamination section: per evaluation set, documents dropped and flagged."""
    if not decontam:
        return ["Not available: no decontamination record in the manifest.", ""]
    index = decontam.get("index") or {}
    lines = [f"- {line}" for line in decontam.get("lines", [])] or ["- No evaluation set was checked."]
    lines += [
        "",
        f"Mode `{decontam.get('mode')}`, {index.get('ngram')}-grams (items under {index.get('min_words')} words: "
        f"whole-document match); index of {index.get('n_grams', 0):,} hashed n-grams, "
        f"{index.get('bytes', 0):,} bytes.",
        "",
    ]
    return lines


def _quote(text: str) -> str:
    return "«" + text.replace("|", "\\|").replace("*", "\\*").replace("`", "'").replace("<", "&lt;") + "»"


TOP_TITLES = {
    "web_domains": "Web domains (web, news, press, c4)",
    "companies": "EDGAR companies",
    "form_types": "EDGAR form types",
    "subreddits": "Subreddits",
    "cashtags": "Cashtags",
}


STAGE_TABLE_NOTE = (
    "Only the stages where documents left are listed (rejected or failed); every stage of every source is in "
    "stats.json (funnel_tokens)."
)


def stage_rows(stats: dict[str, Any]) -> list[list[str]]:
    """Per source, the stages that removed documents (a stage where nothing happened is a row of zeros)."""
    rows = []
    for source, ft in stats["funnel_tokens"].items():
        for r in ft["stages"]:
            if not (r["docs_rejected"] or r["docs_errors"]):
                continue
            rows.append(
                [source, r["stage"], f"{r['docs_in']:,}", f"{r['docs_rejected']:,}", f"{r['docs_errors']:,}",
                 f"{r['docs_out']:,}", f"{r['tokens_in']:,}", f"{r['tokens_rejected']:,}"]
            )  # fmt: skip
    return rows


def reason_rows(stats: dict[str, Any]) -> list[list[str]]:
    rows = []
    for source, e in stats["funnel"]["sources"].items():
        by_reason = stats["funnel_tokens"][source]["rejected_by_reason"]
        for reason, n in e["rejected"].items():
            tokens = by_reason.get(reason, {}).get("tokens")
            rows.append([source, reason, f"{n:,}", "–" if tokens is None else f"{tokens:,}"])
    return rows


def distribution_rows(stats: dict[str, Any]) -> list[list[str]]:
    rows = []
    for source, d in stats["distributions"].items():
        c, t, q = d["n_chars"]["percentiles"], d["n_tokens"]["percentiles"], d["quality_score"]["percentiles"]

        def g(p: dict, k: str) -> str:
            return _fmt(p[k]) if k in p else "–"

        rows.append(
            [source if source != ALL else "**all**", f"{d['docs']:,}", g(c, "p10"), g(c, "p50"), g(c, "p90"),
             g(c, "p100"), g(t, "p10"), g(t, "p50"), g(t, "p90"), g(t, "p100"), f"{q['p10']:.2f}" if q else "–", f"{q['p50']:.2f}" if q else "–",
             f"{d['lang_score']['mean']:.3f}"]
        )  # fmt: skip
    return rows


def dates_sentence(stats: dict[str, Any]) -> str:
    d = stats["distributions"][ALL]["dates"]
    years = d["by_year"]
    if not years:
        return f"No document has a date ({d['undated']:,} undated)."
    span = f"{min(years)}–{max(years)}"
    dated = sum(years.values())
    reference = stats.get("reference") or reference_of(None)
    inside = ""
    if reference.get("span"):  # the reference corpus's years (FinPile: 2007-2022), when it publishes them
        first, last = (str(y) for y in reference["span"])
        n = sum(n for y, n in years.items() if first <= y <= last)
        inside = f" ({100 * n / dated:.1f}% inside {reference['span_name']}'s {first}–{last} span)"
    return (
        f"{dated:,} dated documents from {span}{inside}, "
        f"{d['undated']:,} undated. By year: " + ", ".join(f"{y} {n:,}" for y, n in years.items()) + "."
    )


def mixture_rows(mixture: dict[str, Any]) -> list[list[str]]:
    rows = []
    for source, m in mixture.get("sources", {}).items():
        rows.append(
            [source, m["domain"], f"{m['raw_tokens']:,}", f"{m['weight']:.3f}", f"{100 * m['target_share']:.2f}",
             f"{100 * m['achieved_share']:.2f}"]
        )  # fmt: skip
    for domain, m in mixture.get("domains", {}).items():
        rows.append(
            [f"**{domain} total**", domain, f"{m['raw_tokens']:,}", "", f"{100 * m['target_share']:.2f}",
             f"{100 * m['achieved_share']:.2f}"]
        )  # fmt: skip
    return rows


TRAINING_HEADER = ["Source", "Raw tokens", "Weight", "Target tokens", "Achieved tokens", "Epochs", "Share %"]


def training_sentence(t: dict[str, Any]) -> str:
    val = f", validation {t['validation_tokens']:,} tokens" if t["validation_files"] else ""
    return (
        f"`{t['out']}`: {t['tokenizer']}, {t['format']} ({t['dtype']}), seed {t['seed']}, written "
        f"{t['created_at']}: {t['train_tokens']:,} training tokens in {t['train_files']} files{val}. Tokens per "
        "source after weighting (mix_weight as repetitions), counted with this tokenizer, without separators."
    )


def training_rows(t: dict[str, Any]) -> list[list[str]]:
    return [
        [pair, f"{e['raw_tokens']:,}", "/".join(f"{w:.3f}" for w in e["weights"]), f"{e['target_tokens']:,.0f}",
         f"{e['achieved_tokens']:,}", f"{e['epochs']:.2f}", f"{100 * e['achieved_share']:.2f}"]
        for pair, e in t["sources"].items()
    ]  # fmt: skip


def compare_rows(cmp: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, d in [*cmp["sources"].items(), ("total", cmp["total"])]:
        rows.append(
            [name, f"{d['other_docs']:,}", f"{d['docs']:,}", signed(d["docs_delta"]), f"{d['other_tokens']:,}",
             f"{d['tokens']:,}", signed(d["tokens_delta"]), signed(d["tokens_delta_pct"], "%"),
             f"{d['other_share_pct']:.2f}", f"{d['share_pct']:.2f}", signed(d["share_delta_pp"], " pp")]
        )  # fmt: skip
    return rows


COMPARE_HEADER = ["Source", "Docs (other)", "Docs", "Δ docs", "Tokens (other)", "Tokens", "Δ tokens", "Δ tokens %",
                  "Share % (other)", "Share %", "Δ share"]  # fmt: skip


def compare_markdown(cmp: dict[str, Any]) -> list[str]:
    lines = [
        f"## Compared with {cmp['other_run_name']}",
        "",
        f"Other run: `{cmp['other_run']}` (config hash `{cmp['other_config_hash'] or 'n/a'}`). Δ = this run − other.",
        "",
    ]
    return lines + _md_table(COMPARE_HEADER, compare_rows(cmp)) + [""]


def repro_items(stats: dict[str, Any]) -> list[tuple[str, str]]:
    r = stats["reproducibility"]
    if not r["available"]:
        return [
            ("manifest", "not available (a folder of shards): config, runner, inputs and timings unknown"),
            ("tokenizer", r["tokenizer"]),
            ("shards", str(r["shards"])),
            (
                "stats computed in",
                f"{r['stats_seconds']:.1f} s with finpile-builder {r['finpile_builder_version_stats']}",
            ),
        ]
    dps = r["docs_read_per_second"]
    return [
        ("run", f"{r['run_name']} created {r['created_at']}"),
        ("finpile-builder version", str(r["finpile_builder_version"])),
        ("document schema version", str(r["schema_version"])),
        ("config hash", f"`{r['config_hash']}` (config file: {r['config_file'] or 'embedded default'})"),
        ("minhash", str(r["minhash"])),
        ("runner", str(r["runner"])),
        ("tokenizer", r["tokenizer"]),
        ("inputs", f"{r['input_files']} files, {r['input_bytes']:,} bytes (listed in stats.json)"),
        ("output", f"{r['shards']} shards, {r['shard_bytes']:,} bytes"),
        (
            "wall time",
            f"{r['wall_seconds']:.1f} s, {dps if dps is not None else '–'} documents read per second",
        ),
        ("per-stage time", "not recorded by the run (the manifest has only the total wall time)"),
        ("stats computed in", f"{r['stats_seconds']:.1f} s"),
    ]


# ---------------------------------------------------------------------------------------------------------
# Entry points.


def skipped_rows(funnel: dict[str, Any]) -> list[list[str]]:
    """(source, reason, records) for the records readers skipped on purpose."""
    return [[s, r, f"{n:,}"] for s, e in funnel["sources"].items() for r, n in e.get("skipped", {}).items()]


def lost_note(funnel: dict[str, Any]) -> str:
    """One sentence on what errors say they lost beyond their own record."""
    t = funnel["totals"]
    return (
        f"Lost to errors beyond their own record: {t.get('lost_bytes', 0):,} bytes, "
        f"{t.get('lost_records', 0):,} records (details in errors/)."
    )
