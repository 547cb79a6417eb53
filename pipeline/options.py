"""Command-line options of ``python -m pipeline run``: project flags in a PipelineOptions subclass.

Beam's own flags (``--runner``, ``--project``, ``--region``, ``--temp_location``, ``--direct_num_workers`` ...)
pass straight through to Beam. Project flags override the config file's values.

``check_run_flags`` runs before anything else: Beam itself only logs a warning for a flag it does not know and
goes on (so ``--ouput_root`` would silently write into the default folder); here a flag that is neither ours
nor any Beam option is refused with a suggestion, values are range-checked, the runner must exist and the
Dataflow runner must have its project, region and temp location. Each mistake is one ``ConfigError`` line.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
from typing import NoReturn

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions, _BeamArgumentParser

from core.argtypes import non_negative_float, non_negative_int, positive_int
from core.errors import ConfigError
from sources import READERS


def input_kinds_help() -> str:
    """The reader kinds, from the registry (``sources.READERS``), for help texts."""
    return ", ".join(READERS)


class FinPileOptions(PipelineOptions):
    """Flags of a FinPile Builder run."""

    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument(
            "--config",
            default=None,
            help="YAML config naming inputs, thresholds and mixing targets (default: the embedded sample config). "
            "Every key is listed in docs/config.md.",
        )
        parser.add_argument(
            "--profile",
            default=None,
            metavar="NAME",
            help="Domain profile: finance (the default: FinPile) or medical; selects the profile's shipped config "
            "(sources, domains, classifier, evaluation sets, mix targets). See README, Profiles.",
        )
        parser.add_argument(
            "--input",
            dest="inputs",
            action="append",
            default=None,
            metavar="KIND=PATH",
            help=f"Read PATH (file, glob or gs:// URL; not a folder) with connector KIND ({input_kinds_help()}). "
            "Repeatable; replaces the config's inputs. PATH is everything after the first '=', taken literally "
            "('?', '&', '=' and spaces are part of it).",
        )
        parser.add_argument(
            "--option",
            dest="input_option",
            action="append",
            default=None,
            metavar="KEY=VALUE",
            help="An option of the --input given last before it (reader and extractor options, as under a "
            "config input's 'options:'), e.g. --input warc=crawl/*.warc.gz --option tables=drop "
            "--input edgar=cache/*.txt --option split_items_as_documents=true. Repeatable. Unknown keys "
            "are an error; `inspect --option` takes the same keys.",
        )
        parser.add_argument(
            "--only",
            default=None,
            metavar="NAME[,NAME]",
            help="Run only the config inputs with these names.",
        )
        parser.add_argument(
            "--output_root", default=None, help="Root folder of runs (default: config's output_root)."
        )
        parser.add_argument(
            "--run_name",
            default=None,
            help="Run folder name under the output root (default: config's run_name).",
        )
        parser.add_argument(
            "--overwrite",
            action="store_true",
            default=False,
            help="Replace an existing run folder of the same name (otherwise the run refuses to start).",
        )
        parser.add_argument(
            "--label_only",
            action="store_true",
            default=False,
            help="Tag language and quality signals but drop nothing for them (dedup still applies).",
        )
        parser.add_argument(
            "--max_rows_per_shard",
            type=positive_int,
            default=None,
            help="Rows per Parquet shard, 1 or more (default: config's shards.max_rows).",
        )
        parser.add_argument(
            "--as_of",
            default=None,
            metavar="DATETIME",
            help="Point-in-time cut (time.as_of): reject documents that became public after DATETIME "
            "(ISO 8601; a date means 00:00 UTC; no offset means UTC) with reason after_cutoff.",
        )
        parser.add_argument(
            "--time_unknown",
            default=None,
            choices=("keep", "drop", "flag"),
            help="With --as_of, what to do with documents of unknown time (time.unknown; default flag: keep "
            "them with metadata available_at_unknown=true).",
        )
        parser.add_argument(
            "--partition_by_period",
            default=None,
            choices=("year", "quarter"),
            help="Shard by the period of available_at (shards.partition_by_period): "
            "data/<domain>/<source>/<period>/part-*.parquet.",
        )
        parser.add_argument(
            "--progress_interval",
            type=non_negative_float,
            default=5.0,
            help="Seconds between progress lines on stderr (documents per stage, rate); 0 turns them off.",
        )
        parser.add_argument(
            "--workers",
            type=workers_arg,
            default="auto",
            metavar="N|auto",
            help="Local runs: worker processes (the DirectRunner's multi_processing mode with N workers; 1: one "
            "process). auto (the default): one per core, but no more than one per 16 MB of input, so a small "
            "run does not pay the workers' start-up. An explicit --direct_running_mode or "
            "--direct_num_workers wins; remote runners ignore it.",
        )
        parser.add_argument(
            "--part_records",
            type=positive_int,
            default=None,
            metavar="N",
            help="Raw records per spill part (default 100, and at most 4 MB; documents per part: 5x): the unit of work that is "
            "spread over the workers after reading. Smaller parts spread a small input over more workers.",
        )
        parser.add_argument(
            "--range_bytes",
            type=non_negative_int,
            default=None,
            metavar="N",
            help="Bytes per range when a big file is read by several workers at once (default 8 MiB; files over "
            "twice this size in a format that allows it: WARC, uncompressed JSON lines, multistream bz2 "
            "Wikipedia dumps); 0 reads every file whole, on one worker.",
        )
        parser.add_argument(
            "--type_check",
            action="store_true",
            default=False,
            help="Check element types while the pipeline is built (Beam's construction-time type checks; off by "
            "default: ~1 s of start-up for a graph whose types are fixed).",
        )
        parser.add_argument(
            "--no_stats", action="store_true", default=False, help="Do not write the stats report at the end."
        )


def workers_arg(value: str) -> str:
    """``auto`` or a positive integer (as a string, resolved by ``pipeline.run.local_workers``)."""
    if value == "auto":
        return value
    try:
        if int(value) >= 1:
            return str(int(value))
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"--workers wants a positive number or auto, got {value!r}")


# --------------------------------------------------------------------------------------------------------
# Checking a `run` command line before anything is built or written


class _StrictParser(_BeamArgumentParser):
    """Beam's parser (every PipelineOptions subclass's flags), but a usage error is a ConfigError."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(f"run: {message}")


def beam_parser() -> _StrictParser:
    """A parser that knows every flag Beam would accept (all PipelineOptions subclasses, ours included)."""
    parser = _StrictParser(allow_abbrev=False, add_help=False)
    seen: dict[str, type] = {}
    for cls in PipelineOptions.__subclasses__():  # as PipelineOptions.get_all_options does
        seen.setdefault(str(cls), cls)
    if str(FinPileOptions) not in seen:
        seen[str(FinPileOptions)] = FinPileOptions
    for cls in seen.values():
        cls._add_argparse_args(parser)
    return parser


def known_runner(name: str) -> bool:
    """True when Beam can create a runner of this name (a known short name or an importable class path)."""
    from apache_beam.runners.runner import _RUNNER_MAP

    lowered = name.lower()
    if lowered in _RUNNER_MAP or lowered + "runner" in _RUNNER_MAP:
        return True
    if "." in name:
        module = name.rsplit(".", 1)[0]
        try:
            return importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            return False
    return False


def _is_dataflow(name: str) -> bool:
    return name.lower() in ("dataflow", "dataflowrunner", "testdataflowrunner") or name.endswith(
        ".DataflowRunner"
    )


def check_run_flags(argv: list[str]) -> argparse.Namespace:
    """Refuse a ``run`` command line with a mistake: one line per mistake in one ``ConfigError``."""
    parser = beam_parser()
    args, unknown = parser.parse_known_args(argv)
    problems = []
    options = sorted({s for a in parser._actions for s in a.option_strings if s.startswith("--")})
    for item in unknown:
        if item.startswith("-"):
            flag = item.split("=", 1)[0]
            close = difflib.get_close_matches(flag, options, n=1, cutoff=0.7)
            hint = f"; did you mean {close[0]}?" if close else " (see `python -m pipeline run --help`)"
            problems.append(f"run: unknown flag {flag}{hint}")
    if not problems and any(not item.startswith("-") for item in unknown):
        stray = next(item for item in unknown if not item.startswith("-"))
        problems.append(f"run: unexpected argument {stray!r}; options are written --name=value")
    runner = args.runner or StandardOptions.DEFAULT_RUNNER
    if not known_runner(runner):
        close = difflib.get_close_matches(runner, StandardOptions.KNOWN_RUNNER_NAMES, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]}?" if close else ""
        problems.append(
            f"run: unknown runner {runner!r}{hint} (known: {', '.join(StandardOptions.KNOWN_RUNNER_NAMES)}, "
            "or a module.ClassName)"
        )
    elif _is_dataflow(runner):
        missing = [
            f"--{name}" for name in ("project", "region", "temp_location") if not getattr(args, name, None)
        ]
        if missing:
            problems.append(
                f"run: --runner={runner} needs {', '.join(missing)} (e.g. --project=PROJECT --region=us-central1 "
                "--temp_location=gs://BUCKET/tmp)"
            )
        elif importlib.util.find_spec("apitools") is None:
            problems.append(
                f"run: --runner={runner} needs the Dataflow extra: pip install -e '.[gcp]' (apache-beam[gcp])"
            )
    if problems:
        raise ConfigError("\n".join(problems))
    return args
