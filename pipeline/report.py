"""The statistics report of a run: ``python -m pipeline stats RUN_DIR`` and the last step of ``run``.

``write_report`` computes the statistics (``pipeline.stats``: one small Beam pipeline over the shards) and
writes them as ``stats/stats.json`` (layout: ``pipeline/stats_schema.md``), ``stats/report.md`` with its PNG
plots (``pipeline.report_plots``) and the self-contained ``stats/report.html`` (``pipeline.report_html``).
``stats_main`` is the ``stats`` command. This module sits above those three, which never import it.
"""

from __future__ import annotations

import argparse
from typing import Any

from apache_beam.io.filesystems import FileSystems

from core.errors import ConfigError
from pipeline.report_html import render_html
from pipeline.report_plots import make_plots
from pipeline.stages.write import write_bytes_atomically, write_json
from pipeline.stats import DEFAULT_SAMPLES, compare_stats, compute_stats, render_markdown, signed


def write_report(
    run_dir: str,
    compare: str | None = None,
    samples: int = DEFAULT_SAMPLES,
    pipeline_args: list[str] | None = None,
    manifest: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Compute the statistics and write stats/stats.json, stats/report.md (+ PNGs) and stats/report.html."""
    run_dir = run_dir.rstrip("/") or "/"
    stats = compute_stats(run_dir, samples, pipeline_args, manifest)
    if compare:
        stats["compare"] = compare_stats(stats, compute_stats(compare.rstrip("/"), 0, pipeline_args))
    out_dir = FileSystems.join(run_dir, "stats")
    pngs = make_plots(stats)
    names = {}
    for name, data in pngs.items():
        names[name] = f"{name}.png"
        write_bytes_atomically(FileSystems.join(out_dir, names[name]), data)
    write_json(FileSystems.join(out_dir, "stats.json"), stats)
    write_bytes_atomically(FileSystems.join(out_dir, "report.md"), render_markdown(stats, names).encode())
    write_bytes_atomically(FileSystems.join(out_dir, "report.html"), render_html(stats, pngs).encode())
    return stats


def stats_main(argv: list[str]) -> int:
    """``python -m pipeline stats RUN_DIR [--compare OTHER_RUN] [--samples N]``; Beam flags pass through."""
    parser = argparse.ArgumentParser(
        prog="python -m pipeline stats",
        description="Write the corpus statistics report of a run (stats/report.html, report.md, stats.json). "
        "RUN_DIR may also be any folder of Parquet shards in the document schema. Beam options "
        "(--runner, --direct_running_mode ...) pass through to Apache Beam.",
    )
    parser.add_argument("run_dir", help="a run folder, e.g. output/sample, or a folder of Parquet shards")
    parser.add_argument("--compare", metavar="OTHER_RUN", help="a second run: report deltas per source")
    parser.add_argument(
        "--samples",
        type=int,
        default=DEFAULT_SAMPLES,
        help=f"sample documents per source (default {DEFAULT_SAMPLES})",
    )
    args, beam_args = parser.parse_known_args(argv)
    if args.samples < 0:
        raise ConfigError("--samples must be 0 or a positive integer")
    stats = write_report(args.run_dir, args.compare, args.samples, beam_args)
    total = stats["composition"]["total"]
    out = FileSystems.join(args.run_dir.rstrip("/"), "stats")
    print(f"{out}/report.html: {total['docs']:,} documents, {total['tokens']:,} tokens")
    if stats.get("compare"):
        t = stats["compare"]["total"]
        print(
            f"vs {stats['compare']['other_run_name']}: {signed(t['docs_delta'])} documents, "
            f"{signed(t['tokens_delta'])} tokens"
        )
    return 0
