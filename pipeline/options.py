"""Command-line options of ``python -m pipeline run``: project flags in a PipelineOptions subclass.

Beam's own flags (``--runner``, ``--project``, ``--region``, ``--temp_location``, ``--direct_num_workers`` ...)
pass straight through to Beam. Project flags override the config file's values.
"""

from __future__ import annotations

from apache_beam.options.pipeline_options import PipelineOptions


class FinPileOptions(PipelineOptions):
    """Flags of a FinPile Builder run."""

    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument(
            "--config",
            default=None,
            help="YAML config naming inputs, thresholds and mixing targets (default: the embedded sample config).",
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
            help="Read PATH (file, glob or gs:// URL) with connector KIND (edgar, warc, rss, news_cache, html, "
            "reddit, tweets, stocktwits, wikipedia, jsonl, text). Repeatable; replaces the config's inputs. "
            "PATH is everything after the first '=', taken literally ('?', '&', '=' and spaces are part of it).",
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
        parser.add_argument("--max_rows_per_shard", type=int, default=None, help="Rows per Parquet shard.")
        parser.add_argument(
            "--progress_interval",
            type=float,
            default=5.0,
            help="Seconds between progress lines on stderr (documents per stage, rate); 0 turns them off.",
        )
        parser.add_argument(
            "--no_stats", action="store_true", default=False, help="Do not write the stats report at the end."
        )
