"""Build and run the corpus pipeline, then write the manifest and the stats report.

sources -> Extract -> CutAtTime (with --as_of) -> IdentifyLanguage -> ScoreQuality -> RedactPII -> Decontaminate -> RemoveBoilerplate
        -> Deduplicate (exact, then near) -> ClassifyDomain
        -> AssignDomainAndMix -> WriteShards, with every stage's rejected/ and errors/ outputs written beside.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.timestamp import MIN_TIMESTAMP
from apache_beam.utils.windowed_value import WindowedValue
from pydantic import ValidationError

from core.errors import ConfigError
from core.schema import SCHEMA_VERSION, Document, RawRecord, RecordError, Rejected
from pipeline import __version__, progress
from pipeline.config import Config, format_errors, load_config, make_input
from pipeline.flow import (
    DOC_PART_BYTES,
    DOC_PARTS_PER_RAW,
    RAW_PART_BYTES,
    RAW_PART_OBJECTS,
    BoilerplateKeySet,
    DedupDecisions,
    KeysFn,
    MixtureAndSizes,
    SpillDocsFn,
    SpillFn,
    WriteDecided,
    read_part,
)
from pipeline.input_options import group_cli_inputs, option_value
from pipeline.options import FinPileOptions
from pipeline.profiles import profile_config_path
from pipeline.runlock import RunLock
from pipeline.runner import choose_runner, fast_construction, translation_only
from pipeline.spill import ALONE_COUNTER, CANDIDATES_COUNTER, SHUFFLE_COUNTER, WriteLines, spill_bytes
from pipeline.stages.base import REJECTED, Spread, apply_stage
from pipeline.stages.decontam import Decontaminate, count_keys, finish_section, per_set_counts
from pipeline.stages.dedup import Deduplicate
from pipeline.stages.domain import DomainConfig, check_model_label
from pipeline.stages.extract import Extract
from pipeline.stages.language import IdentifyLanguage
from pipeline.stages.pii import RedactPII
from pipeline.stages.quality import ScoreQuality
from pipeline.stages.read import InputFile, ReadSources, list_input_files
from pipeline.stages.timecut import CutAtTime
from pipeline.stages.write import error_to_line, read_json, rejected_to_line, write_json
from pipeline.worker import WarmWorkers, fork_allowed
from sources import READERS
from sources.ranges import DEFAULT_RANGE_BYTES

_LOG = logging.getLogger(__name__)

WORK_DIR = "_work"  # small files the pipeline hands back to the driver (removed once the manifest is written)


@dataclasses.dataclass
class RunPlan:
    """Everything a run needs, resolved from config + flags before the pipeline is built."""

    config: Config
    run_dir: str
    files: list[InputFile]
    write_stats: bool
    decontam: dict[str, Any] = dataclasses.field(default_factory=dict)  # the manifest's decontam section
    delete_spill: bool = True  # delete spill parts once read (local runs; a remote runner may retry bundles)
    workers: int | None = None  # local worker processes (``Spread`` balances work over them); None: remote
    part_records: int = RAW_PART_OBJECTS  # raw records per spill part (documents per part: 5x)
    range_bytes: int = DEFAULT_RANGE_BYTES  # a big file is read in byte ranges of this size (0: whole files)


def config_path(config: str | None, profile: str | None) -> str | None:
    """The config file of a run: ``--config``, else the ``--profile``'s shipped config, else the default."""
    if profile is not None:
        path = profile_config_path(profile)  # checks the name even when --config is given
        return config or path
    return config


def effective_config(opts: FinPileOptions, argv: list[str] | None = None) -> Config:
    """The config file with the command-line overrides applied (each override checked like the file).

    ``argv`` (the run's arguments) tells which ``--option KEY=VALUE`` follows which ``--input`` (see
    ``pipeline.input_options``); without it, the ``--input`` flags get no options.
    """
    cfg = load_config(config_path(opts.config, opts.profile)).model_copy(deep=True)
    if opts.profile and opts.config and cfg.profile.name != opts.profile:
        raise ConfigError(
            f"--profile {opts.profile} but --config {opts.config} follows profile {cfg.profile.name}: "
            "pass one of them (a config names its profile under profile.name)"
        )
    if getattr(opts, "input_option", None) and not opts.inputs:
        raise ConfigError(
            "--option applies to the --input before it; to set a config input's options, edit its 'options:'"
        )
    if opts.inputs:
        grouped = group_cli_inputs(argv) if argv is not None else [(i, {}) for i in opts.inputs]
        specs = []
        for n, (item, options) in enumerate(grouped):
            kind, sep, path = item.partition("=")
            if not sep or not path:
                raise ConfigError(f"--input {item!r}: expected KIND=PATH, e.g. --input warc=data/*.warc.gz")
            if kind not in READERS:
                raise ConfigError(
                    f"--input {item!r}: unknown source kind {kind!r}; known: {', '.join(sorted(READERS))}"
                )
            specs.append(
                make_input(
                    kind,
                    [path],
                    name=f"{kind}-{n}",
                    options={key: option_value(value) for key, value in options.items()},
                    where=f"--input {item!r}",
                )
            )
        _override(cfg, "inputs", specs, "--input")
    if opts.only:
        wanted = [n.strip() for n in opts.only.split(",") if n.strip()]
        unknown = sorted(set(wanted) - {i.name for i in cfg.inputs})
        if unknown:
            raise ConfigError(
                f"--only: no input named {', '.join(unknown)}; inputs in the config: {', '.join(i.name for i in cfg.inputs)}"
            )
        _override(cfg, "inputs", [i for i in cfg.inputs if i.name in wanted], "--only")
    if opts.output_root:
        _override(cfg, "output_root", opts.output_root, "--output_root")
    if opts.run_name:
        _override(cfg, "run_name", opts.run_name, "--run_name")
    if opts.max_rows_per_shard is not None:
        _override(cfg.shards, "max_rows", opts.max_rows_per_shard, "--max_rows_per_shard")
    if opts.label_only:
        _override(cfg.quality, "label_only", True, "--label_only")
    if opts.as_of:
        _override(cfg.time, "as_of", opts.as_of, "--as_of")
    if opts.time_unknown:
        _override(cfg.time, "unknown", opts.time_unknown, "--time_unknown")
    if opts.partition_by_period:
        _override(cfg.shards, "partition_by_period", opts.partition_by_period, "--partition_by_period")
    return cfg


def _override(section: Any, key: str, value: Any, flag: str) -> None:
    """Set one config value from a flag, checked by the schema like a value in the file."""
    try:
        setattr(section, key, value)
    except ValidationError as exc:
        problem = format_errors(exc, type(section), where="")[0].split(": ", 1)[-1]
        raise ConfigError(f"{flag} {value!r}: {problem}") from None


def prepare_run_dir(run_dir: str, overwrite: bool, config_hash: str) -> None:
    """Never mix two runs in one folder.

    - a finished run (it has manifest.json) is replaced only with --overwrite;
    - an unfinished run (killed before its manifest was written) of the same config is restarted from scratch:
      shard names are deterministic and fetch caches live elsewhere, so the restart gives the same output;
    - an unfinished run of another config needs --overwrite.
    """
    if FileSystems.exists(run_dir):
        manifest = FileSystems.join(run_dir, "manifest.json")
        started = FileSystems.join(run_dir, WORK_DIR, "started.json")
        if overwrite:
            pass
        elif FileSystems.exists(manifest):
            raise ConfigError(
                f"{run_dir} already holds a run; pass --overwrite to replace it, or --run_name NAME for a new one"
            )
        elif not FileSystems.exists(started) or _started_hash(started) != config_hash:
            raise ConfigError(
                f"{run_dir} holds an unfinished run of another config (or other files); "
                "pass --overwrite to replace it, or --run_name NAME for a new one"
            )
        else:
            _LOG.warning("%s holds an unfinished run of the same config: restarting it", run_dir)
        FileSystems.delete([run_dir])
    try:
        write_json(
            FileSystems.join(run_dir, WORK_DIR, "started.json"),
            {"started_at": _now(), "config_hash": config_hash},
        )
    except OSError as exc:
        raise ConfigError(
            f"cannot write to output folder {run_dir}: {exc} (choose another --output_root)"
        ) from None


def _started_hash(path: str) -> str:
    try:
        return str(read_json(path).get("config_hash", ""))
    except (OSError, ValueError):
        return ""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _count_key_read(item: RawRecord | RecordError) -> tuple:
    return ("read", item.source)


def _count_key_rejected(rejected: Rejected) -> tuple:
    return ("rejected", rejected.document.source, rejected.stage, rejected.reason)


def _count_key_error(error: RecordError) -> tuple:
    return ("error", error.source, error.stage, error.kind)


def _count_key_time(doc: Document) -> tuple:
    return ("time", doc.source, "known" if doc.available_at else "unknown")


def _count_key_kept(doc: Document) -> tuple:
    return ("kept", doc.source, doc.domain)


def _lost_keys(error: RecordError) -> list[tuple[tuple, int]]:
    """What an error says it lost beyond its own record: bytes and further records."""
    out = []
    if error.lost_bytes:
        out.append((("lost_bytes", error.source), int(error.lost_bytes)))
    if error.lost_records:
        out.append((("lost_records", error.source), int(error.lost_records)))
    return out


def _error_keys(error: RecordError) -> list[tuple[tuple, int]]:
    """An error's own count and what it says it lost."""
    return [(_count_key_error(error), 1), *_lost_keys(error)]


class CountFn(beam.DoFn):
    """(key, n) counts of ``key_fn`` over a bundle, emitted once per distinct key when the bundle ends: only
    one count per key and bundle crosses into the funnel, never one element per document, and the count runs
    fused into the stage that made the elements (no stage of its own).

    ``mode``: ``"one"`` (``key_fn`` returns a key), ``"flat"`` (a list of keys) or ``"weighted"`` (a list of
    (key, n) pairs).
    """

    def __init__(self, key_fn, mode: str = "one"):
        self._key_fn, self._mode = key_fn, mode

    def start_bundle(self):
        self._counts: dict[tuple, int] = defaultdict(int)

    def process(self, element: Any) -> Iterator[Any]:
        counts = self._counts
        if self._mode == "one":
            counts[self._key_fn(element)] += 1
        elif self._mode == "flat":
            for key in self._key_fn(element):
                counts[key] += 1
        else:
            for key, n in self._key_fn(element):
                counts[key] += n
        return iter(())

    def finish_bundle(self):
        counts, self._counts = self._counts, defaultdict(int)
        for item in counts.items():
            yield WindowedValue(item, MIN_TIMESTAMP, [GlobalWindow()])


def _count(pcoll, label: str, key_fn, flat: bool = False, weighted: bool = False):
    """Per-bundle (key, n) counts of ``key_fn`` over ``pcoll`` (``CountFn``); the funnel sums them with one
    CombinePerKey over all counts. ``flat``: ``key_fn`` returns a list of keys; ``weighted``: (key, n) pairs."""
    mode = "weighted" if weighted else "flat" if flat else "one"
    return pcoll | f"Count{label}" >> beam.ParDo(CountFn(key_fn, mode))


def _write_lines(pcoll, label: str, run_dir: str, folder: str, prefix: str, to_line) -> None:
    pcoll | f"Write{label}" >> beam.ParDo(WriteLines(FileSystems.join(run_dir, folder), prefix, to_line))


def build_pipeline(p: beam.Pipeline, plan: RunPlan) -> None:
    """Add every stage of the corpus pipeline to ``p`` (the phases are described in ``pipeline.flow``).

    Whole records and documents never cross a shuffle or a fused-stage boundary: they go through spill parts
    under ``_work/``; what crosses is part paths, small keys (boilerplate paragraph keys, dedup keys and ids,
    ``Stub``s, decisions, shard pieces) and per-bundle counts for the funnel. rejected/ and errors/ lines are
    written by the stage that made them.
    """
    cfg, run_dir = plan.config, plan.run_dir
    work = FileSystems.join(run_dir, WORK_DIR)
    spill = FileSystems.join(work, "spill")
    delete = plan.delete_spill
    label_only = cfg.quality.label_only
    counts = []  # (key, n) PCollections: the funnel

    def rejected_out(pcoll, label: str) -> None:
        _write_lines(pcoll, f"Rejected{label}", run_dir, "rejected", label.lower(), rejected_to_line)
        counts.append(_count(pcoll, f"Rejected{label}", _count_key_rejected))

    def errors_out(pcoll, label: str) -> None:
        _write_lines(pcoll, f"Errors{label}", run_dir, "errors", label.lower(), error_to_line)
        counts.append(_count(pcoll, f"Errors{label}", _error_keys, weighted=True))

    # Phase 1: read files, spill raw records into small parts (one big file spreads over every worker).
    workers = plan.workers
    records, read_errors, skipped = p | "ReadSources" >> ReadSources(
        plan.files, with_skipped=True, range_bytes=plan.range_bytes, workers=workers
    )
    counts.append(_count(records, "Read", _count_key_read))
    counts.append(_count(read_errors, "ReadErrorsRead", _count_key_read))
    errors_out(read_errors, "Read")
    counts.append(skipped | "KeySkipped" >> beam.Map(lambda s: (("skipped", s.source, s.reason), s.count)))
    raw_parts = records | "SpillRecords" >> beam.ParDo(
        SpillFn(spill, "raw", plan.part_records, RAW_PART_BYTES)
    )

    # Phase 2: the per-document stages, fused, one raw part at a time.
    records = (
        raw_parts
        | "SpreadRawParts" >> Spread(spill_bytes, workers)
        | "ReadRawParts" >> beam.FlatMap(read_part, delete)
    )
    input_options = {spec.name: spec.reader_options() for spec in cfg.inputs}
    docs, extract_rejected, extract_errors, derived = records | "Extract" >> Extract(
        cfg.source_domains, input_options
    )
    rejected_out(extract_rejected, "Extract")
    errors_out(extract_errors, "Extract")
    counts.append(_count(derived, "Derived", lambda sn: [(("derived", sn[0]), sn[1])], weighted=True))
    # Point in time: what is known about each document's time is counted; --as_of cuts here, before any cost.
    counts.append(_count(docs, "Time", _count_key_time))
    if cfg.time.as_of:
        docs, cut_rejected, cut_errors = apply_stage(docs, "CutAtTime", CutAtTime(cfg.time))
        rejected_out(cut_rejected, "Time")
        errors_out(cut_errors, "Time")
    docs, lang_rejected, lang_errors = docs | "IdentifyLanguage" >> IdentifyLanguage(cfg.language, label_only)
    rejected_out(lang_rejected, "Language")
    errors_out(lang_errors, "Language")
    counts.append(_count(docs, "Lang", _count_key_lang))
    counts.append(_count(lang_rejected, "LangRejected", lambda r: _count_key_lang(r.document)))
    docs, quality_rejected, quality_errors = docs | "ScoreQuality" >> ScoreQuality(cfg.quality)
    rejected_out(quality_rejected, "Quality")
    errors_out(quality_errors, "Quality")
    docs, pii_rejected, pii_errors = docs | "RedactPII" >> RedactPII(cfg.pii)
    rejected_out(pii_rejected, "PII")
    errors_out(pii_errors, "PII")
    decontaminate = Decontaminate(cfg.decontam)  # builds the index once; warns about missing sets
    plan.decontam = decontaminate.report
    docs, decontam_rejected, decontam_errors = docs | "Decontaminate" >> decontaminate
    rejected_out(decontam_rejected, "Decontam")
    errors_out(decontam_errors, "Decontam")
    counts.append(_count(docs, "DecontamKept", count_keys, flat=True))
    counts.append(_count(decontam_rejected, "DecontamRejected", count_keys, flat=True))
    bp_cfg = cfg.boilerplate.config()
    spilled = docs | "SpillDocs" >> beam.ParDo(
        SpillDocsFn(spill, plan.part_records * DOC_PARTS_PER_RAW, DOC_PART_BYTES, bp_cfg)
    ).with_outputs("pkeys", "sketch", main="parts")
    doc_parts = spilled.parts
    keys_by_source = (spilled.sketch, spilled.pkeys) | "RemoveBoilerplate" >> BoilerplateKeySet(
        bp_cfg, None, delete
    )

    # Phase 3: boilerplate removed, dedup/domain/token keys computed; only keys and Stubs go on.
    dedup = cfg.dedup
    exact, near = dedup.exact, dedup.near.enabled
    domain_cfg = DomainConfig.from_settings(cfg.domain, cfg.profile.domain)
    check_model_label(domain_cfg)
    domain_of = dict(cfg.source_domains)
    period_by = cfg.shards.partition_by_period or ""
    keyed = (
        doc_parts
        | "SpreadDocParts" >> Spread(spill_bytes, workers)
        | "KeyDocuments"
        >> beam.ParDo(
            KeysFn(
                spill,
                bp_cfg,
                domain_cfg,
                domain_of,
                dedup.minhash() if near else None,
                list(dedup.priority),
                exact,
                near and dedup.near.verify,
                period_by,
                delete,
            ),
            beam.pvalue.AsSingleton(keys_by_source),
        ).with_outputs(REJECTED, "sketch", "parts", main="stub_parts")
    )
    rejected_out(keyed[REJECTED], "Boilerplate")
    decided = {"stub_parts": keyed.stub_parts, "sketch": keyed.sketch} | "Dedup" >> DedupDecisions(
        Deduplicate.from_settings(dedup) if (exact or near) else None,
        exact,
        near,
        None,  # the key sketch's width follows the keys seen
        delete,
        near and dedup.near.verify,
        workers,
    )
    mixture, sizes = decided | "AssignDomainAndMix" >> MixtureAndSizes(domain_of, cfg.mix)

    # Phase 4: each part read once more, its documents decided; kept ones to shard pieces, merged per shard.
    shards, kept, decided_rejected, decided_errors = (
        decided,
        mixture,
        sizes,
    ) | "WriteShards" >> WriteDecided(
        run_dir, spill, domain_cfg, domain_of, cfg.shards.max_rows, period_by, delete, workers
    )
    rejected_out(decided_rejected, "Decided")
    errors_out(decided_errors, "Decided")
    counts.append(_count(kept, "Kept", _count_key_kept))

    # The funnel: one count per (kind, source, ...) key, handed back to the driver for the manifest.
    (
        counts
        | "AllCounts" >> beam.Flatten()
        | "CountKeys" >> beam.CombinePerKey(sum)
        | "CountsToList" >> beam.combiners.ToList()
        | "WriteCounts"
        >> beam.Map(lambda rows: write_json(FileSystems.join(work, "counts.json"), sorted(rows)))
    )
    (
        shards
        | "ShardsToList" >> beam.combiners.ToList()
        | "WriteShardList"
        >> beam.Map(
            lambda rows: write_json(
                FileSystems.join(work, "shards.json"), sorted(rows, key=lambda r: r["path"])
            )
        )
    )
    mixture | "WriteMixture" >> beam.Map(lambda m: write_json(FileSystems.join(work, "mixture.json"), m))


def _count_key_lang(doc: Document) -> tuple:
    return ("lang", doc.source, doc.lang)


def shuffle_section(result, totals: dict[str, Any]) -> dict[str, Any]:
    """The manifest's ``shuffle`` section: bytes of keys, stubs and decisions the corpus-level stages sent
    through shuffles (pickled sizes, counted before combiner lifting), in all and per document read, and how
    many documents were decided alone (their keys shared with no other document) or went on as candidates."""
    try:
        values = {}
        for name in (SHUFFLE_COUNTER, ALONE_COUNTER, CANDIDATES_COUNTER):
            found = result.metrics().query(MetricsFilter().with_name(name))["counters"]
            values[name] = int(sum(c.committed or c.attempted or 0 for c in found))
    except Exception as exc:  # noqa: BLE001 - metrics are best-effort on some runners
        _LOG.debug("shuffle metrics not available: %s", exc)
        return {}
    docs = totals.get("read", 0) + totals.get("derived", 0)
    total = values[SHUFFLE_COUNTER]
    return {
        "bytes": total,
        "bytes_per_document": round(total / docs, 1) if docs else 0.0,
        "decided_alone": values[ALONE_COUNTER],
        "candidates": values[CANDIDATES_COUNTER],
    }


def funnel_from_counts(rows: list[tuple[tuple, int]]) -> dict[str, Any]:
    """Per-source funnel from the counted keys.

    ``balanced`` checks read (+ derived: extra documents made by splitting one record) == kept + rejected + errors.
    Records a reader left out on purpose are ``skipped`` (by reason): they were seen but never read as
    documents, so ``seen`` = read + skipped, and seen + derived == kept + rejected + errors + skipped.
    ``lost_bytes`` / ``lost_records``: what the errors say they could not read beyond their own record.
    """
    per_source: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "read": 0,
            "skipped": {},
            "lost_bytes": 0,
            "lost_records": 0,
            "derived": 0,
            "kept": 0,
            "rejected": {},
            "errors": {},
            "kept_by_domain": {},
            "languages": {},
            "available_at": {"known": 0, "unknown": 0},
        }
    )
    for key, n in rows:
        kind, source, *rest = key
        entry = per_source[source]
        if kind == "read":
            entry["read"] += n
        elif kind == "derived":
            entry["derived"] += n
        elif kind == "kept":
            entry["kept"] += n
            entry["kept_by_domain"][rest[0]] = entry["kept_by_domain"].get(rest[0], 0) + n
        elif kind == "rejected":
            label = f"{rest[0]}/{rest[1]}"
            entry["rejected"][label] = entry["rejected"].get(label, 0) + n
        elif kind == "error":
            label = f"{rest[0]}/{rest[1]}"
            entry["errors"][label] = entry["errors"].get(label, 0) + n
        elif kind == "time":
            entry["available_at"][rest[0]] += n
        elif kind == "skipped":
            entry["skipped"][rest[0]] = entry["skipped"].get(rest[0], 0) + n
        elif kind in ("lost_bytes", "lost_records"):
            entry[kind] += n
        elif kind == "lang":
            entry["languages"][rest[0]] = entry["languages"].get(rest[0], 0) + n
    sources = {}
    for source in sorted(per_source):
        entry = per_source[source]
        entry["rejected_total"] = sum(entry["rejected"].values())
        entry["errors_total"] = sum(entry["errors"].values())
        entry["skipped_total"] = sum(entry["skipped"].values())
        entry["seen"] = entry["read"] + entry["skipped_total"]
        entry["skipped"] = dict(sorted(entry["skipped"].items()))
        entry["balanced"] = (
            entry["read"] + entry["derived"]
            == entry["kept"] + entry["rejected_total"] + entry["errors_total"]
        )
        entry["rejected"] = dict(sorted(entry["rejected"].items()))
        entry["errors"] = dict(sorted(entry["errors"].items()))
        sources[source] = entry
    totals = {
        name: sum(e[name] for e in sources.values())
        for name in (
            "seen",
            "read",
            "skipped_total",
            "derived",
            "kept",
            "rejected_total",
            "errors_total",
            "lost_bytes",
            "lost_records",
        )
    }
    totals["balanced"] = all(e["balanced"] for e in sources.values())
    return {"sources": sources, "totals": totals}


def build_manifest(plan: RunPlan, runner: str, started: float) -> dict[str, Any]:
    """manifest.json: config, schema version, every shard with rows/bytes/sha256, the funnel and the mixture."""
    work = FileSystems.join(plan.run_dir, WORK_DIR)
    all_counts = [(tuple(k), n) for k, n in read_json(FileSystems.join(work, "counts.json"))]
    counts = [(k, n) for k, n in all_counts if k[0] != "decontam"]
    decontam = finish_section(dict(plan.decontam), per_set_counts(all_counts))
    shards = read_json(FileSystems.join(work, "shards.json"))
    mixture = read_json(FileSystems.join(work, "mixture.json"))
    cfg = plan.config
    return {
        "schema_version": SCHEMA_VERSION,
        "finpile_builder_version": __version__,
        "run_name": cfg.run_name,
        "created_at": _now(),
        "wall_seconds": round(time.time() - started, 2),
        "runner": runner,
        "config": cfg.to_dict(),
        "config_file": cfg.origin,
        "config_hash": cfg.config_hash,
        "minhash": cfg.dedup.minhash().identity,
        "inputs": [
            {"input": f.input_name, "kind": f.kind, "path": f.path, "bytes": f.size} for f in plan.files
        ],
        "shards": shards,
        "rejected_files": sorted(_relative(plan.run_dir, m) for m in _glob(plan.run_dir, "rejected/*.jsonl")),
        "error_files": sorted(_relative(plan.run_dir, m) for m in _glob(plan.run_dir, "errors/*.jsonl")),
        "funnel": funnel_from_counts(counts),
        "mixture": mixture,
        "periods": tokens_by_period(shards),
        "decontam": decontam,
    }


def tokens_by_period(shards: list[dict[str, Any]]) -> dict[str, Any]:
    """Rows and tokens per period and source (``{period: {source: {rows, tokens}}}``), from the shard list;
    ``{}`` when the shards are not partitioned by period. Documents of unknown time sit under ``unknown``."""
    periods: dict[str, dict[str, dict[str, int]]] = {}
    for shard in shards:
        if not shard.get("period"):
            continue
        entry = periods.setdefault(shard["period"], {}).setdefault(shard["source"], {"rows": 0, "tokens": 0})
        entry["rows"] += shard["rows"]
        entry["tokens"] += shard["tokens"]
    return {p: dict(sorted(v.items())) for p, v in sorted(periods.items())}


def _glob(run_dir: str, pattern: str) -> list[str]:
    return [m.path for m in FileSystems.match([FileSystems.join(run_dir, pattern)])[0].metadata_list]


def _relative(run_dir: str, path: str) -> str:
    return path[len(run_dir) :].lstrip("/")


def _without_directories(files: list[InputFile]) -> list[InputFile]:
    """Drop local folders a glob matched (``data/*`` matching ``data/old/``); refuse an input left with none.

    A folder is not a file a reader can read: it would become one read error and, alone, a run of 0 shards.
    """
    kept, dirs = [], defaultdict(list)
    for f in files:
        if "://" not in f.path and os.path.isdir(f.path):
            dirs[f.input_name].append(f.path)
        else:
            kept.append(f)
    for name, paths in dirs.items():
        if not any(f.input_name == name for f in kept):
            raise ConfigError(
                f"input '{name}': matches only folders ({', '.join(paths[:3])}); give the files as a glob, "
                f"e.g. {os.path.join(paths[0], '*')}"
            )
        _LOG.warning("input %s: skipping %d folder(s) the pattern matched: %s", name, len(paths), paths[:3])
    return kept


def make_plan(opts: FinPileOptions, argv: list[str] | None = None) -> RunPlan:
    cfg = effective_config(opts, argv)
    run_dir = FileSystems.join(cfg.output_root, cfg.run_name)
    files = _without_directories(list_input_files(cfg.inputs))
    return RunPlan(
        config=cfg,
        run_dir=run_dir,
        files=files,
        write_stats=not opts.no_stats,
        part_records=opts.part_records or RAW_PART_OBJECTS,
        range_bytes=DEFAULT_RANGE_BYTES if opts.range_bytes is None else opts.range_bytes,
    )


AUTO_BYTES_PER_WORKER = 16 << 20  # --workers auto: at most one worker per 16 MB of input (fixed cost)


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def local_workers(workers: str, input_bytes: int) -> int:
    """``--workers`` resolved: N, or for ``auto`` one per core but at most one per AUTO_BYTES_PER_WORKER."""
    if workers != "auto":
        return int(workers)
    return max(1, min(cores(), input_bytes // AUTO_BYTES_PER_WORKER))


def apply_workers(options: PipelineOptions, argv: list[str], input_bytes: int) -> int:
    """Set the DirectRunner's mode from ``--workers`` unless the command line sets it itself; returns N."""
    direct = options.view_as(DirectOptions)
    if any(a.startswith(("--direct_running_mode", "--direct_num_workers")) for a in argv):
        return int(direct.direct_num_workers or 1)
    n = local_workers(str(options.view_as(FinPileOptions).workers), input_bytes)
    direct.direct_running_mode = "multi_processing" if n > 1 else "in_memory"
    direct.direct_num_workers = n
    return n


def _is_local(runner) -> bool:
    return not isinstance(runner, str)


def warm_worker_count(options: PipelineOptions) -> int:
    """How many SDK worker processes to fork warm before a local run (``pipeline.worker.WarmWorkers``): the
    worker count in multi_processing mode, else 0 (in_memory and multi_threading runs have no worker processes,
    and a process that may not fork, ``pipeline.worker.allow_fork``, starts them as Beam does)."""
    direct = options.view_as(DirectOptions)
    if direct.direct_running_mode != "multi_processing" or not fork_allowed():
        return 0
    return int(direct.direct_num_workers or 0)


def worker_warm_up(kinds: list[str]) -> None:
    """What a worker's first bundle loads, done by each warm worker while the driver still builds the job graph
    (``pipeline.worker.WarmWorkers``): the readers of the run's input kinds, the extractors and the quality
    stage's spaCy tokenizer (its import alone ~1 s of one core). Imports and loads only: outputs do not depend
    on it."""
    from filters.quality import word_tokenizer
    from pipeline.stages.extract import preload_extractors
    from sources import get_reader

    for kind in kinds:
        get_reader(kind)
    preload_extractors()
    word_tokenizer().tokens("warm-up")  # what ScoreQuality's setup does


def _run_local(p: beam.Pipeline, interval: float, warm_workers: int = 0, warm_up=None):
    """Run on the local runner with a progress line every ``interval`` seconds (0: none), its ``warm_workers``
    worker processes forked first (before the progress thread and Beam's gRPC servers start) unless the caller
    forked them already (``_run_locked`` does, before building the graph)."""
    folder = tempfile.mkdtemp(prefix="finpile-progress-")
    os.environ[progress.ENV_DIR] = folder
    progress.reset()
    reporter = progress.ProgressReporter(folder, interval) if interval > 0 else None
    with contextlib.ExitStack() as stack:
        if warm_workers > 0:
            stack.enter_context(WarmWorkers(warm_workers, warm_up))
        if reporter:
            reporter.start()
        try:
            result = p.run()
            result.wait_until_finish()
            return result
        finally:
            if reporter:
                reporter.stop()
            os.environ.pop(progress.ENV_DIR, None)
            shutil.rmtree(folder, ignore_errors=True)


def _run_remote(p: beam.Pipeline, interval: float) -> None:
    """Submit to a remote runner (Dataflow ...) and print its counters while it runs."""
    result = p.run()
    from apache_beam.runners.runner import PipelineState

    while not PipelineState.is_terminal(result.state):
        time.sleep(max(interval, 10.0))
        try:
            counters = result.metrics().query(MetricsFilter().with_namespace("finpile"))["counters"]
        except Exception as exc:  # metrics are best-effort while a job starts up
            _LOG.debug("metrics not available yet: %s", exc)
            continue
        kept = {
            c.key.metric.name: c.committed or c.attempted
            for c in counters
            if c.key.metric.name.endswith(":kept")
        }
        print(
            f"[{result.state}] " + " | ".join(f"{k} {v:,}" for k, v in sorted(kept.items())), file=sys.stderr
        )
    result.wait_until_finish()
    if result.state != PipelineState.DONE:
        raise RuntimeError(f"job ended in state {result.state}")
    return result


def run(argv: list[str] | None = None) -> dict[str, Any] | None:
    """Run the pipeline; returns the manifest (None when the runner only translated the job).

    The run folder is locked for the run's life (``pipeline.runlock``): a second run into it is refused, and
    ``--overwrite`` never deletes a folder a live run holds. ``manifest.json`` is written last, atomically,
    once everything it points to exists (shards, rejected/, errors/, stats/): a folder with a manifest is
    complete, and one without is an unfinished run that the same command restarts.
    """
    options = PipelineOptions(argv)
    opts = options.view_as(FinPileOptions)
    fast_construction(options, opts.type_check)
    args = list(argv) if argv is not None else sys.argv[1:]
    plan = make_plan(opts, args)
    apply_workers(options, args, sum(f.size for f in plan.files))
    translation = translation_only(options)
    if translation:
        return _translate(options, plan)
    with RunLock(plan.run_dir):
        return _run_locked(options, opts, plan)


def _fit_to_runner(plan: RunPlan, options: PipelineOptions, runner) -> None:
    """What the graph needs to know of its runner: local runs delete spill parts once read (a remote runner may
    retry bundles) and share work out over their worker processes (``Spread``)."""
    local = _is_local(runner)
    plan.delete_spill = local
    plan.workers = int(options.view_as(DirectOptions).direct_num_workers or 1) if local else None


def _translate(options: PipelineOptions, plan: RunPlan) -> None:
    runner, runner_name = choose_runner(options)
    _fit_to_runner(plan, options, runner)
    p = beam.Pipeline(runner=runner, options=options)
    build_pipeline(p, plan)
    p.run()
    print(f"job graph translated for {runner_name}: {translation_only(options)}", file=sys.stderr)
    return None


def _run_locked(options: PipelineOptions, opts: FinPileOptions, plan: RunPlan) -> dict[str, Any]:
    prepare_run_dir(plan.run_dir, opts.overwrite, plan.config.config_hash)
    runner, runner_name = choose_runner(options)
    _fit_to_runner(plan, options, runner)
    started = time.time()
    _LOG.info("run %s: %d input files -> %s", plan.config.run_name, len(plan.files), plan.run_dir)
    local = _is_local(runner)
    with contextlib.ExitStack() as stack:
        warm = warm_worker_count(options) if local else 0
        if warm:
            # forked before the graph is built, so each warm worker loads what its first bundle needs meanwhile
            kinds = sorted({f.kind for f in plan.files})
            stack.enter_context(WarmWorkers(warm, functools.partial(worker_warm_up, kinds)))
        p = beam.Pipeline(runner=runner, options=options)
        build_pipeline(p, plan)
        result = _run_local(p, opts.progress_interval) if local else _run_remote(p, opts.progress_interval)
    manifest = build_manifest(plan, runner_name, started)
    manifest["workers"] = (
        int(options.view_as(DirectOptions).direct_num_workers or 1) if _is_local(runner) else None
    )
    manifest["shuffle"] = shuffle_section(result, manifest["funnel"]["totals"])
    write_json(FileSystems.join(plan.run_dir, "mixture.json"), manifest["mixture"])
    if plan.write_stats:
        # imported here: the report pulls in matplotlib and pandas (~0.4 s and ~40 MB), and every worker
        # process imports this module (its DoFns live here) without ever writing a report
        from pipeline.report import write_report

        write_report(plan.run_dir, manifest=manifest)
        manifest["stats_files"] = sorted(_relative(plan.run_dir, m) for m in _glob(plan.run_dir, "stats/*"))
    write_json(FileSystems.join(plan.run_dir, "manifest.json"), manifest)  # last: the folder is complete
    FileSystems.delete([FileSystems.join(plan.run_dir, WORK_DIR)])
    return manifest
