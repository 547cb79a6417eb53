#!/usr/bin/env python
"""Scale benchmark (issue 21): memory against corpus size, speed-up against worker count, shuffle bytes.

    .venv/bin/python benchmarks/scale.py --docs 2000 --workers 1 --workers 2        # many small files
    .venv/bin/python benchmarks/scale.py --docs 2000 --layout big --workers 1 --workers 2   # one big WARC
    .venv/bin/python benchmarks/scale.py --docs 10000 --docs 100000 --mix "social=1" --workers 2
    .venv/bin/python benchmarks/scale.py --docs 2000 --profile                      # cProfile, top functions

Corpora come from ``benchmarks/corpus.py`` (real documents from ``$FINPILE_SHARED_DATA``, varied), generated
once under ``--corpus-root`` (default ``/tmp/finpile-scale``, never inside the project). ``--layout big`` puts
every web page of the corpus in ONE ``.warc.gz`` (the per-file WARCs concatenated: gzip members stay members)
and reads only it, to measure reading and extraction below the file level.

Each run is ``python -m pipeline run`` in a subprocess (``--no_stats``) on the DirectRunner; with ``--workers N``
it passes ``--workers N`` when the pipeline knows that flag, else ``--direct_running_mode=multi_processing
--direct_num_workers=N`` (N = 1: ``in_memory``). Measured:

- wall seconds; CPU seconds of the whole process tree (the run and its SDK worker processes: the sum of each
  process's last-seen ``utime + stime`` from ``/proc``, polled every 0.2 s, and at least the run's own
  ``wait4`` figure);
- peak RSS: the largest sum of RSS over the process tree seen by the poller (and the run's own ``ru_maxrss``);
- shuffle bytes: inside the run, the FnApiRunner's buffers are counted (encoded bytes appended to its
  ``GroupingBuffer`` = grouped/shuffled, to its ``ListBuffer`` = PCollections materialised between fused
  stages, side inputs and flattens included), divided by the documents read.

Results: a Markdown table on stdout and JSON lines appended to ``benchmarks/results/scale.jsonl``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_MIX = "web=0.5,filings=0.05,social=0.35,news=0.1"
CLK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


# ------------------------------------------------------------------ corpus


def corpus_dir(root: Path, docs: int, mix: str, layout: str) -> Path:
    """Generate (once) the corpus of ``docs`` documents; ``layout=big``: all web pages in one WARC."""
    tag = hashlib.sha1(mix.encode()).hexdigest()[:8]
    base = root / f"corpus-{docs}-{tag}"
    if not (base / "corpus.json").exists():
        sys.path.insert(0, str(HERE))
        import corpus

        print(f"generating {docs} documents ({mix}) in {base} ...", file=sys.stderr)
        corpus.generate(docs, mix, base)
    if layout == "many":
        return base
    big = root / f"corpus-{docs}-{tag}-big"
    if not (big / "finpile.yaml").exists():
        (big / "web").mkdir(parents=True, exist_ok=True)
        with open(big / "web" / "all.warc.gz", "wb") as out:
            for part in sorted((base / "web").glob("*.warc.gz")):
                out.write(part.read_bytes())
        (big / "finpile.yaml").write_text(
            (base / "finpile.yaml").read_text().split("inputs:")[0]
            + 'inputs:\n  - name: web\n    kind: warc\n    paths: ["web/all.warc.gz"]\n'
            + "language:"
            + (base / "finpile.yaml").read_text().split("language:", 1)[1]
        )
    return big


def count_docs(corpus: Path) -> int:
    """Documents of a generated corpus (for ``big``: the web and news pages)."""
    info = json.loads((corpus / "corpus.json").read_text()) if (corpus / "corpus.json").exists() else None
    if info:
        return int(info["docs"])
    base = Path(str(corpus)[: -len("-big")])
    counts = json.loads((base / "corpus.json").read_text())["counts"]
    return int(counts.get("web", 0) + counts.get("news", 0))


# ------------------------------------------------------------------ process-tree sampling


def _children(pid: int) -> list[int]:
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def _tree(pid: int) -> list[int]:
    seen, todo = [], [pid]
    while todo:
        p = todo.pop()
        seen.append(p)
        todo += _children(p)
    return seen


def _stat(pid: int) -> tuple[float, int] | None:
    """(CPU seconds, RSS bytes) of one process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK, int(fields[21]) * PAGE
    except (OSError, IndexError, ValueError):
        return None


class TreeSampler(threading.Thread):
    """Polls a process tree: peak summed RSS, last CPU seconds per process."""

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_rss = 0
        self.peak_procs = 0
        self.cpu: dict[int, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            rss = 0
            pids = _tree(self.pid)
            for p in pids:
                s = _stat(p)
                if s:
                    self.cpu[p] = s[0]
                    rss += s[1]
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_procs = max(self.peak_procs, len(pids))
            self.stop.wait(self.interval)


# ------------------------------------------------------------------ one run


def _pipeline_flags() -> set[str]:
    import argparse as ap

    from pipeline.options import FinPileOptions

    parser = ap.ArgumentParser()
    FinPileOptions._add_argparse_args(parser)
    return {s for a in parser._actions for s in a.option_strings}


def run_args(corpus: Path, out: str, workers: int, extra: list[str] | None = None) -> list[str]:
    args = [
        "run",
        "--config",
        str(corpus / "finpile.yaml"),
        "--output_root",
        out,
        "--run_name",
        "bench",
        "--overwrite",
        "--no_stats",
        "--progress_interval",
        "0",
    ]
    if "--workers" in _pipeline_flags():
        args += ["--workers", str(workers)]
    elif workers > 1:
        args += ["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"]
    else:
        args += ["--direct_running_mode=in_memory"]
    return args + list(extra or [])


def measure(
    corpus: Path, workers: int, keep: str | None = None, extra: list[str] | None = None
) -> dict[str, Any]:
    out = keep or tempfile.mkdtemp(prefix="finpile-scale-out-")
    counts = tempfile.mktemp(prefix="finpile-scale-buffers-", suffix=".json")
    env = {**os.environ, "PYTHONPATH": str(REPO), "FINPILE_SCALE_BUFFERS": counts}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_child", *run_args(corpus, out, workers, extra)]
    start = time.perf_counter()
    # cwd: the SDK workers run `python -m ...`, which puts the working directory first on sys.path: from
    # another checkout they would import its `pipeline` instead of this tree's
    proc = subprocess.Popen(
        cmd, env=env, cwd=str(REPO), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    sampler = TreeSampler(proc.pid)
    sampler.start()
    err = proc.stderr.read() if proc.stderr else ""
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    sampler.stop.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"run failed ({proc.returncode}): {err[-3000:]}")
    manifest = json.loads((Path(out) / "bench" / "manifest.json").read_text())
    buffers = json.loads(Path(counts).read_text()) if os.path.exists(counts) else {}
    totals = manifest["funnel"]["totals"]
    docs = totals["read"] + totals["derived"]
    cpu = max(ru.ru_utime + ru.ru_stime, sum(sampler.cpu.values()))
    row = {
        "docs_read": docs,
        "kept": totals["kept"],
        "workers": workers,
        "runner": manifest.get("runner"),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "peak_rss_tree_mb": round(sampler.peak_rss / 2**20, 1),
        "peak_rss_main_mb": round(ru.ru_maxrss / 1024, 1),
        "processes": sampler.peak_procs,
        "grouped_bytes_per_doc": round(buffers.get("grouped", 0) / max(docs, 1), 1),
        "materialised_bytes_per_doc": round(buffers.get("materialised", 0) / max(docs, 1), 1),
        "shuffle_counter_bytes_per_doc": round(manifest.get("shuffle", {}).get("bytes", 0) / max(docs, 1), 1),
        "shards": [(s["path"], s["sha256"]) for s in manifest["shards"]],
        "load": os.getloadavg(),
    }
    if not keep:
        shutil.rmtree(out, ignore_errors=True)
    return row


def child(argv: list[str]) -> int:
    """Inside the measured subprocess: count the FnApiRunner's buffer bytes, then run the CLI."""
    from apache_beam.runners.portability.fn_api_runner import execution

    sizes = {"grouped": 0, "materialised": 0}
    grouping_append, list_append = execution.GroupingBuffer.append, execution.ListBuffer.append

    def counted_grouping(self, data):
        sizes["grouped"] += len(data)
        return grouping_append(self, data)

    def counted_list(self, data):
        sizes["materialised"] += len(data)
        return list_append(self, data)

    execution.GroupingBuffer.append = counted_grouping
    execution.ListBuffer.append = counted_list
    from pipeline import cli

    try:  # as `python -m pipeline` does (trees before the warm workers have no allow_fork)
        from pipeline.worker import allow_fork

        allow_fork()
    except ImportError:
        pass
    try:
        code = cli.main(argv)
    finally:
        Path(os.environ["FINPILE_SCALE_BUFFERS"]).write_text(json.dumps(sizes))
    if hasattr(cli, "exit_now"):
        cli.exit_now(int(code or 0))  # ends the process as `python -m pipeline` does
    return int(code or 0)


def profile(corpus: Path, top: int) -> None:
    """cProfile of one in-process, in-memory run (the SDK harness runs in this process)."""
    import cProfile
    import pstats

    from pipeline.cli import main

    out = tempfile.mkdtemp(prefix="finpile-scale-prof-")
    args = run_args(corpus, out, 1)
    if "--workers" in args:
        args += ["--direct_running_mode=in_memory"]
    prof = cProfile.Profile()
    prof.enable()
    main(args)
    prof.disable()
    stats = pstats.Stats(prof)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    shutil.rmtree(out, ignore_errors=True)


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| docs | layout | workers | wall s | CPU s | docs/CPU-s | peak RSS tree MB | grouped B/doc | "
        "materialised B/doc | load |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['docs_read']:,} | {r['layout']} | {r['workers']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | "
            f"{r['docs_read'] / r['cpu_s']:.1f} | {r['peak_rss_tree_mb']:,.0f} | "
            f"{r['grouped_bytes_per_doc']:,.0f} | {r['materialised_bytes_per_doc']:,.0f} | "
            f"{', '.join(f'{x:.2f}' for x in r['load'])} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--_child":
        return child(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, action="append", help="corpus size(s), default 2000")
    ap.add_argument("--mix", default=DEFAULT_MIX)
    ap.add_argument("--layout", choices=("many", "big"), default="many")
    ap.add_argument("--workers", type=int, action="append", help="worker count(s), default 1")
    ap.add_argument("--corpus-root", type=Path, default=Path("/tmp/finpile-scale"))
    ap.add_argument(
        "--run-arg",
        action="append",
        default=[],
        help="extra flag for `pipeline run`, e.g. --run-arg=--range_bytes=0",
    )
    ap.add_argument("--label", default="", help="free text stored with the results (e.g. before/after)")
    ap.add_argument("--profile", action="store_true", help="cProfile one in-memory run instead")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--results", type=Path, default=HERE / "results" / "scale.jsonl")
    args = ap.parse_args(argv)
    rows = []
    for docs in args.docs or [2000]:
        corpus = corpus_dir(args.corpus_root, docs, args.mix, args.layout)
        if args.profile:
            profile(corpus, args.top)
            continue
        for workers in args.workers or [1]:
            row = measure(corpus, workers, extra=args.run_arg)
            row.update(
                layout=args.layout,
                mix=args.mix,
                corpus_docs=docs,
                label=args.label,
                run_args=" ".join(args.run_arg),
                at=time.strftime("%FT%TZ", time.gmtime()),
            )
            print(json.dumps({k: v for k, v in row.items() if k != "shards"}), file=sys.stderr)
            rows.append(row)
            args.results.parent.mkdir(parents=True, exist_ok=True)
            with open(args.results, "a") as f:
                f.write(json.dumps({k: v for k, v in row.items() if k != "shards"}) + "\n")
    if rows:
        print(table(rows))
        same = {json.dumps(r["shards"]) for r in rows if r["corpus_docs"] == rows[0]["corpus_docs"]}
        print(f"\nshards identical across worker counts: {len(same) == 1}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
