"""CI smoke run of the benchmark: ``benchmarks/run.py --smoke`` (~50 documents, every part) exits 0 and prints
its table. No timing assertions: the numbers depend on the machine."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("datatrove") is None, reason="the benchmark compares against datatrove"
)


def test_benchmark_smoke(tmp_path: Path) -> None:
    results = tmp_path / "results"
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "run.py"),
            "--smoke",
            "--corpus-root",
            str(tmp_path / "corpus"),
            "--results-dir",
            str(results),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
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
    assert (results / "smoke.md").read_text(encoding="utf-8").strip() == out.strip()
    summary = json.loads((results / "smoke.json").read_text(encoding="utf-8"))
    assert summary["docs"] == 50
    assert summary["parts"]["beam"]["funnel"]["balanced"] is True
    assert sum(summary["corpus"]["counts"].values()) == 50
