"""The command line: ``python -m pipeline {run,stats,inspect}``.

Bad user input ends with one line on stderr (``error: ...``) and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from core.argtypes import parse_args_or_config_error, positive_int
from core.errors import ConfigError
from pipeline import __version__

USAGE = """usage: python -m pipeline COMMAND [options]

commands:
  run       build a corpus (default: the embedded sample corpus) -- see `run --help`
  stats     write stats/report.html, report.md and stats.json for a run folder (--compare OTHER_RUN)
  inspect   extract one local file and print its documents as JSON lines
  fetch     download raw data into a cache: `fetch edgar ...`, `fetch feeds ...`, `fetch evalsets ...`,
            `fetch pubmed ...`, `fetch pmc ...`
  export    turn data into training files: `export sft` (instruction JSONL from the labelled sets)
  train-domain-classifier  train a profile's domain-vs-general fastText classifier (--profile finance|medical)
  tokenize  a run's shards to training token files (Megatron .bin/.idx or numpy), mixed and shuffled
  config-reference  print (or --write) docs/config.md, every config key, generated from the schema

`python -m pipeline COMMAND --help` describes each command.
"""


def _run_parser() -> argparse.ArgumentParser:
    from pipeline.options import FinPileOptions, input_kinds_help

    parser = argparse.ArgumentParser(
        prog="python -m pipeline run",
        description="Build a FinPile-style corpus. With no options: the embedded sample corpus on the DirectRunner, "
        "into output/sample/. Beam options (--runner, --direct_running_mode=multi_processing, "
        "--direct_num_workers=N, --project, --region, --temp_location ...) pass through to Apache Beam; "
        "a flag that is neither ours nor Beam's is refused. "
        f"Input kinds: {input_kinds_help()}.",
    )
    FinPileOptions._add_argparse_args(parser)
    return parser


def format_summary(manifest: dict[str, Any], run_dir: str) -> str:
    """The run summary: where the output went and the funnel per source."""
    funnel = manifest["funnel"]
    lines = [
        f"output: {run_dir}  ({len(manifest['shards'])} shards, runner {manifest['runner']}"
        + (
            f", {manifest['workers']} worker{'s' if manifest['workers'] != 1 else ''}"
            if manifest.get("workers")
            else ""
        )
        + f", {manifest['wall_seconds']:.1f}s"
        + (
            f", {manifest['shuffle']['bytes_per_document']:,.0f} shuffled bytes/document"
            if manifest.get("shuffle")
            else ""
        )
        + ")"
    ]
    header = f"{'source':<10} {'read':>7} {'kept':>7} {'rejected':>9} {'errors':>7}  domain(kept)"
    lines += ["", header, "-" * len(header)]
    for source, e in funnel["sources"].items():
        domains = ", ".join(f"{d}={n}" for d, n in e["kept_by_domain"].items()) or "-"
        flag = "" if e["balanced"] else "   <-- does not add up!"
        lines.append(
            f"{source:<10} {e['read']:>7} {e['kept']:>7} {e['rejected_total']:>9} {e['errors_total']:>7}  {domains}{flag}"
        )
    t = funnel["totals"]
    lines.append(
        f"{'total':<10} {t['read']:>7} {t['kept']:>7} {t['rejected_total']:>9} {t['errors_total']:>7}"
    )
    lines.append("")
    lines.append("read = kept + rejected + errors for every source: " + ("yes" if t["balanced"] else "NO"))
    reasons: dict[str, int] = {}
    for e in funnel["sources"].values():
        for reason, n in e["rejected"].items():
            reasons[reason] = reasons.get(reason, 0) + n
    if reasons:
        lines.append("rejected by stage/reason: " + ", ".join(f"{r}={n}" for r, n in sorted(reasons.items())))
    errors: dict[str, int] = {}
    for e in funnel["sources"].values():
        for kind, n in e["errors"].items():
            errors[kind] = errors.get(kind, 0) + n
    if errors:
        lines.append("errors by stage/kind: " + ", ".join(f"{k}={n}" for k, n in sorted(errors.items())))
    time_cfg = (manifest.get("config") or {}).get("time") or {}
    unknown = {s: e["available_at"]["unknown"] for s, e in funnel["sources"].items() if "available_at" in e}
    if time_cfg.get("as_of") or any(unknown.values()):
        cut = (
            f"as_of {time_cfg['as_of']} (unknown time: {time_cfg.get('unknown', 'flag')}); "
            if time_cfg.get("as_of")
            else ""
        )
        missing = ", ".join(f"{s}={n}" for s, n in unknown.items() if n) or "none"
        lines.append(f"point in time: {cut}documents without a known time: {missing}")
    lines += _skipped_and_lost_lines(funnel)
    for note in manifest.get("mixture", {}).get("notes", []):
        lines.append(f"mixture: {note}")
    lines += [f"decontam: {line}" for line in (manifest.get("decontam") or {}).get("lines", [])]
    if manifest.get("stats_files"):
        lines.append(f"see {run_dir}/stats/report.html (the statistics report), rejected/ and errors/")
    else:  # --no_stats: no report was written
        lines.append(
            f"see rejected/ and errors/ in {run_dir}; no statistics report (--no_stats): "
            f"python -m pipeline stats {run_dir} writes it"
        )
    return "\n".join(lines)


def _skipped_and_lost_lines(funnel: dict[str, Any]) -> list[str]:
    """Records readers skipped on purpose (by reason) and what errors say they lost beyond their record."""
    lines = []
    skipped: dict[str, int] = {}
    for e in funnel["sources"].values():
        for reason, n in e.get("skipped", {}).items():
            skipped[reason] = skipped.get(reason, 0) + n
    if skipped:
        lines.append(
            "skipped on purpose (not documents, counted apart from read): "
            + ", ".join(f"{r}={n}" for r, n in sorted(skipped.items()))
        )
    t = funnel["totals"]
    if t.get("lost_bytes") or t.get("lost_records"):
        lines.append(
            f"lost to errors beyond their own record: {t.get('lost_bytes', 0):,} bytes, "
            f"{t.get('lost_records', 0):,} records (see errors/)"
        )
    return lines


def cmd_run(argv: list[str]) -> int:
    if any(a in ("-h", "--help") for a in argv):
        _run_parser().print_help()
        return 0
    from pipeline.options import check_run_flags

    check_run_flags(argv)  # unknown flags, bad values, runner: refused before anything is built or written
    from apache_beam.io.filesystems import FileSystems

    from pipeline.run import run

    manifest = run(argv)
    if manifest is None:  # the runner only translated the job (Dataflow template / dry run)
        return 0
    run_dir = FileSystems.join(manifest["config"]["output_root"], manifest["run_name"])
    print(format_summary(manifest, run_dir))
    return 0 if manifest["funnel"]["totals"]["balanced"] else 1


def cmd_stats(argv: list[str]) -> int:
    from pipeline.report import stats_main

    return stats_main(argv)


def cmd_inspect(argv: list[str]) -> int:
    from sources import READERS

    parser = argparse.ArgumentParser(
        prog="python -m pipeline inspect",
        description="Extract one local file (any supported kind) and print the resulting documents as JSON lines, "
        "with language, quality signals, PII redaction and the keep/reject decision.",
    )
    parser.add_argument("file")
    parser.add_argument(
        "--kind", choices=sorted(READERS), help="reader kind (default: detected from name and content)"
    )
    parser.add_argument("--config", default=None, help="config whose thresholds to apply (default: embedded)")
    parser.add_argument(
        "--profile",
        default=None,
        metavar="NAME",
        help="apply this profile's config (finance, medical) instead",
    )
    parser.add_argument(
        "--max_chars", type=positive_int, default=None, help="cut each text to this many characters"
    )
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an option of the input, applied exactly as `run` applies it (reader and extractor), e.g. "
        "--option text_column=news for a CSV, --option subreddits=* for Reddit, --option tables=linearize "
        "for web pages, --option split_items_as_documents=true for a 10-K. VALUE is read as YAML (true, 5, "
        "[a, b]); docs/config.md lists each kind's options. Repeatable; unknown keys are an error.",
    )
    args = parse_args_or_config_error(parser, argv)
    from pipeline.input_options import option_value, parse_option

    options = {}
    for item in args.option:
        key, value = parse_option(item)
        options[key] = option_value(value)
    from pipeline.inspect import inspect

    config = args.config
    if args.profile is not None:
        from pipeline.profiles import profile_config_path

        if args.config:
            raise ConfigError("inspect: pass --config or --profile, not both")
        config = profile_config_path(args.profile)
    for line in inspect(args.file, args.kind, config, args.max_chars, options):
        print(line)
    return 0


def cmd_config_reference(argv: list[str]) -> int:
    """Print docs/config.md (generated from the schema), or write it with --write [PATH]."""
    parser = argparse.ArgumentParser(
        prog="python -m pipeline config-reference",
        description="The config reference (every key, type, default and meaning), generated from the schema in "
        "pipeline/config.py and the reader options in sources/options.py.",
    )
    parser.add_argument(
        "--write",
        nargs="?",
        const="docs/config.md",
        default=None,
        metavar="PATH",
        help="write it to PATH (default docs/config.md) instead of printing it",
    )
    args = parse_args_or_config_error(parser, argv)
    from pipeline.config import config_reference

    text = config_reference()
    if args.write:
        try:
            os.makedirs(os.path.dirname(args.write) or ".", exist_ok=True)
            with open(args.write, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as exc:
            raise ConfigError(f"cannot write {args.write}: {exc.strerror or exc}") from None
        print(f"wrote {args.write}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_fetch(argv: list[str]) -> int:
    from pipeline.fetch import cmd_fetch as fetch

    return fetch(argv)


def cmd_export(argv: list[str]) -> int:
    from pipeline.export_sft import cmd_export as export

    return export(argv)


def cmd_train_domain(argv: list[str]) -> int:
    from pipeline.train_domain import cmd_train_domain as train

    return train(argv)


def cmd_tokenize(argv: list[str]) -> int:
    from pipeline.tokenize import cmd_tokenize as tokenize

    return tokenize(argv)


COMMANDS = {
    "run": cmd_run,
    "stats": cmd_stats,
    "inspect": cmd_inspect,
    "fetch": cmd_fetch,
    "export": cmd_export,
    "train-domain-classifier": cmd_train_domain,
    "tokenize": cmd_tokenize,
    "config-reference": cmd_config_reference,
}


def _quiet_known_noise(record: logging.LogRecord) -> bool:
    # Beam logs this on import whenever the optional GCP extra is not installed; it is not a problem here.
    if str(record.msg).startswith("apitools not found"):
        return False
    # trafilatura warns for each page it finds no text in; the run already counts and keeps each one
    # (rejected/ as extract:empty_text), so the console line says nothing more.
    return not (record.name.startswith("trafilatura") and str(record.msg).startswith("discarding data"))


def exit_now(code: int) -> None:
    """End the process with ``code`` once a command is done, without Python's teardown of its heap.

    The command has closed its files and written its manifest; what is left is freeing every object the driver
    holds (a run's models, graph and counters: ~0.6 s of one core after a run). The exit handlers still run
    (logging's flush among them) and the standard streams are flushed; with a non-daemon thread still alive the
    exit is the usual one, which waits for it.
    """
    import atexit
    import threading

    main_thread = threading.main_thread()
    if any(t is not main_thread and t.is_alive() and not t.daemon for t in threading.enumerate()):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`) or stream: nothing more can reach it
            pass
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_quiet_known_noise)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    if argv[0] == "--version":
        print(f"finpile-builder {__version__}")
        return 0
    command = COMMANDS.get(argv[0])
    if command is None:
        print(f"error: unknown command {argv[0]!r}; choose one of: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    try:
        return command(argv[1:])
    except ConfigError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:  # one line per mistake
            print(f"error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
