"""Build and run the corpus pipeline, then write the manifest and the stats report.

sources -> Extract -> CutAtTime (with --as_of) -> IdentifyLanguage -> ScoreQuality -> RedactPII -> Decontaminate -> RemoveBoilerplate
        -> Deduplicate (exact, then near) -> ClassifyDomain
        -> AssignDomainAndMix -> WriteShards, with every stage's rejected/ and errors/ outputs written beside.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions
from pydantic import ValidationError

from core.errors import ConfigError
from core.schema import SCHEMA_VERSION, Document, RawRecord, RecordError, Rejected
from pipeline import __version__, progress
from pipeline.config import Config, format_errors, load_config, make_input
from pipeline.input_options import group_cli_inputs, option_value
from pipeline.options import FinPileOptions
from pipeline.profiles import profile_config_path
from pipeline.report import write_report
from pipeline.runlock import RunLock
from pipeline.runner import choose_runner, translation_only
from pipeline.stages.base import apply_stage
from pipeline.stages.boilerplate import RemoveBoilerplate
from pipeline.stages.decontam import Decontaminate, count_keys, finish_section, per_set_counts
from pipeline.stages.dedup import Deduplicate, UniqueIds
from pipeline.stages.domain import ClassifyDomain
from pipeline.stages.extract import Extract
from pipeline.stages.language import IdentifyLanguage
from pipeline.stages.mix import AssignDomainAndMix
from pipeline.stages.pii import RedactPII
from pipeline.stages.quality import ScoreQuality
from pipeline.stages.read import InputFile, ReadSources, list_input_files
from pipeline.stages.timecut import CutAtTime
from pipeline.stages.write import (
    WriteRecords,
    WriteShards,
    error_to_line,
    read_json,
    rejected_to_line,
    write_json,
)
from sources import READERS

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


def _one(key: tuple) -> tuple[tuple, int]:
    return key, 1


def _lost_keys(error: RecordError) -> list[tuple[tuple, int]]:
    """What an error says it lost beyond its own record: bytes and further records."""
    out = []
    if error.lost_bytes:
        out.append((("lost_bytes", error.source), int(error.lost_bytes)))
    if error.lost_records:
        out.append((("lost_records", error.source), int(error.lost_records)))
    return out


def build_pipeline(p: beam.Pipeline, plan: RunPlan) -> None:
    """Add every stage of the corpus pipeline to ``p``."""
    cfg, run_dir = plan.config, plan.run_dir
    work = FileSystems.join(run_dir, WORK_DIR)
    label_only = cfg.quality.label_only

    records, read_errors, skipped = p | "ReadSources" >> ReadSources(plan.files, with_skipped=True)
    input_options = {spec.name: spec.reader_options() for spec in cfg.inputs}
    docs, extract_rejected, extract_errors, derived = records | "Extract" >> Extract(
        cfg.source_domains, input_options
    )
    # Point in time: what is known about each document's time is counted; --as_of cuts here, before any cost.
    timed = docs | "KeyTime" >> beam.Map(_count_key_time)
    time_rejected, time_errors = [], []
    if cfg.time.as_of:
        docs, cut_rejected, cut_errors = apply_stage(docs, "CutAtTime", CutAtTime(cfg.time))
        time_rejected, time_errors = [cut_rejected], [cut_errors]
    # Spread the documents of big files over all workers for the costly stages that follow.
    docs = docs | "SpreadDocs" >> beam.Reshuffle()
    docs, lang_rejected, lang_errors = docs | "IdentifyLanguage" >> IdentifyLanguage(cfg.language, label_only)
    lang_tagged = [docs, lang_rejected | "LangRejectedDocs" >> beam.Map(lambda r: r.document)]
    docs, quality_rejected, quality_errors = docs | "ScoreQuality" >> ScoreQuality(cfg.quality)
    docs, pii_rejected, pii_errors = docs | "RedactPII" >> RedactPII(cfg.pii)
    decontaminate = Decontaminate(cfg.decontam)  # builds the index once; warns about missing sets
    plan.decontam = decontaminate.report
    docs, decontam_rejected, decontam_errors = docs | "Decontaminate" >> decontaminate
    decontam_keys = [
        docs | "KeyDecontamKept" >> beam.FlatMap(count_keys),
        decontam_rejected | "KeyDecontamRejected" >> beam.FlatMap(count_keys),
    ]
    docs, boilerplate_rejected = docs | "RemoveBoilerplate" >> RemoveBoilerplate(cfg.boilerplate.config())
    dedup_rejected = []
    id_errors = []
    if cfg.dedup.exact or cfg.dedup.near.enabled:
        docs, rejected_dups, dup_id_errors = docs | "Dedup" >> Deduplicate.from_settings(
            cfg.dedup, with_errors=True
        )
    else:  # ids must be unique in the output even without dedup
        docs, rejected_dups, dup_id_errors = docs | "UniqueIds" >> UniqueIds()
    dedup_rejected.append(rejected_dups)
    id_errors.append(dup_id_errors)
    docs, domain_rejected, domain_errors = docs | "ClassifyDomain" >> ClassifyDomain(
        cfg.domain, cfg.profile.domain
    )
    domain_of = dict(cfg.source_domains)
    docs, mixture = docs | "AssignDomainAndMix" >> AssignDomainAndMix(domain_of, cfg.mix)
    shards = docs | "WriteShards" >> WriteShards(
        run_dir, cfg.shards.max_rows, cfg.shards.partition_by_period or ""
    )

    rejected = [
        extract_rejected,
        *time_rejected,
        lang_rejected,
        quality_rejected,
        pii_rejected,
        decontam_rejected,
        boilerplate_rejected,
        *dedup_rejected,
        domain_rejected,
    ] | "AllRejected" >> beam.Flatten()
    errors = [
        read_errors,
        extract_errors,
        *time_errors,
        lang_errors,
        quality_errors,
        pii_errors,
        decontam_errors,
        *id_errors,
        domain_errors,
    ] | "AllErrors" >> beam.Flatten()
    rejected | "WriteRejected" >> WriteRecords(run_dir, "rejected", rejected_to_line)
    errors | "WriteErrors" >> WriteRecords(run_dir, "errors", error_to_line)

    # The funnel: one count per (kind, source, ...) key, handed back to the driver for the manifest.
    keys = [
        records | "KeyRead" >> beam.Map(_count_key_read),
        read_errors | "KeyReadErrors" >> beam.Map(_count_key_read),
        rejected | "KeyRejected" >> beam.Map(_count_key_rejected),
        errors | "KeyErrors" >> beam.Map(_count_key_error),
        docs | "KeyKept" >> beam.Map(_count_key_kept),
        timed,
        *decontam_keys,
        derived | "KeyDerived" >> beam.FlatMap(lambda sn: [("derived", sn[0])] * sn[1]),
        lang_tagged
        | "LangTagged" >> beam.Flatten()
        | "KeyLang" >> beam.Map(lambda d: ("lang", d.source, d.lang)),
    ]
    weighted = [  # (key, n) pairs
        keys | "AllKeys" >> beam.Flatten() | "CountOne" >> beam.Map(_one),
        skipped | "KeySkipped" >> beam.Map(lambda s: (("skipped", s.source, s.reason), s.count)),
        errors | "KeyLost" >> beam.FlatMap(_lost_keys),
    ]
    (
        weighted
        | "AllWeightedKeys" >> beam.Flatten()
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
    return RunPlan(config=cfg, run_dir=run_dir, files=files, write_stats=not opts.no_stats)


def _is_local(runner) -> bool:
    return not isinstance(runner, str)


def _run_local(p: beam.Pipeline, interval: float) -> None:
    """Run on the local runner with a progress line every ``interval`` seconds (0: none)."""
    folder = tempfile.mkdtemp(prefix="finpile-progress-")
    os.environ[progress.ENV_DIR] = folder
    progress.reset()
    reporter = progress.ProgressReporter(folder, interval) if interval > 0 else None
    if reporter:
        reporter.start()
    try:
        p.run().wait_until_finish()
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


def run(argv: list[str] | None = None) -> dict[str, Any] | None:
    """Run the pipeline; returns the manifest (None when the runner only translated the job).

    The run folder is locked for the run's life (``pipeline.runlock``): a second run into it is refused, and
    ``--overwrite`` never deletes a folder a live run holds. ``manifest.json`` is written last, atomically,
    once everything it points to exists (shards, rejected/, errors/, stats/): a folder with a manifest is
    complete, and one without is an unfinished run that the same command restarts.
    """
    options = PipelineOptions(argv)
    opts = options.view_as(FinPileOptions)
    plan = make_plan(opts, list(argv) if argv is not None else sys.argv[1:])
    translation = translation_only(options)
    if translation:
        return _translate(options, plan)
    with RunLock(plan.run_dir):
        return _run_locked(options, opts, plan)


def _translate(options: PipelineOptions, plan: RunPlan) -> None:
    runner, runner_name = choose_runner(options)
    p = beam.Pipeline(runner=runner, options=options)
    build_pipeline(p, plan)
    p.run()
    print(f"job graph translated for {runner_name}: {translation_only(options)}", file=sys.stderr)
    return None


def _run_locked(options: PipelineOptions, opts: FinPileOptions, plan: RunPlan) -> dict[str, Any]:
    prepare_run_dir(plan.run_dir, opts.overwrite, plan.config.config_hash)
    runner, runner_name = choose_runner(options)
    started = time.time()
    _LOG.info("run %s: %d input files -> %s", plan.config.run_name, len(plan.files), plan.run_dir)
    p = beam.Pipeline(runner=runner, options=options)
    build_pipeline(p, plan)
    if _is_local(runner):
        _run_local(p, opts.progress_interval)
    else:
        _run_remote(p, opts.progress_interval)
    manifest = build_manifest(plan, runner_name, started)
    write_json(FileSystems.join(plan.run_dir, "mixture.json"), manifest["mixture"])
    if plan.write_stats:
        write_report(plan.run_dir, manifest=manifest)
        manifest["stats_files"] = sorted(_relative(plan.run_dir, m) for m in _glob(plan.run_dir, "stats/*"))
    write_json(FileSystems.join(plan.run_dir, "manifest.json"), manifest)  # last: the folder is complete
    FileSystems.delete([FileSystems.join(plan.run_dir, WORK_DIR)])
    return manifest
