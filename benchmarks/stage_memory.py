#!/usr/bin/env python
"""Peak RSS per fused stage of a one-worker run (issue 21): where a run's memory goes, phase by phase.

    .venv/bin/python benchmarks/stage_memory.py --log /tmp/stages.log -- run --config CORPUS/finpile.yaml \\
        --output_root /tmp/out --run_name bench --overwrite --no_stats --workers 1

Everything after ``--`` is a ``python -m pipeline`` command line; it runs in this process (``--workers 1``:
Beam's FnApiRunner in memory), with ``FnApiRunner._execute_bundle`` wrapped to note the stage it runs and a
thread sampling this process's RSS (``/proc/self/statm``) every 0.2 s. The log gets one line per stage, as it
ends: start time, duration, RSS when it began and the highest RSS sampled during it (MB), the stage's name; and
at the end the run's exit code and ``ru_maxrss`` (the true peak, which a spike shorter than the sampling can
put above every sample). Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import resource
import sys
import threading
import time


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv:
        print("usage: stage_memory.py [--log FILE] [--interval S] -- run ...", file=sys.stderr)
        return 2
    cut = argv.index("--")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--log", default="stage_memory.log")
    ap.add_argument("--interval", type=float, default=0.2)
    args = ap.parse_args(argv[:cut])
    if not args.interval > 0:
        ap.error(f"--interval must be a positive number of seconds, got {args.interval}")
    try:
        log = open(args.log, "w", buffering=1)  # noqa: SIM115 - open for the whole run
    except OSError as exc:
        print(f"stage_memory.py: cannot write the log {args.log}: {exc.strerror}", file=sys.stderr)
        return 2

    from apache_beam.runners.portability.fn_api_runner import fn_runner

    lock = threading.Lock()
    t0 = time.time()
    cur = {"name": "start (imports, graph)", "first": 0, "max": 0, "t": t0}

    def rss_mb() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() >> 20

    def flush() -> None:
        log.write(
            f"{cur['t'] - t0:8.1f}s {time.time() - cur['t']:8.1f}s first {cur['first']:6d} MB "
            f"max {cur['max']:6d} MB  {cur['name']}\n"
        )

    original = fn_runner.FnApiRunner._execute_bundle

    def execute_bundle(self, context, bundle_manager, *a, **k):
        with lock:
            flush()
            now = rss_mb()
            cur.update(name=bundle_manager.stage.name, first=now, max=now, t=time.time())
        return original(self, context, bundle_manager, *a, **k)

    fn_runner.FnApiRunner._execute_bundle = execute_bundle

    def sample() -> None:
        while True:
            now = rss_mb()
            with lock:
                cur["max"] = max(cur["max"], now)
            time.sleep(args.interval)

    threading.Thread(target=sample, daemon=True).start()
    from pipeline.cli import main as pipeline_main

    code = pipeline_main(argv[cut + 1 :])
    with lock:
        flush()
    log.write(f"exit {code} ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10} MB\n")
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
