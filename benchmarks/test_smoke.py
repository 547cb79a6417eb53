"""CI smoke run of the benchmark at 1k documents (issue 8): ``benchmarks/run.py --docs 1000``, every part
(stage cores, whole pipeline, datatrove, extraction-only ceiling), exits 0 and prints its table; ~6 min here.
No timing assertions: the numbers depend on the machine. (``--smoke``, ~50 documents, is the quick version for
development.)"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent  # benchmarks/ is one level below the checkout

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("datatrove") is None, reason="the benchmark compares against datatrove"
)


def _script(name: str, *args: str, timeout: int) -> subprocess.CompletedProcess:
    """``benchmarks/<name>`` run with this Python from the checkout, its output captured."""
    return subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / name), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_benchmark_smoke(tmp_path: Path) -> None:
    results = tmp_path / "results"
    proc = _script(
        "run.py",
        "--docs",
        "1000",
        "--corpus-root",
        str(tmp_path / "corpus"),
        "--results-dir",
        str(results),
        timeout=3600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = proc.stdout
    for heading in (
        "(a) Stage cores alone",
        "(b) Whole pipeline",
        "(c) Beam overhead",
        "(d) Side by side",
        "(e) Filings",
        "(f) Memory",
    ):
        assert heading in out, f"missing section {heading!r} in:\n{out}"
    assert "| ours: whole Beam pipeline |" in out
    assert "| datatrove LocalPipelineExecutor |" in out
    assert "| trafilatura alone (ceiling) |" in out
    assert (results / "1000.md").read_text(encoding="utf-8").strip() == out.strip()
    summary = json.loads((results / "1000.json").read_text(encoding="utf-8"))
    assert summary["docs"] == 1000
    assert summary["parts"]["beam"]["funnel"]["balanced"] is True
    assert sum(summary["corpus"]["counts"].values()) == 1000


def test_stage_memory_smoke(tmp_path: Path) -> None:
    """``benchmarks/stage_memory.py`` on the embedded sample: one line per stage, then the exit code and peak."""
    log = tmp_path / "stages.log"
    run_args = ["run", "--output_root", str(tmp_path / "out"), "--workers", "1", "--no_stats"]
    proc = _script(
        "stage_memory.py", "--log", str(log), "--", *run_args, "--progress_interval", "0", timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = log.read_text().splitlines()
    assert lines[-1].startswith("exit 0 ru_maxrss ")
    stages = [line for line in lines[:-1] if " max " in line]
    assert len(stages) > 10
    assert any("ApplyDecisions" in line for line in stages)
